"""WarcMiddleware: a Scrapy downloader middleware that writes every exchange to WARC files.

Enable it at priority 950 (closer to the downloader than RetryMiddleware 550,
HttpCompressionMiddleware 590 and RedirectMiddleware 600): it then sees bodies still
content-encoded as sent, every redirect hop and every attempt that a retry repeats.

Per exchange it writes a response (or revisit) record followed by the request record, or,
when the download failed without a response, the request and a metadata record naming the
error. The response record's location goes to ``request.meta["warc"]``. The writer is shared
as ``crawler.warc_writer`` so that pipelines can add conversion records to the same files.

A response whose payload is archived already (same digest) becomes an identical-payload-digest
revisit of that capture: of the same URL, or of another one (deduplication by content; the
state store finds the digest through an index).

Settings: OUT_DIR ("archive"), WARC_DIR (OUT_DIR/warc), WARC_PREFIX ("dcs"), WARC_MAX_SIZE
(1e9 bytes), WARC_ENABLED (True), WARC_FSYNC (False), WARC_OPERATOR (the account running the
crawl), WARC_IS_PART_OF (the crawl's name, kept across runs), WARC_DESCRIPTION (""),
WARC_DEDUP_MIN_SIZE (256: smaller payloads under another URL are stored again),
WARC_CRAWL_SETTINGS (dict written to warcinfo; default: a few settings of this crawl).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

from crawler.errors import ArchiveWriteError
from crawler.extensions import report_entry
from crawler.failstop import stop_crawl
from crawler.layout import Layout
from crawler.site import Sites
from crawler.spool import SpooledResponse
from crawler.warc import records, wire
from crawler.warc.writer import RecordLocation, WarcWriteError, WarcWriter, recover

logger = logging.getLogger(__name__)

# request.meta key holding when the request was sent (set by us only; see _headers_received).
SENT_AT = "_warc_sent_at"
# The state store's fact naming the crawl (warcinfo isPartOf).
IS_PART_OF = "warc-is-part-of"
# request.meta key a component that stops a download on purpose sets to the WARC-Truncated
# reason ("length", "time"); else the reason is read from the response's flags.
TRUNCATED = "warc_truncated"
# Settings copied into warcinfo when WARC_CRAWL_SETTINGS is not given.
WARCINFO_SETTINGS = (
    "BASE_URL",
    "BOT_NAME",
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "DOWNLOAD_DELAY",
    "RANDOMIZE_DOWNLOAD_DELAY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "AUTOTHROTTLE_ENABLED",
    "DOWNLOAD_TIMEOUT",
    "RETRY_TIMES",
    "DEPTH_LIMIT",
    "CLOSESPIDER_PAGECOUNT",
    "CLOSESPIDER_TIMEOUT",
)


def warcinfo_from_settings(settings: BaseSettings, state: Any = None) -> dict[str, str]:
    crawl_settings = settings.getdict("WARC_CRAWL_SETTINGS") or {
        name: settings.get(name) for name in WARCINFO_SETTINGS if settings.get(name) is not None
    }
    return records.warcinfo_fields(
        is_part_of=crawl_name(settings, state),
        operator=settings.get("WARC_OPERATOR"),
        user_agent=settings.get("USER_AGENT"),
        robots=records.ROBOTS_CLASSIC
        if settings.getbool("ROBOTSTXT_OBEY")
        else records.ROBOTS_IGNORE,
        settings=crawl_settings,
        description=settings.get("WARC_DESCRIPTION"),
    )


def crawl_name(settings: BaseSettings, state: Any = None) -> str:
    """The warcinfo ``isPartOf`` of this archive: WARC_IS_PART_OF, else the name an earlier
    run stored, else one made from the folder's name and today's date. Kept in the state
    store (crawler.state), so every run of one archive names the same crawl."""
    stored = state.fact(IS_PART_OF) if state is not None else None
    name = settings.get("WARC_IS_PART_OF") or stored
    if not name:
        folder = Layout.from_settings(settings).root.absolute().name or "archive"
        name = f"dcs-{folder}-{datetime.now(UTC):%Y%m%d}"
        if state is not None:  # nodes of a cluster starting at once: the first one's name
            return state.keep_fact(IS_PART_OF, name)
    if state is not None and name != stored:
        state.set_fact(IS_PART_OF, name)
    return name


def recover_reported(directory: Path, stats: StatsCollector | None = None) -> None:
    """Finish the WARC files a crash left open (crawler.warc.writer.recover), each in the
    log and, given the crawl's stats, in its report ("warc_recovered")."""
    for line in recover(directory):
        logger.warning("WARC recovery: %s", line)
        if stats is not None:
            report_entry(stats, "warc_recovered", outcome=line)


def open_writer(
    settings: BaseSettings, state: Any = None, stats: StatsCollector | None = None
) -> WarcWriter:
    """Recover what a crash left in the WARC directory, then start a writer there."""
    directory = Layout.from_settings(settings).warc_dir
    recover_reported(directory, stats)
    return WarcWriter(
        directory,
        prefix=settings.get("WARC_PREFIX") or "dcs",
        max_size=int(settings.getfloat("WARC_MAX_SIZE", 1e9)),
        warcinfo_fields=warcinfo_from_settings(settings, state),
        fsync=settings.getbool("WARC_FSYNC", False),
        hostname=settings.get("NODE_NAME") or None,  # a cluster node's files carry its name
    )


class WarcMiddleware:
    def __init__(self, crawler: Crawler, writer: WarcWriter) -> None:
        self.crawler = crawler
        self.writer = writer
        self.site = Sites.from_settings(crawler.settings)
        # Smaller payloads are stored again: the header lines a revisit adds (WARC-Profile,
        # WARC-Refers-To…) take about that much, so it would not be smaller.
        self.dedup_min_size = crawler.settings.getint("WARC_DEDUP_MIN_SIZE", 256)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        writer = getattr(crawler, "warc_writer", None)
        if writer is None:
            writer = open_writer(
                crawler.settings, getattr(crawler, "crawl_state", None), crawler.stats
            )
            crawler.warc_writer = writer  # type: ignore[attr-defined]
        middleware = cls(crawler, writer)
        crawler.signals.connect(middleware._headers_received, signal=signals.headers_received)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        crawler.signals.connect(middleware.close, signal=signals.engine_stopped)
        return middleware

    def close(self, **_signal_args: Any) -> None:
        name = self.writer.close()
        if name:
            logger.info("WARC file closed: %s", name)

    # -- downloader middleware hooks ---------------------------------------------------------
    def process_request(self, request: Request, spider: Any = None) -> None:
        # Marks the request as ours. The time is only a fallback: a request can then wait out
        # DOWNLOAD_DELAY in the downloader's queue before it is sent.
        if _archivable(request):
            request.meta[SENT_AT] = datetime.now(UTC)

    def _headers_received(self, request: Request, **_signal_args: Any) -> None:
        # The handler measured download_latency from sending the request to these headers:
        # now minus that is when the request went out (what WARC-Date should say).
        latency = request.meta.get("download_latency")
        if SENT_AT in request.meta and latency is not None:
            request.meta[SENT_AT] = datetime.now(UTC) - timedelta(seconds=latency)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        sent_at = request.meta.pop(SENT_AT, None)
        if sent_at is None or "cached" in response.flags:
            return response  # not fetched through us: a cache hit, a response made up
        uri = self._target_uri(request)
        date = records.warc_date(sent_at)
        ip = str(response.ip_address) if response.ip_address else None
        truncated = request.meta.get(TRUNCATED) or wire.truncation(response)
        record_id = records.new_record_id()
        if isinstance(response, SpooledResponse):  # the body in a file: streamed
            with response.spool.open() as payload:
                size = response.spool.size
                http = wire.response_message(response, request.method, size)
                main = records.streamed_response_record(
                    uri, http, payload, size,
                    date=date, record_id=record_id, ip=ip, truncated=truncated,
                )  # fmt: skip
                info, original = self._write_exchange(
                    request, response, uri, date, main, size, streamed=True
                )
        else:
            size = len(response.body)
            http = wire.response_message(response, request.method)
            main = records.response_record(
                uri, http, date=date, record_id=record_id, ip=ip, truncated=truncated
            )
            info, original = self._write_exchange(request, response, uri, date, main, size)
        self._record_capture(request, response, info, sent_at, original)
        return response

    def _write_exchange(
        self,
        request: Request,
        response: Response,
        uri: str,
        date: str,
        main: Any,
        size: int,
        *,
        streamed: bool = False,
    ) -> tuple[dict[str, Any], Any]:
        """Write the response record ``main`` of a ``size`` bytes payload (or the revisit
        that stands for it) and the request record. Returns what ``request.meta["warc"]``
        tells of them and ``original``: another URL's capture of the same payload, or None.
        ``streamed``: the payload of ``main`` is read from its file piece by piece."""
        ip = main.rec_headers.get_header("WARC-IP-Address")
        truncated = main.rec_headers.get_header("WARC-Truncated")
        record_id = records.record_id(main)
        digest = records.payload_digest(main)
        previous = self._previous_capture(request)
        profile = _revisit_profile(response, size, digest, previous, truncated=truncated)
        original = None  # another URL's capture of the same payload
        if profile is None and _dedupable(size, digest, truncated) and size >= self.dedup_min_size:
            original = self._capture_by_digest(digest)
            if original is not None and original.target_uri != uri:
                previous, profile = original, records.PROFILE_IDENTICAL_PAYLOAD_DIGEST
            else:
                original = None
        if profile:
            main = records.revisit_record(
                uri,
                wire.response_message(response, request.method, size),
                profile=profile,
                refers_to=records.RefersTo(
                    previous.record_id, previous.target_uri, previous.warc_date
                ),
                date=date,
                record_id=record_id,
                ip=ip,
                payload_digest=digest if response.status != 304 else None,
            )
        sent = records.request_record(
            uri, wire.request_message(request), date=date, concurrent_to=record_id, ip=ip
        )
        if streamed and not profile:
            location = self._write([main, sent], streamed=True)[0]
        else:
            location = self._write([main, sent])[0]
        info = _location_info(location, date)
        info["type"] = main.rec_type
        info["target_uri"] = uri
        info["payload_digest"] = previous.payload_digest if profile else digest
        if profile:
            info["refers_to"] = previous.record_id
        request.meta["warc"] = info
        self._stat(f"warc/{main.rec_type}")
        if profile == records.PROFILE_IDENTICAL_PAYLOAD_DIGEST:
            self._stat("warc/dedup/saved_bytes", size)
            if original is not None:
                self._stat("warc/dedup/across_urls")
        return info, original

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        if request.meta.pop(SENT_AT, None) is None or isinstance(exception, IgnoreRequest):
            return None  # never went to the network (e.g. disallowed by robots.txt)
        uri = self._target_uri(request)
        # When the attempt started is unknown (it may have waited in the queue): date the
        # failure, which is what these records are about.
        date = records.warc_date()
        sent = records.request_record(uri, wire.request_message(request), date=date)
        error = records.metadata_record(
            uri,
            {"error-kind": _qualname(exception), "error-message": _one_line(exception)},
            concurrent_to=records.record_id(sent),
            date=date,
        )
        location = self._write([sent, error])[1]
        request.meta["warc_error"] = _location_info(location, date)
        self._stat("warc/error")
        return None

    # -- writing -----------------------------------------------------------------------------
    def _write(self, group: list[Any], *, streamed: bool = False) -> list[RecordLocation]:
        """Write a group of records; ``streamed``: the first one's payload is read from
        its file piece by piece (WarcWriter.write_streamed)."""
        try:
            if streamed:
                return self.writer.write_streamed(group[0], group[1:])
            return self.writer.write_all(group)
        except WarcWriteError as exc:
            # An archive with holes is worse than a stopped crawl: stop, and fail this request
            # (the writer rolled the group back; the spider never sees an unarchived page).
            stop_crawl(self.crawler, exc)
            raise

    def _stat(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)

    # -- crawl state (optional; the only code that talks to crawler.state) -------------------
    def _target_uri(self, request: Request) -> str:
        """What the exchange is archived under: the spider's ``archive_url`` for this request
        (a CDN image fetched from a mirror), else Site.archive_url of the URL fetched."""
        return request.meta.get("archive_url") or self.site.archive_url(request.url)

    def _state_key(self, request: Request) -> str:
        return request.meta.get("canonical") or self.site.canonical(request.url)

    def _previous_capture(self, request: Request) -> Any:
        """The capture a revisit would refer to (crawler.state.Capture), or None."""
        state = getattr(self.crawler, "crawl_state", None)
        if state is None:
            return None
        return state.last_capture(self._state_key(request))

    def _capture_by_digest(self, digest: str) -> Any:
        """A full capture of any URL with this payload digest (crawler.state.Capture)."""
        state = getattr(self.crawler, "crawl_state", None)
        return None if state is None else state.capture_by_digest(digest)

    def _record_capture(
        self,
        request: Request,
        response: Response,
        info: dict[str, Any],
        fetched_at: datetime,
        original: Any = None,
    ) -> None:
        """Tell the state about this fetch, as it happened (a revisit: its own record)."""
        state = getattr(self.crawler, "crawl_state", None)
        if state is None:
            return
        from crawler.state import Capture

        capture = Capture(
            status=response.status,
            fetched_at=fetched_at,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            payload_digest=info["payload_digest"],
            warc_date=info["date"],
            target_uri=info["target_uri"],
            record_id=info["record_id"],
            filename=info["filename"],
            offset=info["offset"],
            length=info["length"],
            revisit=info["type"] == "revisit",
        )
        try:
            state.record_capture(self._state_key(request), capture, original=original)
        except ArchiveWriteError as exc:
            stop_crawl(self.crawler, exc)
            raise


def _revisit_profile(
    response: Response, size: int, digest: str | None, previous: Any, *, truncated: str | None
) -> str | None:
    """Which revisit record stands for this response, if any."""
    refers = ("record_id", "target_uri", "warc_date")
    if previous is None or not all(getattr(previous, name, None) for name in refers):
        return None
    if response.status == 304:
        return records.PROFILE_SERVER_NOT_MODIFIED
    if (
        response.status == 200
        and _dedupable(size, digest, truncated)
        and digest == getattr(previous, "payload_digest", None)
    ):
        return records.PROFILE_IDENTICAL_PAYLOAD_DIGEST
    return None


def _dedupable(size: int, digest: str | None, truncated: str | None) -> bool:
    """Whether a response's payload (of ``size`` bytes) may be written as a revisit of
    another record with the same digest: a whole, non-empty payload (an empty one repeats
    nothing)."""
    return size > 0 and not truncated and digest is not None


def _archivable(request: Request) -> bool:
    return request.url.startswith(("http://", "https://"))


def _location_info(location: RecordLocation, date: str) -> dict[str, Any]:
    return {
        "filename": location.filename,
        "offset": location.offset,
        "length": location.length,
        "record_id": location.record_id,
        "date": date,
    }


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _qualname(exception: BaseException) -> str:
    kind = type(exception)
    return f"{kind.__module__}.{kind.__qualname__}"


def _one_line(exception: BaseException) -> str:
    return " ".join(str(exception).split()) or repr(exception)

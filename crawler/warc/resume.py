"""Resuming from the WARC files: what a killed crawl fetched is read back from them, not
fetched again.

The WARC files are written at once, record by record; the crawl state commits its batches
about once a second (crawler.statecommits), and an article's text comes some time after
its page. A crawl killed in between leaves two things behind:

- the *tail*: exchanges after the last fetch the state knows, which it lost;
- *unsettled* URLs: frontier entries fetched (the state knows it) whose outcome, their
  links or their text, was not committed.

``WarcResumeMiddleware`` finds both when the next crawl starts, and when the spider asks
for one of those URLs again it answers with the archived response instead of the network
(an attached file's payload copied to a spool file, crawler.spool, never held whole):
the spider parses it, the text pipeline writes its text (and no second ``conversion``
record when the tail holds one), the state records the capture. Tail exchanges nobody asks
for again are recorded in the state when the crawl ends.

A state that knows no fetch at all (a new archive, or a state deleted to crawl afresh) has
no tail; the crawl's first answer is committed at once, so a new archive has one from then.

Enable it next to the WarcMiddleware (950), on its network side of everything else: 940.
It answers before the WarcMiddleware sees the request, which therefore does not archive
these responses a second time.
"""

from __future__ import annotations

import logging
import shutil
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator

from crawler.layout import Layout
from crawler.site import Site, Sites
from crawler.spool import SPOOL, SpooledResponse, new_spool_file
from crawler.state import Capture, CrawlState, settled
from crawler.warc.middleware import recover_reported
from crawler.warc.records import PIECE, PROFILE_IDENTICAL_PAYLOAD_DIGEST
from crawler.warc.writer import WARC_SUFFIX, warc_order

logger = logging.getLogger(__name__)

FLAG = "warc"  # response.flags of an answer read back from the WARC files


@dataclass(frozen=True)
class Stored:
    """An archived exchange: where its record lies and what its headers say."""

    filename: str
    offset: int
    length: int
    record_id: str
    date: str
    type: str  # "response" or "revisit"
    target_uri: str
    status: int
    payload_digest: str | None = None
    refers_to: str | None = None  # a revisit: the record it repeats
    profile: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def repeats_payload(self) -> bool:
        """A revisit whose payload is that of the record it refers to (not a 304)."""
        return self.type == "revisit" and self.profile == PROFILE_IDENTICAL_PAYLOAD_DIGEST

    def capture(self) -> Capture:
        return Capture(
            status=self.status,
            fetched_at=datetime.fromisoformat(self.date.replace("Z", "+00:00")),
            etag=self.etag,
            last_modified=self.last_modified,
            payload_digest=self.payload_digest,
            warc_date=self.date,
            target_uri=self.target_uri,
            record_id=self.record_id,
            filename=self.filename,
            offset=self.offset,
            length=self.length,
            revisit=self.type == "revisit",
        )


@contextmanager
def open_record(directory: Path, filename: str, offset: int) -> Iterator[Any]:
    """The warcio record at ``offset`` of a WARC file, its payload not read yet."""
    with open(directory / filename, "rb") as handle:
        handle.seek(offset)
        yield next(iter(ArchiveIterator(handle)))


def stored(record: Any, filename: str, offset: int, length: int) -> Stored | None:
    """A response or revisit record as a Stored exchange (None for other records)."""
    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
        return None
    headers, http = record.rec_headers, record.http_headers
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError):
        return None
    return Stored(
        filename=filename,
        offset=offset,
        length=length,
        record_id=headers.get_header("WARC-Record-ID"),
        date=headers.get_header("WARC-Date"),
        type=record.rec_type,
        target_uri=headers.get_header("WARC-Target-URI"),
        status=status,
        payload_digest=headers.get_header("WARC-Payload-Digest"),
        refers_to=headers.get_header("WARC-Refers-To"),
        profile=headers.get_header("WARC-Profile"),
        etag=http.get_header("ETag"),
        last_modified=http.get_header("Last-Modified"),
    )


def _read(stream: BinaryIO, into: BinaryIO | None) -> bytes:
    """A record's payload: returned, or copied into a file a piece at a time (b"")."""
    if into is None:
        return stream.read()
    shutil.copyfileobj(stream, into, PIECE)
    return b""


def tail(directory: Path, known: dict[str, int]) -> Iterator[tuple[Any, str, int, int]]:
    """(record, file name, offset, length) of every record after the last one the state
    knows: in the newest file it knows, after its last known offset; in later files, all."""
    names = sorted((p.name for p in directory.glob(f"*{WARC_SUFFIX}")), key=warc_order)
    newest = max(known, key=warc_order)
    for name in names:
        if warc_order(name) < warc_order(newest):
            continue
        start = known.get(name, -1) if name == newest else -1
        with open(directory / name, "rb") as handle:
            handle.seek(max(start, 0))
            records = ArchiveIterator(handle)
            for record in records:
                records.read_to_end(record)  # sets the record's offset and length
                offset = records.get_record_offset()  # in the file, wherever reading began
                if offset > start:
                    yield record, name, offset, records.get_record_length()


class WarcResumeMiddleware:
    """Downloader middleware: answers from the WARC files what a killed crawl fetched and
    the state lost (see the module docstring)."""

    def __init__(
        self, crawler: Crawler, directory: Path, state: CrawlState, site: Site | Sites
    ) -> None:
        self.crawler = crawler
        self.directory = directory
        # Where a file read back goes (crawler.spool): the archive's spool folder.
        self.spool_root = Layout.from_settings(crawler.settings).spool_dir
        self.state = state
        self.site = site
        # By canonical URL, in the order fetched (a redirect within one identity: its 301,
        # then the page it leads to).
        self.tail: dict[str, deque[Stored]] = {}
        self.by_id: dict[str, Stored] = {}  # the tail's records, by WARC-Record-ID
        self.converted: set[str] = set()  # records a conversion record of the tail refers to
        self.unsettled: dict[str, Any] = {}  # crawler.state.Unsettled by canonical URL

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcResumeMiddleware:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        directory = Layout.from_settings(crawler.settings).warc_dir
        # Before reading them: the files a killed crawl left open get their final names.
        recover_reported(directory, crawler.stats)
        site = Sites.from_settings(crawler.settings)
        middleware = cls(crawler, directory, CrawlState.for_crawler(crawler), site)
        middleware.find()
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def find(self) -> None:
        """What the state lost, or does not know the outcome of."""
        self.unsettled = {entry.url: entry for entry in self.state.fetched_while_pending()}
        known = self.state.last_fetch_offsets()
        if known and self.directory.is_dir():
            for record, name, offset, length in tail(self.directory, known):
                if record.rec_type == "conversion":
                    self.converted.add(record.rec_headers.get_header("WARC-Refers-To"))
                exchange = stored(record, name, offset, length)
                if exchange is not None:
                    self.by_id[exchange.record_id] = exchange
                    if settled(exchange.status):
                        canonical = self.site.canonical(exchange.target_uri)
                        self.tail.setdefault(canonical, deque()).append(exchange)
        if self.tail or self.unsettled:
            logger.info(
                "resuming: %d exchanges the state lost and %d pages without their outcome "
                "are read back from the WARC files when asked for",
                sum(len(exchanges) for exchanges in self.tail.values()),
                len(self.unsettled),
            )

    # -- answering ------------------------------------------------------------------------
    def process_request(self, request: Request, spider: Any = None) -> Response | None:
        if not (self.tail or self.unsettled):
            return None
        canonical = request.meta.get("canonical") or self.site.canonical(request.url)
        if canonical in self.tail:
            exchanges = self.tail[canonical]
            exchange = exchanges.popleft()
            if not exchanges:
                del self.tail[canonical]
            self.record(canonical, exchange)
        else:
            entry = self.unsettled.pop(canonical, None)
            if entry is None:
                return None
            exchange = self.read(entry.filename, entry.offset, entry.length)
            if exchange is None:
                return None
        return self.answer(request, exchange)

    def read(self, filename: str, offset: int, length: int) -> Stored | None:
        try:
            with open_record(self.directory, filename, offset) as record:
                return stored(record, filename, offset, length)
        except (OSError, StopIteration, ValueError) as exc:
            logger.warning("cannot read back %s at %d: %s", filename, offset, exc)
            return None

    def payload(
        self, exchange: Stored, into: BinaryIO | None = None
    ) -> tuple[list[tuple[str, str]], bytes]:
        """The exchange's HTTP headers and payload as archived (content-encoding kept): an
        identical-payload revisit's payload is that of the record it refers to. Given a
        file (``into``), the payload is copied there a piece at a time, and b"" returned."""
        with open_record(self.directory, exchange.filename, exchange.offset) as record:
            headers = list(record.http_headers.headers)
            body = _read(record.raw_stream, into) if exchange.type == "response" else b""
        if exchange.repeats_payload:
            original = self.original(exchange)
            if original is None:
                raise LookupError(f"the record {exchange.refers_to} it repeats")
            with open_record(self.directory, original.filename, original.offset) as record:
                body = _read(record.raw_stream, into)
        return headers, body

    def answer(self, request: Request, exchange: Stored) -> Response | None:
        """The archived response, as the downloader would have given it (None: it cannot be
        read back, and is fetched again)."""
        spool = None
        try:
            if request.meta.get(SPOOL):  # a file: to disk, as the download handler does
                file, spool = new_spool_file(self.spool_root)
                with file:
                    headers, body = self.payload(exchange, into=file)
                    spool.size = file.tell()
            else:
                headers, body = self.payload(exchange)
        except (OSError, StopIteration, ValueError, LookupError) as exc:
            logger.warning("cannot read back %s, fetching it: %s", exchange.target_uri, exc)
            return None
        info = {
            "filename": exchange.filename,
            "offset": exchange.offset,
            "length": exchange.length,
            "record_id": exchange.record_id,
            "date": exchange.date,
            "type": exchange.type,
            "target_uri": exchange.target_uri,
            "payload_digest": exchange.payload_digest,
        }
        if exchange.type == "revisit" and exchange.refers_to:
            info["refers_to"] = exchange.refers_to
        if {exchange.record_id, exchange.refers_to} & self.converted:
            info["converted"] = True  # its text was written, its conversion record too
        request.meta["warc"] = info
        self.crawler.stats.inc_value("dcs/resumed_from_warc")
        if spool is not None:
            return SpooledResponse(
                url=request.url,
                status=exchange.status,
                headers=headers,
                request=request,
                flags=[FLAG],
                spool=spool,
            )
        cls = responsetypes.from_args(headers=dict(headers), url=request.url, body=body)
        return cls(
            url=request.url,
            status=exchange.status,
            headers=headers,
            body=body,
            request=request,
            flags=[FLAG],
        )

    def original(self, revisit: Stored) -> Stored | None:
        """The full response an identical-payload revisit repeats: in the tail, or where the
        state says the URL's last full response lies, or any URL's with that payload
        (deduplication by content)."""
        found = self.by_id.get(revisit.refers_to or "")
        if found is not None:
            return found
        candidates = [self.state.last_capture(self.site.canonical(revisit.target_uri))]
        if revisit.payload_digest:
            candidates.append(self.state.capture_by_digest(revisit.payload_digest))
        for capture in candidates:
            if capture is not None and capture.record_id == revisit.refers_to and capture.filename:
                return self.read(capture.filename, capture.offset, capture.length)
        return None

    def record(self, canonical: str, exchange: Stored) -> None:
        """Tell the state of a tail exchange, as the WarcMiddleware did not get to: a
        revisit of another URL's capture makes that capture the URL's reference."""
        original = None
        if exchange.repeats_payload:
            found = self.original(exchange)
            if found is not None and found.target_uri != exchange.target_uri:
                original = found.capture()
        self.state.record_capture(canonical, exchange.capture(), original=original)

    # -- the end ----------------------------------------------------------------------------
    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        """The tail's exchanges nobody asked for again: the state learns them (unless this
        crawl fetched the URL since)."""
        with self.state.batch():
            for canonical, exchanges in self.tail.items():
                for exchange in exchanges:
                    last = self.state.last_capture(canonical)
                    if last is None or last.fetched_at < exchange.capture().fetched_at:
                        self.record(canonical, exchange)
        self.tail.clear()

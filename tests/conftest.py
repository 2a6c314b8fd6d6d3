"""Shared fixtures.

`small_archive`: a small archive folder made from the replica, until the real crawler can
make one: two crawls of the seed article (its page, style sheets, scripts and images) and
of a few other articles, written as gzip-per-record WARC/1.1 request/response records with
warcio, plus one revisit record of each profile. It has the layout of `--out DIR`
(DIR/warc/*.warc.gz, DIR/text/YYYY/MM/DD/<id>.txt + .json). The lead can swap its body for
a real crawl of the replica as long as the SmallArchive fields stay filled in.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from _replay import ReplayProcess, free_port
from lxml import html as lxml_html
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
FIRST_CRAWL = datetime(2025, 11, 20, 3, 0, 0, tzinfo=UTC)
SECOND_CRAWL = FIRST_CRAWL + timedelta(days=1)
OTHER_ARTICLES = 3  # besides the seed article
CSS_URL = re.compile(rb"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


@dataclass(frozen=True)
class Capture:
    """One response (or revisit) record written to the fixture's WARC files."""

    url: str  # WARC-Target-URI (the site's live URL)
    timestamp: str  # 14 digits
    filename: str
    offset: int
    length: int
    record_id: str
    record_type: str  # response | revisit
    status: int
    content_type: str


@dataclass
class SmallArchive:
    out_dir: Path
    seed_url: str  # the seed article's live URL, as archived
    seed_id: str
    seed_title: str
    seed_text: str  # the text file expected for it
    seed_first_paragraph: str
    seed_timestamp: str  # its first capture
    seed_images: list[str]  # live URLs of its images, all archived
    stylesheets: list[str]
    articles: dict[str, str] = field(default_factory=dict)  # live URL -> title (seed included)
    without_text: str = ""  # an article captured but given no text file
    identical_revisit: Capture | None = None  # the seed page, crawled again unchanged
    not_modified_revisit: Capture | None = None  # a style sheet answered with 304
    captures: list[Capture] = field(default_factory=list)

    def capture_of(self, url: str, record_type: str = "response") -> Capture:
        return next(c for c in self.captures if c.url == url and c.record_type == record_type)


def _ts(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def _warc_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Fetcher:
    """Fetch from the replica's origin; archive under the live URL the page links to."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port

    def get(self, live_url: str, extra: dict[str, str] | None = None):
        parts = urlsplit(live_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Host": f"{self.host}:{self.port}",
            "User-Agent": "dcs-archiver-tests",
            "Accept": "*/*",
            "Accept-Encoding": "gzip",
            **(extra or {}),
        }
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("GET", target, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            pairs = resp.getheaders()
            version = "HTTP/1.1" if resp.version == 11 else "HTTP/1.0"
            status, reason = resp.status, resp.reason
        finally:
            conn.close()
        if any(k.lower() == "transfer-encoding" for k, _ in pairs):
            # http.client has removed the chunking: keep the headers true to the body kept.
            pairs = [(k, v) for k, v in pairs if k.lower() != "transfer-encoding"]
            pairs.append(("Content-Length", str(len(body))))
        return (target, headers), (version, status, reason, pairs, body)


class _Warc:
    """One gzip-per-record WARC/1.1 file of the fixture."""

    def __init__(self, path: Path, archive: SmallArchive) -> None:
        self.path = path
        self.archive = archive
        self.fh = open(path, "wb")
        self.writer = WARCWriter(self.fh, gzip=True, warc_version="WARC/1.1")
        info = self.writer.create_warcinfo_record(
            path.name,
            {"software": "dcs-archiver tests (small_archive)", "format": "WARC File Format 1.1"},
        )
        self.writer.write_record(info)

    def close(self) -> None:
        self.fh.close()

    def _write(self, record, url: str, when: datetime, status: int, ctype: str) -> Capture:
        offset = self.fh.tell()
        self.writer.write_record(record)
        capture = Capture(
            url=url,
            timestamp=_ts(when),
            filename=self.path.name,
            offset=offset,
            length=self.fh.tell() - offset,
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
            record_type=record.rec_type,
            status=status,
            content_type=ctype,
        )
        self.archive.captures.append(capture)
        return capture

    def exchange(self, url: str, fetched, when: datetime) -> tuple[Capture, object]:
        (target, req_headers), (version, status, reason, pairs, body) = fetched
        http_headers = StatusAndHeaders(f"{status} {reason}", pairs, protocol=version)
        response = self.writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": _warc_date(when)},
        )
        ctype = dict((k.lower(), v) for k, v in pairs).get("content-type", "")
        capture = self._write(response, url, when, status, ctype)
        self._request(url, target, req_headers, when, capture.record_id)
        return capture, response

    def revisit(
        self, url: str, fetched, when: datetime, original: Capture, digest: str, profile: str
    ) -> Capture:
        (target, req_headers), (version, status, reason, pairs, _body) = fetched
        http_headers = StatusAndHeaders(f"{status} {reason}", pairs, protocol=version)
        record = self.writer.create_revisit_record(
            url,
            digest=digest,
            refers_to_uri=original.url,
            refers_to_date=_warc_date(_dt(original.timestamp)),
            http_headers=http_headers,
            warc_headers_dict={
                "WARC-Date": _warc_date(when),
                "WARC-Profile": profile,
                "WARC-Refers-To": original.record_id,
            },
        )
        capture = self._write(record, url, when, status, original.content_type)
        self._request(url, target, req_headers, when, capture.record_id)
        return capture

    def _request(
        self, url: str, target: str, headers: dict, when: datetime, concurrent: str
    ) -> None:
        request = self.writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(
                f"GET {target} HTTP/1.1", list(headers.items()), is_http_request=True
            ),
            warc_headers_dict={"WARC-Date": _warc_date(when), "WARC-Concurrent-To": concurrent},
        )
        self.writer.write_record(request)


def _dt(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _decoded(body: bytes, pairs) -> bytes:
    encoding = dict((k.lower(), v) for k, v in pairs).get("content-encoding", "")
    return gzip.decompress(body) if "gzip" in encoding else body


def _requisites(page_url: str, html_bytes: bytes) -> list[str]:
    """Style sheets, scripts and images a browser would load for a page (live URLs)."""
    doc = lxml_html.fromstring(html_bytes)
    found = []
    for href in doc.xpath("//link[contains(@rel, 'stylesheet')]/@href | //script/@src"):
        found.append(href)
    for img in doc.xpath("//img"):
        for name in ("src", "data-src"):
            value = img.get(name)
            if value and not value.startswith("data:"):
                found.append(value)
    urls = []
    for ref in found:
        url = urljoin(page_url, ref.strip()).split("#", 1)[0]
        if url.startswith(("http://", "https://")) and url not in urls:
            urls.append(url)
    return urls


def _write_text(out: Path, article, capture: Capture) -> None:
    """The text file + sidecar the extraction step writes (crawler.extract.output's shape)."""
    day = article.published.astimezone(timezone_vn()).strftime("%Y/%m/%d")
    folder = out / "text" / day
    folder.mkdir(parents=True, exist_ok=True)
    data = article.expected_text.encode("utf-8")
    (folder / f"{article.id}.txt").write_bytes(data)
    warc = {
        "filename": capture.filename,
        "offset": capture.offset,
        "length": capture.length,
        "record_id": capture.record_id,
    }
    fetched_at = _warc_date(_dt(capture.timestamp))
    sha1 = hashlib.sha1(data).hexdigest()
    sidecar = {
        "url": capture.url,
        "canonical_url": article.url,
        "id": article.id,
        "title": article.title,
        "published": article.published.isoformat(),
        "fetched_at": fetched_at,
        "sha1": sha1,
        "warc": warc,
        "versions": [
            {"fetched_at": fetched_at, "sha1": sha1, "file": f"{article.id}.txt", "warc": warc}
        ],
    }
    (folder / f"{article.id}.json").write_text(
        json.dumps(sidecar, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def timezone_vn():
    from datetime import timezone

    return timezone(timedelta(hours=7))


def _build_small_archive(out: Path) -> SmallArchive:
    from crawler.replica import ReplicaServer, ReplicaSite

    site = ReplicaSite(seed=1, per_generation=6)
    seed = site.seed_article
    others = [a for a in site.articles if a is not seed and not a.is_video and a.id]
    # One of each generation when there is one, for variety of URL forms.
    picked = []
    for generation in (1, 3, 2):
        picked += [a for a in others if a.generation == generation][:1]
    picked = picked[:OTHER_ARTICLES]
    live = "https://dangcongsan.vn"
    (out / "warc").mkdir(parents=True)

    archive = SmallArchive(
        out_dir=out,
        seed_url=live + seed.path,
        seed_id=seed.id,
        seed_title=seed.title,
        seed_text=seed.expected_text,
        seed_first_paragraph=seed.paragraphs[0],
        seed_timestamp=_ts(FIRST_CRAWL),
        seed_images=[],
        stylesheets=[],
    )
    with ReplicaServer(site) as server:
        fetch = _Fetcher(server.base_url)
        clock = FIRST_CRAWL
        first = _Warc(out / "warc" / f"dcs-{_ts(FIRST_CRAWL)}000-00000-tests.warc.gz", archive)
        seed_fetch = fetch.get(archive.seed_url)
        seed_capture, seed_record = first.exchange(archive.seed_url, seed_fetch, clock)
        _write_text(out, seed, seed_capture)
        archive.articles[archive.seed_url] = seed.title
        seed_html = _decoded(seed_fetch[1][4], seed_fetch[1][3])
        requisites = _requisites(archive.seed_url, seed_html)
        css_captures = []
        for url in requisites:
            if any(c.url == url for c in archive.captures):
                continue  # already fetched (a style sheet named it)
            clock += timedelta(seconds=1)
            fetched = fetch.get(url)
            capture, _ = first.exchange(url, fetched, clock)
            if capture.content_type.startswith("text/css"):
                archive.stylesheets.append(url)
                css_captures.append((capture, fetched))
                # Fonts and backgrounds named by the style sheet: a browser loads them too.
                for ref in CSS_URL.findall(_decoded(fetched[1][4], fetched[1][3])):
                    sub = urljoin(url, ref.decode())
                    if sub.startswith("http") and all(c.url != sub for c in archive.captures):
                        clock += timedelta(seconds=1)
                        first.exchange(sub, fetch.get(sub), clock)
        # The article's own pictures (not the site's logo and banners), all archived.
        archive.seed_images = [u for u in seed.images if any(c.url == u for c in archive.captures)]
        assert archive.seed_images and len(archive.seed_images) == len(seed.images), seed.images
        for i, article in enumerate(picked):
            clock += timedelta(seconds=1)
            url = live + article.path
            capture, _ = first.exchange(url, fetch.get(url), clock)
            archive.articles[url] = article.title
            if i == len(picked) - 1:
                archive.without_text = url  # left for on-the-fly extraction
            else:
                _write_text(out, article, capture)
        first.close()

        # The second crawl: the seed page again (unchanged: identical-payload-digest revisit)
        # and a style sheet asked for conditionally (304: server-not-modified revisit).
        clock = SECOND_CRAWL
        second = _Warc(out / "warc" / f"dcs-{_ts(SECOND_CRAWL)}000-00000-tests.warc.gz", archive)
        again = fetch.get(archive.seed_url)
        digest = seed_record.rec_headers.get_header("WARC-Payload-Digest")
        assert again[1][4] == seed_fetch[1][4], "the replica served the seed page differently"
        archive.identical_revisit = second.revisit(
            archive.seed_url, again, clock, seed_capture, digest, PROFILE_IDENTICAL
        )
        css_capture, css_fetched = css_captures[0]
        validators = dict((k.lower(), v) for k, v in css_fetched[1][3])
        conditional = {}
        if "etag" in validators:
            conditional["If-None-Match"] = validators["etag"]
        if "last-modified" in validators:
            conditional["If-Modified-Since"] = validators["last-modified"]
        clock += timedelta(seconds=1)
        not_modified = fetch.get(css_capture.url, conditional)
        assert not_modified[1][1] == 304, (
            f"expected 304 for {css_capture.url}, got {not_modified[1][1]}"
        )
        css_record_digest = _payload_digest(out / "warc" / css_capture.filename, css_capture.offset)
        archive.not_modified_revisit = second.revisit(
            css_capture.url,
            not_modified,
            clock,
            css_capture,
            css_record_digest,
            PROFILE_NOT_MODIFIED,
        )
        second.close()
    return archive


def _payload_digest(path: Path, offset: int) -> str:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
        return record.rec_headers.get_header("WARC-Payload-Digest")


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> SmallArchive:
    """A small archive of the replica: seed article + requisites + 3 articles, 2 revisits."""
    return _build_small_archive(tmp_path_factory.mktemp("small-archive") / "archive")


@pytest.fixture
def archive_copy(small_archive, tmp_path) -> SmallArchive:
    """A private copy of small_archive, for tests that change the folder."""
    dest = tmp_path / "archive"
    shutil.copytree(small_archive.out_dir, dest, ignore=shutil.ignore_patterns("index", "replay"))
    copy = SmallArchive(**{**small_archive.__dict__, "out_dir": dest})
    return copy


@pytest.fixture(scope="session")
def replay_server(small_archive, tmp_path_factory):
    """pywb serving small_archive on a free loopback port: yields (base_url, banner text)."""
    log = tmp_path_factory.mktemp("replay-log") / "pywb.log"
    server = ReplayProcess(small_archive.out_dir, free_port(), log)
    try:
        banner = server.wait_ready()
        yield server.base_url, banner
    finally:
        server.stop()

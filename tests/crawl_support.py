"""Running `dcs crawl` against the replica and reading back what it archived."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from lxml import html as lxml_html
from warcio.archiveiterator import ArchiveIterator

from crawler.site import LIVE_BASE_URL, Kind, Site
from crawler.state import CrawlState, settled

# A local replica answers at once: politeness off, quick retries.
LOCAL = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "RETRY_BACKOFF_BASE=0.1",
    "-s", "PROGRESS_INTERVAL=0",
]  # fmt: skip


def dcs(*args: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """Runs the `dcs` command line in a child process (Twisted's reactor runs once a process)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


def crawl(
    base_url: str, out: Path, *args: str, timeout: float = 300, **popen
) -> subprocess.CompletedProcess:
    command = ["crawl", "--out", str(out), "--base-url", base_url, *LOCAL, *args]
    result = dcs(*command, timeout=timeout, **popen)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def crawl_until(
    server, out: Path, texts: int, *args: str, stdout=subprocess.DEVNULL, **popen
) -> subprocess.Popen:
    """A slowed-down crawl in the background, returned once it has written `texts` files."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(out)]
    command += ["--base-url", server.base_url, *LOCAL]
    command += ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "DOWNLOAD_DELAY=0.01", *args]
    process = subprocess.Popen(
        command, stdout=stdout, stderr=subprocess.DEVNULL, text=True, **popen
    )
    deadline = time.monotonic() + 60
    while len(list((out / "text").rglob("*.txt"))) < texts and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


@dataclass(frozen=True)
class Record:
    type: str
    uri: str
    path: str  # path with query, as requested
    status: int | None
    payload_sha1: str | None  # of the payload as stored (content-encoding kept), or the text
    headers: dict[str, str]
    warc_headers: dict[str, str]
    filename: str


def records(warc_dir: Path) -> Iterator[Record]:
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                parts = urlsplit(uri)
                status = headers = payload = None
                if record.http_headers is not None and record.rec_type in ("response", "revisit"):
                    status = int(record.http_headers.get_statuscode())
                    headers = {k.lower(): v for k, v in record.http_headers.headers}
                if record.rec_type in ("response", "conversion"):
                    payload = hashlib.sha1(record.raw_stream.read()).hexdigest()
                yield Record(
                    type=record.rec_type,
                    uri=uri,
                    path=parts.path + (f"?{parts.query}" if parts.query else ""),
                    status=status,
                    payload_sha1=payload,
                    headers=headers or {},
                    warc_headers=dict(record.rec_headers.headers),
                    filename=path.name,
                )


def tree_digest(root: Path) -> dict[str, str]:
    """sha1 of every file under root, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def linked_paths(site, candidates: list[str]) -> list[str]:
    """Those of the candidate paths that some page of the replica links to."""
    pages = []
    for kind, paths in site.urls().items():
        if kind in ("home", "article", "list", "tag", "feed", "sitemap"):
            for path in paths:
                rendered = site.render(path)
                if rendered is not None:
                    body = rendered[2]
                    pages.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    blob = b"".join(pages).decode("utf-8", "replace")
    return [p for p in candidates if p in blob or quote(p, safe="/?=&,") in blob]


# What an article page needs to look as it did: images (lazy ones too), style sheets, scripts.
REQUISITES = (
    "//img/@src | //img/@data-src | //img/@data-original | //source/@srcset"
    " | //link[contains(@rel, 'stylesheet') or contains(@rel, 'icon')]/@href | //script/@src"
)


def missing_requisites(warc_dir: Path) -> set[str]:
    """Requisites of the archived article pages that no record of the archive holds (as
    canonical URLs): read from the WARC files alone, whatever the crawler believes."""
    site = Site()
    captured, needed = set(), set()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "revisit"):
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                captured.add(site.canonical(uri))
                status = record.http_headers.get_statuscode() if record.http_headers else ""
                if record.rec_type != "response" or status != "200":
                    continue
                if site.classify(uri) is not Kind.ARTICLE:
                    continue
                body = record.content_stream().read()
                if not body.strip():
                    continue
                for link in lxml_html.fromstring(body).xpath(REQUISITES):
                    link = link.strip().split(" ")[0]
                    url = urljoin(uri, link)
                    if link and not link.startswith("data:") and site.owns(url):
                        needed.add(site.canonical(url))
    return needed - captured


def settled_in_warcs(warc_dir: Path) -> set[str]:
    """Canonical URLs the WARC files hold a settled answer for (a 2xx, 3xx, 404 or 410)."""
    canonical = Site().canonical
    return {
        canonical(r.uri)
        for r in records(warc_dir)
        if r.type in ("response", "revisit") and settled(r.status)
    }


def pending(out: Path) -> int:
    """How many URLs the frontier of the archive still holds."""
    with CrawlState.open(out) as state:
        return state.stats()["pending"]


def warcs_are_valid(warc_dir: Path) -> bool:
    """Every WARC file closed (no .open left) and passing `warcio check`."""
    if list(warc_dir.glob("*.open")):
        return False
    return all(
        subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)]).returncode == 0
        for path in warc_dir.glob("*.warc.gz")
    )


def archived_articles(out: Path) -> set[str]:
    """Canonical URLs of the articles the state store says are archived (a 200 and a text)."""
    with CrawlState.open(out) as state:
        rows = state.db.execute(
            "SELECT url FROM urls WHERE kind = 'article' AND ref_status = 200"
            " AND text_sha1 IS NOT NULL"
        )
        return {url for (url,) in rows}


def wrong_locations(out: Path) -> list[str]:
    """State rows and sidecars whose WARC location (file, offset, length) does not hold the
    record they name: what a writer whose offsets drifted would leave."""

    def record_id_at(filename: str, offset: int, length: int) -> str | None:
        with (out / "warc" / filename).open("rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
        records = ArchiveIterator(BytesIO(data))
        record = next(iter(records), None)
        return record.rec_headers.get_header("WARC-Record-ID") if record else None

    wrong = []
    with CrawlState.open(out) as state:
        rows = state.db.execute(
            "SELECT url, fetch_filename, fetch_offset, fetch_length, fetch_record_id FROM urls"
            " WHERE fetch_filename IS NOT NULL"
        ).fetchall()
    for url, filename, offset, length, record_id in rows:
        if record_id_at(filename, offset, length) != record_id:
            wrong.append(url)
    for path in (out / "text").rglob("*.json"):
        warc = json.loads(path.read_text(encoding="utf-8"))["warc"]
        if record_id_at(warc["filename"], warc["offset"], warc["length"]) != warc["record_id"]:
            wrong.append(str(path))
    return wrong


def fetched_in_full(log, urls: set[str]) -> list[str]:
    """Paths of the log served whole (a 200, not a 304 or the 301 of an old URL) that are
    one of these articles."""
    canonical = Site().canonical
    return [e.path for e in log if e.status == 200 and canonical(LIVE_BASE_URL + e.path) in urls]


def assert_complete(site, out: Path) -> None:
    """Every article of the replica archived with its text and requisites, WARC files whole,
    every location true, nothing left in the frontier."""
    assert archived_articles(out) == {a.url for a in site.articles}
    assert missing_requisites(out / "warc") == set()
    assert warcs_are_valid(out / "warc")
    assert wrong_locations(out) == []
    assert pending(out) == 0


def assert_next_run_completes(site, server, out: Path) -> subprocess.CompletedProcess:
    """The next crawl, against `server`, completes the archive of the replica `site` without
    fetching again any article the archive held before it."""
    before = archived_articles(out)
    server.clear_log()
    run = crawl(server.base_url, out)
    assert_complete(site, out)
    assert fetched_in_full(server.log, before) == []
    return run

"""Running `dcs crawl` against the replica and reading back what it archived."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from warcio.archiveiterator import ArchiveIterator

# A local replica answers at once: politeness off, quick retries.
LOCAL = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "RETRY_BACKOFF_BASE=0.1",
    "-s", "PROGRESS_INTERVAL=0",
]  # fmt: skip


def dcs(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the `dcs` command line in a child process (Twisted's reactor runs once a process)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def crawl(
    base_url: str, out: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess:
    result = dcs("crawl", "--out", str(out), "--base-url", base_url, *LOCAL, *args, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@dataclass(frozen=True)
class Record:
    type: str
    uri: str
    path: str  # path with query, as requested
    status: int | None
    payload_sha1: str | None  # of the payload as stored (content-encoding kept)
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
                if record.rec_type == "response":
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

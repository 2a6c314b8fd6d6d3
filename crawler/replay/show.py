"""Look up captures in the archive and print what was archived, without the live site.

`find_captures` answers "what do we have of this article?" from the CDXJ index; `show`
returns one capture's text file, its payload (content-encoding removed) or its HTTP
headers, exactly as archived. Revisit records are followed to the capture they stand for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import surt
from pywb.utils.binsearch import iter_prefix
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import (
    PAD_14_DOWN,
    iso_date_to_timestamp,
    pad_timestamp,
    timestamp_to_datetime,
)

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.replay.index import (
    EMPTY_DIGEST,
    REVISIT_MIME,
    build_index,
    index_path,
    iter_index,
    parse_line,
)
from crawler.replay.sidecars import iter_sidecars
from crawler.site import Site, article_id

PARTS = ("text", "html", "headers")
# A revisit carrying the empty payload's digest names no payload to look up by digest.
EMPTY_DIGESTS = frozenset({EMPTY_DIGEST, EMPTY_DIGEST.removeprefix("sha1:")})
TIMESTAMP = re.compile(r"^\d{4,14}$")
# What an article ID can be: the site's number, or the ID our sidecars give a portal article.
ARTICLE_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class CaptureInfo:
    """One capture of a URL, as the CDXJ index lists it."""

    url: str
    timestamp: str  # YYYYmmddHHMMSS, UTC
    status: str | None
    mime: str | None
    digest: str | None
    filename: str
    offset: int
    length: int

    @property
    def is_revisit(self) -> bool:
        return self.mime == REVISIT_MIME

    @classmethod
    def from_index(cls, ts: str, fields: dict) -> CaptureInfo:
        # A 304 line points pywb at the original; the capture itself is the revisit record.
        fields = (
            {**fields, **fields["revisit"]} if isinstance(fields.get("revisit"), dict) else fields
        )
        return cls(
            url=fields.get("url", ""),
            timestamp=ts,
            status=fields.get("status"),
            mime=fields.get("mime"),
            digest=fields.get("digest"),
            filename=fields.get("filename", ""),
            offset=int(fields.get("offset", 0)),
            length=int(fields.get("length", 0)),
        )


@dataclass
class _Record:
    warc_headers: dict[str, str]
    http_header_bytes: bytes  # status line + headers + blank line, as in the WARC
    payload: bytes  # content-encoding and chunking removed


def find_captures(out_dir: str | os.PathLike, url_or_id: str) -> list[CaptureInfo]:
    """All captures of an article, by URL (any variant of it) or by article ID, oldest first."""
    try:
        build_index(out_dir)  # cheap when nothing changed; keeps show in step with new WARCs
    except DcsError:
        if not index_path(out_dir).exists():
            raise
        # A read-only archive: the index that is there is still worth reading.
    query = url_or_id.strip()
    if not query:
        raise DcsError("give a URL or an article ID")
    if _looks_like_url(query):
        try:
            captures = _captures_of_url(out_dir, _with_scheme(query))
        except ValueError as exc:  # urllib's and surt's word on a URL that is none
            raise DcsError(f"invalid URL {query!r}: {exc}") from None
    elif ARTICLE_ID.match(query):
        captures = []
        for canonical in _urls_of_id(out_dir, query):
            captures.extend(_captures_of_url(out_dir, canonical))
    else:
        shown = query if len(query) <= 40 else query[:37] + "..."
        raise DcsError(f"{shown!r} is neither a URL nor an article ID (such as 531379)")
    unique = {(c.filename, c.offset): c for c in captures}
    return sorted(unique.values(), key=lambda c: (c.timestamp, c.filename, c.offset))


def show(
    out_dir: str | os.PathLike,
    url_or_id: str,
    at: str | None = None,
    part: str = "text",
) -> bytes:
    """One capture's text file, payload ("html", decoded) or HTTP headers, as archived."""
    if part not in PARTS:
        raise DcsError(f"unknown part {part!r}: choose one of {', '.join(PARTS)}")
    captures = find_captures(out_dir, url_or_id)
    if not captures:
        raise DcsError(f"no capture of {url_or_id} in {out_dir}")
    capture = pick_capture(captures, at)
    record = _read_record(out_dir, capture)
    if part == "headers":
        return record.http_header_bytes
    original = _resolve_revisit(out_dir, capture, record) if capture.is_revisit else None
    payload_record = original[1] if original else record
    if part == "html":
        return payload_record.payload
    status = (original[0] if original else capture).status or ""
    if status and not status.startswith("2"):  # a redirect or an error page: no article
        location = _location(payload_record)
        what = f"redirect to {location}" if location else "response"
        raise DcsError(
            f"{capture.url} at {capture.timestamp} is a {status} {what}, "
            "not an article: no text; see --headers"
        )
    record_ids = {record.warc_headers.get("WARC-Record-ID")}
    if original:
        record_ids.add(original[1].warc_headers.get("WARC-Record-ID"))
    content_type = _header(payload_record, "content-type")
    return _text_of(out_dir, capture, record_ids - {None}, payload_record.payload, content_type)


def pick_capture(captures: list[CaptureInfo], at: str | None = None) -> CaptureInfo:
    """The capture closest to `at` (a YYYYmmddHHMMSS prefix), else the latest; pages first."""
    pages = [c for c in captures if c.is_revisit or (c.status or "").startswith("2")]
    candidates = pages or captures
    if at is None:
        return candidates[-1]
    if not TIMESTAMP.match(at):
        raise DcsError(f"bad time {at!r}: give a timestamp such as 20250131 or 20250131120000")
    try:
        # A prefix means the start of that period: "2025" is 2025-01-01 00:00:00.
        target = timestamp_to_datetime(pad_timestamp(at, PAD_14_DOWN))
    except ValueError as exc:
        raise DcsError(f"bad time {at!r}: {exc}") from None
    # Ties go to the later capture: max over (closeness, timestamp).
    return max(candidates, key=lambda c: (-_distance(c.timestamp, target), c.timestamp))


# -- finding captures ---------------------------------------------------------------------


def _looks_like_url(query: str) -> bool:
    return "/" in query or "://" in query or "dangcongsan" in query.lower()


def _with_scheme(url: str) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        return url
    if url.startswith("/"):
        return "https://dangcongsan.vn" + url
    return "https://" + url


def _captures_of_url(out_dir: str | os.PathLike, url: str) -> list[CaptureInfo]:
    """Captures whose URL has the same canonical form (scheme, www., tracking, query...)."""
    site = Site.of(url)  # the rules of its own site: the newspaper, the portal, an edition
    canonical = site.canonical(url)
    # The index is keyed by SURT; every variant of the URL shares the SURT of its path.
    prefix = surt.surt(canonical.split("?", 1)[0])
    if not index_path(out_dir).exists():
        return []
    return [
        CaptureInfo.from_index(ts, fields)
        for key, ts, fields in _lines_starting(out_dir, prefix)
        if (key == prefix or key.startswith(prefix + "?"))
        and site.canonical(fields.get("url", "")) == canonical
    ]


def _lines_starting(out_dir: str | os.PathLike, prefix: str) -> Iterator[tuple[str, str, dict]]:
    """The index lines whose key starts with `prefix`, found by binary search."""
    with open(index_path(out_dir), "rb") as fh:
        for raw in iter_prefix(fh, prefix.encode("utf-8")):
            parsed = parse_line(raw.decode("utf-8"))
            if parsed:
                yield parsed


def _urls_of_id(out_dir: str | os.PathLike, ident: str) -> list[str]:
    """Canonical URLs of an article ID: from its sidecars, else from URLs in the index."""
    site = Site()
    urls = {site.canonical(s.canonical_url) for s in iter_sidecars(out_dir, ident)}
    if urls:
        return sorted(urls)
    needle = ident.lower()
    for _key, _ts, fields in iter_index(out_dir):
        url = fields.get("url", "")
        if needle in url.lower() and article_id(url) == ident:
            urls.add(site.canonical(url))
    return sorted(urls)


def _distance(timestamp: str, target: datetime) -> float:
    return abs((timestamp_to_datetime(timestamp) - target).total_seconds())


# -- reading records ----------------------------------------------------------------------


def _read_record(out_dir: str | os.PathLike, capture: CaptureInfo) -> _Record:
    path = Layout.of(out_dir).warc_path(capture.filename)
    try:
        # Raw pass: the HTTP header block byte for byte, before warcio parses it.
        with open(path, "rb") as fh:
            fh.seek(capture.offset)
            raw = next(iter(ArchiveIterator(fh, no_record_parse=True)))
            block_start = raw.raw_stream.read(65536)
        with open(path, "rb") as fh:
            fh.seek(capture.offset)
            record = next(iter(ArchiveIterator(fh)))
            warc_headers = dict(record.rec_headers.headers)
            # content_stream() undoes chunking and Content-Encoding (gzip, deflate, br).
            payload = record.content_stream().read()
    except Exception as exc:  # unreadable file or record: one line, no traceback
        raise DcsError(
            f"cannot read {capture.filename} at offset {capture.offset}: {exc}".splitlines()[0]
        ) from None
    headers = b""
    if record.http_headers is not None and record.rec_type in ("response", "revisit"):
        end = block_start.find(b"\r\n\r\n")
        headers = block_start[: end + 4] if end >= 0 else block_start
    return _Record(warc_headers=warc_headers, http_header_bytes=headers, payload=payload)


def _resolve_revisit(
    out_dir: str | os.PathLike, capture: CaptureInfo, record: _Record
) -> tuple[CaptureInfo, _Record] | None:
    """The capture a revisit record stands for: same payload digest, nearest to its date."""
    target = record.warc_headers.get("WARC-Refers-To-Target-URI") or capture.url
    refers_date = record.warc_headers.get("WARC-Refers-To-Date")
    when = iso_date_to_timestamp(refers_date) if refers_date else capture.timestamp
    digest = capture.digest if capture.digest not in EMPTY_DIGESTS else None
    key = surt.surt(target)
    originals = []
    for _key, ts, fields in _lines_starting(out_dir, key + " "):
        other = CaptureInfo.from_index(ts, fields)
        if other.is_revisit or (digest and _bare(other.digest) != _bare(digest)):
            continue
        if not digest and not (other.status or "").startswith("2"):
            continue
        originals.append(other)
    if not originals:
        raise DcsError(
            f"the original of the revisit {capture.url} {capture.timestamp} is not archived"
        )
    target_dt = timestamp_to_datetime(when)
    best = min(originals, key=lambda c: (_distance(c.timestamp, target_dt), c.timestamp))
    return best, _read_record(out_dir, best)


def _location(record: _Record) -> str:
    """The archived Location header ("" if none)."""
    return _header(record, "location")


def _header(record: _Record, wanted: str) -> str:
    """An archived HTTP header's value ("" if none); `wanted` in lower case."""
    for line in record.http_header_bytes.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == wanted:
            return value.strip()
    return ""


def _bare(digest: str | None) -> str:
    return (digest or "").split(":")[-1].upper()


# -- text ---------------------------------------------------------------------------------


def _text_of(
    out_dir: str | os.PathLike,
    capture: CaptureInfo,
    record_ids: set[str],
    html: bytes,
    content_type: str,
) -> bytes:
    """The text file written for this capture, else the text extracted from it now (in the
    charset its HTTP header declares)."""
    text_path = _text_file_for(out_dir, capture, record_ids)
    if text_path is not None:
        return text_path.read_bytes()
    try:
        from crawler.extract import extract, render_text
        from crawler.extract.html import charset_of
    except ImportError:
        raise DcsError("no text file for this capture, and no extractor installed") from None
    try:
        article = extract(html, capture.url, encoding=charset_of(content_type))
    except Exception as exc:  # ExtractionError and anything a strange page provokes
        raise DcsError(
            f"no text in {capture.url} at {capture.timestamp}: {exc}".splitlines()[0]
        ) from None
    return render_text(article).encode("utf-8")


def _text_file_for(
    out_dir: str | os.PathLike, capture: CaptureInfo, record_ids: set[str]
) -> Path | None:
    """The kept text whose sidecar entry names this capture's record (or its original)."""
    where = (capture.filename, capture.offset)
    ident = article_id(capture.url)
    sidecars = iter_sidecars(out_dir, ident) if ident else iter_sidecars(out_dir)
    for sidecar in sidecars:
        for version in reversed(sidecar.versions):
            same = version.warc.get("record_id") in record_ids or version.location == where
            if same and version.text_path is not None and version.text_path.exists():
                return version.text_path
    return None

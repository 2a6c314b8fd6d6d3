"""Pack the archive as a WACZ 1.1.1 file, the format ReplayWeb.page opens.

archive/<warc files>     stored as they are (ZIP_STORED, read by range requests)
indexes/index.cdx        the CDXJ index lines of those files
pages/pages.jsonl        every article: url, ts, title, text (from DIR/text sidecars)
datapackage.json         each file's path, size and sha256
datapackage-digest.json  sha256 of datapackage.json

Everything is streamed to disk file by file; nothing holds a WARC in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from warcio.timeutils import timestamp_to_iso_date

import crawler
from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.replay.index import (
    REVISIT_MIME,
    build_index,
    format_line,
    iter_cdxj,
    iter_index,
    part_path,
    warc_files,
)
from crawler.replay.sidecars import iter_sidecars
from crawler.site import Kind, Site
from crawler.warc.gzip_members import Survey

WACZ_VERSION = "1.1.1"
CHUNK = 1 << 20


@dataclass
class ExportResult:
    """What `export_wacz` wrote."""

    path: Path
    warcs: list[str] = field(default_factory=list)
    pages: int = 0
    pages_with_text: int = 0
    index_lines: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)  # damaged WARCs: whole records packed


def export_wacz(
    out_dir: str | os.PathLike, wacz_path: str | os.PathLike, since: date | None = None
) -> ExportResult:
    """Write a WACZ of the archive (only WARCs with captures since `since`, if given)."""
    out = Path(out_dir)
    dest = Path(wacz_path)
    if not out.is_dir():
        raise DcsError(f"archive folder {out} does not exist")
    if dest.suffix.lower() != ".wacz":
        raise DcsError(f"the output file name must end in .wacz, got {dest.name}")
    if not dest.parent.is_dir():
        raise DcsError(f"folder {dest.parent} does not exist")

    indexed = build_index(out)
    files = warc_files(out)
    # A damaged file goes in without its damaged bytes (WACZ validators and replay read
    # every .warc.gz to its end): its index lines move by the bytes cut out before them.
    cut = {
        path.name: Survey(path, path.stat().st_size, tuple(indexed.damage[path.name]))
        for path in files
        if path.name in indexed.damage
    }
    chosen = _select(out, [p.name for p in files], since)
    if not chosen:
        when = f" since {since.isoformat()}" if since else ""
        raise DcsError(f"no captures{when} in {Layout.of(out).warc_dir}: nothing to export")

    result = ExportResult(path=dest, problems=list(indexed.problems))
    tmp = dest.with_name(dest.name + ".part")
    resources: list[dict] = []
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
            for path in files:
                if path.name in chosen:
                    resources.append(
                        _add_file(zf, path, "archive/" + path.name, cut.get(path.name))
                    )
                    result.warcs.append(path.name)
            index_entry, result.index_lines = _add_index(zf, out, chosen, cut)
            resources.append(index_entry)
            pages_entry, result.pages, result.pages_with_text = _add_pages(zf, out, chosen)
            resources.append(pages_entry)
            package = _datapackage(resources)
            _add_bytes(zf, "datapackage.json", package)
            digest = {"path": "datapackage.json", "hash": "sha256:" + _sha256(package)}
            _add_bytes(zf, "datapackage-digest.json", _json_bytes(digest))
        os.replace(tmp, dest)
    except OSError as exc:  # a full disk, a folder we may not write to
        raise DcsError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    result.bytes = dest.stat().st_size
    return result


def _select(out: Path, names: list[str], since: date | None) -> set[str]:
    """WARC files with a capture since `since`, and those holding their revisits' originals."""
    if since is None:
        return {n for n in names if _has_lines(out, n)}
    threshold = since.strftime("%Y%m%d") + "000000"
    chosen = set()
    for name in names:
        if any(ts >= threshold for _key, ts, _fields in iter_cdxj(part_path(out, name))):
            chosen.add(name)
    # A revisit replays from its original's payload: pack the files that hold them too.
    wanted: set[tuple[str, str]] = set()  # (urlkey, digest) of the chosen files' revisits
    extra: set[str] = set()
    for key, _ts, fields in iter_index(out):
        revisit = fields.get("revisit")
        if isinstance(revisit, dict) and revisit.get("filename") in chosen:
            extra.add(fields.get("filename", ""))  # a 304 line already names its original
        elif fields.get("filename") in chosen and fields.get("mime") == REVISIT_MIME:
            wanted.add((key, str(fields.get("digest"))))
    if wanted:
        for key, _ts, fields in iter_index(out):
            if fields.get("mime") != REVISIT_MIME and (key, str(fields.get("digest"))) in wanted:
                extra.add(fields.get("filename", ""))
    return chosen | (extra & set(names))


def _has_lines(out: Path, name: str) -> bool:
    part = part_path(out, name)
    return part.exists() and part.stat().st_size > 0


class _HashingWriter:
    """Pass-through writer that counts and hashes what goes into a zip entry."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.fh.write(data)


def _resource(name: str, writer: _HashingWriter) -> dict:
    return {
        "name": Path(name).name.lower(),
        "path": name,
        "hash": "sha256:" + writer.sha.hexdigest(),
        "bytes": writer.size,
    }


def _add_file(zf: zipfile.ZipFile, path: Path, name: str, cut: Survey | None = None) -> dict:
    """Copy a WARC into the zip uncompressed (replay reads records by range), hashing it;
    a damaged one without its damaged stretches."""
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = zipfile.ZIP_STORED
    with zf.open(info, "w", force_zip64=True) as dst:
        writer = _HashingWriter(dst)
        for span in (cut or Survey(path, path.stat().st_size)).spans():
            shutil.copyfileobj(span, writer, CHUNK)
    return _resource(name, writer)


def _add_index(
    zf: zipfile.ZipFile, out: Path, chosen: set[str], cut: dict[str, Survey]
) -> tuple[dict, int]:
    """The merged CDXJ index, restricted to the packed WARCs (still sorted)."""
    name = "indexes/index.cdx"
    count = 0
    with _open_text_entry(zf, name) as dst:
        writer = _HashingWriter(dst)
        for key, ts, fields in iter_index(out):
            if fields.get("filename") in chosen:
                writer.write(format_line(key, ts, _moved(fields, cut)).encode())
                count += 1
    return _resource(name, writer), count


def _moved(fields: dict, cut: dict[str, Survey]) -> dict:
    """An index line's offsets in the packed files (a 304's line names two records)."""
    moved = dict(fields)
    if isinstance(moved.get("revisit"), dict):
        moved["revisit"] = dict(moved["revisit"])
    for where in (moved, moved.get("revisit")):
        if isinstance(where, dict) and where.get("filename") in cut and "offset" in where:
            where["offset"] = str(cut[where["filename"]].moved(int(where["offset"])))
    return moved


def _add_pages(zf: zipfile.ZipFile, out: Path, chosen: set[str]) -> tuple[dict, int, int]:
    """pages/pages.jsonl: each article capture with its text, then articles with no text file."""
    name = "pages/pages.jsonl"
    site = Site()
    # (filename, offset) -> (url, timestamp) of every capture in the packed files.
    captures: dict[tuple[str, int], tuple[str, str]] = {}
    article_captures: list[tuple[str, str, str, int]] = []
    for _key, ts, fields in iter_index(out):
        filename = fields.get("filename")
        if filename not in chosen:
            continue
        offset = int(fields.get("offset", 0))
        url = fields.get("url", "")
        captures[(filename, offset)] = (url, ts)
        html = (fields.get("mime") or "").startswith("text/html")
        page = html and fields.get("status") == "200" and "revisit" not in fields
        if page and site.classify(url) is Kind.ARTICLE:
            article_captures.append((url, ts, filename, offset))

    pages = with_text = 0
    covered: set[tuple[str, int]] = set()
    with _open_text_entry(zf, name) as dst:
        writer = _HashingWriter(dst)
        header = {
            "format": "json-pages-1.0",
            "id": "pages",
            "title": "dangcongsan.vn articles",
            "hasText": True,
        }
        writer.write(_json_line(header))
        for sidecar in iter_sidecars(out):
            for version in sidecar.versions:  # each kept text, at the capture it came from
                where = version.location
                if where not in captures or where in covered:
                    continue  # its capture is not in this WACZ
                page = _page(*captures[where])
                if sidecar.title:
                    page["title"] = sidecar.title
                if version.text_path is not None and version.text_path.exists():
                    page["text"] = version.text_path.read_text(encoding="utf-8")
                    with_text += 1
                writer.write(_json_line(page))
                covered.add(where)
                pages += 1
        for url, ts, filename, offset in article_captures:
            if (filename, offset) not in covered:  # an article with no text file (yet)
                writer.write(_json_line(_page(url, ts)))
                pages += 1
    return _resource(name, writer), pages, with_text


def _page(url: str, ts: str) -> dict:
    return {"id": f"{ts}/{url}", "url": url, "ts": timestamp_to_iso_date(ts)}


def _open_text_entry(zf: zipfile.ZipFile, name: str) -> IO[bytes]:
    return zf.open(_deflated(name), "w", force_zip64=True)


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    zf.writestr(_deflated(name), data)


def _deflated(name: str) -> zipfile.ZipInfo:
    """A compressed entry dated now (the WARCs alone are stored, for range requests)."""
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _datapackage(resources: list[dict]) -> bytes:
    package = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "title": "dangcongsan.vn archive",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": f"dcs-archiver {crawler.__version__}",
    }
    return _json_bytes(package)


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def _json_line(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

"""Pack the archive as a WACZ 1.1.1 file, the format ReplayWeb.page opens.

archive/<warc files>     stored as they are (read by range requests)
indexes/index.cdx.gz     the CDXJ index lines of those files as ZipNum blocks (stored: read
  + indexes/index.idx    by range requests), and the index of those blocks (see zipnum.py);
                         or, up to `zipnum_over` lines if asked, one plain indexes/index.cdx
pages/pages.jsonl        every article: url, ts, title, text (from DIR/text sidecars)
datapackage.json         each file's path, size and sha256; mainPageUrl/Date: the home page
datapackage-digest.json  sha256 of datapackage.json

The zip is written by zipwriter.py (Zip64 only where an entry can pass 4 GiB, local and
central records that agree). WARCs are copied a chunk at a time; the index and the page
list are first written to a staging folder beside the output, so that every entry's size
is known before its header. Nothing holds a WARC, the index or the page list in memory.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

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
from crawler.replay.zipnum import ZIPNUM_OVER, write_zipnum
from crawler.replay.zipwriter import CHUNK, ZipEntry, ZipWriter
from crawler.site import Kind, Sites, profiles_named
from crawler.warc.gzip_members import Survey

WACZ_VERSION = "1.1.1"
PAGES = "pages/pages.jsonl"


@dataclass
class ExportResult:
    """What `export_wacz` wrote."""

    path: Path
    warcs: list[str] = field(default_factory=list)
    pages: int = 0
    pages_with_text: int = 0
    index_lines: int = 0
    zipnum: bool = False  # the index went in as index.cdx.gz + index.idx
    main_page: tuple[str, str] | None = None  # (url, timestamp) of the home page
    bytes: int = 0
    problems: list[str] = field(default_factory=list)  # damaged WARCs: whole records packed


def export_wacz(
    out_dir: str | os.PathLike,
    wacz_path: str | os.PathLike,
    since: date | None = None,
    zipnum_over: int = ZIPNUM_OVER,
    on_file: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write a WACZ of the archive (only WARCs with captures since `since`, if given).

    The index goes in as ZipNum when it has more than `zipnum_over` lines (by default
    always), as one plain index.cdx otherwise.
    `on_file(name)` is called before each WARC file is copied (for progress).
    """
    out = Path(out_dir)
    dest = Path(wacz_path)
    if not out.is_dir():
        raise DcsError(f"archive folder {out} does not exist")
    if dest.suffix.lower() != ".wacz":
        raise DcsError(f"the output file name must end in .wacz, got {dest.name}")
    if not dest.parent.is_dir():
        raise DcsError(f"folder {dest.parent} does not exist")
    if zipnum_over < 0:
        raise DcsError(f"the ZipNum threshold must be 0 or more, got {zipnum_over}")

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
    try:
        with (
            tempfile.TemporaryDirectory(prefix=".dcs-export-", dir=dest.parent) as staging,
            open(tmp, "wb") as fh,
            ZipWriter(fh) as zf,
        ):
            resources = []
            for path in files:
                if path.name in chosen:
                    if on_file is not None:
                        on_file(path.name)
                    resources.append(_resource(_add_warc(zf, path, cut.get(path.name))))
                    result.warcs.append(path.name)
            scan = _stage_index(out, chosen, cut, Path(staging), zipnum_over)
            for name, staged, deflate in scan.entries:
                resources.append(_resource(zf.add_file(name, staged, deflate=deflate)))
            pages = Path(staging) / "pages.jsonl"
            result.pages, result.pages_with_text = _stage_pages(out, scan, pages)
            resources.append(_resource(zf.add_file(PAGES, pages, deflate=True)))
            package = _datapackage(resources, scan.main_page)
            packaged = zf.add_bytes("datapackage.json", package)
            digest = {"path": "datapackage.json", "hash": "sha256:" + packaged.sha256}
            zf.add_bytes("datapackage-digest.json", _json_bytes(digest))
        os.replace(tmp, dest)
    except OSError as exc:  # a full disk, a folder we may not write to, a WARC cut short
        raise DcsError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    result.index_lines, result.zipnum, result.main_page = scan.lines, scan.zipnum, scan.main_page
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


@dataclass
class _IndexScan:
    """What one pass over the index of the packed files gathered."""

    entries: list[tuple[str, Path, bool]] = field(default_factory=list)  # name, staged, deflate
    lines: int = 0
    zipnum: bool = False
    # (filename, offset) -> (url, timestamp) of the captures a text can come from.
    pages: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    articles: list[tuple[str, str, str, int]] = field(default_factory=list)  # url, ts, file, offset
    main_page: tuple[str, str] | None = None  # the latest capture of the home page


def _add_warc(zf: ZipWriter, path: Path, cut: Survey | None) -> ZipEntry:
    """A WARC stored as it is (replay reads its records by range); a damaged one without
    its damaged stretches."""
    name = "archive/" + path.name
    if cut is None:
        return zf.add_file(name, path)
    size = sum(end - start for start, end in cut.intact)
    return zf.add_chunks(name, _intact_chunks(cut), size, mtime=path.stat().st_mtime)


def _intact_chunks(cut: Survey) -> Iterator[bytes]:
    for span in cut.spans():
        while chunk := span.read(CHUNK):
            yield chunk


def _stage_index(
    out: Path, chosen: set[str], cut: dict[str, Survey], staging: Path, zipnum_over: int
) -> _IndexScan:
    """The merged index restricted to the packed WARCs (still sorted), as ZipNum or, up to
    `zipnum_over` lines, as plain CDXJ; on the way, the captures pages are made of."""
    scan = _IndexScan()
    sites = Sites(profiles=profiles_named("all"))  # pages of every site, each by its rules
    plain = staging / "index.cdx"
    with open(plain, "w", encoding="utf-8") as fh:
        for key, ts, fields in iter_index(out):
            filename = fields.get("filename")
            if filename not in chosen:
                continue
            fh.write(format_line(key, ts, _moved(fields, cut)))
            scan.lines += 1
            url, mime = fields.get("url", ""), fields.get("mime") or ""
            html = mime.startswith("text/html")
            if html or mime == REVISIT_MIME:
                scan.pages[(filename, int(fields.get("offset", 0)))] = (url, ts)
            if fields.get("status") != "200" or not (html or mime == REVISIT_MIME):
                continue
            site = sites.site_for(url)
            kind = site.classify(url)
            if kind is Kind.ARTICLE and html and "revisit" not in fields:
                scan.articles.append((url, ts, filename, int(fields.get("offset", 0))))
            elif (
                kind is Kind.HOME
                and site is sites.main  # the newspaper's home page opens the collection
                and (scan.main_page is None or ts > scan.main_page[1])
            ):
                scan.main_page = (url, ts)  # its latest capture, a revisit as good as any
    if scan.lines <= zipnum_over:
        scan.entries.append(("indexes/index.cdx", plain, True))
        return scan
    blocks, idx = staging / "index.cdx.gz", staging / "index.idx"
    with open(plain, encoding="utf-8") as lines, open(blocks, "wb") as fh:
        idx.write_text(write_zipnum(lines, fh), encoding="utf-8")
    plain.unlink()
    scan.zipnum = True
    # The blocks are gzip already: stored, so that a reader can fetch one by its range.
    scan.entries += [("indexes/index.cdx.gz", blocks, False), ("indexes/index.idx", idx, True)]
    return scan


def _moved(fields: dict, cut: dict[str, Survey]) -> dict:
    """An index line's offsets in the packed files (a 304's line names two records)."""
    moved = dict(fields)
    if isinstance(moved.get("revisit"), dict):
        moved["revisit"] = dict(moved["revisit"])
    for where in (moved, moved.get("revisit")):
        if isinstance(where, dict) and where.get("filename") in cut and "offset" in where:
            where["offset"] = str(cut[where["filename"]].moved(int(where["offset"])))
    return moved


def _stage_pages(out: Path, scan: _IndexScan, dest: Path) -> tuple[int, int]:
    """pages.jsonl: each article capture with its text, then articles with no text file.

    Returns (pages, pages with text)."""
    pages = with_text = 0
    covered: set[tuple[str, int]] = set()
    with open(dest, "wb") as fh:
        # No "hasText": ReplayWeb.page would then build its search from the first MiB of
        # this file alone (a few hundred articles); without it, from every page loaded.
        header = {"format": "json-pages-1.0", "id": "pages", "title": "dangcongsan.vn articles"}
        fh.write(_json_line(header))
        for sidecar in iter_sidecars(out):
            for version in sidecar.versions:  # each kept text, at the capture it came from
                where = version.location
                if where not in scan.pages or where in covered:
                    continue  # its capture is not in this WACZ
                page = _page(*scan.pages[where])
                if sidecar.title:
                    page["title"] = sidecar.title
                if version.text_path is not None and version.text_path.exists():
                    page["text"] = version.text_path.read_text(encoding="utf-8")
                    with_text += 1
                fh.write(_json_line(page))
                covered.add(where)
                pages += 1
        for url, ts, filename, offset in scan.articles:
            if (filename, offset) not in covered:  # an article with no text file (yet)
                fh.write(_json_line(_page(url, ts)))
                pages += 1
    return pages, with_text


def _resource(entry: ZipEntry) -> dict:
    return {
        "name": Path(entry.name).name.lower(),
        "path": entry.name,
        "hash": "sha256:" + entry.sha256,
        "bytes": entry.size,
    }


def _page(url: str, ts: str) -> dict:
    return {"id": f"{ts}/{url}", "url": url, "ts": timestamp_to_iso_date(ts)}


def _datapackage(resources: list[dict], main_page: tuple[str, str] | None) -> bytes:
    package = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "title": "dangcongsan.vn archive",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": f"dcs-archiver {crawler.__version__}",
    }
    if main_page is not None:  # the spec's names (py-wacz writes mainPageURL)
        package["mainPageUrl"] = main_page[0]
        package["mainPageDate"] = timestamp_to_iso_date(main_page[1])
    return _json_bytes(package)


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def _json_line(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")

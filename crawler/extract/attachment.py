"""An attached file of the documents portal (a PDF) made into its text and sidecar.

The text goes beside the text of the document page that links it:
`TEXT/documents/<document id>.<file name>.txt` and `.json`. A file met without its page (a
crawl resumed after a crash) goes beside the document whose sidecar lists it; one that no
document lists, under `TEXT/documents/files/`. The text is the PDF's text layer, pages
separated by a line holding a single form feed (crawler.extract.pdf). A PDF without a
text layer (a scan) gets a sidecar flagged `no-text-layer` and no text file: nothing is
guessed. A file that is not a PDF (a Word file, an archive) is archived in the WARCs only.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crawler.extract.dates import utc_isoformat
from crawler.extract.output import DOCUMENTS, _warc, dumps, extractor_info
from crawler.extract.pdf import PdfError, is_pdf, pdf_text
from crawler.files import atomic_write
from crawler.site import document_id

NO_TEXT_LAYER = "no-text-layer"
NOT_PDF = "not-pdf"
_UNSAFE = re.compile(r"[^\w.-]+")
MAX_NAME = 80


@dataclass(frozen=True)
class FileText:
    """What became of one file: its sidecar (always), its text (when it has one)."""

    sidecar: Path
    text: Path | None
    text_sha1: str | None
    text_value: str | None
    pages: int
    flags: tuple[str, ...]


def file_name(url: str) -> str:
    """The file's name from its URL, made safe for a file system (letters kept, NFC)."""
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "file"
    name = _UNSAFE.sub("-", unicodedata.normalize("NFC", name)).strip("-.") or "file"
    if len(name) > MAX_NAME:  # long names cut, told apart by a hash of the whole URL
        name = name[: MAX_NAME - 9] + "-" + hashlib.sha1(url.encode()).hexdigest()[:8]
    return name


def attached_to(text_root: Path) -> dict[str, str]:
    """Attached file URL -> the canonical URL of the document page that lists it among its
    `attachments`, as the documents' sidecars say (the first, by file name)."""
    linked: dict[str, str] = {}
    for path in sorted((Path(text_root) / DOCUMENTS).glob("*.json")):
        meta = _read_json(path)
        for attachment in meta.get("attachments") or []:
            url = attachment.get("url") if isinstance(attachment, dict) else None
            if url and meta.get("canonical_url"):
                linked.setdefault(url, meta["canonical_url"])
    return linked


def file_stem(text_root: Path, url: str, document: str | None) -> Path:
    """Where a file's text and sidecar go, without their suffix."""
    folder = Path(text_root) / DOCUMENTS
    number = document_id(document) if document else None
    stem = folder / (f"{number}.{file_name(url)}" if number else f"files/{file_name(url)}")
    # Two files of one name (from two folders of the server): the second told apart.
    taken = _read_json(stem.with_name(stem.name + ".json")).get("canonical_url")
    if taken not in (None, url):
        stem = stem.with_name(f"{stem.name}-{hashlib.sha1(url.encode()).hexdigest()[:8]}")
    return stem


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_file_text(
    data: bytes | Path,
    text_root: Path,
    *,
    url: str,
    canonical: str,
    document: str | None,
    content_type: str,
    fetched_at: datetime,
    warc: object = None,
) -> FileText:
    """Read the file's text layer and write its text and sidecar (whole-or-nothing writes).
    ``data``: the file's bytes, or the path of a file holding them (a spooled body, read
    in pieces and by PDFium from disk, never whole). Raises PdfError when a PDF cannot be
    opened."""
    # Met without its page (resumed after a crash): beside the document that lists it.
    document = document or attached_to(text_root).get(canonical)
    stem = file_stem(text_root, canonical, document)
    flags: list[str] = []
    text = None
    pages = 0
    size, file_sha1, head = _measure(data)
    if is_pdf(head, content_type):
        found = pdf_text(data)
        pages = found.page_count
        if found.has_text_layer:
            text = found.render()
        else:
            flags.append(NO_TEXT_LAYER)
    else:
        flags.append(NOT_PDF)
    text_path = text_sha1 = None
    if text is not None:
        encoded = text.encode("utf-8")
        text_sha1 = hashlib.sha1(encoded).hexdigest()
        text_path = stem.with_name(stem.name + ".txt")
        atomic_write(text_path, encoded)
    fetched = utc_isoformat(fetched_at)  # naive: UTC
    here = {"fetched_at": fetched, "sha1": text_sha1, "file": text_path.name if text_path else None,
            "warc": _warc(warc)}  # fmt: skip
    meta = {
        "url": url,
        "canonical_url": canonical,
        "id": stem.name,
        "site": DOCUMENTS,
        "kind": "file",
        "title": unquote(urlsplit(canonical).path.rsplit("/", 1)[-1]),
        "document": document,
        "content_type": content_type or None,
        "size": size,
        "file_sha1": file_sha1,
        "pages": pages,
        "page_break": "\f" if text is not None else None,  # JSON writes it "\f"
        "fetched_at": fetched,
        "sha1": text_sha1,
        "extractor": extractor_info(),
        "flags": sorted(flags),
        "warc": _warc(warc),
        "versions": [here] if text_path else [],
    }
    sidecar = stem.with_name(stem.name + ".json")
    atomic_write(sidecar, dumps(meta).encode("utf-8"))
    return FileText(sidecar, text_path, text_sha1, text, pages, tuple(sorted(flags)))


def _measure(data: bytes | Path) -> tuple[int, str, bytes]:
    """A file's size, sha1 (hex) and first KiB, from its bytes or from its path."""
    if isinstance(data, bytes):
        return len(data), hashlib.sha1(data).hexdigest(), data[:1024]
    sha1 = hashlib.sha1()
    size = 0
    with open(data, "rb") as file:
        head = file.read(1024)
        file.seek(0)
        while piece := file.read(1 << 20):
            sha1.update(piece)
            size += len(piece)
    return size, sha1.hexdigest(), head


__all__ = ["NO_TEXT_LAYER", "FileText", "PdfError", "file_stem", "write_file_text"]

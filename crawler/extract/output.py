"""The text file and its JSON sidecar on disk, earlier texts kept as versions.

Layout: `text_root/YYYY/MM/DD/<id>.txt` + `<id>.json` (the published day in Vietnam time;
undated articles go under the day they were fetched). When an article is written again
with a different text, the previous text is kept as `<id>.<YYYYmmddHHMMSS>.txt` (UTC time
of its fetch, as in WARC timestamps) and the sidecar's `versions` lists them all, oldest
first. Every file is written to a temporary name and renamed, so a crash leaves either the
old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura

import crawler
from crawler.extract.article import Article
from crawler.extract.dates import VIETNAM, isoformat, utc_isoformat
from crawler.extract.text import render_text
from crawler.files import atomic_write

WARC_KEYS = ("filename", "offset", "length", "record_id")
DOCUMENTS = "documents"  # the documents portal's profile name (crawler.site.PROFILES)


@dataclass(frozen=True)
class Written:
    """What write_article did: where the text is, its SHA-1, and whether it changed."""

    text: Path
    sidecar: Path
    sha1: str
    status: str  # "new", "changed" (a version was kept) or "unchanged"
    previous: Path | None = None  # where the replaced text was kept


def extractor_info() -> dict[str, str]:
    return {
        "name": "dcs-archiver",
        "version": crawler.__version__,
        "trafilatura": trafilatura.__version__,
    }


def _warc(warc: Any) -> dict[str, Any] | None:
    """A record location as a plain dict: a RecordLocation, a mapping, or None."""
    if warc is None:
        return None
    if isinstance(warc, Mapping):
        return {key: warc.get(key) for key in WARC_KEYS}
    return {key: getattr(warc, key, None) for key in WARC_KEYS}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def article_dir(text_root: Path, article: Article, fetched_at: datetime) -> Path:
    """The day folder: published date in Vietnam time, else the fetch date; under a folder
    named after the site for any site but the newspaper. The documents portal's pages go in
    one folder, `documents/` (a document's files are written beside it, see files.py)."""
    root = Path(text_root)
    if article.site != "main":
        root = root / article.site
        if article.site == DOCUMENTS:
            return root
    day = (article.published or _aware(fetched_at)).astimezone(VIETNAM)
    return root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"


def _stamp(fetched_at: str) -> str:
    value = datetime.fromisoformat(fetched_at.replace("Z", "+00:00"))
    return _aware(value).astimezone(UTC).strftime("%Y%m%d%H%M%S")


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, UTF-8 as is, two-space indent, final newline."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return None  # unreadable: treated as absent (atomic writes make this unexpected)


def _version_file(directory: Path, article_id: str, fetched_at: str, sha1: str) -> Path:
    """`<id>.<stamp>.txt`, with -2, -3... when two texts were fetched in the same second."""
    stem = f"{article_id}.{_stamp(fetched_at)}"
    candidate, n = directory / f"{stem}.txt", 1
    while candidate.exists() and _sha1(candidate.read_bytes()) != sha1:
        n += 1
        candidate = directory / f"{stem}-{n}.txt"
    return candidate


def sidecar(
    article: Article, *, url: str, fetched_at: str, sha1: str, warc: Any, versions: list
) -> dict[str, Any]:
    return {
        "url": url,
        "canonical_url": article.canonical_url,
        "id": article.id,
        "title": article.title,
        "lead": article.lead,
        "published": isoformat(article.published),
        "modified": isoformat(article.modified),
        "author": article.author,
        "category": article.category,
        "tags": list(article.tags),
        "related": [{"title": title, "url": link} for title, link in article.related],
        "images": list(article.images),
        "generation": article.generation,
        "fetched_at": fetched_at,
        "sha1": sha1,
        "extractor": extractor_info(),
        "method": article.method,
        "flags": article.flags,
        "warnings": list(article.warnings),
        "warc": _warc(warc),
        "versions": versions,
    } | site_fields(article)


def site_fields(article: Article) -> dict[str, Any]:
    """What a page of another site than the newspaper adds to its sidecar (the newspaper's
    sidecars keep the fields they always had)."""
    if article.site == "main":
        return {}
    fields: dict[str, Any] = {"site": article.site, "language": article.language}
    if article.site == DOCUMENTS:
        fields["document"] = dict(article.document)
        fields["attachments"] = [{"title": t, "url": u} for t, u in article.attachments]
    else:
        fields["original"] = article.original
    return fields


def write_article(
    article: Article,
    text_root: Path,
    *,
    url: str,
    fetched_at: datetime,
    warc: Any = None,
    text: str | None = None,
) -> Written:
    """Write `<id>.txt` and `<id>.json`; keep the previous text when it differs.

    `fetched_at` is the capture time (WARC-Date; naive means UTC), `warc` the response
    record's location (a RecordLocation or a dict with filename, offset, length, record_id).
    The same text again only refreshes the sidecar's metadata: no new version, and the
    text keeps the fetch time and record of the capture that first produced it. `text`:
    the article's render_text, when the caller has it already.
    """
    directory = article_dir(text_root, article, fetched_at)
    text_path = directory / f"{article.id}.txt"
    json_path = directory / f"{article.id}.json"
    data = (render_text(article) if text is None else text).encode("utf-8")
    sha1 = _sha1(data)
    fetched = utc_isoformat(_aware(fetched_at))
    here = {"fetched_at": fetched, "sha1": sha1, "file": text_path.name, "warc": _warc(warc)}

    previous = _read_sidecar(json_path)
    kept: Path | None = None
    if previous is None:
        status, versions = "new", [here]
    elif previous.get("sha1") == sha1:
        status = "unchanged"
        versions = previous.get("versions") or [here]
        fetched, warc = previous.get("fetched_at", fetched), previous.get("warc")
    else:
        status = "changed"
        old_sha1, old_fetched = previous.get("sha1"), previous.get("fetched_at", fetched)
        kept = _version_file(directory, article.id, old_fetched, old_sha1)
        if not kept.exists():
            if text_path.exists() and _sha1(text_path.read_bytes()) == old_sha1:
                atomic_write(kept, text_path.read_bytes())
            else:
                # A crash between writing the text and its sidecar: the old text is gone.
                article.warnings.append(f"previous text {old_sha1} was lost, not kept")
        versions = [dict(v) for v in previous.get("versions") or []] or [
            {"fetched_at": old_fetched, "sha1": old_sha1, "file": text_path.name,
             "warc": previous.get("warc")}
        ]  # fmt: skip
        for version in versions:
            if version.get("file") == text_path.name:
                version["file"] = kept.name if kept.exists() else None
        versions.append(here)

    meta = sidecar(article, url=url, fetched_at=fetched, sha1=sha1, warc=warc, versions=versions)
    if status == "unchanged" and previous is not None:
        meta["url"] = previous.get("url", url)  # the capture that produced this text
    if status != "unchanged" or not text_path.exists():
        atomic_write(text_path, data)
    encoded = dumps(meta).encode("utf-8")
    if not json_path.exists() or json_path.read_bytes() != encoded:
        atomic_write(json_path, encoded)
    return Written(text_path, json_path, sha1, status, kept)

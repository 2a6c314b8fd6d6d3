"""`dcs export dataset`: the corpus as one table, a row per text of every article.

Written as JSON lines, CSV or Parquet (by the output's suffix), streamed: rows go out in
batches as the text folder is walked, so memory stays flat at any size. The file is written
under a temporary name and renamed when whole. The README's data dictionary describes every
column; COLUMNS below is the same list, the one the writers follow.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from crawler.errors import DcsError
from crawler.extract.dates import VIETNAM
from crawler.layout import Layout
from crawler.research.corpus import Article, iter_articles, parse_time
from crawler.research.takedowns import removed_at

FORMATS = {".jsonl": "jsonl", ".parquet": "parquet", ".csv": "csv"}
BATCH = 1000  # rows per Parquet row group

# (name, Arrow type name) in the order of the table.
COLUMNS = (
    ("id", "string"),
    ("url", "string"),
    ("canonical_url", "string"),
    ("title", "string"),
    ("lead", "string"),
    ("related", "related"),
    ("body", "string"),
    ("text", "string"),
    ("published", "time_vn"),
    ("modified", "time_vn"),
    ("author", "string"),
    ("category", "string"),
    ("tags", "strings"),
    ("images", "strings"),
    ("fetched_at", "time_utc"),
    ("version", "int"),
    ("versions", "int"),
    ("current", "bool"),
    ("sha1", "string"),
    ("removed", "bool"),
    ("removed_at", "time_utc"),
    ("warc_filename", "string"),
    ("warc_offset", "int"),
    ("warc_length", "int"),
    ("warc_record_id", "string"),
    ("text_path", "string"),
    # which site of dangcongsan.vn, in which language; an edition's Vietnamese original; a
    # document's number, issuing body and date of issue; a file's document page
    ("site", "string"),
    ("language", "string"),
    ("original_url", "string"),
    ("document_number", "string"),
    ("document_issuer", "string"),
    ("document_issued", "string"),
    ("attached_to", "string"),
)
_TIMES = {name for name, kind in COLUMNS if kind.startswith("time")}


@dataclass
class ExportResult:
    path: Path
    format: str
    rows: int = 0
    articles: int = 0
    bytes: int = 0

    def line(self) -> str:
        return (
            f"Wrote {self.path} ({self.bytes:,} bytes, {self.format}): {self.rows:,} rows, "
            f"{self.articles:,} articles"
        )


def export_dataset(
    layout: Layout,
    out: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    on_row: Callable[[], None] | None = None,
    site: str | None = None,
) -> ExportResult:
    """Write every text of the articles published between two days (Vietnam time, both
    included; all when not given) to `out`; of one site of dangcongsan.vn, when `site`
    names it."""
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise DcsError(f"cannot tell the format of {out}: name it .jsonl, .parquet or .csv")
    if not out.parent.is_dir():
        raise DcsError(f"no folder {out.parent} to write {out.name} in")
    if not layout.text_dir.is_dir():
        raise DcsError(f"no text files in {layout.text_dir}: nothing archived to export")
    result = ExportResult(out, fmt)
    gone = removed_at(layout)
    writer = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}[fmt]

    def rows() -> Iterator[dict[str, Any]]:
        for article in iter_articles(layout.text_dir):
            if site is not None and article.site != site:
                continue
            published = article.published
            day = published.astimezone(VIETNAM).date() if published else None
            if (since and (day is None or day < since)) or (until and (day is None or day > until)):
                continue
            result.articles += 1
            for row in article_rows(article, gone):
                result.rows += 1
                if on_row is not None:
                    on_row()
                yield row

    tmp = out.with_name(f".{out.name}.tmp")
    try:
        writer(tmp, rows())
        os.replace(tmp, out)
    except OSError as exc:
        raise DcsError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    result.bytes = out.stat().st_size
    return result


def article_rows(article: Article, gone: dict[str, datetime]) -> Iterator[dict[str, Any]]:
    """One row per text of the article that was kept, oldest first."""
    meta = article.meta
    removed = gone.get(article.live_url)
    links = {r.get("title"): r.get("url") for r in meta.get("related") or [] if isinstance(r, dict)}
    original = meta.get("original") if isinstance(meta.get("original"), dict) else None
    document = meta.get("document") if isinstance(meta.get("document"), dict) else {}
    for version in article.versions:
        text = version.read()
        if text is None:
            continue
        parts = article.version_parts(version)
        assert parts is not None
        warc = version.warc
        yield {
            "id": article.id,
            "url": article.url or None,
            "canonical_url": article.canonical_url or None,
            "title": parts.title,
            "lead": parts.lead or None,
            "related": [{"title": t, "url": links.get(t)} for t in parts.related],
            "body": "\n".join(parts.body),
            "text": text,
            "published": parse_time(meta.get("published")),
            "modified": parse_time(meta.get("modified")),
            "author": meta.get("author"),
            "category": meta.get("category"),
            "tags": list(meta.get("tags") or []),
            "images": list(meta.get("images") or []),
            "fetched_at": _utc(parse_time(version.fetched_at)),
            "version": version.number,
            "versions": len(article.versions),
            "current": version.current,
            "sha1": version.sha1,
            "removed": removed is not None,
            "removed_at": removed,
            "warc_filename": warc.get("filename"),
            "warc_offset": _int(warc.get("offset")),
            "warc_length": _int(warc.get("length")),
            "warc_record_id": warc.get("record_id"),
            "text_path": str(version.path),
            "site": article.site,
            "language": article.language,
            "original_url": (original or {}).get("url"),
            "document_number": document.get("number"),
            "document_issuer": document.get("issuer"),
            "document_issued": document.get("issued"),
            "attached_to": meta.get("document") if meta.get("kind") == "file" else None,
        }


# -- writers ---------------------------------------------------------------------------------
def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Times as ISO 8601 text, for JSON and CSV."""
    return {k: (v.isoformat() if k in _TIMES and v is not None else v) for k, v in row.items()}


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(_plain(row), ensure_ascii=False) + "\n")


def _write_csv(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    """Lists (tags, images, related) as JSON in their cell; newlines kept inside quotes."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([name for name, _kind in COLUMNS])
        for row in rows:
            plain = _plain(row)
            writer.writerow(
                json.dumps(plain[name], ensure_ascii=False) if isinstance(plain[name], list)
                else plain[name]
                for name, _kind in COLUMNS
            )  # fmt: skip


def arrow_schema():
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "int": pa.int64(),
        "bool": pa.bool_(),
        "strings": pa.list_(pa.string()),
        "related": pa.list_(pa.struct([("title", pa.string()), ("url", pa.string())])),
        "time_vn": pa.timestamp("s", tz="+07:00"),
        "time_utc": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([(name, kinds[kind]) for name, kind in COLUMNS])


def _write_parquet(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment else None


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None

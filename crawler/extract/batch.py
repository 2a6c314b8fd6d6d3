"""Re-extraction from WARC files alone: every archived article page to text + sidecar again.

Three passes, each split over a process pool:
1. index: each WARC file is read for its article responses (200, HTML, an article URL) and
   the documents portal's attached files;
2. extract: batches of those records are read back by offset and extracted (pure); the
   articles are spooled to a scratch folder, only their destination comes back;
3. write: captures are grouped by destination file and written in WARC-Date order, one
   destination per task, so versions come out the same whatever the number of workers.
Then the files: each attached file's text layer, written beside the document that links it
(the documents' sidecars, just written, say which one: their `attachments`).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm
from warcio.archiveiterator import ArchiveIterator

from crawler.errors import DcsError
from crawler.extract.article import GENERIC
from crawler.extract.attachment import NO_TEXT_LAYER, attached_to, write_file_text
from crawler.extract.extractor import extract
from crawler.extract.html import charset_of
from crawler.extract.output import article_dir, write_article
from crawler.extract.suspect import SuspectTexts, suspect_entry
from crawler.files import atomic_write
from crawler.site import Kind, Site
from crawler.warc.gzip_members import survey

WARC_SUFFIXES = (".warc.gz", ".warc")
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Records (or articles to write) per task: small enough to spread over the workers evenly
# (a worker left with a long last task while the other waits is time lost) and show progress.
BATCH_SIZE = 16


class ReextractError(DcsError):
    """The inputs cannot be read as WARC files."""


@dataclass(frozen=True, order=True)
class Capture:
    """One archived article response: where it is and when it was fetched."""

    date: datetime  # WARC-Date, aware
    path: str  # the WARC file
    offset: int
    length: int
    url: str = field(compare=False)
    record_id: str = field(compare=False)
    kind: str = field(default=Kind.ARTICLE.value, compare=False)  # or a document's "file"


@dataclass
class Summary:
    """What a re-extraction did. `failed` counts failures by reason."""

    records: int = 0  # article responses found
    articles: int = 0  # of those, extracted and written
    new: int = 0
    changed: int = 0  # a new text version was written
    unchanged: int = 0
    generic: int = 0  # no site rule knew the markup: parts found by what they are
    no_body: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    skipped: dict[str, int] = field(default_factory=dict)  # revisit, status, not-html, ...
    damaged: list[str] = field(default_factory=list)  # "FILE: bytes A-B (why)", one per file
    warc_files: int = 0
    suspect: SuspectTexts = field(default_factory=SuspectTexts)  # texts that look wrong
    files: int = 0  # attached files read (the documents portal's PDFs)
    no_text_layer: list[str] = field(default_factory=list)  # URLs of PDFs without one

    def __str__(self) -> str:
        lines = [
            f"{self.articles} of {self.records} article pages extracted from {self.warc_files}"
            f" WARC file(s): {self.new} new, {self.changed} changed, {self.unchanged} unchanged;"
            f" {self.no_body} without body text, {self.generic} by the generic extractor",
            f"text: {self.suspect.summary()}",
        ]
        if self.files:
            lines.append(
                f"files: {self.files} attached files read, {len(self.no_text_layer)} PDFs "
                "without a text layer"
            )
        lines += [f"failed: {url}: {reason}" for url, reason in self.failures]
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        """Every WARC file could be read whole."""
        return not self.damaged

    def as_dict(self) -> dict:
        """The JSON report of the run."""
        counts = ("records", "articles", "new", "changed", "unchanged", "generic", "no_body")
        return {
            **{name: getattr(self, name) for name in counts},
            "warc_files": self.warc_files,
            "failed": self.failed,
            "failures": [{"url": url, "reason": reason} for url, reason in self.failures],
            "skipped": self.skipped,
            "damaged": self.damaged,
            "suspect_texts": self.suspect.as_dict(),
            "files": self.files,
            "no_text_layer": self.no_text_layer,
        }


def write_report(summary: Summary, reports_dir: Path) -> Path:
    """Write the run's JSON report as reports_dir/extract-<time>.json; return its path."""
    now = datetime.now(UTC)
    path = reports_dir / f"extract-{now:%Y%m%d%H%M%S}-{os.getpid()}.json"
    report = {"finished_at": now.isoformat(), **summary.as_dict()}
    atomic_write(path, (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode())
    return path


def find_warcs(inputs: Iterable[Path]) -> list[Path]:
    """WARC files named, and those under the folders named; sorted, each once."""
    found: set[Path] = set()
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found.update(
                p for p in item.rglob("*") if p.is_file() and p.name.endswith(WARC_SUFFIXES)
            )
        elif item.is_file():
            found.add(item)
        else:
            raise ReextractError(f"no such file or folder: {item}")
    return sorted(found)


def _warc_date(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- pass 1: index -------------------------------------------------------------------------
def _skip_reason(record: Any, url: str) -> str | None:
    """Why a response or revisit record is not an article page (or an attached file) to
    extract, or None."""
    if record.rec_type != "response":
        return record.rec_type
    if record.http_headers is None:
        return "not HTTP"
    status = record.http_headers.get_statuscode()
    if status != "200":
        return f"status {status}"
    kind = Site.of(url).classify(url)
    if kind is Kind.FILE:
        return None if record.rec_headers.get_header("WARC-Truncated") is None else "truncated"
    if kind is not Kind.ARTICLE:
        return "not an article URL"
    content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    if content_type and not content_type.startswith(HTML_TYPES):
        return "not HTML"
    return None


def index_warc(path: str) -> tuple[list[Capture], Counter, str | None]:
    """The article responses of one WARC file, counts of the records passed over, and what
    is damaged in the file (the records around the damage are read)."""
    captures: list[Capture] = []
    skipped: Counter = Counter()
    problems: list[str] = []
    try:
        found = survey(path)
        problems += [str(stretch) for stretch in found.damage]
        for span in found.spans():
            records = ArchiveIterator(span)
            try:
                for record in records:
                    capture = _capture(records, record, path, skipped)
                    if capture is not None:
                        captures.append(capture)
            except Exception as exc:  # a whole gzip member warcio cannot parse: keep the rest
                problems.append(f"unreadable WARC record before offset {span.tell()} ({exc})")
    except OSError as exc:
        problems.append(f"cannot read it: {exc.strerror or exc}")
    problem = "; ".join(" ".join(line.split()) for line in problems) or None
    return captures, skipped, problem


def _capture(records: ArchiveIterator, record: Any, path: str, skipped: Counter) -> Capture | None:
    """The article response a record is, or None (counted in ``skipped`` by why)."""
    if record.rec_type in ("request", "warcinfo", "metadata"):
        return None  # the crawl's own records: not counted
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
    reason = _skip_reason(record, url)
    records.read_to_end(record)  # sets the record's offset and length
    if reason:
        skipped[reason] += 1
        return None
    return Capture(
        date=_warc_date(record.rec_headers.get_header("WARC-Date")),
        path=path,
        offset=records.get_record_offset(),
        length=records.get_record_length(),
        url=url,
        record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
        kind=Site.of(url).classify(url).value,
    )


# -- pass 2: extract -----------------------------------------------------------------------
def _read_body(handle: Any, capture: Capture) -> tuple[bytes, str | None]:
    """The response's payload, and the charset its Content-Type header declares."""
    handle.seek(capture.offset)
    record = next(iter(ArchiveIterator(handle)))
    body = record.content_stream().read()  # de-chunked, Content-Encoding decoded
    return body, charset_of(record.http_headers.get_header("Content-Type"))


def extract_batch(captures: list[Capture], text_root: str, spool: str) -> list[tuple]:
    """Extract each capture and spool the articles.

    Returns per capture (destination, method, flags, error, spool offset, spool length,
    suspect entry or None).
    """
    results = []
    handles: dict[str, Any] = {}
    with open(spool, "wb") as out:
        try:
            for capture in captures:
                try:
                    if capture.path not in handles:
                        handles[capture.path] = open(capture.path, "rb")  # noqa: SIM115
                    body, charset = _read_body(handles[capture.path], capture)
                    article = extract(body, capture.url, encoding=charset)
                except Exception as exc:  # one bad page must not stop the others
                    reason = str(exc).split("\n")[0] or type(exc).__name__
                    if not isinstance(exc, DcsError):
                        reason = f"{type(exc).__name__}: {reason}"
                    results.append((None, None, None, reason, 0, 0, None))
                    continue
                directory = article_dir(Path(text_root), article, capture.date)
                destination = str(directory / article.id)
                start = out.tell()
                pickle.dump(article, out, protocol=pickle.HIGHEST_PROTOCOL)
                length = out.tell() - start
                suspect = suspect_entry(article)
                results.append(
                    (destination, article.method, article.flags, None, start, length, suspect)
                )
        finally:
            for handle in handles.values():
                handle.close()
    return results


# -- pass 3: write -------------------------------------------------------------------------
def write_group(items: list[tuple[Capture, str, int, int]], text_root: str) -> list[str]:
    """Write one destination's captures, oldest first. Returns each write's status."""
    statuses = []
    for capture, spool, start, length in sorted(items, key=lambda item: item[0]):
        with open(spool, "rb") as handle:
            handle.seek(start)
            article = pickle.loads(handle.read(length))
        warc = _location(capture)
        written = write_article(
            article, Path(text_root), url=capture.url, fetched_at=capture.date, warc=warc
        )
        statuses.append(written.status)
    return statuses


def write_files(captures: list[Capture], text_root: str, linked: dict[str, str]) -> list[tuple]:
    """Each attached file's text and sidecar; per capture (flags, error or None)."""
    results = []
    for capture in captures:
        try:
            with open(capture.path, "rb") as handle:
                body, _charset = _read_body(handle, capture)
                handle.seek(capture.offset)
                record = next(iter(ArchiveIterator(handle)))
                content_type = record.http_headers.get_header("Content-Type") or ""
            canonical = Site.of(capture.url).canonical(capture.url)
            written = write_file_text(
                body, Path(text_root), url=capture.url, canonical=canonical,
                document=linked.get(canonical), content_type=content_type,
                fetched_at=capture.date, warc=_location(capture),
            )  # fmt: skip
            results.append((written.flags, None))
        except Exception as exc:  # one bad file must not stop the others
            results.append(
                ((), f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            )
    return results


def _location(capture: Capture) -> dict[str, Any]:
    return {
        "filename": os.path.basename(capture.path),
        "offset": capture.offset,
        "length": capture.length,
        "record_id": capture.record_id,
    }


def _write_groups(groups: list[list], text_root: str) -> list[list[str]]:
    return [write_group(items, text_root) for items in groups]


def _task_size(items: int, workers: int) -> int:
    return max(1, min(BATCH_SIZE, items // (workers * 4)))


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class _Runner:
    """map() over a process pool, or in this process for one worker; results in order."""

    def __init__(self, workers: int) -> None:
        self.pool = ProcessPoolExecutor(workers) if workers > 1 else None

    def map(self, function: Callable, *iterables: Iterable) -> Iterator:
        if self.pool is None:
            return map(function, *iterables)
        return self.pool.map(function, *iterables)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def reextract(
    inputs: list[Path], out_dir: Path, workers: int | None = None, progress: bool = True
) -> Summary:
    """Extract every article response in the WARC files (or folders of them) into out_dir.

    `out_dir` is the root of the text tree (an archive's `DIR/text`): files go to
    `out_dir/YYYY/MM/DD/<id>.txt` and `.json`. A scratch folder `out_dir/.reextract-*`
    holds the extracted articles between passes and is removed at the end.
    """
    warcs = find_warcs(inputs)
    if not warcs:
        raise ReextractError("no WARC files (*.warc.gz, *.warc) in the inputs")
    workers = max(1, workers or os.cpu_count() or 1)
    text_root = Path(out_dir)
    text_root.mkdir(parents=True, exist_ok=True)
    summary = Summary(warc_files=len(warcs))
    skipped: Counter = Counter()
    failed: Counter = Counter()
    scratch = tempfile.mkdtemp(prefix=".reextract-", dir=text_root)
    runner = _Runner(workers)

    def bar(total: int, desc: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit="page", disable=not progress, file=sys.stderr)

    try:
        captures: list[Capture] = []
        with tqdm(
            total=len(warcs), desc="index", unit="warc", disable=not progress, file=sys.stderr
        ) as b:
            for path, (found, passed, problem) in zip(
                warcs, runner.map(index_warc, [str(p) for p in warcs]), strict=True
            ):
                captures += found
                skipped.update(passed)
                if problem:
                    summary.damaged.append(f"{path}: {problem}")
                b.update()
        captures.sort()
        # A file's URL names one file: its latest capture is the one read.
        files = list({c.url: c for c in captures if c.kind == Kind.FILE.value}.values())
        captures = [c for c in captures if c.kind != Kind.FILE.value]
        summary.records = len(captures)

        batches = _chunks(captures, _task_size(len(captures), workers))
        spools = [os.path.join(scratch, f"{i:06d}.pickle") for i in range(len(batches))]
        destinations: dict[str, list] = {}
        with bar(len(captures), "extract") as b:
            results = runner.map(extract_batch, batches, [str(text_root)] * len(batches), spools)
            for batch, spool, outcome in zip(batches, spools, results, strict=True):
                for capture, (dest, method, flags, error, start, length, suspect) in zip(
                    batch, outcome, strict=True
                ):
                    if error is not None:
                        failed[error] += 1
                        summary.failures.append((capture.url, error))
                        continue
                    summary.generic += method == GENERIC
                    summary.no_body += "no-body" in flags
                    summary.suspect.add(suspect)
                    destinations.setdefault(dest, []).append((capture, spool, start, length))
                b.update(len(batch))

        groups = [destinations[key] for key in sorted(destinations)]
        with bar(sum(len(g) for g in groups), "write") as b:
            chunks = _chunks(groups, _task_size(len(groups), workers))
            for chunk, statuses in zip(
                chunks,
                runner.map(_write_groups, chunks, [str(text_root)] * len(chunks)),
                strict=True,
            ):
                for status in (s for group in statuses for s in group):
                    summary.articles += 1
                    setattr(summary, status, getattr(summary, status) + 1)
                b.update(sum(len(g) for g in chunk))

        linked = attached_to(text_root)
        with tqdm(total=len(files), desc="files", unit="file", disable=not progress or not files,
                  file=sys.stderr) as b:  # fmt: skip
            chunks = _chunks(files, max(1, len(files) // (workers * 2) or 1))
            for chunk, outcomes in zip(
                chunks,
                runner.map(
                    write_files, chunks, [str(text_root)] * len(chunks), [linked] * len(chunks)
                ),  # fmt: skip
                strict=True,
            ):
                for capture, (flags, error) in zip(chunk, outcomes, strict=True):
                    if error is not None:
                        failed[error] += 1
                        summary.failures.append((capture.url, error))
                        continue
                    summary.files += 1
                    if NO_TEXT_LAYER in flags:
                        summary.no_text_layer.append(capture.url)
                b.update(len(chunk))
    finally:
        runner.close()
        shutil.rmtree(scratch, ignore_errors=True)

    summary.failures.sort()
    summary.failed = dict(sorted(failed.items()))
    summary.skipped = dict(sorted(skipped.items()))
    return summary

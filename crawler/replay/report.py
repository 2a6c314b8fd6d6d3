"""What the replay tools did, as short lines for people at a terminal (`dcs index`, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `dcs index` need not import the export and show modules
    from crawler.replay.export import ExportResult
    from crawler.replay.index import IndexResult
    from crawler.replay.show import CaptureInfo


def index_summary(result: IndexResult) -> str:
    """One line: where the index is, how many captures, which WARC files were read."""
    files = len(result.indexed) + len(result.reused)
    done = f"{len(result.indexed)} read, {len(result.reused)} unchanged"
    if result.removed:
        done += f", {len(result.removed)} removed"
    return (
        f"Index {result.index_path}: {_count(result.entries, 'capture')} "
        f"from {_count(files, 'WARC file')} ({done})"
    )


def capture_lines(captures: list[CaptureInfo]) -> list[str]:
    """One aligned line per capture: timestamp, status, mime, digest, file:offset, URL.

    The timestamp is the one `replay show --at` takes; a revisit's mime is warc/revisit.
    """
    rows = [
        (
            c.timestamp,
            c.status or "-",
            c.mime or "-",
            c.digest or "-",
            f"{c.filename}:{c.offset}",
            c.url,
        )
        for c in captures
    ]
    # Every column but the last (the URL) padded to its widest value.
    widths = [max(len(row[i]) for row in rows) for i in range(5)] if rows else []
    return [
        "  ".join([*(value.ljust(w) for value, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in rows
    ]


def export_summary(result: ExportResult) -> str:
    """One line: the WACZ written, its size and what it holds."""
    return (
        f"Wrote {result.path} ({result.bytes:,} bytes): {_count(len(result.warcs), 'WARC file')}, "
        f"{_count(result.index_lines, 'capture')}{'' if result.zipnum else ' (plain index)'}, "
        f"{_count(result.pages, 'page')} "
        f"({result.pages_with_text} with text)"
    )


def damage_lines(problems: list[str], consequence: str) -> list[str]:
    """One `dcs: error:` line per damaged WARC file ("NAME: bytes A-B (why)"), saying what
    became of it."""
    return [f"dcs: error: damaged WARC file {problem}; {consequence}" for problem in problems]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"

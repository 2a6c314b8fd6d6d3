"""Figures the text-quality tests measure, shown in pytest's terminal summary (without -s)."""

from __future__ import annotations

LINES: list[str] = []


def record(line: str) -> None:
    """Keep a line for the summary (and print it, for -s runs)."""
    LINES.append(line)
    print(line)

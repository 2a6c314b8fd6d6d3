"""Read the JSON sidecars of the text files (DIR/text/YYYY/MM/DD/<id>.json) for replay tools.

A sidecar describes the current text (`<id>.txt`) and, under `versions`, every text the
article has had with the capture it came from (older ones kept as `<id>.<stamp>.txt`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crawler.layout import Layout, sidecar_globs


@dataclass(frozen=True)
class TextVersion:
    """One text of an article and the capture it came from (the sidecar's `versions`)."""

    text_path: Path | None  # None when the text was not kept
    warc: dict  # filename, offset, length, record_id of the response record
    fetched_at: str | None = None
    sha1: str | None = None  # of the text file

    @property
    def location(self) -> tuple[str | None, int | None]:
        """(WARC file name, offset) of the capture, to match against an index line."""
        return self.warc.get("filename"), _int(self.warc.get("offset"))


@dataclass(frozen=True)
class Sidecar:
    """One sidecar (DIR/text/YYYY/MM/DD/<id>.json) and the texts beside it."""

    path: Path
    url: str
    canonical_url: str
    title: str | None = None
    published: str | None = None
    warc: dict = field(default_factory=dict)  # filename, offset, length, record_id
    versions: tuple[TextVersion, ...] = ()  # oldest first; the last is the current text

    @property
    def text_path(self) -> Path:
        return self.path.with_suffix(".txt")


def iter_sidecars(out_dir: str | os.PathLike, article_id: str | None = None) -> Iterator[Sidecar]:
    """Every readable sidecar under DIR/text (only those of one article ID, if given)."""
    root = Layout.of(out_dir).text_dir
    if not root.is_dir():
        return
    if article_id is None:
        paths = root.rglob("*.json")
    else:
        # DIR/text/YYYY/MM/DD/<id>.json, DIR/text/en/YYYY/MM/DD/<id>.json… (older texts are
        # listed inside it, not beside it).
        pattern = glob_escape(article_id)
        paths = [path for glob in sidecar_globs(pattern) for path in root.glob(glob)]
    for path in sorted(paths):
        sidecar = read_sidecar(path)
        if sidecar is not None:
            yield sidecar


def read_sidecar(path: Path) -> Sidecar | None:
    """A sidecar, or None if the file is not one (unreadable, not JSON, no URL)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    warc = data.get("warc") if isinstance(data.get("warc"), dict) else {}
    versions = []
    for entry in data.get("versions") or []:
        if not isinstance(entry, dict):
            continue
        name = entry.get("file")
        versions.append(
            TextVersion(
                text_path=path.parent / name if isinstance(name, str) and name else None,
                warc=entry.get("warc") if isinstance(entry.get("warc"), dict) else {},
                fetched_at=entry.get("fetched_at"),
                sha1=entry.get("sha1"),
            )
        )
    if not versions:  # a sidecar without history: its one text is the current one
        versions.append(
            TextVersion(path.with_suffix(".txt"), warc, data.get("fetched_at"), data.get("sha1"))
        )
    return Sidecar(
        path=path,
        url=data["url"],
        canonical_url=data.get("canonical_url") or data["url"],
        title=data.get("title"),
        published=data.get("published"),
        warc=warc,
        versions=tuple(versions),
    )


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None

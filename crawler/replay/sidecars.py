"""Read the JSON sidecars of the text files (DIR/text/YYYY/MM/DD/<id>.json) for replay tools."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TEXT_DIR = "text"


@dataclass(frozen=True)
class Sidecar:
    """One sidecar and the text file beside it."""

    path: Path
    url: str
    canonical_url: str
    title: str | None = None
    published: str | None = None
    warc: dict = field(default_factory=dict)  # filename, offset, length, record_id

    @property
    def text_path(self) -> Path:
        return self.path.with_suffix(".txt")

    @property
    def stem_id(self) -> str:
        """The article ID the file is named after (a version suffix, if any, removed)."""
        return re.split(r"[^0-9A-Za-z_]", self.path.stem, maxsplit=1)[0]


def iter_sidecars(out_dir: str | os.PathLike, article_id: str | None = None) -> Iterator[Sidecar]:
    """Every readable sidecar under DIR/text (only those of one article ID, if given)."""
    root = Path(out_dir) / TEXT_DIR
    if not root.is_dir():
        return
    if article_id is None:
        paths = root.rglob("*.json")
    else:
        # DIR/text/YYYY/MM/DD/<id>.json, and any kept versions named <id><sep>...json.
        paths = (
            p
            for p in root.glob(f"*/*/*/{glob_escape(article_id)}*.json")
            if re.fullmatch(re.escape(article_id) + r"(?:[^0-9A-Za-z].*)?", p.stem)
        )
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
    return Sidecar(
        path=path,
        url=data["url"],
        canonical_url=data.get("canonical_url") or data["url"],
        title=data.get("title"),
        published=data.get("published"),
        warc=warc,
    )


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)

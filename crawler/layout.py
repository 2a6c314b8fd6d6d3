"""Where an archive folder keeps its files: the one owner of that knowledge.

An archive folder (``--out``, setting ``OUT_DIR``) holds the state store, the CDXJ index,
crawl reports, logs and the lock; its WARC and text files live in ``warc/`` and ``text/``
unless the settings ``WARC_DIR`` or ``TEXT_DIR`` put them elsewhere. A crawl records where
they went in ``layout.json`` at the folder's top, so that every later command given only the
folder (index, replay, export, extract, demo) finds them again. Paths inside the folder are
recorded relative to it, so an archive that is moved or copied whole still reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from crawler.errors import DcsError
from crawler.files import atomic_write
from crawler.site import MAIN, PROFILES

DEFAULT_OUT_DIR = "archive"
LAYOUT_FILE = "layout.json"
WARC_SUFFIXES = (".warc.gz", ".warc")


@dataclass(frozen=True)
class Layout:
    root: Path
    warc_dir: Path
    text_dir: Path

    @classmethod
    def of(cls, out_dir: str | os.PathLike[str]) -> Layout:
        """The layout of an existing archive folder, as its crawls recorded it."""
        root = Path(out_dir)
        recorded = root / LAYOUT_FILE
        try:
            data = json.loads(recorded.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):  # no folder yet, or no file: defaults
            data = {}
        except (OSError, ValueError) as exc:
            raise DcsError(f"cannot read {recorded}: {exc}") from None
        entries = {"warc_dir": "warc", "text_dir": "text"}
        if not isinstance(data, dict) or not all(isinstance(data.get(k, ""), str) for k in entries):
            raise DcsError(f"{recorded} is not a dcs layout file")
        entries.update(data)
        # Recorded paths are relative to the folder (absolute ones stay as they are).
        return cls(root, root / entries["warc_dir"], root / entries["text_dir"])

    @classmethod
    def from_settings(cls, settings) -> Layout:
        """The layout a crawl with these Scrapy settings writes: the folder's recorded one,
        with WARC_DIR and TEXT_DIR where they are set."""
        # A relative WARC_DIR or TEXT_DIR is relative to where the crawl runs, as any path
        # given on a command line.
        recorded = cls.of(settings.get("OUT_DIR") or DEFAULT_OUT_DIR)
        warc_dir, text_dir = settings.get("WARC_DIR"), settings.get("TEXT_DIR")
        return cls(
            root=recorded.root,
            warc_dir=Path(warc_dir) if warc_dir else recorded.warc_dir,
            text_dir=Path(text_dir) if text_dir else recorded.text_dir,
        )

    # -- the fixed parts of the folder ------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "state.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def search_index(self) -> Path:
        """The full-text search index of the text files (`dcs search`): derived data."""
        return self.index_dir / "search.sqlite3"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def spool_dir(self) -> Path:
        """Bodies on their way to the WARC files (crawler.spool): removed once written."""
        return self.root / "spool"

    @property
    def lock_file(self) -> Path:
        return self.root / "dcs.lock"

    @property
    def members_file(self) -> Path:
        """The archive folders a collection folder gathers (crawler.collection)."""
        return self.root / "members.json"

    # -- WARC files -------------------------------------------------------------------------
    def warc_files(self) -> list[Path]:
        """The finished WARC files, by name (``.open`` ones are still being written)."""
        if not self.warc_dir.is_dir():
            return []
        return sorted(
            p for p in self.warc_dir.iterdir() if p.is_file() and p.name.endswith(WARC_SUFFIXES)
        )

    def warc_path(self, filename: str) -> Path:
        """Where the WARC file an index line or sidecar names lies."""
        return self.warc_dir / Path(filename).name

    def shown(self, path: Path) -> str:
        """A path as reports show it: relative to the folder when inside it."""
        return _relative(self.root, path)

    # -- recording --------------------------------------------------------------------------
    def record(self) -> None:
        """Write ``layout.json`` where WARC or text files live outside their default place
        (no file means the default layout)."""
        entries = {
            name: _relative(self.root, path)
            for name, path in (("warc_dir", self.warc_dir), ("text_dir", self.text_dir))
            if path.absolute() != (self.root / name.removesuffix("_dir")).absolute()
        }
        target = self.root / LAYOUT_FILE
        if not entries:
            target.unlink(missing_ok=True)
            return
        content = json.dumps(entries, indent=2, sort_keys=True) + "\n"
        if target.exists() and target.read_text(encoding="utf-8") == content:
            return
        atomic_write(target, content.encode("utf-8"))


def _relative(root: Path, path: Path) -> str:
    absolute, base = path.absolute(), root.absolute()
    return str(absolute.relative_to(base)) if absolute.is_relative_to(base) else str(absolute)


def sidecar_globs(article_id: str) -> list[str]:
    """Where an article ID's sidecar may lie under the text folder, one glob pattern per site
    (crawler.extract.output.article_dir): the newspaper's `YYYY/MM/DD/<id>.json`, an
    edition's `en/YYYY/MM/DD/<id>.json`, the documents portal's `documents/<id>.json`.
    ``article_id`` is a glob: escape it first."""
    globs = [f"*/*/*/{article_id}.json"]
    for profile in PROFILES.values():
        if profile is not MAIN:
            dated = "" if profile.documents else "*/*/*/"
            globs.append(f"{profile.name}/{dated}{article_id}.json")
    return globs

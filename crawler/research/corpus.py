"""The text folder as a corpus: every article with every version of its text, read lazily.

A crawl writes `TEXT/YYYY/MM/DD/<id>.txt` (the current text), `<id>.json` (its sidecar, whose
`versions` list every text the article has had, oldest first) and `<id>.<stamp>.txt` (each
earlier text, the stamp being its fetch time in UTC). The research tools read the folder
through this module only. It walks the folder in order, one day folder at a time, so memory
stays flat at any size; it needs nothing but those files (no WARC, no state), and copes with
texts whose sidecar is gone (dated by their folder, titled by their first line).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from crawler.errors import DcsError
from crawler.extract.dates import VIETNAM, parse_iso
from crawler.replay.sidecars import glob_escape
from crawler.site import PROFILES, Site

# `<id>.txt`, `<id>.<YYYYmmddHHMMSS>.txt`, `<id>.<stamp>-2.txt` (two texts in one second)
_TEXT_NAME = re.compile(r"^(?P<id>.+?)(?:\.(?P<stamp>\d{14})(?:-\d+)?)?\.txt$")
_DAY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})$")
LEAD_PREFIX = "(ĐCSVN)"


@dataclass(frozen=True)
class TextParts:
    """A text file split as `render_text` wrote it: title, lead, related links, body."""

    title: str
    lead: str
    related: tuple[str, ...]  # the titles of the related links, without their "- "
    body: tuple[str, ...]  # paragraphs

    @property
    def sections(self) -> dict[str, tuple[str, ...]]:
        return {
            "title": (self.title,) if self.title else (),
            "lead": (self.lead,) if self.lead else (),
            "related": self.related,
            "body": self.body,
        }


def parse_text(text: str, *, lead: bool | None = None) -> TextParts:
    """Split a text file into its parts. `lead` says whether the article has a lead, when
    known (its sidecar has one); else line 2 is the lead unless it is a related link."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return TextParts("", "", (), ())
    rest = lines[1:]
    has_lead = bool(rest) and (
        lead
        if lead is not None
        else rest[0].startswith(LEAD_PREFIX) or not rest[0].startswith("- ")
    )
    lead_line = rest.pop(0) if has_lead else ""
    related = []
    while rest and rest[0].startswith("- "):
        related.append(rest.pop(0)[2:])
    return TextParts(lines[0], lead_line, tuple(related), tuple(rest))


@dataclass(frozen=True)
class Version:
    """One text an article has had."""

    number: int  # 1 for the first text
    path: Path | None  # None when the text was not kept
    sha1: str | None
    fetched_at: str | None  # when it was captured (UTC, ISO 8601)
    warc: dict[str, Any] = field(default_factory=dict)  # where its response record lies
    current: bool = False

    @property
    def stamp(self) -> str:
        """YYYYmmddHHMMSS (UTC), as in WARC and CDXJ timestamps and `<id>.<stamp>.txt`."""
        moment = parse_time(self.fetched_at)
        return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S") if moment else ""

    def read(self) -> str | None:
        """The text, or None if it is gone."""
        if self.path is None:
            return None
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Article:
    """One article of the text folder: its sidecar (if any) and every version of its text."""

    key: str  # where it lies under the text folder: "2019/08/10/531379"
    id: str
    meta: dict[str, Any]  # the sidecar; {} when there is none
    versions: tuple[Version, ...]  # oldest first

    @property
    def url(self) -> str:
        return self.meta.get("url") or ""

    @property
    def site(self) -> str:
        """Which site of dangcongsan.vn it is from (crawler.site.PROFILES)."""
        return site_of(self.key)

    @property
    def language(self) -> str:
        return self.meta.get("language") or PROFILES[self.site].language

    @property
    def live_url(self) -> str:
        """The URL on the live site (an archive made from a mirror files it so too), as
        `dcs replay` takes it."""
        return Site.of(self.url).canonical(self.url) if self.url else ""

    @property
    def canonical_url(self) -> str:
        return self.meta.get("canonical_url") or self.url

    @property
    def title(self) -> str:
        return self.meta.get("title") or ""

    @property
    def has_lead(self) -> bool | None:
        return bool(self.meta.get("lead")) if self.meta else None

    @property
    def published(self) -> datetime | None:
        """When it was published; else when it was first fetched; else its folder's day."""
        for value in (
            self.meta.get("published"),
            self.versions[0].fetched_at if self.versions else None,
        ):
            moment = parse_time(value)
            if moment is not None:
                return moment
        day = _DAY.match(self.key.rsplit("/", 1)[0])
        if day:
            y, m, d = (int(g) for g in day.groups())
            return datetime.combine(datetime(y, m, d).date(), time(), VIETNAM)
        return None

    def version_parts(self, version: Version) -> TextParts | None:
        text = version.read()
        if text is not None and self.meta.get("kind") == "file":  # a PDF's text: all body
            return TextParts(self.title, "", (), tuple(text.split("\n")))
        return None if text is None else parse_text(text, lead=self.has_lead)


def site_of(key: str) -> str:
    """The site of an article by where it lies: the newspaper's in day folders at the top of
    the text folder, every other site's under a folder of its name (`en/2026/…`,
    `documents/…`; see crawler.extract.output.article_dir)."""
    first = key.split("/", 1)[0]
    return first if first in PROFILES else "main"


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from a sidecar, aware (a bare date is that day in Vietnam), or None."""
    return parse_iso(value) if isinstance(value, str) else None


# -- walking the folder ------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """The files of one article in one folder, not yet read."""

    folder: Path
    key: str
    id: str
    names: tuple[str, ...]

    def signature(self) -> str:
        """Changes when any of the files changes (name, size, modification time)."""
        parts = []
        for name in self.names:
            try:
                st = (self.folder / name).stat()
            except OSError:
                continue
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()


def folders(text_dir: Path) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of every folder under the text folder, in order."""
    if not text_dir.is_dir():
        return
    for root, dirs, _files in os.walk(text_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = Path(root).relative_to(text_dir).as_posix()
        if relative != ".":
            yield relative, Path(root)


def groups_in(text_dir: Path, folder: Path) -> list[Group]:
    """The articles of one folder, by ID."""
    names: dict[str, list[str]] = {}
    try:
        entries = sorted(e.name for e in os.scandir(folder) if e.is_file())
    except OSError:
        return []
    for name in entries:
        if name.startswith("."):  # a temporary file of an atomic write
            continue
        if name.endswith(".json"):
            ident = name[: -len(".json")]
        else:
            match = _TEXT_NAME.match(name)
            if not match:
                continue
            ident = match["id"]
        names.setdefault(ident, []).append(name)
    relative = folder.relative_to(text_dir).as_posix()
    return [
        Group(folder, f"{relative}/{ident}", ident, tuple(group)) for ident, group in names.items()
    ]


def read_group(group: Group) -> Article:
    """The article a group of files makes: the sidecar's versions, and any text file the
    sidecar does not list (an article whose sidecar is gone is made of its texts alone)."""
    meta = (
        _read_json(group.folder / f"{group.id}.json") if f"{group.id}.json" in group.names else {}
    )
    texts = [n for n in group.names if n.endswith(".txt")]
    current = f"{group.id}.txt"
    listed: list[dict[str, Any]] = [v for v in meta.get("versions") or [] if isinstance(v, dict)]
    if meta and not listed:  # a sidecar without history: its one text is the current one
        listed = [{k: meta.get(k) for k in ("fetched_at", "sha1", "warc")} | {"file": current}]
    entries = []
    named = {v.get("file") for v in listed}
    for name in sorted(n for n in texts if n not in named and n != current):
        stamp = _TEXT_NAME.match(name)["stamp"]  # type: ignore[index]
        entries.append({"file": name, "fetched_at": _from_stamp(stamp) if stamp else None})
    entries += listed
    if current in texts and current not in named:
        entries.append({"file": current, "fetched_at": meta.get("fetched_at")})
    versions = []
    for number, entry in enumerate(entries, 1):
        name = entry.get("file")
        path = group.folder / name if isinstance(name, str) and name in texts else None
        warc = entry.get("warc")
        versions.append(
            Version(
                number=number,
                path=path,
                sha1=entry.get("sha1") if isinstance(entry.get("sha1"), str) else None,
                fetched_at=entry.get("fetched_at")
                if isinstance(entry.get("fetched_at"), str)
                else None,
                warc=warc if isinstance(warc, dict) else {},
                current=name == current,
            )
        )
    return Article(group.key, group.id, meta, tuple(versions))


def iter_articles(text_dir: Path) -> Iterator[Article]:
    """Every article of the text folder, folder by folder, in order."""
    for _relative, folder in folders(text_dir):
        for group in groups_in(text_dir, folder):
            yield read_group(group)


def find_articles(text_dir: Path, article_id: str) -> list[Article]:
    """The articles of one ID (usually one; an article re-dated by an edit has two folders)."""
    found = []
    for path in sorted(text_dir.glob(f"*/*/*/{glob_escape(article_id)}.*")):
        if path.name in (f"{article_id}.json", f"{article_id}.txt"):
            group = next((g for g in groups_in(text_dir, path.parent) if g.id == article_id), None)
            if group and all(a.key != group.key for a in found):
                found.append(read_group(group))
    return found


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _from_stamp(stamp: str) -> str:
    return (
        datetime.strptime(stamp, "%Y%m%d%H%M%S")
        .replace(tzinfo=UTC)
        .isoformat()
        .replace("+00:00", "Z")
    )


def find_article(text_dir: Path, target: str) -> Article:
    """The article an ID (`531379`, `p2354fe4ab58f`) or any URL of it names."""
    target = target.strip()
    if not target:
        raise DcsError("give an article ID or URL")
    ident = target
    if "/" in target:
        from crawler.extract.extractor import stable_id  # trafilatura: slow to import

        url = target if "://" in target else f"https://{target}"
        ident = stable_id(url, url)
    found = find_articles(text_dir, ident)
    if not found:
        raise DcsError(f"no article {target} in {text_dir}")
    # An edit that moved the publication date leaves the article in two day folders.
    return max(found, key=lambda a: a.versions[-1].fetched_at or "" if a.versions else "")


def pick_version(article: Article, stamp: str | None, *, default: int) -> Version:
    """The version in force at a time (`YYYYmmddHHMMSS` or a prefix of it: `20261128` is the
    end of that day), or versions[default] when no time is given."""
    if stamp is None:
        return article.versions[default]
    if not re.fullmatch(r"\d{4,14}", stamp):
        raise DcsError(f"expected a time as YYYYmmddHHMMSS (or a prefix of it), got {stamp!r}")
    end = stamp.ljust(14, "9")
    earlier = [v for v in article.versions if v.stamp and v.stamp <= end]
    if not earlier:
        known = ", ".join(v.stamp for v in article.versions)
        raise DcsError(f"article {article.id} had no text yet at {stamp} (versions: {known})")
    return earlier[-1]

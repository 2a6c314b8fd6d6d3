"""Several archive folders read as one collection: the nodes of a cluster crawl.

Each node of a cluster crawl writes its own output folder (its WARC and text files, named
after the node). A collection folder gathers them: its ``warc/`` and ``text/`` hold links to
every finished WARC file and every text file of its member folders, so that `dcs index`,
`replay`, `export` and `search` read it as they read one crawl's folder, with nothing copied.
The members are remembered (crawler.layout's ``members.json``) and gathered again before each
command, so the collection follows the nodes as they crawl on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from crawler.errors import DcsError
from crawler.files import atomic_write
from crawler.layout import Layout


@dataclass(frozen=True)
class Gathered:
    members: int
    linked: int  # links made by this gathering
    left_out: int  # text files another member already gave the collection


def members(collection: Path) -> list[Path]:
    """The member folders recorded for a collection folder (none: an ordinary folder)."""
    path = Layout.of(collection).members_file
    try:
        return [Path(p) for p in json.loads(path.read_text(encoding="utf-8"))]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError) as exc:
        raise DcsError(f"cannot read {path}: {exc}") from None


def gather(collection: Path, new_members: list[Path] = ()) -> Gathered | None:
    """Record ``new_members`` in the collection folder, then link the files of all its
    members into it. None when the folder is no collection (no members, none given)."""
    layout = Layout.of(collection)
    known = members(collection)
    for member in new_members:
        member = member.absolute()
        if not member.is_dir():
            raise DcsError(f"--member {member}: no such archive folder")
        if member == collection.absolute():
            raise DcsError(f"--member {member}: the collection cannot be its own member")
        if member not in known:
            known.append(member)
    if not known:
        return None
    layout.root.mkdir(parents=True, exist_ok=True)
    if new_members:
        content = json.dumps([str(m) for m in known], indent=2) + "\n"
        atomic_write(layout.members_file, content.encode("utf-8"))
    linked = left_out = 0
    for member in known:
        source = Layout.of(member)
        for warc in source.warc_files():
            linked += _link(warc, layout.warc_dir / warc.name, strict=True)
        for text in _files(source.text_dir):
            link = layout.text_dir / text.relative_to(source.text_dir)
            made = _link(text, link, strict=False)
            linked += made
            left_out += not made and not _same(text, link)
    _unlink_broken(layout.warc_dir)
    _unlink_broken(layout.text_dir)
    return Gathered(len(known), linked, left_out)


def _files(root: Path):
    if not root.is_dir():
        return
    for folder, _dirs, names in os.walk(root):
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(folder) / name


def _link(target: Path, link: Path, *, strict: bool) -> int:
    """1 if a link to ``target`` was made at ``link``; 0 if it is there already, or if
    another file is (``strict``: an error, two WARC files of one name)."""
    if link.is_symlink() or link.exists():
        if _same(target, link) or not strict:
            return 0
        raise DcsError(f"two member folders hold a WARC file named {link.name}: {target}")
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target.absolute(), link)
    return 1


def _same(target: Path, link: Path) -> bool:
    return link.is_symlink() and Path(os.readlink(link)) == target.absolute()


def _unlink_broken(root: Path) -> None:
    """Links whose member file is gone (moved to quarantine by a repair, say)."""
    for path in _files(root):
        if path.is_symlink() and not path.exists():
            path.unlink()

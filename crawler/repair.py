"""`dcs verify --repair`: acting on what the fixity check found, deleting nothing.

- A damaged WARC file moves to ``DIR/quarantine/warc/``; in its place goes a copy of its
  whole records, byte for byte, without the damaged stretches. Records after a stretch move
  up, so the state's and the sidecars' pointers into the file are moved with them.
- A damaged text file or sidecar, and a damaged state store, move to ``DIR/quarantine/``.
- Every lost capture is queued for the next crawl, its state row cleared so that the URL
  counts as never fetched: it is fetched again in full and its text written anew. (With the
  state store quarantined, the next crawl is a full one.)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.state import CrawlState
from crawler.verify import Fixity, WarcCheck
from crawler.warc.gzip_members import Survey

QUARANTINE = "quarantine"


def repair(fixity: Fixity) -> list[str]:
    """Quarantine, salvage and re-queue what ``fixity`` found; one line per thing done.
    The caller holds the archive folder's lock."""
    layout = Layout.of(fixity.out_dir)
    try:
        return _repair(layout, fixity)
    except OSError as exc:
        where = exc.filename or layout.root
        raise DcsError(f"cannot repair {where}: {exc.strerror or exc}") from None


def _repair(layout: Layout, fixity: Fixity) -> list[str]:
    lines = []
    if fixity.state_problem is not None:
        shown = [quarantine(layout, path) for path in _state_files(layout)]
        lines.append(f"quarantined the state store to {shown[0]}: the next crawl is a full one")
        state = None
    else:
        state = CrawlState.open(layout.root) if layout.state_file.exists() else None

    try:
        moved: dict[str, Survey] = {}
        for check in fixity.damaged_warcs:
            lines.append(salvage(layout, check))
            moved[check.path.name] = check.survey
        for path in fixity.bad_texts:
            if path.exists():
                lines.append(f"quarantined {quarantine(layout, path)}")
        if state is not None:
            for lost in fixity.lost:  # first: their pointers name records that are gone
                state.enqueue(lost.url, lost.fetch_url, lost.kind)
                state.forget(lost.url)
            for name, cut in moved.items():
                state.relocate(name, cut.moved)
            if fixity.lost:
                lines.append(
                    f"re-queued {len(fixity.lost)} lost capture(s): the next crawl fetches them"
                )
        moved_sidecars = _relocate_sidecars(layout, moved)
        if moved_sidecars:
            lines.append(f"moved the WARC pointers of {moved_sidecars} sidecar(s)")
    finally:
        if state is not None:
            state.close()
    return lines


def salvage(layout: Layout, check: WarcCheck) -> str:
    """Put a copy of a damaged WARC file's whole records in its place; quarantine it."""
    path, cut = check.path, check.survey
    kept = sum(end - start for start, end in cut.intact)
    copy = path.with_name(f".{path.name}.salvaged")
    if kept:
        with open(copy, "wb") as out:
            for span in cut.spans():
                shutil.copyfileobj(span, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
    shown = quarantine(layout, path)
    if not kept:
        return f"quarantined {shown}: nothing in it was whole"
    os.replace(copy, path)
    return (
        f"salvaged {layout.shown(path)}: its whole records kept, "
        f"{check.size - kept:,} damaged bytes cut out; the original is in {shown}"
    )


def quarantine(layout: Layout, path: Path) -> str:
    """Move a file under DIR/quarantine/ (keeping its place in the folder); return where."""
    relative = Path(layout.shown(path))
    if relative.is_absolute():  # a WARC_DIR or TEXT_DIR outside the folder
        relative = Path(relative.parent.name) / relative.name
    target = layout.root / QUARANTINE / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while target.exists():  # quarantined before: keep both
        n += 1
        target = target.with_name(f"{relative.name}.{n}")
    shutil.move(path, target)
    return layout.shown(target)


def _relocate_sidecars(layout: Layout, moved: dict[str, Survey]) -> int:
    """Move the WARC pointers of the sidecars into salvaged files; returns how many changed."""
    from crawler.extract.output import atomic_write, dumps  # the sidecars' own writer

    if not moved or not layout.text_dir.is_dir():
        return 0
    changed = 0
    for path in sorted(layout.text_dir.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # an unreadable sidecar was quarantined or reported
        if not isinstance(data, dict):
            continue
        pointers = [data.get("warc")] + [v.get("warc") for v in data.get("versions") or []]
        touched = False
        for warc in pointers:
            if isinstance(warc, dict) and warc.get("filename") in moved:
                new = moved[warc["filename"]].moved(int(warc.get("offset") or 0))
                if new is not None and new != warc.get("offset"):
                    warc["offset"] = new
                    touched = True
        if touched:
            atomic_write(path, dumps(data).encode("utf-8"))
            changed += 1
    return changed


def _state_files(layout: Layout) -> list[Path]:
    state = layout.state_file
    candidates = [state, state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")]
    return [path for path in candidates if path.exists()]

"""`dcs verify`: a fixity check of an archive folder, the way digital-preservation tools make
one: every WARC record against its own digests (WARC-Block-Digest, WARC-Payload-Digest),
every text file against the SHA-1 its sidecar records, every row of the state store against
the records and the text file it points to.

What it finds is *damaged* (bytes that changed), *missing* (a file gone) or *lost* (a URL
the state counts as archived whose capture or text cannot be given back: no later crawl
would fetch it again). ``crawler.repair`` acts on the result. Records seen are kept in a
scratch SQLite file, not in memory, so that an archive of millions of records checks in
flat memory.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm
from warcio.archiveiterator import ArchiveIterator

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.replay.sidecars import read_sidecar
from crawler.state import CrawlState, Pointers, StateError, StateLockedError
from crawler.warc.gzip_members import Damage, Survey, survey
from crawler.warc.writer import OPEN_SUFFIX

DAMAGED, MISSING, LOST = "damaged", "missing", "lost"


@dataclass(frozen=True)
class Finding:
    """One thing wrong, as a line: ``damaged: warc/NAME: bytes 10-99 (why)``."""

    kind: str  # DAMAGED, MISSING or LOST
    where: str  # a path relative to the archive folder, or a URL
    why: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.why}"


@dataclass(frozen=True)
class LostCapture:
    """A URL whose capture or text is lost, and how to fetch it again."""

    url: str  # canonical, the state's key
    kind: str
    fetch_url: str  # what it was archived as
    why: str


@dataclass
class WarcCheck:
    """One WARC file: its damaged stretches and the whole records whose digests fail."""

    path: Path
    size: int
    damage: list[Damage] = field(default_factory=list)
    records: int = 0  # whole records read

    @property
    def survey(self) -> Survey:
        """The file with everything damaged in it as stretches to cut out."""
        return Survey(self.path, self.size, tuple(sorted(self.damage, key=lambda d: d.offset)))


@dataclass
class Fixity:
    """What `verify` found in an archive folder."""

    out_dir: Path
    warcs: list[WarcCheck] = field(default_factory=list)
    open_warcs: list[str] = field(default_factory=list)  # being written, or left by a crash
    texts: int = 0  # text files checked
    rows: int = 0  # state rows checked
    findings: list[Finding] = field(default_factory=list)
    bad_texts: list[Path] = field(default_factory=list)  # damaged texts, unreadable sidecars
    lost: list[LostCapture] = field(default_factory=list)
    state_problem: str | None = None  # the state store itself is damaged

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def damaged_warcs(self) -> list[WarcCheck]:
        return [check for check in self.warcs if check.damage]

    def summary(self) -> str:
        records = sum(check.records for check in self.warcs)
        size = sum(check.size for check in self.warcs)
        checked = (
            f"Verified {_count(len(self.warcs), 'WARC file')} ({_count(records, 'record')}, "
            f"{size / 1e6:.1f} MB), {_count(self.texts, 'text file')}, "
            f"{_count(self.rows, 'state row')}"
        )
        if self.ok:
            found = "all intact"
        else:
            counts = {kind: 0 for kind in (DAMAGED, MISSING)}
            for finding in self.findings:
                counts[finding.kind] = counts.get(finding.kind, 0) + 1
            found = (
                f"{counts[DAMAGED]} damaged, {counts[MISSING]} missing, "
                f"{_count(len(self.lost), 'lost capture')}"
            )
        note = ""
        if self.open_warcs:
            note = (
                f"; {_count(len(self.open_warcs), 'WARC file')} still open (being written, or "
                "left by a crash: the next crawl recovers it) not checked"
            )
        return f"{checked}: {found}{note}."


def verify(out_dir: str | os.PathLike[str], *, progress: bool = False) -> Fixity:
    """Check every WARC record, text file and state row of an archive folder."""
    out = Path(out_dir)
    if not out.is_dir():
        raise DcsError(f"archive folder {out} does not exist")
    layout = Layout.of(out)
    fixity = Fixity(out)
    seen = sqlite3.connect("")  # a private scratch database, on disk, gone when closed
    try:
        seen.execute(
            "CREATE TABLE records (filename TEXT, offset INTEGER, record_id TEXT, ok INTEGER,"
            " PRIMARY KEY (filename, offset))"
        )
        seen.execute("CREATE TABLE texts (path TEXT PRIMARY KEY, ok INTEGER)")
        _check_warcs(layout, fixity, seen, progress)
        _check_texts(layout, fixity, seen, progress)
        _check_state(layout, fixity, seen, progress)
    except OSError as exc:
        where = exc.filename or out
        raise DcsError(f"cannot read {where}: {exc.strerror or exc}") from None
    finally:
        seen.close()
    return fixity


# -- WARC records ------------------------------------------------------------------------------
def _check_warcs(layout: Layout, fixity: Fixity, seen: sqlite3.Connection, progress: bool) -> None:
    files = layout.warc_files()
    if layout.warc_dir.is_dir():
        fixity.open_warcs = sorted(p.name for p in layout.warc_dir.glob(f"*{OPEN_SUFFIX}"))
    total = sum(path.stat().st_size for path in files)
    with _bar(progress, "WARC", total, unit="B", unit_scale=True) as bar:
        for path in files:
            check = _check_warc(path, seen)
            fixity.warcs.append(check)
            shown = layout.shown(path)
            fixity.findings += [Finding(DAMAGED, shown, str(stretch)) for stretch in check.damage]
            bar.update(check.size)
    seen.commit()


def _check_warc(path: Path, seen: sqlite3.Connection) -> WarcCheck:
    found = survey(path)
    check = WarcCheck(path, found.size, list(found.damage))
    for span in found.spans():
        end = span.tell()
        records = ArchiveIterator(span, check_digests=True)
        try:
            for record in records:
                records.read_to_end(record)
                offset, length = records.get_record_offset(), records.get_record_length()
                end = offset + length
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                problems = list(record.digest_checker.problems)
                if record.digest_checker.passed is False:
                    why = "; ".join(problems) or "a digest does not match"
                    check.damage.append(Damage(offset, length, f"record {record_id}: {why}"))
                seen.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                    (path.name, offset, record_id, record.digest_checker.passed is not False),
                )
                check.records += 1
        except Exception as exc:  # a whole gzip member warcio cannot parse: the rest of the run
            stop = span.tell() if span.tell() > end else found.size
            why = " ".join(f"unreadable WARC record ({type(exc).__name__}: {exc})".split())
            check.damage.append(Damage(end, max(1, stop - end), why))
    return check


# -- text files --------------------------------------------------------------------------------
def _check_texts(layout: Layout, fixity: Fixity, seen: sqlite3.Connection, progress: bool) -> None:
    sidecars = sorted(layout.text_dir.rglob("*.json")) if layout.text_dir.is_dir() else []
    with _bar(progress, "texts", len(sidecars), unit="file") as bar:
        for path in sidecars:
            sidecar = read_sidecar(path)
            if sidecar is None:  # its text cannot be checked: both go, the text comes again
                fixity.findings.append(Finding(DAMAGED, layout.shown(path), "not a sidecar"))
                text = path.with_suffix(".txt")
                fixity.bad_texts += [path, text] if text.exists() else [path]
                _note_text(seen, text, ok=False)
                bar.update()
                continue
            for version in sidecar.versions:
                if version.text_path is None or not version.sha1:
                    continue  # not kept, or nothing to check it against
                fixity.texts += 1
                why = _text_problem(version.text_path, version.sha1)
                if why is not None:
                    kind = MISSING if why == MISSING else DAMAGED
                    detail = "the file is gone" if kind == MISSING else why
                    fixity.findings.append(Finding(kind, layout.shown(version.text_path), detail))
                    if kind == DAMAGED:
                        fixity.bad_texts.append(version.text_path)
                _note_text(seen, version.text_path, ok=why is None)
            bar.update()
    seen.commit()


def _text_problem(path: Path, sha1: str) -> str | None:
    """None if the file has this SHA-1; MISSING if it is gone; else what is wrong."""
    try:
        digest = _sha1_of(path)
    except FileNotFoundError:
        return MISSING
    if digest != sha1:
        return f"SHA-1 {digest} where its sidecar says {sha1}"
    return None


def _note_text(seen: sqlite3.Connection, path: Path, *, ok: bool) -> None:
    seen.execute(
        "INSERT INTO texts VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET ok = ok AND excluded.ok",
        (str(path.absolute()), ok),
    )


# -- state rows --------------------------------------------------------------------------------
def _check_state(layout: Layout, fixity: Fixity, seen: sqlite3.Connection, progress: bool) -> None:
    if not layout.state_file.exists():
        return
    try:
        state = CrawlState.open(layout.root)
    except StateLockedError:
        raise
    except StateError as exc:
        fixity.state_problem = str(exc)
        fixity.findings.append(Finding(DAMAGED, layout.shown(layout.state_file), str(exc)))
        return
    damage = {check.path.name: check.damage for check in fixity.warcs}
    open_names = {name.removesuffix(OPEN_SUFFIX) for name in fixity.open_warcs}
    with state, _bar(progress, "state", None, unit="row") as bar:
        problem = state.integrity_problem()
        if problem:
            fixity.state_problem = problem
            fixity.findings.append(Finding(DAMAGED, layout.shown(layout.state_file), problem))
        for row in state.pointers():
            fixity.rows += 1
            why = _lost_why(row, seen, damage, open_names, layout)
            if why is not None:
                fixity.lost.append(LostCapture(row.url, row.kind, row.target_uri, why))
                fixity.findings.append(Finding(LOST, row.target_uri, why))
            bar.update()


def _lost_why(
    row: Pointers,
    seen: sqlite3.Connection,
    damage: dict[str, list[Damage]],
    open_names: set[str],
    layout: Layout,
) -> str | None:
    """Why the records or the text a state row points at cannot be given back, or None."""
    for filename, offset, record_id in row.records:
        if filename in open_names:
            continue  # being written: checked once it is closed
        where = f"{filename}:{offset}"
        found = seen.execute(
            "SELECT record_id, ok FROM records WHERE filename = ? AND offset = ?",
            (filename, offset),
        ).fetchone()
        if found is None:
            if filename not in damage:
                return f"its WARC file {filename} is missing"
            hit = [d for d in damage[filename] if d.offset <= offset < d.end]
            if hit:
                return f"its record {where} lay in damaged {hit[0]}"
            return f"no record starts at {where}"
        if record_id and found[0] != record_id:
            return f"the record at {where} is {found[0]}, not its {record_id}"
        if not found[1]:
            return f"its record {where} fails its digests"
    if row.text is not None:
        path, sha1 = row.text
        known = seen.execute(
            "SELECT ok FROM texts WHERE path = ?", (str(path.absolute()),)
        ).fetchone()
        if known is None:  # a text no sidecar lists: check it here
            why = _text_problem(path, sha1) if sha1 else None
            if why == MISSING:
                return f"its text file {layout.shown(path)} is missing"
            if why is not None:
                return f"its text file {layout.shown(path)} is damaged ({why})"
        elif not known[0]:
            gone = not path.exists()
            return f"its text file {layout.shown(path)} is {'missing' if gone else 'damaged'}"
    return None


# -- helpers -----------------------------------------------------------------------------------
def _sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _bar(progress: bool, what: str, total: int | None, **options) -> tqdm:
    # At a terminal only (tqdm's disable=None): scripts and cron get the findings alone.
    return tqdm(
        total=total, desc=what, disable=None if progress else True, file=sys.stderr, **options
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"

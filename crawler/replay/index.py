"""The CDXJ index of an archive folder: what pywb, `replay show` and the WACZ export look up.

Layout under DIR/index/:
- parts/<warc file name>.cdxj   sorted index of one WARC file (cdxj-indexer's lines)
- manifest.json                 size + mtime of each WARC when its part was made, and the
                                damaged byte ranges and problems found while reading it
- index.cdxj                    all parts merged (sorted, SURT keys): pywb's index

Only new or changed WARC files are read again; the merge streams the sorted parts.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.warc.gzip_members import Damage, survey

PARTS_DIR = "parts"
MANIFEST = "manifest.json"
INDEX_FILE = "index.cdxj"
# Record types that are captures of a URL. Not "metadata" (crawl errors would replay as a
# capture of the URL) and not "conversion" (the extracted text record).
INDEXED_RECORDS = "response,revisit,resource"
# The "mime" of a revisit record's line (cdxj-indexer's, as pywb expects).
REVISIT_MIME = "warc/revisit"
MANIFEST_VERSION = 2
# sha1 (base32) of an empty payload: a 304 carrying it names no payload to match.
EMPTY_DIGEST = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
# What a 304 line takes from the capture it confirmed (its own values go under "revisit").
_REPLAYED = ("mime", "status", "length", "offset", "filename")


@dataclass
class IndexResult:
    """What `build_index` did."""

    index_path: Path
    indexed: list[str] = field(default_factory=list)  # WARC files read this time
    reused: list[str] = field(default_factory=list)  # unchanged since the last build
    removed: list[str] = field(default_factory=list)  # gone from DIR/warc since then
    problems: list[str] = field(default_factory=list)  # one line per damaged WARC file
    damage: dict[str, list[Damage]] = field(default_factory=dict)  # its stretches, by file
    entries: int = 0  # lines in index.cdxj

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.removed)


def index_path(out_dir: str | os.PathLike) -> Path:
    """Where the merged index of an archive folder lives."""
    return Layout.of(out_dir).index_dir / INDEX_FILE


def part_path(out_dir: str | os.PathLike, warc_name: str) -> Path:
    """The per-file index of one WARC file."""
    return Layout.of(out_dir).index_dir / PARTS_DIR / (warc_name + ".cdxj")


def warc_files(out_dir: str | os.PathLike) -> list[Path]:
    """The finished WARC files of an archive folder (`.open` ones are still being written)."""
    return Layout.of(out_dir).warc_files()


def build_index(
    out_dir: str | os.PathLike, on_file: Callable[[str], None] | None = None
) -> IndexResult:
    """Build or update DIR/index/index.cdxj from DIR/warc/*.warc.gz, reading only new files.

    `on_file(name)` is called before each WARC file that has to be read (for progress).
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise DcsError(f"archive folder {out} does not exist")
    try:
        return _build(out, on_file)
    except OSError as exc:  # a read-only archive, a full disk...
        where = exc.filename or Layout.of(out).index_dir
        raise DcsError(f"cannot update the index: {where}: {exc.strerror or exc}") from None


def _build(out: Path, on_file: Callable[[str], None] | None) -> IndexResult:
    idx_dir = Layout.of(out).index_dir
    (idx_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
    result = IndexResult(index_path=idx_dir / INDEX_FILE)

    manifest = _load_manifest(idx_dir / MANIFEST)
    files = warc_files(out)
    names = {p.name for p in files}

    for name in sorted(set(manifest) - names):
        part_path(out, name).unlink(missing_ok=True)
        del manifest[name]
        result.removed.append(name)

    for path in files:
        st = path.stat()
        known = manifest.get(path.name)
        if (
            known
            and known.get("size") == st.st_size
            and known.get("mtime_ns") == st.st_mtime_ns
            and part_path(out, path.name).exists()
        ):
            result.reused.append(path.name)
        else:
            if on_file is not None:
                on_file(path.name)
            entries, damage, problem = _index_one(path, part_path(out, path.name))
            manifest[path.name] = known = {
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "entries": entries,
                "damage": [[d.offset, d.length, d.why] for d in damage],
                "problem": problem,
            }
            result.indexed.append(path.name)
        damage = [Damage(*stretch) for stretch in known.get("damage") or []]
        if damage:
            result.damage[path.name] = damage
        if damage or known.get("problem"):
            result.problems.append(f"{path.name}: {describe(damage, known.get('problem'))}")

    if result.changed or not result.index_path.exists():
        result.entries = _merge([part_path(out, p.name) for p in files], result.index_path)
        # The manifest is written last: a crash before it means the files are read again.
        _write_json(idx_dir / MANIFEST, {"version": MANIFEST_VERSION, "files": manifest})
    else:
        result.entries = sum(int(m.get("entries") or 0) for m in manifest.values())
    return result


def known_problems(out_dir: str | os.PathLike) -> list[str]:
    """The damaged WARC files as the last build of the index found them, one line each."""
    manifest = _load_manifest(Layout.of(out_dir).index_dir / MANIFEST)
    return [
        f"{name}: {describe([Damage(*s) for s in known.get('damage') or []], known.get('problem'))}"
        for name, known in sorted(manifest.items())
        if known.get("damage") or known.get("problem")
    ]


def iter_index(out_dir: str | os.PathLike) -> Iterator[tuple[str, str, dict]]:
    """(urlkey, timestamp, fields) of every line of the merged index, in index order."""
    path = index_path(out_dir)
    if path.exists():
        yield from iter_cdxj(path)


def iter_cdxj(path: Path) -> Iterator[tuple[str, str, dict]]:
    """(urlkey, timestamp, fields) of every good line of a CDXJ file (the index or a part)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parsed = parse_line(line)
            if parsed:
                yield parsed


def parse_line(line: str) -> tuple[str, str, dict] | None:
    """Split one CDXJ line into (urlkey, timestamp, fields); None for a blank or bad line."""
    try:
        key, ts, data = line.rstrip("\n").split(" ", 2)
        return key, ts, json.loads(data)
    except ValueError:
        return None


def format_line(key: str, timestamp: str, fields: dict) -> str:
    """One CDXJ line, the inverse of `parse_line`."""
    return f"{key} {timestamp} {json.dumps(fields)}\n"


def _index_one(path: Path, part: Path) -> tuple[int, list[Damage], str | None]:
    """Index one WARC into its sorted part file: every whole record, the damaged stretches
    of the file stepped over. Returns (lines, damaged stretches, other problem)."""
    tmp = _tmp_beside(part)
    found = survey(path)
    problem = None
    with open(tmp, "w", encoding="utf-8") as fh:
        indexer = CDXJIndexer(fh, [], records=INDEXED_RECORDS, filename=path.name)
        for span in found.spans():
            try:
                indexer.process_one(span, fh, path.name)
            except Exception as exc:  # a whole gzip member warcio cannot parse: keep the rest
                problem = f"unreadable WARC record before offset {span.tell()} ({_one_line(exc)})"
    with open(tmp, encoding="utf-8") as fh:
        lines = [line for line in fh if line.endswith("\n")]  # a line cut by a failure: dropped
    lines.sort()  # one file's lines fit in memory; the merge across files streams
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.writelines(lines)
    os.replace(tmp, part)
    if not found.damage and problem is None and found.size > 0 and not lines:
        problem = "no WARC records found"
    return len(lines), list(found.damage), problem


def describe(damage: list[Damage], problem: str | None = None) -> str:
    """One line for what is wrong with a WARC file: its damaged byte ranges, then the rest."""
    return "; ".join([str(stretch) for stretch in damage] + ([problem] if problem else []))


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > 120:
        text = text[:117] + "..."
    return f"{type(exc).__name__}: {text}"


def _merge(parts: list[Path], dest: Path) -> int:
    """Merge sorted part files into dest by streaming; returns the number of lines."""
    tmp = _tmp_beside(dest)
    count = 0
    with ExitStack() as stack:
        inputs = [stack.enter_context(open(p, encoding="utf-8")) for p in parts if p.exists()]
        with open(tmp, "w", encoding="utf-8") as out:
            for line in _resolve_not_modified(heapq.merge(*inputs)):
                out.write(line)
                count += 1
    os.replace(tmp, dest)  # atomic: a running pywb sees the old or the new index, never half
    return count


def _resolve_not_modified(lines: Iterator[str]) -> Iterator[str]:
    """Point each 304 capture's line at the earlier full capture it confirmed.

    pywb replays a server-not-modified revisit as a bare 304 (it skips the payload lookup
    for any 3xx), which a browser cannot show. The line keeps the revisit's timestamp and
    URL, takes the original's file/offset/length/mime/status, and records where the 304
    itself is under "revisit". Lines arrive sorted by key then time, so the originals of a
    URL are seen before its later revisits: only one URL's lines are held at a time.
    """
    key = None
    earlier: list[str] = []  # this URL's earlier lines
    for line in lines:
        this_key = line.split(" ", 1)[0]
        if this_key != key:
            key, earlier = this_key, []
        if '"304"' in line:
            line = _point_at_original(line, earlier)
        earlier.append(line)
        yield line


def _point_at_original(line: str, earlier: list[str]) -> str:
    parsed = parse_line(line)
    if not parsed or parsed[2].get("status") != "304" or "revisit" in parsed[2]:
        return line
    key, ts, fields = parsed
    original = _confirmed_original(fields, earlier)
    if original is None:
        return line
    merged = {**fields, **{name: original[name] for name in _REPLAYED if name in original}}
    merged["revisit"] = {name: fields[name] for name in _REPLAYED if name in fields}
    return format_line(key, ts, merged)


def _confirmed_original(fields: dict, earlier: list[str]) -> dict | None:
    """The fields of the latest full capture among `earlier` that a 304 confirmed."""
    digest = fields.get("digest")
    for previous in reversed(earlier):
        parsed = parse_line(previous)
        if not parsed:
            continue
        candidate = parsed[2]
        if "revisit" in candidate or candidate.get("mime") == REVISIT_MIME:
            continue
        if not str(candidate.get("status", "")).startswith("2"):
            continue
        if digest and digest != EMPTY_DIGEST and candidate.get("digest") != digest:
            continue
        return candidate
    return None


def _load_manifest(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    tmp = _tmp_beside(path)
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _tmp_beside(path: Path) -> Path:
    # Per process: `replay serve` and `replay show` may update the index at the same time.
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")

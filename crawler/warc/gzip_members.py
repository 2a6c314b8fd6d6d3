"""Walking the gzip members of a .warc.gz file, one member per record, checking each, and
stepping over damage to the next whole member.

Every reader of the archive shares this walk: crash recovery (``crawler.warc.writer.recover``:
where do whole records end?), the index, re-extraction, the WACZ export and ``dcs verify``.
zlib checks each member's CRC and length, so a member that inflates to its end is intact.
After a bad member the walk looks for the next gzip header from which a whole member holding
a WARC record inflates, and goes on from there: damage stays a stretch of bytes, the records
after it are still read. A gzipped HTTP body stored inside a record is no false start: it
holds no WARC record.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
MEMBER_START = GZIP_MAGIC + b"\x08"  # gzip header, deflate: where a member may begin
WARC_START = b"WARC/"
_BUFFER = 1 << 20  # bytes read from the file at a time
_FEED = 1 << 14  # bytes handed to zlib at a time: its leftovers are copied


@dataclass(frozen=True)
class GzipMember:
    offset: int
    length: int  # compressed
    data: bytes  # inflated; b"" unless asked for

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(frozen=True)
class Damage:
    """A stretch of a file that holds no whole member: from where the walk found something
    wrong to the next whole member (or the end of the file)."""

    offset: int
    length: int
    why: str  # what was wrong where the stretch starts

    @property
    def end(self) -> int:
        return self.offset + self.length

    def __str__(self) -> str:
        return f"bytes {self.offset}-{self.end - 1} ({self.why})"


def walk(path: str | os.PathLike[str], *, inflate: bool = False) -> Iterator[GzipMember | Damage]:
    """Every gzip member of a file in order, and a Damage for each stretch between them
    that is not one (cut short, corrupt, not gzip, not a WARC record)."""
    with open(path, "rb") as file:
        reader = _Reader(file)
        offset = 0
        while offset < reader.size:
            found = _member_at(reader, offset, inflate)
            if isinstance(found, GzipMember):
                yield found
                offset = found.end
                continue
            resumed = _next_member(reader, offset + 1, inflate)
            end = resumed.offset if resumed else reader.size
            yield Damage(offset, end - offset, found)
            if resumed is None:
                return
            yield resumed
            offset = resumed.end


@dataclass(frozen=True)
class Survey:
    """What walking a WARC file found: its size and its damaged stretches."""

    path: Path
    size: int
    damage: tuple[Damage, ...] = ()

    @property
    def intact(self) -> list[tuple[int, int]]:
        """(start, end) of each run of whole members, between the damaged stretches."""
        runs, start = [], 0
        for stretch in self.damage:
            if stretch.offset > start:
                runs.append((start, stretch.offset))
            start = stretch.end
        if start < self.size:
            runs.append((start, self.size))
        return runs

    def removed_before(self, offset: int) -> int:
        """Damaged bytes before ``offset``: how far a record moves when they are cut out."""
        return sum(d.length for d in self.damage if d.end <= offset)

    def moved(self, offset: int) -> int | None:
        """Where the record at ``offset`` lies once the damaged stretches are cut out; None
        if it lies in one of them."""
        if any(d.offset <= offset < d.end for d in self.damage):
            return None
        return offset - self.removed_before(offset)

    def spans(self) -> Iterator[BinaryIO]:
        """Each intact run as a file of its own whose ``tell()`` is the offset in the whole
        file: a WARC reader given one reports the records' true offsets."""
        for start, end in self.intact:
            with _Span(self.path, start, end) as span:
                yield span


def survey(path: str | os.PathLike[str]) -> Survey:
    """Walk a WARC file for damage. A file that is not gzipped (``.warc``) is taken whole."""
    path = Path(path)
    size = path.stat().st_size
    if not path.name.endswith(".gz"):
        return Survey(path, size)
    damage = tuple(part for part in walk(path) if isinstance(part, Damage))
    return Survey(path, size, damage)


# -- internals ---------------------------------------------------------------------------------
class _Reader:
    """Reads a file through one buffer, in small views, so that walking many small members
    neither re-reads nor copies much."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.size = os.fstat(file.fileno()).st_size
        self.start = 0
        self.buffer = b""

    def view(self, offset: int) -> memoryview:
        """Up to _FEED bytes from ``offset`` (empty at the end of the file)."""
        if not self.start <= offset < self.start + len(self.buffer):
            self.file.seek(offset)
            self.start, self.buffer = offset, self.file.read(_BUFFER)
        at = offset - self.start
        return memoryview(self.buffer)[at : at + _FEED]

    def find(self, needle: bytes, offset: int) -> int | None:
        while offset < self.size:
            self.file.seek(offset)
            window = self.file.read(_BUFFER)
            found = window.find(needle)
            if found >= 0:
                return offset + found
            if len(window) < _BUFFER:
                return None
            offset += len(window) - len(needle) + 1
        return None


def _member_at(reader: _Reader, offset: int, inflate: bool) -> GzipMember | str:
    """The whole member at ``offset``, or why there is none."""
    if bytes(reader.view(offset)[:2]) != GZIP_MAGIC:
        return "not gzip data: corrupt, or not one gzip member per record"
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    head = b""
    position = offset
    while not inflater.eof:
        chunk = reader.view(position)
        if not chunk:
            return "truncated: a record is cut short"
        try:
            data = inflater.decompress(chunk)
        except zlib.error as exc:
            return f"corrupt gzip data: {exc}"
        if len(head) < len(WARC_START):
            head += data[: len(WARC_START)]
        if inflate:
            parts.append(data)
        position += len(chunk)
    if not head.startswith(WARC_START):
        return "not a WARC record"
    length = position - offset - len(inflater.unused_data)
    return GzipMember(offset, length, b"".join(parts))


def _next_member(reader: _Reader, offset: int, inflate: bool) -> GzipMember | None:
    """The first whole member holding a WARC record at or after ``offset``."""
    while (candidate := reader.find(MEMBER_START, offset)) is not None:
        found = _member_at(reader, candidate, inflate)
        if isinstance(found, GzipMember):
            return found
        offset = candidate + 1
    return None


@contextmanager
def inflated(path: str | os.PathLike[str], member: GzipMember) -> Iterator[BinaryIO]:
    """The inflated bytes of one member of a file, read a piece at a time (a member may
    hold a file of hundreds of MB)."""
    with _Span(Path(path), member.offset, member.end) as span:
        with gzip.GzipFile(fileobj=io.BufferedReader(span)) as stream:
            yield stream


class _Span(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file; ``tell()`` counts from the file's start."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 (closed with the span)
        self._file.seek(start)
        self._position = start
        self._end = end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self._end - self._position)
        if wanted <= 0:
            return 0
        data = self._file.read(wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._file.close()
        super().close()

"""Writing WARC files: one gzip member per record, a warcinfo record heading every file,
rotation at a size limit, and recovery of files left open by a crash.

A file is written as ``<name>.open`` and renamed to ``<name>`` when closed, so a finished
file never changes and a name without ``.open`` is always whole. Every group of records is
written straight to the file (no buffer), so after a crash the ``.open`` file is readable up
to its last complete record; ``recover()`` cuts off whatever follows it and gives the file its
name. A group that cannot be written whole (a full disk) is rolled back: the file is cut back
to where the group began, so it never holds half a record and the offsets handed out for the
records that follow stay true.
"""

from __future__ import annotations

import os
import re
import socket
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader

from crawler.errors import ArchiveWriteError
from crawler.warc import records
from crawler.warc.gzip_members import Damage, GzipMember, inflated, walk

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+$")
_STAMP_SERIAL = re.compile(r"-(\d{17})-(\d{5,})-")
# As warcio writes a member: best compression, gzip framing.
GZIP_LEVEL = 9
GZIP_WBITS = zlib.MAX_WBITS + 16
_BUILDER = RecordBuilder(warc_version=records.WARC_VERSION)


class WarcWriteError(ArchiveWriteError):
    """A WARC file or directory cannot be written."""


@dataclass(frozen=True)
class RecordLocation:
    """Where a record lies: the file's final name (no directory), offset and length of the
    record's gzip member, and the record's WARC-Record-ID."""

    filename: str
    offset: int
    length: int
    record_id: str


def check_prefix(prefix: str) -> None:
    """A prefix of WARC file names holds letters, digits, '.', '_' and '-' only."""
    if not _PREFIX.match(str(prefix)):
        raise WarcWriteError(f"WARC prefix may hold letters, digits, '.', '_', '-': {prefix!r}")


def machine_name() -> str:
    """This machine's host name, reduced to characters that are safe in a file name."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"


class WarcWriter:
    """Writes records into ``<prefix>-<YYYYmmddHHMMSSfff>-<serial>-<host>.warc.gz`` files.

    Files are opened lazily (a crawl that fetches nothing leaves no file). Not thread-safe:
    Scrapy calls it from its one reactor thread.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        prefix: str = "dcs",
        max_size: int = 1_000_000_000,
        warcinfo_fields: Mapping[str, Any] | None = None,
        *,
        fsync: bool = False,
        hostname: str | None = None,
    ) -> None:
        check_prefix(prefix)
        if max_size <= 0:
            raise WarcWriteError(f"WARC max size must be positive, got {max_size}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.fsync = fsync
        self.host = hostname or machine_name()
        self.warcinfo_fields = {**records.warcinfo_fields(), **(warcinfo_fields or {})}
        self.files: list[str] = []  # final names of the files this writer closed
        _ensure_writable(self.directory)
        self._serial = _next_serial(self.directory, prefix)
        self._file: BinaryIO | None = None
        self._name = ""  # final name of the open file
        self._size = 0
        self._records = 0  # records in the open file, warcinfo excluded
        # The record ID of the open file's warcinfo (the next file's is not known yet).
        self._warcinfo_id = records.new_record_id()

    # -- writing -------------------------------------------------------------------------
    @property
    def current_filename(self) -> str | None:
        """Final name of the file being written, or None between files."""
        return self._name if self._file is not None else None

    def write(self, record: ArcWarcRecord) -> RecordLocation:
        return self.write_all([record])[0]

    def write_all(self, group: Iterable[ArcWarcRecord]) -> list[RecordLocation]:
        """Write records next to each other in one file, then flush.

        A group never spans two files: rotation happens before it when it would push the file
        past ``max_size`` (a group bigger than that gets a file of its own). Each record is
        given the ``WARC-Warcinfo-ID`` of the warcinfo record heading its file.
        """
        group = list(group)
        if not group:
            return []
        members = self._members(group)
        size = sum(len(data) for _, data in members)
        if self._file is not None and self._records and self._size + size > self.max_size:
            self.close()
        if self._file is None:
            self._open()
            members = self._members(group)  # they name the new file's warcinfo
        assert self._file is not None
        locations = []
        offset = self._size
        for rid, data in members:
            locations.append(RecordLocation(self._name, offset, len(data), rid))
            offset += len(data)
        self._write(b"".join(data for _, data in members))
        self._records += len(members)
        if self._size >= self.max_size:
            self.close()
        return locations

    def write_streamed(
        self, streamed: ArcWarcRecord, others: Iterable[ArcWarcRecord] = ()
    ) -> list[RecordLocation]:
        """Write a record whose payload is read from a file (records.streamed_response_record)
        and then ``others``, next to each other in one file, as ``write_all`` does; the
        streamed one is compressed piece by piece, so memory stays flat whatever its size.
        Rotation comes first when its uncompressed length would push the file past
        ``max_size``. A group that cannot be written whole is rolled back, as ever."""
        others = list(others)
        size = len(streamed.http_headers.headers_buff) + streamed.payload_length
        if self._file is not None and self._records and self._size + size > self.max_size:
            self.close()
        if self._file is None:
            self._open()
        assert self._file is not None
        rest = self._members(others)  # they name this file's warcinfo
        start = self._size
        try:
            for piece in self._streamed_member(streamed):
                self._write(piece)
            end = self._size
            self._write(b"".join(data for _, data in rest))
        except (OSError, ValueError, WarcWriteError) as exc:
            if self._file is not None:  # cut back to where the group began
                self._size = start
                self._roll_back()
            if isinstance(exc, WarcWriteError):
                raise
            # The spool file unreadable, or shorter than its length.
            raise WarcWriteError(f"cannot stream {records.record_id(streamed)}: {exc}") from exc
        locations = [RecordLocation(self._name, start, end - start, records.record_id(streamed))]
        for rid, data in rest:
            locations.append(RecordLocation(self._name, end, len(data), rid))
            end += len(data)
        self._records += 1 + len(others)
        if self._size >= self.max_size:
            self.close()
        return locations

    def close(self) -> str | None:
        """Finish the open file (if any): rename ``.open`` away; return its final name.

        A file that holds no record besides its warcinfo (every write to it failed) is
        removed instead."""
        if self._file is None:
            return None
        name, self._name = self._name, ""
        file, self._file = self._file, None
        try:
            if self.fsync:
                os.fsync(file.fileno())
            file.close()
            if not self._records:
                (self.directory / (name + OPEN_SUFFIX)).unlink()
                return None
            os.rename(self.directory / (name + OPEN_SUFFIX), self.directory / name)
            if self.fsync:
                _fsync_directory(self.directory)
        except OSError as exc:
            path = self.directory / name
            raise WarcWriteError(f"cannot close WARC file {path}: {_why(exc)}") from exc
        self.files.append(name)
        return name

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    def _members(self, group: list[ArcWarcRecord]) -> list[tuple[str, bytes]]:
        for record in group:
            # A WARC header, outside the block: the block digest stays as it was.
            record.rec_headers.replace_header("WARC-Warcinfo-ID", self._warcinfo_id)
        return [(records.record_id(record), self._member(record)) for record in group]

    def _member(self, record: ArcWarcRecord) -> bytes:
        """The record as one gzip member: what warcio's writer writes (its digests, Content-Type
        and Content-Length set the same way), put together in one piece and compressed in one
        call; warcio streams it through a compressor in pieces, which costs more than the
        compression itself for records of a few kilobytes, and the crawl writes two a page."""
        _BUILDER.ensure_digest(record, block=True, payload=True)  # set by crawler.warc.records
        headers = record.rec_headers
        if record.content_type is not None:
            headers.replace_header("Content-Type", record.content_type)
        http = record.http_headers
        http_block = b""
        if http:
            if not http.headers_buff:
                http.compute_headers_buffer(None)
            http_block = http.headers_buff
        # A revisit keeps the HTTP headers only (the payload is the record it refers to).
        payload = b"" if record.rec_type == "revisit" else _payload(record)
        length = len(http_block) + len(payload) if http else record.length
        headers.replace_header("Content-Length", str(length))
        data = b"".join((headers.to_bytes(encoding="utf-8"), http_block, payload, b"\r\n\r\n"))
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
        return compressor.compress(data) + compressor.flush()

    def _streamed_member(self, record: ArcWarcRecord) -> Iterator[bytes]:
        """The gzip member of a record whose payload is in a file, in pieces: what
        ``_member`` makes of a record held whole."""
        record.rec_headers.replace_header("WARC-Warcinfo-ID", self._warcinfo_id)
        headers = record.rec_headers
        headers.replace_header("Content-Type", record.content_type)
        http_block = record.http_headers.headers_buff
        headers.replace_header("Content-Length", str(len(http_block) + record.payload_length))
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
        yield compressor.compress(headers.to_bytes(encoding="utf-8") + http_block)
        for piece in records.read_pieces(record.raw_stream, record.payload_length):
            yield compressor.compress(piece)
        yield compressor.compress(b"\r\n\r\n") + compressor.flush()

    def _open(self) -> None:
        while True:
            now = datetime.now(UTC)
            stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}{WARC_SUFFIX}"
            self._serial += 1
            path = self.directory / (name + OPEN_SUFFIX)
            if (self.directory / name).exists():
                continue
            try:
                # Unbuffered: what write() accepted is in the file, and a rollback can cut it.
                self._file = open(path, "xb", buffering=0)  # stays open across writes
            except FileExistsError:
                continue
            except OSError as exc:
                raise WarcWriteError(f"cannot create WARC file {path}: {_why(exc)}") from exc
            break
        self._name = name
        self._size = 0
        self._records = 0
        warcinfo = records.warcinfo_record(name, self.warcinfo_fields)
        self._warcinfo_id = records.record_id(warcinfo)
        try:
            self._write(self._member(warcinfo))
        except WarcWriteError:
            self.close()  # no file without its warcinfo: the next write starts a new one
            raise

    def _write(self, data: bytes) -> None:
        """Append data whole, or leave the file as it was (see the module docstring)."""
        assert self._file is not None
        try:
            view = memoryview(data)
            while view:
                view = view[self._file.write(view) :]
            if self.fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            path = self.directory / self._name
            self._roll_back()
            raise WarcWriteError(f"cannot write WARC file {path}: {_why(exc)}") from exc
        self._size += len(data)

    def _roll_back(self) -> None:
        """Cut the open file back to its last whole write; when even that fails, leave it
        ``.open`` for recovery to cut and go on in a new file."""
        assert self._file is not None
        try:
            self._file.truncate(self._size)
            self._file.seek(self._size)
        except OSError:
            self._file.close()
            self._file, self._name = None, ""


def _payload(record: ArcWarcRecord) -> bytes:
    """A record's block past its HTTP headers, read without moving its stream (a record
    written again, into the next file after a rotation, is written whole)."""
    stream = record.raw_stream
    start = stream.tell()
    data = stream.read()
    stream.seek(start)
    return data


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _ensure_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarcWriteError(f"cannot create WARC directory {directory}: {_why(exc)}") from exc
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        raise WarcWriteError(f"WARC directory is not writable: {directory}")


def _next_serial(directory: Path, prefix: str) -> int:
    # Continue after the highest serial of this prefix so names stay unique and in order.
    pattern = re.compile(rf"^{re.escape(prefix)}-\d{{17}}-(\d{{5,}})-")
    serials = [int(m.group(1)) for p in directory.iterdir() if (m := pattern.match(p.name))]
    return max(serials) + 1 if serials else 0


def warc_order(name: str) -> tuple[str, int, str]:
    """Sorts WARC file names as this writer made them, oldest first, whatever their prefix:
    by the time in the name, then the serial."""
    match = _STAMP_SERIAL.search(name)
    return (match.group(1), int(match.group(2)), name) if match else ("", 0, name)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- recovery after a crash ------------------------------------------------------------------
def recover(directory: str | os.PathLike[str]) -> list[str]:
    """Finish the ``*.warc.gz.open`` files a crash left behind; return one line per file.

    Each is cut after its last gzip member that is complete and holds a whole WARC record,
    then renamed to its final name. A damaged record in the middle is stepped over: the
    whole records after it are kept, and so are its bytes (the line says where they are).
    A file without one whole record is removed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    done = []
    for path in sorted(directory.glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}")):
        try:
            done.append(_recover_file(path))
        except OSError as exc:
            raise WarcWriteError(f"cannot recover WARC file {path}: {_why(exc)}") from exc
    return done


def _recover_file(path: Path) -> str:
    size = path.stat().st_size
    end, count, damage = _whole_records(path)
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    if count == 0:
        path.unlink()
        return f"removed {path.name}: no complete record"
    if final.exists():
        return f"left {path.name}: {final.name} already exists"
    if end < size:
        with open(path, "r+b") as file:
            file.truncate(end)
            os.fsync(file.fileno())
    os.rename(path, final)
    line = f"recovered {final.name}: kept {count} records, dropped {size - end} bytes at its end"
    if damage:
        # Cutting them out would move the records after them, which the state and the
        # sidecars point at: they stay, readers step over them, `dcs verify --repair` salvages.
        stretches = "; ".join(str(stretch) for stretch in damage)
        line += f"; damaged {stretches} left in place (see dcs verify)"
    return line


def whole_records_end(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(offset just after the last whole record, number of whole records) of a .warc.gz."""
    end, count, _damage = _whole_records(path)
    return end, count


def _whole_records(path: str | os.PathLike[str]) -> tuple[int, int, list[Damage]]:
    """The end of the last whole record, the number of whole records, and the damaged
    stretches before that end (whole records follow them)."""
    end = count = 0
    damage: list[Damage] = []
    for part in walk(path):
        if isinstance(part, GzipMember) and _is_whole_record(path, part):
            end = part.end
            count += 1
        elif isinstance(part, GzipMember):
            damage.append(Damage(part.offset, part.length, "not one whole WARC record"))
        else:
            damage.append(part)
    return end, count, [stretch for stretch in damage if stretch.end <= end]


def _is_whole_record(path: str | os.PathLike[str], member: GzipMember) -> bool:
    """Whether a member is exactly one WARC record: headers, Content-Length bytes, CRLF
    CRLF. Read a piece at a time: the record may hold a file of hundreds of MB."""
    try:
        with inflated(path, member) as stream:
            record = ArcWarcRecordLoader().parse_record_stream(
                stream, known_format="warc", no_record_parse=True
            )
            if not record.rec_type or record.length is None:
                return False
            block = 0
            while piece := record.raw_stream.read(records.PIECE):
                block += len(piece)
            return block == int(record.length) and stream.read(5) == b"\r\n\r\n"
    except Exception:  # warcio raises many kinds on garbage; any of them means "not whole"
        return False

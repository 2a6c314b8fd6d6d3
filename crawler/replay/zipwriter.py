"""A streaming zip writer whose local headers and central directory agree.

Python's zipfile puts a Zip64 extra field in an entry's local header whenever it is asked
to (`force_zip64`) or guesses the entry may grow past 2 GiB, but in the central directory
only when the entry really did; ReplayWeb.page's zip reader takes "no extra field in the
central directory" to mean "none in the local header either", and read every such entry
20 bytes too early. This writer knows each entry's size before writing its header, so:

- an entry gets Zip64 only when it can pass 4 GiB, and then the same Zip64 field (both
  sizes) in its local header and its central record; an entry that starts past 4 GiB has
  its offset in a Zip64 field of the central record alone, where the format keeps it;
- every entry is a regular file, rw-r--r--, made on Unix;
- data streams through in chunks: memory stays flat whatever the entry's size. The CRC
  (and a compressed entry's size) is written into the local header once the data is out,
  so the output must be a seekable file.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

# Sizes and offsets from here on need Zip64; the field then holds the mark "see Zip64".
ZIP64_LIMIT = 0xFFFFFFFF
ZIP64_MARK = 0xFFFFFFFF
COUNT_MARK = 0xFFFF
STORED, DEFLATED = 0, 8
CHUNK = 1 << 20
UNIX = 3
REGULAR_FILE = 0o100644  # S_IFREG | rw-r--r--
UTF8_NAMES = 0x800
ZIP64_EXTRA_ID = 0x0001

_LOCAL = struct.Struct("<4s5H3L2H")  # signature .. extra field length: 30 bytes
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes
_END = struct.Struct("<4s4H2LH")  # 22 bytes
_END64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_LOCATOR64 = struct.Struct("<4sLQL")  # 20 bytes


@dataclass
class ZipEntry:
    """One written entry: where it lies, its sizes, and the sha256 of its content."""

    name: str
    offset: int  # of its local header
    method: int
    size: int
    zip64: bool  # both sizes kept in a Zip64 field (the entry can pass 4 GiB)
    dos_time: tuple[int, int]  # (time, date) in MS-DOS form
    compressed_size: int = 0
    crc: int = 0
    sha256: str = ""

    @property
    def flags(self) -> int:
        return 0 if self.name.isascii() else UTF8_NAMES

    @property
    def version(self) -> int:
        return 45 if self.zip64 or self.offset >= ZIP64_LIMIT else 20

    @property
    def _size_fields(self) -> tuple[int, int]:
        """(compressed, uncompressed) as the headers hold them."""
        return (ZIP64_MARK, ZIP64_MARK) if self.zip64 else (self.compressed_size, self.size)

    def local_header(self) -> bytes:
        name = self.name.encode("utf-8")
        extra = self._zip64_field(offset=False)
        head = _LOCAL.pack(
            b"PK\x03\x04", self.version, self.flags, self.method, *self.dos_time,
            self.crc, *self._size_fields, len(name), len(extra),
        )  # fmt: skip
        return head + name + extra

    def central_record(self) -> bytes:
        name = self.name.encode("utf-8")
        extra = self._zip64_field(offset=True)
        offset = ZIP64_MARK if self.offset >= ZIP64_LIMIT else self.offset
        head = _CENTRAL.pack(
            b"PK\x01\x02", UNIX << 8 | self.version, self.version, self.flags, self.method,
            *self.dos_time, self.crc, *self._size_fields, len(name), len(extra), 0, 0, 0,
            REGULAR_FILE << 16, offset,
        )  # fmt: skip
        return head + name + extra

    def _zip64_field(self, offset: bool) -> bytes:
        values = [self.size, self.compressed_size] if self.zip64 else []
        if offset and self.offset >= ZIP64_LIMIT:
            values.append(self.offset)
        if not values:
            return b""
        return struct.pack(f"<2H{len(values)}Q", ZIP64_EXTRA_ID, 8 * len(values), *values)


class ZipWriter:
    """Writes entries one after another into a seekable binary file, then the directory.

    with open(path, "wb") as fh, ZipWriter(fh) as zw:
        zw.add_file("archive/a.warc.gz", warc_path)            # stored
        zw.add_bytes("datapackage.json", data, deflate=True)
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.entries: list[ZipEntry] = []

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if exc_type is None:
            self.close()

    def add_file(self, name: str, path: str | os.PathLike, deflate: bool = False) -> ZipEntry:
        """Copy a file into the zip, dated by its modification time."""
        with open(path, "rb") as source:
            stat = os.fstat(source.fileno())
            chunks = iter(lambda: source.read(CHUNK), b"")
            return self.add_chunks(name, chunks, stat.st_size, deflate, stat.st_mtime)

    def add_bytes(self, name: str, data: bytes, deflate: bool = True) -> ZipEntry:
        """Add a small entry held in memory, dated now."""
        return self.add_chunks(name, [data], len(data), deflate)

    def add_chunks(
        self,
        name: str,
        chunks: Iterable[bytes],
        size: int,
        deflate: bool = False,
        mtime: float | None = None,
    ) -> ZipEntry:
        """Add an entry of exactly `size` bytes, given in chunks; dated `mtime` (or now)."""
        entry = ZipEntry(
            name=name,
            offset=self.fh.tell(),
            method=DEFLATED if deflate else STORED,
            size=size,
            zip64=_may_pass_limit(size, deflate),
            dos_time=_dos_time(time.localtime(mtime)),
        )
        self.fh.write(entry.local_header())  # CRC and compressed size are not known yet
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS) if deflate else None
        sha = hashlib.sha256()
        crc = written = read = 0
        for chunk in chunks:
            read += len(chunk)
            if read > size:
                break
            sha.update(chunk)
            crc = zlib.crc32(chunk, crc)
            data = compressor.compress(chunk) if compressor else chunk
            self.fh.write(data)
            written += len(data)
        if read != size:  # the header already says `size`
            raise OSError(f"{name}: {read:,} bytes where {size:,} were announced (changed?)")
        if compressor:
            tail = compressor.flush()
            self.fh.write(tail)
            written += len(tail)
        entry.crc, entry.compressed_size, entry.sha256 = crc, written, sha.hexdigest()
        end = self.fh.tell()
        self.fh.seek(entry.offset)
        self.fh.write(entry.local_header())  # same length: only CRC and sizes change
        self.fh.seek(end)
        self.entries.append(entry)
        return entry

    def close(self) -> None:
        """Write the central directory and its end records."""
        start = self.fh.tell()
        for entry in self.entries:
            self.fh.write(entry.central_record())
        size = self.fh.tell() - start
        count = len(self.entries)
        zip64 = count >= COUNT_MARK or size >= ZIP64_LIMIT or start >= ZIP64_LIMIT
        if zip64:
            end64 = self.fh.tell()
            self.fh.write(
                _END64.pack(
                    b"PK\x06\x06", _END64.size - 12, UNIX << 8 | 45, 45, 0, 0,
                    count, count, size, start,
                )
            )  # fmt: skip
            self.fh.write(_LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
        self.fh.write(
            _END.pack(
                b"PK\x05\x06", 0, 0, *(2 * [COUNT_MARK if zip64 else count]),
                ZIP64_MARK if zip64 else size, ZIP64_MARK if zip64 else start, 0,
            )
        )  # fmt: skip
        self.fh.flush()


def _may_pass_limit(size: int, deflate: bool) -> bool:
    """Whether an entry of `size` bytes can reach 4 GiB, stored or compressed."""
    if deflate:  # deflate's worst case (zlib's compressBound) is a little over the input
        size += (size >> 12) + (size >> 14) + (size >> 25) + 13
    return size >= ZIP64_LIMIT


def _dos_time(when: time.struct_time) -> tuple[int, int]:
    year = min(max(when.tm_year, 1980), 2107)
    return (
        when.tm_hour << 11 | when.tm_min << 5 | when.tm_sec // 2,
        (year - 1980) << 9 | when.tm_mon << 5 | when.tm_mday,
    )

"""Reading a zip file's records byte by byte, for tests that check what readers rely on.

Python's zipfile forgives a local header that disagrees with the central directory;
ReplayWeb.page does not (it takes an entry's data offset from the central record's extra
field length when that is zero). This reader returns both records of every entry, fields
as written, so that tests can compare them. Independent of crawler/replay/zipwriter.py.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MARK = 0xFFFFFFFF


@dataclass
class Record:
    """One header of an entry (local or central), its fields as found in the file."""

    name: str
    version_needed: int
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    extra: bytes
    offset: int = 0  # central: where the local header is
    made_by: int = 0  # central only
    external_attr: int = 0  # central only

    def zip64(self) -> list[int]:
        """The 8-byte values of the Zip64 extra field (empty when there is none)."""
        pos = 0
        while pos + 4 <= len(self.extra):
            kind, length = struct.unpack_from("<HH", self.extra, pos)
            if kind == 1:
                data = self.extra[pos + 4 : pos + 4 + length]
                return list(struct.unpack(f"<{length // 8}Q", data))
            pos += 4 + length
        return []

    def sizes(self) -> tuple[int, int]:
        """(compressed, uncompressed), from the Zip64 field where the header says so."""
        values = iter(self.zip64())
        size = next(values) if self.size == MARK else self.size
        compressed = next(values) if self.compressed_size == MARK else self.compressed_size
        return compressed, size


@dataclass
class ZipRecords:
    central: list[Record]
    local: list[Record]  # in the order of the central directory
    data_offsets: list[int]  # where each entry's data starts, from its local header
    zip64_end: bool  # a Zip64 end of central directory record is present


def read_records(path: Path) -> ZipRecords:
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack_from("<HLL", data, end + 10)
    zip64_end = data[end - 20 : end - 16] == b"PK\x06\x07"
    if zip64_end:
        (end64,) = struct.unpack_from("<Q", data, end - 12)
        assert data[end64 : end64 + 4] == b"PK\x06\x06"
        count, _, cd_size, cd_offset = struct.unpack_from("<4Q", data, end64 + 24)
    central, local, starts = [], [], []
    pos = cd_offset
    for _ in range(count):
        assert data[pos : pos + 4] == b"PK\x01\x02", f"no central record at {pos}"
        (made_by, needed, flags, method, _t, _d, crc, csize, usize, nlen, elen, clen) = (
            struct.unpack_from("<6H3L3H", data, pos + 4)
        )
        attr, offset = struct.unpack_from("<LL", data, pos + 38)
        name = data[pos + 46 : pos + 46 + nlen].decode("utf-8")
        extra = data[pos + 46 + nlen : pos + 46 + nlen + elen]
        record = Record(name, needed, flags, method, crc, csize, usize, extra)
        record.made_by, record.external_attr = made_by, attr
        values = record.zip64()
        record.offset = values[-1] if offset == MARK else offset
        central.append(record)
        pos += 46 + nlen + elen + clen
        local.append(_local(data, record.offset))
        lnlen, lelen = struct.unpack_from("<HH", data, record.offset + 26)
        starts.append(record.offset + 30 + lnlen + lelen)
    assert pos == cd_offset + cd_size
    return ZipRecords(central, local, starts, zip64_end)


def _local(data: bytes, pos: int) -> Record:
    assert data[pos : pos + 4] == b"PK\x03\x04", f"no local header at {pos}"
    needed, flags, method, _t, _d, crc, csize, usize, nlen, elen = struct.unpack_from(
        "<5H3L2H", data, pos + 4
    )
    name = data[pos + 30 : pos + 30 + nlen].decode("utf-8")
    extra = data[pos + 30 + nlen : pos + 30 + nlen + elen]
    return Record(name, needed, flags, method, crc, csize, usize, extra)

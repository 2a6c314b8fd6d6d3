"""Walking the gzip members of a .warc.gz file, one member per record, checking each.

Shared by crash recovery (``crawler.warc.writer.recover``: where do whole records end?) and
the index (``crawler.replay.index``: where does the damage start?). zlib checks each
member's CRC and length, so a member that inflates to its end is intact.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class GzipMember:
    offset: int
    length: int  # compressed
    data: bytes  # inflated; b"" unless asked for


class BadMember(Exception):
    """The member at ``offset`` is not gzip, cut short or corrupt; ``str()`` says which."""

    def __init__(self, offset: int, why: str) -> None:
        super().__init__(why)
        self.offset = offset


def gzip_members(path: str | os.PathLike[str], *, inflate: bool = False) -> Iterator[GzipMember]:
    """Every gzip member of a file, in order; raises BadMember at the first bad one."""
    with open(path, "rb") as file:
        offset = 0
        while True:
            file.seek(offset)
            magic = file.read(2)
            if not magic:
                return
            if magic != GZIP_MAGIC:
                raise BadMember(
                    offset, f"not gzip data at offset {offset} (corrupt or not gzip-per-record)"
                )
            file.seek(offset)
            member = _read_member(file, offset, inflate)
            yield member
            offset += member.length


def _read_member(file: BinaryIO, offset: int, inflate: bool) -> GzipMember:
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    consumed = 0
    while not inflater.eof:
        chunk = file.read(_CHUNK)
        if not chunk:
            raise BadMember(offset, f"truncated: the record at offset {offset} is cut short")
        try:
            data = inflater.decompress(chunk)
        except zlib.error as exc:
            raise BadMember(
                offset, f"corrupt gzip data in the record at offset {offset} ({exc})"
            ) from None
        if inflate:
            parts.append(data)
        consumed += len(chunk)
    return GzipMember(offset, consumed - len(inflater.unused_data), b"".join(parts))

"""The zip writer: what it writes reads back whole, with the sizes and hashes it reports."""

from __future__ import annotations

import hashlib
import os
import time
import zipfile

import pytest
from _zip_records import read_records

from crawler.replay.zipwriter import ZipWriter


def test_entries_read_back_whole_with_their_sizes_hashes_and_dates(tmp_path):
    stored = tmp_path / "a.warc.gz"
    stored.write_bytes(os.urandom(3 * (1 << 20) + 17))  # more than one copy chunk
    text = tmp_path / "pages.jsonl"
    text.write_text("Thúc đẩy hợp tác\n" * 10_000, encoding="utf-8")
    when = time.mktime((2024, 5, 6, 7, 8, 10, 0, 0, -1))
    os.utime(stored, (when, when))
    out = tmp_path / "out.zip"

    with open(out, "wb") as fh, ZipWriter(fh) as zw:
        entries = [
            zw.add_file("archive/a.warc.gz", stored),
            zw.add_file("pages/pages.jsonl", text, deflate=True),
            zw.add_bytes("tệp.json", b'{"a": 1}'),
        ]

    sources = [stored.read_bytes(), text.read_bytes(), b'{"a": 1}']
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        assert [zf.read(info) for info in infos] == sources
    assert [i.compress_type for i in infos] == [zipfile.ZIP_STORED, *2 * [zipfile.ZIP_DEFLATED]]
    assert infos[0].date_time == (2024, 5, 6, 7, 8, 10)
    assert infos[1].compress_size < infos[1].file_size / 10
    for entry, info, data in zip(entries, infos, sources, strict=True):
        assert entry.name == info.filename and entry.size == info.file_size == len(data)
        assert entry.compressed_size == info.compress_size
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert entry.offset == info.header_offset


def test_only_non_ascii_names_are_flagged_utf8(tmp_path):
    out = tmp_path / "out.zip"
    with open(out, "wb") as fh, ZipWriter(fh) as zw:
        zw.add_bytes("plain.txt", b"a")
        zw.add_bytes("tệp.txt", b"b")

    records = read_records(out)
    assert [r.flags & 0x800 for r in records.central] == [0, 0x800]
    assert [r.flags for r in records.local] == [r.flags for r in records.central]


def test_more_than_65535_entries_get_zip64_end_records(tmp_path):
    out = tmp_path / "many.zip"
    count = 0xFFFF + 1
    with open(out, "wb") as fh, ZipWriter(fh) as zw:
        for n in range(count):
            zw.add_bytes(f"{n}", b"", deflate=False)

    records = read_records(out)
    assert records.zip64_end and len(records.central) == count
    with zipfile.ZipFile(out) as zf:
        assert len(zf.infolist()) == count


def test_chunks_that_do_not_add_up_to_the_announced_size_are_an_error(tmp_path):
    with open(tmp_path / "out.zip", "wb") as fh:
        zw = ZipWriter(fh)
        with pytest.raises(OSError, match="3 bytes where 5 were announced"):
            zw.add_chunks("short", [b"abc"], 5)
        with pytest.raises(OSError, match="where 2 were announced"):
            zw.add_chunks("long", [b"ab", b"cd"], 2)

"""The gzip-member walk: every whole member, and each damaged stretch stepped over."""

from __future__ import annotations

import gzip
import random
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.warc.gzip_members import Damage, GzipMember, survey, walk


def members(bodies: list[bytes]) -> list[bytes]:
    """One gzip member per WARC response record, one record per body."""
    out = []
    for n, body in enumerate(bodies):
        buffer = BytesIO()
        writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
        http = StatusAndHeaders("200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1")
        url = f"https://dangcongsan.vn/{n}.jpg"
        writer.write_record(
            writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http)
        )
        out.append(buffer.getvalue())
    return out


def parts(path: Path) -> list[tuple[str, int, int]]:
    return [
        ("member" if isinstance(p, GzipMember) else "damage", p.offset, p.length)
        for p in walk(path)
    ]


def test_a_whole_file_is_all_members(tmp_path):
    pieces = members([b"a" * 100, b"b" * 5000, b"c"])
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(b"".join(pieces))
    offsets = [0, len(pieces[0]), len(pieces[0]) + len(pieces[1])]
    assert parts(path) == [("member", o, len(p)) for o, p in zip(offsets, pieces, strict=True)]
    assert survey(path).damage == () and survey(path).intact == [(0, path.stat().st_size)]


def test_a_damaged_member_is_one_stretch_and_the_walk_goes_on(tmp_path):
    pieces = members([b"first", random.Random(1).randbytes(3000), b"third"])
    data = bytearray(b"".join(pieces))
    middle = len(pieces[0]) + len(pieces[1]) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path = tmp_path / "flipped.warc.gz"
    path.write_bytes(bytes(data))

    found = list(walk(path))

    assert [type(p) for p in found] == [GzipMember, Damage, GzipMember]
    assert (found[1].offset, found[1].length) == (len(pieces[0]), len(pieces[1]))
    assert "corrupt" in found[1].why
    assert str(found[1]).startswith(f"bytes {len(pieces[0])}-{len(pieces[0]) + len(pieces[1]) - 1}")


def test_garbage_at_the_end_and_a_cut_are_stretches_to_the_end(tmp_path):
    pieces = members([b"one", b"two"])
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(b"".join(pieces) + random.Random(2).randbytes(5000))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(b"".join(pieces)[:-10])
    assert parts(garbage)[-1] == ("damage", len(pieces[0]) + len(pieces[1]), 5000)
    assert parts(cut) == [
        ("member", 0, len(pieces[0])),
        ("damage", len(pieces[0]), len(pieces[1]) - 10),
    ]
    assert "truncated" in survey(cut).damage[0].why


def test_a_gzipped_body_inside_a_damaged_record_is_no_false_start(tmp_path):
    # Incompressible data is stored as it is inside the record's deflate stream: a gzip file
    # in a body shows its gzip header in the WARC file, yet it holds no WARC record.
    noise = random.Random(3).randbytes(100_000)
    inner = gzip.compress(noise[:500])
    pieces = members([b"before", noise + inner, b"after"])
    assert inner in pieces[1]
    data = bytearray(b"".join(pieces))
    data[len(pieces[0]) + 20] ^= 0xFF  # in the damaged record's header
    path = tmp_path / "inner.warc.gz"
    path.write_bytes(bytes(data))
    assert parts(path) == [
        ("member", 0, len(pieces[0])),
        ("damage", len(pieces[0]), len(pieces[1])),
        ("member", len(pieces[0]) + len(pieces[1]), len(pieces[2])),
    ]


def test_spans_read_the_intact_runs_at_their_true_offsets(tmp_path):
    pieces = members([b"x" * 10, b"y" * 10, b"z" * 10])
    data = b"".join(pieces)
    path = tmp_path / "spans.warc.gz"
    path.write_bytes(data[: len(pieces[0])] + b"\0" * len(pieces[1]) + data[-len(pieces[2]) :])
    found = survey(path)
    assert found.intact == [(0, len(pieces[0])), (len(data) - len(pieces[2]), len(data))]
    read = []
    for span in found.spans():
        read.append((span.tell(), span.read()))
    assert read == [(0, pieces[0]), (len(data) - len(pieces[2]), pieces[2])]
    assert found.removed_before(len(data) - len(pieces[2])) == len(pieces[1])

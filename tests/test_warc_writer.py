"""WarcWriter (files, rotation, locations) and recover() after a simulated crash."""

from __future__ import annotations

import gzip
import json
import re
import resource
import shutil
import subprocess
import sys
import zlib
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from crawler.errors import DcsError
from crawler.warc import records
from crawler.warc.writer import WarcWriteError, WarcWriter, recover, whole_records_end

BIN = Path(sys.executable).parent
NAME = re.compile(r"^dcs-\d{17}-(\d{5})-[A-Za-z0-9.-]+\.warc\.gz$")


def exchange(n: int, size: int = 200) -> list:
    """A response + request pair for page n, with an incompressible body of about size bytes."""
    url = f"http://127.0.0.1/page-{n}"
    body = (f"{n}".encode() + bytes(range(256)) * (size // 256 + 1))[:size]
    body = gzip.compress(body) if n % 2 else body
    http = records.HttpResponse(
        "HTTP/1.1", 200, "OK", [(b"Content-Length", str(len(body)).encode())], body
    )
    date = records.warc_date()
    response = records.response_record(url, http, date=date)
    request = records.request_record(
        url,
        records.HttpRequest("GET", f"/page-{n}", [(b"Host", b"127.0.0.1")]),
        date=date,
        concurrent_to=records.record_id(response),
    )
    return [response, request]


def read_all(path: Path) -> list:
    """(type, WARC headers, offset) of every record of a file."""
    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream)
        return [(r.rec_type, r.rec_headers, iterator.get_record_offset()) for r in iterator]


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", str(path)], capture_output=True, text=True
    )


def test_records_land_in_a_named_file_renamed_on_close(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields={"operator": "test"})
    locations = writer.write_all(exchange(1))
    [open_file] = list(tmp_path.iterdir())
    assert open_file.name.endswith(".warc.gz.open")
    assert NAME.match(locations[0].filename) and open_file.name == locations[0].filename + ".open"
    assert writer.current_filename == locations[0].filename
    final = writer.close()
    assert final == locations[0].filename and writer.files == [final]
    assert [p.name for p in tmp_path.iterdir()] == [final]
    kinds = [kind for kind, _, _ in read_all(tmp_path / final)]
    assert kinds == ["warcinfo", "response", "request"]
    info = read_all(tmp_path / final)[0][1]
    assert info["WARC-Filename"] == final


def test_locations_point_at_whole_gzip_members(tmp_path):
    with WarcWriter(tmp_path) as writer:
        groups = [writer.write_all(exchange(n)) for n in range(3)]
    for group in groups:
        for location in group:
            with open(tmp_path / location.filename, "rb") as file:
                file.seek(location.offset)
                member = file.read(location.length)
            inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
            text = inflater.decompress(member)
            assert inflater.eof and inflater.unused_data == b""
            assert f"WARC-Record-ID: {location.record_id}\r\n".encode() in text
    # and the offsets are the ones warcio finds
    found = {h["WARC-Record-ID"]: off for _, h, off in read_all(tmp_path / groups[0][0].filename)}
    assert all(found[loc.record_id] == loc.offset for group in groups for loc in group)


def test_files_rotate_at_max_size_between_groups(tmp_path):
    writer = WarcWriter(tmp_path, max_size=3000)
    locations = [writer.write_all(exchange(n, size=700)) for n in range(8)]
    writer.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) >= 3
    serials = [int(NAME.match(p.name).group(1)) for p in files]
    assert serials == list(range(len(files)))
    for response, request in locations:
        assert response.filename == request.filename  # a pair never splits
        assert request.offset == response.offset + response.length
    for path in files:
        kinds = [kind for kind, _, _ in read_all(path)]
        assert kinds[0] == "warcinfo" and kinds.count("warcinfo") == 1
        assert kinds[1:] == ["response", "request"] * ((len(kinds) - 1) // 2)
        assert path.stat().st_size <= 3000 or len(kinds) == 3  # over only for a lone group


def test_serial_continues_after_existing_files(tmp_path):
    (tmp_path / "dcs-20240101000000000-00041-old.warc.gz").write_bytes(b"")
    (tmp_path / "other-20240101000000000-00099-old.warc.gz").write_bytes(b"")
    with WarcWriter(tmp_path) as writer:
        [location, _] = writer.write_all(exchange(1))
    assert NAME.match(location.filename).group(1) == "00042"


def test_nothing_written_leaves_no_file(tmp_path):
    WarcWriter(tmp_path).close()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DcsError) as error:
        WarcWriter(blocker / "warc")
    assert "\n" not in str(error.value) and "a-file" in str(error.value)


def test_bad_prefix_is_refused(tmp_path):
    with pytest.raises(DcsError):
        WarcWriter(tmp_path, prefix="../x")


def test_written_files_pass_warcio_check_and_cdxj_indexer(tmp_path):
    with WarcWriter(tmp_path) as writer:
        for n in range(3):
            writer.write_all(exchange(n))
        writer.write(
            records.conversion_record("http://127.0.0.1/page-1", "văn bản", refers_to="<x>")
        )
    [path] = list(tmp_path.iterdir())
    checked = warcio_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("digest pass") == 1 + 6 + 1
    index = subprocess.run(
        [str(BIN / "cdxj-indexer"), str(path)], capture_output=True, text=True, check=True
    )
    urls = sorted(json.loads(line.split(" ", 2)[2])["url"] for line in index.stdout.splitlines())
    assert urls == [f"http://127.0.0.1/page-{n}" for n in range(3)]


# -- crash and recovery --------------------------------------------------------------------
def crashed_copy(tmp_path: Path, tail: bytes) -> tuple[Path, int, int]:
    """A .open file as a crash leaves it: whole records, then tail. (path, whole size, records)"""
    live = tmp_path / "live"
    writer = WarcWriter(live)
    for n in range(3):
        writer.write_all(exchange(n))
    [open_file] = list(live.iterdir())
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    copy = crashed / open_file.name
    shutil.copyfile(open_file, copy)
    writer.close()
    whole = copy.stat().st_size
    with open(copy, "ab") as file:
        file.write(tail)
    return copy, whole, 7


def half_member() -> bytes:
    """The first half of one record's gzip member: a write cut short by the crash."""
    out = BytesIO()
    WARCWriter(out, gzip=True, warc_version="1.1").write_record(exchange(9)[0])
    return out.getvalue()[: len(out.getvalue()) // 2]


@pytest.mark.parametrize(
    "tail",
    [half_member(), b"\x00garbage that is no gzip at all", b""],
    ids=["half-gzip-member", "garbage", "clean"],
)
def test_recover_cuts_after_last_whole_record_and_renames(tmp_path, tail):
    copy, whole, count = crashed_copy(tmp_path, tail)
    done = recover(copy.parent)
    final = copy.with_name(copy.name.removesuffix(".open"))
    assert len(done) == 1 and final.name in done[0]
    assert not copy.exists() and final.stat().st_size == whole
    assert whole_records_end(final) == (whole, count)
    assert warcio_check(final).returncode == 0
    assert [kind for kind, _, _ in read_all(final)][-2:] == ["response", "request"]


def test_recover_drops_a_corrupted_last_member(tmp_path):
    copy, whole, count = crashed_copy(tmp_path, b"")
    data = bytearray(copy.read_bytes())
    data[-10] ^= 0xFF  # inside the last member: its CRC no longer matches
    copy.write_bytes(bytes(data))
    recover(copy.parent)
    final = copy.with_name(copy.name.removesuffix(".open"))
    end, kept = whole_records_end(final)
    assert kept == count - 1 and final.stat().st_size == end < whole
    assert warcio_check(final).returncode == 0


def test_recover_keeps_the_whole_records_after_a_damaged_one(tmp_path):
    copy, whole, count = crashed_copy(tmp_path, half_member())
    before = read_all(copy)
    hit = before[3][2]  # the second exchange's response
    data = bytearray(copy.read_bytes())
    data[hit + 40 : hit + 104] = bytes(b ^ 0xFF for b in data[hit + 40 : hit + 104])
    copy.write_bytes(bytes(data))

    [line] = recover(copy.parent)

    final = copy.with_name(copy.name.removesuffix(".open"))
    assert final.stat().st_size == whole  # only the half record at the end is cut
    assert f"damaged bytes {hit}-{before[4][2] - 1}" in line and "left in place" in line
    assert whole_records_end(final) == (whole, count - 1)
    with open(final, "rb") as stream:
        stream.seek(before[4][2])  # the record after the damage, where it was
        after = next(iter(ArchiveIterator(stream)))
    assert after.rec_headers["WARC-Record-ID"] == before[4][1]["WARC-Record-ID"]


def test_recover_removes_a_file_without_a_whole_record(tmp_path):
    broken = tmp_path / "dcs-20240101000000000-00000-h.warc.gz.open"
    broken.write_bytes(half_member())
    [line] = recover(tmp_path)
    assert line.startswith("removed") and list(tmp_path.iterdir()) == []


def test_recover_leaves_closed_files_alone(tmp_path):
    with WarcWriter(tmp_path) as writer:
        writer.write_all(exchange(1))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert recover(tmp_path) == [] and recover(tmp_path / "missing") == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@contextmanager
def file_size_limit(limit: int):
    """Writes past `limit` bytes fail as on a full disk (EFBIG; Python ignores SIGXFSZ), and
    a write that crosses it is cut short there, as the operating system does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_group_that_cannot_be_written_whole_is_rolled_back(tmp_path):
    writer = WarcWriter(tmp_path)
    first = writer.write_all(exchange(1))
    path = tmp_path / (first[0].filename + ".open")
    size = path.stat().st_size
    with file_size_limit(size + 500), pytest.raises(WarcWriteError, match="File too large"):
        writer.write_all(exchange(2, size=5000))  # cut short half way
    assert path.stat().st_size == size  # no half record
    later = writer.write_all(exchange(3))  # room again: at the offsets it says
    assert later[0].offset == size
    writer.close()
    final = tmp_path / first[0].filename
    assert warcio_check(final).returncode == 0
    found = {h["WARC-Record-ID"]: off for _, h, off in read_all(final)}
    assert all(found[loc.record_id] == loc.offset for loc in first + later)


def test_a_file_whose_warcinfo_cannot_be_written_is_removed(tmp_path):
    writer = WarcWriter(tmp_path)
    with file_size_limit(100), pytest.raises(WarcWriteError):
        writer.write_all(exchange(1))
    assert list(tmp_path.iterdir()) == []
    location = writer.write_all(exchange(2))[0]
    writer.close()
    assert [kind for kind, _, _ in read_all(tmp_path / location.filename)] == [
        "warcinfo", "response", "request",
    ]  # fmt: skip


def test_every_record_names_the_warcinfo_that_opens_its_file(tmp_path):
    writer = WarcWriter(tmp_path, max_size=3000)
    for n in range(8):
        writer.write_all(exchange(n, size=700))
    writer.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) >= 3
    warcinfo_ids = set()
    for path in files:
        [(kind, info, _), *rest] = read_all(path)
        assert kind == "warcinfo" and info.get_header("WARC-Warcinfo-ID") is None
        warcinfo_ids.add(info["WARC-Record-ID"])
        assert rest and all(h["WARC-Warcinfo-ID"] == info["WARC-Record-ID"] for _, h, _ in rest)
        # Records moved to the next file by a rotation are written whole.
        checked = warcio_check(path)
        assert checked.returncode == 0 and "not checked" not in checked.stdout, checked.stdout
    assert len(warcinfo_ids) == len(files)


def streamed_record(tmp_path: Path, body: bytes) -> tuple:
    """A response record of ``body`` written whole, and the same one (same ID, date and
    headers) whose payload is read from a file: (the writer, where the first lies, the
    second, its open payload file)."""
    http = records.HttpResponse("HTTP/1.1", 200, "OK", [(b"Content-Type", b"application/pdf")])
    same = {"date": records.warc_date(), "ip": "127.0.0.1", "record_id": records.new_record_id()}
    whole = records.response_record(
        "http://127.0.0.1/a.pdf", records.HttpResponse(**{**http.__dict__, "body": body}), **same
    )
    spool = tmp_path / "body"
    spool.write_bytes(body)
    writer = WarcWriter(tmp_path / "warc")
    first = writer.write_all([whole])[0]
    payload = open(spool, "rb")  # noqa: SIM115 (closed by the tests)
    streamed = records.streamed_response_record(
        "http://127.0.0.1/a.pdf", http, payload, len(body), **same
    )
    return writer, first, streamed, payload


def member(path: Path, location) -> bytes:
    with open(path / location.filename, "rb") as file:
        file.seek(location.offset)
        return gzip.decompress(file.read(location.length))


def test_a_record_streamed_from_a_file_is_the_record_written_whole(tmp_path):
    body = bytes(range(256)) * 20_000  # five pieces of a MiB
    writer, whole, streamed, payload = streamed_record(tmp_path, body)
    with payload:
        (location,) = writer.write_streamed(streamed)
    writer.close()
    assert member(tmp_path / "warc", location) == member(tmp_path / "warc", whole)
    assert location.offset == whole.offset + whole.length
    assert warcio_check(tmp_path / "warc" / whole.filename).returncode == 0


def test_a_payload_file_cut_short_while_written_is_rolled_back(tmp_path):
    body = b"%PDF-1.7 " * 300_000
    writer, whole, streamed, payload = streamed_record(tmp_path, body)
    (tmp_path / "body").write_bytes(body[:-9])  # shorter than its record says
    with payload, pytest.raises(WarcWriteError, match="ends 9 bytes early"):
        writer.write_streamed(streamed)
    (path,) = (tmp_path / "warc").glob("*.open")
    assert path.stat().st_size == whole.offset + whole.length  # no half record
    writer.close()
    (final,) = (tmp_path / "warc").glob("*.warc.gz")
    assert [t for t, _, _ in read_all(final)] == ["warcinfo", "response"]

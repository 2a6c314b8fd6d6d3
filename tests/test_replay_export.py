"""`export wacz`: a WACZ that `wacz validate` accepts, listing every article with its text."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import subprocess
import sys
import uuid
import zipfile
from datetime import date
from pathlib import Path

import pytest
from _replay import write_small_warc
from _zip_records import ZipRecords, read_records
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import timestamp_to_iso_date
from warcio.warcwriter import WARCWriter

from crawler.errors import DcsError
from crawler.replay import zipwriter
from crawler.replay.export import export_wacz
from crawler.replay.index import format_line, iter_index
from crawler.replay.zipnum import write_zipnum

WACZ_CLI = Path(sys.executable).with_name("wacz")


def validate(path: Path) -> subprocess.CompletedProcess:
    command = [str(WACZ_CLI)] if WACZ_CLI.exists() else [sys.executable, "-m", "wacz"]
    return subprocess.run(
        [*command, "validate", "-f", str(path)], capture_output=True, text=True, timeout=120
    )


def pages_of(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as zf:
        lines = zf.read("pages/pages.jsonl").decode("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_export_passes_wacz_validate(small_archive, tmp_path):
    out = tmp_path / "archive.wacz"
    result = export_wacz(small_archive.out_dir, out)

    run = validate(out)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Validation succeeded" in run.stdout
    assert result.path == out and result.bytes == out.stat().st_size
    assert sorted(result.warcs) == sorted(
        p.name for p in (small_archive.out_dir / "warc").iterdir()
    )


def test_wacz_layout_warcs_stored_and_hashed(small_archive, tmp_path):
    out = tmp_path / "archive.wacz"
    export_wacz(small_archive.out_dir, out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        package = json.loads(zf.read("datapackage.json"))
        digest = json.loads(zf.read("datapackage-digest.json"))
        for info in zf.infolist():
            if info.filename.startswith("archive/"):
                assert info.compress_type == zipfile.ZIP_STORED, info.filename
                source = small_archive.out_dir / "warc" / Path(info.filename).name
                assert zf.read(info) == source.read_bytes()
        index = index_of(zf)
    assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"} <= set(names)
    assert package["wacz_version"] == "1.1.1"
    assert {r["path"] for r in package["resources"]} == set(names) - {
        "datapackage.json",
        "datapackage-digest.json",
    }
    assert all(r["hash"].startswith("sha256:") for r in package["resources"])
    assert digest["path"] == "datapackage.json" and digest["hash"].startswith("sha256:")
    assert index == sorted(index) and len(index) == len(small_archive.captures)


def test_pages_list_every_article_with_its_text(small_archive, tmp_path):
    out = tmp_path / "archive.wacz"
    result = export_wacz(small_archive.out_dir, out)
    header, *pages = pages_of(out)

    assert header["format"] == "json-pages-1.0"
    assert {p["url"] for p in pages} == set(small_archive.articles)
    assert result.pages == len(pages) == len(small_archive.articles)
    seed = next(p for p in pages if p["url"] == small_archive.seed_url)
    assert seed["title"] == small_archive.seed_title
    assert seed["text"] == small_archive.seed_text
    ts = small_archive.seed_timestamp
    assert seed["ts"] == f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:]}Z"
    with_text = [p for p in pages if p.get("text")]
    assert result.pages_with_text == len(with_text) == len(small_archive.articles) - 1
    assert all(p["url"] != small_archive.without_text for p in with_text)


def _redated_copy(source: Path, offset: int, dest: Path, when: str) -> None:
    """A WARC holding the record of `source` at `offset`, as if captured at `when`."""
    with open(source, "rb") as src, open(dest, "wb") as fh:
        src.seek(offset)
        record = next(iter(ArchiveIterator(src)))
        record.rec_headers.replace_header("WARC-Date", when)
        record.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>")
        WARCWriter(fh, gzip=True, warc_version="WARC/1.1").write_record(record)


def test_since_keeps_recent_warcs_and_the_originals_of_their_revisits(archive_copy, tmp_path):
    warc = archive_copy.out_dir / "warc"
    old = warc / "dcs-20200501000000000-00000-old.warc.gz"
    write_small_warc(
        old,
        "https://dangcongsan.vn/thoi-su/bai-cu-nam-2020-300001.html",
        when="2020-05-01T00:00:00Z",
        body=b"<html><title>old</title></html>",
    )
    # The seed page as captured years before the crawls, with the payload their revisits name.
    seed = archive_copy.capture_of(archive_copy.seed_url)
    earlier = warc / "dcs-20200601000000000-00000-earlier.warc.gz"
    _redated_copy(warc / seed.filename, seed.offset, earlier, "2020-06-01T00:00:00Z")
    ts = archive_copy.captures[0].timestamp  # the first crawl's day
    out = tmp_path / "recent.wacz"

    everything = export_wacz(archive_copy.out_dir, tmp_path / "all.wacz")
    recent = export_wacz(
        archive_copy.out_dir, out, since=date(int(ts[:4]), int(ts[4:6]), int(ts[6:8]))
    )

    assert old.name in everything.warcs
    assert old.name not in recent.warcs
    # The crawls' files, and the older file that holds a payload their revisits name.
    assert recent.warcs == sorted([earlier.name, *archive_copy.warcs])
    assert validate(out).returncode == 0
    assert all("300001" not in p["url"] for p in pages_of(out)[1:])


def test_since_after_every_capture_is_a_one_line_error(small_archive, tmp_path):
    with pytest.raises(DcsError, match="no captures since 2030-01-01"):
        export_wacz(small_archive.out_dir, tmp_path / "x.wacz", since=date(2030, 1, 1))
    assert not (tmp_path / "x.wacz").exists() and not (tmp_path / "x.wacz.part").exists()


def flip_64_bytes(data: bytes, at: int) -> bytes:
    return data[:at] + bytes(b ^ 0xFF for b in data[at : at + 64]) + data[at + 64 :]


def packed_records(wacz: Path) -> list[tuple[str, str]]:
    """(URL of the index line, WARC-Target-URI of the record at its offset) for every line
    of the WACZ's index, read from the WARCs inside it."""
    pairs = []
    with zipfile.ZipFile(wacz) as zf:
        for line in index_of(zf):
            fields = json.loads(line.split(" ", 2)[2])
            for where in (fields, fields.get("revisit")):
                if where:
                    with zf.open("archive/" + where["filename"]) as warc:
                        warc.seek(int(where["offset"]))
                        record = next(iter(ArchiveIterator(warc)))
                    pairs.append((fields["url"], record.rec_headers.get_header("WARC-Target-URI")))
    return pairs


def test_damaged_warcs_go_in_with_their_whole_records(archive_copy, tmp_path):
    warc = archive_copy.out_dir / "warc"
    first = warc / archive_copy.warcs[0]  # the first crawl's file
    data = first.read_bytes()
    before = {c.url for c in archive_copy.captures if c.filename == first.name}
    junk = warc / "dcs-20200101000000000-00000-junk.warc.gz"
    junk.write_bytes(b"not a warc\n" * 100)
    cut = warc / "dcs-20200101000000000-00001-cut.warc.gz"
    cut.write_bytes(data[: len(data) // 2])
    first.write_bytes(data + random.Random(5).randbytes(5000))  # 5 KB of garbage appended
    in_first = [c for c in archive_copy.captures if c.filename == first.name]
    hit = min(in_first, key=lambda c: abs(c.offset - len(data) // 2))  # a capture mid-file
    flipped = warc / "dcs-20200101000000000-00002-flip.warc.gz"
    flipped.write_bytes(flip_64_bytes(data, hit.offset + hit.length // 2 - 32))
    out = tmp_path / "archive.wacz"

    result = export_wacz(archive_copy.out_dir, out)

    assert junk.name not in result.warcs  # nothing whole in it
    assert result.warcs == sorted([cut.name, flipped.name, *archive_copy.warcs])
    assert sorted(p.split(":", 1)[0] for p in result.problems) == sorted(
        [junk.name, cut.name, first.name, flipped.name]
    )
    run = validate(out)
    assert run.returncode == 0, run.stdout + run.stderr
    pairs = packed_records(out)
    assert all(line_url == record_url for line_url, record_url in pairs)
    with zipfile.ZipFile(out) as zf:
        assert zf.getinfo("archive/" + first.name).file_size == len(data)  # the garbage cut off
        packed = index_of(zf)
    urls = {
        json.loads(line.split(" ", 2)[2])["url"]: json.loads(line.split(" ", 2)[2])["filename"]
        for line in packed
    }
    assert before <= urls.keys()
    # Every capture of the flipped copy but the one the flip hit, the later ones moved up.
    in_flipped = sorted(
        int(fields["offset"])
        for fields in (json.loads(line.split(" ", 2)[2]) for line in packed)
        if fields["filename"] == flipped.name
    )
    moved = [c.offset - hit.length * (c.offset > hit.offset) for c in in_first if c is not hit]
    assert in_flipped == sorted(moved)


def test_bad_output_paths_are_one_line_errors(small_archive, tmp_path):
    with pytest.raises(DcsError, match=r"\.wacz"):
        export_wacz(small_archive.out_dir, tmp_path / "archive.zip")
    with pytest.raises(DcsError, match="does not exist"):
        export_wacz(small_archive.out_dir, tmp_path / "no" / "such" / "archive.wacz")


def assert_records_agree(records: ZipRecords) -> None:
    """What a zip reader may rely on: each local header says what its central record says."""
    for central, local in zip(records.central, records.local, strict=True):
        where = central.name
        assert local.name == central.name
        assert (local.version_needed, local.flags, local.method, local.crc) == (
            central.version_needed,
            central.flags,
            central.method,
            central.crc,
        ), where
        assert (local.compressed_size, local.size) == (central.compressed_size, central.size)
        assert local.sizes() == central.sizes(), where
        # The central record's Zip64 field holds the local one's, plus the offset of an
        # entry that starts past 4 GiB (which only the central directory records).
        past_limit = central.offset >= zipwriter.ZIP64_LIMIT
        assert central.zip64() == local.zip64() + ([central.offset] if past_limit else []), where
        if not past_limit:
            assert central.extra == local.extra, where
        if not central.extra:  # ReplayWeb.page then takes the local header to have none
            assert not local.extra, where
        assert central.external_attr >> 16 == 0o100644, f"{where}: not rw-r--r--"
        assert central.made_by >> 8 == 3, f"{where}: not made on Unix"


def test_local_headers_agree_with_the_central_directory(small_archive, tmp_path):
    out = export_wacz(small_archive.out_dir, tmp_path / "archive.wacz").path
    records = read_records(out)

    assert_records_agree(records)
    # Nothing here can pass 4 GiB: no Zip64 anywhere, and every data offset is where a
    # reader computes it from the central record alone.
    assert not records.zip64_end
    for central, start in zip(records.central, records.data_offsets, strict=True):
        assert central.extra == b"" and central.version_needed == 20
        assert start == central.offset + 30 + len(central.name.encode())
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == [c.name for c in records.central]


def test_zip64_only_where_an_entry_passes_the_limit_and_then_in_both_records(
    small_archive, tmp_path, monkeypatch
):
    limit = 64 * 1024  # as if 4 GiB: the large WARCs pass it, later entries start past it
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", limit)
    out = export_wacz(small_archive.out_dir, tmp_path / "archive.wacz").path
    records = read_records(out)

    assert_records_agree(records)
    pairs = list(zip(records.central, records.local, strict=True))
    for central, local in pairs:  # (a compressed entry could outgrow its size by ~0.03%)
        assert bool(local.zip64()) == (central.sizes()[1] >= limit), central.name
    assert any(local.zip64() for _, local in pairs), "no entry passed the limit"
    assert any(c.offset >= limit and not local.zip64() for c, local in pairs), "none past it"
    assert records.zip64_end
    with zipfile.ZipFile(out) as zf:  # every entry reads back whole
        assert zf.testzip() is None
        for name in (n for n in zf.namelist() if n.startswith("archive/")):
            assert zf.read(name) == (small_archive.out_dir / "warc" / name[8:]).read_bytes()
    run = validate(out)
    assert run.returncode == 0, run.stdout + run.stderr


def index_of(zf: zipfile.ZipFile) -> list[str]:
    """The CDXJ lines of a WACZ's index, ZipNum (the default) or plain."""
    if "indexes/index.cdx" in zf.namelist():
        return zf.read("indexes/index.cdx").decode().splitlines(keepends=True)
    return unpack_zipnum(zf.read("indexes/index.cdx.gz"), zf.read("indexes/index.idx").decode())


def unpack_zipnum(blocks: bytes, idx_text: str) -> list[str]:
    """The index lines of ZipNum blocks, checking each .idx line against its block."""
    meta, *idx = idx_text.splitlines()
    assert meta == '!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}'
    lines: list[str] = []
    for line in idx:
        key, ts, where = line.split(" ", 2)
        where = json.loads(where)
        block = blocks[where["offset"] : where["offset"] + where["length"]]
        assert where["digest"] == "sha256:" + hashlib.sha256(block).hexdigest()
        assert where["filename"] == "index.cdx.gz"
        block_lines = gzip.decompress(block).decode().splitlines(keepends=True)
        assert block_lines[0].startswith(f"{key} {ts} ")
        lines += block_lines
    assert sum(json.loads(line.split(" ", 2)[2])["length"] for line in idx) == len(blocks)
    return lines


def test_zipnum_blocks_hold_the_lines_in_order_and_the_idx_finds_each(small_archive):
    lines = [format_line(*line) for line in iter_index(small_archive.out_dir)]
    blocks = io.BytesIO()
    idx = write_zipnum(lines, blocks, block_lines=50)

    assert unpack_zipnum(blocks.getvalue(), idx) == lines
    assert len(idx.splitlines()) == 1 + -(-len(lines) // 50)  # meta, then one per block


def test_export_past_the_threshold_writes_a_stored_zipnum_index(small_archive, tmp_path):
    captures = len(small_archive.captures)
    at = export_wacz(small_archive.out_dir, tmp_path / "at.wacz", zipnum_over=captures)
    past = export_wacz(small_archive.out_dir, tmp_path / "past.wacz", zipnum_over=captures - 1)
    with zipfile.ZipFile(at.path) as zf:
        lines = zf.read("indexes/index.cdx").decode().splitlines(keepends=True)
    with zipfile.ZipFile(past.path) as zf:
        names = zf.namelist()
        blocks = zf.read("indexes/index.cdx.gz")
        stored = zf.getinfo("indexes/index.cdx.gz").compress_type == zipfile.ZIP_STORED
        idx = zf.read("indexes/index.idx").decode()
        package = json.loads(zf.read("datapackage.json"))

    assert not at.zipnum and past.zipnum and stored
    assert "indexes/index.cdx" not in names
    assert unpack_zipnum(blocks, idx) == lines and past.index_lines == captures
    listed = {r["path"] for r in package["resources"]}
    assert {"indexes/index.cdx.gz", "indexes/index.idx"} <= listed
    run = validate(past.path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_datapackage_names_the_home_page_as_main_page(small_archive, tmp_path):
    out = export_wacz(small_archive.out_dir, tmp_path / "archive.wacz")
    with zipfile.ZipFile(out.path) as zf:
        package = json.loads(zf.read("datapackage.json"))

    home = max(c.timestamp for c in small_archive.captures if c.url == "https://dangcongsan.vn/")
    assert package["mainPageUrl"] == "https://dangcongsan.vn/"
    assert package["mainPageDate"] == timestamp_to_iso_date(home)
    assert out.main_page == ("https://dangcongsan.vn/", home)

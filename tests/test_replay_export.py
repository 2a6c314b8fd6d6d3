"""`export wacz`: a WACZ that `wacz validate` accepts, listing every article with its text."""

from __future__ import annotations

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
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from crawler.errors import DcsError
from crawler.replay.export import export_wacz

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
        index = zf.read("indexes/index.cdx").decode().splitlines()
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
        for line in zf.read("indexes/index.cdx").decode().splitlines():
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
        packed = zf.read("indexes/index.cdx").decode()
    urls = {
        json.loads(line.split(" ", 2)[2])["url"]: json.loads(line.split(" ", 2)[2])["filename"]
        for line in packed.splitlines()
    }
    assert before <= urls.keys()
    # Every capture of the flipped copy but the one the flip hit, the later ones moved up.
    in_flipped = sorted(
        int(fields["offset"])
        for fields in (json.loads(line.split(" ", 2)[2]) for line in packed.splitlines())
        if fields["filename"] == flipped.name
    )
    moved = [c.offset - hit.length * (c.offset > hit.offset) for c in in_first if c is not hit]
    assert in_flipped == sorted(moved)


def test_bad_output_paths_are_one_line_errors(small_archive, tmp_path):
    with pytest.raises(DcsError, match=r"\.wacz"):
        export_wacz(small_archive.out_dir, tmp_path / "archive.zip")
    with pytest.raises(DcsError, match="does not exist"):
        export_wacz(small_archive.out_dir, tmp_path / "no" / "such" / "archive.wacz")

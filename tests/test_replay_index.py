"""The CDXJ index of an archive folder: built from DIR/warc, incremental, robust to bad files."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from _replay import write_small_warc

from crawler.errors import DcsError
from crawler.replay.index import build_index, iter_index, part_path


def _lines(out_dir):
    return list(iter_index(out_dir))


def test_index_lists_every_response_and_revisit_sorted(archive_copy):
    result = build_index(archive_copy.out_dir)

    assert result.problems == []
    assert sorted(result.indexed) == sorted(os.listdir(archive_copy.out_dir / "warc"))
    text = result.index_path.read_text(encoding="utf-8").splitlines()
    assert text == sorted(text)
    assert result.entries == len(text) == len(archive_copy.captures)
    lines = [f for _k, _t, f in _lines(archive_copy.out_dir)]
    indexed = {(f["filename"], int(f["offset"])) for f in lines}
    # A 304's line points at the original (checked below) and names the 304 under "revisit".
    not_modified = {
        (f["revisit"]["filename"], int(f["revisit"]["offset"])) for f in lines if "revisit" in f
    }
    # Every response and revisit record the crawls wrote, found at its offset.
    for capture in archive_copy.captures:
        located = (capture.filename, capture.offset)
        assert located in (not_modified if capture.status == 304 else indexed), capture


def test_304_line_points_at_the_original_and_keeps_the_revisit(archive_copy):
    build_index(archive_copy.out_dir)
    revisit = archive_copy.not_modified_revisit
    original = archive_copy.capture_of(revisit.url)
    lines = [f for _k, ts, f in _lines(archive_copy.out_dir) if ts == revisit.timestamp]
    line = next(f for f in lines if f["url"] == revisit.url)

    assert (line["filename"], int(line["offset"])) == (original.filename, original.offset)
    assert line["status"] == "200"
    assert line["revisit"]["status"] == "304"
    assert (line["revisit"]["filename"], int(line["revisit"]["offset"])) == (
        revisit.filename,
        revisit.offset,
    )


def test_second_build_reads_only_new_or_changed_files(archive_copy):
    out = archive_copy.out_dir
    first = build_index(out)
    assert first.indexed and not first.reused
    index_mtime = first.index_path.stat().st_mtime_ns

    again = build_index(out)
    assert again.indexed == []
    assert sorted(again.reused) == sorted(first.indexed)
    assert again.entries == first.entries
    assert again.index_path.stat().st_mtime_ns == index_mtime  # not rewritten

    write_small_warc(
        out / "warc" / "dcs-20200102030405000-00000-old.warc.gz", "https://dangcongsan.vn/"
    )
    read = []
    third = build_index(out, on_file=read.append)
    assert third.indexed == read == ["dcs-20200102030405000-00000-old.warc.gz"]
    assert third.entries == first.entries + 1
    assert any(f["filename"].endswith("-old.warc.gz") for _k, _t, f in _lines(out))


def test_changed_and_removed_files_are_noticed(archive_copy):
    out = archive_copy.out_dir
    extra = out / "warc" / "dcs-20200102030405000-00000-old.warc.gz"
    write_small_warc(extra, "https://dangcongsan.vn/")
    base = build_index(out).entries

    write_small_warc(
        extra, "https://dangcongsan.vn/", body=b"<html>a longer body than before</html>"
    )
    changed = build_index(out)
    assert changed.indexed == [extra.name]
    assert changed.entries == base

    extra.unlink()
    removed = build_index(out)
    assert removed.removed == [extra.name]
    assert removed.entries == base - 1
    assert not part_path(out, extra.name).exists()


def test_open_files_are_skipped(archive_copy):
    out = archive_copy.out_dir
    write_small_warc(
        out / "warc" / "dcs-20991231000000000-00000-x.warc.gz.open", "https://dangcongsan.vn/"
    )
    result = build_index(out)
    assert not any(name.endswith(".open") for name in result.indexed)
    assert not any("20991231" in f["filename"] for _k, _t, f in _lines(out))


def test_corrupt_and_truncated_files_are_reported_and_the_rest_indexed(archive_copy):
    out = archive_copy.out_dir
    warcs = sorted((out / "warc").iterdir())
    good_entries = build_index(out).entries
    truncated = out / "warc" / "dcs-20200101000000000-00000-cut.warc.gz"
    data = warcs[0].read_bytes()
    truncated.write_bytes(data[: len(data) * 2 // 3])
    garbage = out / "warc" / "dcs-20200101000000000-00001-junk.warc.gz"
    garbage.write_bytes(b"this is not a WARC file\n" * 50)
    flipped = out / "warc" / "dcs-20200101000000000-00002-flip.warc.gz"
    damaged = bytearray(data)
    damaged[len(damaged) // 2 : len(damaged) // 2 + 64] = b"\0" * 64
    flipped.write_bytes(bytes(damaged))

    result = build_index(out)

    assert len(result.problems) == 3
    assert all("\n" not in p for p in result.problems)
    by_file = {p.split(":", 1)[0]: p for p in result.problems}
    assert "truncated" in by_file[truncated.name]
    assert "not gzip" in by_file[garbage.name]
    assert "corrupt" in by_file[flipped.name]
    # The good files are all still there, plus the records before the damage.
    lines = _lines(out)
    good = [f for _k, _t, f in lines if f["filename"] in {w.name for w in warcs}]
    assert len(good) == good_entries
    cut = [f for _k, _t, f in lines if f["filename"] == truncated.name]
    assert 0 < len(cut) < len([f for f in good if f["filename"] == warcs[0].name])
    # Reported again on the next build, without reading the files again.
    again = build_index(out)
    assert again.indexed == [] and len(again.problems) == 3


def test_missing_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(DcsError, match="does not exist"):
        build_index(tmp_path / "nope")


def test_empty_archive_gives_an_empty_index(tmp_path):
    (tmp_path / "warc").mkdir()
    result = build_index(tmp_path)
    assert result.entries == 0 and result.index_path.read_text() == ""
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["files"] == {}


def test_index_is_rebuilt_when_deleted(archive_copy):
    out = archive_copy.out_dir
    first = build_index(out)
    shutil.rmtree(out / "index")
    second = build_index(out)
    assert second.entries == first.entries

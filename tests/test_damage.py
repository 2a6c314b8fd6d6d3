"""Damage stays local: every reader steps over a damaged stretch of a WARC file, names it in
one line, exits non-zero, and keeps every whole record (on the real crawl of the replica)."""

from __future__ import annotations

import random

from crawl_support import dcs

from crawler.replay.index import build_index, iter_index
from crawler.replay.show import show


def flip_64_bytes(path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at : at + 64] = bytes(b ^ 0xFF for b in data[at : at + 64])
    path.write_bytes(bytes(data))


def mid_file_capture(archive):
    """A response in the middle of the first crawl's WARC file, and the file."""
    path = archive.out_dir / "warc" / archive.warcs[0]
    size = path.stat().st_size
    responses = [
        c for c in archive.captures if c.filename == path.name and c.record_type == "response"
    ]
    return min(responses, key=lambda c: abs(c.offset - size // 2)), path


def indexed(out) -> set[tuple[str, int]]:
    """Where the records of the index's lines lie (a 304's own record under "revisit")."""
    places = set()
    for _key, _ts, fields in iter_index(out):
        where = fields.get("revisit") or fields
        places.add((where["filename"], int(where["offset"])))
    return places


def damage_line(run, name: str) -> str:
    """The one `dcs:` line of a run that read a damaged file (progress bars aside)."""
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    [line] = [line for line in run.stderr.splitlines() if line.startswith("dcs")]
    assert line.startswith(f"dcs: error: damaged WARC file {name}: bytes "), line
    return line


def test_64_flipped_bytes_hide_only_the_record_they_hit(archive_copy):
    hit, path = mid_file_capture(archive_copy)
    flip_64_bytes(path, hit.offset + hit.length // 2 - 32)
    everything = {(c.filename, c.offset) for c in archive_copy.captures}

    index = dcs("index", "--out", str(archive_copy.out_dir))

    line = damage_line(index, path.name)
    assert f"bytes {hit.offset}-{hit.offset + hit.length - 1} (corrupt" in line
    assert indexed(archive_copy.out_dir) == everything - {(hit.filename, hit.offset)}
    later = [
        c
        for c in archive_copy.captures
        if c.filename == path.name and c.offset > hit.offset and c.record_type == "response"
        and c.content_type.startswith("text/html") and c.url != hit.url
    ]  # fmt: skip
    assert later
    for capture in later[:3]:  # replayed from the archive, after the damage
        html = show(archive_copy.out_dir, capture.url, at=capture.timestamp, part="html")
        assert html.strip()
    listing = dcs("replay", "list", "--out", str(archive_copy.out_dir), later[0].url)
    damage_line(listing, path.name)
    assert f"{path.name}:{later[0].offset}" in listing.stdout


def test_garbage_appended_keeps_every_record(archive_copy):
    path = archive_copy.out_dir / "warc" / archive_copy.warcs[0]
    size = path.stat().st_size
    with open(path, "ab") as file:
        file.write(random.Random(7).randbytes(5000))

    result = build_index(archive_copy.out_dir)

    assert [str(d) for d in result.damage[path.name]] == [
        f"bytes {size}-{size + 4999} (not gzip data: corrupt, or not one gzip member per record)"
    ]
    assert indexed(archive_copy.out_dir) == {(c.filename, c.offset) for c in archive_copy.captures}


def test_extract_of_a_truncated_file_says_so_and_fails(archive_copy, tmp_path):
    path = archive_copy.out_dir / "warc" / archive_copy.warcs[0]
    articles = [
        c
        for c in archive_copy.captures
        if c.filename == path.name and c.url in archive_copy.articles
    ]
    last = max(articles, key=lambda c: c.offset)
    cut = tmp_path / path.name
    cut.write_bytes(path.read_bytes()[: last.offset + last.length // 2])
    whole = dcs("extract", str(path), "--out", str(tmp_path / "whole"), "--workers", "1")
    assert whole.returncode == 0, whole.stderr

    run = dcs("extract", str(cut), "--out", str(tmp_path / "cut"), "--workers", "1")

    line = damage_line(run, str(cut))
    assert "(truncated: a record is cut short)" in line
    texts = {p.name for p in (tmp_path / "whole").rglob("*.txt")}
    extracted = {p.name for p in (tmp_path / "cut").rglob("*.txt")}
    assert extracted < texts and len(extracted) == len(texts) - 1  # all but the one cut

"""The replay commands end to end, as `dcs` child processes, on the real crawl of the replica."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import zipfile
import zlib

import pytest
from _replay import REPO
from crawl_support import dcs
from warcio.archiveiterator import ArchiveIterator

MISSING = "https://dangcongsan.vn/khong-co-bai-nay-post999999.html"
SEED_TEXT = REPO / "crawler" / "replica" / "data" / "seed-article.txt"


def dcs_bytes(*args: str) -> subprocess.CompletedProcess:
    """`dcs` with its output as bytes, exactly as written (no newline translation)."""
    command = [sys.executable, "-m", "crawler.cli", *args]
    return subprocess.run(command, capture_output=True, timeout=60)


def out_args(archive) -> list[str]:
    return ["--out", str(archive.out_dir)]


def one_line_error(run: subprocess.CompletedProcess) -> str:
    """The single `dcs` line on stderr of a failed command (no traceback)."""
    assert run.returncode != 0, run.stdout
    assert "Traceback" not in run.stderr, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith("dcs"), line
    return line


def archived_block(archive, capture) -> tuple[bytes, bytes]:
    """(HTTP headers, body) of a record as stored, read independently of crawler.replay."""
    with open(archive.out_dir / "warc" / capture.filename, "rb") as fh:
        fh.seek(capture.offset)
        record = next(iter(ArchiveIterator(fh, no_record_parse=True)))
        headers, body = record.raw_stream.read().split(b"\r\n\r\n", 1)
    return headers + b"\r\n\r\n", body


def archived_payload(archive, capture) -> bytes:
    """The body of a response record as stored, content-encoding undone."""
    headers, body = archived_block(archive, capture)
    encoding = [
        line.split(b":", 1)[1].strip().lower()
        for line in headers.split(b"\r\n")
        if line.lower().startswith(b"content-encoding:")
    ]
    if encoding == [b"gzip"]:
        return gzip.decompress(body)
    if encoding == [b"deflate"]:
        return zlib.decompress(body)
    assert not encoding, encoding
    return body


def test_index_summary_and_a_second_run_reads_nothing(archive_copy):
    first = dcs("index", *out_args(archive_copy))
    index = archive_copy.out_dir / "index" / "index.cdxj"
    stamp = index.stat().st_mtime_ns
    again = dcs("index", *out_args(archive_copy))

    files = len(archive_copy.warcs)
    captures = len(archive_copy.captures)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    cdxj, search = first.stdout.splitlines()
    assert cdxj == (
        f"Index {index}: {captures:,} captures from {files} WARC files ({files} read, 0 unchanged)"
    )
    assert search.startswith(f"Search index {index.parent / 'search.sqlite3'}: ")
    assert again.returncode == 0 and again.stderr == ""
    assert f"({files} read" not in again.stdout
    assert again.stdout.splitlines()[0].endswith(
        f"from {files} WARC files (0 read, {files} unchanged)"
    )
    assert again.stdout.splitlines()[1].endswith("(updated: 0 read)")
    assert index.stat().st_mtime_ns == stamp  # not rewritten


def test_list_by_id_and_by_any_url_variant(small_archive):
    by_id = dcs("replay", "list", *out_args(small_archive), small_archive.seed_id)
    variants = [
        small_archive.seed_url.replace("https://", "http://www.") + "?utm_source=x",
        small_archive.seed_url.replace("https://", "") + "#binh-luan",
    ]
    for variant in variants:
        run = dcs("replay", "list", *out_args(small_archive), variant)
        assert run.returncode == 0 and run.stdout == by_id.stdout, variant

    assert by_id.returncode == 0 and by_id.stderr == ""
    first, revisit = (
        small_archive.capture_of(small_archive.seed_url),
        small_archive.identical_revisit,
    )
    lines = [line.split() for line in by_id.stdout.splitlines()]
    assert len(lines) == 2  # one line per capture
    assert lines[0][:3] == [first.timestamp, "200", "text/html"]
    assert lines[0][4:] == [f"{first.filename}:{first.offset}", small_archive.seed_url]
    assert lines[1][:3] == [revisit.timestamp, "200", "warc/revisit"]
    assert lines[1][4:] == [f"{revisit.filename}:{revisit.offset}", small_archive.seed_url]
    assert lines[0][3] == lines[1][3] and lines[0][3].startswith("sha1:")  # same payload


def test_list_shows_a_304_as_a_revisit(small_archive):
    revisit = small_archive.not_modified_revisit
    run = dcs("replay", "list", *out_args(small_archive), revisit.url)
    rows = [line.split() for line in run.stdout.splitlines()]
    assert [revisit.timestamp, "304", "warc/revisit"] in [row[:3] for row in rows]
    assert f"{revisit.filename}:{revisit.offset}" in [row[4] for row in rows]


def test_show_prints_exactly_the_seed_text(small_archive):
    run = dcs_bytes("replay", "show", *out_args(small_archive), small_archive.seed_id)
    assert run.returncode == 0 and run.stderr == b""
    assert run.stdout == SEED_TEXT.read_bytes()


def test_show_html_is_exactly_the_archived_payload(small_archive):
    run = dcs_bytes("replay", "show", *out_args(small_archive), small_archive.seed_id, "--html")
    expected = archived_payload(small_archive, small_archive.capture_of(small_archive.seed_url))
    assert run.returncode == 0 and run.stderr == b""
    assert run.stdout == expected and small_archive.seed_title.encode() in expected


def test_show_headers_of_each_capture(small_archive):
    for capture in (
        small_archive.capture_of(small_archive.seed_url),
        small_archive.identical_revisit,
        small_archive.not_modified_revisit,
    ):
        run = dcs_bytes(
            "replay", "show", *out_args(small_archive), capture.url, "--headers",
            "--at", capture.timestamp,
        )  # fmt: skip
        assert run.returncode == 0 and run.stderr == b""
        assert run.stdout == archived_block(small_archive, capture)[0]
        assert run.stdout.startswith(f"HTTP/1.1 {capture.status} ".encode())


def test_export_wacz_validates_and_lists_every_article_with_its_text(small_archive, tmp_path):
    wacz = tmp_path / "archive.wacz"
    run = dcs("export", "wacz", str(wacz), *out_args(small_archive))
    validate = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(wacz)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    with zipfile.ZipFile(wacz) as zf:
        header, *pages = map(json.loads, zf.read("pages/pages.jsonl").decode().splitlines())
        names = zf.namelist()

    articles = small_archive.articles
    assert {"indexes/index.cdx.gz", "indexes/index.idx"} <= set(names)  # ZipNum by default
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert run.stdout.startswith(f"Wrote {wacz} ({wacz.stat().st_size:,} bytes): ")
    assert (
        f"{len(small_archive.warcs)} WARC files, {len(small_archive.captures):,} captures, "
        f"{len(articles)} pages ({len(articles) - 1} with text)"
    ) in run.stdout
    assert validate.returncode == 0 and "Validation succeeded" in validate.stdout, validate.stderr
    assert header["format"] == "json-pages-1.0"
    assert {p["url"] for p in pages} == set(articles) and len(pages) == len(articles)
    for page in pages:
        if page["url"] == small_archive.without_text:
            assert "text" not in page
        else:  # a text file begins with the article's title
            assert page["text"].splitlines()[0] == articles[page["url"]], page["url"]
    seed = next(p for p in pages if p["url"] == small_archive.seed_url)
    assert seed["text"] == SEED_TEXT.read_text(encoding="utf-8")


def test_export_wacz_zipnum_over_writes_a_plain_index_up_to_that_many_lines(
    small_archive, tmp_path
):
    captures = len(small_archive.captures)
    wacz = tmp_path / "archive.wacz"
    run = dcs("export", "wacz", str(wacz), *out_args(small_archive), "--zipnum-over", f"{captures}")
    with zipfile.ZipFile(wacz) as zf:
        names = set(zf.namelist())

    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert f"{captures:,} captures (plain index)" in run.stdout
    assert "indexes/index.cdx" in names and "indexes/index.cdx.gz" not in names


@pytest.mark.parametrize(
    "args",
    [
        ["replay", "show", MISSING],
        ["replay", "list", MISSING],
        ["replay", "list", "999999"],
        ["replay", "show", "999999", "--html"],
    ],
)
def test_unknown_url_or_id_is_a_one_line_error(small_archive, args):
    run = dcs(*args, *out_args(small_archive))
    line = one_line_error(run)
    assert line.startswith("dcs: error: no capture of ") and args[2] in line
    assert run.stdout == ""


def test_a_port_in_use_is_a_one_line_error(small_archive):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        run = dcs("replay", "serve", *out_args(small_archive), "--port", str(port), timeout=60)
    line = one_line_error(run)
    assert line == f"dcs: error: port {port} is in use on 127.0.0.1; choose another with --port"


def test_a_corrupt_warc_is_one_line_and_the_rest_still_works(archive_copy, tmp_path):
    junk = archive_copy.out_dir / "warc" / "dcs-20200101000000000-00000-junk.warc.gz"
    junk.write_bytes(b"not a warc\n" * 100)

    index = dcs("index", *out_args(archive_copy))
    export = dcs("export", "wacz", str(tmp_path / "a.wacz"), *out_args(archive_copy))
    show = dcs("replay", "show", *out_args(archive_copy), archive_copy.seed_id)
    listing = dcs("replay", "list", *out_args(archive_copy), archive_copy.seed_id)

    damaged = f"dcs: error: damaged WARC file {junk.name}: bytes 0-{100 * 11 - 1} (not gzip"
    for run in (index, export, listing):
        line = one_line_error(run)
        assert line.startswith(damaged), line
        assert run.returncode == 1
    assert f"from {len(archive_copy.warcs) + 1} WARC files" in index.stdout
    assert f"{len(archive_copy.warcs)} WARC files" in export.stdout
    assert archive_copy.seed_url in listing.stdout
    # The capture shown was read whole: nothing it printed was skipped.
    assert show.returncode == 0 and show.stdout == archive_copy.seed_text


@pytest.mark.parametrize(
    "args, message",
    [
        (["index", "--out", "{tmp}/nowhere"], "does not exist"),
        (["replay", "show", "--at", "yesterday", "531379"], "bad time"),
        (["export", "wacz", "{tmp}/a.zip"], ".wacz"),
        (["export", "wacz", "{tmp}/a.wacz", "--since", "last week"], "--since: expected"),
        (["replay", "list", "9" * 300], "neither a URL nor an article ID"),
        (["replay", "list", "http://[::1"], "invalid URL"),
        (["replay", "show", "https://[dangcongsan.vn/x"], "invalid URL"),
        (["export", "wacz", "{tmp}/a.wacz", "--zipnum-over", "-1"], "must be 0 or more"),
    ],
)
def test_other_bad_input_is_a_one_line_error(small_archive, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        args += out_args(small_archive)
    line = one_line_error(dcs(*args))
    assert line.startswith("dcs: error: ") and message in line


def test_only_replay_serve_imports_the_gevent_patching_module(small_archive):
    """The other commands run without crawler.replay.serve (it monkey-patches with gevent)."""
    code = (
        "import sys; from crawler.cli import main; code = main(sys.argv[1:]); "
        "print(code, 'crawler.replay.serve' in sys.modules, 'gevent' in sys.modules)"
    )
    command = [
        sys.executable,
        "-c",
        code,
        "replay",
        "list",
        *out_args(small_archive),
        small_archive.seed_id,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.stdout.splitlines()[-1] == "0 False False", run.stdout + run.stderr

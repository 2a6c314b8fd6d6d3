"""Bad input: a one-line error, a non-zero exit, and nothing already archived lost."""

from __future__ import annotations

import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys

import pytest
from crawl_support import LOCAL, crawl, dcs, tree_digest

from crawler.lock import OutputLock
from crawler.replica import ReplicaServer, ReplicaSite

QUICK_GIVE_UP = ["-s", "RETRY_TIMES=1", "-s", "RETRY_BACKOFF_BASE=0.1", "-s", "DOWNLOAD_TIMEOUT=5"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("errors") / "archive"
    with ReplicaServer(ReplicaSite(seed=4, per_generation=5)) as server:
        crawl(server.base_url, out, "--max-articles", "3")
    return out


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def archived(out) -> dict[str, str]:
    """What must never change: the WARC files and the text files."""
    return {
        path: digest
        for path, digest in tree_digest(out).items()
        if path.startswith(("warc/", "text/"))
    }


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dcs"), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--base-url", f"http://127.0.0.1:{closed_port()}"], ["could not reach", "refused"]),
        (["--base-url", "http://no-such-host.invalid"], ["could not reach", "DNS"]),
        (["--base-url", "ftp://dangcongsan.vn"], ["base URL"]),
        (["-s", "DOWNLOAD_DELAY=soon"], ["DOWNLOAD_DELAY"]),
        (["-s", "NO_EQUALS_SIGN"], ["NAME=VALUE"]),
        # Settings with a syntax of their own, and ranges (every class: test_crawl_settings).
        (["-s", "REVISIT_POLICY=garbage"], ["REVISIT_POLICY", "bad rule"]),
        (["-s", "WARC_MAX_SIZE=-5"], ["WARC_MAX_SIZE", "negative"]),
        (["-s", "LOG_LEVEL=NOPE"], ["LOG_LEVEL", "DEBUG"]),
        (["-s", "DOWNLOAD_TIMEOUT=-1"], ["DOWNLOAD_TIMEOUT", "negative"]),
        (["--since", "yesterday"], ["--since"]),
        (["--max-articles", "0"], ["--max-articles"]),
    ],
)
def test_bad_input_keeps_the_archive(archive, args, words):
    before = archived(archive)
    result = dcs("crawl", "--out", str(archive), *LOCAL, *QUICK_GIVE_UP, *args, timeout=120)
    assert_one_line_error(result, *words)
    after = archived(archive)
    assert before and {path: digest for path, digest in after.items() if path in before} == before


def test_a_state_store_of_random_bytes_is_one_line_and_kept(archive, tmp_path):
    copy = tmp_path / "archive"
    shutil.copytree(archive, copy)
    state = copy / "state.sqlite3"
    state.write_bytes(random.Random(1).randbytes(20_000))
    before = tree_digest(copy)
    result = dcs("crawl", "--out", str(copy), "--base-url", "http://127.0.0.1:9", timeout=60)
    assert_one_line_error(result, "state.sqlite3 is not a usable dcs state store", "verify")
    assert tree_digest(copy) == before


def test_a_state_store_locked_by_another_process_is_said_at_once(archive, tmp_path):
    copy = tmp_path / "archive"
    shutil.copytree(archive, copy)
    other = sqlite3.connect(copy / "state.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a sqlite3 shell left in a transaction
    try:
        result = dcs("crawl", "--out", str(copy), *LOCAL, timeout=60)
    finally:
        other.close()
    assert_one_line_error(result, "is locked by another process")
    assert not list((copy / "reports").glob("*.json"))[
        len(list((archive / "reports").glob("*.json"))) :
    ]


def test_a_read_only_warc_folder_is_one_line(archive, tmp_path):
    copy = tmp_path / "archive"
    shutil.copytree(archive, copy)
    (copy / "warc").chmod(0o555)
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(copy)]
    if os.geteuid() == 0:  # root writes anywhere: run it without that power
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]
    try:
        result = subprocess.run(
            [*command, "--base-url", "http://127.0.0.1:9"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        (copy / "warc").chmod(0o755)
    assert_one_line_error(result, "cannot write to WARC folder", "Permission denied")


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = dcs("crawl", "--out", str(blocker / "archive"), timeout=60)
    assert_one_line_error(result, "cannot write to output folder")


def test_a_folder_in_use_is_refused(archive):
    before = archived(archive)
    with OutputLock(archive):
        result = dcs("crawl", "--out", str(archive), "--base-url", "http://127.0.0.1:9", timeout=60)
    assert_one_line_error(result, "in use")
    assert archived(archive) == before


def test_reextraction_into_a_folder_in_use_is_refused(archive):
    before = archived(archive)
    with OutputLock(archive):
        result = dcs("extract", str(archive / "warc"), "--out", str(archive), timeout=60)
    assert_one_line_error(result, "in use")
    assert archived(archive) == before

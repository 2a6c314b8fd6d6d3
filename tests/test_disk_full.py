"""A full disk: the crawl stops cleanly, says why in one line and in its report, leaves no
half record, and the next run with room completes the archive.

The disk is a real one: a 3 MB tmpfs mounted for the test (CI runs as root). Where mounting
is impossible the test falls back to a fault injected by the operating system, a file size
limit (RLIMIT_FSIZE) on the crawl, which makes writes fail the same way (EFBIG).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
from pathlib import Path

import pytest
from crawl_support import (
    LOCAL,
    archived_articles,
    assert_next_run_completes,
    dcs,
    warcs_are_valid,
    wrong_locations,
)

from crawler.replica import ReplicaServer, ReplicaSite

SMALL = 3 * 1024 * 1024


def mount_tmpfs(where: Path, size: int, remount: bool = False) -> bool:
    options = f"remount,size={size}" if remount else f"size={size}"
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)]
    try:
        return subprocess.run(command, capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.fixture
def small_disk(tmp_path):
    """(folder on a 3 MB disk, how to give it room, how the disk is full: a tmpfs or a
    file size limit handed to the crawl)."""
    where = tmp_path / "disk"
    where.mkdir()
    if mount_tmpfs(where, SMALL):
        try:
            yield where, lambda: mount_tmpfs(where, 64 * SMALL, remount=True), {}
        finally:
            subprocess.run(["umount", str(where)], check=True)
        return

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (SMALL // 4, SMALL // 4))

    yield where, lambda: True, {"preexec_fn": limit_file_size}


def test_a_full_disk_stops_the_crawl_and_the_next_run_completes_it(small_disk):
    where, make_room, fault = small_disk
    out = where / "archive"
    site = ReplicaSite(seed=3, per_generation=30)
    with ReplicaServer(site) as server:
        command = ["crawl", "--out", str(out), "--base-url", server.base_url, *LOCAL]
        full = dcs(*command, **fault)
        # One line on stderr, a failure exit status, and no traceback anywhere on screen.
        assert full.returncode != 0
        lines = full.stderr.strip().splitlines()
        assert len(lines) == 1, full.stderr[-3000:]
        assert lines[0].startswith("dcs: error: the crawl stopped: cannot write")
        # ENOSPC (SQLite: "database or disk is full"), or EFBIG under the limit ("disk I/O error").
        reasons = ("disk is full", "disk I/O error", os.strerror(errno.ENOSPC))
        assert any(reason in lines[0] for reason in (*reasons, os.strerror(errno.EFBIG)))
        assert "Traceback" not in full.stdout + full.stderr
        # The report says why.
        report = json.loads(max((out / "reports").glob("crawl-*.json")).read_text())
        assert report["finish_reason"] == "write_error"
        assert report["error"] in lines[0]
        assert report["pending"] > 0
        # Nothing half written: WARC files whole and closed, every location true.
        assert warcs_are_valid(out / "warc")
        assert not list(out.rglob("*.tmp"))
        assert wrong_locations(out) == []
        assert archived_articles(out)
        assert make_room()
        assert_next_run_completes(site, server, out)


@pytest.mark.parametrize("free", [0, 16 * 1024, 64 * 1024])
def test_a_disk_full_from_the_start_is_a_one_line_error(small_disk, free):
    where, _, fault = small_disk
    if fault:  # no tmpfs: the limit stands for the room left
        fault = {"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (free, free))}
    else:
        room = os.statvfs(where)
        (where / "filler").write_bytes(b"\0" * (room.f_bavail * room.f_frsize - free))
    with ReplicaServer(ReplicaSite(seed=3, per_generation=3)) as server:
        result = dcs("crawl", "--out", str(where / "archive"), "--base-url", server.base_url,
                     *LOCAL, **fault)  # fmt: skip
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dcs: error: "), result.stderr[-3000:]
    assert "cannot write" in lines[0]

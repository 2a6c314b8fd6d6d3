"""Every file and folder dcs creates takes its mode from the process umask, as any Unix
tool's do: a group sharing an archive (umask 007) can read and add to all of it."""

from __future__ import annotations

import stat

import pytest
from crawl_support import crawl, dcs

from crawler.replica import ReplicaServer, ReplicaSite


def modes_against_umask(root, umask: int) -> dict[str, str]:
    """Files and folders under root whose mode is not what the umask gives, with their mode."""
    wrong = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != (0o777 if path.is_dir() else 0o666) & ~umask:
            wrong[str(path.relative_to(root))] = oct(mode)
    return wrong


@pytest.mark.parametrize("umask", [0o022, 0o007])
def test_files_take_their_mode_from_the_umask(tmp_path, umask):
    out = tmp_path / "archive"
    with ReplicaServer(ReplicaSite(seed=2, per_generation=3)) as server:
        crawl(server.base_url, out, "--max-articles", "3", umask=umask)
    written = {path.suffix for path in out.rglob("*") if path.is_file()}
    assert {".gz", ".txt", ".json", ".sqlite3", ".log", ".lock"} <= written
    assert modes_against_umask(out, umask) == {}
    again = tmp_path / "extracted"
    result = dcs("extract", str(out / "warc"), "--out", str(again), umask=umask)
    assert result.returncode == 0, result.stderr
    assert list(again.rglob("*.txt"))
    assert modes_against_umask(again, umask) == {}

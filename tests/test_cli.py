"""The command line: every subcommand listed, bad input answered in one line."""

import subprocess
import sys

import pytest

COMMANDS = [
    "crawl", "schedule", "extract", "index", "search", "changes", "diff", "replay", "export",
    "verify", "demo", "replica",
]  # fmt: skip


def dcs(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_lists_every_command():
    result = dcs("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert f"    {command}" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-option"],
        ["crawl", "--max-articles", "many"],
        ["frobnicate"],
        ["replay"],
        ["schedule"],
        ["schedule", "--cron", "0 0 31 2 *"],  # valid, but never fires
        ["schedule", "--every", "99999999999d"],
        ["schedule", "--every", "1h", "--", "-s", "LOG_LEVEL=NOPE"],  # refused now, not per run
        ["schedule", "--every", "1h", "--max-runs", "0"],
        ["replay", "serve", "--port", "99999"],
        ["extract", "warc", "--workers", "99999"],
        ["replica", "--days", "-1"],
        ["replica", "--port", "70000"],
    ],
)
def test_bad_option_is_one_line_and_nonzero(args, tmp_path):
    result = dcs(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dcs")
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr

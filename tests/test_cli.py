"""The command line: every subcommand listed, bad input answered in one line."""

import subprocess
import sys

import pytest

COMMANDS = [
    "crawl", "schedule", "extract", "index", "replay", "export", "verify", "demo", "replica"
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
    ],
)
def test_bad_option_is_one_line_and_nonzero(args):
    result = dcs(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dcs")
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr

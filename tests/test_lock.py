"""The output-folder lock: one dcs process per folder, freed however the holder ends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.errors import DcsError
from crawler.lock import LockedError, OutputLock, lock_holder

REPO = Path(__file__).resolve().parent.parent
HOLDER = """
import sys
from crawler.lock import OutputLock
with OutputLock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()  # hold it until the test closes our stdin
print("released", flush=True)
"""


def hold_in_another_process(out_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout.readline() == "locked\n"
    return proc


def test_lock_file_names_the_holder_and_is_emptied_on_release(tmp_path):
    out = tmp_path / "archive"
    with OutputLock(out) as lock:
        assert lock.held
        info = json.loads((out / "dcs.lock").read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
        assert info["started"]
    assert not lock.held
    assert (out / "dcs.lock").read_text() == ""
    with OutputLock(out):  # free again
        pass


def test_second_lock_on_the_same_folder_is_refused(tmp_path):
    with OutputLock(tmp_path):
        with pytest.raises(LockedError) as error:
            OutputLock(tmp_path).acquire()
    message = str(error.value)
    assert message.startswith(f"output folder {tmp_path} is in use by dcs pid {os.getpid()} since ")
    assert "\n" not in message and isinstance(error.value, DcsError)


def test_another_process_holding_the_folder_blocks_us_until_it_exits(tmp_path):
    proc = hold_in_another_process(tmp_path)
    try:
        with pytest.raises(LockedError, match=f"in use by dcs pid {proc.pid} since"):
            with OutputLock(tmp_path):
                pass
        assert lock_holder(tmp_path).startswith(f"dcs pid {proc.pid} since")
        proc.stdin.close()  # the holder leaves its `with` block and exits
        assert proc.stdout.readline() == "released\n"
        assert proc.wait(timeout=10) == 0
        assert lock_holder(tmp_path) is None
        with OutputLock(tmp_path):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_a_holder_killed_by_sigkill_frees_the_folder(tmp_path):
    proc = hold_in_another_process(tmp_path)
    with pytest.raises(LockedError):
        OutputLock(tmp_path).acquire()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # The dead holder's name is still in the file, but the kernel dropped its lock.
    assert json.loads((tmp_path / "dcs.lock").read_text())["pid"] == proc.pid
    with OutputLock(tmp_path):
        assert json.loads((tmp_path / "dcs.lock").read_text())["pid"] == os.getpid()


def test_no_lock_file_means_free(tmp_path):
    assert lock_holder(tmp_path / "nothing-here") is None


def test_an_unusable_folder_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DcsError, match="cannot use output folder"):
        OutputLock(tmp_path / "file" / "archive").acquire()

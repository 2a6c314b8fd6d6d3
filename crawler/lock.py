"""One dcs process per output folder: an flock on ``DIR/dcs.lock``.

The lock belongs to the open file, so the kernel drops it when the process dies, however
it dies (SIGKILL included): there are no stale locks to clean up. The file holds who took
it (pid, host, start time) only to explain the refusal to the next process; it is never
deleted, since removing a lock file while another process opens it would let both in.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

from crawler.errors import DcsError
from crawler.layout import Layout


class LockedError(DcsError):
    """The output folder is in use by another dcs process."""


def _holder_text(fd: int) -> str:
    """Who holds the lock, as the lock file open on ``fd`` names them."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        pid, host, started = info["pid"], info["host"], info["started"]
    except (ValueError, KeyError, TypeError):
        return "another dcs process"  # it has the lock but has not written its name yet
    where = "" if host == socket.gethostname() else f" on {host}"
    return f"dcs pid {pid}{where} since {started}"


class OutputLock:
    """``with OutputLock(out_dir):`` … — raises LockedError if another process holds it."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.path = Layout.of(self.out_dir).lock_file
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            # No O_TRUNC: the file may name the process holding the lock.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise DcsError(
                f"cannot use output folder {self.out_dir}: {exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(fd)
            os.close(fd)
            raise LockedError(f"output folder {self.out_dir} is in use by {holder}") from None
        except OSError as exc:
            os.close(fd)
            raise DcsError(f"cannot lock output folder {self.out_dir}: {exc.strerror}") from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now().astimezone().isoformat(sep=" ", timespec="seconds"),
            "argv": sys.argv,
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info, ensure_ascii=False) + "\n").encode("utf-8"), 0)
        except OSError as exc:  # a full disk: nothing could be archived either
            os.close(fd)
            raise DcsError(
                f"cannot write to output folder {self.out_dir}: {exc.strerror or exc}"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # nobody holds it now
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(out_dir: str | os.PathLike[str]) -> str | None:
    """Who holds the output folder's lock ("dcs pid N since …"), or None if it is free."""
    path = Layout.of(out_dir).lock_file
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_text(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

"""Writing a file whole or not at all, with the permissions the process umask gives.

`tempfile.mkstemp` would create the temporary file 0600 whatever the umask, and the rename
would carry that mode over to the archive's text files and sidecars: a group sharing the
archive could not read them. Creating it with mode 0666 lets the umask decide, as it does
for every other file the crawler writes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target and rename it over: a crash leaves the old
    file or the new one, never half of one, and a failed write (a full disk) leaves the old
    file and no temporary one. (No fsync: as with the WARC files, surviving a power cut as
    well would cost a disk flush per file.)"""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except FileNotFoundError:  # the folder first (not before every file: a system call)
            path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

"""Test helpers for the replay tests: a free port, `serve()` in a child process."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReplayProcess:
    """`serve()` in a child process (it monkey-patches with gevent, as the CLI would)."""

    def __init__(self, out_dir: Path, port: int, log: Path) -> None:
        self.out_dir = out_dir
        self.log = open(log, "w")  # pywb's access log: a pipe nobody reads would fill up
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        code = "import sys; from crawler.replay.serve import serve; "
        code += "serve(sys.argv[1], port=int(sys.argv[2]))"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(out_dir), str(port)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Wait for the announced URL; returns the server's first lines of output."""
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                self.log.flush()
                log = Path(self.log.name).read_text()[-2000:]
                raise RuntimeError(f"replay server exited ({self.proc.returncode}): {log}")
            lines.append(line)
            if "Ctrl-C" in line:
                return "".join(lines)
        raise RuntimeError("replay server did not start in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


def write_small_warc(
    path: Path, url: str, when: str = "2020-01-02T03:04:05Z", body: bytes = b"<html>old</html>"
) -> None:
    """A WARC file of one 200 response record, dated `when`."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        headers = StatusAndHeaders(
            "200 OK",
            [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
            protocol="HTTP/1.1",
        )
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": when},
        )
        writer.write_record(record)

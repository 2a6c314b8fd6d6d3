"""ReplicaServer: the replica over real HTTP/1.1 on a loopback port, in a thread.

Transport the way real servers do it: gzip when asked, chunked or Content-Length bodies,
ETag/Last-Modified and 304, HEAD, keep-alive; and faults on the wire (RST, short bodies,
503/429, slowness). Every response is logged with the digest of the body as sent.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .faults import FaultCounter, FaultPlan
from .page import HTML, Page, http_date
from .website import ReplicaSite

CHUNK_SIZE = 4096
SERVER_NAME = "nginx"
FAULT_BODY = {
    503: b"<html><head><title>503 Service Unavailable</title></head><body>"
    b"<h1>503 Service Unavailable</h1></body></html>\n",
    429: b"<html><head><title>429 Too Many Requests</title></head><body>"
    b"<h1>429 Too Many Requests</h1></body></html>\n",
}


@dataclass(frozen=True)
class ServedEntry:
    """One response as it went on the wire."""

    method: str
    path: str  # request target: path with query
    status: int
    sha1: str  # hex digest of the entity body as sent (after gzip, before chunking)
    length: int  # bytes of entity body sent
    headers: dict[str, str]  # response headers sent
    request_headers: dict[str, str]
    time: float  # when the response was finished (time.time())
    fault: str | None = None  # the fault applied, if any
    chunked: bool = False
    gzip: bool = False
    connection: int = 0  # the client's port: one per TCP connection

    @property
    def bytes(self) -> int:
        return self.length


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (q=0 refuses it)."""
    if not accept_encoding:
        return False
    verdict = None
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name in ("gzip", "x-gzip"):
            return q > 0
        if name == "*":
            verdict = q > 0
    return bool(verdict)


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _not_modified(page: Page, request_headers) -> bool:
    if page.status != 200 or page.etag is None or page.last_modified is None:
        return False
    inm = request_headers.get("If-None-Match")
    if inm is not None:
        return _etag_matches(inm, page.etag)
    ims = request_headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return page.last_modified.replace(microsecond=0) <= since
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    sys_version = ""
    timeout = 30  # idle keep-alive connections end eventually

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm and
        # the peer's delayed ACK cost 40 ms per keep-alive response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass  # the replica's log is ReplicaServer.log

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    # -- one exchange -----------------------------------------------------------------
    def _serve(self, head: bool) -> None:
        replica: ReplicaServer = self.server.replica  # type: ignore[attr-defined]
        target = self.path
        # The host asked for: the other sites of dangcongsan.vn are served by name, to a
        # client that uses the replica as its proxy (absolute-form target) or names the host.
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if target.startswith(("http://", "https://")):  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            host = parts.hostname or host
        fault = replica.fault_counter.next_fault(target)
        if fault == "slow":
            time.sleep(replica.fault_counter.plan.slow_seconds)
        if fault in ("503", "429"):
            status = int(fault)
            body = b"" if head else FAULT_BODY[status]
            headers = {
                "Content-Type": HTML,
                "Retry-After": "1",
                "Content-Length": str(len(FAULT_BODY[status])),
            }
            self._head(status, headers, replica)
            self.wfile.write(body)
            replica._record(self, target, status, body, headers, fault)
            return
        site = replica.site
        page = site.page(target, host) or site.not_found(target)
        headers = self._headers(page, replica)
        use_gzip = (
            page.compressible
            and page.status != 301
            and accepts_gzip(self.headers.get("Accept-Encoding"))
        )
        body = gzip.compress(page.body, mtime=0) if use_gzip else page.body
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        if page.compressible and page.status != 301:
            headers["Vary"] = "Accept-Encoding"
        if _not_modified(page, self.headers):
            for name in ("Content-Type", "Content-Encoding", "Vary"):
                headers.pop(name, None)
            self._head(304, headers, replica)
            replica._record(self, target, 304, b"", headers, fault)
            return
        chunked = page.chunked and self.request_version != "HTTP/1.0"  # 1.0 has no chunks
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(len(body))
        self._head(page.status, headers, replica)
        if head:
            if fault in ("reset", "reset-headers"):
                self._reset()
            elif fault == "truncate":
                self.close_connection = True
            replica._record(self, target, page.status, b"", headers, fault, chunked, use_gzip)
            return
        sent = body
        if fault == "reset-headers":
            sent = b""
        elif fault in ("reset", "truncate"):
            sent = body[: len(body) // 2]
        self._body(sent, chunked, finished=fault not in ("reset", "reset-headers", "truncate"))
        if fault in ("reset", "reset-headers"):
            self._reset()
        elif fault == "truncate":
            self.close_connection = True
        replica._record(self, target, page.status, sent, headers, fault, chunked, use_gzip)

    def _headers(self, page: Page, replica: ReplicaServer) -> dict[str, str]:
        headers = page.headers()
        if page.location:
            host = self.headers.get("Host") or f"{replica.host}:{replica.port}"
            headers["Location"] = f"http://{host}{page.location}"
        if page.status == 200 and page.kind in ("image", "asset", "media"):
            headers["Cache-Control"] = "public, max-age=86400"
        elif page.status == 200:
            headers["Cache-Control"] = "public, max-age=60"
        return headers

    def _head(self, status: int, headers: dict[str, str], replica: ReplicaServer) -> None:
        """Send the status line and headers; `headers` becomes what was sent, for the log."""
        sent = {"Server": SERVER_NAME, "Date": http_date(replica.site.clock), **headers}
        if self.close_connection:
            sent["Connection"] = "close"
        self.send_response_only(status)
        for name, value in sent.items():
            self.send_header(name, value)
        self.end_headers()
        headers.clear()
        headers.update(sent)

    def _body(self, body: bytes, chunked: bool, finished: bool) -> None:
        if not chunked:
            self.wfile.write(body)
            return
        for start in range(0, len(body), CHUNK_SIZE):
            piece = body[start : start + CHUNK_SIZE]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        if finished:
            self.wfile.write(b"0\r\n\r\n")

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the peer gets a TCP RST instead of a clean end."""
        self.close_connection = True
        try:
            self.wfile.flush()
            time.sleep(0.02)  # let what was sent reach the peer before the reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        pass  # peers that hang up are normal for a crawler's server


@dataclass
class ReplicaServer:
    """Serve a ReplicaSite on 127.0.0.1 (a free port by default) from a background thread."""

    site: ReplicaSite
    faults: FaultPlan | None = None
    host: str = "127.0.0.1"
    port: int = 0
    _log: list[ServedEntry] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = FaultCounter(self.faults, self.site.seed)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def fault_counter(self) -> FaultCounter:
        """Requests seen per faulted path (a fault fires on the first `times` only)."""
        return self._counter

    def start(self) -> ReplicaServer:
        self._httpd = _Server((self.host, self.port), _Handler)
        self._httpd.replica = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns quickly
            name=f"replica:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def log(self) -> list[ServedEntry]:
        """A snapshot of the responses served so far, in order."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(
        self,
        handler: _Handler,
        path: str,
        status: int,
        body: bytes,
        headers: dict[str, str],
        fault: str | None,
        chunked: bool = False,
        gzipped: bool = False,
    ) -> None:
        entry = ServedEntry(
            method=handler.command,
            path=path,
            status=status,
            sha1=hashlib.sha1(body).hexdigest(),
            length=len(body),
            headers=dict(headers),
            request_headers=dict(handler.headers.items()),
            time=time.time(),
            fault=fault,
            chunked=chunked,
            gzip=gzipped,
            connection=handler.client_address[1],
        )
        with self._lock:
            self._log.append(entry)

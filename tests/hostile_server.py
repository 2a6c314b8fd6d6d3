"""A hostile web server for the tests: on loopback, it answers what a crawler must survive
(endless bodies, gzip bombs, pages of a hundred thousand links, broken encodings, pages in
windows-1258, a slow robots.txt) and logs every request it gets.

Routes map a path to a handler that writes the whole answer. Every handler is bounded: an
"endless" body ends when the client goes away, the server stops, or after a few gigabytes.
"""

from __future__ import annotations

import gzip
import http.server
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]
CHUNK = 64 * 1024
ENDLESS = 4 * 1024**3  # what "endless" gives up after, should a client never stop reading
HOME = "<html><head><title>Trang chủ</title></head><body>{}</body></html>"


def send(handler, body: bytes, content_type: str = "text/html; charset=utf-8", **headers) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def page(body: bytes | str, content_type: str = "text/html; charset=utf-8", **headers) -> Handler:
    data = body.encode() if isinstance(body, str) else body
    return lambda handler: send(handler, data, content_type, **headers)


def home(*links: str) -> Handler:
    """A home page that links these paths."""
    return page(HOME.format("".join(f'<a href="{link}">{link}</a>' for link in links)))


def huge(size: int) -> Handler:
    """An HTML body of `size` bytes, Content-Length announced, streamed."""

    def answer(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        filler = b"<p>" + b"x" * (CHUNK - 8) + b"</p>\n\n"
        sent = 0
        while sent < size and not handler.server.stopping.is_set():
            piece = filler[: size - sent]
            handler.wfile.write(piece)
            sent += len(piece)

    return answer


def endless_chunked(handler) -> None:
    """A chunked HTML body that never ends (until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    data = (b"<p>" + b"y" * CHUNK)[: CHUNK - 6] + b"</p>\n\n"
    chunk = b"%x\r\n%s\r\n" % (len(data), data)
    sent = 0
    while sent < ENDLESS and not handler.server.stopping.is_set():
        handler.wfile.write(chunk)
        sent += CHUNK
    handler.close_connection = True


def gzip_bomb_sitemap(entry: str, compressed_size: int = 3 * 1024**2) -> Handler:
    """A gzipped sitemap of `compressed_size` bytes that inflates a thousand times: one entry
    (a path of this server), then blank space, as concatenated gzip members (one valid gzip
    file, quick to make)."""
    blank = gzip.compress(b" " * 8 * 1024**2, 9)

    def answer(handler) -> None:
        loc = f"http://{handler.headers['Host']}{entry}"
        head = gzip.compress(
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            b"<url><loc>%s</loc></url>\n" % loc.encode()
        )
        bomb = head + blank * (compressed_size // len(blank)) + gzip.compress(b"</urlset>\n")
        send(handler, bomb, "application/gzip")

    return answer


def windows_1258(text: str) -> bytes:
    """Vietnamese in windows-1258: a precomposed letter where the code page has one, the
    tone mark after it as a combining character."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
        for i, mark in enumerate(marks):
            rest = "".join(marks[:i] + marks[i + 1 :])
            try:
                out += unicodedata.normalize("NFC", base + mark).encode("cp1258")
                out += rest.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def slow(seconds: float, handler: Handler) -> Handler:
    def answer(request) -> None:
        time.sleep(seconds)
        handler(request)

    return answer


@dataclass
class HostileServer:
    """Serves `routes` (path with query -> handler) on 127.0.0.1; 404 elsewhere."""

    routes: dict[str, Handler] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)  # the paths asked for, in order
    times: list[float] = field(default_factory=list)  # when each was asked (time.monotonic)

    def __post_init__(self) -> None:
        server = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                server.log.append(self.path)
                server.times.append(time.monotonic())
                handler = server.routes.get(self.path)
                try:
                    if handler is None:
                        self.send_error(404)
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the crawler hung up: what it should do

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.httpd.stopping = threading.Event()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

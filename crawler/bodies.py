"""Bodies a hostile or broken server sends: capped, or marked unreadable, never silently lost.

- `BodyCeiling` (an extension): a body larger than its ceiling (the request's
  `download_maxsize` meta, else DOWNLOAD_MAXSIZE) is cut there. Scrapy alone would cancel
  the download and keep nothing; an archivist expects what Heritrix does, the response kept
  up to the ceiling and marked `WARC-Truncated: length`. A body announced larger than the
  ceiling (Content-Length) is not downloaded at all: its record holds the headers only.
- `DecompressionMiddleware`: Scrapy's HttpCompressionMiddleware, except that a body that
  cannot be decoded (a broken gzip stream) or decodes past its ceiling (a compression bomb)
  reaches the spider as sent, marked unreadable with the reason, instead of failing the
  request with nothing said. The WARC record has it as sent either way. A spooled body
  (crawler.spool: asked for with ``Accept-Encoding: identity``) is never decoded: sent
  encoded all the same, it is marked unreadable.
- `unreadable(response)`: why the spider must not parse a response.

Every ceiling hit is listed in the crawl report ("ceilings").
"""

from __future__ import annotations

import weakref

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response

from crawler.extensions import report_entry
from crawler.spool import SpooledResponse
from crawler.warc.middleware import TRUNCATED

# request.meta key: why a body cannot be read.
UNREADABLE = "body_unreadable"


def body_ceiling(request: Request, default: int) -> tuple[str, int]:
    """The ceiling of a request's body: (what sets it, bytes); 0 bytes is none."""
    if "download_maxsize" in request.meta:
        return "download_maxsize", int(request.meta["download_maxsize"])
    return "DOWNLOAD_MAXSIZE", default


class BodyCeiling:
    """Stops a download at its ceiling and keeps what arrived (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.default = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.received: weakref.WeakKeyDictionary[Request, int] = weakref.WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodyCeiling:
        ceiling = cls(crawler)
        crawler.signals.connect(ceiling.headers_received, signal=signals.headers_received)
        crawler.signals.connect(ceiling.bytes_received, signal=signals.bytes_received)
        return ceiling

    def headers_received(self, request: Request, body_length: object, **_signal_args) -> None:
        name, limit = body_ceiling(request, self.default)
        if limit and isinstance(body_length, int) and body_length > limit:
            self.cut(request, name, limit, f"announced {body_length} bytes: headers only")

    def bytes_received(self, request: Request, data: bytes, **_signal_args) -> None:
        received = self.received.get(request, 0) + len(data)
        self.received[request] = received
        name, limit = body_ceiling(request, self.default)
        if limit and received > limit:
            # Stopped here, before Scrapy's own check in the same read cancels the download.
            self.cut(request, name, limit, f"body cut after {received} bytes")

    def cut(self, request: Request, name: str, limit: int, what: str) -> None:
        request.meta[TRUNCATED] = "length"
        request.meta[UNREADABLE] = f"body over {name} ({limit} bytes), {what}"
        self.stats.inc_value("dcs/truncated")
        report_entry(self.stats, "ceilings", url=request.url, ceiling=name, limit=limit, what=what)
        raise StopDownload(fail=False)


class DecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression, with undecodable bodies handed on as sent (see above)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DecompressionMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.default_maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        return middleware

    def process_response(self, request: Request, response: Response, spider=None):
        if isinstance(response, SpooledResponse):  # its body is on disk: never decoded
            encoding = response.headers.get("Content-Encoding", b"identity").decode("latin-1")
            if encoding.strip().lower() != "identity":
                request.meta[UNREADABLE] = f"a spooled file sent with Content-Encoding {encoding}"
            return response
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # decoded past its ceiling: a compression bomb
            reason = str(exc)
            name, limit = body_ceiling(request, self.default_maxsize)
            what = "decoded body over the ceiling: archived as sent"
            report_entry(
                self.stats, "ceilings", url=request.url, ceiling=name, limit=limit, what=what
            )
        except Exception as exc:  # zlib, gzip, brotli and zstd errors alike
            encoding = b", ".join(response.headers.getlist("Content-Encoding")).decode("latin-1")
            reason = f"Content-Encoding {encoding} does not decode: {exc or type(exc).__name__}"
        request.meta[UNREADABLE] = reason
        return response


def unreadable(response: Response) -> str | None:
    """Why the spider must not parse this response, or None: a body cut at its ceiling or
    by the server, or one that does not decode."""
    request = response.request  # None for a response made up (tests, scrapy shell)
    reason = request.meta.get(UNREADABLE) if request is not None else None
    if reason:
        return reason
    if "dataloss" in response.flags:
        return f"body cut short by the server after {len(response.body)} bytes"
    return None

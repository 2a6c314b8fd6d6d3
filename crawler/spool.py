"""Attached files streamed to disk: a body written to a spool file as it arrives, never held
whole in memory, from the socket to the WARC record and the text worker.

Scrapy's HTTP/1.1 handler keeps every body in memory (a 256 MiB PDF costs that, a few times
over), and Scrapy has no public way to stream a body elsewhere (scrapy#3880). So the one
place that receives bytes is replaced for the requests that ask (``request.meta[SPOOL]``):
``SpoolingDownloadHandler`` is the download handler of http and https (DOWNLOAD_HANDLERS);
it hands every other request to Scrapy's own handler, and fetches these with Twisted's Agent
itself, writing each piece of the body to a file of the archive's spool folder
(``Layout.spool_dir``). It runs inside the downloader's slot, so concurrency, delays and
robots.txt apply as to any request; it sends the ``headers_received`` and ``bytes_received``
signals as Scrapy's handler does, so the body ceiling (crawler.bodies.BodyCeiling) stops
it the same way, and honours DOWNLOAD_TIMEOUT and DOWNLOAD_FAIL_ON_DATALOSS.

What it returns is a ``SpooledResponse``: an empty ``body`` and a ``spool`` (a ``Spool``)
naming the file. The WARC middleware streams the record from it, the text worker reads the
file by its path; a file read back from the WARC files after a crash comes the same way
(crawler.warc.resume). The file is removed when nothing holds its ``Spool`` any more (the
response and the item made of it), and what a crash left is removed by the next crawl.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import tempfile
import weakref
from contextlib import suppress
from io import BytesIO
from pathlib import Path
from time import monotonic
from typing import Any, BinaryIO

from OpenSSL import SSL
from scrapy import Request, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import StopDownload
from scrapy.http import Headers, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import build_from_crawler
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import TimeoutError as DownloadTimeout
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.protocol import Protocol
from twisted.internet.ssl import CertificateOptions
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    FileBodyProducer,
    HTTPConnectionPool,
    ProxyAgent,
    ResponseDone,
)
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers as TwistedHeaders
from twisted.web.iweb import UNKNOWN_LENGTH, IPolicyForHTTPS, IResponse
from zope.interface import implementer

from crawler.layout import Layout

logger = logging.getLogger(__name__)

# request.meta key: true asks for the body in a spool file (a SpooledResponse).
SPOOL = "spool_body"


class Spool:
    """A response body in a spool file, removed once no one holds this object.

    Pickled (for a text worker, crawler.textpool) as its path alone: the worker reads the
    file, the crawl's process owns it. ``os.fspath(spool)`` is its path."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._remove = weakref.finalize(self, _remove, path)

    def __fspath__(self) -> str:
        return str(self.path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path, (str(self.path),))

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    def remove(self) -> None:
        self._remove()


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # left for the next crawl to remove
        logger.warning("cannot remove spool file %s: %s", path, exc.strerror or exc)


class SpooledResponse(Response):
    """A response whose body is in a spool file (``spool``), not in ``body``."""

    attributes: tuple[str, ...] = (*Response.attributes, "spool")

    def __init__(self, *args: Any, spool: Spool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spool = spool


def remove_stale(root: Path) -> None:
    """Remove the spool folders under ``root`` (Layout.spool_dir) of processes gone: what
    a crash left. One crawl at a time writes an archive (its lock); the handlers of http
    and https and the resume middleware of this process share its folder."""
    if root.is_dir():
        for folder in root.iterdir():
            if folder.name != str(os.getpid()):
                shutil.rmtree(folder, ignore_errors=True)


def new_spool_file(root: Path) -> tuple[BinaryIO, Spool]:
    """A new, empty spool file in this process's folder under ``root``, open for writing,
    and its Spool (its size is the writer's to set)."""
    folder = root / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, suffix=".body")
    return os.fdopen(handle, "wb"), Spool(Path(name), 0)


def idle_connections_kept(settings: Any) -> int:
    """How many idle connections to one host a connection pool keeps open.

    Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN. But a connection comes back to its pool
    only after its answer has freed the download slot, and by then the next request has
    often opened another one: the pool, full, closed the one coming back. The crawl opened a
    connection for about one request in three (a TCP handshake, and a TLS one over https),
    costing the site and us. Twice what may be in flight at once keeps every connection for
    reuse. A pool only keeps connections it opened: never more are open at once than before,
    only fewer are opened."""
    return 2 * settings.getint("CONCURRENT_REQUESTS")


class SpoolingDownloadHandler:
    """The download handler of http and https: Scrapy's own (HTTP11DownloadHandler) for
    every request but those that ask for a spooled body (see the module docstring)."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.default = build_from_crawler(HTTP11DownloadHandler, crawler)
        # Scrapy's handler has no setting for its pool (its _pool): a crawl that cannot set
        # this fails to start, it does not crawl on reconnecting.
        self.default._pool.maxPersistentPerHost = idle_connections_kept(settings)
        self.root = Layout.from_settings(settings).spool_dir
        remove_stale(self.root)
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self.fail_on_dataloss = settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS")
        self.pool = HTTPConnectionPool(_reactor(), persistent=True)
        self.pool.maxPersistentPerHost = idle_connections_kept(settings)
        self.tls = UncheckedTLS()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpoolingDownloadHandler:
        return cls(crawler)

    async def download_request(self, request: Request, spider: Any = None) -> Response:
        proxy = request.meta.get("proxy")
        # Through a proxy, https needs a CONNECT tunnel, which Scrapy's handler builds.
        if not request.meta.get(SPOOL) or (proxy and request.url.startswith("https:")):
            return await self.default.download_request(request)
        return await maybe_deferred_to_future(self.fetch(request))

    async def close(self) -> None:
        await self.default.close()
        await maybe_deferred_to_future(self.pool.closeCachedConnections())
        shutil.rmtree(self.root / str(os.getpid()), ignore_errors=True)
        with suppress(OSError):  # no empty folder left in the archive
            self.root.rmdir()

    # -- a spooled download ------------------------------------------------------------
    def fetch(self, request: Request) -> defer.Deferred[SpooledResponse]:
        timeout = request.meta.get("download_timeout") or self.timeout
        body = FileBodyProducer(BytesIO(request.body)) if request.body else None
        started = monotonic()
        answer = self.agent(request, timeout).request(
            request.method.encode("ascii"),
            request.url.split("#", 1)[0].encode("ascii"),
            TwistedHeaders(request.headers),
            body,
        )
        answer.addCallback(self.receive, request, started)
        timer = _reactor().callLater(timeout, answer.cancel)

        def in_time(result: Any) -> Any:
            if timer.active():
                timer.cancel()
                return result
            if isinstance(result, Failure) and result.check(defer.CancelledError):
                raise DownloadTimeout(f"Getting {request.url} took longer than {timeout} seconds.")
            return result

        return answer.addBoth(in_time)

    def agent(self, request: Request, timeout: float) -> Agent | ProxyAgent:
        proxy = request.meta.get("proxy")
        if proxy:
            address = Request(proxy).url.split("://", 1)[-1].split("/", 1)[0]
            host, _, port = address.rpartition(":")
            endpoint = TCP4ClientEndpoint(_reactor(), host, int(port or 80), timeout=timeout)
            return ProxyAgent(endpoint, _reactor(), pool=self.pool)
        return Agent(
            _reactor(),
            contextFactory=self.tls,
            connectTimeout=timeout,
            pool=self.pool,
        )

    def receive(
        self, answer: IResponse, request: Request, started: float
    ) -> defer.Deferred[SpooledResponse]:
        """The headers are in: the body goes to a spool file."""
        request.meta["download_latency"] = monotonic() - started
        headers = Headers()
        if answer.length != UNKNOWN_LENGTH:
            headers[b"Content-Length"] = str(answer.length).encode()
        headers.update(answer.headers.getAllRawHeaders())
        stop = self.stop_download(
            signals.headers_received, request, headers=headers, body_length=answer.length
        )
        file, spool = new_spool_file(self.root)
        reader = _SpoolWriter(self, request, answer, headers, file, spool)
        if stop is not None:
            answer.deliverBody(_Discard())
            reader.finish(["download_stopped"], stop)
        elif answer.length == 0:  # no body to read (deliverBody would wait for one)
            reader.finish([])
        else:
            answer.deliverBody(reader)
        return reader.finished

    def stop_download(self, signal: object, request: Request, **values: Any) -> StopDownload | None:
        """Send a signal as Scrapy's handler does; the StopDownload a receiver raised, if any."""
        results = self.crawler.signals.send_catch_log(
            signal=signal, request=request, spider=self.crawler.spider, **values
        )
        for _receiver, result in results:
            if isinstance(result, Failure) and isinstance(result.value, StopDownload):
                return result.value
        return None


@implementer(IPolicyForHTTPS)
class UncheckedTLS:
    """TLS as Scrapy's own handler speaks it: the server's name sent (SNI), its certificate
    not checked. An archive keeps what a server answers, valid certificate or not."""

    def __init__(self) -> None:
        self.context = CertificateOptions(verify=False).getContext()

    def creatorForNetloc(self, hostname: bytes, port: int) -> _UncheckedConnection:  # noqa: N802
        return _UncheckedConnection(hostname, self.context)


@implementer(IOpenSSLClientConnectionCreator)
class _UncheckedConnection:
    def __init__(self, hostname: bytes, context: SSL.Context) -> None:
        self.hostname = hostname
        self.context = context

    def clientConnectionForTLS(self, protocol: Any) -> SSL.Connection:  # noqa: N802
        connection = SSL.Connection(self.context, None)
        connection.set_app_data(protocol)
        if not _is_address(self.hostname):  # a name, not an address: SNI
            connection.set_tlsext_host_name(self.hostname)
        return connection


def _is_address(host: bytes) -> bool:
    try:
        ipaddress.ip_address(host.decode("ascii").strip("[]"))
    except ValueError:
        return False
    return True


def _reactor() -> Any:
    # Imported when used: importing it installs Twisted's default reactor, before Scrapy's.
    from twisted.internet import reactor

    return reactor


class _Discard(Protocol):
    def connectionMade(self) -> None:  # noqa: N802 (Twisted's name)
        self.transport.stopProducing()


class _SpoolWriter(Protocol):
    """Writes a body to its spool file piece by piece, as it arrives."""

    def __init__(
        self,
        handler: SpoolingDownloadHandler,
        request: Request,
        answer: IResponse,
        headers: Headers,
        file: BinaryIO,
        spool: Spool,
    ) -> None:
        self.handler = handler
        self.request = request
        self.answer = answer
        self.headers = headers
        self.file = file
        self.spool = spool
        self.size = 0
        self.ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
        self.maxsize = request.meta.get("download_maxsize", handler.maxsize)
        self.finished: defer.Deferred[SpooledResponse] = defer.Deferred(self.cancel)

    def connectionMade(self) -> None:  # noqa: N802 (Twisted's name)
        # The peer of the connection, as Scrapy's handler reads it (WARC-IP-Address).
        peer = getattr(getattr(self.transport, "_producer", None), "getPeer", None)
        try:
            self.ip = ipaddress.ip_address(peer().host) if peer else None
        except (AttributeError, ValueError):
            self.ip = None

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted's name)
        if self.finished.called:
            return
        try:
            self.file.write(data)
        except OSError as exc:
            self.transport.stopProducing()
            self.fail(Failure(exc))
            return
        self.size += len(data)
        stop = self.handler.stop_download(signals.bytes_received, self.request, data=data)
        if stop is not None:
            self.transport.stopProducing()
            self.finish(["download_stopped"], stop)
        elif self.maxsize and self.size > self.maxsize:  # no BodyCeiling: as Scrapy, give up
            self.transport.stopProducing()
            self.fail(Failure(defer.CancelledError(f"body over {self.maxsize} bytes")))

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 (Twisted's name)
        if self.finished.called:
            return
        if reason.check(ResponseDone):
            self.finish([])
        elif reason.check(PotentialDataLoss):
            self.finish(["partial"])
        elif self.request.meta.get("download_fail_on_dataloss", self.handler.fail_on_dataloss):
            self.fail(reason)
        else:
            self.finish(["dataloss"])

    def cancel(self, _finished: defer.Deferred) -> None:
        if self.transport is not None:
            self.transport.stopProducing()
        self.close()
        self.spool.remove()

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()

    def finish(self, flags: list[str], stop: StopDownload | None = None) -> None:
        self.close()
        self.spool.size = self.size
        if stop is not None and stop.fail:
            self.fail(Failure(stop))
            return
        version = self.answer.version
        response = SpooledResponse(
            url=self.request.url.split("#", 1)[0],
            status=int(self.answer.code),
            headers=self.headers,
            body=b"",
            flags=flags,
            ip_address=self.ip,
            protocol=f"{version[0].decode()}/{version[1]}.{version[2]}",
            spool=self.spool,
        )
        self.finished.callback(response)

    def fail(self, failure: Failure) -> None:
        self.close()
        self.spool.remove()
        self.finished.errback(failure)

"""The HTTP messages of one exchange, rebuilt as close to the wire as Scrapy lets us see it.

Scrapy's HTTP/1.1 handler (Twisted underneath) never hands over raw bytes: it gives a
Request (what Twisted will serialize) and a Response (status, re-cased headers, body after
de-chunking). This module rebuilds both messages from those, and is the one place that
knows how they differ from the bytes that crossed the network:

Request (``request_message``): exactly what Twisted writes, checked against a socket in the
tests: request line in origin form, then the request's headers in Twisted's order and
casing, then ``Host`` last (Twisted appends it when the request has none).

Response (``response_message``):
- the reason phrase is the standard one for the status (Twisted reads the server's phrase,
  Scrapy drops it);
- header names are re-cased (Twisted lower-cases them, Scrapy title-cases them: ``ETag`` is
  stored as ``Etag``), repeated fields are grouped under their first occurrence, values are
  stripped and folded lines joined;
- connection headers never reach Scrapy (``Connection``, ``Keep-Alive``, ``TE``, ``Trailers``,
  ``Upgrade``, ``Proxy-Connection``, ``Transfer-Encoding``) and are missing;
- the body is de-chunked. Twisted reports "length unknown" both for a chunked body and for
  one delimited by closing the connection; an HTTP/1.1 server practically always chunks, so
  an HTTP/1.1 response with a body and no known length gets ``X-Orig-Transfer-Encoding:
  chunked``;
- ``Content-Length`` always tells the length of the stored body: added when the server sent
  none, and when the sent value differs (a truncated download, a HEAD response) that value is
  kept as ``X-Orig-Content-Length``. Scrapy itself writes ``Content-Length: 0`` for 204/304
  responses, whether the server sent it or not.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urldefrag

from scrapy.http import Request, Response
from twisted.internet.abstract import isIPv6Address
from twisted.web.client import URI
from twisted.web.http_headers import Headers as TwistedHeaders

from crawler.warc.records import HttpRequest, HttpResponse

# Statuses whose responses carry no body whatever their headers say (RFC 9112, 6.3).
NO_BODY_STATUSES = frozenset({*range(100, 200), 204, 304})


def reason_phrase(status: int) -> str:
    """The standard reason phrase of a status code ("" for codes the RFCs do not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def target_uri(request: Request) -> str:
    """The request URL without its fragment."""
    return urldefrag(request.url)[0]


def request_message(request: Request) -> HttpRequest:
    """The request as Twisted puts it on the wire for a direct (proxy-less) connection."""
    uri = URI.fromBytes(target_uri(request).encode("ascii"))
    headers = TwistedHeaders(request.headers)
    if not headers.hasHeader(b"Host"):
        # Twisted appends Host after the request's own headers, as this does.
        headers.addRawHeader(b"Host", _host_value(uri))
    lines: list[tuple[bytes, bytes]] = []
    if request.body:
        # Twisted frames a body with a Content-Length line written before all headers.
        lines.append((b"Content-Length", str(len(request.body)).encode()))
    for name, values in headers.getAllRawHeaders():
        lines.extend((name, value) for value in values)
    return HttpRequest(
        method=request.method,
        target=uri.originForm.decode("ascii"),
        headers=lines,
        body=request.body or b"",
    )


def _host_value(uri: URI) -> bytes:
    # The same rule as Twisted's Agent: default ports are left out, IPv6 gets brackets.
    host = uri.host
    if isIPv6Address(host.decode("ascii")):
        host = b"[" + host + b"]"
    if (uri.scheme, uri.port) in ((b"http", 80), (b"https", 443)):
        return host
    return b"%b:%d" % (host, uri.port)


def response_message(
    response: Response, method: str = "GET", length: int | None = None
) -> HttpResponse:
    """The response as Scrapy received it, with Content-Length true to the stored body:
    ``response.body``, or ``length`` bytes kept elsewhere (a spooled body, crawler.spool)."""
    protocol = _protocol(response.protocol)
    body = response.body
    size = len(body) if length is None else length
    headers: list[tuple[bytes, bytes]] = []
    sent_lengths: list[bytes] = []
    for name, values in response.headers.items():
        if name.lower() == b"content-length":
            sent_lengths.extend(values)
            continue
        headers.extend((name, value) for value in values)

    framing: list[tuple[bytes, bytes]] = [(b"Content-Length", str(size).encode())]
    if sent_lengths and sent_lengths != [str(size).encode()]:
        framing.extend((b"X-Orig-Content-Length", value) for value in sent_lengths)
    elif not sent_lengths and _has_body(response.status, method) and protocol == "HTTP/1.1":
        framing.append((b"X-Orig-Transfer-Encoding", b"chunked"))
    return HttpResponse(
        protocol=protocol,
        status=response.status,
        reason=reason_phrase(response.status),
        headers=framing + headers,
        body=body,
    )


def truncation(response: Response) -> str | None:
    """The WARC-Truncated reason when Scrapy kept only part of the body, else None."""
    if "dataloss" in response.flags:
        return "disconnect"
    if "download_stopped" in response.flags:
        return "unspecified"
    return None


def _has_body(status: int, method: str) -> bool:
    return status not in NO_BODY_STATUSES and method.upper() != "HEAD"


def _protocol(protocol: str | None) -> str:
    # Scrapy's HTTP/1.1 handler gives "HTTP/1.1" or "HTTP/1.0"; its HTTP/2 handler "h2".
    if not protocol:
        return "HTTP/1.1"
    if protocol.lower() == "h2":
        return "HTTP/2"
    return protocol

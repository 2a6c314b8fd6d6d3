"""Builders of WARC/1.1 records (warcio ArcWarcRecord), one per record type.

Pure: no files, no Scrapy. Each builder returns a complete record (WARC-Block-Digest and,
where the spec has one, WARC-Payload-Digest already computed by warcio, sha1 in base32) that
``crawler.warc.writer.WarcWriter`` writes as one gzip member. Record IDs and dates can be
given so that the records of one exchange share a date and point at each other.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO
from typing import Any, BinaryIO

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders

from crawler import __version__

WARC_VERSION = "WARC/1.1"
PROFILE_SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PROFILE_IDENTICAL_PAYLOAD_DIGEST = (
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
)
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
# The warcinfo ``robots`` values: robots.txt obeyed, or not.
ROBOTS_CLASSIC = "classic"
ROBOTS_IGNORE = "ignore"
TEXT_PLAIN = "text/plain; charset=utf-8"
WARC_FIELDS = "application/warc-fields"

PIECE = 1 << 20  # bytes of a streamed payload read at a time

HeaderPairs = Sequence[tuple[str | bytes, str | bytes]]


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as sent: ``GET /path?query HTTP/1.1``, headers in wire order, body."""

    method: str
    target: str  # origin form: path and query
    headers: HeaderPairs = ()
    body: bytes = b""
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP response as received: status line parts, headers in order, entity body."""

    protocol: str
    status: int
    reason: str
    headers: HeaderPairs = ()
    body: bytes = b""


@dataclass(frozen=True)
class RefersTo:
    """The earlier record a revisit stands for."""

    record_id: str
    target_uri: str
    date: str  # its WARC-Date


@dataclass
class _Fields:
    """WARC header lines in the order they are written."""

    pairs: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str | None) -> None:
        if value:
            self.pairs[name] = value


class _WireHeaders(StatusAndHeaders):
    """HTTP status line and headers serialized byte for byte.

    Names and values are held as latin-1 text so that every byte maps to itself; warcio
    would otherwise %-encode any non-ASCII header value, and the record would no longer
    hold what the server sent.
    """

    def __init__(self, statusline: str, headers: HeaderPairs, protocol: str) -> None:
        super().__init__(statusline, [], protocol)
        self.headers = [(_latin1(name), _latin1(value)) for name, value in headers]

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self.to_bytes(encoding="latin-1")


def _latin1(value: str | bytes) -> str:
    # Text goes on the wire as UTF-8; each byte is then held as the latin-1 character of it.
    return (value.encode("utf-8") if isinstance(value, str) else bytes(value)).decode("latin-1")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(when: datetime | None = None) -> str:
    """A WARC-Date in UTC with microseconds (WARC/1.1 allows fractions of a second)."""
    when = datetime.now(UTC) if when is None else when.astimezone(UTC)
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


def record_id(record: ArcWarcRecord) -> str:
    return record.rec_headers.get_header("WARC-Record-ID")


def payload_digest(record: ArcWarcRecord) -> str | None:
    return record.rec_headers.get_header("WARC-Payload-Digest")


def _build(
    record_type: str,
    uri: str,
    fields: _Fields,
    *,
    http: StatusAndHeaders | None = None,
    payload: bytes = b"",
    content_type: str = "",
) -> ArcWarcRecord:
    """The record warcio's RecordBuilder makes of these fields (the same headers in the same
    order, its digests), with the digests computed here at once: warcio streams the payload
    through them twice, which costs more than hashing a page."""
    headers = StatusAndHeaders("", list(fields.pairs.items()), protocol=WARC_VERSION)
    record = ArcWarcRecord(
        "warc",
        record_type,
        headers,
        BytesIO(payload),
        http,
        content_type or RecordBuilder.WARC_RECORDS.get(record_type, "application/warc-record"),
        len(payload),
    )
    record.payload_length = len(payload)
    payload_digest = None
    if not headers.get_header("WARC-Payload-Digest") and (
        record_type not in RecordBuilder.NO_PAYLOAD_DIGEST_TYPES
    ):
        payload_digest = _sha1(payload)
        headers.add_header("WARC-Payload-Digest", payload_digest)
    if http is not None:
        http.compute_headers_buffer(None)
        block = hashlib.sha1(http.headers_buff)
        block.update(payload)
        block_digest = _digest(block)
    else:  # the block is the payload: its digest, computed once
        block_digest = payload_digest or _sha1(payload)
    headers.add_header("WARC-Block-Digest", block_digest)
    return record


def _sha1(data: bytes) -> str:
    """A digest as WARC headers give it (and warcio computes it): sha1, base32."""
    return _digest(hashlib.sha1(data))


def _digest(sha1: Any) -> str:
    # What base64.b32encode makes of the 160 bits (32 letters, no padding), written two
    # letters per 10 bits at a time: at half its cost, which is more than hashing a request.
    bits = int.from_bytes(sha1.digest())
    return "sha1:" + "".join([_BASE32_PAIRS[(bits >> shift) & 0x3FF] for shift in _SHIFTS])


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648
_BASE32_PAIRS = [first + second for first in _BASE32 for second in _BASE32]
_SHIFTS = range(150, -1, -10)


def _head(record_type: str, uri: str, date: str | None, rid: str | None) -> _Fields:
    fields = _Fields()
    fields.add("WARC-Type", record_type)
    fields.add("WARC-Record-ID", rid or new_record_id())
    fields.add("WARC-Date", date or warc_date())
    fields.add("WARC-Target-URI", uri)
    return fields


def request_record(
    uri: str,
    http: HttpRequest,
    *,
    date: str | None = None,
    record_id: str | None = None,
    concurrent_to: str | None = None,
    ip: str | None = None,
) -> ArcWarcRecord:
    """A ``request`` record: the request line, headers and body as sent."""
    fields = _head("request", uri, date, record_id)
    fields.add("WARC-IP-Address", ip)
    fields.add("WARC-Concurrent-To", concurrent_to)
    head = _WireHeaders(f"{http.target} {http.protocol}", http.headers, http.method)
    return _build("request", uri, fields, http=head, payload=http.body)


def response_record(
    uri: str,
    http: HttpResponse,
    *,
    date: str | None = None,
    record_id: str | None = None,
    ip: str | None = None,
    truncated: str | None = None,
) -> ArcWarcRecord:
    """A ``response`` record: status line, headers and the entity body as received."""
    fields = _response_head(uri, date, record_id, ip, truncated)
    return _build("response", uri, fields, http=_status(http), payload=http.body)


def streamed_response_record(
    uri: str,
    http: HttpResponse,
    payload: BinaryIO,
    length: int,
    *,
    date: str | None = None,
    record_id: str | None = None,
    ip: str | None = None,
    truncated: str | None = None,
) -> ArcWarcRecord:
    """A ``response`` record whose entity body is the first ``length`` bytes of a file
    (``http.body`` unused), read twice in pieces, never whole: once here for the digests,
    once by ``WarcWriter.write_streamed``. The same record as ``response_record`` makes."""
    fields = _response_head(uri, date, record_id, ip, truncated)
    head = _status(http)
    head.compute_headers_buffer(None)
    payload_sha1, block_sha1 = hashlib.sha1(), hashlib.sha1(head.headers_buff)
    for piece in read_pieces(payload, length):
        payload_sha1.update(piece)
        block_sha1.update(piece)
    fields.add("WARC-Payload-Digest", _digest(payload_sha1))
    fields.add("WARC-Block-Digest", _digest(block_sha1))
    headers = StatusAndHeaders("", list(fields.pairs.items()), protocol=WARC_VERSION)
    record = ArcWarcRecord(
        "warc", "response", headers, payload, head, RecordBuilder.WARC_RECORDS["response"], length
    )
    record.payload_length = length
    return record


def _response_head(
    uri: str, date: str | None, record_id: str | None, ip: str | None, truncated: str | None
) -> _Fields:
    """The WARC header fields of a response record, digests aside."""
    fields = _head("response", uri, date, record_id)
    fields.add("WARC-IP-Address", ip)
    fields.add("WARC-Truncated", truncated)
    return fields


def read_pieces(file: BinaryIO, length: int, size: int = PIECE) -> Iterator[bytes]:
    """The first ``length`` bytes of a file, from its start, ``size`` bytes at a time.
    Raises ValueError when the file is shorter."""
    file.seek(0)
    left = length
    while left:
        piece = file.read(min(size, left))
        if not piece:
            raise ValueError(f"{getattr(file, 'name', 'the file')} ends {left} bytes early")
        left -= len(piece)
        yield piece


def revisit_record(
    uri: str,
    http: HttpResponse,
    *,
    profile: str,
    refers_to: RefersTo,
    date: str | None = None,
    record_id: str | None = None,
    payload_digest: str | None = None,
    ip: str | None = None,
) -> ArcWarcRecord:
    """A ``revisit`` record: the response's status line and headers, no body.

    ``PROFILE_IDENTICAL_PAYLOAD_DIGEST`` needs the payload digest the comparison was made
    on (the earlier record's, which is this response's too), and says ``WARC-Truncated:
    length``: the record keeps the HTTP headers and drops the body, as Heritrix and the
    spec's examples write it. ``PROFILE_SERVER_NOT_MODIFIED`` (a 304) has no payload and so
    no payload digest, and nothing cut off.
    """
    identical = profile == PROFILE_IDENTICAL_PAYLOAD_DIGEST
    if identical and not payload_digest:
        raise ValueError("an identical-payload-digest revisit needs the payload digest")
    fields = _head("revisit", uri, date, record_id)
    fields.add("WARC-IP-Address", ip)
    fields.add("WARC-Profile", profile)
    fields.add("WARC-Refers-To", refers_to.record_id)
    fields.add("WARC-Refers-To-Target-URI", refers_to.target_uri)
    fields.add("WARC-Refers-To-Date", refers_to.date)
    fields.add("WARC-Payload-Digest", payload_digest)
    fields.add("WARC-Truncated", "length" if identical else None)
    return _build("revisit", uri, fields, http=_status(http))


def conversion_record(
    uri: str,
    text: str | bytes,
    *,
    refers_to: str,
    date: str | None = None,
    record_id: str | None = None,
    content_type: str = TEXT_PLAIN,
) -> ArcWarcRecord:
    """A ``conversion`` record: text derived from the response record ``refers_to``."""
    fields = _head("conversion", uri, date, record_id)
    fields.add("WARC-Refers-To", refers_to)
    payload = text.encode("utf-8") if isinstance(text, str) else text
    return _build("conversion", uri, fields, payload=payload, content_type=content_type)


def metadata_record(
    uri: str,
    values: Mapping[str, Any],
    *,
    concurrent_to: str | None = None,
    date: str | None = None,
    record_id: str | None = None,
) -> ArcWarcRecord:
    """A ``metadata`` record of ``name: value`` lines (application/warc-fields)."""
    fields = _head("metadata", uri, date, record_id)
    fields.add("WARC-Concurrent-To", concurrent_to)
    return _build("metadata", uri, fields, payload=_warc_fields(values), content_type=WARC_FIELDS)


def warcinfo_record(
    filename: str,
    values: Mapping[str, Any],
    *,
    date: str | None = None,
    record_id: str | None = None,
) -> ArcWarcRecord:
    """The ``warcinfo`` record that heads a WARC file."""
    fields = _head("warcinfo", "", date, record_id)  # no target URI: _Fields skips it
    fields.add("WARC-Filename", filename)
    return _build("warcinfo", "", fields, payload=_warc_fields(values), content_type=WARC_FIELDS)


def warcinfo_fields(
    *,
    is_part_of: str | None = None,
    operator: str | None = None,
    user_agent: str | None = None,
    robots: str | None = None,
    settings: Mapping[str, Any] | None = None,
    description: str | None = None,
    hostname: str | None = None,
) -> dict[str, str]:
    """The fields of a warcinfo record (WARC 1.1 annex, as Heritrix and wget write them):
    the crawl it is part of, who ran it where with what software, the format, and how.

    ``is_part_of`` names the crawl, the same in every file of one archive; ``robots`` says
    how robots.txt was treated (ROBOTS_CLASSIC or ROBOTS_IGNORE); ``settings`` (the crawl
    settings that shaped what was fetched) is stored as one line of JSON. ``operator``
    defaults to the account that runs the crawl.
    """
    values = {
        "isPartOf": is_part_of or "",
        "software": f"dcs-archiver/{__version__} "
        f"(Scrapy/{_version('scrapy')}; warcio/{_version('warcio')})",
        "format": WARC_FORMAT,
        "conformsTo": WARC_CONFORMS_TO,
        "hostname": hostname or socket.gethostname(),
        "operator": operator or _account(),
        "http-header-user-agent": user_agent or "",
        "robots": robots or "",
        "description": description or "",
    }
    if settings:
        values["crawl-settings"] = json.dumps(
            dict(settings), sort_keys=True, default=str, ensure_ascii=False
        )
    return {name: value for name, value in values.items() if value}


def _account() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"uid {os.getuid()}@{socket.gethostname()}"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def _warc_fields(values: Mapping[str, Any]) -> bytes:
    # application/warc-fields: one "name: value" per line, so line breaks become spaces.
    lines = []
    for name, value in values.items():
        if value is None or value == "":
            continue
        text = " ".join(str(value).splitlines())
        lines.append(f"{name}: {text}\r\n")
    return "".join(lines).encode("utf-8")


def _status(http: HttpResponse) -> _WireHeaders:
    # The space after the code stays when the reason is empty (RFC 9112, 4).
    return _WireHeaders(f"{http.status} {http.reason}", http.headers, http.protocol)

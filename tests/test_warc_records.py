"""WARC record builders (crawler.warc.records) and the HTTP messages rebuilt from Scrapy
objects (crawler.warc.wire): round trips through warcio, digests recomputed by hand."""

from __future__ import annotations

import base64
import gzip
import hashlib
import ipaddress
import json
from io import BytesIO

import pytest
from scrapy.http import Request, Response
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from crawler.warc import records, wire

URL = "https://dangcongsan.vn/thoi-su/bai-viet-533819.html?page=2"
DATE = "2026-11-28T08:15:00.123456Z"


def sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def roundtrip(*built):
    """Write records with warcio's gzip writer, read them back: (record, http head, payload)."""
    out = BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    for record in built:
        writer.write_record(record)
    raw = out.getvalue()
    blocks = [r.raw_stream.read() for r in ArchiveIterator(BytesIO(raw), no_record_parse=True)]
    read = []
    for record, block in zip(ArchiveIterator(BytesIO(raw)), blocks, strict=True):
        if record.http_headers:
            head, _, payload = block.partition(b"\r\n\r\n")
            read.append((record, head + b"\r\n\r\n", payload))
        else:
            read.append((record, b"", block))
    return read


def sample_response(body: bytes = b"") -> records.HttpResponse:
    body = body or gzip.compress("<p>Đảng Cộng sản</p>".encode())
    return records.HttpResponse(
        "HTTP/1.1",
        200,
        "OK",
        [
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Encoding", b"gzip"),
            (b"X-Title", "Đảng".encode()),  # raw UTF-8 bytes in a header value
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
        ],
        body,
    )


def test_response_round_trip_keeps_status_headers_and_encoded_body():
    http = sample_response()
    built = records.response_record(URL, http, date=DATE, ip="203.0.113.7")
    [(record, head, block)] = roundtrip(built)
    assert record.rec_type == "response"
    assert record.rec_headers["WARC-Target-URI"] == URL
    assert record.rec_headers["WARC-Date"] == DATE
    assert record.rec_headers["WARC-IP-Address"] == "203.0.113.7"
    assert record.rec_headers["Content-Type"] == "application/http; msgtype=response"
    assert record.rec_headers.protocol == "WARC/1.1"
    assert head.startswith(b"HTTP/1.1 200 OK\r\nContent-Length: ")
    assert "X-Title: Đảng\r\n".encode() in head  # not %-encoded: byte for byte
    assert head.count(b"Set-Cookie") == 2
    assert block == http.body  # still gzip, as sent
    assert int(record.rec_headers["Content-Length"]) == len(head) + len(block)


def test_response_digests_are_sha1_base32_of_block_and_payload():
    http = sample_response()
    [(record, head, block)] = roundtrip(records.response_record(URL, http, date=DATE))
    assert record.rec_headers["WARC-Payload-Digest"] == sha1(http.body)
    assert record.rec_headers["WARC-Block-Digest"] == sha1(head + block)


def test_digests_are_set_when_built_before_writing():
    built = records.response_record(URL, sample_response(), date=DATE)
    assert records.payload_digest(built) == sha1(sample_response().body)
    assert built.rec_headers["WARC-Block-Digest"].startswith("sha1:")


def test_request_record_holds_request_line_and_headers_in_order():
    http = records.HttpRequest(
        "GET", "/thoi-su/bai-viet-533819.html?page=2", [(b"Accept", b"*/*"), (b"Host", b"h")]
    )
    built = records.request_record(URL, http, date=DATE, concurrent_to="<urn:uuid:x>", ip="1.2.3.4")
    [(record, head, block)] = roundtrip(built)
    assert record.rec_type == "request"
    assert (
        head
        == b"GET /thoi-su/bai-viet-533819.html?page=2 HTTP/1.1\r\nAccept: */*\r\nHost: h\r\n\r\n"
    )
    assert block == b""
    assert record.rec_headers["WARC-Concurrent-To"] == "<urn:uuid:x>"
    assert record.rec_headers["WARC-Block-Digest"] == sha1(head)
    assert record.rec_headers["Content-Type"] == "application/http; msgtype=request"


def test_unknown_status_keeps_the_space_before_an_empty_reason():
    http = records.HttpResponse("HTTP/1.1", 599, wire.reason_phrase(599), [], b"")
    [(_, head, _)] = roundtrip(records.response_record(URL, http, date=DATE))
    assert head.startswith(b"HTTP/1.1 599 \r\n")


def test_identical_payload_revisit_keeps_headers_drops_body():
    http = sample_response()
    original = records.response_record(URL, http, date=DATE)
    refers = records.RefersTo(records.record_id(original), URL, DATE)
    digest = records.payload_digest(original)
    built = records.revisit_record(
        URL, http, profile=records.PROFILE_IDENTICAL_PAYLOAD_DIGEST, refers_to=refers,
        payload_digest=digest,
    )  # fmt: skip
    [(record, head, block)] = roundtrip(built)
    headers = record.rec_headers
    assert record.rec_type == "revisit"
    assert headers["WARC-Profile"] == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert headers["WARC-Refers-To"] == records.record_id(original)
    assert headers["WARC-Refers-To-Target-URI"] == URL
    assert headers["WARC-Refers-To-Date"] == DATE
    assert headers["WARC-Payload-Digest"] == sha1(http.body)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and block == b""
    assert int(headers["Content-Length"]) == len(head)
    assert headers["WARC-Block-Digest"] == sha1(head)
    assert headers["WARC-Truncated"] == "length"  # the headers kept, the body cut off


def test_server_not_modified_revisit_has_no_payload_digest():
    http = records.HttpResponse("HTTP/1.1", 304, "Not Modified", [(b"Etag", b'"v1"')])
    refers = records.RefersTo("<urn:uuid:orig>", URL, DATE)
    built = records.revisit_record(
        URL, http, profile=records.PROFILE_SERVER_NOT_MODIFIED, refers_to=refers
    )
    [(record, head, _)] = roundtrip(built)
    assert record.rec_headers["WARC-Profile"] == (
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    )
    assert record.rec_headers["WARC-Payload-Digest"] is None
    assert record.rec_headers["WARC-Truncated"] is None  # a 304 has no body to cut off
    assert record.rec_headers["WARC-Refers-To"] == "<urn:uuid:orig>"
    assert head == b'HTTP/1.1 304 Not Modified\r\nEtag: "v1"\r\n\r\n'


def test_identical_payload_revisit_needs_a_digest():
    refers = records.RefersTo("<urn:uuid:orig>", URL, DATE)
    with pytest.raises(ValueError):
        records.revisit_record(
            URL, sample_response(), profile=records.PROFILE_IDENTICAL_PAYLOAD_DIGEST,
            refers_to=refers,
        )  # fmt: skip


def test_conversion_record_is_utf8_text_referring_to_the_response():
    text = "Tiêu đề\n(ĐCSVN) - Lời dẫn"
    built = records.conversion_record(URL, text, refers_to="<urn:uuid:resp>", date=DATE)
    [(record, head, block)] = roundtrip(built)
    assert record.rec_type == "conversion" and head == b""
    assert record.rec_headers["Content-Type"] == "text/plain; charset=utf-8"
    assert record.rec_headers["WARC-Refers-To"] == "<urn:uuid:resp>"
    assert record.rec_headers["WARC-Target-URI"] == URL
    assert block.decode("utf-8") == text
    assert record.rec_headers["WARC-Block-Digest"] == sha1(text.encode())


def test_metadata_record_lists_fields_one_per_line():
    fields = {"error-kind": "twisted.internet.error.DNSLookupError", "error-message": "a\nb"}
    built = records.metadata_record(URL, fields, concurrent_to="<urn:uuid:req>", date=DATE)
    [(record, _, block)] = roundtrip(built)
    assert record.rec_headers["Content-Type"] == "application/warc-fields"
    assert record.rec_headers["WARC-Concurrent-To"] == "<urn:uuid:req>"
    assert block == b"error-kind: twisted.internet.error.DNSLookupError\r\nerror-message: a b\r\n"


def test_warcinfo_names_software_versions_and_settings():
    fields = records.warcinfo_fields(
        is_part_of="dcs-archive-20261129", operator="Thư viện", user_agent="dcs-archiver/0.1",
        robots=records.ROBOTS_CLASSIC,
        settings={"DOWNLOAD_DELAY": 1.5, "BASE_URL": "https://dangcongsan.vn"},
    )  # fmt: skip
    [(record, _, block)] = roundtrip(records.warcinfo_record("dcs-x.warc.gz", fields, date=DATE))
    assert record.rec_type == "warcinfo"
    assert record.rec_headers["WARC-Filename"] == "dcs-x.warc.gz"
    lines = dict(line.split(": ", 1) for line in block.decode("utf-8").splitlines())
    assert lines["software"].startswith("dcs-archiver/")
    assert "Scrapy/" in lines["software"] and "warcio/" in lines["software"]
    assert lines["format"] == "WARC File Format 1.1"
    assert lines["operator"] == "Thư viện" and lines["robots"] == "classic"
    assert lines["isPartOf"] == "dcs-archive-20261129"
    assert lines["http-header-user-agent"] == "dcs-archiver/0.1"
    assert lines["hostname"]
    assert json.loads(lines["crawl-settings"])["DOWNLOAD_DELAY"] == 1.5


def test_warc_date_has_microseconds_in_utc():
    from datetime import datetime, timedelta, timezone

    when = datetime(2026, 11, 28, 15, 0, 0, 42, tzinfo=timezone(timedelta(hours=7)))
    assert records.warc_date(when) == "2026-11-28T08:00:00.000042Z"


# -- wire: rebuilding the messages from Scrapy objects --------------------------------------
def scrapy_response(status=200, headers=None, body=b"", protocol="HTTP/1.1", flags=None):
    return Response(
        URL, status=status, headers=headers or {}, body=body, protocol=protocol,
        ip_address=ipaddress.ip_address("127.0.0.1"), flags=flags,
    )  # fmt: skip


def header(http: records.HttpResponse, name: bytes) -> list[bytes]:
    return [value for key, value in http.headers if key.lower() == name.lower()]


def test_response_without_length_over_http11_was_chunked():
    http = wire.response_message(
        scrapy_response(headers={"Content-Type": "text/plain"}, body=b"hi")
    )
    assert (http.protocol, http.status, http.reason) == ("HTTP/1.1", 200, "OK")
    assert header(http, b"Content-Length") == [b"2"]
    assert header(http, b"X-Orig-Transfer-Encoding") == [b"chunked"]
    assert header(http, b"Transfer-Encoding") == []


def test_response_without_length_over_http10_was_closed_not_chunked():
    http = wire.response_message(scrapy_response(body=b"hello", protocol="HTTP/1.0"))
    assert header(http, b"Content-Length") == [b"5"]
    assert header(http, b"X-Orig-Transfer-Encoding") == []


def test_wrong_content_length_is_kept_as_x_orig():
    response = scrapy_response(headers={"Content-Length": "10"}, body=b"abc", flags=["dataloss"])
    http = wire.response_message(response)
    assert header(http, b"Content-Length") == [b"3"]
    assert header(http, b"X-Orig-Content-Length") == [b"10"]
    assert wire.truncation(response) == "disconnect"


def test_true_content_length_is_left_alone():
    http = wire.response_message(scrapy_response(headers={"Content-Length": "3"}, body=b"abc"))
    assert header(http, b"Content-Length") == [b"3"]
    assert header(http, b"X-Orig-Content-Length") == []
    assert header(http, b"X-Orig-Transfer-Encoding") == []


def test_bodiless_statuses_and_head_get_no_chunked_marker():
    not_modified = wire.response_message(scrapy_response(status=304))
    assert not_modified.reason == "Not Modified"
    assert header(not_modified, b"Content-Length") == [b"0"]
    assert header(not_modified, b"X-Orig-Transfer-Encoding") == []
    head = wire.response_message(scrapy_response(), method="HEAD")
    assert header(head, b"X-Orig-Transfer-Encoding") == []


def test_request_message_is_what_twisted_writes():
    request = Request(
        "http://127.0.0.1:8080/a%20b/p?q=1#frag",
        headers={"Accept": "*/*", "dnt": "1", "User-Agent": "ua"},
    )
    http = wire.request_message(request)
    assert (http.method, http.target, http.protocol) == ("GET", "/a%20b/p?q=1", "HTTP/1.1")
    assert list(http.headers) == [
        (b"Accept", b"*/*"),
        (b"DNT", b"1"),  # Twisted's own casing of a few names
        (b"User-Agent", b"ua"),
        (b"Host", b"127.0.0.1:8080"),  # appended by Twisted, after the request's headers
    ]
    assert wire.target_uri(request) == "http://127.0.0.1:8080/a%20b/p?q=1"


def test_request_host_omits_default_port():
    http = wire.request_message(Request("https://dangcongsan.vn/"))
    assert (b"Host", b"dangcongsan.vn") in list(http.headers)
    assert http.target == "/"


def test_warcinfo_always_names_an_operator_and_a_host():
    fields = records.warcinfo_fields(robots=records.ROBOTS_IGNORE)
    assert fields["operator"] and "@" in fields["operator"]
    assert fields["hostname"] and fields["robots"] == "ignore"
    assert fields["format"] == "WARC File Format 1.1" and fields["software"]


def every_kind_of_record() -> list:
    body = bytes(range(256)) * 8
    head = [(b"Content-Length", b"2048"), (b"Server", b"nginx"), (b"X-Caf\xe9", b"caf\xe9")]
    http = records.HttpResponse("HTTP/1.1", 200, "OK", head, body)
    earlier = records.RefersTo("<urn:uuid:2>", URL, DATE)
    same = {"date": DATE, "record_id": "<urn:uuid:1>"}
    return [
        records.response_record(URL, http, ip="127.0.0.1", **same),
        records.response_record(URL, http, truncated="length", **same),
        records.request_record(
            URL, records.HttpRequest("POST", "/x", [(b"Host", b"h")], b"a=1"), **same
        ),
        records.revisit_record(
            URL,
            http,
            profile=records.PROFILE_IDENTICAL_PAYLOAD_DIGEST,
            refers_to=earlier,
            payload_digest=sha1(body),
            **same,
        ),  # fmt: skip
        records.revisit_record(
            URL,
            records.HttpResponse("HTTP/1.1", 304, "Not Modified"),
            profile=records.PROFILE_SERVER_NOT_MODIFIED,
            refers_to=earlier,
            **same,
        ),  # fmt: skip
        records.conversion_record(URL, "Xin chào", refers_to="<urn:uuid:3>", **same),
        records.metadata_record(URL, {"error-kind": "x"}, **same),
        records.warcinfo_record("dcs.warc.gz", {"isPartOf": "x"}, **same),
    ]


def test_records_are_built_and_written_as_warcio_builds_and_writes_them(tmp_path):
    """The builders and the writer take shortcuts through warcio (digests hashed at once, a
    record gzipped in one call): what comes out is what warcio itself makes of the same."""
    from warcio.recordbuilder import RecordBuilder

    from crawler.warc.writer import WarcWriter

    builder = RecordBuilder(warc_version=records.WARC_VERSION)
    writer = WarcWriter(tmp_path)
    writer._warcinfo_id = "<urn:uuid:0>"  # the header the writer adds, as in a file
    for ours in every_kind_of_record():
        theirs = builder.create_warc_record(
            ours.rec_headers.get_header("WARC-Target-URI") or "",
            ours.rec_type,
            payload=BytesIO(ours.raw_stream.getvalue()),
            length=ours.length,
            warc_content_type=ours.content_type,
            warc_headers_dict={
                name: value
                for name, value in ours.rec_headers.headers
                if name not in ("WARC-Payload-Digest", "WARC-Block-Digest")
                or ours.rec_type == "revisit"
                and name == "WARC-Payload-Digest"
            },
            http_headers=ours.http_headers,
        )
        builder.ensure_digest(theirs, block=True, payload=False)
        assert ours.rec_headers.headers == theirs.rec_headers.headers
        [(_, member)] = writer._members([ours])
        theirs.rec_headers.replace_header("WARC-Warcinfo-ID", "<urn:uuid:0>")
        written = BytesIO()
        WARCWriter(written, gzip=False, warc_version=records.WARC_VERSION).write_record(theirs)
        assert gzip.decompress(member) == written.getvalue()

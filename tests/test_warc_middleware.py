"""WarcMiddleware: a real Scrapy crawl (in a subprocess) of a tiny raw-socket HTTP server that
knows the exact bytes it received and sent, plus direct calls for revisits and errors."""

from __future__ import annotations

import base64
import gzip
import hashlib
import ipaddress
import json
import re
import socket
import subprocess
import sys
import textwrap
import threading
import zlib
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError
from warcio.archiveiterator import ArchiveIterator

from crawler.warc import records
from crawler.warc.middleware import WarcMiddleware
from crawler.warc.writer import WarcWriter

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGE = "<html><body><h1>Hà Nội - Quảng Ninh</h1></body></html>".encode()
GZIPPED = gzip.compress(PAGE, mtime=0)
CHUNKS = [b"xin ch\xc3\xa0o ", b"the\r\nworld ", b"end"]


def sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


# -- a server that keeps the bytes ---------------------------------------------------------
def raw_routes() -> dict[str, tuple[bytes, bool]]:
    """path -> (response bytes exactly as sent, close the connection after)."""
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in CHUNKS) + b"0\r\n\r\n"
    return {
        "/gzip": (
            b"HTTP/1.1 200 Fine Thanks\r\n"  # a reason phrase Scrapy will not pass on
            b"Content-Type: text/html; charset=utf-8\r\n"
            b"Content-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n"
            % len(GZIPPED)
            + b'ETag: "v1"\r\n'
            + "X-Title: Đảng\r\n".encode()
            + b"\r\n"
            + GZIPPED,
            False,
        ),
        "/chunked": (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunked,
            False,
        ),
        "/old": (
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: /gzip?from=old\r\n"
            b"Content-Length: 0\r\n\r\n",
            False,
        ),
        "/missing": (
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n"
            b"not found",
            False,
        ),
        "/http10": (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", True),
    }


class RawServer:
    """HTTP/1.1 over a plain socket (keep-alive), logging each request head as received."""

    def __init__(self) -> None:
        self.routes = raw_routes()
        self.received: list[tuple[str, bytes]] = []  # (request target, raw head)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                head += b"\r\n\r\n"
                target = head.split(b" ", 2)[1].decode()
                self.received.append((target, head))
                raw, close = self.routes.get(target.split("?")[0], self.routes["/missing"])
                conn.sendall(raw)
                if close:
                    return


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


CRAWL = textwrap.dedent(
    """
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    out, results, urls = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    found = []

    class Probe(scrapy.Spider):
        name = "probe"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, errback=self.failed, dont_filter=True)

        def parse(self, response):
            found.append({"url": response.url, "status": response.status,
                          "warc": response.meta.get("warc")})

        def failed(self, failure):
            found.append({"url": failure.request.url, "error": repr(failure.value),
                          "warc_error": failure.request.meta.get("warc_error")})

    process = CrawlerProcess({
        "DOWNLOADER_MIDDLEWARES": {"crawler.warc.middleware.WarcMiddleware": 950},
        "OUT_DIR": out, "WARC_OPERATOR": "tests", "ROBOTSTXT_OBEY": False,
        "HTTPERROR_ALLOW_ALL": True, "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 10,
        "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
    })
    process.crawl(Probe)
    process.start()
    with open(results, "w") as f:
        json.dump(found, f)
    """
)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """One real crawl of the raw server: (server, WARC dir, spider results, records)."""
    out = tmp_path_factory.mktemp("crawl")
    with RawServer() as server:
        urls = [server.base_url + path for path in ("/gzip", "/chunked", "/old", "/missing")]
        urls += [server.base_url + "/http10", f"http://127.0.0.1:{closed_port()}/refused"]
        script = out / "crawl.py"
        script.write_text(CRAWL)
        results = out / "results.json"
        done = subprocess.run(
            [sys.executable, str(script), str(out), str(results), json.dumps(urls)],
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": str(BIN)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    warc_dir = out / "warc"
    found = json.loads(results.read_text())
    return server, warc_dir, found, read_warcs(warc_dir)


def read_warcs(warc_dir: Path) -> list[dict]:
    """Every record of every file: type, WARC headers, raw block, parsed status line."""
    read = []
    for path in sorted(warc_dir.iterdir()):
        raw = path.read_bytes()
        blocks = [r.raw_stream.read() for r in ArchiveIterator(BytesIO(raw), no_record_parse=True)]
        for record, block in zip(ArchiveIterator(BytesIO(raw)), blocks, strict=True):
            head, _, payload = block.partition(b"\r\n\r\n")
            read.append(
                {
                    "file": path.name,
                    "type": record.rec_type,
                    "warc": record.rec_headers,
                    "block": block,
                    "head": head + b"\r\n\r\n",
                    "payload": payload,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                }
            )
    return read


def one(recs: list[dict], kind: str, path: str) -> dict:
    [found] = [r for r in recs if r["type"] == kind and r["uri"].endswith(path)]
    return found


def http_header(rec: dict, name: str) -> list[str]:
    lines = rec["head"].decode("latin-1").split("\r\n")[1:]
    pairs = [line.split(": ", 1) for line in lines if line]
    return [value for key, value in pairs if key.lower() == name.lower()]


def test_crawl_leaves_whole_files_that_check_and_index(crawl):
    _, warc_dir, _, recs = crawl
    files = sorted(warc_dir.iterdir())
    assert files and all(p.name.endswith(".warc.gz") for p in files)  # no .open left
    for path in files:
        checked = subprocess.run(
            [str(BIN / "warcio"), "check", str(path)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    index = subprocess.run(
        [str(BIN / "cdxj-indexer"), *map(str, files)], capture_output=True, text=True, check=True
    )
    # 6 responses: gzip, gzip?from=old, chunked, old (301), missing (404), http10
    assert len(index.stdout.splitlines()) == 6
    assert recs[0]["type"] == "warcinfo"
    assert b"operator: tests\r\n" in recs[0]["block"]


def test_gzip_body_is_stored_exactly_as_sent(crawl):
    _, _, _, recs = crawl
    rec = one(recs, "response", "/gzip")
    assert rec["payload"] == GZIPPED
    assert rec["head"].startswith(b"HTTP/1.1 200 OK\r\n")  # standard phrase, not the server's
    assert http_header(rec, "Content-Encoding") == ["gzip"]
    assert http_header(rec, "Content-Length") == [str(len(GZIPPED))]
    assert http_header(rec, "X-Orig-Transfer-Encoding") == []
    assert "X-Title: Đảng\r\n".encode() in rec["head"]  # raw bytes, not %-encoded
    assert http_header(rec, "Etag") == ['"v1"']  # re-cased by Scrapy: documented
    assert rec["warc"]["WARC-IP-Address"] == "127.0.0.1"
    assert rec["warc"]["WARC-Payload-Digest"] == sha1(GZIPPED)
    assert rec["warc"]["WARC-Block-Digest"] == sha1(rec["block"])


def test_chunked_body_is_stored_dechunked_and_marked(crawl):
    _, _, _, recs = crawl
    rec = one(recs, "response", "/chunked")
    assert rec["payload"] == b"".join(CHUNKS)
    assert http_header(rec, "X-Orig-Transfer-Encoding") == ["chunked"]
    assert http_header(rec, "Transfer-Encoding") == []
    assert http_header(rec, "Content-Length") == [str(len(b"".join(CHUNKS)))]
    assert rec["head"].startswith(b"HTTP/1.1 200 OK\r\n")


def test_close_delimited_http10_body_gets_a_length_but_no_chunked_marker(crawl):
    rec = one(crawl[3], "response", "/http10")
    assert rec["head"].startswith(b"HTTP/1.0 200 OK\r\n") and rec["payload"] == b"until close"
    assert http_header(rec, "Content-Length") == ["11"]
    assert http_header(rec, "X-Orig-Transfer-Encoding") == []


def test_redirect_and_not_found_are_recorded(crawl):
    _, _, found, recs = crawl
    moved = one(recs, "response", "/old")
    assert moved["head"].startswith(b"HTTP/1.1 301 Moved Permanently\r\n")
    assert http_header(moved, "Location") == ["/gzip?from=old"]
    followed = one(recs, "response", "/gzip?from=old")
    assert followed["payload"] == GZIPPED
    missing = one(recs, "response", "/missing")
    assert missing["head"].startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert missing["payload"] == b"not found"
    assert sorted(r["status"] for r in found if "status" in r) == [200, 200, 200, 200, 404]


def test_request_records_are_the_bytes_the_server_received(crawl):
    server, _, _, recs = crawl
    requests = [r for r in recs if r["type"] == "request" and "/refused" not in r["uri"]]
    assert len(requests) == len(server.received) == 6
    received = sorted(head for _, head in server.received)
    assert sorted(r["block"] for r in requests) == received
    for rec in requests:  # a request and its response: linked, same date
        [response] = [
            r for r in recs if r["warc"]["WARC-Record-ID"] == rec["warc"]["WARC-Concurrent-To"]
        ]
        assert response["type"] == "response" and response["uri"] == rec["uri"]
        assert response["warc"]["WARC-Date"] == rec["warc"]["WARC-Date"]
        assert response["file"] == rec["file"]


def test_connection_error_writes_request_and_metadata_for_each_attempt(crawl):
    _, _, found, recs = crawl
    errors = [r for r in recs if r["type"] == "metadata"]
    assert len(errors) == 2  # RETRY_TIMES = 1: the first try and the retry
    for meta in errors:
        # Scrapy 2.19 wraps Twisted's error in its own DownloadConnectionRefusedError
        assert re.search(rb"^error-kind: [\w.]+ConnectionRefusedError\r$", meta["block"], re.M)
        assert b"error-message: Connection was refused" in meta["block"]
        [request] = [
            r for r in recs if r["warc"]["WARC-Record-ID"] == meta["warc"]["WARC-Concurrent-To"]
        ]
        assert request["type"] == "request" and request["uri"].endswith("/refused")
        assert request["block"].startswith(b"GET /refused HTTP/1.1\r\n")
    [failed] = [r for r in found if "error" in r]
    assert failed["warc_error"]["record_id"] in {m["warc"]["WARC-Record-ID"] for m in errors}


def test_meta_warc_points_at_the_response_record(crawl):
    _, warc_dir, found, _ = crawl
    [gzip_page] = [r for r in found if r["url"].endswith("/gzip")]
    info = gzip_page["warc"]
    assert set(info) >= {"filename", "offset", "length", "record_id", "date", "payload_digest"}
    assert info["payload_digest"] == sha1(GZIPPED) and info["type"] == "response"
    with open(warc_dir / info["filename"], "rb") as file:
        file.seek(info["offset"])
        text = zlib.decompress(file.read(info["length"]), wbits=zlib.MAX_WBITS | 16)
    assert f"WARC-Record-ID: {info['record_id']}\r\n".encode() in text
    assert f"WARC-Date: {info['date']}\r\n".encode() in text
    assert b"WARC-Type: response\r\n" in text


# -- direct calls: revisits, errors, set-up ------------------------------------------------
URL = "https://dangcongsan.vn/thoi-su/bai-viet-533819.html"


@pytest.fixture
def middleware(tmp_path):
    from crawler.state import CrawlState

    crawler = get_crawler(settings_dict={"OUT_DIR": str(tmp_path), "WARC_PREFIX": "t"})
    crawler.crawl_state = CrawlState.open(tmp_path)
    mw = WarcMiddleware.from_crawler(crawler)
    yield mw
    mw.close()
    crawler.crawl_state.close()


def fetch(mw: WarcMiddleware, status: int = 200, body: bytes = b"page", headers=None, **meta):
    request = Request(URL, meta=dict(meta))
    mw.process_request(request)
    response = Response(
        URL, status=status, body=body, headers=headers or {"Content-Length": str(len(body))},
        protocol="HTTP/1.1", ip_address=ipaddress.ip_address("127.0.0.1"), request=request,
    )  # fmt: skip
    assert mw.process_response(request, response) is response
    return request.meta.get("warc")


def written(mw: WarcMiddleware) -> list[dict]:
    mw.writer.close()
    return read_warcs(mw.writer.directory)


def test_writer_is_shared_and_crashed_files_recovered_on_start(tmp_path):
    warc_dir = tmp_path / "warc"
    with WarcWriter(warc_dir) as writer:
        writer.write(records.conversion_record(URL, "x", refers_to="<x>"))
    [done] = list(warc_dir.iterdir())
    crashed = done.rename(done.with_name(done.name + ".open"))
    with open(crashed, "ab") as file:
        file.write(b"\x1f\x8b half a member")
    crawler = get_crawler(settings_dict={"OUT_DIR": str(tmp_path)})
    first = WarcMiddleware.from_crawler(crawler)
    assert [p.name for p in warc_dir.iterdir()] == [done.name]
    assert WarcMiddleware.from_crawler(crawler).writer is first.writer is crawler.warc_writer
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the writer (no-op here)


def test_disabled_middleware_is_not_configured(tmp_path):
    crawler = get_crawler(settings_dict={"OUT_DIR": str(tmp_path), "WARC_ENABLED": False})
    with pytest.raises(NotConfigured):
        WarcMiddleware.from_crawler(crawler)
    assert not (tmp_path / "warc").exists()


def test_settings_choose_directory_prefix_and_size(tmp_path):
    crawler = get_crawler(
        settings_dict={"WARC_DIR": str(tmp_path / "w"), "WARC_PREFIX": "x", "WARC_MAX_SIZE": 5e6}
    )
    writer = WarcMiddleware.from_crawler(crawler).writer
    assert (writer.directory, writer.prefix, writer.max_size) == (tmp_path / "w", "x", 5_000_000)


def test_identical_payload_becomes_a_revisit_of_the_first_capture(middleware):
    first = fetch(middleware, body=b"same")
    second = fetch(middleware, body=b"same")
    assert first["type"] == "response" and second["type"] == "revisit"
    assert second["refers_to"] == first["record_id"]
    assert second["payload_digest"] == first["payload_digest"] == sha1(b"same")
    recs = written(middleware)
    revisit = [r for r in recs if r["type"] == "revisit"][0]
    assert revisit["warc"]["WARC-Profile"] == records.PROFILE_IDENTICAL_PAYLOAD_DIGEST
    assert revisit["warc"]["WARC-Refers-To"] == first["record_id"]
    assert revisit["warc"]["WARC-Refers-To-Date"] == first["date"]
    assert revisit["warc"]["WARC-Refers-To-Target-URI"] == URL
    assert revisit["payload"] == b"" and revisit["head"].startswith(b"HTTP/1.1 200 OK\r\n")


def test_not_modified_is_a_revisit_of_the_last_full_capture(middleware):
    first = fetch(middleware, body=b"v1", headers={"ETag": '"v1"', "Content-Length": "2"})
    fetch(middleware, body=b"v1")  # identical: a revisit, the reference stays on the first
    third = fetch(middleware, status=304, body=b"")
    assert third["type"] == "revisit" and third["refers_to"] == first["record_id"]
    recs = written(middleware)
    not_modified = [r for r in recs if r["type"] == "revisit"][-1]
    assert not_modified["warc"]["WARC-Profile"] == records.PROFILE_SERVER_NOT_MODIFIED
    assert not_modified["warc"]["WARC-Payload-Digest"] is None
    assert not_modified["head"].startswith(b"HTTP/1.1 304 Not Modified\r\n")
    last = middleware.crawler.crawl_state.last_capture(URL)
    assert last.status == 304 and last.record_id == first["record_id"] and last.etag == '"v1"'


def test_changed_payload_is_a_full_response(middleware):
    fetch(middleware, body=b"v1")
    changed = fetch(middleware, body=b"v2")
    assert changed["type"] == "response"
    assert middleware.crawler.crawl_state.last_capture(URL).record_id == changed["record_id"]


def test_canonical_from_meta_keys_the_state(middleware):
    first = fetch(middleware, body=b"same", canonical="https://dangcongsan.vn/other.html")
    assert fetch(middleware, body=b"same")["type"] == "response"  # another key: no revisit
    state = middleware.crawler.crawl_state
    assert state.last_capture("https://dangcongsan.vn/other.html").record_id == first["record_id"]


def test_without_state_every_fetch_is_a_full_response(tmp_path):
    mw = WarcMiddleware.from_crawler(get_crawler(settings_dict={"OUT_DIR": str(tmp_path)}))
    assert [fetch(mw, body=b"same")["type"] for _ in range(2)] == ["response", "response"]
    assert [fetch(mw, status=304, body=b"")["type"]] == ["response"]
    mw.close()


def test_send_time_is_taken_back_by_the_download_latency(middleware):
    request = Request(URL)
    middleware.process_request(request)
    request.meta["download_latency"] = 30.0
    middleware.crawler.signals.send_catch_log(
        signals.headers_received, headers={}, body_length=0, request=request, spider=None
    )
    response = Response(URL, body=b"", protocol="HTTP/1.1", request=request)
    middleware.process_response(request, response)
    date = datetime.strptime(request.meta["warc"]["date"], "%Y-%m-%dT%H:%M:%S.%fZ")
    age = datetime.now(UTC).replace(tzinfo=None) - date
    assert 29 < age.total_seconds() < 40


def test_errors_write_request_and_metadata_but_not_ignored_requests(middleware):
    refused = Request(URL + "?a=1")
    middleware.process_request(refused)
    assert middleware.process_exception(refused, ConnectionRefusedError("nope")) is None
    ignored = Request(URL + "?a=2")
    middleware.process_request(ignored)
    middleware.process_exception(ignored, IgnoreRequest("robots.txt"))
    never_sent = Request(URL + "?a=3")  # failed before it reached this middleware
    middleware.process_exception(never_sent, ConnectionRefusedError("nope"))
    cached = Request(URL + "?a=4")
    middleware.process_request(cached)
    middleware.process_response(cached, Response(cached.url, flags=["cached"]))
    recs = written(middleware)
    assert [r["type"] for r in recs] == ["warcinfo", "request", "metadata"]
    request, error = recs[1:]
    assert request["uri"] == URL + "?a=1"
    assert error["warc"]["WARC-Concurrent-To"] == request["warc"]["WARC-Record-ID"]
    assert b"error-kind: twisted.internet.error.ConnectionRefusedError\r\n" in error["block"]
    assert refused.meta["warc_error"]["record_id"] == error["warc"]["WARC-Record-ID"]
    assert "warc" not in cached.meta


OTHER = "https://file1.dangcongsan.vn/data/0/images/2019/08/10/thuhang/copy.jpg"


def fetch_url(mw: WarcMiddleware, url: str, body: bytes, status: int = 200) -> dict:
    request = Request(url)
    mw.process_request(request)
    response = Response(
        url, status=status, body=body, headers={"Content-Length": str(len(body))},
        protocol="HTTP/1.1", request=request,
    )  # fmt: skip
    mw.process_response(request, response)
    return request.meta["warc"]


def test_the_same_payload_under_another_url_is_a_revisit_of_the_first(middleware):
    photo, page = b"the same photo" * 50, b"not found" * 100
    first = fetch_url(middleware, URL, photo)
    again = fetch_url(middleware, OTHER, photo)
    assert again["type"] == "revisit" and again["refers_to"] == first["record_id"]
    missing = fetch_url(middleware, URL.replace("533819", "533821"), page, status=404)
    missing_too = fetch_url(middleware, OTHER + "?x=2", page, status=404)
    assert (missing["type"], missing_too["type"]) == ("response", "revisit")
    stats = middleware.crawler.stats
    assert stats.get_value("warc/dedup/across_urls") == 2
    assert stats.get_value("warc/dedup/saved_bytes") == len(photo + page)
    revisit = [r for r in written(middleware) if r["type"] == "revisit"][0]
    assert revisit["warc"]["WARC-Refers-To-Target-URI"] == URL
    assert revisit["warc"]["WARC-Refers-To-Date"] == first["date"]
    assert revisit["warc"]["WARC-Refers-To"] == first["record_id"]
    assert revisit["warc"]["WARC-Truncated"] == "length"
    assert revisit["head"].startswith(b"HTTP/1.1 200 OK\r\n") and revisit["payload"] == b""
    # The copy's own later fetches refer to the original too.
    state = middleware.crawler.crawl_state
    assert state.last_capture(OTHER).record_id == first["record_id"]


def test_an_empty_or_small_payload_is_not_deduplicated_across_urls(middleware):
    fetch_url(middleware, URL, b"")
    assert fetch_url(middleware, OTHER, b"")["type"] == "response"
    fetch_url(middleware, URL + "?p=1", b"<h1>301 Moved Permanently</h1>", status=301)
    moved = fetch_url(middleware, OTHER + "?p=1", b"<h1>301 Moved Permanently</h1>", status=301)
    assert moved["type"] == "response"  # a revisit record would be as big


def test_warcinfo_names_one_crawl_for_every_run_of_an_archive(tmp_path):
    from crawler.state import CrawlState

    names = []
    for settings in ({}, {"ROBOTSTXT_OBEY": False}):
        crawler = get_crawler(settings_dict={"OUT_DIR": str(tmp_path / "news"), **settings})
        crawler.crawl_state = CrawlState.open(tmp_path / "news")
        mw = WarcMiddleware.from_crawler(crawler)
        fetch_url(mw, URL, b"page")
        mw.close()
        crawler.crawl_state.close()
    for path in sorted((tmp_path / "news" / "warc").glob("*.warc.gz")):
        with open(path, "rb") as stream:
            info = next(iter(ArchiveIterator(stream)))
            lines = dict(
                line.split(": ", 1) for line in info.content_stream().read().decode().splitlines()
            )
        names.append(lines["isPartOf"])
        assert lines["robots"] in ("classic", "ignore") and lines["operator"]
    assert len(names) == 2 and names[0] == names[1] and names[0].startswith("dcs-news-")
    crawler = get_crawler(
        settings_dict={"OUT_DIR": str(tmp_path / "news"), "WARC_IS_PART_OF": "dcs-2026"}
    )
    with CrawlState.open(tmp_path / "news") as state:
        crawler.crawl_state = state
        assert WarcMiddleware.from_crawler(crawler).writer.warcinfo_fields["isPartOf"] == "dcs-2026"
        assert state.fact("warc-is-part-of") == "dcs-2026"  # kept for the runs that follow

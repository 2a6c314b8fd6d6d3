"""Attached files are streamed from the socket to a spool file to the WARC record: a file
far larger than what the crawl may hold is archived byte for byte, its memory flat; one over
FILE_MAXSIZE is cut and listed, as every ceiling. Real `dcs crawl`s of the documents portal
against a HostileServer (its host asked of the server as of a mirror), peak RSS from wait4."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from hostile_server import HostileServer, page
from test_hostile import crawl
from warcio.archiveiterator import ArchiveIterator

PORTAL = "http://tulieuvankien.dangcongsan.vn"
MiB = 1024**2
BLOCK = 1 << 20
# What a file's body repeats, each block stamped with its number: every byte counts.
FILLER = (b"Ngh\xe1\xbb\x8b quy\xe1\xba\xbft s\xe1\xbb\x91 43-NQ/TW, trang %d\n" * 40000)[:BLOCK]


def blocks(size: int) -> Iterator[bytes]:
    """A file's body, made as it is sent: ``size`` bytes, a block at a time."""
    for number in range(0, size, BLOCK):
        stamp = b"block %012d " % number
        yield (stamp + FILLER[len(stamp) :])[: size - number]


def file_of(size: int, *, announced: bool = True):
    """A handler sending a file of ``size`` bytes (Content-Length, else chunked)."""

    def answer(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/zip")
        if announced:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for block in blocks(size):
            if handler.server.stopping.is_set():
                return
            handler.wfile.write(block if announced else b"%x\r\n%s\r\n" % (len(block), block))
        if not announced:
            handler.wfile.write(b"0\r\n\r\n")

    return answer


def portal(*files: str) -> dict:
    """The portal's home page, linking these files."""
    links = "".join(f'<a href="{path}">{path}</a>' for path in files)
    return {f"{PORTAL}/": page(f"<html><body><h1>Tư liệu</h1>{links}</body></html>")}


def sha1_of(size: int) -> str:
    digest = hashlib.sha1()
    for block in blocks(size):
        digest.update(block)
    return digest.hexdigest()


def file_records(out: Path) -> dict[str, dict]:
    """Each record of a file (.zip) by its URL's last step: its type, WARC headers and the
    sha1 and length of its payload, read a piece at a time."""
    found = {}
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if not uri.endswith(".zip") or record.rec_type == "request":
                    continue
                digest, length = hashlib.sha1(), 0
                while piece := record.content_stream().read(BLOCK):
                    digest.update(piece)
                    length += len(piece)
                found[uri.rsplit("/", 1)[-1]] = {
                    "type": record.rec_type,
                    "headers": dict(record.rec_headers.headers),
                    "sha1": digest.hexdigest(),
                    "length": length,
                }
    return found


def base32(hex_sha1: str) -> str:
    return "sha1:" + base64.b32encode(bytes.fromhex(hex_sha1)).decode()


def test_a_300_mb_file_is_archived_byte_for_byte_with_memory_far_below_its_size(tmp_path):
    size = 300 * MiB
    routes = portal("/Uploads/toan-tap.zip") | {f"{PORTAL}/Uploads/toan-tap.zip": file_of(size)}
    with HostileServer(routes) as server:
        run = crawl(server, tmp_path, "--site", "documents", "-s", f"FILE_MAXSIZE={400 * MiB}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.peak_mb < 200, f"peak RSS {run.peak_mb:.0f} MB for a {size // MiB} MB file"
    archived = file_records(tmp_path)["toan-tap.zip"]
    served = sha1_of(size)
    assert archived["type"] == "response" and archived["length"] == size
    assert archived["sha1"] == served
    assert archived["headers"]["WARC-Payload-Digest"] == base32(served)
    assert "WARC-Truncated" not in archived["headers"]
    # The text worker read it from its spool file: size and sha1 in the sidecar, not a PDF.
    (sidecar,) = (tmp_path / "text" / "documents" / "files").glob("toan-tap.zip.json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    assert (meta["size"], meta["file_sha1"], meta["flags"]) == (size, served, ["not-pdf"])
    assert not (tmp_path / "spool").exists()  # every spool file removed


def test_files_over_file_maxsize_are_cut_and_listed_and_a_repeated_file_is_a_revisit(tmp_path):
    names = ["announced.zip", "chunked.zip", "small.zip", "small-again.zip"]
    routes = portal(*(f"/Uploads/{name}" for name in names)) | {
        f"{PORTAL}/Uploads/announced.zip": file_of(5 * MiB),
        f"{PORTAL}/Uploads/chunked.zip": file_of(5 * MiB, announced=False),
        f"{PORTAL}/Uploads/small.zip": file_of(100_000),
        f"{PORTAL}/Uploads/small-again.zip": file_of(100_000),
    }
    with HostileServer(routes) as server:
        run = crawl(server, tmp_path, "--site", "documents", "-s", f"FILE_MAXSIZE={MiB}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.ceilings() == {
        "Uploads/announced.zip": "download_maxsize",
        "Uploads/chunked.zip": "download_maxsize",
    }
    archived = file_records(tmp_path)
    # Announced over the ceiling: its headers only. Chunked: cut where it passed it.
    assert archived["announced.zip"]["length"] == 0
    assert MiB < archived["chunked.zip"]["length"] < 2 * MiB
    assert (
        archived["chunked.zip"]["sha1"]
        == hashlib.sha1(b"".join(blocks(5 * MiB))[: archived["chunked.zip"]["length"]]).hexdigest()
    )
    for name in ("announced.zip", "chunked.zip"):
        assert archived[name]["headers"]["WARC-Truncated"] == "length"
    # The same payload under a second URL: one response, one identical-payload revisit.
    assert sorted(archived[name]["type"] for name in ("small.zip", "small-again.zip")) == [
        "response",
        "revisit",
    ]
    (whole,) = [
        archived[n] for n in ("small.zip", "small-again.zip") if archived[n]["type"] == "response"
    ]
    assert whole["headers"]["WARC-Payload-Digest"] == base32(sha1_of(100_000))
    assert not (tmp_path / "spool").exists()


def stalled(handler) -> None:
    """A file whose first KiB comes at once, then nothing (until the server stops)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/zip")
    handler.send_header("Content-Length", str(10 * MiB))
    handler.end_headers()
    handler.wfile.write(b"x" * 1024)
    handler.wfile.flush()
    handler.server.stopping.wait(10)


def test_a_file_that_stalls_times_out_and_its_failure_is_archived(tmp_path):
    routes = portal("/Uploads/stalled.zip") | {f"{PORTAL}/Uploads/stalled.zip": stalled}
    with HostileServer(routes) as server:
        run = crawl(
            server, tmp_path, "--site", "documents", "-s", "DOWNLOAD_TIMEOUT=1",
            "-s", "RETRY_TIMES=0",
        )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    errors = []
    for warc in (tmp_path / "warc").glob("*.warc.gz"):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "metadata":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    errors.append((uri, record.content_stream().read().decode()))
    ((uri, fields),) = errors
    assert uri.endswith("/stalled.zip") and "TimeoutError" in fields
    assert "took longer than 1" in fields
    assert not (tmp_path / "spool").exists()


HTTPS_FETCH = """
import hashlib, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from crawler.spool import SPOOL, SpooledResponse

class Fetch(scrapy.Spider):
    name = "fetch"
    async def start(self):
        yield scrapy.Request(sys.argv[1], meta={SPOOL: True})
    def parse(self, response):
        assert isinstance(response, SpooledResponse) and response.body == b""
        data = open(response.spool, "rb").read()
        print(response.status, response.ip_address, len(data), hashlib.sha1(data).hexdigest())

process = CrawlerProcess({
    "DOWNLOAD_HANDLERS": {"https": "crawler.spool.SpoolingDownloadHandler"},
    "OUT_DIR": sys.argv[2], "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
})
process.crawl(Fetch)
process.start()
"""


def test_a_file_over_https_is_spooled_whatever_its_certificate(tmp_path):
    """The live portal is fetched over https, directly: TLS as Scrapy speaks it, a
    certificate no one signed accepted (an archive keeps what the server answers)."""
    import datetime
    import ssl
    import subprocess
    import sys

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = tmp_path / "server.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pem)
    size = 3 * MiB
    server = HostileServer({"/Uploads/a.zip": file_of(size)})
    server.httpd.socket = tls.wrap_socket(server.httpd.socket, server_side=True)
    with server:
        url = server.base_url.replace("http:", "https:") + "/Uploads/a.zip"
        done = subprocess.run(
            [sys.executable, "-c", HTTPS_FETCH, url, str(tmp_path / "archive")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.stdout.split() == ["200", "127.0.0.1", str(size), sha1_of(size)], done.stderr


def test_a_file_a_killed_crawl_archived_is_read_back_to_disk_not_into_memory(tmp_path):
    """State commits ten minutes apart: a SIGKILL loses the file's fetch, which the next
    run reads back from the WARC files, to a spool file, its memory flat."""
    import signal
    import subprocess
    import sys
    import time

    from crawl_support import LOCAL

    size = 200 * MiB
    routes = portal("/Uploads/big.zip", "/Uploads/stalled.zip") | {
        f"{PORTAL}/Uploads/big.zip": file_of(size),
        f"{PORTAL}/Uploads/stalled.zip": stalled,  # keeps the first crawl busy till killed
    }
    sidecar = tmp_path / "text" / "documents" / "files" / "big.zip.json"
    with HostileServer(routes) as server:
        command = [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(tmp_path)]
        command += ["--base-url", server.base_url, *LOCAL, "--site", "documents"]
        command += ["-s", "STATE_COMMIT_INTERVAL=600", "-s", f"FILE_MAXSIZE={size}"]
        victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not sidecar.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert sidecar.exists()
        assert list((tmp_path / "spool").rglob("*.body"))  # the stalled file's, left
        sidecar.unlink()  # written again by the next run, from the spool file
        server.routes[f"{PORTAL}/Uploads/stalled.zip"] = file_of(10)
        server.log.clear()
        run = crawl(server, tmp_path, "--site", "documents", "-s", f"FILE_MAXSIZE={size}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"{PORTAL}/Uploads/big.zip" not in server.log  # read back, not fetched again
    assert run.peak_mb < 150, f"peak RSS {run.peak_mb:.0f} MB reading back a 200 MB file"
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    assert (meta["size"], meta["file_sha1"]) == (size, sha1_of(size))
    assert not (tmp_path / "spool").exists()

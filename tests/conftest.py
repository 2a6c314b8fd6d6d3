"""Shared fixtures.

`small_archive`: a real archive folder made by `dcs crawl` from a small replica of the site
(`per_generation=3`, which holds the seed article and its pictures), crawled three times
into the same folder: a first crawl, an incremental one (conditional requests: 304 →
server-not-modified revisits of the home page, lists and sitemaps) and a `--full` one
(everything again: identical-payload-digest revisits of the unchanged pages, the seed
article's among them). One article's text file is then removed, as if its extraction had
not run, for the tools that must cope without one. The SmallArchive fields are read back
from the WARC files and sidecars the crawl wrote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import _rates
import pytest
from _chromium import find_chromium
from _replay import ReplayProcess, free_port
from _replaywebpage import ReplayWebPageMissing, install_replaywebpage
from crawl_support import crawl
from lxml import html as lxml_html
from warcio.archiveiterator import ArchiveIterator

PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REPO = Path(__file__).resolve().parent.parent
SEED_TEXT = REPO / "crawler" / "replica" / "data" / "seed-article.txt"


@dataclass(frozen=True)
class Capture:
    """One response (or revisit) record of the archive's WARC files."""

    url: str  # WARC-Target-URI (the site's live URL)
    timestamp: str  # 14 digits
    filename: str
    offset: int
    length: int
    record_id: str
    record_type: str  # response | revisit
    status: int
    content_type: str
    profile: str = ""  # WARC-Profile of a revisit
    refers_to_url: str = ""  # WARC-Refers-To-Target-URI of a revisit


@dataclass
class SmallArchive:
    out_dir: Path
    seed_url: str  # the seed article's live URL, as archived
    seed_id: str
    seed_title: str
    seed_text: str  # the text file expected for it (the repo's seed-article.txt)
    seed_first_paragraph: str
    seed_timestamp: str  # its first capture
    seed_images: list[str]  # live URLs of its images, all archived
    stylesheets: list[str]
    articles: dict[str, str] = field(default_factory=dict)  # live URL -> title (seed included)
    portal: list[str] = field(default_factory=list)  # gen-3 articles' URLs, as archived
    without_text: str = ""  # an article captured but given no text file
    identical_revisit: Capture | None = None  # the seed page, crawled again unchanged
    not_modified_revisit: Capture | None = None  # the home page, answered with 304
    # The seed's first photo uploaded again for another story: one copy a revisit of the other.
    copied_photo: Capture | None = None
    captures: list[Capture] = field(default_factory=list)
    warcs: list[str] = field(default_factory=list)  # the crawls' WARC files, oldest first

    def capture_of(self, url: str, record_type: str = "response") -> Capture:
        return next(c for c in self.captures if c.url == url and c.record_type == record_type)


def _timestamp(warc_date: str) -> str:
    return re.sub(r"\D", "", warc_date)[:14]


def _read_captures(warc_dir: Path) -> tuple[list[Capture], dict[str, bytes]]:
    """Every response/revisit record, and the decoded payload of each text/html response."""
    captures, pages = [], {}
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type not in ("response", "revisit"):
                    continue
                headers = record.http_headers
                ctype = (headers.get_header("Content-Type") or "") if headers else ""
                url = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and ctype.startswith("text/html"):
                    pages.setdefault(url, record.content_stream().read())
                captures.append(
                    Capture(
                        url=url,
                        timestamp=_timestamp(record.rec_headers.get_header("WARC-Date")),
                        filename=path.name,
                        offset=records.get_record_offset(),
                        length=records.get_record_length(),
                        record_id=record.rec_headers.get_header("WARC-Record-ID"),
                        record_type=record.rec_type,
                        status=int(headers.get_statuscode()) if headers else 0,
                        content_type=ctype,
                        profile=record.rec_headers.get_header("WARC-Profile") or "",
                        refers_to_url=record.rec_headers.get_header("WARC-Refers-To-Target-URI")
                        or "",
                    )
                )
    return captures, pages


def _next_second() -> None:
    """Start the next crawl in a new second: CDXJ timestamps have one-second precision."""
    time.sleep(1.02 - time.time() % 1)


def _build_small_archive(out: Path) -> SmallArchive:
    from crawler.replica import ReplicaServer, ReplicaSite

    site = ReplicaSite(seed=1, per_generation=3)
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        _next_second()
        crawl(server.base_url, out)  # incremental: 304s for the home page, lists, sitemaps
        _next_second()
        crawl(server.base_url, out, "--full")  # all again: identical-payload-digest revisits

    captures, pages = _read_captures(out / "warc")
    located = {(c.filename, c.offset): c for c in captures}
    sidecars = {
        p: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("text/*/*/*/*.json"))
    }
    articles, portal = {}, []  # each sidecar's article, under the URL it was archived as
    for data in sidecars.values():
        capture = located[(data["warc"]["filename"], data["warc"]["offset"])]
        articles[capture.url] = data["title"]
        if data["generation"] == 3:  # archived with ?categoryId=... or not, as first linked
            portal.append(capture.url)

    seed = next(d for d in sidecars.values() if d["id"] == site.seed_article.id)
    seed_capture = located[(seed["warc"]["filename"], seed["warc"]["offset"])]
    seed_url = seed_capture.url
    seed_html = lxml_html.fromstring(pages[seed_url])
    archived = {c.url for c in captures}
    stylesheets = [
        urljoin(seed_url, href)
        for href in seed_html.xpath("//link[contains(@rel, 'stylesheet')]/@href")
    ]
    identical = [c for c in captures if c.url == seed_url and c.profile == PROFILE_IDENTICAL]
    home = [c for c in captures if c.url == "https://dangcongsan.vn/"]
    not_modified = [c for c in home if c.profile == PROFILE_NOT_MODIFIED and c.status == 304]
    assert len(identical) == 1 and not_modified, "the crawls made no revisits of both profiles"
    copied = [
        c
        for c in captures
        if c.record_type == "revisit"
        and c.refers_to_url != c.url
        and c.content_type.startswith("image/")
    ]
    assert copied, "the photo uploaded twice was not deduplicated across URLs"
    assert set(seed["images"]) | set(stylesheets) <= archived, "requisites not archived"

    # An article with an ID in its URL, besides the seed: its text file goes (see above).
    gone = next(
        (p, d)
        for p, d in sidecars.items()
        if d["id"].isdigit() and d["id"] != seed["id"] and not d["flags"]
    )
    for path in gone[0].parent.glob(f"{gone[1]['id']}.*"):
        path.unlink()

    return SmallArchive(
        out_dir=out,
        seed_url=seed_url,
        seed_id=seed["id"],
        seed_title=seed["title"],
        seed_text=SEED_TEXT.read_text(encoding="utf-8"),
        seed_first_paragraph=seed_html.cssselect(".article__body p")[0].text_content().strip(),
        seed_timestamp=seed_capture.timestamp,
        seed_images=list(seed["images"]),
        stylesheets=stylesheets,
        articles=articles,
        portal=portal,
        without_text=located[(gone[1]["warc"]["filename"], gone[1]["warc"]["offset"])].url,
        identical_revisit=identical[0],
        not_modified_revisit=not_modified[0],
        copied_photo=copied[0],
        captures=captures,
        warcs=sorted(p.name for p in (out / "warc").glob("*.warc.gz")),
    )


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> SmallArchive:
    """A real crawl of a small replica, run three times: revisits of both profiles."""
    return _build_small_archive(tmp_path_factory.mktemp("small-archive") / "archive")


@pytest.fixture
def archive_copy(small_archive, tmp_path) -> SmallArchive:
    """A private copy of small_archive, for tests that change the folder."""
    dest = tmp_path / "archive"
    shutil.copytree(small_archive.out_dir, dest, ignore=shutil.ignore_patterns("index", "replay"))
    copy = SmallArchive(**{**small_archive.__dict__, "out_dir": dest})
    return copy


@pytest.fixture(scope="session")
def replay_server(small_archive, tmp_path_factory):
    """pywb serving small_archive on a free loopback port: yields (base_url, banner text)."""
    log = tmp_path_factory.mktemp("replay-log") / "pywb.log"
    server = ReplayProcess(small_archive.out_dir, free_port(), log)
    try:
        banner = server.wait_ready()
        yield server.base_url, banner
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """The text-quality figures (exact-text rates per generation and markup variant)."""
    if _rates.LINES:
        terminalreporter.section("text extraction: exact-text rates")
        for line in _rates.LINES:
            terminalreporter.write_line(line)


def _cannot_run(reason: str) -> None:
    """Skip, saying why; under CI (CI=true) fail instead: there these tests must run."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with scripts/install-chromium.sh when missing."""
    binary = find_chromium()
    if binary:
        return binary
    script = REPO / "scripts" / "install-chromium.sh"
    try:
        run = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        _cannot_run("chromium is missing and scripts/install-chromium.sh timed out")
    binary = find_chromium()
    if run.returncode != 0 or not binary:
        last = (run.stderr.strip() or run.stdout.strip() or "no output").splitlines()[-1]
        _cannot_run(f"chromium is missing and scripts/install-chromium.sh failed: {last}")
    return binary


@pytest.fixture(scope="session")
def replaywebpage() -> Path:
    """ReplayWeb.page's app folder; installed with scripts/install-replaywebpage.sh if missing."""
    try:
        return install_replaywebpage()
    except ReplayWebPageMissing as missing:
        _cannot_run(f"ReplayWeb.page is not available: {missing}")


@pytest.fixture(scope="session")
def cluster_servers():
    """Redis and PostgreSQL (Debian's), installed when missing, on free loopback ports."""
    from _cluster_servers import start_servers

    servers = start_servers()
    yield servers
    servers.stop()

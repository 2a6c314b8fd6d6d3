"""Hostile servers: each case is a real `dcs crawl` against a HostileServer on loopback, its
peak memory measured (ru_maxrss of the crawl process) and its crawl report read."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from crawl_support import LOCAL, records
from hostile_server import (
    HostileServer,
    endless_chunked,
    gzip_bomb_sitemap,
    home,
    huge,
    page,
    send,
    slow,
    windows_1258,
)

from crawler.crawl import MIN_SCRAPY, check_scrapy_version
from crawler.errors import DcsError
from crawler.site import Site
from crawler.state import CrawlState

RSS_LIMIT_MB = 300
LATIN_1 = '<meta charset="iso-8859-1">'
MiB = 1024**2
TEXT = (
    "Sáng 28/11, tại Hà Nội, Bộ Chính trị đã họp và cho ý kiến về nhiều nội dung quan trọng "
    "của đất nước trong thời gian tới."
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float  # the crawl process's peak resident memory
    out: Path

    @property
    def report(self) -> dict:
        (path,) = (self.out / "reports").glob("crawl-*.json")
        return json.loads(path.read_text(encoding="utf-8"))

    def ceilings(self) -> dict[str, str]:
        """Report's ceilings hit: URL path -> the setting."""
        return {
            entry["url"].split("/", 3)[3]: entry["ceiling"] for entry in self.report["ceilings"]
        }

    def failures(self) -> dict[str, str]:
        """Report's extraction failures: URL path -> reason."""
        return {
            entry["url"].split("/", 3)[3]: entry["reason"]
            for entry in self.report["extraction_failures"]
        }


# The crawl is started by this small launcher, not by pytest itself: Linux carries a
# process's peak RSS across exec, so a child of pytest would start from pytest's own peak,
# which grows with the suite. The launcher reports the crawl's return code and peak RSS
# (wait4's rusage: the crawl and the children it waited for).
LAUNCHER = """
import json, os, subprocess, sys, time
timeout, report, *command = sys.argv[1:]
process = subprocess.Popen(command)
deadline = time.monotonic() + float(timeout)
while True:
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() > deadline:
        process.kill()
    time.sleep(0.05)
with open(report, "w") as file:
    json.dump({"returncode": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss}, file)
"""


def crawl(server: HostileServer, out: Path, *args: str, env=None, timeout: float = 120) -> Run:
    """`dcs crawl` of the server in a child process; its peak RSS from wait4's rusage."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(out)]
    command += ["--base-url", server.base_url, *LOCAL, *args]
    report = out.parent / f"{out.name}.rusage.json"
    with open(out / "stdout.txt", "w+") as stdout, open(out / "stderr.txt", "w+") as stderr:
        launcher = [sys.executable, "-c", LAUNCHER, str(timeout), str(report), *command]
        subprocess.run(launcher, stdout=stdout, stderr=stderr, env=env, timeout=timeout + 60)
        result = json.loads(report.read_text())
        stdout.seek(0)
        stderr.seek(0)
        run = Run(result["returncode"], stdout.read(), stderr.read(), result["maxrss"] / 1024, out)
        print(f"peak RSS {run.peak_mb:.0f} MB")
        return run


def response_record(out: Path, path: str):
    """The one response record of the path."""
    (record,) = [r for r in records(out / "warc") if r.type == "response" and r.path == path]
    return record


def article(title: str, paragraphs: list[str], head: str = '<meta charset="utf-8">') -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body>"
        f"<h1>{title}</h1><article>{body}</article></body></html>"
    )


def article_url(n: int, section: str = "thoi-su") -> str:
    return f"/{section}/bai-viet-so-{n}-{100000 + n}.html"


def pending_articles(out: Path, base_url: str, paths: list[str]) -> None:
    """Puts articles in the frontier, as a crawl stopped before fetching them would."""
    site = Site(base_url)
    with CrawlState.open(out) as state:
        for path in paths:
            state.enqueue(site.canonical(base_url + path), base_url + path, "article")


# -- robots.txt --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "robots",
    [
        "User-agent: *\nDisallow: /\n",
        "User-agent: *\nAllow: /\n\nUser-agent: dcs-archiver\nDisallow: /\n",
    ],
)
def test_nothing_but_robots_txt_is_fetched_when_it_disallows_everything(tmp_path, robots):
    paths = [article_url(n) for n in range(40)]
    routes = {path: page(article("Bài", [TEXT])) for path in paths}
    # A slow robots.txt: every start request waits on it at once.
    routes |= {"/robots.txt": slow(1.0, page(robots, "text/plain")), "/": home(*paths)}
    with HostileServer(routes) as server:
        pending_articles(tmp_path, server.base_url, paths)
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert server.log == ["/robots.txt"]
    assert run.report["robots_forbidden"] == len(paths) + 3  # the pending ones, /, sitemap, rss


def test_partly_disallowed_paths_are_never_fetched_whatever_waits_on_robots_txt(tmp_path):
    allowed = [article_url(n, "kinh-te") for n in range(20)]
    disallowed = [article_url(n, "thoi-su") for n in range(20)]
    routes = {path: page(article("Bài", [TEXT])) for path in allowed + disallowed}
    robots = "User-agent: *\nDisallow: /thoi-su/\nDisallow: /rss\n"
    routes |= {"/robots.txt": slow(1.0, page(robots, "text/plain")), "/": home(*disallowed)}
    with HostileServer(routes) as server:
        pending_articles(tmp_path, server.base_url, allowed[:10] + disallowed[:10])
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert server.log[0] == "/robots.txt" and server.log.count("/robots.txt") == 1
    assert not [p for p in server.log if p.startswith(("/thoi-su/", "/rss"))]
    assert set(allowed[:10]) <= set(server.log)
    assert run.report["robots_forbidden"] == 10 + 10 + 1  # pending, linked from home, /rss


def test_an_unreachable_robots_txt_disallows_everything_and_is_reported(tmp_path):
    def broken(handler) -> None:
        handler.send_error(500)

    left = [article_url(n) for n in range(3)]
    with HostileServer({"/robots.txt": broken, "/": home()}) as server:
        pending_articles(tmp_path, server.base_url, left)
        run = crawl(server, tmp_path, "-s", "RETRY_TIMES=1")
    assert set(server.log) == {"/robots.txt"}
    with CrawlState.open(tmp_path) as state:  # held back, not given up: the next crawl asks
        assert {entry.fetch_url.split("/", 3)[3] for entry in state.pending()} >= {
            path[1:] for path in left
        }
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("dcs: error: robots.txt of ")
    (entry,) = run.report["robots_unreachable"]
    assert entry["url"].endswith("/robots.txt") and entry["reason"] == "HTTP 500"


def test_a_missing_robots_txt_allows_everything(tmp_path):
    with HostileServer({"/": home()}) as server:
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert server.log[0] == "/robots.txt" and {"/", "/sitemap.xml", "/rss"} <= set(server.log)


@pytest.mark.parametrize(("asked", "kept"), [(0.4, 0.4), (86400, 0.5)])
def test_a_crawl_delay_in_robots_txt_spaces_the_requests_to_its_host(tmp_path, asked, kept):
    paths = [article_url(n) for n in range(6)]
    routes = {path: page(article("Bài", [TEXT])) for path in paths}
    robots = f"User-agent: *\nCrawl-delay: {asked}\n"
    routes |= {"/robots.txt": page(robots, "text/plain"), "/": home(*paths)}
    with HostileServer(routes) as server:
        run = crawl(server, tmp_path, "-s", "ROBOTSTXT_CRAWL_DELAY_MAX=0.5")
    assert run.returncode == 0, run.stderr
    assert set(paths) <= set(server.log)
    starts = server.times[1:]  # robots.txt itself is read at once
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert len(gaps) >= len(paths) and min(gaps) >= kept - 0.05, gaps
    (entry,) = run.report["crawl_delays"]
    assert entry["url"].endswith("/robots.txt") and (entry["asked"], entry["kept"]) == (asked, kept)


# -- ceilings: each hostile case under RSS_LIMIT_MB, and in the report ---------------------------
def test_a_200_mb_page_is_kept_as_headers_only_and_a_6_mb_one_is_not_parsed(tmp_path):
    giant, large = article_url(1), article_url(2)
    large_body = article("Lớn", [TEXT] * (6 * MiB // len(TEXT.encode())))
    routes = {"/": home(giant, large), giant: huge(200 * MiB), large: page(large_body)}
    with HostileServer(routes) as server:
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.peak_mb < RSS_LIMIT_MB
    assert run.ceilings() == {giant[1:]: "DOWNLOAD_MAXSIZE", large[1:]: "READ_MAXSIZE"}
    assert set(run.failures()) == {giant[1:], large[1:]}
    record = response_record(tmp_path, giant)
    assert record.warc_headers["WARC-Truncated"] == "length"
    assert record.headers["x-orig-content-length"] == str(200 * MiB)
    assert record.headers["content-length"] == "0"
    record = response_record(tmp_path, large)
    assert "WARC-Truncated" not in record.warc_headers  # archived whole, only not parsed


def test_an_endless_body_is_cut_at_download_maxsize_and_archived_truncated(tmp_path):
    endless = article_url(1)
    with HostileServer({"/": home(endless), endless: endless_chunked}) as server:
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.peak_mb < RSS_LIMIT_MB
    assert run.ceilings() == {endless[1:]: "DOWNLOAD_MAXSIZE"}
    assert "DOWNLOAD_MAXSIZE" in run.failures()[endless[1:]]
    record = response_record(tmp_path, endless)
    assert record.warc_headers["WARC-Truncated"] == "length"
    assert 32 * MiB < int(record.headers["content-length"]) < 33 * MiB


def test_a_gzip_bomb_sitemap_is_read_up_to_sitemap_maxsize(tmp_path):
    listed = article_url(7)
    routes = {
        "/": home(),
        "/sitemap.xml": gzip_bomb_sitemap(listed),
        listed: page(article("Bài trong sơ đồ", [TEXT])),
    }
    with HostileServer(routes) as server:
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.peak_mb < RSS_LIMIT_MB
    assert run.ceilings() == {"sitemap.xml": "SITEMAP_MAXSIZE"}
    assert listed in server.log  # what was read before the ceiling is followed
    assert run.report["articles"] == 1


def test_a_page_of_100000_links_is_followed_for_its_first_links_only(tmp_path):
    links = "".join(f"<a href=/chuyen-muc/{n}>{n}</a>" for n in range(100_000))
    crowded = article_url(1)
    routes = {"/": home(crowded), crowded: page(article("Nhiều liên kết", [TEXT]) + links)}
    with HostileServer(routes) as server:
        # Stopped early: the memory that counts is taken by the time the page is parsed.
        run = crawl(server, tmp_path, "-s", "CLOSESPIDER_PAGECOUNT=20")
    assert run.returncode == 0, run.stderr
    assert run.peak_mb < RSS_LIMIT_MB
    assert run.ceilings() == {crowded[1:]: "LINKS_MAX_PER_PAGE"}
    assert "EXTRACT_MAXSIZE" in run.failures()[crowded[1:]]
    (entry,) = run.report["ceilings"]
    assert entry["what"] == "100000 links, the first 5000 followed"


# -- undecodable bodies, charsets ----------------------------------------------------------------
def test_broken_and_bomb_gzip_bodies_are_archived_as_sent_and_reported(tmp_path):
    broken, bomb = article_url(1), article_url(2)
    bodies = {
        broken: b"\x1f\x8b\x08\x00 this is not a gzip stream",
        bomb: gzip.compress(b" " * 40 * MiB, 9),  # 40 KB that decode to 40 MiB
    }
    routes = {path: page(body, Content_Encoding="gzip") for path, body in bodies.items()}
    with HostileServer(routes | {"/": home(broken, bomb)}) as server:
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Content-Encoding gzip does not decode" in run.failures()[broken[1:]]
    assert "DOWNLOAD_MAXSIZE" in run.failures()[bomb[1:]]
    assert run.ceilings() == {bomb[1:]: "DOWNLOAD_MAXSIZE"}
    assert run.report["articles_failed"] == 2
    for path, body in bodies.items():
        record = response_record(tmp_path, path)
        assert record.payload_sha1 == hashlib.sha1(body).hexdigest()


def test_a_page_in_the_charset_its_header_declares_is_read_in_it(tmp_path):
    """By the crawl, `dcs extract` and `dcs replay show`: a windows-1258 page without
    <meta charset>, and one whose <meta> says otherwise (the header wins, as in browsers)."""
    title = "Hội nghị Trung ương lần thứ mười"
    # Running text enough to read as an article whatever finds its body.
    more = [
        f"Đại hội đề ra những định hướng lớn cho giai đoạn {n}, với các mục tiêu cụ thể về phát "
        "triển kinh tế, xã hội, quốc phòng và an ninh của đất nước."
        for n in range(1, 5)
    ]
    body = [TEXT, *more]
    pages = {
        article_url(1): windows_1258(article(title, body, head="")),
        article_url(2): windows_1258(article(title, body, head=LATIN_1)),
    }
    routes = {path: page(html, "text/html; charset=windows-1258") for path, html in pages.items()}
    with HostileServer(routes | {"/": home(*pages)}) as server:
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stderr
    extracted = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", str(tmp_path / "warc"), "--out",
         str(tmp_path / "again")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert extracted.returncode == 0, extracted.stderr
    for out in (tmp_path, tmp_path / "again"):
        texts = [p.read_text(encoding="utf-8") for p in (out / "text").rglob("*.txt")]
        assert len(texts) == 2
        assert all(text.splitlines()[:2] == [title, TEXT] for text in texts)
    shutil.rmtree(tmp_path / "text")  # replay show then extracts the capture on the fly
    for article_id in ("100001", "100002"):
        shown = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "replay", "show", "--out", str(tmp_path),
             article_id],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.splitlines()[:2] == [title, TEXT]


# -- the Scrapy it runs on, and what is off -----------------------------------------------------
def test_an_older_scrapy_is_refused_in_one_clear_line() -> None:
    with pytest.raises(DcsError, match=r"^Scrapy 2\.13\.4 is too old: .* needs Scrapy >= 2\.14 "):
        check_scrapy_version("2.13.4")
    for version in ("2.14.0", "2.19.0", "3.0"):
        check_scrapy_version(version)


def test_pyproject_declares_the_scrapy_versions_the_code_checks_for() -> None:
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    (scrapy,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("scrapy")]
    assert scrapy == "scrapy>=" + ".".join(map(str, MIN_SCRAPY))


# -- nothing listens -----------------------------------------------------------------------------
def listening_sockets(pid: int) -> set[str]:
    """The TCP sockets the process holds in the LISTEN state (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                listening.add(fields[1])
    return listening


def test_a_crawl_runs_no_remote_control_or_telnet_console(tmp_path):
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    env = {**os.environ, "HOME": str(home_dir)}
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env.pop(name, None)
    listening: set[str] = set()

    out = tmp_path / "out"

    def slow_home(handler) -> None:
        # While the crawl waits for this page, look at what it listens on.
        crawls = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _crawls(p, out)]
        assert len(crawls) == 1
        listening.update(listening_sockets(int(crawls[0].name)))
        send(handler, b"<html><body>ok</body></html>")

    with HostileServer({"/": slow(1.0, slow_home)}) as server:
        run = crawl(server, out, "-v", env=env)
    assert run.returncode == 0, run.stderr
    assert "/" in server.log and not listening
    assert not [p for p in home_dir.rglob("*")]  # no job file with a token, nothing at all
    assert "Telnet" not in run.stderr and "Remote control" not in run.stderr


def _crawls(process: Path, out: Path) -> bool:
    """Whether the process is the `dcs crawl` into `out`."""
    try:
        command = (process / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"crawl" in command and str(out).encode() in command

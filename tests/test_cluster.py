"""Several processes, one crawl: three `dcs crawl` nodes share a frontier in Redis and the
state in PostgreSQL (real servers, from Debian's packages), crawl the replica with faults
on, and one of them is killed (SIGKILL) half way."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from crawl_support import LOCAL, dcs, records, warcs_are_valid

from crawler.replica import FaultPlan, ReplicaServer, ReplicaSite
from crawler.site import Kind, Site

NODES = ("alpha", "beta", "gamma")
KILLED = "gamma"
DELAY = 0.04  # seconds between two requests to the replica, all nodes together
FAULTS = FaultPlan(rate_503=0.03, rate_429=0.03, rate_reset=0.02, rate_truncate=0.02)
CLUSTER = [
    "-s", f"SHARED_DOWNLOAD_DELAY={DELAY}",
    "-s", "CLUSTER_LEASE=3",
    "-s", "CLUSTER_HEARTBEAT=0.5",
    "-s", "TEXT_WORKERS=0",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
]  # fmt: skip


def node_command(server, out: Path, node: str, frontier: str, store: str) -> list[str]:
    return [
        sys.executable, "-m", "crawler.cli", "crawl", "--out", str(out / node),
        "--base-url", server.base_url, "--frontier", frontier, "--state", store,
        "--node", node, *LOCAL, *CLUSTER,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def cluster_crawl(cluster_servers, tmp_path_factory):
    """Three nodes crawl the replica; one is killed once it has archived an article."""
    site = ReplicaSite(seed=5, per_generation=4)
    out = tmp_path_factory.mktemp("cluster")
    frontier, store = cluster_servers.redis_url(), cluster_servers.database()
    with ReplicaServer(site, faults=FAULTS) as server:

        def start(name: str, stderr: str) -> subprocess.Popen:
            return subprocess.Popen(
                node_command(server, out, name, frontier, store),
                stdout=subprocess.DEVNULL,
                stderr=(out / stderr).open("w"),
            )

        # The node to be killed first, the others join its crawl once it is under way.
        nodes = {KILLED: start(KILLED, f"{KILLED}.stderr")}
        wait_for_claims(store)
        nodes |= {name: start(name, f"{name}.stderr") for name in NODES if name != KILLED}
        held = kill_holding_claims(nodes[KILLED], out / KILLED / "text", store)
        survivors = {}
        for name, proc in nodes.items():
            if name != KILLED:
                proc.wait(timeout=150)
                survivors[name] = (proc.returncode, (out / f"{name}.stderr").read_text())
        log = list(server.log)
        base_url = server.base_url
        # The next crawl, by two nodes, the killed one among them: incremental.
        server.clear_log()
        again = {name: start(name, f"{name}-again.stderr") for name in ("alpha", KILLED)}
        for name, proc in again.items():
            proc.wait(timeout=150)
            stderr = (out / f"{name}-again.stderr").read_text()
            survivors[f"{name} again"] = (proc.returncode, stderr)
        second_log = list(server.log)
    assert held, "the node was not killed while it held pages"
    return site, out, base_url, store, survivors, log, second_log


def wait_for_claims(store: str) -> None:
    """Until some node holds a page (the schema may not exist yet)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(store, autocommit=True) as db:
        while time.monotonic() < deadline:
            try:
                if db.execute("SELECT 1 FROM frontier WHERE claimed_by IS NOT NULL").fetchone():
                    return
            except psycopg.errors.UndefinedTable:
                pass
            time.sleep(0.05)
    raise AssertionError("no node took a page in 60 s")


def kill_holding_claims(node: subprocess.Popen, texts: Path, store: str) -> int:
    """SIGKILL the node once it has archived an article, at a moment it holds pages and so
    do other nodes (it is stopped with SIGSTOP to look): the number of pages it held, which
    the others must take back."""
    deadline = time.monotonic() + 90
    with psycopg.connect(store, autocommit=True) as db:
        while time.monotonic() < deadline:
            if next(texts.rglob("*.txt"), None) is not None:
                node.send_signal(signal.SIGSTOP)
                holders = dict(
                    db.execute("SELECT claimed_by, count(*) FROM frontier GROUP BY claimed_by")
                )
                held = holders.get(KILLED, 0)
                if held and set(holders) - {KILLED, None}:  # the others are at work too
                    node.send_signal(signal.SIGKILL)
                    node.wait()
                    return held
                node.send_signal(signal.SIGCONT)
            time.sleep(0.02)
    node.kill()
    node.wait()
    return 0


def test_the_surviving_nodes_end_when_the_whole_crawl_is_done(cluster_crawl):
    _, _, _, store, survivors, *_ = cluster_crawl
    codes = {name: code for name, (code, _) in survivors.items()}
    errors = {name: stderr[-500:] for name, (code, stderr) in survivors.items() if code}
    assert codes == {"alpha": 0, "beta": 0, "alpha again": 0, f"{KILLED} again": 0}, errors
    with psycopg.connect(store) as db:
        held = db.execute("SELECT count(*) FROM frontier WHERE claimed_by IS NOT NULL")
        assert held.fetchone()[0] == 0


def test_every_article_is_archived_once_across_the_nodes(cluster_crawl):
    site, out, base_url, store, *_ = cluster_crawl
    site_rules = Site(base_url)
    copies: dict[str, list[str]] = {}
    for node in NODES:
        for record in records(out / node / "warc"):
            if record.type == "response" and record.status == 200:
                if site_rules.classify(record.uri) is Kind.ARTICLE:
                    copies.setdefault(site_rules.canonical(record.uri), []).append(node)
    assert set(copies) == {article.url for article in site.articles}
    # Only a page the killed node fetched in its last moments, before it was recorded done,
    # is fetched again (by one other node): its copy is in the killed node's last WARC.
    twice = {url: nodes for url, nodes in copies.items() if len(nodes) > 1}
    assert all(Counter(nodes) == Counter({KILLED: 1, other: 1})
               for nodes in twice.values() for other in set(nodes) - {KILLED})  # fmt: skip
    with psycopg.connect(store) as db:
        texts = db.execute(
            "SELECT count(*) FROM urls WHERE kind = 'article' AND text_sha1 IS NOT NULL"
        ).fetchone()[0]
    assert texts == len(site.articles)


def test_every_node_wrote_valid_warcs_named_after_it_with_one_crawl_name(cluster_crawl):
    _, out, *_ = cluster_crawl
    names = set()
    for node in NODES:
        warc_dir = out / node / "warc"
        files = list(warc_dir.glob("*.warc.gz"))
        assert files and all(path.name.endswith(f"-{node}.warc.gz") for path in files)
        assert warcs_are_valid(warc_dir)
        names |= {r.warc_headers.get("isPartOf") for r in records(warc_dir) if r.type == "warcinfo"}
    assert len(names) == 1


def test_the_nodes_together_keep_to_the_rate_of_one(cluster_crawl):
    *_, log, _ = cluster_crawl
    times = sorted(entry.time for entry in log)
    assert len(times) > 60
    # The log has when each answer was finished, not when its request came: some slack for
    # a busy machine. Unlimited, the three nodes send 25 requests in about a quarter of that.
    assert times[-1] - times[0] >= (len(times) - 1) * DELAY * 0.95
    span = 25
    shortest = min(times[i + span] - times[i] for i in range(len(times) - span))
    assert shortest >= span * DELAY * 0.75


def test_the_next_cluster_crawl_is_incremental(cluster_crawl):
    site, *_, second_log = cluster_crawl
    articles = {urlsplit(article.url).path for article in site.articles}
    fetched_in_full = [e.path for e in second_log if e.path in articles and e.status == 200]
    assert second_log and fetched_in_full == []
    assert any(e.status == 304 for e in second_log)  # the home page, lists: revalidated


def test_the_killed_nodes_pages_were_fetched_by_the_others(cluster_crawl):
    _, out, _, _, survivors, *_ = cluster_crawl
    assert any("took back" in (stderr or "") for _, stderr in survivors.values()) or any(
        "took back" in path.read_text(errors="replace")
        for node in NODES
        if node != KILLED
        for path in (out / node / "logs").glob("*.log")
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--frontier", "http://127.0.0.1/0", "--state", "postgresql://x@127.0.0.1/x"],
         "not a redis:// URL"),
        (["--state", "mysql://x@127.0.0.1/x"], "not a postgresql:// URL"),
        (["--frontier", "redis://127.0.0.1:9/0"], "needs --state"),
        (["--state", "postgresql://x@127.0.0.1:9/x"], "cannot connect to the state store"),
        (["--node", "a/b", "--frontier", "redis://127.0.0.1:9/0", "--state",
          "postgresql://x@127.0.0.1:9/x"], "--node"),
    ],
)  # fmt: skip
def test_bad_cluster_options_are_one_line_errors(tmp_path, args, message):
    result = dcs("crawl", "--out", str(tmp_path / "a"), "--base-url", "http://127.0.0.1:9", *args)
    assert result.returncode != 0
    assert result.stderr.startswith("dcs: error:") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_frontier_is_a_one_line_error(cluster_servers, tmp_path):
    store = cluster_servers.database()
    result = dcs(
        "crawl", "--out", str(tmp_path / "a"), "--base-url", "http://127.0.0.1:9",
        "--frontier", "redis://127.0.0.1:9/0", "--state", store,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.startswith("dcs: error: cannot reach the frontier redis://127.0.0.1:9/0")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def collection(cluster_crawl, tmp_path_factory):
    """The three nodes' folders gathered into one collection, and indexed."""
    _, out, *_ = cluster_crawl
    folder = tmp_path_factory.mktemp("collection") / "all"
    members = [arg for node in NODES for arg in ("--member", str(out / node))]
    result = dcs("index", "--out", str(folder), *members)
    assert result.returncode == 0, result.stderr
    return folder


def test_the_nodes_folders_are_indexed_as_one_collection(cluster_crawl, collection):
    _, out, *_ = cluster_crawl
    linked = sorted(path.name for path in (collection / "warc").iterdir())
    written = sorted(path.name for node in NODES for path in (out / node / "warc").glob("*.gz"))
    assert linked == written
    lines = (collection / "index" / "index.cdxj").read_text().splitlines()
    assert {node for node in NODES if any(f"-{node}.warc.gz" in line for line in lines)} == set(
        NODES
    )


def test_search_and_replay_read_every_nodes_articles(cluster_crawl, collection):
    site, *_ = cluster_crawl
    # The collection remembers its members: --out alone reads them all.
    for article in site.articles[:4]:
        listed = dcs("replay", "list", "--out", str(collection), article.url)
        assert listed.returncode == 0, listed.stderr
        shown = dcs("replay", "show", "--out", str(collection), article.url)
        assert shown.returncode == 0 and article.title in shown.stdout
    found = dcs("search", "--out", str(collection), "--json", site.articles[0].title)
    assert found.returncode == 0, found.stderr
    assert site.articles[0].url in found.stdout


def test_a_collection_exports_as_one_wacz(collection, tmp_path):
    result = dcs("export", "wacz", "--out", str(collection), str(tmp_path / "all.wacz"))
    assert result.returncode == 0, result.stderr
    import zipfile

    with zipfile.ZipFile(tmp_path / "all.wacz") as wacz:
        names = [name for name in wacz.namelist() if name.startswith("archive/")]
    assert {node for node in NODES if any(name.endswith(f"-{node}.warc.gz") for name in names)} == (
        set(NODES)
    )


def test_a_host_has_one_slot_per_delay_and_a_retry_after_holds_every_node_back(cluster_servers):
    import redis
    from scrapy import Request
    from scrapy.http import Response

    from crawler.cluster.politeness import SharedRateLimit

    url = cluster_servers.redis_url()
    one, other = (SharedRateLimit(redis.StrictRedis.from_url(url), 0.5, 4, 120) for _ in "12")
    waits = [one.next_slot("site"), other.next_slot("site"), one.next_slot("site")]
    assert waits[0] == pytest.approx(0, abs=0.05)
    assert waits[1] == pytest.approx(0.5, abs=0.05) and waits[2] == pytest.approx(1, abs=0.05)
    request = Request("http://other-site/a")
    told = Response(request.url, status=503, headers={"Retry-After": "30"}, request=request)
    assert one.process_response(request, told) is told
    assert other.next_slot("other-site") == pytest.approx(30, abs=0.5)


def test_a_cluster_crawl_needs_scrapy_2_19():
    from crawler.cluster import check_scrapy_version
    from crawler.errors import DcsError

    check_scrapy_version("2.19.0")
    with pytest.raises(DcsError, match=r"needs Scrapy >= 2\.19 \(this is 2\.18\.1\)"):
        check_scrapy_version("2.18.1")


def test_a_crawl_delay_of_robots_txt_spaces_every_nodes_requests(cluster_servers):
    import redis

    from crawler.cluster.politeness import SharedRateLimit
    from crawler.robots import RobotsTxtMiddleware

    class Crawler:  # what the limiter asks of the crawler: the robots.txt middleware
        def get_downloader_middleware(self, cls):
            assert cls is RobotsTxtMiddleware
            robots = RobotsTxtMiddleware.__new__(RobotsTxtMiddleware)
            robots.crawl_delays = {"Slow-Site": 2.0}
            return robots

    server = redis.StrictRedis.from_url(cluster_servers.redis_url())
    one, other = (SharedRateLimit(server, 0.5, 4, 120, Crawler()) for _ in "12")
    assert one.crawl_delay("Slow-Site") == 2.0 and one.crawl_delay("other") == 0
    one.next_slot("slow-site", 2.0)
    assert other.next_slot("slow-site", 2.0) == pytest.approx(2, abs=0.05)


def test_a_sites_own_delay_is_kept_by_all_nodes_together():
    from scrapy.settings import Settings

    from crawler.cluster import cluster_settings

    settings = Settings(
        {
            "FRONTIER_URL": "redis://127.0.0.1:9/0",
            "STATE_URL": "postgresql://x@127.0.0.1:9/x",
            "DOWNLOAD_DELAY": 1.0,
            "DOWNLOAD_SLOTS": {"slow.example": {"delay": 5.0, "concurrency": 1}},
        }
    )
    cluster_settings(settings)
    assert settings.getdict("DOWNLOAD_SLOTS") == {"slow.example": {"concurrency": 1}}
    assert settings.getdict("SHARED_HOST_DELAYS") == {"slow.example": 5.0}
    assert settings.getfloat("SHARED_DOWNLOAD_DELAY") == 1.0
    assert settings.getfloat("DOWNLOAD_DELAY") == 0

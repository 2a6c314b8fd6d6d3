"""The crawl against the replica with faults on: discovery, politeness, byte-faithful WARCs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from crawl_support import LOCAL, crawl, dcs, linked_paths, records
from warcio.archiveiterator import ArchiveIterator

from crawler.replica import FaultPlan, ReplicaServer, ReplicaSite
from crawler.site import Kind, Site

WARC_NAME = re.compile(r"^dcs-\d{17}-\d{5}-[\w.-]+\.warc\.gz$")
FAULTS = FaultPlan(
    rate_503=0.03,
    rate_429=0.03,
    rate_reset=0.02,
    rate_truncate=0.02,
    rate_slow=0.01,
    slow_seconds=1,
)


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    """One full crawl of the replica while it injects 503, 429, resets, truncation, slowness."""
    site = ReplicaSite(seed=1)
    out = tmp_path_factory.mktemp("faulty") / "archive"
    with ReplicaServer(site, faults=FAULTS) as server:
        result = crawl(server.base_url, out)
        log = list(server.log)
        base_url = server.base_url
    return site, log, out, result, base_url, list(records(out / "warc"))


def article_responses(recs, base_url):
    site = Site(base_url)
    return [r for r in recs if r.type == "response" and site.classify(r.uri) is Kind.ARTICLE]


def test_every_article_has_exactly_one_200_response(faulty_crawl):
    site, _, _, _, base_url, recs = faulty_crawl
    canonical = Site(base_url).canonical
    ok = Counter(canonical(r.uri) for r in article_responses(recs, base_url) if r.status == 200)
    assert set(ok) == {a.url for a in site.articles}
    assert max(ok.values()) == 1


def test_redirects_and_404s_are_archived(faulty_crawl):
    site, _, _, _, base_url, recs = faulty_crawl
    statuses = {(r.path, r.status) for r in recs if r.type == "response"}
    old = linked_paths(site, [p for a in site.articles for p in a.old_paths])
    assert old and [p for p in old if (p, 301) not in statuses] == []
    dead = site.urls()["dead"]
    assert dead and any((p, 404) in statuses for p in dead)


def test_payloads_equal_the_bytes_sent(faulty_crawl):
    _, log, _, _, _, recs = faulty_crawl
    sent = {(e.path, e.status, e.sha1) for e in log}
    responses = [r for r in recs if r.type == "response" and r.status != 304]
    assert len(responses) > 500
    mismatched = [r.path for r in responses if (r.path, r.status, r.payload_sha1) not in sent]
    assert mismatched == []


def test_gzip_and_chunked_are_kept_as_sent(faulty_crawl):
    _, log, _, _, _, recs = faulty_crawl
    gzipped = {e.path for e in log if e.gzip and e.status == 200}
    chunked = {e.path for e in log if e.chunked and e.status == 200}
    by_path = {r.path: r for r in recs if r.type == "response" and r.status == 200}
    assert gzipped and all(
        by_path[p].headers.get("content-encoding") == "gzip" for p in gzipped if p in by_path
    )
    assert chunked and all(
        by_path[p].headers.get("x-orig-transfer-encoding") == "chunked"
        for p in chunked
        if p in by_path
    )


def test_request_and_response_records_are_linked(faulty_crawl):
    *_, recs = faulty_crawl
    # As Heritrix does, the request record names the response it belongs to.
    requests = {
        r.warc_headers["WARC-Concurrent-To"]: r
        for r in recs
        if r.type == "request" and "WARC-Concurrent-To" in r.warc_headers
    }
    responses = [r for r in recs if r.type == "response"]
    for response in responses:
        request = requests[response.warc_headers["WARC-Record-ID"]]
        assert request.uri == response.uri
        assert request.warc_headers["WARC-Date"] == response.warc_headers["WARC-Date"]
        assert response.warc_headers["WARC-Payload-Digest"].startswith("sha1:")
        assert response.warc_headers["WARC-Block-Digest"].startswith("sha1:")
        assert response.warc_headers.get("WARC-IP-Address") == "127.0.0.1"


def test_warc_files_are_valid_named_and_closed(faulty_crawl):
    _, _, out, _, _, recs = faulty_crawl
    files = sorted((out / "warc").iterdir())
    assert files and all(WARC_NAME.match(f.name) for f in files)
    for path in files:
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
    first = next(records(out / "warc"))
    assert first.type == "warcinfo"
    index = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert index.returncode == 0, index.stderr
    assert len(index.stdout.splitlines()) >= sum(r.type == "response" for r in recs)


def test_every_file_reads_with_an_independent_reader_and_names_its_warcinfo(faulty_crawl):
    _, _, out, *_ = faulty_crawl
    names = set()
    for path in sorted((out / "warc").glob("*.warc.gz")):
        # FastWARC (C++): structure and every block digest.
        check = subprocess.run(
            [str(Path(sys.executable).parent / "fastwarc"), "check", "-q", str(path)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        with path.open("rb") as stream:
            iterator = iter(ArchiveIterator(stream))
            info = next(iterator)
            block = info.content_stream().read().decode()
            rest = list(iterator)
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        assert info.rec_type == "warcinfo" and fields["robots"] == "classic"
        for name in ("isPartOf", "operator", "hostname", "software", "format"):
            assert fields[name], name
        names.add(fields["isPartOf"])
        own = info.rec_headers.get_header("WARC-Record-ID")
        assert rest and all(r.rec_headers.get_header("WARC-Warcinfo-ID") == own for r in rest)
    assert len(names) == 1


def test_the_same_payload_under_two_urls_is_stored_once(faulty_crawl):
    _, _, out, _, _, recs = faulty_crawl
    across = [
        r
        for r in recs
        if r.type == "revisit" and r.warc_headers["WARC-Refers-To-Target-URI"] != r.uri
    ]
    assert across  # the photo uploaded twice, the site's one 404 page under many URLs
    for r in across:
        assert r.warc_headers["WARC-Truncated"] == "length"
        assert r.warc_headers["WARC-Refers-To-Date"] and r.warc_headers["WARC-Refers-To"]
    report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
    assert report["dedup_across_urls"] == len(across)
    assert report["dedup_saved_bytes"] > 0


def test_robots_txt_is_obeyed(faulty_crawl):
    _, log, *_ = faulty_crawl
    assert any(e.path == "/robots.txt" for e in log)
    assert not [e.path for e in log if e.path.startswith(("/tim-kiem", "/page/search"))]


def test_tag_trap_costs_a_bounded_number_of_requests(faulty_crawl):
    site, log, *_ = faulty_crawl
    tag_requests = [e.path for e in log if e.path.startswith("/tag/")]
    assert tag_requests
    assert not [p for p in tag_requests if "page=" in p]
    assert len({urlsplit(p).path for p in tag_requests}) <= len(site.urls()["tag"])


def test_faults_were_injected_and_recovered_from(faulty_crawl):
    _, log, out, *_ = faulty_crawl
    faults = Counter(e.fault for e in log if e.fault)
    assert faults["503"] and faults["429"] and faults["truncate"]
    assert faults["reset"] + faults["reset-headers"]
    report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
    assert report["retries"] >= sum(faults.values()) - faults["slow"]


def test_article_images_and_styles_are_archived(faulty_crawl):
    site, _, _, _, base_url, recs = faulty_crawl
    mirror = Site(base_url)
    # A photo uploaded twice is stored once: whichever came second is a revisit of the first.
    archived = {r.path for r in recs if r.type in ("response", "revisit") and r.status == 200}
    for url in site.seed_article.images:
        fetch = urlsplit(mirror.fetch_url(url))
        assert fetch.path + (f"?{fetch.query}" if fetch.query else "") in archived
    assert any(p.endswith(".css") for p in archived)


def test_one_article_fetched_once_whatever_the_link(faulty_crawl):
    _, log, *_ = faulty_crawl
    article_gets = Counter(
        urlsplit(e.path).path
        for e in log
        if e.status == 200
        and e.fault is None
        and Site().classify("https://dangcongsan.vn" + e.path) is Kind.ARTICLE
    )
    assert max(article_gets.values()) == 1


def test_report_and_summary(faulty_crawl):
    site, _, out, result, *_ = faulty_crawl
    report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
    for key in ("pages", "articles", "bytes", "errors", "duration_seconds"):
        assert key in report
    assert report["articles"] == len(site.articles)
    assert report["warc_files"] == sorted(p.name for p in (out / "warc").glob("*.warc.gz"))
    assert "HTTP 404" in report["errors"]
    assert "Crawl finished" in result.stdout and f"{report['articles']} articles" in result.stdout
    # the replica's own markup: every text read by the site rules, none suspect
    assert report["suspect_texts"]["count"] == 0 and report["suspect_texts"]["articles"] == []
    assert "Text: no suspect texts." in result.stdout


def test_rotation_and_limits(tmp_path):
    site = ReplicaSite(seed=2, per_generation=10)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out, "--max-articles", "12", "-s", "WARC_MAX_SIZE=60000")
    files = sorted((out / "warc").iterdir())
    assert len(files) >= 3 and not [f for f in files if f.name.endswith(".open")]
    serials = [int(f.name.split("-")[2]) for f in files]
    assert serials == list(range(serials[0], serials[0] + len(files)))
    for path in files:
        assert (
            subprocess.run(
                [sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True
            ).returncode
            == 0
        )
        assert next(records_of(path)).type == "warcinfo"
    texts = list((out / "text").rglob("*.txt"))
    assert len(texts) == 12


def records_of(path: Path):
    return (r for r in records(path.parent) if r.filename == path.name)


def test_connections_to_the_site_are_reused_not_reopened(tmp_path):
    site = ReplicaSite(seed=4, per_generation=30)
    with ReplicaServer(site) as server:
        crawl(server.base_url, tmp_path / "archive", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
        log = list(server.log)
    # At most 8 requests in flight, and as many connections on their way back to the pool.
    assert len(log) > 300 and len({entry.connection for entry in log}) <= 16


def test_scrapy_debug_lines_reach_the_log_at_log_level_debug_only(tmp_path):
    site = ReplicaSite(seed=3, per_generation=3)
    with ReplicaServer(site) as server:
        for level in ("DEBUG", "INFO"):
            out = tmp_path / level
            crawl(server.base_url, out, "--max-articles", "1", "-s", f"LOG_LEVEL={level}")
            log = next((out / "logs").glob("crawl-*.log")).read_text()
            assert ("Crawled (200)" in log) == (level == "DEBUG")


def test_no_requisites(tmp_path):
    site = ReplicaSite(seed=3, per_generation=5)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out, "--max-articles", "3", "--no-requisites")
        log = list(server.log)
    assert not [e.path for e in log if e.path.endswith((".jpg", ".png", ".gif", ".css", ".js"))]


def test_schedule_runs_incremental_crawls(tmp_path):
    site = ReplicaSite(seed=9, per_generation=5)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        result = dcs(
            "schedule", "--every", "1s", "--max-runs", "2",
            "--", "--out", str(out), "--base-url", server.base_url, *LOCAL,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((out / "reports").glob("crawl-*.json"))) == 2
    assert len(list((out / "text").rglob("*.txt"))) == len(site.articles)


def test_conversion_records_carry_the_text_of_their_response(faulty_crawl):
    site, _, _, _, _, recs = faulty_crawl
    responses = {r.warc_headers["WARC-Record-ID"]: r for r in recs if r.type == "response"}
    conversions = [r for r in recs if r.type == "conversion"]
    assert len(conversions) == len(site.articles)
    for conversion in conversions:
        source = responses[conversion.warc_headers["WARC-Refers-To"]]
        assert source.uri == conversion.uri and source.status == 200


def test_offline_reextraction_rebuilds_the_same_text(faulty_crawl, tmp_path):
    _, _, out, *_ = faulty_crawl
    result = dcs("extract", str(out / "warc"), "--out", str(tmp_path), "--workers", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    crawled = {p.relative_to(out / "text"): p.read_bytes() for p in (out / "text").rglob("*.txt")}
    rebuilt = {
        p.relative_to(tmp_path / "text"): p.read_bytes() for p in (tmp_path / "text").rglob("*.txt")
    }
    assert rebuilt == crawled


def test_progress_lines_while_crawling(tmp_path):
    site = ReplicaSite(seed=10, per_generation=10)
    with ReplicaServer(site, faults=FaultPlan(rate_slow=0.2, slow_seconds=0.5)) as server:
        result = crawl(server.base_url, tmp_path / "archive", "-s", "PROGRESS_INTERVAL=0.3")
    progress = [line for line in result.stderr.splitlines() if line.startswith("dcs: ")]
    assert progress and "responses" in progress[-1] and "articles" in progress[-1]


def test_since_skips_older_monthly_sitemaps(tmp_path):
    site = ReplicaSite(seed=11, per_generation=20)
    with ReplicaServer(site) as server:
        crawl(server.base_url, tmp_path / "recent", "--since", "2026-06-01")
        recent = server.log
    children = [e.path for e in recent if e.path.startswith("/sitemaps/")]
    months = [re.search(r"(\d{4})-(\d{2})", path) for path in children]
    assert months and all((int(m[1]), int(m[2])) >= (2026, 6) for m in months)

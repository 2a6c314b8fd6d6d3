"""Incremental crawls against the replica moving its clock, and resuming after SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest
from crawl_support import LOCAL, crawl, records

from crawler.replica import ReplicaServer, ReplicaSite
from crawler.site import Kind, Site

NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def article_paths(entries) -> Counter:
    """Articles served with a whole 200, by path."""
    site = Site()
    return Counter(
        unquote(urlsplit(e.path).path)
        for e in entries
        if e.status == 200
        and e.fault is None
        and site.classify("https://dangcongsan.vn" + e.path) is Kind.ARTICLE
    )


def path_of(article) -> str:
    return unquote(urlsplit(article.path).path)


def sidecar(out, article) -> dict:
    found = [p for p in (out / "text").rglob(f"{article.id}.json")]
    assert len(found) == 1, article.url
    return json.loads(found[0].read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    site = ReplicaSite(seed=5, per_generation=30)
    out = tmp_path_factory.mktemp("incremental") / "archive"
    with ReplicaServer(site) as server:
        before = [a.id for a in site.articles]
        crawl(server.base_url, out)
        first = server.log
        server.clear_log()
        changes = site.advance(1)
        marker = len(list(records(out / "warc")))
        crawl(server.base_url, out)
        second = server.log
        second_records = list(records(out / "warc"))[marker:]
    return site, changes, out, first, second, second_records, before


def test_first_run_archives_everything(runs):
    site, changes, out, first, *_, before = runs
    added = {a.id for a in changes["new"]}
    assert {a.id for a in site.articles} - added == set(before)
    assert len(article_paths(first)) == len(before)


def test_second_run_fetches_only_new_and_edited_articles(runs):
    site, changes, _, _, second, *_ = runs
    new = {path_of(a) for a in changes["new"]}
    edited = {path_of(a) for a in changes["edited"]}
    assert new and edited
    fetched = set(article_paths(second))
    assert fetched >= new | edited
    assert fetched <= new | edited
    listed = [e.path for e in second if e.path == "/" or e.path.startswith("/sitemap")]
    assert listed, "the second run reads the home page and sitemaps again"


def test_unchanged_pages_rechecked_become_revisit_records(runs):
    *_, second, second_records, _ = runs
    assert any(e.status == 304 for e in second)
    revisits = [r for r in second_records if r.type == "revisit"]
    assert revisits
    reports = sorted((runs[2] / "reports").glob("crawl-*.json"))
    assert json.loads(reports[-1].read_text())["revisits"] == len(revisits)
    for record in revisits:
        assert record.warc_headers["WARC-Profile"] in (NOT_MODIFIED, IDENTICAL)
        for header in ("WARC-Refers-To-Target-URI", "WARC-Refers-To-Date", "WARC-Refers-To"):
            assert record.warc_headers.get(header), header


def test_edited_articles_get_new_text_and_keep_the_old(runs):
    site, changes, out, *_ = runs
    for article in changes["edited"]:
        data = sidecar(out, article)
        text_path = next((out / "text").rglob(f"{article.id}.txt"))
        assert text_path.read_text(encoding="utf-8") == article.expected_text
        assert len(data["versions"]) == 2
        older = list(text_path.parent.glob(f"{article.id}.*.txt"))
        assert len(older) == 1 and older[0].read_text(encoding="utf-8") != article.expected_text


def test_new_articles_get_text(runs):
    _, changes, out, *_ = runs
    for article in changes["new"]:
        text_path = next((out / "text").rglob(f"{article.id}.txt"))
        assert text_path.read_text(encoding="utf-8") == article.expected_text


def test_full_crawl_ignores_state_and_dedupes_by_digest(tmp_path):
    site = ReplicaSite(seed=6, per_generation=8)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        server.clear_log()
        marker = len(list(records(out / "warc")))
        crawl(server.base_url, out, "--full")
        again = article_paths(server.log)
    assert set(again) == {path_of(a) for a in site.articles}
    new_records = list(records(out / "warc"))[marker:]
    identical = [r for r in new_records if r.type == "revisit"]
    assert identical and all(r.warc_headers["WARC-Profile"] == IDENTICAL for r in identical)
    assert not [
        r for r in new_records if r.type == "response" and r.status == 200 and "post" in r.path
    ]
    for article in site.articles:
        assert len(sidecar(out, article)["versions"]) == 1


def test_revisit_policy_rechecks_known_articles_conditionally(tmp_path):
    site = ReplicaSite(seed=7, per_generation=8)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        server.clear_log()
        crawl(server.base_url, out, "-s", "REVISIT_POLICY=*:always")
        log = server.log
    rechecked = [e for e in log if e.request_headers.get("If-None-Match") and "post" in e.path]
    assert rechecked and all(e.status == 304 for e in rechecked)


def crawl_until(server, out, texts: int, stdout) -> subprocess.Popen:
    """A slowed-down crawl in the background, returned once it has written `texts` files."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(out)]
    command += ["--base-url", server.base_url, *LOCAL]
    command += ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "DOWNLOAD_DELAY=0.01"]
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while len(list((out / "text").rglob("*.txt"))) < texts and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


def test_killed_crawl_resumes_without_refetching(tmp_path):
    site = ReplicaSite(seed=8, per_generation=30)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        victim = crawl_until(server, out, texts=25, stdout=subprocess.DEVNULL)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        log = server.log
    assert list((out / "warc").glob("*.open")), "killed while writing"
    # Resumed against the same site on another port: the frontier is kept by canonical URL.
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        log += server.log
    assert not list((out / "warc").glob("*.open"))
    for path in (out / "warc").glob("*.warc.gz"):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)])
        assert check.returncode == 0
    # The same articles as an uninterrupted crawl...
    texts = {p.stem for p in (out / "text").rglob("*.txt") if "." not in p.stem}
    assert texts == {a.id for a in site.articles}
    # ...and nothing archived fetched again: a path served twice was archived once at most.
    archived = Counter(
        unquote(urlsplit(r.uri).path)
        for r in records(out / "warc")
        if r.type == "response" and r.status == 200
    )
    twice = [p for p, n in article_paths(log).items() if n > 1]
    assert len(twice) <= 2
    assert all(archived[p] == 1 for p in twice)


def test_sigterm_finishes_the_records_in_flight_and_exits_cleanly(tmp_path):
    site = ReplicaSite(seed=12, per_generation=30)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl_process = crawl_until(server, out, texts=10, stdout=subprocess.PIPE)
        crawl_process.send_signal(signal.SIGTERM)
        stdout, _ = crawl_process.communicate(timeout=60)
    assert crawl_process.returncode == 0
    assert "Crawl shutdown" in stdout
    assert not list((out / "warc").glob("*.open"))
    for path in (out / "warc").glob("*.warc.gz"):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)])
        assert check.returncode == 0
    report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
    assert report["finish_reason"] == "shutdown"
    assert 10 <= report["articles"] < len(site.articles)

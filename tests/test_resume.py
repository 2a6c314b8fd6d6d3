"""Interrupted crawls (SIGTERM, SIGKILL) and the run after them: the archive ends complete,
every article with its requisites, and nothing already archived is fetched again."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter

from crawl_support import (
    archived_articles,
    assert_complete,
    assert_next_run_completes,
    crawl,
    crawl_until,
    pending,
    records,
    settled_in_warcs,
    warcs_are_valid,
)

from crawler.replica import ReplicaServer, ReplicaSite
from crawler.site import LIVE_BASE_URL, Site
from crawler.warc.writer import recover


def test_a_crawl_stopped_with_sigterm_is_completed_by_the_next_run(tmp_path):
    site = ReplicaSite(seed=12, per_generation=30)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        victim = crawl_until(server, out, texts=10, stdout=subprocess.PIPE)
        victim.send_signal(signal.SIGTERM)
        stdout, _ = victim.communicate(timeout=60)
        # The records in flight are finished and the files closed.
        assert victim.returncode == 0
        assert "Crawl shutdown" in stdout
        assert warcs_are_valid(out / "warc")
        report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
        assert report["finish_reason"] == "shutdown"
        assert report["pending"] == pending(out) > 0
        assert 10 <= len(archived_articles(out)) < len(site.articles)
        assert_next_run_completes(site, server, out)


def test_a_crawl_killed_with_sigkill_is_completed_by_the_next_run(tmp_path):
    site = ReplicaSite(seed=8, per_generation=30)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        victim = crawl_until(server, out, texts=25)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert list((out / "warc").glob("*.open")), "killed while writing"
    # The state store commits about once a second, so the WARC files are where a killed
    # crawl's work is sure to be.
    assert list((out / "text").rglob("*.txt"))
    # Resumed against the same site on another port: the frontier is kept by canonical URL.
    with ReplicaServer(site) as server:
        run = assert_next_run_completes(site, server, out)
    # The file the killed crawl left open is finished, and the report says so.
    report = json.loads(max((out / "reports").glob("crawl-*.json")).read_text())
    (recovered,) = report["warc_recovered"]
    assert recovered["outcome"].startswith("recovered dcs-")
    assert "1 WARC file(s) a crash left open recovered" in run.stdout


def test_old_urls_of_archived_articles_cost_their_redirect_only(tmp_path):
    site = ReplicaSite(seed=7, per_generation=20)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out, "--max-articles", "15")
        assert_next_run_completes(site, server, out)
        assert [e for e in server.log if e.status == 301], "the second run met old URLs"


def test_what_a_killed_crawl_did_not_commit_is_read_back_from_its_warc_files(tmp_path):
    """Commits ten minutes apart: a SIGKILL loses every state write after the first answer.
    The next run fetches nothing the WARC files hold an answer for, and every article still
    gets one text file, one sidecar and one conversion record."""
    site = ReplicaSite(seed=9, per_generation=30)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        victim = crawl_until(server, out, 25, "-s", "STATE_COMMIT_INTERVAL=600")
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    recover(out / "warc")  # as the next run would: the killed run's file gets its name
    archived = settled_in_warcs(out / "warc") - {LIVE_BASE_URL + "/robots.txt"}
    assert len(archived) > 50 and len(archived_articles(out)) < 5, "the state lost them"
    with ReplicaServer(site) as server:
        result = crawl(server.base_url, out)
        canonical = Site().canonical
        fetched_again = [
            e.path for e in server.log if canonical(LIVE_BASE_URL + e.path) in archived
        ]
    assert fetched_again == []
    assert "Crawl finished" in result.stdout
    assert_complete(site, out)
    articles = {a.url for a in site.articles}
    conversions = Counter(canonical(r.uri) for r in records(out / "warc") if r.type == "conversion")
    assert set(conversions) == articles and set(conversions.values()) == {1}
    texts = list((out / "text").rglob("*.txt"))
    assert len(texts) == len(list((out / "text").rglob("*.json"))) == len(articles)

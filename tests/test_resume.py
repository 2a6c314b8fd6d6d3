"""Interrupted crawls (SIGTERM, SIGKILL) and the run after them: the archive ends complete,
every article with its requisites, and nothing already archived is fetched again."""

from __future__ import annotations

import json
import signal
import subprocess

from crawl_support import (
    archived_articles,
    assert_next_run_completes,
    crawl,
    crawl_until,
    pending,
    warcs_are_valid,
)

from crawler.replica import ReplicaServer, ReplicaSite


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
    assert archived_articles(out)
    # Resumed against the same site on another port: the frontier is kept by canonical URL.
    with ReplicaServer(site) as server:
        assert_next_run_completes(site, server, out)


def test_old_urls_of_archived_articles_cost_their_redirect_only(tmp_path):
    site = ReplicaSite(seed=7, per_generation=20)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out, "--max-articles", "15")
        assert_next_run_completes(site, server, out)
        assert [e for e in server.log if e.status == 301], "the second run met old URLs"

"""Incremental crawls against the replica moving its clock."""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest
from crawl_support import crawl, pending, records

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
        left = [pending(out)]
        server.clear_log()
        changes = site.advance(1)
        marker = len(list(records(out / "warc")))
        crawl(server.base_url, out)
        second = server.log
        left.append(pending(out))
        second_records = list(records(out / "warc"))[marker:]
    return site, changes, out, first, second, second_records, before, left


def test_first_run_archives_everything(runs):
    site, changes, out, first, *_, before, _ = runs
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
    *_, second, second_records, _, _ = runs
    assert any(e.status == 304 for e in second)
    revisits = [r for r in second_records if r.type == "revisit"]
    assert revisits
    reports = sorted((runs[2] / "reports").glob("crawl-*.json"))
    assert json.loads(reports[-1].read_text())["revisits"] == len(revisits)
    for record in revisits:
        assert record.warc_headers["WARC-Profile"] in (NOT_MODIFIED, IDENTICAL)
        for header in ("WARC-Refers-To-Target-URI", "WARC-Refers-To-Date", "WARC-Refers-To"):
            assert record.warc_headers.get(header), header


def test_the_frontier_is_empty_after_each_complete_run(runs):
    *_, left = runs
    assert left == [0, 0]


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

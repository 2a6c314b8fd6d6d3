"""Edits and takedowns, whatever the site's clock says: incremental crawls of replicas whose
server clock runs years behind ours, or a day ahead of it."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from crawl_support import crawl, tree_digest

from crawler.replica import ReplicaServer, ReplicaSite
from crawler.site import Kind, Site
from crawler.state import CrawlState
from crawler.takedowns import verdict

SKEWS = {"years-behind": timedelta(days=-7 * 365), "a-day-ahead": timedelta(days=1)}


def path_of(article) -> str:
    return unquote(urlsplit(article.path).path)


def article_requests(log) -> dict[str, list]:
    """The article requests a crawl made, by path: [(status, conditional?)]."""
    site = Site()
    found: dict[str, list] = {}
    for e in log:
        if site.classify("https://dangcongsan.vn" + e.path) is Kind.ARTICLE and e.fault is None:
            conditional = "If-None-Match" in e.request_headers
            found.setdefault(unquote(urlsplit(e.path).path), []).append((e.status, conditional))
    return found


def sidecar(out, article) -> dict:
    [found] = list((out / "text").rglob(f"{article.id}.json"))
    return json.loads(found.read_text(encoding="utf-8"))


def oldest_in_an_old_month(site: ReplicaSite):
    """A story from a month no incremental run reads unless its sitemap changed."""
    return next(a for a in site.articles if not a.is_video and a.key != "531379")


@pytest.fixture(scope="module", params=sorted(SKEWS))
def edited(request, tmp_path_factory):
    site = ReplicaSite(seed=21, per_generation=12, clock_skew=SKEWS[request.param])
    out = tmp_path_factory.mktemp(request.param) / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        texts_before = {a.key: a.expected_text for a in site.articles}
        server.clear_log()
        changes = site.advance(1)  # new stories, edits and maybe a takedown, as days go
        newest = max(
            (a for a in site.articles if a not in changes["new"]), key=lambda a: a.published
        )
        old = oldest_in_an_old_month(site)
        site.edit(old.key, newest.key)  # an edit on an old story, and on a recent one
        edits = {a.key: a for a in [*changes["edited"], old, newest]}
        crawl(server.base_url, out)
        log = server.log
    return site, out, changes, edits, texts_before, log


def test_every_edit_is_fetched_again_whatever_the_clock(edited):
    site, _, changes, edits, _, log = edited
    assert len(edits) >= 3
    requests = article_requests(log)
    missed = [
        a.url for a in edits.values() if 200 not in [s for s, _ in requests.get(path_of(a), [])]
    ]
    assert missed == []


def test_previous_texts_are_kept_as_versions(edited):
    _, out, _, edits, texts_before, _ = edited
    for article in edits.values():
        data = sidecar(out, article)
        assert len(data["versions"]) == 2, article.url
        [current] = list((out / "text").rglob(f"{article.id}.txt"))
        assert current.read_text(encoding="utf-8") == article.expected_text
        [older] = list(current.parent.glob(f"{article.id}.*.txt"))
        assert older.read_text(encoding="utf-8") == texts_before[article.key]


def test_no_unchanged_article_is_fetched_again(edited):
    site, _, changes, edits, _, log = edited
    changed = {path_of(a) for a in [*changes["new"], *edits.values(), *changes["removed"]]}
    for path, answers in article_requests(log).items():
        if path in changed or site.article_at(path) is None:
            continue  # new, edited, taken down, or a dead link
        # Rechecked at most (a 304; a 301 from an old URL to a 304): never sent again whole.
        assert [status for status, _ in answers if status == 200] == [], path
        assert all(conditional for status, conditional in answers if status == 304), path


# -- takedowns ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def takedowns(tmp_path_factory):
    site = ReplicaSite(seed=22, per_generation=12, clock_skew=timedelta(days=-7 * 365))
    out = tmp_path_factory.mktemp("takedowns") / "archive"
    stories = [a for a in site.articles if not a.is_video and a.key != "531379"]
    # The oldest stories (months no incremental run reads otherwise) and the newest ones.
    gone = {"404": stories[0], "410": stories[-1], "home": stories[1], "list": stories[-2]}
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        before = tree_digest(out / "text")
        for how, article in gone.items():
            site.take_down(article.key, how)
        server.clear_log()
        second = crawl(server.base_url, out)
        after_removal = tree_digest(out / "text")
        site.restore(gone["410"].key)
        third = crawl(server.base_url, out)
    reports = [json.loads(p.read_text()) for p in sorted((out / "reports").glob("crawl-*.json"))]
    return site, out, gone, before, after_removal, reports, (second, third)


def test_taken_down_articles_are_recorded_removed_with_how(takedowns):
    _, out, gone, *_ = takedowns
    with CrawlState.open(out) as state:
        removed = {e.url: e for e in state.takedowns() if e.event == "removed"}
    assert set(removed) == {a.url for a in gone.values()}
    assert removed[gone["404"].url].status == 404 and removed[gone["410"].url].status == 410
    assert removed[gone["home"].url].location == "https://dangcongsan.vn/"
    assert (
        removed[gone["list"].url].location == f"https://dangcongsan.vn/{gone['list'].section.slug}"
    )
    assert all(e.at is not None for e in removed.values())


def test_a_takedown_leaves_captures_and_texts_untouched(takedowns):
    _, out, gone, before, after_removal, *_ = takedowns
    assert after_removal == before
    with CrawlState.open(out) as state:
        for article in gone.values():
            assert state.is_archived(article.url)


def test_the_crawl_report_lists_removals(takedowns):
    _, _, gone, _, _, reports, (second, _) = takedowns
    first, removal, restoring = reports
    assert first["removed"] == [] and first["restored"] == []
    assert {r["url"] for r in removal["removed"]} == {a.url for a in gone.values()}
    assert "4 taken down" in second.stdout


def test_an_article_back_is_recorded_restored_and_the_removal_kept(takedowns):
    _, out, gone, *_, reports, _ = takedowns
    back = gone["410"]
    assert [r["url"] for r in reports[2]["restored"]] == [back.url]
    assert reports[2]["removed"] == []  # the others are not news any more
    with CrawlState.open(out) as state:
        assert [e.event for e in state.takedowns(url=back.url)] == ["removed", "restored"]
        assert not state.is_removed(back.url) and state.is_removed(gone["404"].url)


def test_what_an_answer_says_about_an_archived_article():
    site = Site("http://127.0.0.1:8000")
    url = "http://127.0.0.1:8000/thoi-su/bai-viet-533819.html"
    assert verdict(site, url, 404) == verdict(site, url, 410) == "removed"
    assert verdict(site, url, 302, "/") == verdict(site, url, 301, "/thoi-su.html") == "removed"
    assert verdict(site, url, 301, "/bai-viet-post533819.html") is None  # moved, not gone
    assert verdict(site, url, 503) is None and verdict(site, url, 429) is None
    assert verdict(site, url, 200) == verdict(site, url, 304) == "restored"

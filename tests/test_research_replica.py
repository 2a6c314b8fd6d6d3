"""The research tools end to end: crawls of the replica as its clock moves (new stories,
edits), the search index kept by the crawl itself, then search, changes, diff, dataset."""

from __future__ import annotations

import json
import sqlite3

import pytest
from crawl_support import crawl, dcs
from research_support import article, at, write
from scrapy.utils.test import get_crawler

from crawler.layout import Layout
from crawler.replica import ReplicaServer, ReplicaSite
from crawler.research.index import update_index
from crawler.research.pipeline import SearchIndexPipeline
from crawler.research.search import search
from crawler.research.vietnamese import fold


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    site = ReplicaSite(seed=21, per_generation=10)
    out = tmp_path_factory.mktemp("research") / "archive"
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        changes = site.advance(1)
        crawl(server.base_url, out)
    assert changes["new"] and changes["edited"]
    return site, changes, out


def text_files(out):
    return sorted((out / "text").rglob("*.txt"))


def test_the_crawl_keeps_the_search_index_without_dcs_index(moved):
    _, _, out = moved
    index = Layout.of(out).search_index
    assert index.exists()
    with sqlite3.connect(index) as db:
        indexed = {row[0] for row in db.execute("SELECT path FROM docs")}
    assert indexed == {p.relative_to(out / "text").as_posix() for p in text_files(out)}
    assert update_index(Layout.of(out)).added == 0  # nothing left for dcs index to do


def test_search_finds_the_new_stories_by_their_title_without_diacritics(moved):
    _, changes, out = moved
    for story in changes["new"]:
        phrase = '"' + fold(story.title) + '"'
        result = dcs("search", "--out", str(out), "--json", "--limit", "100", phrase)
        assert result.returncode == 0, result.stderr
        hits = [json.loads(line) for line in result.stdout.splitlines()]
        assert story.id in [h["id"] for h in hits], story.title


def test_changes_list_every_edit_and_diff_shows_it(moved):
    _, changes, out = moved
    result = dcs("changes", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    edits = [c for c in listed if c["kind"] == "edited"]
    assert {c["id"] for c in edits} == {a.id for a in changes["edited"]}
    assert all("paragraph" in c["summary"] for c in edits)
    # The stories the replica took down as its clock moved are listed too.
    removed = {c["id"] for c in listed if c["kind"] == "removed"}
    assert removed == {a.id for a in changes.get("removed", [])}
    story = changes["edited"][0]
    result = dcs("diff", "--out", str(out), story.id)
    assert result.returncode == 0, result.stderr
    assert "body ¶" in result.stdout and f"Cập nhật lần {story.edits}" in result.stdout


def test_the_dataset_holds_every_version(moved, tmp_path):
    site, changes, out = moved
    result = dcs("export", "dataset", str(tmp_path / "d.jsonl"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert len(rows) == len(text_files(out))
    edited = {a.id for a in changes["edited"]}
    for story in changes["edited"]:
        versions = [r for r in rows if r["id"] == story.id]
        assert [r["version"] for r in versions] == [1, 2]
        assert versions[1]["text"] == story.expected_text
    assert {r["id"] for r in rows} == {a.id for a in site.articles}
    assert all(r["versions"] == (2 if r["id"] in edited else 1) for r in rows)


def test_the_pipeline_indexes_each_text_as_it_is_written(tmp_path):
    out = tmp_path / "archive"
    write(out, article("100001", "Bài đầu tiên", ["Một đoạn."]), at(1))
    update_index(Layout.of(out))
    crawler = get_crawler(settings_dict={"OUT_DIR": str(out), "SEARCH_INDEX_ENABLED": True})
    pipeline = SearchIndexPipeline.from_crawler(crawler)
    path = write(out, article("100002", "Bài về Quảng Ninh", ["Tỉnh Quảng Ninh."]), at(2))
    item = {"url": "https://dangcongsan.vn/x-100002.html", "id": "100002", "text": str(path)}
    assert pipeline.process_item(item) is item
    assert [h.id for h in search(Layout.of(out), "quang ninh")] == ["100002"]  # before close
    pipeline.close_spider()
    assert crawler.stats.get_value("dcs/search_index/indexed") == 1
    assert crawler.stats.get_value("dcs/search_index/texts") == 2


def test_dcs_extract_keeps_the_search_index_in_step(moved, tmp_path):
    _, _, out = moved
    result = dcs("extract", str(out / "warc"), "--out", str(out), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "Search index" in result.stdout and "(updated: " in result.stdout
    assert update_index(Layout.of(out)).added == 0


# -- takedowns -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def taken_down(tmp_path_factory):
    site = ReplicaSite(seed=23, per_generation=8)
    out = tmp_path_factory.mktemp("takedowns") / "archive"
    stories = [a for a in site.articles if not a.is_video and a.key != "531379"]
    gone, back = stories[0], stories[-1]
    with ReplicaServer(site) as server:
        crawl(server.base_url, out)
        site.take_down(gone.key, "404")
        site.take_down(back.key, "home")
        crawl(server.base_url, out)
        site.restore(back.key)
        crawl(server.base_url, out)
    return out, gone, back


def test_takedowns_show_in_changes_the_dataset_and_search(taken_down, tmp_path):
    out, gone, back = taken_down
    result = dcs("changes", "--out", str(out), "--json", "--kind", "removed", "--kind", "restored")
    assert result.returncode == 0, result.stderr
    changes = [json.loads(line) for line in result.stdout.splitlines()]
    events = [(c["kind"], c["id"], c["status"]) for c in changes]
    assert ("removed", gone.id, 404) in events and events[-1][:2] == ("restored", back.id)
    assert sorted(e[1] for e in events if e[0] == "removed") == sorted([gone.id, back.id])
    result = dcs("export", "dataset", str(tmp_path / "d.jsonl"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "d.jsonl").read_text().splitlines())}
    assert rows[gone.id]["removed"] and rows[gone.id]["removed_at"]
    assert not rows[back.id]["removed"] and rows[back.id]["removed_at"] is None
    # What was taken down stays in the archive, and so in the search index.
    hits = search(Layout.of(out), '"' + fold(gone.title) + '"', limit=100)
    assert gone.id in [h.id for h in hits]

"""The pool of text workers on its own: what it does when workers die, how full it gets,
that a worker writes what the crawl's own process would, and when it indexes it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from hashlib import sha1
from pathlib import Path

from crawler.extract.html import PAGE_LIMITS
from crawler.layout import Layout
from crawler.replica import ReplicaSite
from crawler.research.index import update_index
from crawler.textpool import DEPTH, default_command
from crawler.textwork import ArticlePage, frame, make_text, read_frame

RUN = Path(__file__).with_name("_textpool_run.py")


def run_pool(tmp_path, workers: int, size: int, kind: str, urls: list[str], **env) -> dict:
    root = tmp_path / "text"
    root.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, str(RUN), "pool", str(root), str(workers), str(size), kind, *urls],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, **env},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_a_page_whose_worker_dies_is_tried_once_more_on_a_new_worker(tmp_path):
    urls = [f"http://x/{i}.html" for i in range(6)] + ["http://x/die-once.html"]
    summary = run_pool(tmp_path, 2, 8, "fake", urls)
    assert summary["outcomes"] == [[url, None] for url in urls]
    assert summary["lost"] == 1
    assert summary["retried"] == ["http://x/die-once.html"]
    assert summary["given_up"] == []
    assert summary["workers_left"] == 0  # all closed at the end


def test_a_page_two_workers_die_on_comes_back_as_a_failure(tmp_path):
    urls = ["http://x/1.html", "http://x/die-always.html", "http://x/2.html"]
    summary = run_pool(tmp_path, 1, 4, "fake", urls)
    first, dead, last = summary["outcomes"]
    assert first == ["http://x/1.html", None] and last == ["http://x/2.html", None]
    assert dead == [None, "the text worker was killed by signal 9 twice on this page"]
    assert summary["lost"] == 2
    assert summary["retried"] == summary["given_up"] == ["http://x/die-always.html"]
    assert summary["in_process"] is False  # a page that kills workers is not a broken pool


def test_the_pool_never_holds_more_pages_than_its_size(tmp_path):
    urls = [f"http://x/{i}.html" for i in range(40)]
    summary = run_pool(tmp_path, 2, 3, "fake", urls)
    assert [text for text, _ in summary["outcomes"]] == urls
    assert summary["most_in_pool"] == 3


def test_a_worker_is_sent_pages_ahead_of_its_answers(tmp_path):
    # It must not wait for the reactor to read each answer before it gets its next page:
    # with two pages ahead, a worker sat idle a third of a crawl while articles queued.
    urls = [f"http://x/{i}.html" for i in range(40)]
    summary = run_pool(tmp_path, 1, 32, "fake", urls)
    assert [text for text, _ in summary["outcomes"]] == urls
    assert summary["most_at_a_worker"] == DEPTH == 16
    assert summary["most_in_pool"] == 32


def saved_pages(tmp_path, site: ReplicaSite, count: int) -> tuple[Path, list[str]]:
    """The first `count` articles of the replica saved where a fake crawl's pages lie."""
    pages = tmp_path / "pages"
    pages.mkdir()
    urls = []
    for article in site.articles[:count]:
        url = "http://127.0.0.1:8123" + article.path
        pages.joinpath(sha1(url.encode()).hexdigest()).write_bytes(site.render(article.path)[2])
        urls.append(url)
    return pages, urls


def test_workers_that_cannot_start_leave_the_pages_to_the_crawls_own_process(tmp_path):
    site = ReplicaSite(seed=4, per_generation=3)
    pages, urls = saved_pages(tmp_path, site, 4)
    summary = run_pool(tmp_path, 1, 4, "broken", urls, PAGES=str(pages))
    assert summary["in_process"] is True
    assert summary["lost"] == 0  # they never started: no page is charged with them
    assert all(text and failure is None for text, failure in summary["outcomes"])
    assert len(list((tmp_path / "text").rglob("*.txt"))) == 4


def test_a_worker_writes_the_same_files_as_the_crawls_own_process(tmp_path):
    site = ReplicaSite(seed=5, per_generation=3)
    pages, urls = saved_pages(tmp_path, site, 6)
    summary = run_pool(tmp_path, 2, 4, "real", urls, PAGES=str(pages))
    here = tmp_path / "here"
    now = datetime(2026, 11, 28, 1, tzinfo=UTC)
    texts = [
        make_text(
            ArticlePage(url, url, now, (pages / sha1(url.encode()).hexdigest()).read_bytes()), here
        ).text
        for url in urls
    ]
    assert [text for text, _ in summary["outcomes"]] == texts

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(tmp_path / "text") == files(here) and len(files(here)) == 12


def test_a_worker_indexes_what_it_wrote_when_no_page_follows(tmp_path):
    site = ReplicaSite(seed=5, per_generation=3)
    pages, urls = saved_pages(tmp_path, site, 2)
    layout = Layout.of(tmp_path / "archive")
    update_index(layout)
    command = default_command(layout.text_dir, PAGE_LIMITS, layout.search_index)
    worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        now = datetime(2026, 11, 28, 1, tzinfo=UTC)
        for job, url in enumerate(urls):
            page = ArticlePage(url, url, now, (pages / sha1(url.encode()).hexdigest()).read_bytes())
            worker.stdin.write(frame((job, page)))
            worker.stdin.flush()
            assert read_frame(worker.stdout)[1].indexed  # taken by its index
        # Its input stays open: the texts are indexed because none came after them.
        deadline = time.monotonic() + 30
        while indexed_texts(layout) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert indexed_texts(layout) == 2 and worker.poll() is None
    finally:
        worker.stdin.close()
        worker.wait(timeout=60)


def indexed_texts(layout: Layout) -> int:
    with sqlite3.connect(layout.search_index) as db:
        return db.execute("SELECT count(*) FROM docs").fetchone()[0]

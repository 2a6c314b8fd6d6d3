"""The crawl state store: captures and revisits, texts, frontier, revisit policy, durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler import state as state_module
from crawler.errors import ArchiveWriteError, DcsError
from crawler.state import Capture, CrawlState, RevisitPolicy, StateError, StateWriteError

REPO = Path(__file__).resolve().parent.parent
ARTICLE = "https://dangcongsan.vn/ha-noi--quang-ninh-thuc-day-hop-tac-post531379.html"
LIST = "https://dangcongsan.vn/thoi-su"
IMAGE = "https://file1.dangcongsan.vn/data/0/images/2026/11/28/a.jpg"
SITEMAP = "https://dangcongsan.vn/sitemaps/sitemap-2019-08.xml"
FEED = "https://dangcongsan.vn/rss"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def full(status: int = 200, at: datetime = NOW, n: int = 1, **fields) -> Capture:
    """A full response capture whose fields are all numbered ``n``."""
    values = dict(
        etag=f'"e{n}"',
        last_modified=f"Fri, 0{n} Nov 2026 10:00:00 GMT",
        payload_digest=f"sha1:P{n}",
        warc_date=f"2026-11-0{n}T10:00:00Z",
        target_uri=f"http://127.0.0.1/a-{n}",
        record_id=f"<urn:uuid:{n}>",
        filename=f"dcs-{n}.warc.gz",
        offset=100 * n,
        length=10 * n,
    )
    values.update(fields)
    return Capture(status, at, **values)


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request, tmp_path):
    """The store of a folder: its own SQLite file, and a PostgreSQL database (a cluster's)."""
    store = None
    if request.param == "postgresql":
        store = request.getfixturevalue("cluster_servers").database()
    with CrawlState.open(tmp_path / "archive", store) as opened:
        yield opened


@pytest.fixture
def sqlite_state(tmp_path):
    """A folder's own SQLite store: for what only SQLite has (pragmas, query plans)."""
    with CrawlState.open(tmp_path / "archive") as opened:
        yield opened


# -- the file ------------------------------------------------------------------------------
def test_open_creates_a_wal_store_with_a_schema_version(tmp_path):
    out = tmp_path / "new" / "archive"
    with CrawlState.open(out) as state:
        assert state.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert state.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    db = sqlite3.connect(out / "state.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == state_module.SCHEMA_VERSION
    db.close()


def test_a_store_from_a_newer_dcs_is_refused(tmp_path):
    CrawlState.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StateError, match="newer dcs"):
        CrawlState.open(tmp_path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DcsError, match="not a usable dcs state store"):
        CrawlState.open(tmp_path)


def test_data_survives_reopening(tmp_path):
    with CrawlState.open(tmp_path) as state:
        state.record_capture(ARTICLE, full())
        state.enqueue(LIST, LIST, "list")
    with CrawlState.open(tmp_path) as state:
        assert state.last_capture(ARTICLE) == full()
        assert [p.url for p in state.pending()] == [LIST]
        assert state.has_history()


def test_closed_store_says_so(tmp_path):
    state = CrawlState.open(tmp_path)
    state.close()
    state.close()  # twice is fine
    with pytest.raises(StateError, match="closed"):
        state.seen(ARTICLE)


def test_naive_times_are_refused(state):
    with pytest.raises(ValueError, match="timezone-aware"):
        state.record_capture(ARTICLE, Capture(200, datetime(2026, 1, 1)))


# -- captures and revisits -----------------------------------------------------------------
def test_unknown_url_has_no_capture_and_no_conditional_headers(state):
    assert state.last_capture(ARTICLE) is None
    assert state.conditional_headers(ARTICLE) == {}
    assert not state.has_history()


def test_a_200_capture_gives_conditional_headers(state):
    state.record_capture(ARTICLE, full())
    assert state.conditional_headers(ARTICLE) == {
        "If-None-Match": '"e1"',
        "If-Modified-Since": "Fri, 01 Nov 2026 10:00:00 GMT",
    }


def test_a_304_keeps_pointing_at_the_original_response(state):
    state.record_capture(ARTICLE, full(n=1))
    later = NOW + timedelta(days=1)
    # The revisit record's own fields (n=2) must not replace the original's (n=1).
    state.record_capture(ARTICLE, full(304, later, n=2, etag=None, last_modified=None))
    capture = state.last_capture(ARTICLE)
    assert capture.status == 304 and capture.fetched_at == later and capture.revisit
    assert capture.record_id == "<urn:uuid:1>"
    assert capture.warc_date == "2026-11-01T10:00:00Z"
    assert capture.target_uri == "http://127.0.0.1/a-1"
    assert (capture.filename, capture.offset, capture.length) == ("dcs-1.warc.gz", 100, 10)
    assert capture.payload_digest == "sha1:P1"
    assert capture.etag == '"e1"'  # the 304 sent none: the old validator stays
    # A second revisit still refers to the original, not to the first revisit.
    state.record_capture(ARTICLE, full(304, later + timedelta(days=1), n=3, etag='"e1b"'))
    capture = state.last_capture(ARTICLE)
    assert capture.record_id == "<urn:uuid:1>" and capture.etag == '"e1b"'
    assert state.conditional_headers(ARTICLE)["If-None-Match"] == '"e1b"'


def test_an_identical_payload_revisit_keeps_the_original_too(state):
    state.record_capture(ARTICLE, full(n=1))
    state.record_capture(ARTICLE, full(200, NOW + timedelta(hours=1), n=2, revisit=True))
    capture = state.last_capture(ARTICLE)
    assert capture.status == 200 and capture.revisit
    assert capture.record_id == "<urn:uuid:1>"


def test_a_new_200_replaces_the_original(state):
    state.record_capture(ARTICLE, full(n=1))
    state.record_capture(ARTICLE, full(n=2, at=NOW + timedelta(days=2)))
    capture = state.last_capture(ARTICLE)
    assert capture.record_id == "<urn:uuid:2>" and not capture.revisit


def test_an_error_after_a_200_keeps_the_good_copy(state):
    state.record_capture(ARTICLE, full(n=1))
    state.record_capture(ARTICLE, full(503, NOW + timedelta(days=1), n=2))
    capture = state.last_capture(ARTICLE)
    assert capture.status == 503
    assert capture.record_id == "<urn:uuid:1>"
    assert state.conditional_headers(ARTICLE)["If-None-Match"] == '"e1"'


def test_a_404_first_is_the_reference_until_a_200_comes(state):
    state.record_capture(ARTICLE, full(404, n=1))
    assert state.last_capture(ARTICLE).record_id == "<urn:uuid:1>"
    assert state.conditional_headers(ARTICLE) == {}  # nothing worth revisiting
    state.record_capture(ARTICLE, full(200, NOW + timedelta(days=1), n=2))
    assert state.last_capture(ARTICLE).record_id == "<urn:uuid:2>"


def test_no_conditional_request_without_a_record_to_refer_to(state):
    state.record_capture(ARTICLE, full(record_id=None))
    assert state.conditional_headers(ARTICLE) == {}


def test_kind_comes_from_the_url_rules_unless_given(state):
    state.record_capture(ARTICLE, full())
    state.record_capture(IMAGE, full())
    state.record_capture("https://dangcongsan.vn/gioi-thieu", full(), kind="other")
    assert state.stats()["by_kind"] == {"article": 1, "asset": 1, "other": 1}


def test_a_row_keeps_the_kind_it_was_given_when_later_writes_name_none(state):
    state.enqueue(LIST, LIST, "list")  # a URL the rules would call "other"
    state.record_capture(LIST, full())
    state.note_lastmod(LIST, FEED, "Fri, 27 Nov 2026 10:00:00 GMT")
    state.record_dates(LIST, published=NOW)
    assert state.enqueue(ARTICLE, ARTICLE, "other") and not state.enqueue(
        ARTICLE, ARTICLE, "article"
    )
    assert state.stats()["by_kind"] == {"list": 1, "article": 1}


# -- texts ---------------------------------------------------------------------------------
def write_text(out: Path, name: str = "531379.txt") -> Path:
    path = out / "text" / "2026" / "11" / "28" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("title\n(ĐCSVN) - lead", encoding="utf-8")
    return path


def test_an_article_is_archived_with_a_200_and_its_text_on_disk(state):
    path = write_text(state.out_dir)
    state.enqueue(ARTICLE, ARTICLE, "article")
    assert not state.is_archived(ARTICLE)
    state.record_capture(ARTICLE, full())
    assert not state.is_archived(ARTICLE) and not state.has_text(ARTICLE)
    state.record_text(ARTICLE, "ab" * 20, path)
    assert state.has_text(ARTICLE) and state.is_archived(ARTICLE)
    assert state.text_of(ARTICLE) == ("ab" * 20, path)
    path.unlink()
    assert state.has_text(ARTICLE) and not state.is_archived(ARTICLE)


def test_a_404_article_with_text_is_not_archived(state):
    path = write_text(state.out_dir)
    state.record_capture(ARTICLE, full(404))
    state.record_text(ARTICLE, "ab" * 20, path)
    assert not state.is_archived(ARTICLE)


def test_text_paths_relative_to_the_working_directory_are_kept_inside_the_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with CrawlState.open("archive") as state:
        path = write_text(Path("archive"))  # as the pipeline passes it: relative to the CWD
        state.record_capture(ARTICLE, full())
        state.record_text(ARTICLE, "ab" * 20, str(path))
        stored = state.db.execute("SELECT text_path FROM urls").fetchone()[0]
        assert stored == "text/2026/11/28/531379.txt"
    # The folder moves; the store still finds the text.
    (tmp_path / "archive").rename(tmp_path / "moved")
    with CrawlState.open(tmp_path / "moved") as state:
        assert state.is_archived(ARTICLE)


# -- frontier ------------------------------------------------------------------------------
def test_frontier_order_is_priority_then_enqueue_order(state):
    urls = [f"https://dangcongsan.vn/a-b-c-d-post{i}.html" for i in range(5)]
    assert state.enqueue(urls[0], urls[0], "article")
    assert state.enqueue(urls[1], urls[1], "article", priority=5)
    assert state.enqueue(urls[2], urls[2], "article")
    assert state.enqueue(urls[3], urls[3], "article", priority=-1)
    assert not state.enqueue(urls[2], "http://elsewhere/", "article", priority=9)  # raised
    assert not state.enqueue(urls[1], urls[1], "article", priority=1)  # not lowered
    pending = list(state.pending())
    assert [p.url for p in pending] == [urls[2], urls[1], urls[0], urls[3]]
    assert pending[0].fetch_url == urls[2] and pending[0].priority == 9
    assert [p.url for p in state.pending(limit=2)] == [urls[2], urls[1]]
    assert state.is_pending(urls[0]) and not state.is_pending(urls[4])


def test_done_while_iterating_over_many_pages(state, monkeypatch):
    monkeypatch.setattr(state_module, "PENDING_PAGE", 3)
    urls = [f"https://dangcongsan.vn/a-b-c-d-post{i}.html" for i in range(10)]
    with state.batch():
        for url in urls:
            state.enqueue(url, url, "article")
    seen = []
    for entry in state.pending():
        seen.append(entry.url)
        state.done(entry.url)
    assert seen == urls
    assert list(state.pending()) == []
    assert len(list(state.pending(limit=7))) == 0


def test_pending_limit_across_pages(state, monkeypatch):
    monkeypatch.setattr(state_module, "PENDING_PAGE", 3)
    for i in range(10):
        url = f"https://dangcongsan.vn/a-b-c-d-post{i}.html"
        state.enqueue(url, url, "article")
    assert len(list(state.pending(limit=7))) == 7
    assert len(list(state.pending())) == 10


def test_a_failed_batch_leaves_nothing_behind(state):
    with pytest.raises(RuntimeError):
        with state.batch():
            state.enqueue(ARTICLE, ARTICLE, "article")
            raise RuntimeError("boom")
    assert list(state.pending()) == [] and not state.seen(ARTICLE)


def test_a_full_disk_is_a_write_error_and_the_store_stays_usable(sqlite_state):
    state = sqlite_state
    state.enqueue(ARTICLE, ARTICLE, "article")
    pages = state.db.execute("PRAGMA page_count").fetchone()[0]
    state.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    with pytest.raises(StateWriteError, match="disk is full") as raised:
        with state.batch():
            for i in range(2000):
                url = f"https://dangcongsan.vn/a-b-c-d-post{i}.html"
                state.enqueue(url, url, "article")
    assert isinstance(raised.value, ArchiveWriteError)
    assert not state.db.in_transaction
    assert [p.url for p in state.pending()] == [ARTICLE]
    state.done(ARTICLE)  # what needs no new page can still be written
    assert list(state.pending()) == []


def test_grouped_writes_are_seen_by_other_readers_once_committed(sqlite_state):
    state = sqlite_state
    state.group_commits()
    reader = sqlite3.connect(state.path)

    def count(table: str) -> int:
        return reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    state.enqueue(ARTICLE, ARTICLE, "article")
    state.enqueue(LIST, LIST, "list")
    state.record_capture(ARTICLE, full())
    assert (count("urls"), count("frontier")) == (0, 0)
    state.commit()
    assert (count("urls"), count("frontier")) == (2, 2)
    state.done(ARTICLE)  # a single write opens the next group, as a batch does
    assert count("frontier") == 2
    state.commit()
    assert count("frontier") == 1
    reader.close()


def test_the_file_takes_its_mode_from_the_umask(tmp_path):
    old = os.umask(0o007)
    try:
        CrawlState.open(tmp_path / "archive").close()
    finally:
        os.umask(old)
    assert (tmp_path / "archive" / "state.sqlite3").stat().st_mode & 0o777 == 0o660


# -- revisit policy ------------------------------------------------------------------------
def test_policy_parsing():
    policy = RevisitPolicy.parse("7d:1d, 30d:1w, *:never")
    assert policy.interval_for(timedelta(days=1)) == timedelta(days=1)
    assert policy.interval_for(timedelta(days=8)) == timedelta(days=7)
    assert policy.interval_for(timedelta(days=400)) is None
    assert RevisitPolicy.parse("1d:always").interval_for(timedelta(hours=1)) == timedelta(0)
    assert RevisitPolicy.parse("1d:6h").interval_for(timedelta(days=2)) is None  # no '*'
    assert RevisitPolicy.parse("*:30d").interval_for(timedelta(days=999)) == timedelta(days=30)
    assert RevisitPolicy.parse(None) == RevisitPolicy.parse(state_module.DEFAULT_REVISIT_POLICY)


@pytest.mark.parametrize(
    "text", ["7d", "7x:1d", "7d:soon", "*:1d,7d:1d", "30d:1d,7d:1d", "7d:1d,7d:2d", ":1d"]
)
def test_bad_policies_are_one_line_errors(text):
    with pytest.raises(DcsError, match="revisit policy") as error:
        RevisitPolicy.parse(text)
    assert "\n" not in str(error.value)


def fetched(state: CrawlState, url: str, published_days_ago: float, fetched_days_ago: float):
    state.record_dates(url, published=NOW - timedelta(days=published_days_ago))
    state.record_capture(url, full(at=NOW - timedelta(days=fetched_days_ago)))


@pytest.mark.parametrize(
    ("published", "last_fetch", "due"),
    [
        (2, 1.5, True),  # young: daily
        (2, 0.5, False),
        (10, 3, False),  # a few weeks: weekly
        (10, 8, True),
        (60, 50, False),  # old: never
    ],
)
def test_articles_follow_the_policy_by_age(state, published, last_fetch, due):
    fetched(state, ARTICLE, published, last_fetch)
    policy = RevisitPolicy.parse("7d:1d,30d:7d,*:never")
    assert state.due_for_revisit(ARTICLE, NOW, policy) is due


def test_revisit_rules_beyond_age(state):
    policy = RevisitPolicy.parse("7d:1d,30d:7d,*:never")
    assert state.due_for_revisit(ARTICLE, NOW, policy)  # never fetched
    fetched(state, ARTICLE, 60, 50)
    assert not state.due_for_revisit(ARTICLE, NOW, policy)
    # A given published time overrides the stored one.
    assert state.due_for_revisit(ARTICLE, NOW, policy, published=NOW - timedelta(days=1))
    # A sitemap lastmod other than the one seen at the last fetch makes even an old one due.
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-10T16:02:00+07:00")
    state.record_capture(ARTICLE, full(304, NOW - timedelta(days=50)))
    assert not state.due_for_revisit(ARTICLE, NOW, policy)
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-09T10:00:00+07:00")  # earlier: still a change
    assert state.due_for_revisit(ARTICLE, NOW, policy)
    # A failed fetch is retried next run.
    other = "https://dangcongsan.vn/x-y-z-w-post1.html"
    fetched(state, other, 60, 50)
    state.record_capture(other, full(503, NOW - timedelta(hours=1)))
    assert state.due_for_revisit(other, NOW, policy)
    # Assets are fetched once; lists are always rechecked.
    state.record_capture(IMAGE, full(at=NOW - timedelta(days=400)))
    state.record_capture(LIST, full(at=NOW - timedelta(minutes=1)))
    assert not state.due_for_revisit(IMAGE, NOW, policy)
    assert state.due_for_revisit(LIST, NOW, policy)


def test_undated_articles_age_from_when_first_seen(state):
    state.record_capture(ARTICLE, full(at=datetime.now(UTC) - timedelta(days=2)))
    policy = RevisitPolicy.parse("7d:1d,*:never")
    assert state.due_for_revisit(ARTICLE, datetime.now(UTC), policy)
    assert not state.due_for_revisit(ARTICLE, datetime.now(UTC) + timedelta(days=30), policy)


# -- statistics and Scrapy -----------------------------------------------------------------
def test_stats(state):
    state.record_capture(ARTICLE, full(at=NOW - timedelta(days=2)))
    state.record_capture(ARTICLE, full(304, NOW))
    state.record_capture(IMAGE, full(at=NOW - timedelta(days=2)))
    state.enqueue(LIST, LIST, "list")
    state.record_text(ARTICLE, "ab" * 20, write_text(state.out_dir))
    stats = state.stats()
    assert stats == {
        "urls": 3,
        "by_kind": {"article": 1, "asset": 1, "list": 1},
        "by_status": {200: 1, 304: 1},
        "fetched": 2,
        "revisits": 1,
        "texts": 1,
        "pending": 1,
    }
    since = state.stats(since=NOW - timedelta(days=1))
    assert since["by_status"] == {304: 1} and since["fetched"] == 1


def test_for_crawler_opens_once_and_closes_when_the_engine_stops(tmp_path):
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"OUT_DIR": str(tmp_path / "out")})
    state = CrawlState.for_crawler(crawler)
    assert CrawlState.for_crawler(crawler) is state and crawler.crawl_state is state
    assert state.path == tmp_path / "out" / "state.sqlite3"
    crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")
    state.enqueue(ARTICLE, ARTICLE, "article")  # still usable in spider_closed handlers
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert state.closed


# -- durability ----------------------------------------------------------------------------
WRITER = """
import sys
from datetime import UTC, datetime
from crawler.state import Capture, CrawlState
state = CrawlState.open(sys.argv[1])
i = 0
while True:
    url = f"https://dangcongsan.vn/a-b-c-d-post{i}.html"
    state.enqueue(url, url, "article")
    state.record_capture(url, Capture(200, datetime.now(UTC), record_id=f"<urn:{i}>"))
    if i % 2:
        state.done(url)
    print(i, flush=True)
    i += 1
"""


def test_sigkill_while_writing_loses_nothing_committed(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    committed = []
    for line in proc.stdout:
        committed.append(int(line))
        if len(committed) >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    committed += [int(line) for line in proc.stdout]  # printed before the kill landed
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    db = sqlite3.connect(tmp_path / "state.sqlite3")  # the WAL is still there: replayed
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    with CrawlState.open(tmp_path) as state:
        for i in committed:
            url = f"https://dangcongsan.vn/a-b-c-d-post{i}.html"
            assert state.last_capture(url).record_id == f"<urn:{i}>"
            assert state.is_pending(url) is (i % 2 == 0)


def test_policy_horizon():
    assert RevisitPolicy.parse("7d:1d,30d:7d,*:never").horizon == timedelta(days=30)
    assert RevisitPolicy.parse("7d:1d,30d:never").horizon == timedelta(days=7)
    assert RevisitPolicy.parse("*:always").horizon is None
    assert RevisitPolicy.parse("*:never").horizon == timedelta(0)


def test_articles_due_are_those_the_policy_or_a_sitemap_names(state):
    policy = RevisitPolicy.parse("7d:1d,30d:7d,*:never")
    young, old, edited = (f"https://dangcongsan.vn/bai-{n}-post{n}.html" for n in (1, 2, 3))
    for url, published in ((young, 2), (old, 60), (edited, 90)):
        fetched(state, url, published, 1.5)
        state.record_text(url, "0" * 40, state.out_dir / "text" / "x.txt")
    state.note_lastmod(edited, SITEMAP, "2026-11-28T18:00:00+07:00")
    assert {url for url, _ in state.articles_due(NOW, policy)} == {young, edited}


# -- dates as the server wrote them ----------------------------------------------------------
def test_a_lastmod_is_a_change_when_it_differs_whatever_the_clocks(state):
    state.record_capture(ARTICLE, full(at=NOW))
    # First seen after the fetch: nothing says which version we hold, so it is rechecked.
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-10T16:02:00+07:00")
    assert state.lastmod_changed(ARTICLE)
    state.record_capture(ARTICLE, full(304, NOW + timedelta(hours=1)))
    assert not state.lastmod_changed(ARTICLE)
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-10T16:02:00+07:00")  # the same: no change
    assert not state.lastmod_changed(ARTICLE)
    # A date years before our clock, and one a day after it: both are changes.
    for value in ("2012-01-01T00:00:00+07:00", "2026-11-29T12:00:00+07:00"):
        state.note_lastmod(ARTICLE, SITEMAP, value)
        assert state.lastmod_changed(ARTICLE)
        state.record_capture(ARTICLE, full(at=NOW + timedelta(hours=2)))
        assert not state.lastmod_changed(ARTICLE)


def test_each_source_keeps_its_own_date_format(state):
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-10T16:02:00+07:00")
    state.note_lastmod(ARTICLE, FEED, "Sat, 10 Aug 2019 15:21:00 +0700")
    state.record_capture(ARTICLE, full(at=NOW))
    for _ in range(2):  # read again in the same forms: never a change
        state.note_lastmod(ARTICLE, SITEMAP, "2019-08-10T16:02:00+07:00")
        state.note_lastmod(ARTICLE, FEED, "Sat, 10 Aug 2019 15:21:00 +0700")
        assert not state.lastmod_changed(ARTICLE)


def test_a_date_seen_after_a_fetch_in_the_same_crawl_counts_as_fetched(state):
    started = NOW - timedelta(minutes=5)
    state.record_capture(ARTICLE, full(at=NOW))
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-10T16:02:00+07:00", fetched_since=started)
    assert not state.lastmod_changed(ARTICLE)
    # Fetched before this crawl: the date may describe an edit made since.
    state.note_lastmod(ARTICLE, SITEMAP, "2019-08-11", fetched_since=NOW + timedelta(minutes=1))
    assert state.lastmod_changed(ARTICLE)
    # A failed fetch holds no version.
    state.record_capture(LIST, full(503, at=NOW))
    state.note_lastmod(LIST, SITEMAP, "2019-08-11", fetched_since=started)
    assert state.lastmod_changed(LIST)


# -- listings and takedowns ------------------------------------------------------------------
def test_an_article_no_longer_named_by_its_sitemap_is_gone_from_it(state):
    a, b = ARTICLE, "https://dangcongsan.vn/x-y-z-w-post1.html"
    state.record_listing(SITEMAP, [a, b])
    started = datetime.now(UTC)
    state.record_listing(SITEMAP, [a])
    assert state.gone_from_listing(SITEMAP, since=started) == [b]
    assert state.gone_from_listing(SITEMAP, since=started) == []  # judged once


def test_a_list_judges_only_the_pages_above_the_last_one_read(state):
    top, bottom = ARTICLE, "https://dangcongsan.vn/x-y-z-w-post1.html"
    state.record_listing(LIST, [top], page=1)
    state.record_listing(LIST, [bottom], page=2)
    started = datetime.now(UTC) + timedelta(seconds=1)
    # This crawl read pages 1 and 2 and named neither: one from page 2 may be on page 3 now.
    assert state.gone_from_listing(LIST, since=started, before_page=2) == [top]


def test_takedowns_are_events_and_the_first_date_stays(state):
    state.record_capture(ARTICLE, full(at=NOW))
    state.record_text(ARTICLE, "ab" * 20, write_text(state.out_dir))
    assert not state.record_present(ARTICLE, 200)  # never removed: nothing to record
    assert state.record_removed(ARTICLE, 404, at=NOW)
    assert not state.record_removed(ARTICLE, 410, at=NOW + timedelta(days=1))
    assert state.is_removed(ARTICLE)
    state.record_capture(ARTICLE, full(404, at=NOW))
    assert state.is_archived(ARTICLE)  # its capture and text stay
    home = "https://dangcongsan.vn/"
    assert state.record_present(ARTICLE, 200, at=NOW + timedelta(days=2))
    assert state.record_removed(ARTICLE, 301, home, at=NOW + timedelta(days=3))
    events = state.takedowns()
    assert [(e.event, e.at, e.status, e.location) for e in events] == [
        ("removed", NOW, 404, None),
        ("restored", NOW + timedelta(days=2), 200, None),
        ("removed", NOW + timedelta(days=3), 301, home),
    ]
    assert [e.event for e in state.takedowns(since=NOW + timedelta(days=1))] == [
        "restored",
        "removed",
    ]
    assert state.takedowns(url=LIST) == []
    row = state.db.execute("SELECT removed_at FROM urls WHERE url = ?", (ARTICLE,)).fetchone()
    assert row[0] == (NOW + timedelta(days=3)).timestamp()


def test_the_takedowns_table_has_the_agreed_columns(sqlite_state):
    state = sqlite_state
    columns = state.db.execute("PRAGMA table_info(takedowns)").fetchall()
    assert [(c[1], c[2], c[3]) for c in columns] == [
        ("url", "TEXT", 1),
        ("event", "TEXT", 1),
        ("at", "REAL", 1),
        ("status", "INTEGER", 0),
        ("location", "TEXT", 0),
    ]


# -- deduplication ---------------------------------------------------------------------------
def test_a_payload_is_found_by_its_digest_under_any_url(sqlite_state):
    state = sqlite_state
    state.record_capture(IMAGE, full(n=1))
    assert state.capture_by_digest("sha1:P1").record_id == "<urn:uuid:1>"
    assert state.capture_by_digest("sha1:P9") is None
    plan = state.db.execute(
        "EXPLAIN QUERY PLAN SELECT record_id FROM urls WHERE payload_digest = ?"
        " AND record_id IS NOT NULL",
        ("x",),
    ).fetchall()
    assert "urls_payload_digest" in str(plan)


def test_a_revisit_of_another_url_makes_its_original_the_reference(state):
    state.record_capture(IMAGE, full(n=1))
    original = state.capture_by_digest("sha1:P1")
    other = IMAGE.replace("a.jpg", "b.jpg")
    own = full(n=2, revisit=True, etag='"mine"')
    state.record_capture(other, own, original=original)
    last = state.last_capture(other)
    assert last.revisit and last.record_id == "<urn:uuid:1>" and last.etag == '"mine"'
    assert last.target_uri == original.target_uri
    assert state.conditional_headers(other)["If-None-Match"] == '"mine"'


# -- schema upgrades -------------------------------------------------------------------------
def test_a_schema_1_store_is_upgraded_keeping_its_data(tmp_path):
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.executescript(state_module._SCHEMA)
    db.execute(
        "INSERT INTO urls (url, kind, first_seen, fetched_at, status, lastmod)"
        " VALUES (?, 'article', 1, 2, 200, 3)",
        (ARTICLE,),
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with CrawlState.open(tmp_path) as state:
        assert state.db.execute("PRAGMA user_version").fetchone()[0] == state_module.SCHEMA_VERSION
        assert state.last_capture(ARTICLE).status == 200
        assert not state.lastmod_changed(ARTICLE) and not state.is_removed(ARTICLE)


def test_a_duplicate_is_fetched_again_under_its_own_url(state):
    """A URL whose capture is a revisit of another URL's payload refers to that URL's record,
    but is fetched again (revisit policy, dcs verify) under its own."""
    state.record_capture(IMAGE, full(n=1, target_uri=IMAGE))
    other = IMAGE.replace("a.jpg", "b.jpg")
    state.record_capture(
        other, full(n=2, revisit=True), original=state.capture_by_digest("sha1:P1")
    )
    assert state.last_capture(other).target_uri == IMAGE
    assert state.last_url(other) == other and state.last_url(IMAGE) == IMAGE
    assert {p.url: p.target_uri for p in state.pointers()}[other] == other


# -- claims (a cluster crawl's frontier) -------------------------------------------------------
def test_a_pending_url_is_claimed_by_one_node_until_its_lease_runs_out(state, monkeypatch):
    state.enqueue(ARTICLE, ARTICLE, "article")
    assert state.claim(ARTICLE, "a", lease=10)
    assert state.claim(ARTICLE, "a", lease=10)  # its own claim, again
    assert not state.claim(ARTICLE, "b", lease=10)
    assert state.claims() == 1
    assert state.reclaim_expired() == []
    later = state_module.time.time() + 11
    monkeypatch.setattr(state_module.time, "time", lambda: later)
    assert [p.url for p in state.reclaim_expired()] == [ARTICLE]
    assert state.claims() == 0
    assert state.claim(ARTICLE, "b", lease=10)


def test_a_renewed_lease_is_not_taken_back(state, monkeypatch):
    state.enqueue(ARTICLE, ARTICLE, "article")
    state.claim(ARTICLE, "a", lease=10)
    now = state_module.time.time()
    monkeypatch.setattr(state_module.time, "time", lambda: now + 8)
    assert state.renew_claims("a", lease=10) == 1
    monkeypatch.setattr(state_module.time, "time", lambda: now + 15)
    assert state.reclaim_expired() == []
    assert not state.claim(ARTICLE, "b", lease=10)


def test_a_url_done_or_given_up_is_not_claimed(state):
    state.enqueue(ARTICLE, ARTICLE, "article")
    state.enqueue(LIST, LIST, "list")
    state.claim(ARTICLE, "a", lease=10)
    state.done(ARTICLE)
    assert not state.claim(ARTICLE, "b", lease=10)  # archived by "a": left the frontier
    state.claim(LIST, "a", lease=10)
    state.unclaim(LIST, "a")  # failed: pending for the next crawl, held by no one
    assert state.is_pending(LIST) and state.claims() == 0
    assert state.claim(LIST, "b", lease=10)


def test_a_stopping_node_hands_its_claims_over_at_once(state):
    state.enqueue(ARTICLE, ARTICLE, "article")
    state.claim(ARTICLE, "a", lease=60)
    state.expire_claims("a")
    assert [p.url for p in state.reclaim_expired()] == [ARTICLE]


def test_nodes_reclaiming_at_once_share_the_entries_out(cluster_servers, tmp_path, monkeypatch):
    """Two nodes, two connections: each expired entry goes to one of them only."""
    store = cluster_servers.database()
    with CrawlState.open(tmp_path / "a", store) as a, CrawlState.open(tmp_path / "b", store) as b:
        urls = [f"{ARTICLE}?n={n}" for n in range(40)]
        for url in urls:
            a.enqueue(url, url, "article")
            a.claim(url, "dead", lease=1)
        later = state_module.time.time() + 2
        monkeypatch.setattr(state_module.time, "time", lambda: later)
        # One node's reclaim holds its rows (an open transaction) while the other's runs.
        a.db.execute("BEGIN")
        first = a.db.execute(
            "SELECT url FROM frontier WHERE claimed_until < ? LIMIT 10 FOR UPDATE SKIP LOCKED",
            (later,),
        ).fetchall()
        second = b.reclaim_expired()
        a.db.execute("ROLLBACK")
        assert len(first) == 10 and len(second) == 30
        assert not {url for (url,) in first} & {p.url for p in second}


def test_nodes_of_one_cluster_name_their_crawl_alike(cluster_servers, tmp_path):
    store = cluster_servers.database()
    with CrawlState.open(tmp_path / "a", store) as a, CrawlState.open(tmp_path / "b", store) as b:
        assert a.keep_fact("warc-is-part-of", "first") == "first"
        assert b.keep_fact("warc-is-part-of", "second") == "first"


def test_another_nodes_text_counts_as_archived(cluster_servers, tmp_path):
    store = cluster_servers.database()
    with CrawlState.open(tmp_path / "a", store) as a, CrawlState.open(tmp_path / "b", store) as b:
        a.node, b.node = "a", "b"
        a.record_capture(ARTICLE, full(), "article")
        text = tmp_path / "a" / "text" / "1.txt"
        text.parent.mkdir(parents=True)
        text.write_text("x")
        a.record_text(ARTICLE, "sha", text)
        assert a.is_archived(ARTICLE) and b.is_archived(ARTICLE)  # b cannot see a's disk
        text.unlink()
        assert not a.is_archived(ARTICLE)


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(
        DcsError, match="cannot connect to the state store postgresql://x:\\*\\*\\*@"
    ):
        CrawlState.open(tmp_path, "postgresql://x:secret@127.0.0.1:9/dcs")

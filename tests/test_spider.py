"""The spider's decisions that a whole crawl does not isolate: list paging under --since,
which monthly sitemaps a run reads, what enters and leaves the frontier, redirects."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.spiders.dangcongsan import DangcongsanSpider, parse_lastmod, sitemap_month
from crawler.state import Capture, CrawlState

MIRROR = "http://127.0.0.1:8123"


def spider(tmp_path, **settings) -> DangcongsanSpider:
    settings = {"BASE_URL": MIRROR, "OUT_DIR": str(tmp_path), **settings}
    crawler = get_crawler(DangcongsanSpider, settings_dict=settings)
    return DangcongsanSpider.from_crawler(crawler)


def list_page(*days: str) -> HtmlResponse:
    items = "".join(
        f'<div class="pcontent3"><a class="item-title" href="/a-{i}0000.html">x</a>'
        f'<div class="i-date">{day}</div></div>'
        for i, day in enumerate(days)
    )
    html = f'<html><body><div class="w-list">{items}</div><footer>01/01/2099</footer></body></html>'
    return HtmlResponse(f"{MIRROR}/thoi-su?page=3", body=html.encode(), encoding="utf-8")


def test_a_list_page_older_than_since_stops_the_paging(tmp_path):
    backfill = spider(tmp_path, SINCE="2020-01-01")
    assert backfill.older_than_since(list_page("03/02/2019", "28/12/2019"))
    assert not backfill.older_than_since(list_page("03/02/2019", "02/01/2020"))
    assert not spider(tmp_path).older_than_since(list_page("03/02/2001"))


INDEX = "https://dangcongsan.vn/sitemap.xml"


def test_which_monthly_sitemaps_are_read(tmp_path):
    entries = [(f"{MIRROR}/sitemaps/sitemap-2019-0{m}.xml", "") for m in range(1, 7)]
    assert spider(tmp_path).sitemaps_to_read(entries, INDEX) == entries  # a first crawl: all
    backfill = spider(tmp_path, SINCE="2019-04-15")
    assert [loc[-11:-4] for loc, _ in backfill.sitemaps_to_read(entries, INDEX)] == [
        "2019-04", "2019-05", "2019-06",
    ]  # fmt: skip


def incremental_spider(tmp_path, archived: list[str]) -> DangcongsanSpider:
    """A spider over an archive whose earlier run archived these articles (live URLs)."""
    state = CrawlState.open(tmp_path)
    for url in archived:
        state.record_capture(url, Capture(200, datetime.now(UTC), etag='"e"', record_id="<r>"))
        text = tmp_path / "text" / (url.rsplit("/", 1)[-1] + ".txt")
        text.parent.mkdir(parents=True, exist_ok=True)
        text.write_text("x")
        state.record_text(url, "0" * 40, text)
    state.close()
    return spider(tmp_path, REVISIT_POLICY="*:never")


def test_an_old_month_whose_lastmod_differs_is_read_again_whatever_its_date(tmp_path):
    months = [f"{MIRROR}/sitemaps/sitemap-2019-0{m}.xml" for m in range(1, 5)]
    first = [(loc, f"2019-0{n + 1}-28T10:00:00+07:00") for n, loc in enumerate(months)]
    reader = incremental_spider(tmp_path, ["https://dangcongsan.vn/a-b-c-d-post1.html"])
    reader.sitemaps_to_read(first, INDEX)
    for loc, _ in first:  # read once, in an earlier run
        url = reader.site.canonical(loc)
        reader.state.record_capture(url, Capture(200, reader.started_at - timedelta(days=1)))
    # Edits dated years back (a server clock behind ours) and a day ahead: both differ.
    later = [(months[0], "2012-01-01T00:00:00+07:00"), (months[1], "2030-01-01T00:00:00+07:00")]
    later += first[2:]
    reader.recent_sitemaps = 1
    read = [loc[-11:-4] for loc, _ in reader.sitemaps_to_read(later, INDEX)]
    assert sorted(read) == ["2019-01", "2019-02", "2019-04"]  # the newest, and the two changed


def rss(*items: tuple[str, str]) -> XmlResponse:
    body = "".join(f"<item><link>{u}</link><pubDate>{d}</pubDate></item>" for u, d in items)
    xml = f'<?xml version="1.0"?><rss version="2.0"><channel>{body}</channel></rss>'
    return XmlResponse(f"{MIRROR}/rss", body=xml.encode(), encoding="utf-8")


def test_a_feed_date_that_differs_makes_an_archived_article_due(tmp_path):
    url = "https://dangcongsan.vn/a-b-c-d-post1.html"
    reader = incremental_spider(tmp_path, [url])
    reader.started_at = datetime.now(UTC)  # the article was fetched in an earlier run
    date = "Sat, 10 Aug 2019 15:21:00 +0700"
    [request] = list(reader.parse_feed(rss((url, date))))  # first seen: rechecked
    assert request.headers.get("If-None-Match") == b'"e"'
    reader.state.record_capture(url, Capture(304, datetime.now(UTC)))
    again = incremental_spider(tmp_path, [])
    assert list(again.parse_feed(rss((url, date)))) == []  # the same date: not again
    other = incremental_spider(tmp_path, [])
    assert len(list(other.parse_feed(rss((url, "Sat, 10 Aug 2019 09:00:00 +0700"))))) == 1


def test_an_article_that_left_a_list_is_rechecked_when_the_crawl_is_idle(tmp_path):
    gone, moved = (f"https://dangcongsan.vn/thoi-su/bai-so-{n}-30000{n}.html" for n in (1, 2))
    earlier = incremental_spider(tmp_path, [gone, moved])
    earlier.state.record_listing("https://dangcongsan.vn/thoi-su", [gone], page=1)
    earlier.state.record_listing("https://dangcongsan.vn/thoi-su", [moved], page=2)
    reader = spider(tmp_path, REVISIT_POLICY="*:never")
    reader.started_at = datetime.now(UTC)
    for page in (1, 2):  # neither names them now; one from page 2 may be on page 3
        html = '<html><body><a href="/thoi-su/khac-hoan-toan-300009.html">x</a></body></html>'
        url = f"{MIRROR}/thoi-su" + (f"?page={page}" if page > 1 else "")
        request = Request(url, meta={"page": page})
        reader.note_listing(HtmlResponse(url, body=html.encode(), request=request))
    crawled = []
    reader.crawler.engine = SimpleNamespace(crawl=crawled.append)
    with pytest.raises(DontCloseSpider):
        reader.recheck_gone_from_lists()
    assert [r.meta["canonical"] for r in crawled] == [gone]
    assert crawled[0].headers.get("If-None-Match") == b'"e"'  # conditional
    reader.recheck_gone_from_lists()  # once per crawl


def test_sitemap_dates():
    assert parse_lastmod("2019-08-10T15:21:00+07:00") == datetime.fromisoformat(
        "2019-08-10T15:21:00+07:00"
    )
    assert parse_lastmod("not a date") is None
    assert sitemap_month("https://x/sitemaps/sitemap-2019-08.xml.gz", None) == date(2019, 8, 1)


# -- the frontier and redirects --------------------------------------------------------------
OLD = "/thoi-su/ha-noi-va-ha-nam-tang-cuong-hop-tac-465490.html"
NEW = "/ha-noi-va-ha-nam-tang-cuong-hop-tac-post465490.html"
LIVE = "https://dangcongsan.vn"


def archive_one_article(out, path: str = NEW) -> None:
    """A state where an earlier run archived the article at `path` an hour ago."""
    text = out / "text" / "465490.txt"
    text.parent.mkdir(parents=True)
    text.write_text("…")
    now = datetime.now(UTC)
    with CrawlState.open(out) as state:
        capture = Capture(
            200, now - timedelta(hours=1), etag='"v1"', record_id="<urn:uuid:1>",
            target_uri=LIVE + path, warc_date="2026-11-01T00:00:00Z",
        )  # fmt: skip
        state.record_capture(LIVE + path, capture)
        state.record_text(LIVE + path, "sha1", text)
        state.record_dates(LIVE + path, published=now - timedelta(days=400))


def answer(request, status: int, body: bytes = b"", **headers) -> HtmlResponse:
    return HtmlResponse(request.url, status=status, headers=headers, body=body, request=request)


def test_an_old_url_of_an_archived_article_costs_its_redirect_only(tmp_path):
    archive_one_article(tmp_path)
    crawler = spider(tmp_path)
    old = crawler.request(MIRROR + OLD)
    assert crawler.state.is_pending(LIVE + OLD)
    assert list(crawler.parse(answer(old, 301, Location=LIVE + NEW))) == []
    assert list(crawler.state.pending()) == []


def test_an_old_url_of_an_article_due_again_leads_to_a_conditional_request(tmp_path):
    archive_one_article(tmp_path)
    crawler = spider(tmp_path, REVISIT_POLICY="*:always")
    old = crawler.request(MIRROR + OLD)
    [target] = list(crawler.parse(answer(old, 301, Location=LIVE + NEW)))
    assert target.url == MIRROR + NEW and target.headers["If-None-Match"] == b'"v1"'
    assert [p.url for p in crawler.state.pending()] == [LIVE + NEW]


def test_a_move_within_the_same_article_is_followed_at_the_new_address(tmp_path):
    crawler = spider(tmp_path)
    portal = "/xa-hoi/mot-hai-ba-bon-nam-sau.html"
    first = crawler.request(f"{MIRROR}{portal}?categoryId=1")
    [again] = list(crawler.parse(answer(first, 301, Location=f"{portal}?categoryId=2")))
    assert again.url == f"{MIRROR}{portal}?categoryId=2" and again.dont_filter
    assert again.meta["canonical"] == first.meta["canonical"]
    assert crawler.state.is_pending(first.meta["canonical"])


def test_what_a_page_leads_to_enters_the_frontier_as_the_page_leaves_it(tmp_path):
    crawler = spider(tmp_path)
    home = crawler.request(MIRROR + "/")
    links = f'<a href="{NEW}">a</a><a href="/thoi-su">b</a>'.encode()
    outputs = list(crawler.parse(answer(home, 200, b"<html><body>" + links + b"</body></html>")))
    assert {r.url for r in outputs} == {MIRROR + NEW, MIRROR + "/thoi-su"}
    assert {p.url for p in crawler.state.pending()} == {LIVE + NEW, LIVE + "/thoi-su"}


def test_an_article_page_stays_in_the_frontier_until_its_text_is_written(tmp_path):
    crawler = spider(tmp_path, REQUISITES_ENABLED=True)
    article = crawler.request(MIRROR + NEW)
    page = b'<html><body><img src="https://file1.dangcongsan.vn/a.jpg"></body></html>'
    outputs = list(crawler.parse(answer(article, 200, page)))
    assert [type(o).__name__ for o in outputs] == ["ArticlePage", "Request"]
    pending = {p.url: p.kind for p in crawler.state.pending()}
    assert pending == {LIVE + NEW: "article", "https://file1.dangcongsan.vn/a.jpg": "asset"}


@pytest.mark.parametrize("status", [503, 429, 403])
def test_a_fetch_that_failed_stays_in_the_frontier_for_the_next_run(tmp_path, status):
    crawler = spider(tmp_path)
    article = crawler.request(MIRROR + NEW)
    assert list(crawler.parse(answer(article, status))) == []
    assert crawler.state.is_pending(LIVE + NEW)
    for error, still_pending in [(ConnectionRefusedError(), True), (IgnoreRequest(), False)]:
        failure = Failure(error)
        failure.request = article
        crawler.fetch_failed(failure)  # the network failed; robots.txt forbids it
        assert crawler.state.is_pending(LIVE + NEW) is still_pending


def test_a_link_key_stands_for_one_target_whatever_the_page():
    from urllib.parse import urljoin

    from crawler.spiders.dangcongsan import link_key

    bases = ["http://h/a/b?x=1", "http://h?x", "https://h:8080", "http://h/a/", "http://cdn/c/d"]
    links = [
        "http://x/y",
        "/p/../q",
        "/p?x#f",
        "q",
        "../r",
        "//cdn/x",
        "?z",
        "#f",
        "/a",
        "http://h/a",
    ]
    targets: dict[str, str] = {}
    for base in bases:
        for link in links:
            key = link_key(base, link)
            assert targets.setdefault(key, urljoin(base, link)) == urljoin(base, link), key


def test_the_links_met_are_the_most_recent_ones_only():
    from crawler.spiders.dangcongsan import RecentLinks

    recent = RecentLinks(2)
    assert [recent.met(link) for link in ("a", "b", "a", "c", "b", "a")] == [
        False, False, True, False, False, False,
    ]  # fmt: skip


def test_what_a_crawl_decided_is_kept_in_the_state_store_for_that_crawl_only(tmp_path):
    with CrawlState.open(tmp_path) as state:
        assert state.decide("https://dangcongsan.vn/a") is True
        assert state.decide("https://dangcongsan.vn/a") is False
        assert state.decided("https://dangcongsan.vn/a")
    with CrawlState.open(tmp_path) as state:  # the next crawl decides afresh
        assert not state.decided("https://dangcongsan.vn/a")

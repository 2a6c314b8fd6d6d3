"""The spider's decisions that a whole crawl does not isolate: list paging under --since,
which monthly sitemaps a run reads."""

from datetime import date, datetime

from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.spiders.dangcongsan import DangcongsanSpider, parse_lastmod, sitemap_month

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


def test_which_monthly_sitemaps_are_read(tmp_path):
    entries = [(f"{MIRROR}/sitemaps/sitemap-2019-0{m}.xml", None) for m in range(1, 7)]
    assert spider(tmp_path).sitemaps_to_read(entries) == entries  # a first crawl: all
    backfill = spider(tmp_path, SINCE="2019-04-15")
    assert [loc[-11:-4] for loc, _ in backfill.sitemaps_to_read(entries)] == [
        "2019-04", "2019-05", "2019-06",
    ]  # fmt: skip


def test_sitemap_dates():
    assert parse_lastmod("2019-08-10T15:21:00+07:00") == datetime.fromisoformat(
        "2019-08-10T15:21:00+07:00"
    )
    assert parse_lastmod("not a date") is None
    assert sitemap_month("https://x/sitemaps/sitemap-2019-08.xml.gz", None) == date(2019, 8, 1)

"""Retry with backoff and Retry-After; redirects kept on the base URL; canonical fingerprints."""

import asyncio
import email.utils
import inspect
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import (
    BackoffRetryMiddleware,
    CanonicalRequestFingerprinter,
    SiteRedirectMiddleware,
    retry_after_seconds,
)

MIRROR = "http://127.0.0.1:8123"


def test_retry_after_forms():
    assert retry_after_seconds(b"7") == 7.0
    now = 1_700_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def middleware(**settings) -> BackoffRetryMiddleware:
    crawler = get_crawler(
        settings_dict={"RETRY_BACKOFF_BASE": 1.0, "RETRY_BACKOFF_MAX": 10.0, **settings}
    )
    crawler.spider = crawler._create_spider("test")
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_backoff_doubles_and_is_capped():
    mw = middleware()
    waits = [mw.backoff(Request(MIRROR, meta={"retry_times": n})) for n in range(6)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_retry_after_wins_over_backoff_but_is_capped():
    mw = middleware()
    request = Request(MIRROR)
    assert mw.backoff(request, Response(MIRROR, status=503, headers={"Retry-After": "3"})) == 3.0
    assert (
        mw.backoff(request, Response(MIRROR, status=429, headers={"Retry-After": "3600"})) == 10.0
    )


def test_a_503_is_retried_after_waiting(monkeypatch):
    mw = middleware()
    waited = []

    async def fake_wait(seconds):
        waited.append(seconds)

    monkeypatch.setattr(mw, "_wait", fake_wait)
    request = Request(MIRROR + "/x")
    response = Response(request.url, status=503, headers={"Retry-After": "2"}, request=request)
    retry = asyncio.run(mw.process_response(request, response))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert waited == [2.0]
    ok = Response(request.url, status=200, request=request)
    assert asyncio.run(mw.process_response(request, ok)) is ok


def redirect_middleware(tmp_path) -> SiteRedirectMiddleware:
    crawler = get_crawler(settings_dict={"BASE_URL": MIRROR, "OUT_DIR": str(tmp_path)})
    crawler.spider = crawler._create_spider("test")
    return SiteRedirectMiddleware.from_crawler(crawler)


def test_redirect_to_the_live_host_is_fetched_from_the_mirror(tmp_path):
    mw = redirect_middleware(tmp_path)
    request = Request(MIRROR + "/robots.txt")
    response = Response(
        request.url, status=301, headers={"Location": "https://dangcongsan.vn/robots.txt"}
    )
    redirected = mw.process_response(request, response)
    assert redirected.url == f"{MIRROR}/robots.txt"
    assert redirected.meta["archive_url"] == "https://dangcongsan.vn/robots.txt"
    offsite = Response(request.url, status=302, headers={"Location": "https://example.com/"})
    assert mw.process_response(request, offsite).url == "https://example.com/"


def test_the_spider_requests_are_left_to_the_spider(tmp_path):
    mw = redirect_middleware(tmp_path)
    request = Request(MIRROR + "/old-531379.html", meta={"dont_redirect": True})
    response = Response(request.url, status=301, headers={"Location": "/new-post531379.html"})
    assert mw.process_response(request, response) is response


def test_fingerprint_is_the_canonical_url():
    fingerprinter = CanonicalRequestFingerprinter.from_crawler(
        get_crawler(settings_dict={"BASE_URL": MIRROR})
    )
    path = "/thoi-su/toi-pham-533819.html"
    a = fingerprinter.fingerprint(Request(f"{MIRROR}{path}?utm_source=x"))
    b = fingerprinter.fingerprint(Request(f"{MIRROR}{path}"))
    c = fingerprinter.fingerprint(Request(f"{MIRROR}/thoi-su/khac-533820.html"))
    assert a == b != c


@pytest.mark.parametrize("status", [200, 404])
def test_statuses_not_retried_pass_through(status):
    mw = middleware()
    request = Request(MIRROR)
    response = Response(MIRROR, status=status, request=request)
    assert asyncio.run(mw.process_response(request, response)) is response


def test_no_component_overrides_a_private_method_of_scrapy():
    """Private methods change between Scrapy versions without notice: our subclasses of
    Scrapy's components use public hooks only."""
    import importlib
    import inspect
    import pkgutil

    import crawler

    overrides = []
    for module_info in pkgutil.walk_packages(crawler.__path__, "crawler."):
        if module_info.name.startswith("crawler.replica"):
            continue
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue  # imported, not ours
            scrapy_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("scrapy.")]
            for name in vars(cls):
                private = name.startswith("_") and not name.startswith("__") and name != "_abc_impl"
                if private and any(name in vars(base) for base in scrapy_bases):
                    overrides.append(f"{cls.__qualname__}.{name}")
    assert overrides == []


def test_the_declared_scrapy_is_the_one_the_code_needs():
    """`async def start()` is read by Scrapy 2.13 and later only: with an older one the
    spider would start from nothing."""
    import re
    import tomllib
    from importlib.metadata import version

    from crawler.spiders.dangcongsan import DangcongsanSpider

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    declared = next(d for d in project["project"]["dependencies"] if d.startswith("scrapy"))
    assert re.fullmatch(r"scrapy>=2\.(1[3-9]|[2-9]\d)(\.\d+)?", declared.replace(" ", ""))
    installed = tuple(int(part) for part in version("scrapy").split(".")[:2])
    assert installed >= (2, 13)
    assert inspect.isasyncgenfunction(DangcongsanSpider.start)


def test_the_crawl_stats_count_as_scrapys_and_take_the_spider_argument_they_ignore():
    from scrapy.statscollectors import MemoryStatsCollector

    from crawler.stats import CrawlStats

    crawler = get_crawler()
    ours, scrapys = CrawlStats(crawler), MemoryStatsCollector(crawler)
    for stats in (ours, scrapys):
        stats.inc_value("requests")
        stats.inc_value("requests", 2, spider=None)
        stats.max_value("largest", 5)
        stats.max_value("largest", 3)
        stats.min_value("smallest", 5)
        stats.set_value("reason", "finished")
    counted = {"requests": 3, "largest": 5, "smallest": 5, "reason": "finished"}
    assert ours.get_stats() == scrapys.get_stats() == counted

"""Downloader components that make the crawl polite and keep it on the site."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import time

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet import task

from crawler.site import Site, Sites

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry middleware, but it waits before each retry instead of retrying at once.

    The wait is the server's Retry-After when it sends one (429, 503), else an exponential
    backoff (RETRY_BACKOFF_BASE doubled at each retry), capped at RETRY_BACKOFF_MAX. Retries
    of one request never come faster than that, so a struggling server sees no retry storm.
    """

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)

    def backoff(self, request: Request, response: Response | None = None) -> float:
        delay = self.backoff_base * 2 ** request.meta.get("retry_times", 0)
        if response is not None:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                delay = retry_after
        return min(delay, self.backoff_max)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            from twisted.internet import reactor  # the one Scrapy installed, not a default

            await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))

    def retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        """The retry of a request, or None once its retries are spent: Scrapy's public
        ``get_retry_request`` with this middleware's settings (per-request meta first)."""
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
        )

    async def process_response(self, request: Request, response: Response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self.retry_request(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = self.backoff(request, response)
        self.crawler.stats.inc_value("dcs/retry/wait_seconds", delay)
        await self._wait(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        if request.meta.get("dont_retry", False) or not isinstance(
            exception, self.exceptions_to_retry
        ):
            return None
        retry = self.retry_request(request, exception)
        if retry is not None:
            await self._wait(self.backoff(request))
        return retry


class SiteRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirect middleware, but a Location on the site's own hosts is fetched from the
    base URL (the site answers old URLs with a redirect to its canonical host; against a
    mirror that must be the mirror).

    The spider's own requests never come here (they carry ``dont_redirect``): the spider
    follows their redirects as links, checked against the state (DangcongsanSpider.parse).
    What is left are the requests Scrapy makes itself, such as robots.txt. It runs after the
    WARC middleware has recorded the response, so the archive keeps the Location as sent.
    """

    def __init__(self, settings, site: Site) -> None:
        super().__init__(settings)
        self.site = site

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteRedirectMiddleware:
        middleware = cls(crawler.settings, Sites.from_settings(crawler.settings))
        middleware.crawler = crawler
        return middleware

    def process_response(self, request: Request, response: Response, spider=None):
        if request.meta.get("dont_redirect"):
            return response
        location = response.headers.get("Location")
        linked = None
        if location and 300 <= response.status < 400:
            linked = response.urljoin(location.decode("latin-1"))
            mapped = self.site.fetch_url(linked)
            if mapped is not None:
                headers = response.headers.copy()
                headers["Location"] = mapped
                response = response.replace(headers=headers)
        result = super().process_response(request, response)
        if isinstance(result, Request):
            result.meta["archive_url"] = self.site.archive_url(result.url, linked)
        return result


class CanonicalRequestFingerprinter:
    """Fingerprints requests by method and canonical URL (see Site.canonical), so that one
    article is fetched once per crawl whichever way it was linked."""

    def __init__(self, site: Site) -> None:
        self.site = site

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CanonicalRequestFingerprinter:
        return cls(Sites.from_settings(crawler.settings))

    def fingerprint(self, request: Request) -> bytes:
        canonical = request.meta.get("canonical") or self.site.canonical(request.url)
        return hashlib.sha1(f"{request.method} {canonical}".encode()).digest()


class MirrorProxyMiddleware:
    """Against a mirror, the other sites of dangcongsan.vn (documents, editions) are asked
    of the mirror by their own names, as of an HTTP proxy: one mirror serves every host, and
    each host keeps its own robots.txt, download slot and URLs (crawler.site.Sites.proxies).
    Not enabled on the live site, nor when a crawl covers the newspaper alone."""

    def __init__(self, proxies: dict[str, str]) -> None:
        self.proxies = proxies

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MirrorProxyMiddleware:
        proxies = Sites.from_settings(crawler.settings).proxies()
        if not proxies:
            raise NotConfigured
        return cls(proxies)

    def process_request(self, request: Request, spider=None) -> None:
        proxy = self.proxies.get(urlparse_cached(request).hostname or "")
        if proxy and "proxy" not in request.meta:
            request.meta["proxy"] = proxy

"""Takedowns: an archived article the site no longer serves is recorded as removed, never lost.

The site takes an article down by answering 404 or 410, or by redirecting it to the home page
or to a list. The archive keeps every capture and text of it as they are; the state store
records when it was first seen gone (``CrawlState.takedowns()``) and the crawl report lists
it. An article that answers again (200, or a 304 to a conditional request) is recorded
``restored``. A redirect to another article is a move, not a takedown.

``TakedownMiddleware`` is a downloader middleware placed between the redirect middleware and
the WARC middleware, so it sees every answer as the server sent it, redirects included.
"""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from crawler.site import Kind, Site, Sites
from crawler.state import REMOVED, RESTORED, CrawlState

GONE_STATUSES = (404, 410)
# Where a site sends a story it took down: a page listing stories, not another story.
GONE_REDIRECT_KINDS = (Kind.HOME, Kind.LIST, Kind.TAG)


def verdict(site: Site | Sites, url: str, status: int, location: str | None = None) -> str | None:
    """What an answer for an archived article says about it: REMOVED, RESTORED (present),
    or None (it says nothing: a server error, a move to another URL)."""
    if status in GONE_STATUSES:
        return REMOVED
    if 300 <= status < 400 and location:
        target = site.classify(urljoin(url, location))
        return REMOVED if target in GONE_REDIRECT_KINDS else None
    if status in (200, 304):
        return RESTORED
    return None


class TakedownMiddleware:
    """Tells the state store about articles found gone or back (see the module docstring)."""

    def __init__(self, crawler: Crawler, site: Site | Sites, state: CrawlState) -> None:
        self.crawler = crawler
        self.site = site
        self.state = state

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TakedownMiddleware:
        return cls(crawler, Sites.from_settings(crawler.settings), CrawlState.for_crawler(crawler))

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if request.meta.get("kind") != Kind.ARTICLE.value:
            return response
        canonical = request.meta.get("canonical") or self.site.canonical(request.url)
        if self.site.classify(request.url) is not Kind.ARTICLE or not self.state.is_archived(
            canonical
        ):
            return response  # a redirect hop to a list, or a story never archived: no takedown
        location = response.headers.get("Location")
        location_text = location.decode("latin-1") if location else None
        found = verdict(self.site, request.url, response.status, location_text)
        if found == REMOVED:
            target = self.archived_location(request.url, location_text)
            if self.state.record_removed(canonical, response.status, target):
                self.crawler.stats.inc_value("dcs/takedowns/removed")
        elif found == RESTORED and self.state.record_present(canonical, response.status):
            self.crawler.stats.inc_value("dcs/takedowns/restored")
        return response

    def archived_location(self, url: str, location: str | None) -> str | None:
        """A redirect target as the archive names it (a mirror's URL as the live one)."""
        if not location:
            return None
        absolute = urljoin(url, location)
        fetch_url = self.site.fetch_url(absolute)
        return self.site.archive_url(fetch_url) if fetch_url else absolute

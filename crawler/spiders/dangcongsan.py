"""The dangcongsan spider: finds articles through the home page, category lists, sitemaps and
feeds, fetches each once, and hands its HTML to the text pipeline.

What it decides is *what to fetch*: which URL is which (crawler.site), what an earlier run
already archived (crawler.state), how deep to page a list. Recording the exchanges is the
WARC middleware's job, writing text the pipeline's.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap

from crawler.pipelines import ArticlePage
from crawler.site import Kind, Site
from crawler.state import CrawlState, RevisitPolicy

VIETNAM = timezone(timedelta(hours=7))
LIST_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")
MONTH_IN_URL = re.compile(r"(\d{4})-(\d{2})")

# Where discovery starts; the category lists are found in the home page's menu.
START_PATHS = ("/", "/sitemap.xml", "/rss")
# Requests of one page's requisites go first so that a replayed page is whole early on;
# articles before lists so that a crawl stopped early has archived what it found.
PRIORITY = {Kind.ASSET: 30, Kind.ARTICLE: 20, Kind.FEED: 10, Kind.SITEMAP: 10}


class DangcongsanSpider(scrapy.Spider):
    name = "dangcongsan"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.site = Site(settings.get("BASE_URL"))
        spider.state = CrawlState.for_crawler(crawler)
        spider.full = settings.getbool("FULL_CRAWL")
        spider.incremental = not spider.full and spider.state.has_history()
        spider.max_articles = settings.getint("MAX_ARTICLES")
        since = settings.get("SINCE") or None
        spider.since = date.fromisoformat(since) if since else None
        spider.requisites = settings.getbool("REQUISITES_ENABLED")
        spider.tag_max_pages = settings.getint("TAG_MAX_PAGES")
        spider.list_max_pages = settings.getint("LIST_MAX_PAGES")
        spider.recent_sitemaps = settings.getint("INCREMENTAL_SITEMAP_CHILDREN")
        spider.revisit_policy = RevisitPolicy.parse(settings.get("REVISIT_POLICY"))
        spider.seen_articles: set[str] = set()
        spider.seen_pages: set[str] = set()
        spider.articles_requested = 0
        # Scrapy's offsite filter catches redirects away from the site; links never leave it.
        spider.allowed_domains = spider.site.fetch_hosts()
        return spider

    # -- where the crawl starts ---------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        # Articles found but not archived when an earlier run stopped (a crash, SIGKILL).
        # By canonical URL, mapped onto this run's base URL (a mirror may have moved).
        if not self.full:
            for entry in self.state.pending():
                request = self.request(entry.url)
                if request is not None:
                    yield request
        # Known articles the revisit policy says to recheck, whether or not a page links them.
        if self.incremental:
            now = datetime.now(VIETNAM)
            for _, last_url in self.state.articles_due(now, self.revisit_policy):
                request = self.request(last_url)
                if request is not None:
                    yield request
        for path in START_PATHS:
            request = self.request(self.site.base_url + path)
            if request is not None:
                yield request

    # -- building requests --------------------------------------------------------------
    def request(self, url: str) -> scrapy.Request | None:
        """A request for any page of the site, routed to the callback of its kind."""
        fetch_url = self.site.fetch_url(url)
        if fetch_url is None:
            return None
        kind = self.site.classify(fetch_url)
        if kind is Kind.ARTICLE:
            return self.article_request(fetch_url)
        if not self.first_sight(fetch_url):
            return None
        if kind in (Kind.LIST, Kind.TAG):
            return self.list_request(fetch_url, page=1)
        callbacks = {
            Kind.HOME: self.parse_page,
            Kind.OTHER: self.parse_page,
            Kind.FEED: self.parse_feed,
            Kind.SITEMAP: self.parse_sitemap,
        }
        if kind not in callbacks:  # assets come only as requisites; search and offsite never
            return None
        return scrapy.Request(
            fetch_url,
            callback=callbacks[kind],
            priority=PRIORITY.get(kind, 0),
            **self.revalidation(fetch_url, kind),
        )

    def revalidation(self, url: str, kind: Kind) -> dict:
        """Request arguments that let an unchanged page come back as a bodiless 304 on an
        incremental run: nothing new behind it, and the archive gets a small revisit record."""
        meta = {"kind": kind.value, "handle_httpstatus_list": [304]}
        if not self.incremental:
            return {"meta": meta}
        return {"meta": meta, "headers": self.state.conditional_headers(self.site.canonical(url))}

    def article_request(self, url: str, lastmod: datetime | None = None) -> scrapy.Request | None:
        canonical = self.site.canonical(url)
        if canonical in self.seen_articles:
            return None
        headers = {}
        if self.incremental and self.state.is_archived(canonical):
            if lastmod is not None:
                self.state.note_lastmod(canonical, lastmod)
            # Not marked seen: a later link (a sitemap entry with a newer lastmod) may make it due.
            if not self.state.due_for_revisit(
                canonical, datetime.now(VIETNAM), self.revisit_policy
            ):
                return None
            headers = self.state.conditional_headers(canonical)
        if self.max_articles and self.articles_requested >= self.max_articles:
            return None
        self.seen_articles.add(canonical)
        self.articles_requested += 1
        self.state.enqueue(canonical, url, Kind.ARTICLE.value)  # kept if already pending
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            headers=headers,
            priority=PRIORITY[Kind.ARTICLE],
            meta={
                "kind": Kind.ARTICLE.value,
                "canonical": canonical,
                "handle_httpstatus_list": [304],
            },
        )

    def list_request(self, url: str, page: int) -> scrapy.Request | None:
        kind = self.site.classify(url)
        max_pages = self.tag_max_pages if kind is Kind.TAG else self.list_max_pages
        if max_pages and page > max_pages:
            return None
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"]
        if page > 1:
            query.append(("page", str(page)))
        page_url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
        arguments = self.revalidation(page_url, kind)
        arguments["meta"]["page"] = page
        return scrapy.Request(page_url, callback=self.parse_list, **arguments)

    def requisite_requests(self, response: Response) -> Iterator[scrapy.Request]:
        """Images (lazy ones by data-src), style sheets and scripts of an article page."""
        links = response.xpath(
            "//img/@src | //img/@data-src | //img/@data-original | //source/@srcset"
            " | //link[contains(@rel, 'stylesheet') or contains(@rel, 'icon')]/@href"
            " | //script/@src"
        ).getall()
        yield from self.asset_requests(response, links)

    def asset_requests(self, response: Response, links: list[str]) -> Iterator[scrapy.Request]:
        for link in links:
            link = link.strip().split(" ")[0]
            if not link or link.startswith("data:"):
                continue
            # Relative to where the page stands for (a style sheet of the CDN names its
            # images on the CDN), not to the mirror it was fetched from.
            linked = urljoin(response.meta.get("archive_url") or response.url, link)
            url = self.site.fetch_url(linked)
            if url is not None and self.first_sight(url) and self.needs_fetch(url):
                yield scrapy.Request(
                    url,
                    callback=self.parse_asset,
                    priority=PRIORITY[Kind.ASSET],
                    # From a mirror, an image is archived under its CDN's URL, as linked.
                    meta={
                        "kind": Kind.ASSET.value,
                        "archive_url": self.site.archive_url(url, linked),
                    },
                )

    def first_sight(self, url: str) -> bool:
        """Whether this page or asset comes up for the first time in this crawl. Every page
        links the same menus, sidebars, style sheets and scripts: settle those here rather
        than ask the state or build thousands of requests for Scrapy's duplicate filter."""
        canonical = self.site.canonical(url)
        if canonical in self.seen_pages:
            return False
        self.seen_pages.add(canonical)
        return True

    def needs_fetch(self, url: str) -> bool:
        """Whether an incremental run must fetch this (an image archived once never is)."""
        if not self.incremental:
            return True
        canonical = self.site.canonical(url)
        return self.state.due_for_revisit(canonical, datetime.now(VIETNAM), self.revisit_policy)

    def follow_links(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.xpath("//a/@href").getall():
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "#")):
                request = self.request(response.urljoin(href))
                if request is not None:
                    yield request

    # -- callbacks ----------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 200 and hasattr(response, "xpath"):
            yield from self.follow_links(response)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        """A list page: follow its articles; page on while it brings articles we lack."""
        if response.status != 200 or not hasattr(response, "xpath"):
            return  # a 304: the page has not changed since the last run, nothing new behind it
        before = self.articles_requested
        yield from self.follow_links(response)
        brought_new = self.articles_requested > before
        if brought_new and not self.older_than_since(response):
            request = self.list_request(response.url, response.meta.get("page", 1) + 1)
            if request is not None:
                yield request

    def older_than_since(self, response: Response) -> bool:
        """Whether every dated item of a list page is older than --since."""
        if self.since is None:
            return False
        items = (
            response.css("div.w-list, .list-news, main").xpath("string()").get() or response.text
        )
        days = []
        for day, month, year in LIST_DATE.findall(items):
            try:
                days.append(date(int(year), int(month), int(day)))
            except ValueError:
                continue
        return bool(days) and max(days) < self.since

    def parse_article(self, response: Response) -> Iterator:
        self.state.done(response.meta["canonical"])
        if response.status != 200 or not hasattr(response, "xpath"):
            return
        warc = response.meta.get("warc")
        yield ArticlePage(
            url=response.url,
            canonical=response.meta["canonical"],
            fetched_at=fetched_at(warc),
            html=response.body,
            warc=warc,
        )
        if self.requisites:
            yield from self.requisite_requests(response)
        yield from self.follow_links(response)

    def article_failed(self, failure) -> None:
        request = failure.request
        self.state.done(request.meta["canonical"])

    def parse_asset(self, response: Response) -> Iterator[scrapy.Request]:
        """A style sheet's own requisites: the images and fonts its url(...) name."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        if response.status != 200 or "css" not in content_type:
            return
        links = CSS_URL.findall(response.text)
        yield from self.asset_requests(response, links)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status != 200:
            return
        body = response.body.lstrip()
        if not body.startswith(b"<?xml") and b"<rss" not in body[:500]:
            yield from self.parse_page(response)  # an HTML page listing the feeds
            return
        selector = scrapy.Selector(text=response.text, type="xml")
        selector.remove_namespaces()
        for link in selector.xpath("//item/link/text() | //entry/link/@href").getall():
            request = self.request(link.strip())
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status != 200:
            return
        body = response.body
        if gzip_magic_number(response):
            body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            sitemap = Sitemap(body)
        except Exception:  # not XML: archived as fetched, nothing to follow
            self.logger.warning("not a sitemap: %s", response.url)
            return
        entries = [
            (e["loc"].strip(), parse_lastmod(e.get("lastmod"))) for e in sitemap if "loc" in e
        ]
        if sitemap.type == "sitemapindex":
            for loc, _ in self.sitemaps_to_read(entries):
                request = self.request(loc)
                if request is not None:
                    yield request
            return
        for loc, lastmod in entries:
            url = self.site.fetch_url(loc)
            if url is None or self.site.classify(url) is not Kind.ARTICLE:
                continue
            if self.since and lastmod and lastmod.date() < self.since:
                continue
            request = self.article_request(url, lastmod=lastmod)
            if request is not None:
                yield request

    def sitemaps_to_read(self, entries: list[tuple[str, datetime | None]]):
        """Child sitemaps worth reading: all on a first crawl or a backfill (--since limits
        it to months not older than that day), the newest few on an incremental run."""
        if self.since:
            return [
                (loc, lastmod)
                for loc, lastmod in entries
                if sitemap_month(loc, lastmod) >= self.since.replace(day=1)
            ]
        if not self.incremental:
            return entries
        newest = sorted(entries, key=lambda e: sitemap_month(*e), reverse=True)
        recent = newest[: self.recent_sitemaps]
        return recent + [e for e in newest[self.recent_sitemaps :] if self.changed_since_read(*e)]

    def changed_since_read(self, loc: str, lastmod: datetime | None) -> bool:
        """Whether a child sitemap's lastmod is newer than our last read of it (an old
        month changes when one of its articles is edited)."""
        url = self.site.fetch_url(loc)
        if url is None or lastmod is None:
            return False
        return self.state.changed_since_capture(self.site.canonical(url), lastmod)


def fetched_at(warc: dict | None) -> datetime:
    """When the page was fetched: the WARC-Date of its record, else now."""
    if warc and warc.get("date"):
        return datetime.fromisoformat(warc["date"].replace("Z", "+00:00"))
    return datetime.now(UTC)


def parse_lastmod(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)


def sitemap_month(loc: str, lastmod: datetime | None) -> date:
    """The month a child sitemap covers: from its name (sitemap-2019-08.xml), else lastmod."""
    match = MONTH_IN_URL.search(urlsplit(loc).path)
    if match:
        return date(int(match.group(1)), int(match.group(2)), 1)
    return lastmod.date().replace(day=1) if lastmod else date.min

"""The dangcongsan spider: finds articles through the home page, category lists, sitemaps and
feeds, fetches each once, and hands its HTML to the text pipeline.

What it decides is *what to fetch*: which URL is which (crawler.site), what an earlier run
already archived (crawler.state), how deep to page a list. Recording the exchanges is the
WARC middleware's job, writing text the pipeline's.

Every request is entered in the durable frontier (crawler.state) before it is made, and
leaves it once its answer is settled and what the answer led to (links, page requisites, an
article's text) is in the frontier or the archive in turn. A crawl stopped at any moment
(SIGTERM, SIGKILL, a full disk) is finished by the next run, which fetches exactly what is
missing; a fetch that failed past its retries stays in the frontier for the next run too.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.response import get_base_url
from twisted.python.failure import Failure

from crawler.bodies import unreadable
from crawler.crawl import check_scrapy_version
from crawler.errors import ArchiveWriteError
from crawler.extensions import report_entry
from crawler.extract.html import charset_of
from crawler.failstop import stop_crawl
from crawler.pipelines import extraction_failed
from crawler.site import Kind, Sites
from crawler.sitemaps import read_sitemap
from crawler.spool import SPOOL, SpooledResponse
from crawler.state import CrawlState, Pending, RevisitPolicy, settled
from crawler.textwork import ArticlePage, FilePage

VIETNAM = timezone(timedelta(hours=7))
LIST_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")
MONTH_IN_URL = re.compile(r"(\d{4})-(\d{2})")
ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")  # scheme://host:port of a URL

# Requests of one page's requisites go first so that a replayed page is whole early on;
# articles before lists so that a crawl stopped early has archived what it found.
PRIORITY = {Kind.ASSET: 30, Kind.FILE: 25, Kind.ARTICLE: 20, Kind.FEED: 10, Kind.SITEMAP: 10}
# Pages crawled for their links (articles, lists and assets have requests of their own).
PAGE_KINDS = frozenset({Kind.HOME, Kind.OTHER, Kind.FEED, Kind.SITEMAP})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What an article page needs to look as it did: images (lazy ones too), styles, scripts.
REQUISITES = (
    "//img/@src | //img/@data-src | //img/@data-original | //source/@srcset"
    " | //link[contains(@rel, 'stylesheet') or contains(@rel, 'icon')]/@href | //script/@src"
)
LINKS_MET = 8192  # links remembered as met (see RecentLinks)


class RecentLinks:
    """The links a crawl met most recently, at most ``size`` of them: a link met again is
    skipped, since what it leads to was decided the first time (the decisions themselves
    live in the state store, crawler.state.decide). Pages share their menus, style sheets
    and scripts, which stay among the recent ones."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.links: OrderedDict[str, None] = OrderedDict()

    def met(self, link: str) -> bool:
        """Whether the link was met lately; it is remembered as met from now on."""
        if link in self.links:
            self.links.move_to_end(link)
            return True
        self.links[link] = None
        if len(self.links) > self.size:
            self.links.popitem(last=False)
        return False


class DangcongsanSpider(scrapy.Spider):
    name = "dangcongsan"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        check_scrapy_version()  # `scrapy crawl` as well as `dcs crawl`
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # The sites this crawl covers (SITES): each URL handled by its own host's rules.
        spider.site = Sites.from_settings(settings)
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
        spider.max_redirects = settings.getint("REDIRECT_MAX_TIMES")
        spider.read_maxsize = settings.getint("READ_MAXSIZE")
        spider.links_max = settings.getint("LINKS_MAX_PER_PAGE")
        spider.sitemap_limits = {
            name: settings.getint(name) for name in ("SITEMAP_MAXSIZE", "SITEMAP_MAX_ENTRIES")
        }
        spider.requisite_maxsize = settings.getint("REQUISITE_MAXSIZE")
        spider.file_maxsize = settings.getint("FILE_MAXSIZE")
        # Links met in this crawl (absolute URLs), the most recent ones: every page links the
        # same menus, style sheets and scripts, and what one leads to was decided the first
        # time (the canonical URLs decided live in the state store, crawler.state.decide).
        spider.links_met = RecentLinks(LINKS_MET)
        spider.requisites_met = RecentLinks(LINKS_MET)
        spider.articles_requested = 0
        # When this crawl began (our clock): what it saw since is this crawl's view of the site.
        spider.started_at = datetime.now(UTC)
        spider.list_pages_read: dict[str, int] = {}  # list -> deepest page read (200)
        spider.rechecked_lists = False
        crawler.signals.connect(spider.recheck_gone_from_lists, signal=signals.spider_idle)
        # Scrapy's offsite filter catches redirects away from the site; links never leave it.
        spider.allowed_domains = spider.site.fetch_hosts()
        return spider

    # -- where the crawl starts ---------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        try:
            for request in self.first_requests():
                yield request
        except ArchiveWriteError as exc:  # Scrapy would log it and crawl on without them
            stop_crawl(self.crawler, exc)

    def first_requests(self) -> Iterator[scrapy.Request]:
        # What earlier runs left in the frontier (stopped by SIGTERM, SIGKILL, a full disk; a
        # fetch that failed). By canonical URL, mapped onto this run's base URL.
        for entry in self.state.pending():
            request = self.resume(entry)
            if request is not None:
                yield request
        # Known articles the revisit policy says to recheck, whether or not a page links them.
        if self.incremental:
            now = datetime.now(VIETNAM)
            for _, last_url in self.state.articles_due(now, self.revisit_policy):
                request = self.request(last_url)
                if request is not None:
                    yield request
        # Where discovery starts (each site's profile): the lists are found in the menus.
        for url in self.site.start_urls():
            request = self.request(url)
            if request is not None:
                yield request

    def resume(self, entry: Pending) -> scrapy.Request | None:
        """The request for a frontier entry an earlier run left, decided again as if found
        now (an article archived since is not fetched); a list page keeps its number. A
        requisite is always wanted: it entered the frontier only when it was (a run stopped
        after fetching it gets it back from the WARC files, crawler.warc.resume)."""
        url = self.site.fetch_url(entry.url)
        if url is None:
            return None
        if entry.kind == Kind.ASSET.value:
            return self.asset_request(url, linked=entry.url, pending=True)
        if entry.kind in (Kind.LIST.value, Kind.TAG.value):
            return self.list_request(url, page=list_page(url, self.site.first_page_of(url)))
        return self.request(url)

    def pending_request(self, entry: Pending) -> scrapy.Request | None:
        """The request for a frontier entry another node of a cluster held and lost (it
        died): made again as that node made it, without deciding again (it was decided)."""
        url = self.site.fetch_url(entry.url)
        if url is None:
            return None
        kind = Kind(entry.kind)
        meta, headers = {}, self.revalidation(entry.url)
        if kind is Kind.ASSET:
            archive_url = self.site.archive_url(url, entry.url)
            meta = {"archive_url": archive_url, "download_maxsize": self.requisite_maxsize}
            headers = {}
        elif kind in (Kind.LIST, Kind.TAG):
            meta = {"page": list_page(url, self.site.first_page_of(url))}
        elif kind is Kind.ARTICLE and not self.state.is_archived(entry.url):
            # Fetched, perhaps, but its text never written: a 304 would bring no text.
            headers = {}
        request = self.fetch(url, kind, entry.url, headers=headers, **meta)
        return request.replace(dont_filter=True)  # its fingerprint is in the filter already

    # -- building requests --------------------------------------------------------------
    def request(self, url: str, found_on: Response | None = None) -> scrapy.Request | None:
        """A request for a link to any page of the site, by the kind of page it is."""
        fetch_url = self.site.fetch_url(url)
        if fetch_url is None:
            return None
        kind = self.site.classify(fetch_url)
        if kind is Kind.ARTICLE:
            return self.article_request(fetch_url)
        if kind in (Kind.LIST, Kind.TAG):
            return self.list_request(fetch_url, page=self.site.first_page_of(fetch_url))
        if kind is Kind.FILE:
            return self.file_request(fetch_url, found_on)
        if kind not in PAGE_KINDS:  # assets come only as requisites; search and offsite never
            return None
        canonical = self.site.canonical(fetch_url)
        if not self.state.decide(canonical):
            return None
        return self.fetch(fetch_url, kind, canonical, headers=self.revalidation(canonical))

    def fetch(
        self, url: str, kind: Kind, canonical: str, headers: dict | None = None, **meta
    ) -> scrapy.Request:
        """The request for a URL this crawl fetches, entered in the frontier first."""
        priority = PRIORITY.get(kind, 0)
        self.state.enqueue(canonical, url, kind, priority)
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.fetch_failed,
            headers=headers,
            priority=priority,
            meta={
                "kind": kind.value,
                "canonical": canonical,
                # Redirects and errors come to parse() too: it settles the frontier.
                "dont_redirect": True,
                "handle_httpstatus_all": True,
                **meta,
            },
        )

    def revalidation(self, canonical: str) -> dict[str, str]:
        """Headers that let an unchanged page come back as a bodiless 304 on an incremental
        run: nothing new behind it, and the archive gets a small revisit record."""
        return self.state.conditional_headers(canonical) if self.incremental else {}

    def article_request(self, url: str, *, recheck: bool = False) -> scrapy.Request | None:
        """A request for an article not fetched yet in this crawl, if it needs one.

        An archived article is fetched again (conditionally) when a sitemap or feed dates it
        otherwise than at its last fetch (``note_dates``), when the revisit policy says so,
        when it was found removed, or to ``recheck`` it (it left the month or list it was in).
        """
        canonical = self.site.canonical(url)
        if self.state.decided(canonical):
            return None
        headers = {}
        if self.incremental and self.state.is_archived(canonical):
            # Not decided: a later link (a sitemap entry with another lastmod) may make it due.
            due = (
                recheck
                or self.state.is_removed(canonical)
                or self.state.due_for_revisit(canonical, datetime.now(VIETNAM), self.revisit_policy)
            )
            if not due:
                self.state.done(canonical)  # left pending by a run stopped after its text
                return None
            headers = self.state.conditional_headers(canonical)
        self.state.decide(canonical)
        if self.max_articles and self.articles_requested >= self.max_articles:
            # Found, not fetched: the next run fetches it.
            self.state.enqueue(canonical, url, Kind.ARTICLE, PRIORITY[Kind.ARTICLE])
            return None
        self.articles_requested += 1
        return self.fetch(url, Kind.ARTICLE, canonical, headers=headers)

    def list_request(self, url: str, page: int) -> scrapy.Request | None:
        kind = self.site.classify(url)
        max_pages = self.tag_max_pages if kind is Kind.TAG else self.list_max_pages
        if max_pages and page > max_pages:
            return None
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"]
        if page > self.site.first_page_of(url):
            query.append(("page", str(page)))
        page_url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
        canonical = self.site.canonical(page_url)
        if not self.state.decide(canonical):
            return None
        return self.fetch(
            page_url, kind, canonical, headers=self.revalidation(canonical), page=page
        )

    def asset_request(
        self, url: str, linked: str, *, pending: bool = False
    ) -> scrapy.Request | None:
        """A page requisite. From a mirror it is archived under the URL it stands for, as
        linked (an image under its CDN's name); once archived it is never fetched again,
        unless it is still ``pending`` in the frontier (see resume)."""
        archive_url = self.site.archive_url(url, linked)
        canonical = self.site.canonical(archive_url)
        if not self.state.decide(canonical):
            return None
        if (
            not pending
            and self.incremental
            and not self.state.due_for_revisit(
                canonical, datetime.now(VIETNAM), self.revisit_policy
            )
        ):
            self.state.done(canonical)  # left pending by a run stopped after fetching it
            return None
        return self.fetch(
            url,
            Kind.ASSET,
            canonical,
            archive_url=archive_url,
            download_maxsize=self.requisite_maxsize,
        )

    def file_request(self, url: str, found_on: Response | None) -> scrapy.Request | None:
        """An attached file (a document's PDF): fetched once, up to FILE_MAXSIZE, and its
        text written beside the text of the document page that links it (``document``)."""
        canonical = self.site.canonical(url)
        if not self.state.decide(canonical):
            return None
        archived = self.state.last_capture(canonical) if self.incremental else None
        if archived is not None and archived.status == 200:
            self.state.done(canonical)  # a file's URL names one file: never fetched again
            return None
        document = None
        if found_on is not None and found_on.meta.get("kind") == Kind.ARTICLE.value:
            document = found_on.meta["canonical"]
        # Written to disk as it arrives (crawler.spool), and asked for as stored: a body
        # never in memory is never decoded (a PDF is compressed inside already).
        return self.fetch(
            url,
            Kind.FILE,
            canonical,
            headers={"Accept-Encoding": "identity"},
            download_maxsize=self.file_maxsize,
            document=document,
            **{SPOOL: True},
        )

    def requisite_requests(self, response: Response) -> Iterator[scrapy.Request]:
        """Images (lazy ones by data-src), style sheets and scripts of an article page."""
        yield from self.asset_requests(response, self.page_links(response, REQUISITES))

    def page_links(self, response: Response, xpath: str) -> list[str]:
        """What the XPath finds in the page, the first LINKS_MAX_PER_PAGE of it: a page with
        a hundred thousand links must not become a hundred thousand requests."""
        links = attributes(response, xpath)
        if self.links_max and len(links) > self.links_max:
            what = f"{len(links)} links, the first {self.links_max} followed"
            self.ceiling_hit(response, "LINKS_MAX_PER_PAGE", self.links_max, what)
            del links[self.links_max :]
        return links

    def ceiling_hit(self, response: Response, ceiling: str, limit: int, what: str) -> None:
        self.logger.warning("%s: %s over %s", response.url, what, ceiling)
        stats = self.crawler.stats
        report_entry(stats, "ceilings", url=response.url, ceiling=ceiling, limit=limit, what=what)

    def readable(self, response: Response, *, streamed: bool = False) -> bool:
        """Whether the spider may parse this response: a 200 whose body is whole, decodes,
        and (unless it is `streamed`) is no larger than READ_MAXSIZE. An archived article
        that may not be read is an extraction failure of the crawl report, and so is any
        other page."""
        if response.status != 200:
            return False  # a 304: nothing new behind it; an error: counted by status
        reason = unreadable(response)
        size = len(response.body)
        if reason is None and not streamed and self.read_maxsize and size > self.read_maxsize:
            reason = f"body of {size} bytes over READ_MAXSIZE ({self.read_maxsize} bytes)"
            self.ceiling_hit(response, "READ_MAXSIZE", self.read_maxsize, f"{size} bytes, not read")
        if reason is None and not streamed and not hasattr(response, "xpath"):
            content_type = response.headers.get("Content-Type", b"").decode("latin-1")
            reason = f"not text (Content-Type {content_type or 'missing'})"
        if reason is None:
            return True
        self.could_not_read(response, f"not read: {reason}")
        return False

    def could_not_read(self, response: Response, reason: str) -> None:
        article = response.meta.get("kind") == Kind.ARTICLE.value
        extraction_failed(self.crawler.stats, response.url, reason, article=article)

    def asset_requests(self, response: Response, links: list[str]) -> Iterator[scrapy.Request]:
        base = response.meta.get("archive_url") or response.url  # see linked_from
        for link in links:
            link = link.strip().split(" ")[0]
            if not link or link.startswith("data:"):
                continue
            if self.requisites_met.met(link_key(base, link)):
                continue
            linked = urljoin(base, link)
            url = self.site.fetch_url(linked)
            request = None if url is None else self.asset_request(url, linked)
            if request is not None:
                yield request

    def follow_links(self, response: Response) -> Iterator[scrapy.Request]:
        base = get_base_url(response)  # what response.urljoin joins to
        for href in self.page_links(response, "//a/@href"):
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "#")):
                if self.links_met.met(link_key(base, href)):
                    continue
                request = self.request(urljoin(base, href), found_on=response)
                if request is not None:
                    yield request

    # -- callbacks ----------------------------------------------------------------------
    def parse(self, response: Response, **kwargs) -> Iterator:
        """Every answer comes here first: a redirect is followed as a link, anything else goes
        to the callback of its kind. What the answer leads to enters the frontier, and the URL
        leaves it if its answer is settled, in one transaction. Not yet settled: an article
        page, until its text is written (see ArticleTextPipeline); a page that moved within
        itself, until it is fetched from there."""
        canonical = response.meta["canonical"]
        if response.status in REDIRECTS and "Location" in response.headers:
            outputs = self.follow_redirect(response)
        else:
            outputs = self.callback_for(Kind(response.meta["kind"]))(response)
        with self.state.batch():
            outputs = list(outputs)
            if not any(
                isinstance(output, (ArticlePage, FilePage))
                or (isinstance(output, scrapy.Request) and output.meta["canonical"] == canonical)
                for output in outputs
            ):
                if settled(response.status):
                    self.state.done(canonical)
                elif self.state.node:  # a cluster node: left for the next run, by any node
                    self.state.unclaim(canonical, self.state.node)
        yield from outputs

    def callback_for(self, kind: Kind):
        callbacks = {
            Kind.ARTICLE: self.parse_article,
            Kind.LIST: self.parse_list,
            Kind.TAG: self.parse_list,
            Kind.FEED: self.parse_feed,
            Kind.SITEMAP: self.parse_sitemap,
            Kind.ASSET: self.parse_asset,
            Kind.FILE: self.parse_file,
        }
        return callbacks.get(kind, self.parse_page)

    def follow_redirect(self, response: Response) -> Iterator[scrapy.Request]:
        """A redirect's target is a link like any other, checked against this crawl and the
        state: an old URL of an article archived earlier costs its 301 and nothing more. Only
        a move within the same identity (a query dropped) is fetched from the new address, up
        to REDIRECT_MAX_TIMES hops."""
        linked = linked_from(response, response.headers["Location"].decode("latin-1"))
        url = self.site.fetch_url(linked)
        if url is None:
            return  # off the site: archived as a redirect, not followed
        kind = Kind(response.meta["kind"])
        archive_url = self.site.archive_url(url, linked)
        if self.site.canonical(archive_url) == response.meta["canonical"]:
            hops = response.meta.get("redirect_times", 0) + 1
            if hops <= self.max_redirects:
                meta = {**response.meta, "redirect_times": hops, "archive_url": archive_url}
                yield response.request.replace(url=url, dont_filter=True, meta=meta)
            return
        request = self.asset_request(url, linked) if kind is Kind.ASSET else self.request(url)
        if request is not None:
            yield request

    def fetch_failed(self, failure: Failure) -> None:
        """A fetch that ended without an answer. Given up on purpose (robots.txt forbids it):
        off the frontier. The network failing past the retries, or the archive unwritable:
        left in it, for the next run (a cluster node gives up its claim on it)."""
        canonical = failure.request.meta["canonical"]
        if failure.check(IgnoreRequest):
            self.state.done(canonical)
        elif self.state.node:
            self.state.unclaim(canonical, self.state.node)

    def parse_page(self, response: Response) -> Iterator[scrapy.Request]:
        if self.readable(response):
            yield from self.follow_links(response)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        """A list page: follow its articles; page on while it brings articles we lack."""
        if not self.readable(response):
            return
        before = self.articles_requested
        yield from self.follow_links(response)
        self.note_listing(response)
        brought_new = self.articles_requested > before
        if brought_new and not self.older_than_since(response):
            first = self.site.first_page_of(response.url)
            request = self.list_request(response.url, response.meta.get("page", first) + 1)
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
        if not self.readable(response):
            return
        warc = response.meta.get("warc")
        yield ArticlePage(
            url=response.url,
            canonical=response.meta["canonical"],
            fetched_at=fetched_at(warc),
            html=response.body,
            charset=charset_of(response.headers.get("Content-Type")),
            warc=warc,
        )
        # In the frontier (parse) before the text is written: an article with a text has
        # its requisites archived or pending, whenever the crawl stops.
        if self.requisites:
            yield from self.requisite_requests(response)
        yield from self.follow_links(response)

    def parse_file(self, response: Response) -> Iterator[FilePage]:
        """An attached file, archived already: its text is the pipeline's to write. A file
        is never parsed here, so no READ_MAXSIZE: only a body cut at FILE_MAXSIZE is
        unreadable (and listed under ceilings)."""
        if response.status != 200:
            return
        reason = unreadable(response)
        if reason is not None:
            self.could_not_read(response, f"not read: {reason}")
            return
        warc = response.meta.get("warc")
        yield FilePage(
            url=response.url,
            canonical=response.meta["canonical"],
            document=response.meta.get("document"),
            fetched_at=fetched_at(warc),
            body=response.body,
            spool=response.spool if isinstance(response, SpooledResponse) else None,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
            warc=warc,
        )

    def parse_asset(self, response: Response) -> Iterator[scrapy.Request]:
        """A style sheet's own requisites: the images and fonts its url(...) name."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        if "css" not in content_type or not self.readable(response):
            return
        links = CSS_URL.findall(response.text)
        yield from self.asset_requests(response, links)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.readable(response):
            return
        body = response.body.lstrip()
        if not body.startswith(b"<?xml") and b"<rss" not in body[:500]:
            yield from self.parse_page(response)  # an HTML page listing the feeds
            return
        selector = scrapy.Selector(text=response.text, type="xml")
        selector.remove_namespaces()
        items = []  # (link, date): RSS pubDate, Atom updated (else published), as written
        for item in selector.xpath("//item | //entry"):
            link = item.xpath("link/text() | link/@href").get()
            date = (
                item.xpath("pubDate/text() | updated/text()").get()
                or item.xpath("published/text()").get()
            )
            if link:
                items.append((response.urljoin(link.strip()), (date or "").strip()))
        self.note_dates(response.url, items)
        for link, _ in items:
            request = self.request(link)
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if not self.readable(response, streamed=True):
            return
        limits = self.sitemap_limits
        sitemap = read_sitemap(
            response.body, limits["SITEMAP_MAXSIZE"], limits["SITEMAP_MAX_ENTRIES"]
        )
        if sitemap.ceiling:
            self.ceiling_hit(response, sitemap.ceiling, limits[sitemap.ceiling], sitemap.cut)
        elif sitemap.cut:  # damaged: what came before the damage is followed
            self.could_not_read(response, f"sitemap {sitemap.cut}")
        if not sitemap.kind:  # not XML: archived as fetched, nothing to follow
            self.logger.warning("not a sitemap: %s", response.url)
            return
        source = self.site.canonical(response.url)
        # (loc, lastmod as written): the value is only ever compared with the one seen before.
        entries = [(loc, lastmod or "") for loc, lastmod in sitemap.entries]
        if sitemap.kind == "sitemapindex":
            for loc, _ in self.sitemaps_to_read(entries, source):
                request = self.request(loc)
                if request is not None:
                    yield request
            return
        articles = []
        for loc, lastmod in entries:
            url = self.site.fetch_url(loc)
            if url is not None and self.site.classify(url) is Kind.ARTICLE:
                articles.append((url, lastmod))
        self.note_dates(response.url, articles)
        for url, lastmod in articles:
            moment = parse_lastmod(lastmod)
            if self.since and moment and moment.date() < self.since:
                continue
            request = self.article_request(url)
            if request is not None:
                yield request
        # A month names all its articles: one it named before and names no more is rechecked.
        self.state.record_listing(source, [self.site.canonical(url) for url, _ in articles])
        if self.incremental:
            for canonical in self.state.gone_from_listing(source, since=self.started_at):
                yield from self.recheck(canonical)

    def sitemaps_to_read(self, entries: list[tuple[str, str]], source: str):
        """Child sitemaps worth reading: all on a first crawl or a backfill (--since limits
        it to months not older than that day); on an incremental run the newest few, and
        any whose lastmod differs from the one seen when it was last read."""
        self.note_dates(source, entries)
        if self.since:
            return [
                (loc, lastmod)
                for loc, lastmod in entries
                if sitemap_month(loc, parse_lastmod(lastmod)) >= self.since.replace(day=1)
            ]
        if not self.incremental:
            return entries
        newest = sorted(
            entries, key=lambda e: sitemap_month(e[0], parse_lastmod(e[1])), reverse=True
        )
        recent = newest[: self.recent_sitemaps]
        return recent + [e for e in newest[self.recent_sitemaps :] if self.changed_since_read(e[0])]

    def note_dates(self, source: str, dated: list[tuple[str, str]]) -> None:
        """Remember the dates a sitemap or feed (``source``) gives its URLs, as written:
        compared with the ones seen at each URL's last fetch, never with our clock."""
        listing = self.site.canonical(source)
        with self.state.batch():  # one commit for a whole sitemap
            for link, value in dated:
                url = self.site.fetch_url(link)
                if url is not None and value:
                    self.state.note_lastmod(
                        self.site.canonical(url), listing, value, fetched_since=self.started_at
                    )

    def changed_since_read(self, loc: str) -> bool:
        """Whether the index dates a child sitemap otherwise than when we last read it (an
        old month changes when one of its articles is edited or taken down)."""
        url = self.site.fetch_url(loc)
        return url is not None and self.state.lastmod_changed(self.site.canonical(url))

    # -- articles that left a listing -----------------------------------------------------
    def note_listing(self, response: Response) -> None:
        """Remember the articles a list page names, and how deep this crawl read the list."""
        if self.site.classify(response.url) is not Kind.LIST:
            return  # tag pages repeat themselves without end: no witness of a takedown
        listing = self.list_url(response.url)
        page = response.meta.get("page", self.site.first_page_of(response.url))
        articles = []
        for href in response.xpath("//a/@href").getall():
            url = self.site.fetch_url(response.urljoin(href.strip()))
            if url is not None and self.site.classify(url) is Kind.ARTICLE:
                articles.append(self.site.canonical(url))
        self.state.record_listing(listing, articles, page=page)
        self.list_pages_read[listing] = max(page, self.list_pages_read.get(listing, 0))

    def list_url(self, url: str) -> str:
        parts = urlsplit(self.site.canonical(url))
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))

    def recheck_gone_from_lists(self) -> None:
        """Once the crawl has nothing left to do: recheck the articles that left a list read in
        this crawl (only above the deepest page read: lower ones may have moved past it)."""
        if self.rechecked_lists or not self.incremental:
            return
        self.rechecked_lists = True
        requests = [
            request
            for listing, deepest in self.list_pages_read.items()
            for canonical in self.state.gone_from_listing(listing, self.started_at, deepest)
            for request in self.recheck(canonical)
        ]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def recheck(self, canonical: str) -> Iterator[scrapy.Request]:
        """A conditional request for an archived article that left a listing: still there
        (a 304), or gone (crawler.takedowns records it)."""
        url = self.site.fetch_url(self.state.last_url(canonical))
        request = self.article_request(url, recheck=True) if url else None
        if request is not None:
            yield request


def link_key(base: str, link: str) -> str:
    """Where a link of a page at ``base`` leads, told cheaply (no urljoin for the absolute
    and root-relative links pages repeat): equal keys, equal targets."""
    if link.startswith(("http://", "https://")):
        return link
    origin = ORIGIN.match(base)
    if origin and link.startswith("/") and not link.startswith("//"):
        return origin.group() + link
    return urljoin(base, link)


def linked_from(response: Response, link: str) -> str:
    """A link of a response made absolute, relative to where the response stands for (a
    style sheet of the CDN names its images on the CDN), not to the mirror it came from."""
    return urljoin(response.meta.get("archive_url") or response.url, link)


def attributes(response: Response, xpath: str) -> list[str]:
    """Attribute values of an HTML response, as plain strings (parsel would wrap each in a
    Selector of its own, a cost paid for every link of every page)."""
    return response.selector.root.xpath(xpath, smart_strings=False)


def list_page(url: str, first: int = 1) -> int:
    """The page number of a list URL (``?page=N``; ``first`` without one)."""
    page = dict(parse_qsl(urlsplit(url).query)).get("page", "")
    return int(page) if page.isdigit() and int(page) >= first else first


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

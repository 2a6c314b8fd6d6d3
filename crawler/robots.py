"""robots.txt, obeyed by every request: no request to a host leaves before that host's
robots.txt has been read.

Scrapy's own RobotsTxtMiddleware hands the parser to the first of several requests that
wait on the same robots.txt and lets the others through unchecked (Scrapy 2.19: they all
await one Deferred, whose result the first waiter consumes). This one gives every waiter
its own Deferred, so a crawl that starts with many requests to a host sends none of them
before the rules are known.

What counts as the rules follows RFC 9309 (the Robots Exclusion Protocol): a 2xx robots.txt
is parsed (its first 500 KiB); a 4xx one, or redirects without end, means no rules
(everything allowed); a 5xx or 429 that outlasts the retries, or a host that cannot be
reached, means everything is disallowed for this crawl, and the crawl report says so; the
requests it holds back fail with RobotsTxtUnreachable (not IgnoreRequest), so that the
durable frontier keeps them for the next crawl.

A `Crawl-delay` for our user agent (not in RFC 9309, but what the site asks of crawlers
that read it) spaces the requests to its host at least that far apart, whatever
DOWNLOAD_DELAY or AutoThrottle say, up to ROBOTSTXT_CRAWL_DELAY_MAX seconds (a site
asking for hours between requests would never be archived); the crawl report lists it.

Settings: ROBOTSTXT_OBEY, ROBOTSTXT_PARSER, ROBOTSTXT_USER_AGENT, as for Scrapy's middleware,
which this one replaces; ROBOTSTXT_CRAWL_DELAY_MAX (default 60).
"""

from __future__ import annotations

import logging
import time

from protego import Protego
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from crawler.extensions import report_entry

logger = logging.getLogger(__name__)

# RFC 9309, 2.5: crawlers must read at least the first 500 KiB; what follows is ignored.
ROBOTS_MAXSIZE = 500 * 1024
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class RobotsTxtUnreachable(Exception):
    """A request not sent because its host's robots.txt could not be read. Unlike one that
    robots.txt forbids (IgnoreRequest), it is still to be fetched: a later crawl will."""


class RobotsTxtMiddleware:
    """Downloader middleware: each request waits for its host's robots.txt, then goes on
    if the rules allow it, or is dropped (IgnoreRequest, counted as robotstxt/forbidden)."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.robots_user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT")
        self.user_agent = crawler.settings.get("USER_AGENT")
        self.parser_class = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))
        self.parsers: dict[str, RobotParser] = {}  # netloc -> its rules, once read
        self.unreachable_hosts: set[str] = set()  # netlocs whose rules are "disallow all"
        self.waiting: dict[str, list[Deferred]] = {}  # netloc -> requests awaiting them
        self.max_crawl_delay = crawler.settings.getfloat("ROBOTSTXT_CRAWL_DELAY_MAX", 60.0)
        self.crawl_delays: dict[str, float] = {}  # netloc -> seconds between its requests
        self.next_start: dict[str, float] = {}  # netloc -> when its next request may leave

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider=None) -> None:
        if request.meta.get("dont_obey_robotstxt") or not request.url.startswith("http"):
            return
        parser = await self.parser_for(request)
        user_agent = self.robots_user_agent or request.headers.get(b"User-Agent") or self.user_agent
        if not parser.allowed(request.url, user_agent):
            netloc = urlparse_cached(request).netloc
            if netloc in self.unreachable_hosts:
                raise RobotsTxtUnreachable(f"robots.txt of {netloc} could not be read")
            self.crawler.stats.inc_value("robotstxt/forbidden")
            logger.debug("Forbidden by robots.txt: %s", request)
            raise IgnoreRequest("Forbidden by robots.txt")
        await self.keep_crawl_delay(urlparse_cached(request).netloc)

    async def keep_crawl_delay(self, netloc: str) -> None:
        """Wait for the host's next turn when its robots.txt sets a Crawl-delay."""
        delay = self.crawl_delays.get(netloc)
        if not delay:
            return
        now = time.monotonic()
        start = max(now, self.next_start.get(netloc, now))
        self.next_start[netloc] = start + delay
        if start > now:
            from twisted.internet import reactor  # the one the crawl installed

            await maybe_deferred_to_future(deferLater(reactor, start - now))

    async def parser_for(self, request: Request) -> RobotParser:
        """The rules of the request's host: read once per crawl, awaited by all."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc in self.parsers:
            return self.parsers[netloc]
        if netloc in self.waiting:
            waiter: Deferred = Deferred()
            self.waiting[netloc].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self.waiting[netloc] = []
        parser = self.parse(DISALLOW_ALL)  # should reading be cancelled, nobody waits for ever
        try:
            parser = await self.read(f"{url.scheme}://{netloc}/robots.txt")
            if parser is None:
                self.unreachable_hosts.add(netloc)
                parser = self.parse(DISALLOW_ALL)
        finally:
            self.parsers[netloc] = parser
            for waiter in self.waiting.pop(netloc):
                waiter.callback(parser)
        return parser

    async def read(self, robots_url: str) -> RobotParser | None:
        """The rules robots.txt gives, or None when it cannot be read."""
        stats = self.crawler.stats
        request = Request(
            robots_url,
            priority=1000,
            meta={"dont_obey_robotstxt": True, "download_maxsize": ROBOTS_MAXSIZE},
            callback=NO_CALLBACK,
        )
        stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            stats.inc_value(f"robotstxt/exception_count/{type(exc).__name__}")
            return self.unreachable(robots_url, f"{type(exc).__name__}: {exc}")
        stats.inc_value("robotstxt/response_count")
        stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if 200 <= response.status < 300:
            body = response.body[:ROBOTS_MAXSIZE]
            self.note_crawl_delay(urlparse_cached(request).netloc, robots_url, body)
            return self.parse(body)
        if 300 <= response.status < 500 and response.status != 429:
            return self.parse(b"")  # none (or redirects without end): no rules
        return self.unreachable(robots_url, f"HTTP {response.status}")

    def note_crawl_delay(self, netloc: str, robots_url: str, body: bytes) -> None:
        user_agent = self.robots_user_agent or self.user_agent
        asked = Protego.parse(body.decode("utf-8", "replace")).crawl_delay(user_agent)
        if not asked or asked <= 0:
            return
        kept = min(float(asked), self.max_crawl_delay)
        self.crawl_delays[netloc] = kept
        logger.info("robots.txt asks for %s s between requests; keeping %s s: %s",
                    asked, kept, robots_url)  # fmt: skip
        report_entry(self.crawler.stats, "crawl_delays", url=robots_url, asked=asked, kept=kept)

    def unreachable(self, robots_url: str, reason: str) -> None:
        logger.error(
            "robots.txt unreachable (%s): nothing is fetched from its host: %s", reason, robots_url
        )
        report_entry(self.crawler.stats, "robots_unreachable", url=robots_url, reason=reason)

    def parse(self, body: bytes) -> RobotParser:
        return build_from_crawler(self.parser_class, self.crawler, body)

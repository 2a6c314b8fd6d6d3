"""Politeness for all nodes together: one request per SHARED_DOWNLOAD_DELAY seconds to a host
(or its robots.txt's Crawl-delay, when longer), whichever node sends it, and a Retry-After
one node is given holds every node back.

Each host has two keys in the cluster's Redis: the next free slot, and the time before which
no request may go (a Retry-After). A node takes a slot with one atomic script (on Redis's
clock, so that the nodes' clocks do not matter), waits for it, and only then sends; requests
to one host from one node are at most CONCURRENT_REQUESTS_PER_DOMAIN at a time, counted here,
so that none waits again behind the others once its slot has come.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task

from crawler.middlewares import retry_after_seconds

logger = logging.getLogger(__name__)

# KEYS: the host's next free slot, its not-before time; ARGV: the delay. Returns the seconds
# to wait (as text: Lua numbers come back as integers).
TAKE_SLOT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'),
                    tonumber(redis.call('GET', KEYS[2]) or '0'))
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(at + delay), 'PX', math.ceil((at + delay - now) * 1000) + 60000)
return tostring(at - now)
"""
# KEYS: the host's not-before time; ARGV: seconds from now. Only ever moves it later.
HOLD_BACK = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 60000)
end
return tostring(until_)
"""
SLOT_META = "dcs_shared_slot"  # the host whose per-node count the request holds


class SharedRateLimit:
    """Downloader middleware of a cluster node (enabled by FRONTIER_URL): waits for the
    host's next shared slot before a request goes out."""

    def __init__(
        self,
        server,
        delay: float,
        concurrency: int,
        max_wait: float,
        crawler=None,
        host_delays: dict[str, float] | None = None,
    ) -> None:
        self.server = server
        self.delay = delay
        self.host_delays = host_delays or {}  # a site's own delay (its profile's slot)
        self.crawler = crawler
        self.max_wait = max_wait
        self.take_slot = server.register_script(TAKE_SLOT)
        self.hold_back = server.register_script(HOLD_BACK)
        self.in_flight = defaultdict(lambda: defer.DeferredSemaphore(concurrency))

    @classmethod
    def from_crawler(cls, crawler) -> SharedRateLimit:
        settings = crawler.settings
        if not settings.get("FRONTIER_URL"):
            raise NotConfigured("not a cluster crawl")
        from scrapy_redis.connection import get_redis_from_settings

        return cls(
            get_redis_from_settings(settings),
            settings.getfloat("SHARED_DOWNLOAD_DELAY"),
            settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") or 1,
            settings.getfloat("RETRY_BACKOFF_MAX", 120.0),
            crawler,
            {host: float(delay) for host, delay in settings.getdict("SHARED_HOST_DELAYS").items()},
        )

    async def process_request(self, request: Request, spider=None) -> None:
        netloc = urlsplit(request.url).netloc
        host = netloc.lower()
        await maybe_deferred_to_future(self.in_flight[host].acquire())
        request.meta[SLOT_META] = host
        delay = self.host_delays.get(netloc, self.delay)
        wait = self.next_slot(host, max(delay, self.crawl_delay(netloc)))
        if wait > 0:
            from twisted.internet import reactor  # the one Scrapy installed

            await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))

    def crawl_delay(self, netloc: str) -> float:
        """The host's robots.txt Crawl-delay as the robots.txt middleware keeps it, if any:
        each node keeps it for itself, and here all of them together."""
        from crawler.robots import RobotsTxtMiddleware

        if self.crawler is None:
            return 0.0
        robots = self.crawler.get_downloader_middleware(RobotsTxtMiddleware)
        return robots.crawl_delays.get(netloc, 0.0) if robots is not None else 0.0

    def next_slot(self, host: str, delay: float | None = None) -> float:
        """Take the host's next free slot, ``delay`` (SHARED_DOWNLOAD_DELAY) seconds after the
        one before: the seconds to wait for it."""
        keys = [f"dcs:slot:{host}", f"dcs:notbefore:{host}"]
        return float(self.take_slot(keys=keys, args=[self.delay if delay is None else delay]))

    def hold(self, host: str, seconds: float) -> None:
        """No request to the host, from any node, for ``seconds`` (at most max_wait)."""
        self.hold_back(keys=[f"dcs:notbefore:{host}"], args=[min(seconds, self.max_wait)])

    def _release(self, request: Request) -> None:
        host = request.meta.pop(SLOT_META, None)
        if host is not None:
            self.in_flight[host].release()

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        self._release(request)
        if response.status in (429, 503):
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds:
                # Every node waits, not only the one that was told.
                self.hold(urlsplit(request.url).netloc.lower(), seconds)
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None) -> None:
        self._release(request)
        return None

"""The frontier every node of a cluster shares: scrapy-redis's scheduler, claiming what it
hands out in the state store.

scrapy-redis keeps the queue of requests and the duplicate filter in Redis; this module adds
what an archive needs on top, through its public extension points (the scheduler and
duplicate filter classes):

- the duplicate filter tells requests apart by the crawler's request fingerprinter (the
  canonical URL, crawler.middlewares.CanonicalRequestFingerprinter), not by its own hash;
- a request taken from the queue is first claimed in the shared state store
  (``CrawlState.claim``): one that left the frontier (a node archived it) or that another
  live node holds is dropped, so no page is fetched twice. A request handed back to the
  queue (a retry, a page a dead node held) gives up this node's claim first, so that any
  node may take it.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler.state import CrawlState

logger = logging.getLogger(__name__)
# Requests popped and dropped in one call, at most, before the engine asks again.
DROPS_PER_CALL = 100


class CanonicalDupeFilter(RFPDupeFilter):
    """scrapy-redis's duplicate filter, with the crawl's own request fingerprints."""

    @classmethod
    def from_spider(cls, spider):
        dupefilter = super().from_spider(spider)
        dupefilter.fingerprinter = spider.crawler.request_fingerprinter
        return dupefilter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()


class ClusterScheduler(Scheduler):
    """scrapy-redis's scheduler, whose requests are claimed in the state store when taken."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        # scrapy-redis 0.9.1 counts with StatsCollector.inc_value(spider=…), which Scrapy
        # 2.19 deprecates (a warning per request): the counts are kept here instead.
        scheduler.stats = None
        scheduler.crawler = crawler
        scheduler.node = crawler.settings.get("NODE_NAME")
        scheduler.lease = crawler.settings.getfloat("CLUSTER_LEASE")
        return scheduler

    @property
    def state(self) -> CrawlState:
        return CrawlState.for_crawler(self.crawler)

    def enqueue_request(self, request: Request) -> bool:
        canonical = request.meta.get("canonical")
        if canonical and request.dont_filter:
            # A retry, a redirect to the same page, a dead node's page: whoever takes it.
            self.state.unclaim(canonical, self.node)
        queued = super().enqueue_request(request)
        self.crawler.stats.inc_value(
            "scheduler/enqueued/redis" if queued else "dupefilter/filtered"
        )
        return queued

    def next_request(self) -> Request | None:
        for _ in range(DROPS_PER_CALL):
            request = super().next_request()
            if request is None:
                return None
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
            canonical = request.meta.get("canonical")
            if canonical is None:
                return request
            if self.state.claim(canonical, self.node, self.lease):
                # Decided here too, as if this node had found it: a link of the page to
                # itself is not a request of its own (it would keep the page pending).
                self.state.decide(canonical)
                return request
            logger.debug("%s is archived or held by another node: dropped", request.url)
            self.crawler.stats.inc_value("dcs/cluster/dropped")
        return None

    def queued(self) -> int:
        """Requests waiting in the shared queue, for every node."""
        return len(self.queue)

    def forget_seen(self) -> None:
        """The crawl is over: the next one starts with an empty duplicate filter."""
        self.df.clear()

"""One node of a cluster crawl: its heartbeat, what it takes back from dead nodes, and when
the crawl, not just this node's part of it, is over.

A node holds a lease on each frontier entry it fetches (crawler.cluster.frontier claims it).
Every CLUSTER_HEARTBEAT seconds it renews its leases, and takes back the entries whose lease
ran out (their node was killed, SIGKILL included, or lost its network): they are queued again
for any node to fetch. A node that stops on its own gives its leases up at once.

A node with nothing to do stays while the crawl goes on elsewhere (requests queued, entries
held by other nodes): what they find may come its way. When neither is left, twice in a row,
the crawl is over: the node clears the duplicate filter for the next crawl, and stops.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from crawler.errors import ArchiveWriteError
from crawler.failstop import stop_crawl
from crawler.state import CrawlState

logger = logging.getLogger(__name__)
# Idle checks in a row that find the whole crawl done before this node stops.
QUIET_CHECKS = 2


class ClusterNode:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.node = settings.get("NODE_NAME")
        self.lease = settings.getfloat("CLUSTER_LEASE")
        self.interval = settings.getfloat("CLUSTER_HEARTBEAT") or self.lease / 3
        self.quiet = 0
        self.heartbeat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler) -> ClusterNode:
        if not crawler.settings.get("FRONTIER_URL"):
            raise NotConfigured("not a cluster crawl")
        node = cls(crawler)
        crawler.signals.connect(node.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(node.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(node.spider_closed, signal=signals.spider_closed)
        return node

    @property
    def state(self) -> CrawlState:
        return CrawlState.for_crawler(self.crawler)

    def spider_opened(self, spider) -> None:
        logger.info("cluster node %s (leases of %.0f s)", self.node, self.lease)
        self.heartbeat = task.LoopingCall(self.beat)
        self.heartbeat.start(self.interval, now=True)

    def beat(self) -> None:
        """Renew this node's leases; queue again what dead nodes held."""
        try:
            self.state.renew_claims(self.node, self.lease)
            self.take_back()
        except ArchiveWriteError as exc:  # the state store is unreachable
            stop_crawl(self.crawler, exc)

    def take_back(self) -> int:
        spider = self.crawler.spider
        entries = self.state.reclaim_expired()
        for entry in entries:
            request = spider.pending_request(entry)
            if request is not None:
                self.crawler.engine.crawl(request)
        if entries:
            logger.warning("took back %d pages whose node stopped answering", len(entries))
            self.crawler.stats.inc_value("dcs/cluster/taken_back", len(entries))
        return len(entries)

    def spider_idle(self, spider) -> None:
        scheduler = self.crawler.engine.scheduler
        busy = scheduler.queued() or self.state.claims() or self.take_back()
        if busy:
            self.quiet = 0
            raise DontCloseSpider
        self.quiet += 1
        if self.quiet < QUIET_CHECKS:
            raise DontCloseSpider
        scheduler.forget_seen()
        logger.info("the cluster crawl is done: nothing queued, nothing held by any node")

    def spider_closed(self, spider, reason) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        try:
            self.state.expire_claims(self.node)
        except ArchiveWriteError as exc:
            logger.error("could not give up this node's leases: %s", exc)

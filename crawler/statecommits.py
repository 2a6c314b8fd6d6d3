"""Group commits of the crawl state: one short transaction about once a second, not one
per write.

Each response costs the state store a few writes (its capture, its links entering the
frontier, the page leaving it, an article's text); committing each would cost a WAL write
apiece. The store keeps every batch of them whole (a savepoint) and this extension commits
every ``STATE_COMMIT_INTERVAL`` seconds, when the crawl's first answer is in (so that even
a new archive has a committed fetch to resume after), and when the crawl ends. What a
SIGKILL loses of the last second is in the WARC files, which the next crawl reads back
instead of fetching it again (crawler.warc.resume). ``STATE_COMMIT_INTERVAL = 0`` commits
every batch at once.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.errors import ArchiveWriteError
from crawler.failstop import stop_crawl
from crawler.state import CrawlState


class StateCommits:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.state = CrawlState.for_crawler(crawler)
        self.state.group_commits()
        self.loop = task.LoopingCall(self.commit)
        self.interval = interval

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StateCommits:
        interval = crawler.settings.getfloat("STATE_COMMIT_INTERVAL", 1.0)
        if interval <= 0:
            raise NotConfigured("STATE_COMMIT_INTERVAL is 0: every batch commits at once")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.first_answer, signal=signals.response_received)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any = None) -> None:
        self.loop.start(self.interval, now=False)

    def first_answer(self, **_signal_args: Any) -> None:
        self.crawler.signals.disconnect(self.first_answer, signal=signals.response_received)
        self.commit()

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.loop.running:
            self.loop.stop()
        self.commit()

    def commit(self) -> None:
        try:
            self.state.commit()
        except ArchiveWriteError as exc:  # a full disk: the crawl stops
            stop_crawl(self.crawler, exc)

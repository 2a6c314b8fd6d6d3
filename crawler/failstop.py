"""Fail-stop: the first thing the crawl cannot write stops it.

A full disk (or a read-only, failing file system) makes WARC records, text files or the
state store unwritable, one after the other. Crawling on would fetch pages nobody can keep,
so the first ``ArchiveWriteError`` stops the crawl with the finish reason ``write_error``:
its message goes into the report and becomes ``dcs crawl``'s one-line error, the WARC writer
has rolled back the record it could not finish, and whatever was not written stays in the
frontier, for the next run to fetch.

Components that catch the error themselves (the WARC middleware) call ``stop_crawl``; the
``FailStop`` extension catches it where Scrapy would only log it: in spider callbacks and
item pipelines.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from crawler.errors import ArchiveWriteError

logger = logging.getLogger(__name__)

WRITE_ERROR = "dcs/write_error"  # stats key: the message of the first write error
REASON = "write_error"  # the crawl's finish reason


def stop_crawl(crawler: Crawler, error: BaseException) -> None:
    """Stop the crawl because ``error`` kept something from being written (once: the
    first error is the one reported)."""
    if crawler.stats.get_value(WRITE_ERROR) is not None:
        return
    crawler.stats.set_value(WRITE_ERROR, str(error))
    logger.critical("cannot write the archive, stopping the crawl: %s", error)
    engine = crawler.engine
    if engine is None or engine.spider is None:
        return
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        deferred_from_coro(engine.close_spider_async(reason=REASON))
    else:
        engine.close_spider(engine.spider, reason=REASON)


class FailStop:
    """Extension: a write error raised in a spider callback or an item pipeline stops the
    crawl (Scrapy would log it and crawl on)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailStop:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_error, signal=signals.spider_error)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        return extension

    def spider_error(self, failure: Failure, **_signal_args) -> None:
        self._check(failure)

    def item_error(self, failure: Failure, **_signal_args) -> None:
        self._check(failure)

    def _check(self, failure: Failure) -> None:
        if failure.check(ArchiveWriteError):
            stop_crawl(self.crawler, failure.value)

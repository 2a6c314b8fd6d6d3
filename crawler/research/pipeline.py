"""Item pipeline: the search index learns each article as soon as its text is written.

It runs after ArticleTextPipeline, whose output names the text file written. Texts are
indexed in short transactions (a search or `dcs index` meanwhile never waits long): by the
text workers that wrote them (off the reactor), the texts of about a second in each
(crawler.textwork.INDEX_WAIT); else here, one each as they come. The index is
created when the spider opens, and, when it closes, brought in step with the text folder:
whatever an earlier crawl that was killed, or a `dcs extract`, left unindexed. The index is
derived data: a failure here is logged and the crawl goes on; `dcs index` repairs it.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.research.index import TextIndexer, update_index

logger = logging.getLogger(__name__)


class SearchIndexPipeline:
    def __init__(self, layout: Layout, stats) -> None:
        self.layout = layout
        self.stats = stats
        self.indexer = TextIndexer(layout.text_dir, layout.search_index)
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SearchIndexPipeline:
        settings = crawler.settings
        if not settings.getbool("SEARCH_INDEX_ENABLED"):
            raise NotConfigured("SEARCH_INDEX_ENABLED is off")
        return cls(Layout.from_settings(settings), crawler.stats)

    def open_spider(self, spider=None) -> None:
        # A first crawl starts with an empty index, which the text workers fill as they go.
        if not self.layout.search_index.exists():
            self._guard(update_index, self.layout)

    def process_item(self, item, spider=None):
        if not isinstance(item, dict):
            return item
        text = item.get("text")
        if item.get("indexed"):  # by the text worker that wrote it
            self.stats.inc_value("dcs/search_index/indexed")
        elif text and not self.failed:
            self._guard(self._index, Path(text))
        return item

    def close_spider(self, spider=None) -> None:
        self.indexer.close()
        # Catch up with all the text folder holds, in one pass that reads only what changed.
        result = self._guard(update_index, self.layout)
        if result is not None:
            self.stats.set_value("dcs/search_index/texts", result.texts)
            logger.info(
                "Search index %s: %d texts (%d indexed by this crawl)",
                result.path,
                result.texts,
                (self.stats.get_value("dcs/search_index/indexed") or 0) + result.added,
            )

    def _index(self, text_path: Path) -> None:
        if self.indexer.add(text_path):
            self.stats.inc_value("dcs/search_index/indexed")
        elif self.indexer.failure:
            raise DcsError(self.indexer.failure)

    def _guard(self, action, *args):
        try:
            return action(*args)
        except (sqlite3.Error, OSError, DcsError) as exc:
            self.failed = True
            self.stats.inc_value("dcs/search_index/errors")
            logger.warning("search index not updated (run dcs index to catch up): %s", exc)
            return None

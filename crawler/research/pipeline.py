"""Item pipeline: the search index learns each article as soon as its text is written.

It runs after ArticleTextPipeline, whose output names the text file written. Texts are
indexed as they come, one short transaction each (a search or `dcs index` meanwhile never
waits long), and, when the spider closes, the whole index is brought in step with the
text folder: whatever an earlier crawl that was killed, or a `dcs extract`, left unindexed.
The index is derived data: a failure here is logged and the crawl goes on; `dcs index`
repairs it.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.research import corpus
from crawler.research.index import IndexUpdate, SearchIndex, update_index

logger = logging.getLogger(__name__)


class SearchIndexPipeline:
    def __init__(self, layout: Layout, stats) -> None:
        self.layout = layout
        self.stats = stats
        self.index: SearchIndex | None = None
        self.update = IndexUpdate(layout.search_index)
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SearchIndexPipeline:
        settings = crawler.settings
        if not settings.getbool("SEARCH_INDEX_ENABLED"):
            raise NotConfigured("SEARCH_INDEX_ENABLED is off")
        return cls(Layout.from_settings(settings), crawler.stats)

    def process_item(self, item, spider=None):
        text = item.get("text") if isinstance(item, dict) else None
        if text and not self.failed:
            self._guard(self._index, Path(text))
        return item

    def close_spider(self, spider=None) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None
        # Catch up with all the text folder holds, in one pass that reads only what changed.
        result = self._guard(update_index, self.layout)
        if result is not None:
            self.stats.set_value("dcs/search_index/texts", result.texts)
            logger.info(
                "Search index %s: %d texts (%d indexed by this crawl)",
                result.path,
                result.texts,
                self.update.added + result.added,
            )

    def _index(self, text_path: Path) -> None:
        if self.index is None:
            if not self.layout.search_index.exists():
                return  # built whole when the spider closes
            self.index = SearchIndex.open(self.layout)
        article_id = text_path.name.removesuffix(".txt")
        group = next(
            (g for g in corpus.groups_in(self.layout.text_dir, text_path.parent)
             if g.id == article_id),
            None,
        )  # fmt: skip
        if group is None:
            return
        with self.index.transaction():
            self.index.index_article(corpus.read_group(group), group.signature(), self.update)
        self.stats.inc_value("dcs/search_index/indexed")

    def _guard(self, action, *args):
        try:
            return action(*args)
        except (sqlite3.Error, OSError, DcsError) as exc:
            self.failed = True
            self.stats.inc_value("dcs/search_index/errors")
            logger.warning("search index not updated (run dcs index to catch up): %s", exc)
            return None

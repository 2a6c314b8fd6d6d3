"""Item pipeline: each archived article becomes a text file, a JSON sidecar and a WARC
`conversion` record, and the crawl state learns that its text exists.

Extraction and the text and sidecar files are the text workers' job (crawler.textpool:
``TEXT_WORKERS`` processes, by default all cores but one; ``0`` does it here, in the
crawl's process, with the same result). The conversion record and the state rows are
written here, on the reactor: the WARC writer and the state store have one writer each.

The article leaves the frontier in the same transaction as its text is recorded, so that a
crawl stopped at any moment either has the text or takes the page up again."""

from __future__ import annotations

from functools import partial

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.errors import ArchiveWriteError, DcsError
from crawler.extensions import report_entry
from crawler.extract.attachment import NO_TEXT_LAYER
from crawler.extract.html import PageLimits
from crawler.layout import Layout
from crawler.state import CrawlState
from crawler.textpool import QUEUE_PER_WORKER, TextPool, default_command, default_text_workers
from crawler.textwork import ArticlePage, FilePage, TextOutcome, make_text
from crawler.warc.records import conversion_record

__all__ = ["ArticlePage", "ArticleTextPipeline", "FilePage", "extraction_failed"]


def extraction_failed(stats: StatsCollector, url: str, reason: str, article: bool = True) -> None:
    """Lists an archived response the crawl could not read, or an article that gave no text,
    in the crawl report (articles are counted too)."""
    if article:
        stats.inc_value("dcs/articles/failed")
    report_entry(stats, "extraction_failures", url=url, reason=reason)


class ArticleTextPipeline:
    """Settings: TEXT_WORKERS (processes; 0: in the crawl's process), TEXT_QUEUE_SIZE (pages
    in the pool at most; 0: QUEUE_PER_WORKER per worker), EXTRACT_MAXSIZE,
    EXTRACT_MAX_ELEMENTS."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        layout = Layout.from_settings(settings)
        self.text_root = layout.text_dir
        self.state = CrawlState.for_crawler(crawler)
        self.limits = PageLimits(
            max_bytes=settings.getint("EXTRACT_MAXSIZE"),
            max_elements=settings.getint("EXTRACT_MAX_ELEMENTS"),
        )
        workers = settings.getint("TEXT_WORKERS", default_text_workers())
        size = settings.getint("TEXT_QUEUE_SIZE", 0) or QUEUE_PER_WORKER * workers
        if workers < 0 or size < 0:
            raise DcsError("TEXT_WORKERS and TEXT_QUEUE_SIZE must be 0 or more")
        # The workers index the texts they write (crawler.research.pipeline need not).
        search_index = layout.search_index if settings.getbool("SEARCH_INDEX_ENABLED") else None
        command = partial(default_command, search_index=search_index)
        self.pool: TextPool | None = None
        if workers:
            self.pool = TextPool(workers, self.text_root, self.limits, size, command)
        self.stats.set_value("dcs/text_workers", workers)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleTextPipeline:
        return cls(crawler)

    def open_spider(self, spider=None) -> None:
        if self.pool is not None:
            self.pool.start()

    async def close_spider(self, spider=None) -> None:
        if self.pool is None:
            return
        await maybe_deferred_to_future(self.pool.close())
        self.stats.set_value("dcs/text_workers/lost", self.pool.lost)
        self.stats.set_value("dcs/text_workers/retried", self.pool.retried)
        self.stats.set_value("dcs/text_workers/in_process", self.pool.in_process)

    async def process_item(self, item: ArticlePage | FilePage, spider=None) -> dict:
        if self.pool is None:
            outcome = make_text(item, self.text_root, self.limits)
        else:
            outcome = await maybe_deferred_to_future(self.pool.submit(item))
        return self.record(item, outcome)

    def record(self, item: ArticlePage | FilePage, outcome: TextOutcome) -> dict:
        """What the reactor writes of an article once its text is written (or not)."""
        if outcome.write_error:  # a full disk: crawler.failstop stops the crawl
            raise ArchiveWriteError(outcome.write_error)
        if outcome.failure:
            self.state.done(item.canonical)  # the page is archived; a later extractor may read it
            extraction_failed(self.stats, item.url, outcome.failure, isinstance(item, ArticlePage))
            raise DropItem(f"no text from {item.url}: {outcome.failure}")
        if outcome.text is not None:
            self.convert(item, outcome.text)
        if isinstance(item, FilePage):
            return self.record_file(item, outcome)
        with self.state.batch():
            self.state.record_text(item.canonical, outcome.sha1, outcome.path)
            self.state.record_dates(item.canonical, outcome.published, outcome.modified)
            self.state.done(item.canonical)
        self.stats.inc_value("dcs/articles")
        if outcome.generic:
            self.stats.inc_value("dcs/articles/generic")
        if outcome.no_body:
            self.stats.inc_value("dcs/articles/no_body")
        if outcome.suspect is not None:
            suspects = self.stats.get_value("dcs/suspect_texts", [])
            self.stats.set_value("dcs/suspect_texts", [*suspects, outcome.suspect])
        return {
            "url": item.url,
            "id": outcome.article_id,
            "text": outcome.path,
            "status": outcome.status,
            "indexed": outcome.indexed,
        }

    def convert(self, item: ArticlePage | FilePage, text: str) -> None:
        """The text as a WARC conversion record referring to the response it came from."""
        writer = getattr(self.crawler, "warc_writer", None)
        # Read back from the WARC files after a crash (crawler.warc.resume), the page may
        # have its conversion record already.
        if writer is not None and item.warc and not item.warc.get("converted"):
            # A revisit record carries no body: the text refers to the capture it repeats.
            source = item.warc.get("refers_to") or item.warc["record_id"]
            uri = item.warc.get("target_uri", item.url)
            writer.write(conversion_record(uri, text.encode("utf-8"), refers_to=source))

    def record_file(self, item: FilePage, outcome: TextOutcome) -> dict:
        """An attached file's text written (or its lack of one flagged): the report counts
        files, and lists those without a text layer (scans) — their text is not guessed."""
        with self.state.batch():
            if outcome.sha1:
                self.state.record_text(item.canonical, outcome.sha1, outcome.path)
            self.state.done(item.canonical)
        self.stats.inc_value("dcs/files")
        if NO_TEXT_LAYER in outcome.flags:
            report_entry(
                self.stats, "no_text_layer", url=item.url, document=item.document,
                pages=outcome.pages,
            )  # fmt: skip
        return {"url": item.url, "id": outcome.article_id, "text": outcome.path,
                "flags": list(outcome.flags), "indexed": outcome.indexed}  # fmt: skip

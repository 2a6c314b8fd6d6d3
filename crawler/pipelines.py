"""Item pipeline: each archived article becomes a text file, a JSON sidecar and a WARC
`conversion` record, and the crawl state learns that its text exists.

The article leaves the frontier in the same transaction as its text is recorded, so that a
crawl stopped at any moment either has the text or fetches the page again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.errors import ArchiveWriteError
from crawler.extensions import report_entry
from crawler.extract import ExtractionError, extract, render_text
from crawler.extract.article import GENERIC
from crawler.extract.html import PageLimits
from crawler.extract.output import write_article
from crawler.extract.suspect import suspect_entry
from crawler.layout import Layout
from crawler.state import CrawlState
from crawler.warc.records import conversion_record


@dataclass
class ArticlePage:
    """An archived article page on its way to becoming text (the spider's item)."""

    url: str
    canonical: str
    fetched_at: datetime
    html: bytes = field(repr=False)  # kept out of log lines
    charset: str | None = None  # as the HTTP header declares it
    warc: dict | None = None


def extraction_failed(stats: StatsCollector, url: str, reason: str, article: bool = True) -> None:
    """Lists an archived response the crawl could not read, or an article that gave no text,
    in the crawl report (articles are counted too)."""
    if article:
        stats.inc_value("dcs/articles/failed")
    report_entry(stats, "extraction_failures", url=url, reason=reason)


class ArticleTextPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.text_root = Layout.from_settings(crawler.settings).text_dir
        self.state = CrawlState.for_crawler(crawler)
        self.limits = PageLimits(
            max_bytes=crawler.settings.getint("EXTRACT_MAXSIZE"),
            max_elements=crawler.settings.getint("EXTRACT_MAX_ELEMENTS"),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleTextPipeline:
        return cls(crawler)

    def process_item(self, item: ArticlePage, spider=None) -> dict:
        url = item.url
        try:
            article = extract(item.html, url, encoding=item.charset, limits=self.limits)
        except ExtractionError as exc:
            self.state.done(item.canonical)  # the page is archived; a later extractor may read it
            extraction_failed(self.stats, url, str(exc))
            raise DropItem(f"no text from {url}: {exc}") from exc
        text = render_text(article)
        try:
            written = write_article(
                article, self.text_root, url=url, fetched_at=item.fetched_at, warc=item.warc
            )
        except OSError as exc:  # a full disk: crawler.failstop stops the crawl
            where = exc.filename or self.text_root
            raise ArchiveWriteError(
                f"cannot write the text of {item.canonical} in {where}: {exc.strerror or exc}"
            ) from exc
        writer = getattr(self.crawler, "warc_writer", None)
        if writer is not None and item.warc:
            # A revisit record carries no body: the text refers to the capture it repeats.
            source = item.warc.get("refers_to") or item.warc["record_id"]
            uri = item.warc.get("target_uri", url)
            writer.write(conversion_record(uri, text.encode("utf-8"), refers_to=source))
        with self.state.batch():
            self.state.record_text(item.canonical, written.sha1, str(written.text))
            self.state.record_dates(item.canonical, article.published, article.modified)
            self.state.done(item.canonical)
        self.stats.inc_value("dcs/articles")
        if article.method == GENERIC:
            self.stats.inc_value("dcs/articles/generic")
        if article.no_body:
            self.stats.inc_value("dcs/articles/no_body")
        entry = suspect_entry(article)
        if entry is not None:
            suspects = self.stats.get_value("dcs/suspect_texts", [])
            self.stats.set_value("dcs/suspect_texts", [*suspects, entry])
        return {"url": url, "id": article.id, "text": str(written.text), "status": written.status}

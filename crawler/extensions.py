"""The crawl report: a progress line while the crawl runs, a JSON report and a short summary
when it ends.

The report file is written when the crawl starts (``finish_reason: running``: a crawl that
was killed leaves it so) and rewritten when it ends. On a full disk the final report takes
the place of the first one, so that it can still say why the crawl stopped."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

from crawler.extract.suspect import SuspectTexts
from crawler.failstop import REASON as WRITE_REASON
from crawler.failstop import WRITE_ERROR
from crawler.files import atomic_write
from crawler.layout import Layout
from crawler.state import REMOVED, RESTORED, CrawlState


def report_entry(stats: StatsCollector, key: str, **entry: object) -> None:
    """Adds one entry to a list of the crawl report (kept in the crawl's stats under
    `dcs/<key>`): "extraction_failures", "ceilings", "robots_unreachable",
    "crawl_delays", "warc_recovered"."""
    entries = stats.get_value(f"dcs/{key}")
    if entries is None:
        entries = []
        stats.set_value(f"dcs/{key}", entries)
    entries.append(entry)


def errors_by_kind(stats: dict) -> dict[str, int]:
    """Failed exchanges by kind: network exceptions by class name, HTTP errors by status."""
    errors: dict[str, int] = {}
    for key, count in stats.items():
        if key.startswith("downloader/exception_type_count/"):
            errors[key.rsplit(".", 1)[-1]] = count
        elif key.startswith("downloader/response_status_count/"):
            status = key.rsplit("/", 1)[-1]
            if status.isdigit() and int(status) >= 400:
                errors[f"HTTP {status}"] = count
    return dict(sorted(errors.items()))


class CrawlReport:
    """Prints a progress line every PROGRESS_INTERVAL seconds, and at the end writes
    OUT_DIR/reports/crawl-<time>.json and prints a summary."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("PROGRESS_INTERVAL", 30.0)
        self.report_dir = Layout.from_settings(crawler.settings).reports_dir
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.progress: task.LoopingCall | None = None
        self.report: dict | None = None
        self.path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        name = f"crawl-{self.started_at:%Y%m%d%H%M%S}-{os.getpid()}.json"
        self.path = self.report_dir / name
        try:
            self.write(self.build_report("running"))
        except OSError:
            pass  # the final report tries again, and says so if it cannot
        if self.interval > 0:
            self.progress = task.LoopingCall(self.print_progress)
            self.progress.start(self.interval, now=False)

    def print_progress(self) -> None:
        stats = self.crawler.stats.get_stats()
        elapsed = time.monotonic() - self.started
        pages = stats.get("downloader/response_count", 0)
        print(
            f"dcs: {elapsed:6.0f}s  {pages} responses ({pages / max(elapsed, 1e-9):.1f}/s), "
            f"{stats.get('dcs/articles', 0)} articles, "
            f"{stats.get('downloader/response_bytes', 0) / 1e6:.1f} MB, "
            f"{sum(errors_by_kind(stats).values())} errors",
            file=sys.stderr,
            flush=True,
        )

    def build_report(self, reason: str) -> dict:
        stats = self.crawler.stats.get_stats()
        duration = time.monotonic() - self.started
        settings = self.crawler.settings
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "duration_seconds": round(duration, 3),
            "finish_reason": reason,
            "error": stats.get(WRITE_ERROR),
            "base_url": settings.get("BASE_URL"),
            "out_dir": str(settings.get("OUT_DIR")),
            "pages": stats.get("downloader/response_count", 0),
            "requests": stats.get("downloader/request_count", 0),
            "articles": stats.get("dcs/articles", 0),
            "articles_generic": stats.get("dcs/articles/generic", 0),
            "articles_no_body": stats.get("dcs/articles/no_body", 0),
            "articles_failed": stats.get("dcs/articles/failed", 0),
            # the documents portal's attached files read, and the PDFs with no text layer
            "files": stats.get("dcs/files", 0),
            "no_text_layer": stats.get("dcs/no_text_layer", []),
            "sites": settings.get("SITES") or "main",
            "extraction_failures": stats.get("dcs/extraction_failures", []),
            # texts read without error that look wrong: the site's markup may have drifted
            "suspect_texts": SuspectTexts(stats.get("dcs/suspect_texts", [])).as_dict(),
            # Extraction ran on these processes; a worker that died was replaced and the
            # page it was writing tried again (a page two workers died on is a failure).
            "text_workers": {
                "workers": stats.get("dcs/text_workers", 0),
                "lost": stats.get("dcs/text_workers/lost", 0),
                "retried": stats.get("dcs/text_workers/retried", []),
                # The workers could not start: the crawl's own process wrote the text.
                "in_process": stats.get("dcs/text_workers/in_process", False),
            },
            "resumed_from_warc": stats.get("dcs/resumed_from_warc", 0),
            # WARC files a crash left open, finished before this crawl wrote (and any
            # damage found in them: `dcs verify --repair` salvages it).
            "warc_recovered": stats.get("dcs/warc_recovered", []),
            "revisits": stats.get("warc/revisit", 0),
            "bytes": stats.get("downloader/response_bytes", 0),
            "retries": stats.get("retry/count", 0),
            "robots_forbidden": stats.get("robotstxt/forbidden", 0),
            "robots_unreachable": stats.get("dcs/robots_unreachable", []),
            "crawl_delays": stats.get("dcs/crawl_delays", []),
            "ceilings": stats.get("dcs/ceilings", []),
            "errors": errors_by_kind(stats),
            "warc_files": self.warc_files(),
            # What the next run fetches first: found and not fetched, or failed past retries.
            "pending": CrawlState.for_crawler(self.crawler).stats()["pending"],
            "dedup_saved_bytes": stats.get("warc/dedup/saved_bytes", 0),
            "dedup_across_urls": stats.get("warc/dedup/across_urls", 0),
            **self.takedowns(),
        }

    def takedowns(self) -> dict[str, list[dict]]:
        """Articles this crawl found taken down ("removed") or back ("restored")."""
        events = CrawlState.for_crawler(self.crawler).takedowns(since=self.started_at)
        found: dict[str, list[dict]] = {REMOVED: [], RESTORED: []}
        for event in events:
            found[event.event].append(
                {
                    "url": event.url,
                    "at": event.at.isoformat(),
                    "status": event.status,
                    "location": event.location,
                }
            )
        return found

    def warc_files(self) -> list[str]:
        """The WARC files this crawl wrote (the one still open included, by its final name)."""
        writer = getattr(self.crawler, "warc_writer", None)
        if writer is None:
            return []
        return sorted({*writer.files, writer.current_filename} - {None})

    def spider_closed(self, spider, reason: str) -> None:
        if self.progress is not None and self.progress.running:
            self.progress.stop()
        if self.crawler.stats.get_value(WRITE_ERROR) is not None:
            # Also when it came as the crawl was ending anyway (the last state commit).
            reason = WRITE_REASON
        self.report = self.build_report(reason)
        try:
            self.write(self.report)
        except OSError as exc:
            where = f"not written ({exc.strerror or exc})"
            self.crawler.stats.set_value("dcs/report_error", where)
        else:
            where = str(self.path)
            self.crawler.stats.set_value("dcs/report_path", where)
        print(summary(self.report, where), flush=True)

    def write(self, report: dict) -> None:
        assert self.path is not None
        data = (json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n").encode()
        try:
            atomic_write(self.path, data)
        except OSError:
            if not self.path.exists():
                raise
            # A full disk: overwrite the report written at the start, in the space it holds.
            with open(self.path, "r+b") as file:
                file.write(data)
                file.truncate()


def summary(report: dict, where: str) -> str:
    errors = ", ".join(f"{kind} {count}" for kind, count in report["errors"].items()) or "none"
    lost = report["text_workers"]["lost"]
    recovered = report.get("warc_recovered", [])
    damaged = sum("damaged" in entry["outcome"] for entry in recovered)
    suspect = SuspectTexts(report["suspect_texts"]["articles"]).summary()
    notes = [
        f"{len(report['ceilings'])} ceilings hit" if report["ceilings"] else "",
        f"{report['robots_forbidden']} requests refused by robots.txt"
        if report["robots_forbidden"]
        else "",
        f"{lost} text worker(s) died and were replaced" if lost else "",
        f"{len(recovered)} WARC file(s) a crash left open recovered"
        + (f", {damaged} with damage (see dcs verify)" if damaged else "")
        if recovered
        else "",
        f"{report['files']} attached files ({len(report['no_text_layer'])} PDFs without a "
        "text layer: flagged, not read)"
        if report.get("files")
        else "",
    ]
    return (
        f"Crawl {report['finish_reason']} in {report['duration_seconds']:.1f}s: "
        f"{report['pages']} responses, {report['articles']} articles "
        f"({report['articles_no_body']} without body text, {report['articles_generic']} by the "
        f"generic extractor, {report['articles_failed']} failed), "
        f"{report['bytes'] / 1e6:.1f} MB ({report['dedup_saved_bytes'] / 1e6:.1f} MB saved by "
        f"deduplication); {len(report[REMOVED])} taken down, {len(report[RESTORED])} restored; "
        f"errors: {errors}"
        + "".join(f"; {part}" for part in notes if part)
        + f".\nText: {suspect}.\nReport: {where}"
    )

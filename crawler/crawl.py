"""Running one crawl: checks the input, builds the Scrapy settings, holds the output folder's
lock, runs the spider and turns the outcome into an exit status."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from crawler import __version__
from crawler.cluster import cluster_settings
from crawler.config import check_settings, parse_setting
from crawler.errors import DcsError
from crawler.failstop import WRITE_ERROR
from crawler.layout import Layout
from crawler.lock import OutputLock
from crawler.site import Sites, profiles_named
from crawler.state import CrawlState

# Network failures a user can act on, by words in the exception class Scrapy counts them
# under (Twisted's and Scrapy's names differ between versions).
UNREACHABLE = [
    ("DNS", "DNS lookup failed"),
    ("Resolve", "DNS lookup failed"),
    ("Refused", "connection refused"),
    ("TimedOut", "connection timed out"),
    ("Timeout", "timed out"),
    ("NoRoute", "no route to host"),
    ("Connect", "could not connect"),
]


# The oldest Scrapy this code is tested with (see pyproject.toml, which declares the same).
MIN_SCRAPY = (2, 14)


def check_scrapy_version(installed: str = scrapy.__version__) -> None:
    """A clear error, rather than a traceback deep in a crawl, when Scrapy is too old."""
    numbers = tuple(int(part) for part in re.findall(r"\d+", installed)[:2])
    if numbers < MIN_SCRAPY:
        wanted = ".".join(map(str, MIN_SCRAPY))
        raise DcsError(
            f"Scrapy {installed} is too old: dcs-archiver needs Scrapy >= {wanted} "
            f"(pip install 'scrapy>={wanted}')"
        )


@dataclass
class CrawlOptions:
    out_dir: Path = Path("archive")
    base_url: str | None = None  # None: the BASE_URL setting (the live site)
    site: str | None = None  # None: the SITES setting (the newspaper); "all", "en", "main,en"
    max_articles: int | None = None
    since: date | None = None
    full: bool = False
    requisites: bool = True
    settings: list[str] = field(default_factory=list)  # NAME=VALUE, as `scrapy crawl -s`
    verbose: bool = False
    frontier: str | None = None  # redis://… shared by the nodes of a cluster crawl
    state: str | None = None  # postgresql://… shared likewise (None: OUT_DIR's SQLite file)
    node: str | None = None  # this node's name (None: host-pid)


def check_writable(folder: Path, what: str = "output folder") -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"\n")  # a full disk fails here, not half way into the crawl
            probe.flush()
    except OSError as exc:
        raise DcsError(f"cannot write to {what} {folder}: {exc.strerror or exc}") from None


def check_archive(settings: Settings) -> None:
    """What a crawl will write to, checked before it starts: its folders can be written, and
    its state store opens (not damaged, not locked by another process)."""
    layout = Layout.from_settings(settings)
    check_writable(layout.warc_dir, "WARC folder")
    check_writable(layout.text_dir, "text folder")
    CrawlState.open(layout.root, settings.get("STATE_URL") or None).close()
    if settings.get("FRONTIER_URL"):
        check_frontier(settings)


def check_frontier(settings: Settings) -> None:
    """The cluster's Redis answers (scrapy-redis, installed apart, is importable)."""
    try:
        from scrapy_redis.connection import get_redis_from_settings
    except ImportError:
        raise DcsError(
            "a cluster crawl (--frontier) needs scrapy-redis: run "
            "scripts/install-cluster-servers.sh, or pip install --no-deps scrapy-redis==0.9.1"
        ) from None
    from redis.exceptions import RedisError

    url = settings.get("FRONTIER_URL")
    try:
        get_redis_from_settings(settings).ping()
    except (RedisError, OSError, ValueError) as exc:
        raise DcsError(f"cannot reach the frontier {url}: {exc}") from None


def build_settings(options: CrawlOptions) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    defaults = settings.copy()  # the kinds of value to check against
    for pair in options.settings:
        name, value = parse_setting(pair, defaults)
        settings.set(name, value, priority="cmdline")
    overrides = {"OUT_DIR": str(options.out_dir)}
    if options.base_url:
        overrides["BASE_URL"] = options.base_url
    if options.site:
        overrides["SITES"] = options.site
    if options.max_articles:
        overrides["MAX_ARTICLES"] = options.max_articles
    if options.since:
        overrides["SINCE"] = options.since.isoformat()
    if options.full:
        overrides["FULL_CRAWL"] = True
    if not options.requisites:
        overrides["REQUISITES_ENABLED"] = False
    for name, value in (
        ("FRONTIER_URL", options.frontier),
        ("STATE_URL", options.state),
        ("NODE_NAME", options.node),
    ):
        if value:
            overrides[name] = value
    settings.setdict(overrides, priority="cmdline")
    if settings.getpriority("USER_AGENT") < settings.getpriority("CONTACT_URL"):
        # -s CONTACT_URL=… alone: the User-Agent names the new contact.
        contact = settings.get("CONTACT_URL")
        agent = settings.get("USER_AGENT_TEMPLATE").format(version=__version__, contact=contact)
        settings.set("USER_AGENT", agent, priority="cmdline")
    check_settings(settings, defaults)
    politeness(settings)
    cluster_settings(settings)  # after politeness: it takes the slots' delays over
    if not options.verbose and not settings.get("LOG_FILE"):
        log_dir = Layout.from_settings(settings).logs_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        name = f"crawl-{datetime.now(UTC):%Y%m%d%H%M%S}-{os.getpid()}.log"
        settings.set("LOG_FILE", str(log_dir / name))
    return settings


def politeness(settings: Settings) -> None:
    """Each site's politeness (crawler.site.Profile: concurrency, delay) as Scrapy download
    slots of its hosts, unless DOWNLOAD_SLOTS names them already; an unknown site is an
    error."""
    try:
        profiles = profiles_named(settings.get("SITES") or "main")
    except ValueError as exc:
        raise DcsError(str(exc)) from None
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    for profile in profiles:
        slot = {}
        if profile.concurrency is not None:
            slot["concurrency"] = profile.concurrency
        if profile.delay is not None:
            slot["delay"] = profile.delay
        for host in profile.hosts if slot else ():
            slots.setdefault(host, slot)
    if slots:
        settings.set("DOWNLOAD_SLOTS", slots, priority=settings.getpriority("DOWNLOAD_SLOTS"))


def unreachable_reason(stats: dict) -> str | None:
    """Why nothing at all came back from the site, or None if something did."""
    if stats.get("downloader/response_count", 0):
        return None
    names = [
        key.rsplit(".", 1)[-1]
        for key in stats
        if key.startswith("downloader/exception_type_count/")
    ]
    for words, reason in UNREACHABLE:
        if any(words in name for name in names):
            return reason
    return ", ".join(names) or None


def run_crawl(options: CrawlOptions) -> Path | None:
    """Runs one crawl to its end and returns the path of its report; raises DcsError on bad
    input or an unreachable site. What was archived before stays untouched either way."""
    check_scrapy_version()
    options.out_dir = Path(options.out_dir)
    check_writable(options.out_dir)
    settings = build_settings(options)
    # A log file on a full disk: lose log lines, not print a traceback to stderr for each.
    logging.raiseExceptions = False
    with OutputLock(options.out_dir):
        check_archive(settings)
        process = CrawlerProcess(settings)
        # Scrapy's log handler drops the records under LOG_LEVEL once they are made: one for
        # every response and every article ("Crawled (200)", "Scraped from"). At the level of
        # Scrapy's loggers they are not made at all.
        logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
        crawler = process.create_crawler("dangcongsan")
        failures: list[Failure] = []
        process.crawl(crawler).addErrback(failures.append)
        process.start()
        for failure in failures:  # the crawl could not start (a component raised while built)
            if failure.check(DcsError):
                raise failure.value
            raise DcsError(
                f"the crawl could not start: {failure.getErrorMessage()}; "
                f"see {settings.get('LOG_FILE') or 'its log'}"
            )
        stats = crawler.stats.get_stats()
    report = stats.get("dcs/report_path") or f"report {stats.get('dcs/report_error')}"
    if stats.get(WRITE_ERROR):
        raise DcsError(
            f"the crawl stopped: {stats[WRITE_ERROR]}; what it could not write is left for "
            f"the next run ({report})"
        )
    reason = unreachable_reason(stats)
    if reason is not None:
        raise DcsError(f"could not reach {settings.get('BASE_URL')}: {reason}")
    # A cluster node may find everything done by the others: not an error.
    if not stats.get("downloader/response_count") and not settings.get("FRONTIER_URL"):
        raise DcsError(
            f"the crawl fetched nothing ({stats.get('finish_reason')}); "
            f"see {settings.get('LOG_FILE') or 'its log'}"
        )
    for site in Sites.from_settings(settings).covered():
        for entry in stats.get("dcs/robots_unreachable", []):
            if entry["url"] == site.base_url + "/robots.txt":
                raise DcsError(
                    f"robots.txt of {site.base_url} unreachable ({entry['reason']}): nothing "
                    f"was fetched from the site (RFC 9309); {report}"
                )
    return Path(stats["dcs/report_path"]) if stats.get("dcs/report_path") else None

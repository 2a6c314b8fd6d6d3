"""Several machines, one crawl: the components a cluster crawl adds to a crawl.

``dcs crawl --frontier redis://… --state postgresql://…`` runs one node of a cluster. Every
node shares three things, and keeps its own output folder (WARC and text files):

- the frontier and duplicate filter, in Redis (scrapy-redis's scheduler, with the canonical
  request fingerprint): ``crawler.cluster.frontier``;
- the state store, in PostgreSQL (crawler.pgstate): what was archived, and which node is
  fetching what (claims with a lease), so that what a dead node held is fetched by another:
  ``crawler.cluster.node``;
- the politeness: one rate limit per host, and a Retry-After, for all nodes together:
  ``crawler.cluster.politeness``.

Without those options none of this runs: a crawl is one process with its SQLite file.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from crawler.errors import DcsError
from crawler.pgstate import is_server_url
from crawler.warc.writer import machine_name

REDIS_SCHEMES = ("redis", "rediss", "unix")
NODE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
MIN_SCRAPY = (2, 19)
# The keys of one cluster in its Redis database (scrapy-redis fills in the spider's name).
QUEUE_KEY = "dcs:%(spider)s:requests"
DUPEFILTER_KEY = "dcs:%(spider)s:dupefilter"


def default_node_name() -> str:
    """This machine's name and this process's ID: unique among the nodes that run at once."""
    return f"{machine_name()}-{os.getpid()}"


def check_frontier_url(url: str) -> None:
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise DcsError(f"--frontier {url!r}: not a redis:// URL (redis://HOST:PORT/DB)")


def check_scrapy_version(installed: str | None = None) -> None:
    """A cluster node reads the crawl's scheduler through ``engine.scheduler`` (2.19)."""
    import scrapy

    installed = installed or scrapy.__version__
    if tuple(int(n) for n in re.findall(r"\d+", installed)[:2]) < MIN_SCRAPY:
        raise DcsError(f"a cluster crawl needs Scrapy >= 2.19 (this is {installed})")


def check_node_name(name: str) -> None:
    if not NODE_NAME.match(name):
        raise DcsError(f"--node {name!r}: may hold letters, digits, '.', '_' and '-' only")


def cluster_settings(settings) -> None:
    """Turn a crawl's settings into a cluster node's, when FRONTIER_URL is set: the Redis
    scheduler and duplicate filter, the shared rate limit instead of each process's own
    delay and AutoThrottle (which would hold requests back past the slot they were given)."""
    frontier, store = settings.get("FRONTIER_URL"), settings.get("STATE_URL")
    if store and not is_server_url(store):
        raise DcsError(f"--state {store!r}: not a postgresql:// URL (postgresql://USER@HOST/DB)")
    if not frontier:
        return
    check_frontier_url(frontier)
    check_scrapy_version()
    if not store:
        raise DcsError(
            "--frontier needs --state postgresql://…: the nodes of a cluster share one state store"
        )
    node = settings.get("NODE_NAME") or default_node_name()
    check_node_name(node)
    shared_delay = settings.getfloat("SHARED_DOWNLOAD_DELAY") or settings.getfloat("DOWNLOAD_DELAY")
    if not settings.getfloat("SHARED_DOWNLOAD_DELAY") and settings.getbool("AUTOTHROTTLE_ENABLED"):
        # What AutoThrottle starts one process at.
        shared_delay = max(shared_delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
    # The sites' own delays (DOWNLOAD_SLOTS, from their profiles) are kept for all nodes
    # together too, and taken off the nodes' own slots for the same reason.
    slots = {host: dict(slot) for host, slot in settings.getdict("DOWNLOAD_SLOTS").items()}
    host_delays = {host: slot.pop("delay") for host, slot in slots.items() if "delay" in slot}
    settings.setdict(
        {
            "DOWNLOAD_SLOTS": slots,
            "SHARED_HOST_DELAYS": host_delays,
            "NODE_NAME": node,
            "SCHEDULER": "crawler.cluster.frontier.ClusterScheduler",
            "DUPEFILTER_CLASS": "crawler.cluster.frontier.CanonicalDupeFilter",
            "REDIS_URL": frontier,
            # The queue and the filter outlive a node: the crawl ends when all are done.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": QUEUE_KEY,
            "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
            "SHARED_DOWNLOAD_DELAY": shared_delay,
            "DOWNLOAD_DELAY": 0,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "AUTOTHROTTLE_ENABLED": False,
        },
        priority="cmdline",
    )

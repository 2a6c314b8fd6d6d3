"""A faithful, deterministic local replica of dangcongsan.vn for tests, the demo and benchmarks.

    site = ReplicaSite(seed=1)                  # the whole site, reproducible from the seed
    ReplicaSite(seed=1, markup_variant=3)       # the same site in markup nobody mapped
    with ReplicaServer(site, faults=FaultPlan(rate_503=0.05)) as server:
        server.base_url                         # http://127.0.0.1:PORT

Ground truth: `site.articles` (with `expected_text`), `site.urls()`, `server.log`.
"""

from .faults import FaultPlan, FaultSpecError
from .model import Category, ReplicaArticle
from .server import ReplicaServer, ServedEntry
from .website import ReplicaSite

__all__ = [
    "Category",
    "FaultPlan",
    "FaultSpecError",
    "ReplicaArticle",
    "ReplicaServer",
    "ReplicaSite",
    "ServedEntry",
]

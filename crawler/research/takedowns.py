"""What the state store knows of takedowns, read without writing a byte of it.

The crawl records in `DIR/state.sqlite3` the articles it found gone (a `takedowns` table of
`removed` and `restored` events, and `urls.removed_at`). Archives made before takedowns were
recorded have neither: they read as having none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from crawler.errors import DcsError
from crawler.layout import Layout


@dataclass(frozen=True)
class Takedown:
    """One event of the `takedowns` table: an article found gone, or back."""

    url: str  # canonical URL
    event: str  # "removed" | "restored"
    at: datetime  # when the crawl found it
    status: int | None  # the answer that told (404, 410, 301 to the home page, 200 again)
    location: str | None  # where a redirect pointed


@contextmanager
def read_state(layout: Layout) -> Iterator[sqlite3.Connection | None]:
    """The state store opened read-only, or None when the archive has none."""
    path = layout.state_file
    if not path.is_file():
        yield None
        return
    # With no -wal file beside it no crawl has the store open: read it as immutable, which
    # makes SQLite create no -wal/-shm files in the archive. A crawl writing meanwhile makes
    # the WAL file appear; then read it as any reader would.
    quiet = not path.with_name(path.name + "-wal").exists()
    uri = f"{path.absolute().as_uri()}?mode=ro" + ("&immutable=1" if quiet else "")
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            db.execute("PRAGMA query_only = 1")
            yield db
    except sqlite3.DatabaseError as exc:
        raise DcsError(f"cannot read the state store {path}: {exc}") from None


def _has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})"))


def takedowns(layout: Layout) -> list[Takedown]:
    """Every takedown event, oldest first ([] for archives that record none)."""
    with read_state(layout) as db:
        if db is None or not _has_column(db, "takedowns", "event"):
            return []
        rows = db.execute(
            "SELECT url, event, at, status, location FROM takedowns ORDER BY at, rowid"
        ).fetchall()
    return [
        Takedown(url, event, datetime.fromtimestamp(at, UTC), status, location)
        for url, event, at, status, location in rows
    ]


def removed_at(layout: Layout) -> dict[str, datetime]:
    """When each article still gone was found gone, by canonical URL."""
    with read_state(layout) as db:
        if db is None or not _has_column(db, "urls", "removed_at"):
            return {}
        rows = db.execute("SELECT url, removed_at FROM urls WHERE removed_at IS NOT NULL")
        return {url: datetime.fromtimestamp(at, UTC) for url, at in rows}

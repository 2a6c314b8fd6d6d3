"""The crawler's memory between runs: every URL seen, its captures, texts and the frontier.

One SQLite file in the output folder (``DIR/state.sqlite3``). Writes come in ``batch()``es,
each all or nothing. Alone, the store commits every batch at once: with WAL and
``synchronous=NORMAL`` a commit costs no fsync, yet survives the process being killed
(SIGKILL included; only a power cut can lose the last commits, never corrupt the file). A
crawl groups its batches (``group_commits()``, then ``commit()`` about once a second, see
crawler.statecommits): a batch is then a savepoint, and a SIGKILL loses the batches since
the last commit, which the next crawl recovers from the WARC files (crawler.warc.resume).
Scrapy's JOBDIR queues do not survive SIGKILL, so the frontier lives here too.

A cluster crawl keeps the same tables in PostgreSQL instead (``CrawlState.open(out,
store="postgresql://…")``, crawler.pgstate): one store for every node. Its frontier entries
are then claimed by the node that fetches them, for a lease the node renews while it lives;
the entries of a node that died are taken back by the others (``reclaim_expired``).

Times are stored as POSIX seconds (REAL) and handed out as aware UTC datetimes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from crawler.errors import ArchiveWriteError, DcsError
from crawler.layout import Layout
from crawler.pgstate import PgConnection, is_server_url, postgres_ddl, shown_url
from crawler.schedule import parse_interval
from crawler.site import Kind, Site

SCHEMA_VERSION = 3
DEFAULT_REVISIT_POLICY = "7d:1d,30d:7d,*:never"
# Rows read per query while iterating over the frontier (keeps memory flat at 10^6 URLs).
PENDING_PAGE = 1000
# How long opening waits for another process's write lock, and how long a write waits.
LOCK_WAIT_MS = 2000
BUSY_WAIT_MS = 10000

_SCHEMA = """
CREATE TABLE urls (
    url TEXT PRIMARY KEY,          -- canonical URL (crawler.site.Site.canonical)
    kind TEXT,                     -- crawler.site.Kind value
    first_seen REAL NOT NULL,
    -- the last fetch, whatever it was (200, 304 revisit, 404, 503, ...)
    fetched_at REAL,
    status INTEGER,
    revisit INTEGER NOT NULL DEFAULT 0,
    fetches INTEGER NOT NULL DEFAULT 0,
    fetch_filename TEXT,           -- where the last fetch's own record lies
    fetch_offset INTEGER,
    fetch_length INTEGER,
    fetch_record_id TEXT,
    -- the full response record revisits refer to (never a revisit record itself)
    ref_status INTEGER,
    ref_fetched_at REAL,
    etag TEXT,
    last_modified TEXT,
    payload_digest TEXT,
    record_id TEXT,
    warc_date TEXT,
    target_uri TEXT,
    ref_filename TEXT,
    ref_offset INTEGER,
    ref_length INTEGER,
    -- articles
    published REAL,
    modified REAL,
    lastmod REAL,                  -- (schema 1; dropped by schema 2: see lastmods)
    text_sha1 TEXT,
    text_path TEXT,
    text_at REAL
);
CREATE INDEX urls_kind_status ON urls (kind, status);
CREATE TABLE frontier (
    id INTEGER PRIMARY KEY,        -- enqueue order
    url TEXT NOT NULL UNIQUE,
    fetch_url TEXT NOT NULL,
    kind TEXT NOT NULL,
    rank INTEGER NOT NULL,         -- minus the priority: one ascending index serves the order
    enqueued_at REAL NOT NULL
);
CREATE INDEX frontier_order ON frontier (rank, id);
"""

# Upgrade steps: the statements that take a store from the version before to this one. A new
# file gets _SCHEMA (version 1), then every step in turn, so each store has one history.
_UPGRADES: dict[int, str] = {
    2: """
-- Dates as the server wrote them, compared with the value seen before, never with our clock:
-- a sitemap's <lastmod>, a feed's pubDate/updated, per URL and per listing that gave it.
CREATE TABLE lastmods (
    url TEXT NOT NULL,             -- canonical URL of an article or a child sitemap
    source TEXT NOT NULL,          -- canonical URL of the sitemap or feed that gave the value
    value TEXT NOT NULL,           -- the last value seen, as sent
    fetched TEXT,                  -- the value seen when the URL was last fetched
    PRIMARY KEY (url, source)
) WITHOUT ROWID;
ALTER TABLE urls DROP COLUMN lastmod;
-- Which articles each sitemap month or list named, to notice one that disappears from it.
CREATE TABLE listings (
    listing TEXT NOT NULL,         -- canonical URL of a child sitemap or a list (no page)
    url TEXT NOT NULL,             -- an article it named
    page INTEGER NOT NULL,         -- the page it was last named on (1 for a sitemap)
    seen_at REAL NOT NULL,         -- when (our clock)
    PRIMARY KEY (listing, url)
) WITHOUT ROWID;
-- Takedowns: articles found gone (404/410, a redirect to the home page or a list), and back.
ALTER TABLE urls ADD COLUMN removed_at REAL;  -- when first seen gone; NULL while present
CREATE TABLE takedowns (url TEXT NOT NULL, event TEXT NOT NULL /* 'removed' | 'restored' */,
    at REAL NOT NULL /* UNIX time first seen */, status INTEGER, location TEXT);
CREATE INDEX takedowns_at ON takedowns (at);
-- Deduplication by content: the payload digest of every URL's full capture, looked up.
CREATE INDEX urls_payload_digest ON urls (payload_digest) WHERE payload_digest IS NOT NULL;
-- Facts about the archive that must stay the same across runs (the crawl's name).
CREATE TABLE facts (name TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
    3: """
-- Cluster crawls: the node fetching a frontier entry, and until when its lease runs (the
-- node renews it while it lives; once it has run out, another node takes the entry back).
ALTER TABLE frontier ADD COLUMN claimed_by TEXT;
ALTER TABLE frontier ADD COLUMN claimed_until REAL;
-- The node whose output folder holds the article's text (NULL: this folder's own).
ALTER TABLE urls ADD COLUMN text_node TEXT;
""",
}
# A URL's new row; a URL's row of the kind given (the kind of a row made before replaced,
# and a row of that kind already left unwritten).
_NEW_URL = "INSERT INTO urls (url, kind, first_seen) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING"
_URL_OF_KIND = (
    "INSERT INTO urls (url, kind, first_seen) VALUES (?, ?, ?) ON CONFLICT (url)"
    " DO UPDATE SET kind = excluded.kind WHERE urls.kind IS NOT excluded.kind"
)
# A fetch whose answer is worth keeping (not an error to retry next run), as SQL.
_SETTLED_SQL = "(status BETWEEN 200 AND 399 OR status IN (404, 410))"


class StateError(DcsError):
    """The state store cannot be opened or used."""


class StateWriteError(StateError, ArchiveWriteError):
    """The state store cannot be written (a full disk, a read-only file system)."""


class StateLockedError(StateError):
    """Another process holds the state store's write lock."""


class PolicyError(DcsError):
    """A revisit policy that does not parse."""


def _unusable(path: Path, exc: Exception) -> str:
    return (
        f"{path} is not a usable dcs state store ({exc}); `dcs verify --repair` moves it to "
        "quarantine/ and the next crawl is then a full one"
    )


def _ts(value: datetime | None, name: str) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        # A naive time is ambiguous (UTC? Vietnam?): refuse it rather than guess.
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _kind(kind: Kind | str | None, url: str) -> str:
    if kind is None:
        # Canonical URLs are on the live hosts, so the live rules of their site classify them.
        return Site.of(url).classify(url).value
    return kind.value if isinstance(kind, Enum) else str(kind)


@dataclass(frozen=True)
class Capture:
    """One fetch of a URL and where its record lies in the WARCs.

    Given to ``record_capture``: the fetch as it happened. A revisit (a 304, or a 200
    written as an identical-payload-digest revisit) sets ``revisit`` (a 304 always is one);
    its location fields are those of the revisit record itself.

    Returned by ``last_capture``: ``status``, ``fetched_at`` and ``revisit`` describe the
    LAST fetch, while ``etag`` … ``length`` describe the full response record a new revisit
    must refer to (WARC-Refers-To = ``record_id``, WARC-Refers-To-Target-URI =
    ``target_uri``, WARC-Refers-To-Date = ``warc_date``). After a 304 they still point at
    the original 200 response, never at the revisit.
    """

    status: int
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    warc_date: str | None = None
    target_uri: str | None = None
    record_id: str | None = None
    filename: str | None = None
    offset: int | None = None
    length: int | None = None
    revisit: bool = False

    @property
    def is_revisit(self) -> bool:
        return self.revisit or self.status == 304


@dataclass(frozen=True)
class Pending:
    """A frontier entry: fetch ``fetch_url``, file the result under ``url``."""

    url: str
    fetch_url: str
    kind: str
    priority: int


@dataclass(frozen=True)
class Pointers:
    """What one URL's row points at: WARC records (file name, offset, WARC-Record-ID) of
    its reference capture and its last fetch, and its text file with the text's SHA-1."""

    url: str
    kind: str
    target_uri: str  # what it was archived as (to fetch it again)
    records: tuple[tuple[str, int, str | None], ...]
    text: tuple[Path, str | None] | None


@dataclass(frozen=True)
class Unsettled:
    """A pending URL whose last fetch is in the WARC files (``fetched_while_pending``):
    where that fetch's record lies, and the full response it repeats if it is a revisit."""

    url: str
    status: int
    revisit: bool
    filename: str
    offset: int
    length: int
    ref_filename: str | None
    ref_offset: int | None
    ref_length: int | None


@dataclass(frozen=True)
class RevisitPolicy:
    """How often to refetch an article, by its age.

    Built from a setting string such as ``"7d:1d,30d:7d,*:never"``: articles younger
    than 7 days are rechecked daily, younger than 30 days weekly, older ones never.
    ``always`` (or ``0``) rechecks on every run. Ages without a ``*`` rule at the end
    mean "older: never".
    """

    # (max_age, interval): max_age None = any age ("*"); interval None = never.
    rules: tuple[tuple[timedelta | None, timedelta | None], ...]

    @classmethod
    def parse(cls, text: str | None) -> RevisitPolicy:
        text = text or DEFAULT_REVISIT_POLICY  # an unset setting
        rules: list[tuple[timedelta | None, timedelta | None]] = []
        for part in (p.strip() for p in str(text).split(",")):
            age_text, sep, interval_text = part.partition(":")
            if not sep:
                raise PolicyError(
                    f"revisit policy {text!r}: bad rule {part!r} "
                    "(expected AGE:INTERVAL, e.g. 7d:1d,30d:7d,*:never)"
                )
            if rules and rules[-1][0] is None:
                raise PolicyError(f"revisit policy {text!r}: the '*' rule must be the last")
            age = None if age_text.strip() == "*" else _policy_duration(text, age_text)
            if age is not None and rules and age <= rules[-1][0]:  # type: ignore[operator]
                raise PolicyError(f"revisit policy {text!r}: ages must increase")
            interval_text = interval_text.strip().lower()
            if interval_text == "never":
                interval = None
            elif interval_text in ("always", "0"):
                interval = timedelta(0)
            else:
                interval = _policy_duration(text, interval_text)
            rules.append((age, interval))
        return cls(tuple(rules))

    @property
    def horizon(self) -> timedelta | None:
        """The age past which the policy never rechecks an article; None: no such age."""
        horizon = timedelta(0)
        for max_age, interval in self.rules:
            if interval is not None:
                if max_age is None:
                    return None
                horizon = max_age
        return horizon

    def interval_for(self, age: timedelta) -> timedelta | None:
        """How long to wait between fetches of an article this old; None = never again."""
        for max_age, interval in self.rules:
            if max_age is None or age < max_age:
                return interval
        return None


def _policy_duration(policy: str, text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_interval(text.strip()))
    except DcsError:
        raise PolicyError(f"revisit policy {policy!r}: bad duration {text.strip()!r}") from None


def _moved(move: Callable[[int], int | None], offset: int | None) -> int | None:
    if offset is None:
        return None
    moved = move(offset)
    return offset if moved is None else moved


def settled(status: int | None) -> bool:
    """Whether a fetch gave an answer worth keeping (not an error to retry next run)."""
    return status is not None and (200 <= status < 400 or status in (404, 410))


# The columns of the full capture a revisit refers to, named as Capture's fields.
_REFERENCE_SQL = (
    "etag, last_modified, payload_digest, warc_date, target_uri, record_id,"
    " ref_filename AS filename, ref_offset AS offset, ref_length AS length"
)


def _capture(row: sqlite3.Row) -> Capture:
    """A Capture from a row of ``status, fetched_at, revisit`` and ``_REFERENCE_SQL``."""
    fields = {name: row[name] for name in row.keys()}
    fields["fetched_at"] = _dt(fields["fetched_at"])
    fields["revisit"] = bool(fields["revisit"])
    return Capture(**fields)


def _own_url(url: str, target_uri: str | None) -> str:
    # Its own archived URL, not that of another URL whose payload it repeats (dedup).
    return target_uri if target_uri and Site.of(target_uri).canonical(target_uri) == url else url


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one by one (executescript would commit the open transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


@dataclass(frozen=True)
class Takedown:
    """One event of the ``takedowns`` table: an article found gone, or back.

    ``at`` is when it was first seen so (our clock); ``status`` the HTTP status that showed
    it, ``location`` the redirect target when a redirect to the home page or a list did.
    """

    url: str
    event: str  # REMOVED or RESTORED
    at: datetime
    status: int | None = None
    location: str | None = None


REMOVED = "removed"
RESTORED = "restored"


class CrawlState:
    """The state store of one output folder: its SQLite file, or a PostgreSQL database that
    several nodes share. Use ``CrawlState.open(out_dir)``."""

    def __init__(
        self,
        path: Path | str,
        connection: sqlite3.Connection | PgConnection,
        out_dir: Path | None = None,
    ) -> None:
        self.path = path  # the SQLite file, or the database's URL (without password)
        self.out_dir = (out_dir or Path(path).parent).absolute()
        self._db: sqlite3.Connection | PgConnection | None = connection
        # A server shared by several nodes (PostgreSQL) rather than this folder's own file.
        self.shared = isinstance(connection, PgConnection)
        self.node: str | None = None  # the name of this node in a cluster crawl
        # Scrapy may call from its thread pool; one connection, one writer at a time.
        self._lock = threading.RLock()
        self._depth = 0  # batches open, the outermost one included
        self.grouped = False  # batches left uncommitted until commit() (group_commits)
        self._decisions_ready = False  # the temporary table of decide() exists

    # -- opening and closing ----------------------------------------------------------
    @classmethod
    def open(cls, out_dir: str | os.PathLike[str], store: str | None = None) -> CrawlState:
        """The state of the output folder ``out_dir``: its SQLite file, or the PostgreSQL
        database ``store`` names (``postgresql://…``), created or upgraded as needed."""
        if store:
            return cls._open_server(Path(out_dir), store)
        out = Path(out_dir)
        path = Layout.of(out).state_file
        try:
            out.mkdir(parents=True, exist_ok=True)
            # SQLite would create the file 0644 whatever the umask; its WAL takes the mode of
            # the database file, so creating the file first lets the umask decide for both.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o666))
            # Autocommit mode: each statement commits at once unless inside batch().
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the state store {path}: {exc}") from None
        try:
            db.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            # Fold the WAL into the file every 1 MB, not 4: less disk held by the state store.
            db.execute("PRAGMA wal_autocheckpoint = 256")
            cls._migrate(db, path)
            # Say at once when another process holds the write lock (a sqlite3 shell left
            # in a transaction, a backup): every write of the crawl would wait, then fail.
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            db.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")
        except sqlite3.OperationalError as exc:  # locked; a full disk, an I/O error, read-only
            db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StateLockedError(
                    f"the state store {path} is locked by another process "
                    "(an open sqlite3 shell or a backup?); try again when it is done"
                ) from None
            raise StateWriteError(f"cannot write the state store {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StateError(_unusable(path, exc)) from None
        return cls(path, db)

    @classmethod
    def _open_server(cls, out: Path, url: str) -> CrawlState:
        if not is_server_url(url):
            raise StateError(f"--state {url!r}: not a postgresql:// URL")
        db = PgConnection.connect(url)
        try:
            cls._migrate_server(db, shown_url(url))
        except BaseException:
            db.close()
            raise
        return cls(shown_url(url), db, out)

    @staticmethod
    def _migrate_server(db: PgConnection, name: str) -> None:
        """The same schema history as a SQLite file's, its version kept in a table."""
        try:
            db.execute("BEGIN IMMEDIATE")  # one node creates or upgrades it, the others wait
            db.execute("CREATE TABLE IF NOT EXISTS dcs_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM dcs_schema").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"{name} was written by a newer dcs (schema {version}, this one knows "
                    f"{SCHEMA_VERSION})"
                )
            if version < SCHEMA_VERSION:
                if version == 0:
                    _run_script(db, postgres_ddl(_SCHEMA))
                    version = 1
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    _run_script(db, postgres_ddl(_UPGRADES[step]))
                db.execute("DELETE FROM dcs_schema")
                db.execute("INSERT INTO dcs_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise StateWriteError(f"cannot write the state store {name}: {exc}") from None
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")

    @staticmethod
    def _migrate(db: sqlite3.Connection, path: Path) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{path} was written by a newer dcs (schema {version}, this one knows "
                f"{SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            # Read again inside the transaction: another process may have upgraded it.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                _run_script(db, _SCHEMA)
                version = 1
            for step in range(version + 1, SCHEMA_VERSION + 1):
                _run_script(db, _UPGRADES[step])
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may have rolled back already (a full disk)
                db.execute("ROLLBACK")
            raise

    @classmethod
    def for_crawler(cls, crawler: Any) -> CrawlState:
        """The state of a Scrapy crawler's output folder (setting ``OUT_DIR``), opened once.

        Cached as ``crawler.crawl_state``. Closed on ``engine_stopped``, which Scrapy
        sends after every ``spider_closed`` handler has run, so extensions and pipelines
        can still record in their own ``spider_closed`` handlers.
        """
        state = getattr(crawler, "crawl_state", None)
        if state is None:
            from scrapy import signals  # here: the store itself does not need Scrapy

            layout = Layout.from_settings(crawler.settings)
            layout.record()  # later commands, given only the folder, find the files again
            state = cls.open(layout.root, crawler.settings.get("STATE_URL") or None)
            if state.shared:
                state.node = crawler.settings.get("NODE_NAME") or None
            crawler.crawl_state = state
            crawler.signals.connect(state.close, signal=signals.engine_stopped)
        return state

    def close(self) -> None:
        """Commit what is left (see ``commit()``, which may raise StateWriteError) and close."""
        with self._lock:
            if self._db is not None:
                try:
                    self.commit()
                except StateWriteError:
                    self._db.close()
                    self._db = None
                    raise
                try:
                    # Fold the WAL back into the main file so it is one self-contained file.
                    if not self.shared:
                        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass  # a reader holds it: the WAL is folded in on the next open
                self._db.close()
                self._db = None

    @property
    def closed(self) -> bool:
        return self._db is None

    def __enter__(self) -> CrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection | PgConnection:
        if self._db is None:
            raise StateError(f"the state store {self.path} is closed")
        return self._db

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one transaction (bulk enqueues): all of them or none.

        Nests: an inner batch joins the outer one, which alone commits or rolls back. With
        group commits on, the outermost batch is a savepoint of the open group instead, and
        ``commit()`` commits the group.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                if self.grouped:
                    with self._savepoint():
                        yield
                else:
                    with self._transaction():
                        yield
            except sqlite3.OperationalError as exc:  # a full disk, an I/O error, read-only
                raise self._write_error(exc) from exc

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one write statement as a batch of its own; the number of rows it changed.

        A statement is all or nothing by itself: in a group it needs no savepoint."""
        with self._lock:
            if self._depth or not self.grouped:
                with self.batch():
                    return self.db.execute(sql, params).rowcount
            try:
                if not self.db.in_transaction:
                    self.db.execute("BEGIN IMMEDIATE")
                return self.db.execute(sql, params).rowcount
            except sqlite3.OperationalError as exc:
                raise self._write_error(exc) from exc

    def _write_error(self, exc: sqlite3.OperationalError) -> StateWriteError:
        return StateWriteError(f"cannot write the state store {self.path}: {exc}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk does that).
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("SAVEPOINT batch")
        self._depth = 1
        try:
            yield
            self.db.execute("RELEASE batch")
        except BaseException:
            if self.db.in_transaction:  # else SQLite rolled the whole group back (a full disk)
                self.db.execute("ROLLBACK TO batch")
                self.db.execute("RELEASE batch")
            raise
        finally:
            self._depth = 0

    def group_commits(self) -> None:
        """From now on, batches stay uncommitted until ``commit()``: one commit for many
        batches. A process killed in between loses the batches since the last commit.

        Not on a shared server: other nodes must see each batch when it ends, and would
        wait for the write lock as long as a group stays open."""
        self.grouped = not self.shared

    def commit(self) -> None:
        """Commit the batches written since the last commit (when grouped; else a no-op)."""
        with self._lock:
            if self._db is None or self._depth or not self._db.in_transaction:
                return
            try:
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise self._write_error(exc) from exc

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._lock:
            cursor = self.db.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchone()

    def _touch(self, url: str, kind: Kind | str | None = None) -> None:
        """Make sure the URL has a row (inside the caller's transaction).

        A given ``kind`` replaces the stored one; without one, a new row is classified
        by the URL rules and an existing row keeps its kind (and is not classified again).
        """
        if kind is not None:
            self.db.execute(_URL_OF_KIND, (url, _kind(kind, url), time.time()))
        elif self.db.execute("SELECT 1 FROM urls WHERE url = ?", (url,)).fetchone() is None:
            self.db.execute(_NEW_URL, (url, _kind(None, url), time.time()))

    def _update(self, url: str, sql: str, params: tuple[Any, ...]) -> None:
        """Run ``sql``, an UPDATE of ``url``'s row by that condition alone, giving the URL
        a row first when it has none (inside the caller's transaction)."""
        if not self.db.execute(sql, params).rowcount:
            self._touch(url)
            self.db.execute(sql, params)

    # -- captures ---------------------------------------------------------------------
    def record_capture(
        self,
        url: str,
        capture: Capture,
        kind: Kind | str | None = None,
        *,
        original: Capture | None = None,
    ) -> None:
        """Remember a fetch of ``url`` (any status).

        A revisit updates the last fetch (time, status, its own record) and the
        validators, and keeps the reference to the original full capture. A full
        response replaces that reference when it is a 2xx, or when there is no 2xx
        reference yet: a page that turns 404 or 503 keeps pointing at its last good copy.
        A revisit of another URL's capture (``original``, deduplication by content) makes
        that capture the reference, by the same rule: later revisits refer to it too.
        """
        fetched_at = _ts(capture.fetched_at, "fetched_at")
        with self.batch():
            if kind is not None:
                self._touch(url, kind)
            self._update(
                url,
                "UPDATE urls SET fetched_at = ?, status = ?, revisit = ?, fetches = fetches + 1,"
                " fetch_filename = ?, fetch_offset = ?, fetch_length = ?, fetch_record_id = ?"
                " WHERE url = ?",
                (
                    fetched_at,
                    capture.status,
                    int(capture.is_revisit),
                    capture.filename,
                    capture.offset,
                    capture.length,
                    capture.record_id,
                    url,
                ),
            )
            if settled(capture.status):
                # What the sitemaps and feeds say now is what this fetch holds.
                self.db.execute(
                    "UPDATE lastmods SET fetched = value WHERE url = ? AND fetched IS NOT value",
                    (url,),
                )
            if capture.is_revisit:
                # Same representation: newer validators may come with it (RFC 9111 4.3.4).
                self.db.execute(
                    "UPDATE urls SET etag = coalesce(?, etag),"
                    " last_modified = coalesce(?, last_modified) WHERE url = ?",
                    (capture.etag, capture.last_modified, url),
                )
                if original is None:
                    return
                capture = replace(
                    original, status=capture.status, etag=capture.etag,
                    last_modified=capture.last_modified,
                )  # fmt: skip
            self.db.execute(
                "UPDATE urls SET ref_status = ?, ref_fetched_at = ?, etag = ?,"
                " last_modified = ?, payload_digest = ?, record_id = ?, warc_date = ?,"
                " target_uri = ?, ref_filename = ?, ref_offset = ?, ref_length = ?"
                " WHERE url = ? AND (? BETWEEN 200 AND 299 OR ref_status IS NULL"
                " OR ref_status NOT BETWEEN 200 AND 299)",
                (
                    capture.status,
                    fetched_at,
                    capture.etag,
                    capture.last_modified,
                    capture.payload_digest,
                    capture.record_id,
                    capture.warc_date,
                    capture.target_uri,
                    capture.filename,
                    capture.offset,
                    capture.length,
                    url,
                    capture.status,
                ),
            )

    def last_capture(self, url: str) -> Capture | None:
        """The last fetch of ``url`` and the full capture a revisit refers to (see Capture)."""
        row = self._one(
            f"SELECT status, fetched_at, revisit, {_REFERENCE_SQL}"
            " FROM urls WHERE url = ? AND fetched_at IS NOT NULL",
            (url,),
        )
        return None if row is None else _capture(row)

    def conditional_headers(self, url: str) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` for a refetch, from the last 200.

        Empty unless a 200 response record exists to refer to: a 304 must be writable as
        a revisit pointing at an original.
        """
        row = self._one(
            "SELECT etag, last_modified FROM urls"
            " WHERE url = ? AND ref_status = 200 AND record_id IS NOT NULL",
            (url,),
        )
        headers: dict[str, str] = {}
        if row is not None:
            if row["etag"]:
                headers["If-None-Match"] = row["etag"]
            if row["last_modified"]:
                headers["If-Modified-Since"] = row["last_modified"]
        return headers

    # -- articles ---------------------------------------------------------------------
    def record_dates(
        self, url: str, published: datetime | None = None, modified: datetime | None = None
    ) -> None:
        """The article's own published/modified times (those that are known)."""
        with self.batch():
            self._update(
                url,
                "UPDATE urls SET published = coalesce(?, published),"
                " modified = coalesce(?, modified) WHERE url = ?",
                (_ts(published, "published"), _ts(modified, "modified"), url),
            )

    def note_lastmod(
        self, url: str, source: str, value: str, *, fetched_since: datetime | None = None
    ) -> None:
        """The date ``source`` (a sitemap, a feed) gives ``url`` now, as the server wrote it.

        Kept as text and only ever compared with the value seen before (``lastmod_changed``):
        a server whose clock is years off, or ahead of ours, still says when it changed.
        ``fetched_since`` (the start of this crawl): a URL fetched since then holds what the
        value describes, so the value counts as fetched.
        """
        with self.batch():
            self._touch(url)
            self.db.execute(
                "INSERT INTO lastmods (url, source, value) VALUES (?, ?, ?)"
                " ON CONFLICT (url, source) DO UPDATE SET value = excluded.value",
                (url, source, value),
            )
            if fetched_since is not None:
                self.db.execute(
                    "UPDATE lastmods SET fetched = value WHERE url = ? AND source = ?"
                    f" AND EXISTS (SELECT 1 FROM urls WHERE url = ? AND fetched_at >= ?"
                    f" AND {_SETTLED_SQL})",
                    (url, source, url, _ts(fetched_since, "fetched_since")),
                )

    def lastmod_changed(self, url: str) -> bool:
        """Whether a sitemap or feed now dates ``url`` otherwise than when it was last
        fetched (or dates it for the first time since)."""
        return (
            self._one(
                "SELECT 1 FROM lastmods WHERE url = ? AND value IS NOT fetched LIMIT 1", (url,)
            )
            is not None
        )

    def record_text(self, url: str, sha1: str, path: str | os.PathLike[str]) -> None:
        """The article's text was written to the file ``path`` (an ordinary path).

        Stored relative to the output folder when it lies inside, so the folder can move.
        """
        absolute = Path(path).absolute()
        stored = (
            absolute.relative_to(self.out_dir)
            if absolute.is_relative_to(self.out_dir)
            else absolute
        )
        with self.batch():
            self._update(
                url,
                "UPDATE urls SET text_sha1 = ?, text_path = ?, text_at = ?, text_node = ?"
                " WHERE url = ?",
                (sha1, str(stored), time.time(), self.node, url),
            )

    def has_text(self, url: str) -> bool:
        row = self._one("SELECT 1 FROM urls WHERE url = ? AND text_sha1 IS NOT NULL", (url,))
        return row is not None

    def text_of(self, url: str) -> tuple[str, Path] | None:
        """(sha1, path) of the article's last text, if any."""
        row = self._one("SELECT text_sha1, text_path FROM urls WHERE url = ?", (url,))
        if row is None or row["text_sha1"] is None:
            return None
        return row["text_sha1"], self.out_dir / row["text_path"]

    def is_archived(self, url: str) -> bool:
        """An article with a 200 capture and its text file on disk (on the disk of the node
        that wrote it, in a cluster crawl: only this node's own files can be looked at)."""
        row = self._one(
            "SELECT text_path, text_node FROM urls WHERE url = ? AND kind = ?"
            " AND ref_status = 200 AND text_sha1 IS NOT NULL",
            (url, Kind.ARTICLE.value),
        )
        if row is None:
            return False
        return row["text_node"] != self.node or (self.out_dir / row["text_path"]).is_file()

    def seen(self, url: str) -> bool:
        return self._one("SELECT 1 FROM urls WHERE url = ?", (url,)) is not None

    def has_history(self) -> bool:
        """Whether an earlier run fetched anything into this folder (incremental mode)."""
        return self._one("SELECT 1 FROM urls WHERE fetched_at IS NOT NULL LIMIT 1") is not None

    # -- revisits ---------------------------------------------------------------------
    def due_for_revisit(
        self,
        url: str,
        now: datetime | None = None,
        policy: RevisitPolicy | None = None,
        *,
        published: datetime | None = None,
    ) -> bool:
        """Whether ``url`` should be fetched (again) in this run.

        Due: never fetched; a sitemap or feed date that differs from the one seen at the
        last fetch (``lastmod_changed``); the last
        fetch failed (5xx, 429, 403, network error …). Otherwise an article follows the
        policy by its age (``published``, else the stored published time, else when it was
        first seen); an asset is never refetched; home, lists, feeds, sitemaps and other
        pages are always due (they are how new articles are found, and conditional
        requests keep refetching them cheap).
        """
        now_ts = _ts(now or datetime.now(UTC), "now")
        row = self._one(
            "SELECT kind, fetched_at, status, first_seen, published FROM urls WHERE url = ?",
            (url,),
        )
        if row is None or row["fetched_at"] is None:
            return True
        if self.lastmod_changed(url):
            return True
        if not settled(row["status"]):
            return True
        if row["kind"] == Kind.ASSET.value:
            return False
        if row["kind"] != Kind.ARTICLE.value:
            return True
        born = _ts(published, "published") or row["published"] or row["first_seen"]
        age = timedelta(seconds=max(0.0, now_ts - born))  # type: ignore[operator]
        interval = (policy or RevisitPolicy.parse(DEFAULT_REVISIT_POLICY)).interval_for(age)
        if interval is None:
            return False
        return now_ts - row["fetched_at"] >= interval.total_seconds()  # type: ignore[operator]

    def articles_due(
        self, now: datetime | None = None, policy: RevisitPolicy | None = None
    ) -> Iterator[tuple[str, str]]:
        """(canonical URL, URL last fetched) of every archived article the policy says to
        recheck now: the revisit policy does not wait for a link to the article."""
        now = now or datetime.now(UTC)
        policy = policy or RevisitPolicy.parse(DEFAULT_REVISIT_POLICY)
        horizon = policy.horizon
        oldest = None if horizon is None else _ts(now - horizon, "now")
        # A cheap first cut in SQL (young enough for the policy, or flagged by a sitemap, or
        # last fetched with an error); due_for_revisit has the last word on each.
        with self._lock:
            rows = self.db.execute(
                "SELECT url, target_uri FROM urls WHERE kind = ?1 AND ref_status = 200"
                " AND text_sha1 IS NOT NULL AND (?2 IS NULL"
                " OR coalesce(published, first_seen) >= ?2 OR status NOT IN (200, 304)"
                " OR EXISTS (SELECT 1 FROM lastmods l WHERE l.url = urls.url"
                " AND l.value IS NOT l.fetched))",
                (Kind.ARTICLE.value, oldest),
            ).fetchall()
        for url, target_uri in rows:
            if self.due_for_revisit(url, now, policy):
                yield url, _own_url(url, target_uri)

    def last_url(self, url: str) -> str:
        """The URL ``url`` (canonical) was last archived under: the query a portal article
        was linked with kept; ``url`` itself when it was never archived."""
        row = self._one("SELECT target_uri FROM urls WHERE url = ?", (url,))
        return _own_url(url, row["target_uri"] if row else None)

    # -- listings and takedowns ---------------------------------------------------------
    def record_listing(self, listing: str, urls: Iterable[str], page: int = 1) -> None:
        """The articles a child sitemap (``page`` 1) or a list page names now."""
        now = time.time()
        with self.batch():
            self.db.executemany(
                "INSERT INTO listings (listing, url, page, seen_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (listing, url) DO UPDATE SET page = excluded.page,"
                " seen_at = excluded.seen_at",
                [(listing, url, page, now) for url in dict.fromkeys(urls)],
            )

    def gone_from_listing(
        self, listing: str, since: datetime, before_page: int | None = None
    ) -> list[str]:
        """Articles ``listing`` named in an earlier read but not since ``since``: it no longer
        names them. Only those last named before page ``before_page`` of a list (one read
        down to that page; an article from further down may have moved past the pages read).
        They leave the listing; one named again is recorded again."""
        where = "listing = ? AND seen_at < ?"
        params: tuple[Any, ...] = (listing, _ts(since, "since"))
        if before_page is not None:
            where += " AND page < ?"
            params += (before_page,)
        with self.batch():
            gone = [
                url for (url,) in self.db.execute(f"SELECT url FROM listings WHERE {where}", params)
            ]
            self.db.execute(f"DELETE FROM listings WHERE {where}", params)
        return gone

    def record_removed(
        self, url: str, status: int | None, location: str | None = None, at: datetime | None = None
    ) -> bool:
        """The article is gone (a 404/410, a redirect to the home page or a list): marked
        removed as of ``at`` (now), unless it already was (the first date stays). Its
        captures and text are not touched. True if this is news."""
        when = _ts(at or datetime.now(UTC), "at")
        with self.batch():
            self._touch(url)
            changed = self.db.execute(
                "UPDATE urls SET removed_at = ? WHERE url = ? AND removed_at IS NULL", (when, url)
            ).rowcount
            if changed:
                self.db.execute(
                    "INSERT INTO takedowns (url, event, at, status, location)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (url, REMOVED, when, status, location),
                )
        return bool(changed)

    def record_present(self, url: str, status: int | None, at: datetime | None = None) -> bool:
        """The article answers again (200, or 304 to a conditional request): a removed one
        is recorded ``restored``. True if it was removed."""
        when = _ts(at or datetime.now(UTC), "at")
        with self.batch():
            changed = self.db.execute(
                "UPDATE urls SET removed_at = NULL WHERE url = ? AND removed_at IS NOT NULL",
                (url,),
            ).rowcount
            if changed:
                self.db.execute(
                    "INSERT INTO takedowns (url, event, at, status) VALUES (?, ?, ?, ?)",
                    (url, RESTORED, when, status),
                )
        return bool(changed)

    def is_removed(self, url: str) -> bool:
        return (
            self._one("SELECT 1 FROM urls WHERE url = ? AND removed_at IS NOT NULL", (url,))
            is not None
        )

    def takedowns(self, since: datetime | None = None, url: str | None = None) -> list[Takedown]:
        """The takedown events (``removed``, ``restored``), oldest first; those seen since
        ``since``, of ``url`` only when given."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("at >= ?")
            params.append(_ts(since, "since"))
        if url is not None:
            where.append("url = ?")
            params.append(url)
        with self._lock:
            rows = self.db.execute(
                "SELECT url, event, at, status, location FROM takedowns"
                f" WHERE {' AND '.join(where)} ORDER BY at, rowid",
                params,
            ).fetchall()
        return [Takedown(u, e, _dt(a), s, loc) for u, e, a, s, loc in rows]  # type: ignore[arg-type]

    # -- deduplication ------------------------------------------------------------------
    def capture_by_digest(self, payload_digest: str) -> Capture | None:
        """A full response record, of any URL, whose payload has this digest (through an
        index: one lookup whatever the size of the archive)."""
        row = self._one(
            "SELECT ref_status AS status, ref_fetched_at AS fetched_at, 0 AS revisit,"
            f" {_REFERENCE_SQL} FROM urls WHERE payload_digest = ? AND record_id IS NOT NULL"
            " AND target_uri IS NOT NULL AND warc_date IS NOT NULL AND ref_filename IS NOT NULL"
            " LIMIT 1",
            (payload_digest,),
        )
        return None if row is None else _capture(row)

    # -- facts --------------------------------------------------------------------------
    def fact(self, name: str) -> str | None:
        """A fact about the archive kept across runs (see ``set_fact``), or None."""
        row = self._one("SELECT value FROM facts WHERE name = ?", (name,))
        return None if row is None else row["value"]

    def keep_fact(self, name: str, value: str) -> str:
        """The fact ``name``, set to ``value`` unless it is set already (by another node)."""
        with self.batch():
            self.db.execute(
                "INSERT INTO facts (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (name, value),
            )
        return self.fact(name) or value

    def set_fact(self, name: str, value: str) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO facts (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # -- frontier ---------------------------------------------------------------------
    def enqueue(self, url: str, fetch_url: str, kind: Kind | str, priority: int = 0) -> bool:
        """Add ``url`` to the frontier; True if it was not pending already.

        A URL already pending keeps its place and fetch URL, and takes the higher priority.
        """
        kind_value = _kind(kind, url)
        with self.batch():
            self._touch(url, kind_value)
            added = self.db.execute(
                "INSERT INTO frontier (url, fetch_url, kind, rank, enqueued_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
                (url, fetch_url, kind_value, -priority, time.time()),
            ).rowcount
            if not added:
                self.db.execute(
                    "UPDATE frontier SET rank = ?1 WHERE url = ?2 AND rank > ?1", (-priority, url)
                )
            return bool(added)

    def pending(self, limit: int | None = None) -> Iterator[Pending]:
        """The frontier, highest priority first, then in enqueue order.

        Read a page at a time, so ``done()`` and ``enqueue()`` may be called while
        iterating; entries enqueued behind the current position are not revisited.
        """
        last = (float("-inf"), -1)
        left = limit
        while left is None or left > 0:
            page = PENDING_PAGE if left is None else min(PENDING_PAGE, left)
            with self._lock:
                rows = self.db.execute(
                    "SELECT rank, id, url, fetch_url, kind FROM frontier"
                    " WHERE (rank, id) > (?, ?) ORDER BY rank, id LIMIT ?",
                    (*last, page),
                ).fetchall()
            for rank, _id, url, fetch_url, kind in rows:
                yield Pending(url, fetch_url, kind, -rank)
            if len(rows) < page:
                return
            last = (rows[-1][0], rows[-1][1])
            if left is not None:
                left -= len(rows)

    def last_fetch_offsets(self) -> dict[str, int]:
        """By WARC file, the offset of the last fetch record the state knows in it: what the
        WARC files hold beyond these, a killed crawl wrote without committing it here."""
        with self._lock:
            return dict(
                self.db.execute(
                    "SELECT fetch_filename, max(fetch_offset) FROM urls"
                    " WHERE fetch_filename IS NOT NULL GROUP BY fetch_filename"
                )
            )

    def fetched_while_pending(self) -> Iterator[Unsettled]:
        """Frontier entries fetched since they were entered, with a settled answer: a crawl
        stopped before that answer's outcome (its links, its text) was committed."""
        with self._lock:
            rows = self.db.execute(
                "SELECT u.url, u.status, u.revisit, u.fetch_filename, u.fetch_offset,"
                " u.fetch_length, u.ref_filename, u.ref_offset, u.ref_length"
                " FROM frontier f JOIN urls u ON u.url = f.url"
                " WHERE u.fetched_at >= f.enqueued_at AND u.fetch_filename IS NOT NULL"
            ).fetchall()
        for url, status, revisit, *where in rows:
            if settled(status):
                yield Unsettled(url, status, bool(revisit), *where)

    def is_pending(self, url: str) -> bool:
        return self._one("SELECT 1 FROM frontier WHERE url = ?", (url,)) is not None

    # -- claims: the frontier of a cluster crawl ------------------------------------------
    def claim(self, url: str, node: str, lease: float) -> bool:
        """Take the pending ``url`` for ``node`` for ``lease`` seconds: True unless it left
        the frontier (a node archived it) or another node holds a lease on it still."""
        now = time.time()
        with self.batch():
            return (
                self.db.execute(
                    "UPDATE frontier SET claimed_by = ?, claimed_until = ? WHERE url = ?"
                    " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)",
                    (node, now + lease, url, node, now),
                ).rowcount
                == 1
            )

    def unclaim(self, url: str, node: str) -> None:
        """Give up ``node``'s claim on ``url``, which stays pending (queued again, or left
        for the next crawl after its fetch failed)."""
        with self.batch():
            self.db.execute(
                "UPDATE frontier SET claimed_by = NULL, claimed_until = NULL"
                " WHERE url = ? AND claimed_by = ?",
                (url, node),
            )

    def renew_claims(self, node: str, lease: float) -> int:
        """``node`` lives: its leases run ``lease`` seconds from now. The number held."""
        with self.batch():
            return self.db.execute(
                "UPDATE frontier SET claimed_until = ? WHERE claimed_by = ?",
                (time.time() + lease, node),
            ).rowcount

    def expire_claims(self, node: str) -> None:
        """``node`` stops: what it holds is for the other nodes to take back at once."""
        with self.batch():
            self.db.execute("UPDATE frontier SET claimed_until = 0 WHERE claimed_by = ?", (node,))

    def reclaim_expired(self, limit: int = PENDING_PAGE) -> list[Pending]:
        """Entries whose lease ran out (their node died or stopped), highest priority first:
        unclaimed again, for the caller to queue. Nodes reclaiming at once share them out
        (``FOR UPDATE SKIP LOCKED``: each entry goes to one of them)."""
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.shared else ""
        with self.batch():
            rows = self.db.execute(
                "SELECT url, fetch_url, kind, rank FROM frontier"
                " WHERE claimed_by IS NOT NULL AND claimed_until < ?"
                f" ORDER BY rank, id LIMIT ?{skip_locked}",
                (time.time(), limit),
            ).fetchall()
            self.db.executemany(
                "UPDATE frontier SET claimed_by = NULL, claimed_until = NULL WHERE url = ?",
                [(url,) for url, *_ in rows],
            )
        return [Pending(url, fetch_url, kind, -rank) for url, fetch_url, kind, rank in rows]

    def claims(self) -> int:
        """Frontier entries some node holds (or held: those of a dead node until reclaimed)."""
        row = self._one("SELECT count(*) AS n FROM frontier WHERE claimed_by IS NOT NULL")
        return row["n"] if row else 0

    def done(self, url: str) -> None:
        """Take ``url`` off the frontier (fetched, or given up)."""
        self._write("DELETE FROM frontier WHERE url = ?", (url,))

    # -- fixity (dcs verify) ------------------------------------------------------------
    def integrity_problem(self) -> str | None:
        """What SQLite's own check finds wrong with the file, or None."""
        if self.shared:
            return None  # the server keeps its own files whole
        with self._lock:
            rows = [row[0] for row in self.db.execute("PRAGMA quick_check")]
        return None if rows == ["ok"] else "; ".join(rows[:3])

    def pointers(self) -> Iterator[Pointers]:
        """Every URL that points at a record or a text file, read a page at a time."""
        last = ""
        while True:
            with self._lock:
                cursor = self.db.execute(
                    "SELECT url, kind, target_uri, ref_filename, ref_offset, record_id,"
                    " fetch_filename, fetch_offset, fetch_record_id, text_path, text_sha1"
                    " FROM urls WHERE url > ? AND (ref_filename IS NOT NULL"
                    " OR fetch_filename IS NOT NULL OR text_path IS NOT NULL)"
                    " ORDER BY url LIMIT ?",
                    (last, PENDING_PAGE),
                )
                rows = cursor.fetchall()
            for row in rows:
                records = [
                    (filename, offset, record_id)
                    for filename, offset, record_id in (row[3:6], row[6:9])
                    if filename is not None
                ]
                text = None if row[9] is None else (self.out_dir / row[9], row[10])
                records = tuple(dict.fromkeys(records))  # the last fetch is often the reference
                yield Pointers(row[0], row[1], _own_url(row[0], row[2]), records, text)
            if len(rows) < PENDING_PAGE:
                return
            last = rows[-1][0]

    def forget(self, url: str) -> None:
        """Make ``url`` count as never fetched (its capture or text is lost): the next crawl
        fetches it again in full, with no conditional headers, and writes its text anew."""
        with self._lock:
            self.db.execute(
                "UPDATE urls SET fetched_at = NULL, status = NULL, revisit = 0,"
                " fetch_filename = NULL, fetch_offset = NULL, fetch_length = NULL,"
                " fetch_record_id = NULL, ref_status = NULL, ref_fetched_at = NULL,"
                " etag = NULL, last_modified = NULL, payload_digest = NULL, record_id = NULL,"
                " warc_date = NULL, ref_filename = NULL, ref_offset = NULL, ref_length = NULL,"
                " text_sha1 = NULL, text_path = NULL, text_at = NULL WHERE url = ?",
                (url,),
            )

    def relocate(self, filename: str, move: Callable[[int], int | None]) -> None:
        """The records of ``filename`` moved (damage was cut out of it): ``move(offset)`` is
        a record's new offset (None: it is gone, the pointer stays for verify to report)."""
        with self.batch():
            rows = self.db.execute(
                "SELECT url, ref_filename, ref_offset, fetch_filename, fetch_offset FROM urls"
                " WHERE ref_filename = ?1 OR fetch_filename = ?1",
                (filename,),
            ).fetchall()
            for url, ref_file, ref_offset, fetch_file, fetch_offset in rows:
                if ref_file == filename:
                    ref_offset = _moved(move, ref_offset)
                if fetch_file == filename:
                    fetch_offset = _moved(move, fetch_offset)
                self.db.execute(
                    "UPDATE urls SET ref_offset = ?, fetch_offset = ? WHERE url = ?",
                    (ref_offset, fetch_offset, url),
                )

    # -- this crawl's decisions ------------------------------------------------------------
    def decide(self, url: str) -> bool:
        """Note that this crawl decided what to do about ``url`` (fetch it, or not): True the
        first time, False if it had already. Kept in a temporary table of this connection,
        gone when the store is closed: memory stays flat however many URLs a crawl meets."""
        with self._lock:
            self._decisions()
            return (
                self.db.execute(
                    "INSERT INTO decided (url) VALUES (?) ON CONFLICT DO NOTHING", (url,)
                ).rowcount
                == 1
            )

    def decided(self, url: str) -> bool:
        """Whether this crawl already decided about ``url`` (see ``decide``)."""
        with self._lock:
            self._decisions()
            return (
                self.db.execute("SELECT 1 FROM decided WHERE url = ?", (url,)).fetchone()
                is not None
            )

    def _decisions(self) -> None:
        if not self._decisions_ready:
            self.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS decided (url TEXT PRIMARY KEY) WITHOUT ROWID"
            )
            self._decisions_ready = True

    # -- statistics -------------------------------------------------------------------
    def stats(self, since: datetime | None = None) -> dict[str, Any]:
        """Counts for reports: URLs by kind, fetches by last status (those since ``since``)."""
        fetched = "fetched_at IS NOT NULL"
        params: tuple[Any, ...] = ()
        if since is not None:
            fetched, params = "fetched_at >= ?", (_ts(since, "since"),)
        with self._lock:
            db = self.db

            def count(sql: str, args: tuple[Any, ...] = ()) -> int:
                return db.execute(sql, args).fetchone()[0]

            by_kind = dict(db.execute("SELECT kind, count(*) FROM urls GROUP BY kind"))
            by_status = dict(
                db.execute(f"SELECT status, count(*) FROM urls WHERE {fetched} GROUP BY 1", params)
            )
            return {
                "urls": sum(by_kind.values()),
                "by_kind": by_kind,
                "by_status": by_status,
                "fetched": sum(by_status.values()),
                "revisits": count(
                    f"SELECT count(*) FROM urls WHERE {fetched} AND revisit = 1", params
                ),
                "texts": count("SELECT count(*) FROM urls WHERE text_sha1 IS NOT NULL"),
                "pending": count("SELECT count(*) FROM frontier"),
            }

"""The search index: SQLite FTS5 over every text of every article, kept beside the archive.

`DIR/index/search.sqlite3` (Layout.search_index) is derived data: it is made from the text
folder alone and can be deleted or rebuilt at any time. It holds

- `fts`: a contentless FTS5 table (the words, not the texts: those are in the text files)
  with two columns, title and the rest; the tokenizer folds diacritics, `searchable` the rest;
- `docs`: one row per text file (an article's current text and each earlier version) with
  what a hit shows and what filters test;
- `groups` and `folders`: what was indexed as it was then, so that an update reads only the
  articles whose files changed and skips every folder that did not.

A row's id orders rows by publication time (`published` seconds, shifted left, plus a slot
number), so "newest first" and date ranges are read straight off the FTS index, without
sorting the matches: that keeps a query fast however many articles match it.

A contentless FTS5 row can only be deleted given the words it was made of. A text that is
gone (replaced in place by a re-extraction) leaves its words behind under an id no row
uses any more; those ids are never given out again, and `dcs index --rebuild` drops them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.research import corpus
from crawler.research.corpus import Article, Version, parse_text
from crawler.research.vietnamese import key, searchable

SCHEMA_VERSION = 1
SLOT_BITS = 20  # texts published in the same second: up to a million
# A folder modified this recently may still be being written: look at it again next time.
SETTLE_SECONDS = 2.0
BATCH = 2000  # texts per transaction while building
INDEXER_CACHE_KB = 4096  # page cache of a TextIndexer

_SCHEMA = f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE docs (
    rowid INTEGER PRIMARY KEY,  -- published seconds << {SLOT_BITS} | slot
    article TEXT NOT NULL,      -- its folder and ID under the text folder: 2019/08/10/531379
    path TEXT NOT NULL,         -- the text file, relative to the text folder
    sha1 TEXT NOT NULL,
    version INTEGER NOT NULL,   -- 1 for the first text of the article
    versions INTEGER NOT NULL,
    current INTEGER NOT NULL,   -- 1 for the article's current text
    fetched_at TEXT,
    id TEXT NOT NULL,
    url TEXT,
    title TEXT,
    published TEXT,
    category TEXT,
    author TEXT,
    tags TEXT,                  -- JSON list
    category_key TEXT,          -- filters compare folded keys (crawler.research.vietnamese.key)
    author_key TEXT,
    tag_keys TEXT               -- |key|key|
);
CREATE INDEX docs_article ON docs (article);
CREATE TABLE retired (rowid INTEGER PRIMARY KEY);  -- ids whose words are still in fts
CREATE TABLE groups (article TEXT PRIMARY KEY, folder TEXT NOT NULL, signature TEXT NOT NULL);
CREATE INDEX groups_folder ON groups (folder);
CREATE TABLE folders (folder TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(
    title, body, content='', tokenize='unicode61 remove_diacritics 2'
);
"""


@dataclass
class IndexUpdate:
    """What an update of the search index did."""

    path: Path
    texts: int = 0  # texts in the index afterwards
    added: int = 0  # texts read and indexed
    removed: int = 0  # texts gone from the archive, taken out
    articles: int = 0  # articles whose files had changed
    retired: int = 0  # ids left with words in the FTS index (see module docstring)
    rebuilt: bool = False
    problems: list[str] = field(default_factory=list)  # unreadable files

    def line(self) -> str:
        """One line, as `dcs index` prints it."""
        done = "rebuilt" if self.rebuilt else "updated"
        line = f"Search index {self.path}: {self.texts:,} texts ({done}: {self.added:,} read"
        line += f", {self.removed:,} removed)" if self.removed else ")"
        if self.retired:
            line += f"; {self.retired:,} stale entries, dcs index --rebuild drops them"
        return line


class SearchIndexError(DcsError):
    """The search index cannot be opened or used."""


def connect(path: Path, *, write: bool) -> sqlite3.Connection:
    """A connection to the index file; SearchIndexError if it is not one."""
    try:
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Created first so that the umask decides its mode, as for the state store.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o666))
            db = sqlite3.connect(path, timeout=60, isolation_level=None)
            # Derived data: no waiting for the disk at each commit (a crawl's text worker
            # commits about once a second). A crash of the process loses nothing; a power
            # cut may damage the file, and `dcs index` then builds it anew.
            db.execute("PRAGMA synchronous = OFF")
        else:
            db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=60)
        db.execute("PRAGMA cache_size = -65536")  # 64 MB
        version = _schema_version(db)
    except (sqlite3.Error, OSError) as exc:
        raise SearchIndexError(f"cannot open the search index {path}: {exc}") from None
    if version is None and write:
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    elif version != SCHEMA_VERSION:
        db.close()
        raise SearchIndexError(
            f"the search index {path} is of another version of dcs: run dcs index --rebuild"
        )
    return db


def _schema_version(db: sqlite3.Connection) -> int | None:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        if tables:
            raise sqlite3.DatabaseError("not a dcs search index")
        return None
    row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
    return int(row[0]) if row else 0


class SearchIndex:
    """The search index of one archive folder, open for writing."""

    def __init__(self, text_dir: Path, path: Path, db: sqlite3.Connection) -> None:
        self.text_dir, self.path, self.db = text_dir, path, db

    @classmethod
    def open(cls, layout: Layout, path: Path | None = None) -> SearchIndex:
        path = path or layout.search_index
        return cls(layout.text_dir, path, connect(path, write=True))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.db.in_transaction:
            self.db.rollback() if exc[0] else self.db.commit()
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE: take the write lock first, waiting for it, rather than fail on upgrading
        # a read lock while a crawl and `dcs index` both write.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- one article ---------------------------------------------------------------------
    def index_article(self, article: Article, signature: str, update: IndexUpdate) -> None:
        """Make the index hold exactly the texts this article has now."""
        existing: dict[str, list[int]] = {}
        for rowid, sha1 in self.db.execute(
            "SELECT rowid, sha1 FROM docs WHERE article = ?", (article.key,)
        ):
            existing.setdefault(sha1, []).append(rowid)
        kept = [v for v in article.versions if v.path is not None]
        meta = _metadata(article, len(article.versions))
        for version in kept:
            reusable = existing.get(version.sha1 or "")
            if reusable:  # the same text, maybe under a new name (a version kept aside)
                rowid = reusable.pop()
                self.db.execute(
                    "UPDATE docs SET path = :p_path, version = :p_version, current = :p_current,"
                    " fetched_at = :p_fetched_at, versions = :versions, id = :id, url = :url,"
                    " published = :published, category = :category, author = :author,"
                    " tags = :tags, category_key = :category_key, author_key = :author_key,"
                    " tag_keys = :tag_keys WHERE rowid = :rowid",
                    {**meta, **_version_fields(article, version), "rowid": rowid},
                )
                continue
            try:
                data = version.path.read_bytes()  # type: ignore[union-attr]
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                update.problems.append(f"{version.path}: {exc}")
                continue
            parts = parse_text(text, lead=article.has_lead)
            rowid = self._free_rowid(meta["published_ts"])
            self.db.execute(
                "INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
                (rowid, searchable(parts.title), searchable(text[len(parts.title) :])),
            )
            self.db.execute(
                "INSERT INTO docs (rowid, article, path, sha1, version, versions, current,"
                " fetched_at, id, url, title, published, category, author, tags, category_key,"
                " author_key, tag_keys) VALUES (:rowid, :article, :p_path, :sha1, :p_version,"
                " :versions, :p_current, :p_fetched_at, :id, :url, :title, :published,"
                " :category, :author, :tags, :category_key, :author_key, :tag_keys)",
                {
                    **meta,
                    **_version_fields(article, version),
                    "rowid": rowid,
                    "article": article.key,
                    "sha1": corpus.sha1_of(data),
                    "title": parts.title,
                },
            )
            update.added += 1
        for rowids in existing.values():
            for rowid in rowids:
                self._drop(rowid, update)
        folder = article.key.rsplit("/", 1)[0]
        self.db.execute(
            "INSERT OR REPLACE INTO groups VALUES (?, ?, ?)", (article.key, folder, signature)
        )
        update.articles += 1

    def forget_article(self, article_key: str, update: IndexUpdate) -> None:
        """Take out an article whose files are all gone."""
        for (rowid,) in self.db.execute(
            "SELECT rowid FROM docs WHERE article = ?", (article_key,)
        ).fetchall():
            self._drop(rowid, update)
        self.db.execute("DELETE FROM groups WHERE article = ?", (article_key,))

    def _drop(self, rowid: int, update: IndexUpdate) -> None:
        """Take a text out of the index: its words too, when its file still holds them."""
        path, sha1 = self.db.execute(
            "SELECT path, sha1 FROM docs WHERE rowid = ?", (rowid,)
        ).fetchone()
        try:
            data = (self.text_dir / path).read_bytes()
        except OSError:
            data = None
        if data is not None and corpus.sha1_of(data) == sha1:
            text = data.decode("utf-8", "replace")
            title = parse_text(text).title
            self.db.execute(
                "INSERT INTO fts (fts, rowid, title, body) VALUES ('delete', ?, ?, ?)",
                (rowid, searchable(title), searchable(text[len(title) :])),
            )
        else:
            self.db.execute("INSERT INTO retired VALUES (?)", (rowid,))
        self.db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
        update.removed += 1

    def _free_rowid(self, published_ts: int) -> int:
        low = published_ts << SLOT_BITS
        high = low + (1 << SLOT_BITS) - 1
        taken = self.db.execute(
            "SELECT max(m) FROM (SELECT max(rowid) AS m FROM docs WHERE rowid BETWEEN ? AND ?"
            " UNION ALL SELECT max(rowid) FROM retired WHERE rowid BETWEEN ? AND ?)",
            (low, high, low, high),
        ).fetchone()[0]
        if taken is None:
            return low
        if taken < high:
            return taken + 1
        raise SearchIndexError(f"more than {1 << SLOT_BITS} texts published in one second")

    # -- the whole folder ----------------------------------------------------------------
    def update(self, progress: Callable[[str], None] | None = None) -> IndexUpdate:
        """Bring the index in step with the text folder, reading only what changed."""
        update = IndexUpdate(self.path)
        seen_folders: set[str] = set()
        known_folders = dict(self.db.execute("SELECT folder, mtime_ns FROM folders"))
        pending = 0
        self.db.execute("BEGIN IMMEDIATE")
        for relative, folder in corpus.folders(self.text_dir):
            seen_folders.add(relative)
            try:
                mtime = folder.stat().st_mtime_ns
            except OSError:
                continue
            if known_folders.get(relative) == mtime:
                continue
            if progress is not None:
                progress(relative)
            pending += self._update_folder(relative, folder, update)
            if time.time() - mtime / 1e9 > SETTLE_SECONDS:
                self.db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?)", (relative, mtime))
            if pending >= BATCH:
                self.db.execute("COMMIT")
                self.db.execute("BEGIN IMMEDIATE")
                pending = 0
        for gone in set(known_folders) - seen_folders:
            self._forget_folder(gone, update)
        for (folder,) in self.db.execute("SELECT DISTINCT folder FROM groups").fetchall():
            if folder not in seen_folders:
                self._forget_folder(folder, update)
        self.db.execute("COMMIT")
        return self._totals(update)

    def _update_folder(self, relative: str, folder: Path, update: IndexUpdate) -> int:
        signatures = dict(
            self.db.execute("SELECT article, signature FROM groups WHERE folder = ?", (relative,))
        )
        changed = []
        for group in corpus.groups_in(self.text_dir, folder):
            signature = group.signature()
            if signatures.pop(group.key, None) != signature:
                changed.append((corpus.read_group(group), signature))
        # FTS5 writes its pending words out each time a row id is lower than the one before:
        # rows in publication order keep a build to a few large segments.
        changed.sort(key=lambda pair: _published_ts(pair[0]))
        work = 0
        for article, signature in changed:
            before = update.added
            self.index_article(article, signature, update)
            work += 1 + update.added - before
        for article_key in signatures:  # articles whose files are all gone
            self.forget_article(article_key, update)
        return work

    def _forget_folder(self, relative: str, update: IndexUpdate) -> None:
        for (article_key,) in self.db.execute(
            "SELECT article FROM groups WHERE folder = ?", (relative,)
        ).fetchall():
            self.forget_article(article_key, update)
        self.db.execute("DELETE FROM folders WHERE folder = ?", (relative,))

    def _totals(self, update: IndexUpdate) -> IndexUpdate:
        update.texts = self.db.execute("SELECT count(*) FROM docs").fetchone()[0]
        update.retired = self.db.execute("SELECT count(*) FROM retired").fetchone()[0]
        return update

    def optimize(self) -> None:
        """Merge the FTS index into one segment: the fastest form to query."""
        self.db.execute("INSERT INTO fts (fts) VALUES ('optimize')")


class TextIndexer:
    """Indexes texts as a crawl writes them: in the crawl's process, or in each text worker
    (crawler.textwork), next to the extraction. Only an index that exists is written to (a
    crawl creates it when it starts).

    `add` queues a text; the queue is indexed in one transaction once its oldest text has
    waited `wait` seconds (0: at once), or when `flush` or `close` say so. A commit per
    article cost a text worker more than the indexing itself (the journal file made and
    deleted, the pages written again); a second's batch costs one. What a process killed
    meanwhile had queued is not lost: the files are written, and the crawl's catch-up when
    it closes (update_index), or `dcs index`, reads every article the index lacks. The first
    failure (a locked or damaged file, a full disk) stops the indexer, with the same catch-up."""

    def __init__(self, text_dir: Path, path: Path, wait: float = 0.0) -> None:
        self.text_dir, self.path, self.wait = text_dir, path, wait
        self.index: SearchIndex | None = None
        self.update = IndexUpdate(path)
        self.failure: str | None = None
        self.queued: dict[Path, None] = {}  # text files written, in order, each once
        self.since = 0.0  # time.monotonic() when the oldest of them was queued

    def add(self, text_path: Path) -> bool:
        """Queue the article of a text file just written; whether the index takes it."""
        if self.failure is not None:
            return False
        try:
            if self.index is None and not self._open():
                return False
            if not self.queued:
                self.since = time.monotonic()
            self.queued[text_path] = None
            if self.due() == 0:
                self._flush()
        except (sqlite3.Error, OSError, DcsError) as exc:
            self._fail(exc)
            return False
        return True

    def due(self) -> float | None:
        """Seconds until the queued texts are to be indexed (0: now); None if none are."""
        if not self.queued:
            return None
        return max(0.0, self.since + self.wait - time.monotonic())

    def flush(self) -> None:
        """Index every queued text now."""
        if self.queued and self.failure is None:
            try:
                self._flush()
            except (sqlite3.Error, OSError, DcsError) as exc:
                self._fail(exc)

    def close(self) -> None:
        """Index what is queued, and close the index."""
        self.flush()
        if self.index is not None:
            index, self.index = self.index, None
            try:
                index.close()
            except sqlite3.Error:
                pass

    def _open(self) -> bool:
        if not self.path.exists():
            return False
        db = connect(self.path, write=True)
        # A few articles at a time: a few pages suffice, and a crawl's memory stays flat
        # however large the index grows (an update reads whole folders: 64 MB).
        db.execute(f"PRAGMA cache_size = -{INDEXER_CACHE_KB}")
        self.index = SearchIndex(self.text_dir, self.path, db)
        return True

    def _flush(self) -> None:
        queued, self.queued = list(self.queued), {}
        index = self.index
        assert index is not None  # opened by the add that queued them
        folders: dict[Path, dict[str, corpus.Group]] = {}  # each folder listed once a batch
        with index.transaction():
            for text_path in queued:
                if text_path.parent not in folders:
                    groups = corpus.groups_in(self.text_dir, text_path.parent)
                    folders[text_path.parent] = {group.id: group for group in groups}
                group = folders[text_path.parent].get(text_path.name.removesuffix(".txt"))
                if group is not None:  # None: gone since it was written
                    index.index_article(corpus.read_group(group), group.signature(), self.update)

    def _fail(self, exc: Exception) -> None:
        self.failure = str(exc)
        self.queued.clear()
        self.close()


def update_index(
    layout: Layout, *, rebuild: bool = False, progress: Callable[[str], None] | None = None
) -> IndexUpdate:
    """Create, update or rebuild (from scratch) the search index of an archive folder."""
    path = layout.search_index
    if rebuild or not path.exists():
        return _rebuild(layout, path, progress)
    try:
        index = SearchIndex.open(layout)
    except SearchIndexError:  # another version's index, or a damaged one: it is derived data
        return _rebuild(layout, path, progress)
    try:
        with index:
            return index.update(progress)
    except sqlite3.DatabaseError:  # damaged past its first pages (a power cut, say)
        return _rebuild(layout, path, progress)


def _rebuild(layout: Layout, path: Path, progress: Callable[[str], None] | None) -> IndexUpdate:
    """Build a new index beside the old one and put it in its place when done: searches go
    on meanwhile, and an interrupted build leaves the old index as it was."""
    building = path.with_name(path.name + ".new")
    for leftover in (building, building.with_name(building.name + "-journal")):
        leftover.unlink(missing_ok=True)
    index = SearchIndex.open(layout, building)
    try:
        # A half-built file is thrown away, never used: no journal on disk either.
        index.db.execute("PRAGMA journal_mode = MEMORY")
        update = index.update(progress)
        index.optimize()
        index.db.execute("PRAGMA journal_mode = DELETE")
    except BaseException:
        index.close()
        building.unlink(missing_ok=True)
        raise
    index.close()
    os.replace(building, path)
    update.path, update.rebuilt = path, True
    return update


def _published_ts(article: Article) -> int:
    published = article.published
    return int(published.timestamp()) if published else 0


def _metadata(article: Article, versions: int) -> dict:
    meta = article.meta
    tags = [t for t in meta.get("tags") or [] if isinstance(t, str)]
    published = article.published
    return {
        "versions": versions,
        "id": article.id,
        "url": article.live_url or None,
        "published": published.isoformat() if published else None,
        "published_ts": _published_ts(article),
        "category": meta.get("category"),
        "author": meta.get("author"),
        "tags": json.dumps(tags, ensure_ascii=False),
        "category_key": key(meta.get("category") or ""),
        "author_key": key(meta.get("author") or ""),
        "tag_keys": "|" + "".join(f"{key(t)}|" for t in tags),
    }


def _version_fields(article: Article, version: Version) -> dict:
    folder = article.key.rsplit("/", 1)[0]
    return {
        "p_path": f"{folder}/{version.path.name}",  # type: ignore[union-attr]
        "p_version": version.number,
        "p_current": int(version.current),
        "p_fetched_at": version.fetched_at,
    }

"""`dcs search`: find articles by their words, diacritics or not, newest first.

The query (crawler/research/query.py) runs against the search index (index.py); each hit
is shown with a snippet cut from its text file around the first place it matches, the
matched words marked. Only the hits shown are read from disk, so a query costs the same
whether ten or a hundred thousand articles match it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from crawler.errors import DcsError
from crawler.extract.dates import VIETNAM
from crawler.layout import Layout
from crawler.research.index import SLOT_BITS, SearchIndexError, connect, update_index
from crawler.research.query import Query, Term, parse_query
from crawler.research.vietnamese import fold, key, words
from crawler.site import PROFILES

ORDERS = ("newest", "oldest", "relevance")
SNIPPET_CHARS = 160  # about two lines of a terminal
EARLY_CHARS = 4000
# bm25 weights of the FTS columns: a word in the title counts as five in the text.
_WEIGHTS = (5.0, 1.0)


@dataclass(frozen=True)
class Filters:
    """What hits must also be: published in a range of days (Vietnam time), in a category,
    by an author, with every one of some tags, from one site of dangcongsan.vn (main,
    documents, en, fr, cn). Names compare folded (`thoi su` = `Thời sự`)."""

    since: date | None = None
    until: date | None = None
    category: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    site: str | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    url: str | None
    title: str
    published: str | None
    snippet: str  # matched words between « and » (or the marks given to `search`)
    path: Path  # the text file
    version: int  # 1 for the article's first text
    versions: int
    current: bool
    fetched_at: str | None

    def as_json(self) -> str:
        data = {**self.__dict__, "path": str(self.path)}
        return json.dumps(data, ensure_ascii=False)


def search(
    layout: Layout,
    text: str,
    *,
    filters: Filters = Filters(),
    limit: int = 20,
    order: str = "newest",
    all_versions: bool = False,
    marks: tuple[str, str] = ("«", "»"),
    progress: Callable[[str], None] | None = None,
) -> list[Hit]:
    """The hits of a query, `limit` at most. Builds the index first if there is none."""
    query = parse_query(text)
    if order not in ORDERS:
        raise DcsError(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
    if not layout.search_index.exists():
        if not layout.text_dir.is_dir():
            raise DcsError(f"no text files in {layout.text_dir}: nothing archived to search")
        update_index(layout, progress=progress)
    db = connect(layout.search_index, write=False)
    try:
        rows = _query(db, query, filters, limit, order, all_versions)
    except sqlite3.Error as exc:
        raise SearchIndexError(f"search index {layout.search_index}: {exc}") from None
    finally:
        db.close()
    return [_hit(layout.text_dir, row, query, marks) for row in rows]


def _query(
    db: sqlite3.Connection,
    query: Query,
    filters: Filters,
    limit: int,
    order: str,
    all_versions: bool,
) -> list[tuple]:
    where = ["fts MATCH :match"]
    params: dict[str, object] = {"match": query.fts, "limit": limit}
    if not all_versions:
        where.append("d.current = 1")
    if filters.since:
        where.append("fts.rowid >= :low")
        params["low"] = _day_start(filters.since) << SLOT_BITS
    if filters.until:
        where.append("fts.rowid < :high")
        params["high"] = _day_start(filters.until + timedelta(days=1)) << SLOT_BITS
    if filters.category:
        where.append("d.category_key = :category")
        params["category"] = key(filters.category)
    if filters.author:
        where.append("d.author_key = :author")
        params["author"] = key(filters.author)
    if filters.site:  # by the folder the text lies in (corpus.site_of)
        where.append(f"{_SITE_OF_ARTICLE} = :site")
        params["site"] = filters.site
    for n, tag in enumerate(filters.tags):
        where.append(f"instr(d.tag_keys, :tag{n}) > 0")
        params[f"tag{n}"] = f"|{key(tag)}|"
    ordering = {
        "newest": "fts.rowid DESC",
        "oldest": "fts.rowid",
        "relevance": f"bm25(fts, {', '.join(map(str, _WEIGHTS))}), fts.rowid DESC",
    }[order]
    # CROSS JOIN: walk the FTS matches in rowid order and look each one up, never the other
    # way round (SQLite would otherwise start from a filter's rows and sort them all).
    sql = (
        "SELECT d.id, d.url, d.title, d.published, d.path, d.version, d.versions,"
        " d.current, d.fetched_at FROM fts CROSS JOIN docs AS d ON d.rowid = fts.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY {ordering} LIMIT :limit"
    )
    return db.execute(sql, params).fetchall()


# corpus.site_of in SQL: the first step of the article's key when it names a site.
_FIRST_STEP = "substr(d.article, 1, instr(d.article, '/') - 1)"
_SITE_OF_ARTICLE = (
    f"CASE WHEN {_FIRST_STEP} IN ({', '.join(repr(name) for name in PROFILES)})"
    f" THEN {_FIRST_STEP} ELSE 'main' END"
)


def _day_start(day: date) -> int:
    return int(datetime.combine(day, time(), VIETNAM).timestamp())


def _hit(text_dir: Path, row: tuple, query: Query, marks: tuple[str, str]) -> Hit:
    ident, url, title, published, path, version, versions, current, fetched_at = row
    text_path = text_dir / path
    try:
        text = text_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""  # gone since it was indexed: the hit stands, without a snippet
    return Hit(
        id=ident,
        url=url,
        title=title or "",
        published=published,
        snippet=snippet(text, query.terms, marks),
        path=text_path,
        version=version,
        versions=versions,
        current=bool(current),
        fetched_at=fetched_at,
    )


def snippet(
    text: str, terms: list[Term], marks: tuple[str, str] = ("«", "»"), width: int = SNIPPET_CHARS
) -> str:
    """About `width` characters of the text after its title line, where most of the query's
    terms match close together (the first such place), the matched words marked; the start
    of the text after the title if only the title matches."""
    title_end = text.find("\n") + 1 if "\n" in text else 0
    # Most hits match early: look in the first few KB first, in the whole text if need be.
    spans = [m for m in _matches(text[:EARLY_CHARS], tuple(terms)) if m[0] >= title_end]
    if not spans and len(text) > EARLY_CHARS:
        spans = [m for m in _matches(text, tuple(terms)) if m[0] >= title_end]
    start = title_end
    if spans:
        first = spans[_best(spans, len(terms), width)][0]
        start = max(title_end, text.rfind(" ", title_end, max(title_end, first - width // 4)) + 1)
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out, pos = [], start
    for s, e in _merged([(s, e) for s, e, _t in spans], text):
        if s < start or e > end:
            continue
        out += [text[pos:s], marks[0], text[s:e], marks[1]]
        pos = e
    out.append(text[pos:end])
    cut = "".join(out).replace("\n", " ¶ ").strip()
    return ("… " if start > title_end else "") + cut + (" …" if end < len(text) else "")


def _best(spans: list[tuple[int, int, int]], terms: int, width: int) -> int:
    """The first span from which a window of `width` holds the most distinct terms."""
    best, most = 0, 0
    for i, (start, _end, _term) in enumerate(spans[:64]):
        seen = set()
        for other, _end, term in spans[i:]:
            if other - start >= width:
                break
            seen.add(term)
        if len(seen) > most:
            best, most = i, len(seen)
            if most == terms:
                break
    return best


def _matches(text: str, terms: tuple[Term, ...]) -> list[tuple[int, int, int]]:
    """(start, end, term number) of every place a term matches: a phrase's words as one."""
    folded = fold(text)
    if len(folded) != len(text):  # a letter folded into two (rare): fold word by word
        folded = "".join(_fold_word(text[s:e], e - s) if e > s else "" for s, e in _pieces(text))
    return [(m.start(), m.end(), int(m.lastgroup[1:])) for m in _pattern(terms).finditer(folded)]


@lru_cache(maxsize=64)
def _pattern(terms: tuple[Term, ...]) -> re.Pattern[str]:
    """One pass over the text for all the terms: each term's words one after another with
    anything but letters and digits between them (as the index's tokenizer reads them),
    whole words but for a prefix's last one."""
    alternatives = []
    for number, term in enumerate(terms):
        inner = r"[\W_]+".join(re.escape(w) for w in term.words)
        alternatives.append(f"(?P<t{number}>{inner}" + (r"\w*)" if term.prefix else r")\b"))
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")")


def _pieces(text: str) -> list[tuple[int, int]]:
    """The text cut into words and what lies between them, covering it whole."""
    cuts, pos = [], 0
    for start, end, _word in words(text):
        cuts += [(pos, start), (start, end)]
        pos = end
    return [*cuts, (pos, len(text))]


def _fold_word(piece: str, width: int) -> str:
    """A piece folded to exactly its own length, so offsets still point into the text."""
    folded = fold(piece)
    return folded if len(folded) == width else (folded + " " * width)[:width]


def _merged(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Spans that overlap or are apart by spaces only, as one: «Hà Nội», not «Hà» «Nội»."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip(" ")):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

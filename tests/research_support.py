"""Small archives for the research tools, written by the crawler's own text writer."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from crawler.extract.article import Article
from crawler.extract.dates import VIETNAM
from crawler.extract.output import write_article

LIVE = "https://dangcongsan.vn"


def article(
    ident: str,
    title: str,
    paragraphs: list[str],
    *,
    lead: str | None = None,
    related: list[tuple[str, str]] | None = None,
    published: datetime | None = datetime(2019, 8, 10, 15, 21, tzinfo=VIETNAM),
    category: str | None = "Thời sự",
    author: str | None = "Thu Hằng",
    tags: list[str] | None = None,
) -> Article:
    url = f"{LIVE}/thoi-su/bai-{ident}-{ident}.html" if ident.isdigit() else f"{LIVE}/{ident}.html"
    return Article(
        url=url,
        canonical_url=url,
        id=ident,
        title=title,
        lead=lead,
        related=related or [],
        paragraphs=paragraphs,
        published=published,
        modified=published,
        author=author,
        category=category,
        tags=tags or [],
        images=[f"https://file1.dangcongsan.vn/data/0/images/{ident}.jpg"],
    )


def write(out: Path, a: Article, fetched: datetime, **changes) -> Path:
    """Write an article (or a new version of it) into the archive folder's text folder."""
    a = replace(a, **changes) if changes else a
    warc = {
        "filename": "dcs-1.warc.gz",
        "offset": 100,
        "length": 2000,
        "record_id": f"<urn:{a.id}>",
    }
    return write_article(a, out / "text", url=a.url, fetched_at=fetched, warc=warc).text


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def state_with_takedowns(
    out: Path, events: list[tuple[str, str, datetime, int | None, str | None]]
):
    """A state store as the crawl keeps it once it records takedowns (issue 11's schema)."""
    out.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(out / "state.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE urls (url TEXT PRIMARY KEY, kind TEXT, removed_at REAL)")
    db.execute(
        "CREATE TABLE takedowns (url TEXT NOT NULL, event TEXT NOT NULL, at REAL NOT NULL,"
        " status INTEGER, location TEXT)"
    )
    gone: dict[str, float | None] = {}
    for url, event, moment, status, location in events:
        db.execute(
            "INSERT INTO takedowns VALUES (?, ?, ?, ?, ?)",
            (url, event, moment.timestamp(), status, location),
        )
        gone[url] = moment.timestamp() if event == "removed" else None
    for url, removed in gone.items():
        db.execute("INSERT INTO urls VALUES (?, 'article', ?)", (url, removed))
    db.commit()
    db.close()

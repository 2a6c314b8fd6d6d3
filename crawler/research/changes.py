"""`dcs changes`: every edit and takedown the archive saw, one line each, oldest first.

Edits come from the text folder: each article's texts, compared one with the next (see
diff.py), found when the later one was captured. Takedowns and restorations come from the
state store (takedowns.py), which the crawl fills as it finds articles gone or back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from crawler.errors import DcsError
from crawler.extract.dates import VIETNAM
from crawler.layout import Layout
from crawler.research.corpus import Article, iter_articles, parse_time
from crawler.research.diff import diff_texts
from crawler.research.takedowns import takedowns
from crawler.site import profile_of

KINDS = ("edited", "removed", "restored")


@dataclass(frozen=True)
class Change:
    kind: str  # edited | removed | restored
    at: datetime  # when the archive saw it (the later capture; the crawl that found it gone)
    id: str | None
    url: str
    title: str
    summary: str
    details: dict = field(default_factory=dict)

    def line(self) -> str:
        when = self.at.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M")
        return f"{when}  {self.kind:<8}  {self.id or '-'}  {self.url}  {self.summary}"

    def as_json(self) -> str:
        data = {
            "kind": self.kind,
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "summary": self.summary,
            **self.details,
        }
        return json.dumps(data, ensure_ascii=False)


def find_changes(
    layout: Layout,
    *,
    since: date | None = None,
    until: date | None = None,
    kinds: tuple[str, ...] = KINDS,
    on_article: Callable[[], None] | None = None,
    site: str | None = None,
) -> list[Change]:
    """The changes seen between two days (Vietnam time, both included), oldest first; of one
    site of dangcongsan.vn only, when `site` names it."""
    if not layout.text_dir.is_dir():
        raise DcsError(f"no text files in {layout.text_dir}: nothing archived to compare")
    low = datetime.combine(since, time(), VIETNAM) if since else None
    high = datetime.combine(until + timedelta(days=1), time(), VIETNAM) if until else None

    def wanted(moment: datetime) -> bool:
        return (low is None or moment >= low) and (high is None or moment < high)

    events = [
        t
        for t in takedowns(layout)
        if t.event in kinds and wanted(t.at) and site in (None, profile_of(t.url).name)
    ]
    gone = {t.url for t in events}
    known: dict[str, tuple[str, str]] = {}  # canonical URL -> (id, title) of the taken down
    found: list[Change] = []
    for article in iter_articles(layout.text_dir):
        if on_article is not None:
            on_article()
        if site is not None and article.site != site:
            continue
        if article.live_url in gone:
            known[article.live_url] = (article.id, article.title)
        if "edited" in kinds:
            found += edits(article, wanted)
    for event in events:
        ident, title = known.get(event.url, (None, ""))
        if event.event == "removed":
            how = f"redirected to {event.location}" if event.location else f"HTTP {event.status}"
            summary = f"taken down ({how})"
        else:
            summary = f"back online (HTTP {event.status})" if event.status else "back online"
        details = {"status": event.status, "location": event.location}
        found.append(Change(event.event, event.at, ident, event.url, title, summary, details))
    found.sort(key=lambda c: (c.at, c.url, KINDS.index(c.kind)))
    return found


def edits(article: Article, wanted: Callable[[datetime], bool]) -> list[Change]:
    """One change per text of the article that differs from the text before it."""
    out = []
    for before, after in zip(article.versions, article.versions[1:], strict=False):
        at = parse_time(after.fetched_at)
        if at is None or not wanted(at):
            continue
        details = {"from": before.stamp, "to": after.stamp, "version": after.number}
        old, new = article.version_parts(before), article.version_parts(after)
        if old is None or new is None:
            summary = "text changed (the earlier text was not kept)"
        else:
            diff = diff_texts(old, new)
            summary = diff.summary()
            details["changes"] = len(diff.changes)
        title = new.title if new is not None else article.title
        out.append(Change("edited", at, article.id, article.live_url, title, summary, details))
    return out

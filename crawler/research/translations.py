"""The translations of an article: the articles of the editions (en., fr., cn.) whose sidecar
names it as their Vietnamese original (crawler.extract.extractor finds that link; the
sidecar's `original` keeps it). The editions are small beside the newspaper, so their
folders are read whole, one sidecar at a time; the newspaper's folders are not read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.research.corpus import iter_articles
from crawler.site import MAIN, PROFILES, Site, article_id

EDITIONS = tuple(name for name, p in PROFILES.items() if p is not MAIN and not p.documents)


@dataclass(frozen=True)
class Translation:
    site: str
    language: str
    id: str
    url: str
    title: str
    original: str  # the Vietnamese article's canonical URL

    def line(self) -> str:
        return f"{self.site}\t{self.url}\t{self.title}"

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def translations_of(layout: Layout, target: str) -> list[Translation]:
    """The edition articles translating ``target`` (the newspaper's article: its URL in any
    form, or its numeric ID), by edition and ID."""
    wanted_url, wanted_id = None, None
    if "://" in target:
        wanted_url = Site.of(target).canonical(target)
        wanted_id = article_id(wanted_url)
    elif target.isdigit():
        wanted_id = target
    else:
        raise DcsError(f"not an article URL or ID: {target!r}")
    found = []
    for name in EDITIONS:
        for article in iter_articles(layout.text_dir / name):
            original = article.meta.get("original")
            if not isinstance(original, dict):
                continue
            if original.get("url") == wanted_url or (wanted_id and original.get("id") == wanted_id):
                found.append(
                    Translation(
                        name, article.meta.get("language") or PROFILES[name].language,
                        article.id, article.canonical_url, article.title, original.get("url"),
                    )
                )  # fmt: skip
    return sorted(found, key=lambda t: (EDITIONS.index(t.site), t.id))

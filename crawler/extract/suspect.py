"""Texts that look suspect: the day the site's markup drifts, the reports say so.

A page can be read without error and still be read wrong: when the site changes its markup,
no rule matches any more (the generic method takes over), the lead or the related links go
missing, the body comes out short. The crawl report and `dcs extract` count such texts per
generation and per method and list their URLs, so that a redesign shows in the first run
after it rather than in a researcher's reading months later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from crawler.extract.article import Article

# What each reason means, for the JSON report's readers.
REASONS = {
    "generic": "no site rule matches the markup: parts found by what they are",
    "no-lead": "no lead starting (ĐCSVN)",
    "related-unread": "a related-stories heading with no links read under it",
    "short-body": "a body under 200 characters (video pages aside)",
}


def suspect_entry(article: Article) -> dict | None:
    """The report's line for an article whose text looks suspect (under its canonical URL,
    as the crawl and `dcs extract` both know it); None if it does not."""
    reasons = article.suspicions
    if not reasons:
        return None
    return {
        "url": article.canonical_url,
        "generation": article.generation,
        "method": article.method,
        "reasons": reasons,
    }


def _url(entry: dict) -> str:
    return entry["url"]


def _generation(entry: dict) -> str:
    return str(entry["generation"]) if entry.get("generation") else "unknown"


@dataclass
class SuspectTexts:
    """The suspect texts of a run, as plain entries (they travel through Scrapy's stats and
    between processes)."""

    entries: list[dict] = field(default_factory=list)

    def add(self, entry: dict | None) -> None:
        if entry is not None:
            self.entries.append(entry)

    @property
    def latest(self) -> list[dict]:
        """One entry per article, the last one read (a URL captured twice is one article)."""
        return sorted({entry["url"]: entry for entry in self.entries}.values(), key=_url)

    def by_generation(self) -> dict[str, dict[str, int]]:
        """generation -> method -> count."""
        counts: dict[str, Counter] = {}
        for entry in self.latest:
            counts.setdefault(_generation(entry), Counter())[entry["method"]] += 1
        return {gen: dict(sorted(counts[gen].items())) for gen in sorted(counts)}

    def as_dict(self) -> dict:
        """The JSON report's `suspect_texts`: counts, reasons, and every URL with its reasons."""
        latest = self.latest
        reasons = Counter(reason for entry in latest for reason in entry["reasons"])
        return {
            "count": len(latest),
            "by_generation": self.by_generation(),
            "by_reason": dict(sorted(reasons.items())),
            "reasons": REASONS,
            "articles": latest,
        }

    def summary(self) -> str:
        """One phrase: `3 suspect texts (gen 1: 2 site-rules; gen 3: 1 generic)`."""
        count = len(self.latest)
        if not count:
            return "no suspect texts"
        parts = [
            f"gen {gen}: " + ", ".join(f"{n} {method}" for method, n in methods.items())
            for gen, methods in self.by_generation().items()
        ]
        return f"{count} suspect text{'' if count == 1 else 's'} ({'; '.join(parts)})"

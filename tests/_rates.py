"""Figures the text-quality tests measure, shown in pytest's terminal summary (without -s)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from crawler.extract import render_text

LINES: list[str] = []
# Required of every generation, on the replica's own markup and on every variant.
MIN_RATE = 0.98


def record(line: str) -> None:
    """Keep a line for the summary (and print it, for -s runs)."""
    LINES.append(line)
    print(line)


@dataclass
class ExactRates:
    """How many texts came out exactly as the ground truth says, per generation."""

    totals: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    exact: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, readings) -> ExactRates:
        """From (replica article, extracted Article) pairs."""
        rates = cls()
        for article, got in readings:
            rates.totals[article.generation] += 1
            if render_text(got) == article.expected_text:
                rates.exact[article.generation] += 1
            else:
                rates.misses.append(article.path)
        return rates

    def rate(self, generation: int) -> float:
        return self.exact[generation] / self.totals[generation]

    def __str__(self) -> str:
        return ", ".join(
            f"gen {gen}: {self.exact[gen]}/{self.totals[gen]} = {self.rate(gen):.1%}"
            for gen in sorted(self.totals)
        )

    def check(self) -> None:
        """Every generation present, each at MIN_RATE at least."""
        assert set(self.totals) == {1, 2, 3}
        assert all(self.rate(gen) >= MIN_RATE for gen in self.totals), (
            f"{self}; misses: {self.misses[:5]}"
        )


def wrong_metadata(readings, method: str | None = None) -> dict[str, list[str]]:
    """Per sidecar field, the paths whose value differs from the ground truth (gen-1 pages
    state no modification date, video pages no byline); the method too when given."""
    wrong: dict[str, list[str]] = defaultdict(list)
    for article, got in readings:
        checks = {
            "title": got.title == article.title,
            "lead": got.lead == article.lead,
            "published": got.published == article.published,
            "modified": article.generation == 1 or got.modified == article.modified,
            "author": article.is_video or got.author == article.author,
            "is_video": got.is_video == article.is_video,
            "id": got.id == article.id,
            "canonical_url": got.canonical_url == article.url,
            "related": got.related == list(article.related),
            "tags": got.tags == list(article.tags),
            "category": got.category == article.category,
            "images": set(got.images) == set(article.images),
            "method": method is None or got.method == method,
        }
        for name, ok in checks.items():
            if not ok:
                wrong[name].append(article.path)
    return dict(wrong)


def check_metadata(readings, method: str | None = None) -> str:
    """Each field right for MIN_RATE of the articles at least; returns a one-line report."""
    wrong = wrong_metadata(readings, method)
    limit = (1 - MIN_RATE) * len(readings)
    assert all(len(paths) <= limit for paths in wrong.values()), {
        name: paths[:3] for name, paths in wrong.items()
    }
    report = ", ".join(f"{name}: {len(paths)} wrong" for name, paths in sorted(wrong.items()))
    return report or "all right"

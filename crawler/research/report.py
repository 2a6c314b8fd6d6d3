"""What the research commands print: plain lines, colour at a terminal, or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator

from crawler.research.diff import ArticleDiff, Change
from crawler.research.search import Hit

# ANSI colours, as git uses them: removed red, added green, matches bold.
RED, GREEN, BOLD, DIM, RESET = "\033[31m", "\033[32m", "\033[1m", "\033[2m", "\033[0m"
MATCH_MARKS = ("«", "»")
COLOR_MATCH_MARKS = (BOLD + "\033[33m", RESET)


def hit_lines(hit: Hit, color: bool = False) -> list[str]:
    """Four lines per hit: id, date and title; URL; snippet; text file and version."""
    day = (hit.published or "")[:16].replace("T", " ")
    title = f"{BOLD}{hit.title}{RESET}" if color else hit.title
    version = f"version {hit.version} of {hit.versions}"
    if not hit.current:
        version += f", fetched {hit.fetched_at}; not the current text"
    return [
        f"{hit.id}  {day}  {title}",
        f"  {hit.url or '-'}",
        f"  {hit.snippet}",
        f"  {DIM if color else ''}{hit.path} ({version}){RESET if color else ''}",
    ]


def diff_lines(found: ArticleDiff, color: bool = False) -> Iterator[str]:
    article, old, new, diff = found.article, found.old, found.new, found.diff
    yield f"{article.id}  {article.live_url}"
    yield f"--- version {old.number}, fetched {old.fetched_at} ({old.stamp})  {old.path}"
    yield f"+++ version {new.number}, fetched {new.fetched_at} ({new.stamp})  {new.path}"
    yield f"{diff.summary()}"
    for change in diff.changes:
        yield ""
        yield f"{change.label} {change.kind}:"
        if change.kind == "changed":
            yield "  " + render_words(change.words, color)
        elif change.kind == "added":
            yield "  " + render_words((("+", change.new),), color)
        else:
            yield "  " + render_words((("-", change.old),), color)
    kept = ", ".join(f"{n} {s}" for s, n in diff.unchanged.items() if n)
    if kept:
        yield ""
        yield f"unchanged: {kept}"


def render_words(words: tuple[tuple[str, str], ...], color: bool = False) -> str:
    """[-removed-]{+added+} as git's word diff writes them, or in red and green."""
    out = []
    for op, text in words:
        if op == "=":
            out.append(text)
        elif color:
            out.append(f"{RED if op == '-' else GREEN}{text}{RESET}")
        else:
            out.append(f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
    return "".join(out)


def diff_json(found: ArticleDiff) -> Iterator[str]:
    """A first line naming the two versions, then one line per change."""
    article, old, new, diff = found.article, found.old, found.new, found.diff
    yield json.dumps(
        {
            "id": article.id,
            "url": article.live_url,
            "from": {"version": old.number, "stamp": old.stamp, "fetched_at": old.fetched_at},
            "to": {"version": new.number, "stamp": new.stamp, "fetched_at": new.fetched_at},
            "summary": diff.summary(),
        },
        ensure_ascii=False,
    )
    for change in diff.changes:
        yield json.dumps(_change(change), ensure_ascii=False)


def _change(change: Change) -> dict:
    return {
        "section": change.section,
        "kind": change.kind,
        "from": change.old_number,
        "to": change.new_number,
        "old": change.old,
        "new": change.new,
        "words": [list(w) for w in change.words],
    }

"""What changed between two texts of an article, section by section, word by word.

A text is compared in its four sections (title, lead, related links, body); within a
section, paragraphs are aligned first (an edit usually rewrites one paragraph and leaves the
others alone), then the words of each changed paragraph. Words compare as a reader of
Vietnamese compares them: the same in NFC or NFD, and the same when only the tone mark's
place differs (old `hoà`, new `hòa`); a changed tone or letter is a change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from crawler.errors import DcsError
from crawler.research.corpus import Article, TextParts, Version, find_article, pick_version
from crawler.research.vietnamese import spelling_key

SECTIONS = ("title", "lead", "related", "body")
# Below this share of words in common, a paragraph is shown as rewritten, old then new.
REWRITTEN = 0.4
# A word or a mark of punctuation, with the space before it: the text can be put back whole.
_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+$")


@dataclass(frozen=True)
class Change:
    """One paragraph (or title, lead, related link) added, removed or changed."""

    section: str  # title | lead | related | body
    kind: str  # added | removed | changed
    old_number: int | None  # 1-based place in the old text's section
    new_number: int | None
    old: str
    new: str
    words: tuple[tuple[str, str], ...]  # ("=" | "-" | "+", text), for a changed one

    @property
    def label(self) -> str:
        if self.section in ("title", "lead"):
            return self.section
        number = self.new_number if self.new_number is not None else self.old_number
        return f"{self.section} ¶{number}" if self.section == "body" else f"related #{number}"


@dataclass(frozen=True)
class TextDiff:
    changes: tuple[Change, ...]
    unchanged: dict[str, int]  # paragraphs left as they were, by section

    @property
    def same_words(self) -> bool:
        return not self.changes

    def summary(self) -> str:
        """One line: `title changed; 2 paragraphs changed, 1 added; related: 1 removed`."""
        parts = []
        for section in SECTIONS:
            kinds = [c.kind for c in self.changes if c.section == section]
            if not kinds:
                continue
            if section in ("title", "lead"):
                parts.append(f"{section} {kinds[0]}")
                continue
            counts = ", ".join(
                f"{kinds.count(kind)} {kind}" for kind in ("changed", "added", "removed")
                if kind in kinds
            )  # fmt: skip
            noun = "paragraph" if section == "body" else "related link"
            first = next(k for k in ("changed", "added", "removed") if k in kinds)
            plural = "s" if kinds.count(first) > 1 else ""
            parts.append(counts.replace(f" {first}", f" {noun}{plural} {first}", 1))
        return "; ".join(parts) if parts else "no change in the words (spelling or Unicode form)"


def diff_texts(old: TextParts, new: TextParts) -> TextDiff:
    changes: list[Change] = []
    unchanged: dict[str, int] = {}
    for section in SECTIONS:
        a, b = old.sections[section], new.sections[section]
        matcher = SequenceMatcher(None, [_key(p) for p in a], [_key(p) for p in b], autojunk=False)
        unchanged[section] = 0
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                unchanged[section] += i2 - i1
                continue
            # Paragraphs in the same place are one paragraph rewritten; the rest came or went.
            pairs = min(i2 - i1, j2 - j1)
            for k in range(pairs):
                changes.append(
                    Change(section, "changed", i1 + k + 1, j1 + k + 1, a[i1 + k], b[j1 + k],
                           diff_words(a[i1 + k], b[j1 + k]))
                )  # fmt: skip
            for i in range(i1 + pairs, i2):
                changes.append(Change(section, "removed", i + 1, None, a[i], "", ()))
            for j in range(j1 + pairs, j2):
                changes.append(Change(section, "added", None, j + 1, "", b[j], ()))
    return TextDiff(tuple(changes), unchanged)


def diff_words(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """The words of `new` against those of `old`: ("=", kept), ("-", removed), ("+", added)."""
    a, b = _TOKEN.findall(_nfc(old)), _TOKEN.findall(_nfc(new))
    matcher = SequenceMatcher(None, [_key(t) for t in a], [_key(t) for t in b], autojunk=False)
    out: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    if matcher.ratio() < REWRITTEN:  # word marks all over would hide what the paragraph says
        return (("-", _nfc(old)), ("=", " "), ("+", _nfc(new)))
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            add("=", "".join(b[j1:j2]))  # the new spelling of words that did not change
            continue
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        either = added or removed
        add("=", either[: len(either) - len(either.lstrip())])  # space before stays outside
        add("-", removed.lstrip())
        add("+", added.lstrip())
    return tuple(out)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _key(text: str) -> str:
    return " ".join(spelling_key(w) for w in _nfc(text).split())


@dataclass(frozen=True)
class ArticleDiff:
    """Two versions of an article and what changed from one to the other."""

    article: Article
    old: Version
    new: Version
    diff: TextDiff


def article_diff(
    text_dir: Path, target: str, from_ts: str | None = None, to_ts: str | None = None
) -> ArticleDiff:
    """The diff of an article (ID or URL) between the versions in force at two times; by
    default its last version and the one before."""
    article = find_article(text_dir, target)
    if len(article.versions) < 2:
        raise DcsError(f"article {article.id} has one version only: nothing to compare")
    new = pick_version(article, to_ts, default=-1)
    old = pick_version(article, from_ts, default=max(0, new.number - 2))
    if old.number >= new.number:
        raise DcsError(f"--from names version {old.number}, not earlier than version {new.number}")
    parts = []
    for version in (old, new):
        text = article.version_parts(version)
        if text is None:
            raise DcsError(f"the text of version {version.number} ({version.stamp}) was not kept")
        parts.append(text)
    return ArticleDiff(article, old, new, diff_texts(*parts))

"""The text file: one article as plain lines, normalised so equal texts are equal bytes."""

from __future__ import annotations

import unicodedata

from crawler.extract.article import Article


def fold(text: str | None) -> str:
    """NFC, every run of white space (NBSP included) one space, no space at either end."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFC", text):  # a quick check; most text already is
        text = unicodedata.normalize("NFC", text)
    # A text folded already (most are, by the time they are rendered) is returned as it is:
    # every white space but the ASCII space is unprintable, so a printable text with no
    # double space and none at either end has nothing to fold. Splitting costs more.
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text
    # str.split() white space covers NBSP, the Unicode spaces, tabs and line breaks.
    return " ".join(text.split())


def render_text(article: Article) -> str:
    """Title; lead; `- <title>` per related link; body paragraphs. No trailing newline."""
    lines = [fold(article.title), fold(article.lead)]
    lines += [f"- {fold(title)}" for title, _url in article.related if fold(title)]
    lines += [fold(p) for p in article.paragraphs]
    return "\n".join(line for line in lines if line)

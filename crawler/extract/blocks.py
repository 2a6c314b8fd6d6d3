"""What a block of a page is, told from what it shows: a byline, an ad slot, a read-more
pointer, a list of links, a block whose name says lead or related.

Shared by the body cleaner (crawler.extract.body) and the finders of unmapped markup
(crawler.extract.structure), so that both judge a block the same way.
"""

from __future__ import annotations

import re
import unicodedata

import lxml.html

from crawler.extract.html import inline_text
from crawler.extract.markup import AD_LABELS, LEAD_WORDS, READ_MORE_PREFIXES, RELATED_NAME
from crawler.extract.text import fold

_RIGHT_ALIGNED = re.compile(r"text-align\s*:\s*right", re.I)
# A byline is a short line: a name, maybe a source in parentheses.
MAX_BYLINE_CHARS = 80
# A name: a few words, each capitalised ("Thu Hằng", "PV", "Minh Anh (TTXVN)").
MAX_NAME_WORDS = 6
MAX_NAME_CHARS = 60
# Text outside the links of a list of links: a label or a heading at most.
MAX_LABEL_CHARS = 40
_SENTENCE_END = ".!?:;,…"
_READ_MORE_OPENINGS = tuple(prefix.casefold() for prefix in READ_MORE_PREFIXES)
# Words of a class or id: "article__sapo" -> article, sapo; "boxSapo" -> box, sapo.
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def chars(text: str) -> int:
    """Characters a reader sees, white space aside."""
    return sum(len(word) for word in text.split())


def link_chars(element: lxml.html.HtmlElement) -> int:
    """Characters of the element's text that sit inside links."""
    return sum(chars(a.text_content()) for a in element.iter("a"))


def label_chars(element: lxml.html.HtmlElement) -> int:
    """Characters of the element's text outside its links."""
    return chars(element.text_content()) - link_chars(element)


def anchors(element: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The element's links that lead somewhere and say where (text or title), page order."""
    return [
        a
        for a in element.iter("a")
        if (a.get("href") or "").strip() and (a.text_content().strip() or a.get("title"))
    ]


def is_name_line(text: str) -> bool:
    """A short line of capitalised words with no sentence punctuation: a name or a source."""
    words = text.replace("(", " ").replace(")", " ").split()
    if not words or len(words) > MAX_NAME_WORDS or len(text) > MAX_NAME_CHARS:
        return False
    if text[-1] in _SENTENCE_END:
        return False
    return all(word[0].isupper() for word in words if word[0].isalpha()) and any(
        word[0].isalpha() for word in words
    )


def is_byline(element: lxml.html.HtmlElement) -> bool:
    """A short line set right-aligned, or a line that is only a name."""
    text = inline_text(element)
    if not text or len(text) > MAX_BYLINE_CHARS:
        return False
    if is_name_line(text):
        return True
    nodes = [element, *element.iterdescendants()]
    return any(
        _RIGHT_ALIGNED.search(node.get("style") or "")
        or (node.get("align") or "").lower() == "right"
        for node in nodes
        if isinstance(node.tag, str)
    )


def is_read_more(element: lxml.html.HtmlElement) -> bool:
    """A "Xem thêm: <link>" pointer: a read-more word, then nothing but a link."""
    opening = fold(element.text_content()[:200]).casefold()
    if not opening.startswith(_READ_MORE_OPENINGS):  # most blocks: told by their first words
        return False
    text = inline_text(element)
    prefix = next((p for p in READ_MORE_PREFIXES if text.casefold().startswith(p.casefold())), None)
    if prefix is None:
        return False
    first_link = next(element.iter("a"), None)
    if first_link is not None and text.startswith(inline_text(first_link) or "\0"):
        return False  # the words are a link's title ("Bài liên quan …"), not a pointer's
    rest = text[len(prefix) :].strip(" :-–>»")
    link_text = sum(len(inline_text(a)) for a in element.iter("a"))
    return not rest or link_text >= 0.5 * len(rest)


def is_ad_label(element: lxml.html.HtmlElement) -> bool:
    """A block that says only "Quảng cáo": what an ad slot shows once its script is gone."""
    text = element.text_content()
    return len(text) < 40 and inline_text(element).casefold().strip(" :") in AD_LABELS


def _plain(name: str) -> str:
    """A class or id without diacritics (đ as d): how "liên quan" is spelt in names."""
    if name.isascii():
        return name
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _name(element: lxml.html.HtmlElement) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}".strip()


def named_lead(element: lxml.html.HtmlElement) -> bool:
    """Its class or id is made of a lead word (sapo, summary, lead, desc, intro, …)."""
    name = _name(element)
    return bool(name) and any(w.lower() in LEAD_WORDS for w in _NAME_WORDS.findall(name))


def named_related(element: lxml.html.HtmlElement) -> bool:
    """Its class or id says "related" or "liên quan", however spelt."""
    name = _name(element)
    return bool(name) and RELATED_NAME.search(_plain(name)) is not None

"""Reading HTML: bytes to a tree, CSS lookups, and text as a reader sees it (blocks, <br>)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import charset_normalizer
import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.extract.article import ExtractionError
from crawler.extract.text import fold

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_LOOKS_LIKE_HTML = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|title|meta|div|p|h1|article|section|span|a)\b", re.I
)
# Elements that start a new line of text (a paragraph) in a browser.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


@dataclass(frozen=True)
class PageLimits:
    """How large a page extraction takes on. Its memory and time grow with the page's bytes
    and elements, by tens of times the page's size: past these, no text (ExtractionError).
    The crawl's EXTRACT_MAXSIZE and EXTRACT_MAX_ELEMENTS settings; 0 is no limit."""

    max_bytes: int = 2 * 1024**2
    max_elements: int = 20_000


PAGE_LIMITS = PageLimits()


def charset_of(content_type: str | bytes | None) -> str | None:
    """The charset a Content-Type header names, if any."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \t\"'"):
            return value.strip(" \t\"'")
    return None


def decode(
    html: bytes | str, declared: str | None = None, limits: PageLimits = PAGE_LIMITS
) -> tuple[str, list[str]]:
    """The document as text, read as it says it is written: BOM, then the charset
    `declared` by the HTTP header, then <meta charset>, then UTF-8 when the bytes are valid
    UTF-8, then the charset that fits them best (detection). Returns (text, warnings)."""
    if limits.max_bytes and len(html) > limits.max_bytes:
        raise ExtractionError(
            f"page of {len(html)} bytes over the extraction ceiling (EXTRACT_MAXSIZE, "
            f"{limits.max_bytes} bytes)"
        )
    if isinstance(html, str):
        return html, []
    warnings: list[str] = []
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        if html.startswith(bom):
            return html[len(bom) :].decode(encoding, errors="replace"), warnings
    meta = _META_CHARSET.search(html[:4096])
    encoding = None
    for source, name in (("HTTP header", declared), ("<meta>", meta and meta.group(1).decode())):
        if name and encoding is None:
            try:
                encoding = codecs.lookup(name.lower()).name
            except LookupError:
                warnings.append(f"unknown charset {name!r} in the {source}, ignored")
    if encoding is None:
        try:
            return html.decode("utf-8"), warnings
        except UnicodeDecodeError:
            encoding = _detect(html)
        warnings.append(f"no charset declared, not UTF-8: read as {encoding} (detected)")
    try:
        return html.decode(encoding), warnings
    except UnicodeDecodeError:
        warnings.append(f"bytes not valid {encoding}, bad bytes replaced")
        return html.decode(encoding, errors="replace"), warnings


def _detect(html: bytes) -> str:
    """The charset that reads the bytes best; UTF-8 (bad bytes replaced) if none does."""
    best = charset_normalizer.from_bytes(html).best()
    return codecs.lookup(best.encoding).name if best else "utf-8"


def parse(text: str, limits: PageLimits = PAGE_LIMITS) -> lxml.html.HtmlElement:
    """The page's tree; ExtractionError when the text is not an HTML document, or one of
    more elements than extraction takes on."""
    if not _LOOKS_LIKE_HTML.search(text[:65536]):
        raise ExtractionError("not HTML: no HTML tags in the document")
    # lxml refuses str input that carries an XML encoding declaration.
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        tree = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not HTML: {exc}") from None
    if limits.max_elements:
        elements = sum(1 for _ in tree.iter())
        if elements > limits.max_elements:
            raise ExtractionError(
                f"page of {elements} elements over the extraction ceiling "
                f"(EXTRACT_MAX_ELEMENTS, {limits.max_elements})"
            )
    return tree


@lru_cache(maxsize=512)
def _selector(css: str) -> CSSSelector:
    return CSSSelector(css)


def select(scope: lxml.html.HtmlElement, selectors: Iterable[str]) -> list[lxml.html.HtmlElement]:
    """Elements of the first selector that matches anything, in document order."""
    for css in selectors:
        found = _selector(css)(scope)
        if found:
            return found
    return []


@lru_cache(maxsize=64)
def _union(selectors: tuple[str, ...]) -> etree.XPath:
    """One XPath for several CSS selectors: the tree is walked once, not once per selector."""
    return etree.XPath(" | ".join(_selector(css).path for css in selectors))


def select_all(scope: lxml.html.HtmlElement, selectors: Iterable[str]) -> list:
    """Every element any of the selectors matches, each once, in document order, the scope
    itself excepted."""
    return [element for element in _union(tuple(selectors))(scope) if element is not scope]


def select_in(
    scopes: Iterable[lxml.html.HtmlElement | None], selectors: Iterable[str]
) -> list[lxml.html.HtmlElement]:
    """What `select` finds in the first scope where it finds anything (narrowest scope first)."""
    selectors = tuple(selectors)
    for scope in scopes:
        if scope is not None:
            found = select(scope, selectors)
            if found:
                return found
    return []


def select_first(
    scopes: Iterable[lxml.html.HtmlElement | None], selectors: Iterable[str]
) -> lxml.html.HtmlElement | None:
    """The first element `select_in` finds, or None."""
    found = select_in(scopes, selectors)
    return found[0] if found else None


def attr_or_text(element: lxml.html.HtmlElement) -> str:
    """A meta/link/time element's value, or the element's visible text."""
    if element.tag in ("meta", "link", "time"):
        for name in ("content", "href", "datetime"):
            value = element.get(name)
            if value is not None:
                return value.strip()
    return inline_text(element)


@dataclass(frozen=True)
class Layout:
    """How a tree breaks into lines: which tags break a line, start a block, separate cells,
    or hold nothing to read."""

    breaks: frozenset[str]
    blocks: frozenset[str]
    cells: frozenset[str]
    hidden: frozenset[str]


HTML_LAYOUT = Layout(
    breaks=frozenset({"br"}),
    blocks=frozenset(BLOCK_TAGS),
    cells=frozenset({"td", "th"}),
    hidden=frozenset(INVISIBLE_TAGS),
)


def lines(element: etree._Element, layout: Layout = HTML_LAYOUT) -> list[str]:
    """The element's visible text as a browser lays it out: a line per block or break."""
    out: list[str] = []
    current: list[str] = []  # the pieces of the line being read (no empty ones: fewer folds)

    def flush() -> None:
        if current:
            text = fold("".join(current))
            if text:
                out.append(text)
            current.clear()

    def visit(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else None
        if tag is None or tag in layout.hidden:  # comments, processing instructions, scripts
            pass
        elif tag in layout.breaks:
            flush()
        else:
            block = tag in layout.blocks
            if block:
                flush()
            if tag in layout.cells:
                current.append(" ")
            if node.text:
                current.append(node.text)
            for child in node:
                visit(child)
            if block:
                flush()
        if node.tail:
            current.append(node.tail)

    if element.text:
        current.append(element.text)
    for child in element:
        visit(child)
    flush()
    return out


def inline_text(element: lxml.html.HtmlElement) -> str:
    """The element's visible text on one line (blocks and <br> become spaces)."""
    # Folded lines joined by a space are folded already: no white space at their ends, and
    # a space composes with nothing under NFC.
    return " ".join(lines(element))

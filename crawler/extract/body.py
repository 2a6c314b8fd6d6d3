"""Body text: cut a body container down to the article's own text, then let trafilatura read it.

The site rules (crawler.extract.markup) or the structural finders (crawler.extract.structure)
say which container holds the body; what inside it is never text (captions, bylines, related
and read-more boxes, ads) is cut by the rules' selectors and by what the blocks show;
trafilatura does the main-text work on what is left, or on the whole page when no container
is found. trafilatura judges boilerplate, not repetition: a paragraph the page shows twice
comes out twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy, deepcopy

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from crawler.extract.blocks import is_ad_label, is_byline, is_read_more
from crawler.extract.html import BLOCK_TAGS, Layout, inline_text, lines, select_all
from crawler.extract.markup import COMMON_STRIP
from crawler.extract.text import fold

# trafilatura's output tree, laid out in lines as HTML is.
TRAFILATURA_LAYOUT = Layout(
    breaks=frozenset({"lb"}),
    blocks=frozenset({"p", "head", "list", "item", "quote", "table", "row", "code", "div"}),
    cells=frozenset({"cell"}),
    hidden=frozenset({"graphic"}),
)
# A caption is a line or two; a longer italic block below an image is text.
MAX_CAPTION_CHARS = 300
# How trafilatura reads here: text and tables only; every line kept, repeated or not. Its
# options are made once (for each page trafilatura would read its configuration anew):
TRAFILATURA_OPTIONS = {"comments": False, "tables": True, "images": False, "dedup": False}
# for a body container, the article already: recall favoured, no fallback extractor;
CONTAINER_READING = Extractor(output_format="python", fast=True, recall=True, **TRAFILATURA_OPTIONS)
# for a whole page, metadata included.
PAGE_READING = Extractor(output_format="python", with_metadata=True, **TRAFILATURA_OPTIONS)
# Below this share of the container's text, trafilatura's reading is second-guessed.
MIN_COVERAGE = 0.6
# A body line this long that trafilatura drops is reported in the article's warnings.
MIN_REPORTED_DROP = 80


def drop(element: lxml.html.HtmlElement) -> None:
    """Remove an element but keep the text that follows it."""
    if element.getparent() is not None:
        element.drop_tree()


def _trailing_blocks(container: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The container's last blocks holding text, last first (descending into wrappers)."""
    found = []
    for child in reversed(list(container)):
        if not isinstance(child.tag, str) or not inline_text(child):
            continue
        if child.tag == "div" and len(child) and all(c.tag in BLOCK_TAGS for c in child):
            found.extend(_trailing_blocks(child))
        else:
            found.append(child)
        if len(found) >= 2:
            break
    return found[:2]


def _is_image_block(element: lxml.html.HtmlElement) -> bool:
    return element.find(".//img") is not None and not inline_text(element)


def _is_emphasised_only(element: lxml.html.HtmlElement) -> bool:
    """All the block's text sits inside <em>/<i> (how old bodies set a caption)."""
    text = inline_text(element)
    if not text or len(text) > MAX_CAPTION_CHARS:
        return False
    emphasised = " ".join(inline_text(e) for e in element.iter("em", "i") if e is not element)
    return len(fold(emphasised)) >= len(text) - 2


def _loose_captions(container: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Captions outside <figure>: an italic line right below a block holding only an image."""
    found = []
    for block in container.iter("p", "div"):
        if not _is_image_block(block):
            continue
        following = block.getnext()
        if following is not None and following.tag in ("p", "div"):
            if _is_emphasised_only(following) or "caption" in (following.get("class") or ""):
                found.append(following)
    return found


def cut_bylines(container: lxml.html.HtmlElement) -> list[str]:
    """Remove the right-aligned author line(s) ending the body; return their text."""
    bylines = []
    for block in _trailing_blocks(container):
        if not is_byline(block):
            break
        bylines.append(inline_text(block))
        drop(block)
    return bylines


def generic_bylines(tree: lxml.html.HtmlElement, paragraphs: list[str]) -> list[str]:
    """Pop from the end of a generic body the lines the page sets as a byline (short,
    right-aligned); return them."""
    bylines: list[str] = []
    if not paragraphs:
        return bylines
    candidates = {inline_text(block) for block in tree.iter("p", "div") if is_byline(block)}
    while paragraphs and len(bylines) < 2 and paragraphs[-1] in candidates:
        bylines.append(paragraphs.pop())
    return bylines


def copy_without(
    element: lxml.html.HtmlElement, cut: Iterable[lxml.html.HtmlElement | None]
) -> lxml.html.HtmlElement:
    """A copy of the element without the elements of `cut` found inside it."""
    copy = deepcopy(element)
    targets = {e for e in cut if e is not None}
    if targets:
        # deepcopy keeps the tree's shape: the copy's n-th node is the original's n-th node
        pairs = zip(element.iter(), copy.iter(), strict=True)
        for copied in [c for original, c in pairs if original in targets]:
            drop(copied)
    return copy


def clean_container(
    container: lxml.html.HtmlElement, strip: tuple[str, ...], cut: Iterable = ()
) -> tuple[lxml.html.HtmlElement, list[str]]:
    """A copy of the body container without what is never text, nor the elements of `cut`
    (parts found elsewhere: the title, the lead, related boxes). Returns (copy, bylines)."""
    body = copy_without(container, cut)
    body.tail = None
    strip_boilerplate(body, strip)
    bylines = cut_bylines(body)
    _divs_to_paragraphs(body)
    return body, bylines


def _is_image_table(table: lxml.html.HtmlElement) -> bool:
    """A table laid out to hold a picture and its caption (how old CMSs set images)."""
    return table.find(".//img") is not None and len(inline_text(table)) <= MAX_CAPTION_CHARS


def strip_boilerplate(scope: lxml.html.HtmlElement, strip: tuple[str, ...]) -> None:
    """Remove, in place, what is never article text: the markup's `strip` selectors, the
    site-wide boilerplate, then what the blocks show they are: read-more pointers, ad
    slots, pictures set in tables, captions set below images."""
    for element in select_all(scope, (*strip, *COMMON_STRIP)):
        drop(element)
    for element in list(scope.iter("p", "div", "li", "h2", "h3", "h4", "h5", "table")):
        if element.getparent() is None:
            continue
        if element.tag == "table":
            if _is_image_table(element):
                drop(element)
        elif is_read_more(element) or is_ad_label(element):
            drop(element)
    for caption in _loose_captions(scope):
        drop(caption)


def _divs_to_paragraphs(container: lxml.html.HtmlElement) -> None:
    """A <div> holding only inline content is a paragraph: say so, trafilatura reads <p>
    among <p> siblings and passes over such divs (gen-1 bodies mix the two)."""
    for div in list(container.iter("div")):
        if div is container or not inline_text(div):
            continue
        if not any(isinstance(e.tag, str) and e.tag in BLOCK_TAGS for e in div.iterdescendants()):
            div.tag = "p"


def body_paragraphs(
    container: lxml.html.HtmlElement, url: str | None
) -> tuple[list[str], list[str]]:
    """Paragraphs of an already cleaned body container. Returns (paragraphs, warnings).

    trafilatura reads the container. When it keeps much less than the container holds the
    container's own layout is used instead; when it drops a long line, that is reported.
    """
    direct = lines(container)
    if not direct:
        return [], []
    page = lxml.html.Element("html")
    etree.SubElement(page, "body").append(deepcopy(container))
    document = trafilatura.bare_extraction(page, options=_for_url(CONTAINER_READING, url))
    paragraphs = document_lines(document)
    kept = sum(len(p) for p in paragraphs)
    total = sum(len(p) for p in direct)
    if kept < MIN_COVERAGE * total:
        return direct, [f"trafilatura kept {kept} of {total} body characters; container text used"]
    paragraphs = restore_repeats(direct, paragraphs)
    joined = "\n".join(paragraphs)
    dropped = [line for line in direct if len(line) >= MIN_REPORTED_DROP and line not in joined]
    if dropped:
        return paragraphs, [f"trafilatura dropped {len(dropped)} paragraph(s) of the body"]
    return paragraphs, []


def restore_repeats(direct: list[str], kept: list[str]) -> list[str]:
    """trafilatura's lines, with every line of the container it dropped only because it
    repeats (its text kept elsewhere) put back in its place.

    Only when trafilatura's lines are the container's lines, some left out, in order; when
    trafilatura split or joined lines, its reading stands.
    """
    seen = set(kept)
    out: list[str] = []
    matched = 0
    for line in direct:
        if matched < len(kept) and line == kept[matched]:
            out.append(line)
            matched += 1
        elif line in seen:
            out.append(line)
    return out if matched == len(kept) else kept


def generic_extraction(
    tree: lxml.html.HtmlElement,
    url: str | None,
    strip: tuple[str, ...] = (),
    cut: Iterable[lxml.html.HtmlElement | None] = (),
) -> trafilatura.settings.Document | None:
    """trafilatura on the whole page, metadata included: for pages where no body is found.

    The page's <body> is first rid of the parts found apart (`cut`) and of what the site
    rules know is never text (`strip`: every generation's related boxes, captions, ads),
    whatever container holds it.
    """
    page = copy_without(tree, cut)
    body = page.find("body")
    if body is not None:
        strip_boilerplate(body, strip)
    return trafilatura.bare_extraction(page, options=_for_url(PAGE_READING, url))


def _for_url(reading: Extractor, url: str | None) -> Extractor:
    """trafilatura's options for one page (a copy: trafilatura may change what it is given)."""
    options = copy(reading)
    options.url = options.source = url
    return options


def document_lines(document: trafilatura.settings.Document | None) -> list[str]:
    """The body of trafilatura's reading, a line per block and per <lb/>."""
    if document is None or document.body is None:
        return []
    return lines(document.body, TRAFILATURA_LAYOUT)

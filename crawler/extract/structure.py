"""Finding an article's parts by what they are, where no rule names their markup.

The site rules (crawler.extract.markup) say where each mapped generation keeps its parts; a
redesign, a generation nobody mapped or one box renamed leaves them blind. These finders read
what any article page shows a reader: the title is the visible <h1>; the body is the block
that holds the page's running text; the lead is the block before it that starts "(ĐCSVN)" or
whose class says lead; the related box is a list of links to other articles that a heading
such as "Tin liên quan" introduces, or whose class says "related", or that stands between
lead and body or at the body's end, nameless (a list with a heading of its own, "Đọc nhiều",
is another box). None of them reads a class name of the site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from crawler.extract.blocks import (
    MAX_LABEL_CHARS,
    anchors,
    chars,
    is_ad_label,
    is_byline,
    is_read_more,
    label_chars,
    link_chars,
    named_lead,
    named_related,
)
from crawler.extract.html import BLOCK_TAGS, inline_text
from crawler.extract.markup import CHROME_TAGS, LEAD_PREFIX, RELATED_HEADINGS
from crawler.extract.text import fold

# Running text comes in blocks at least this long: dates, bylines and labels are shorter.
MIN_PARAGRAPH_CHARS = 40
# The body is the smallest element that holds this share of the page's running text.
BODY_SHARE = 0.85
# A related box lists a few stories; more links than this is a list page's, not a box's.
MAX_RELATED_LINKS = 12
# A lead is a sentence at least.
MIN_LEAD_CHARS = 20
LEAD_MIN_WORDS = 8  # a lead nobody marked is a sentence: a date or a byline is shorter
# Text outside the links of a bare list of links: bullets, separators, a short label.
MAX_LIST_LABEL_CHARS = 12
# Never running text: the page's chrome, forms, media, scripts.
_NOT_TEXT = CHROME_TAGS | {
    "figure", "figcaption", "form", "script", "style", "noscript", "template", "button",
    "select", "textarea", "iframe", "object", "svg", "video", "audio",
}  # fmt: skip
# Blocks that hold a paragraph when nothing block-level sits inside them.
_TEXT_BLOCKS = frozenset(
    {"p", "div", "li", "blockquote", "td", "dd", "pre", "section", "article",
     "h2", "h3", "h4", "h5", "h6"}
)  # fmt: skip
# Between a body and a related list standing next to it: nothing a reader reads as text.
_SILENT_TAGS = frozenset({"figure", "script", "style", "noscript", "ins", "iframe", "img", "hr"})


def _elements(scope: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return list(scope.iter(etree.Element))


def _starts_lead(text: str | None) -> bool:
    return bool(text) and text.lstrip().startswith(LEAD_PREFIX)


def looks_like_lead(element: lxml.html.HtmlElement) -> bool:
    """A block that opens with the paper's mark, or whose name (or its parent's) says lead."""
    parent = element.getparent()
    return (
        _starts_lead(element.text_content())
        or named_lead(element)
        or (parent is not None and named_lead(parent))
    )


# -- title ------------------------------------------------------------------------------
def title_heading(
    tree: lxml.html.HtmlElement, hints: Iterable[str]
) -> lxml.html.HtmlElement | None:
    """The visible <h1> that titles the page: the only one, else the one that the page's
    <title> or og:title (`hints`) begins with, else the first outside the page's chrome."""
    headings = [(h, inline_text(h)) for h in tree.iter("h1")]
    headings = [(h, text) for h, text in headings if text]
    if len(headings) <= 1:
        return headings[0][0] if headings else None
    stems = [fold(hint).rstrip(".… ") for hint in hints if hint]
    for heading, text in headings:
        if any(stem and (stem.startswith(text) or text.startswith(stem)) for stem in stems):
            return heading
    for heading, _text in headings:
        if not any(a.tag in CHROME_TAGS for a in heading.iterancestors()):
            return heading
    return headings[0][0]


# -- body -------------------------------------------------------------------------------
def _paragraph_blocks(scope: lxml.html.HtmlElement, skip: set) -> list[tuple]:
    """(block, characters) of the running text under `scope`, page order: leaf blocks of
    some length, mostly not links, outside chrome and media, leads left out."""
    elements = _elements(scope)
    holds_block: set = set()
    for element in reversed(elements):  # children before parents
        parent = element.getparent()
        if parent is not None and (element in holds_block or element.tag in BLOCK_TAGS):
            holds_block.add(parent)
    hidden: set = set()
    blocks = []
    for element in elements:
        if element.tag in _NOT_TEXT or element.getparent() in hidden:
            hidden.add(element)
            continue
        if element.tag not in _TEXT_BLOCKS or element in holds_block or element in skip:
            continue
        n = chars(element.text_content())
        if n < MIN_PARAGRAPH_CHARS or link_chars(element) * 2 > n or looks_like_lead(element):
            continue
        blocks.append((element, n))
    return blocks


def body_container(
    tree: lxml.html.HtmlElement, title: lxml.html.HtmlElement | None = None, skip: Iterable = ()
) -> lxml.html.HtmlElement | None:
    """The smallest element that holds (nearly) all of the article's running text: <body>
    itself when the text is spread over the page, None when the page has none (a video page).

    The search starts at the title's nearest ancestor that holds most of the page's text (so
    that a footer or a sidebar with text of its own does not count), else at <body>; from
    there down, into the child that holds BODY_SHARE of the text, as long as that child is
    not a paragraph itself nor the wrapper of a single paragraph among others. A single line
    found away from the title (a footer's, on a video page) is no body.
    """
    root = tree.find("body")
    root = root if root is not None else tree
    blocks = _paragraph_blocks(root, {e for e in (title, *skip) if e is not None})
    if not blocks:
        return None
    weight: dict = {}
    count: dict = {}
    for block, n in blocks:
        for element in (block, *block.iterancestors()):
            weight[element] = weight.get(element, 0) + n
            count[element] = count.get(element, 0) + 1
    paragraphs = {block for block, _n in blocks}
    node = root
    if title is not None:
        node = next(
            (e for e in title.iterancestors() if weight.get(e, 0) * 2 >= weight.get(root, 0)),
            root,
        )
    anchored = node is not root
    while True:
        children = [child for child in node if weight.get(child)]
        if not children:
            break
        best = max(children, key=weight.__getitem__)
        if best in paragraphs:
            break
        if weight[best] < BODY_SHARE * weight[node] and not (
            _lead_beside(best, children, count) and not _marked_lead(root)
        ):
            break
        if count[best] == 1 and weight[best] < weight[node]:
            break
        node = best
    if title is not None and not anchored and node is not root and count[node] < 2:
        return None  # one line of text away from the title: a footer's, not a body
    return node


def _marked_lead(root: lxml.html.HtmlElement) -> bool:
    """Whether the page shows a lead by its mark or its name: then a paragraph standing apart
    before the body is body text, not a lead (asked only when the body's share falls short)."""
    return any(looks_like_lead(element) for element in _elements(root))


def _lead_beside(best, children: list, count: dict) -> bool:
    """Whether the only other text beside ``best`` is one paragraph standing before it: a lead
    nobody marked (no "(ĐCSVN)", no lead class), which is no part of the body, however long
    it is next to a short body."""
    others = [child for child in children if child is not best]
    return (
        len(others) == 1
        and count[others[0]] == 1
        and count[best] >= 2
        and children.index(others[0]) < children.index(best)
    )


def first_paragraph(container: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The container's first block of running text."""
    blocks = _paragraph_blocks(container, set())
    return blocks[0][0] if blocks else None


def article_region(
    title: lxml.html.HtmlElement | None, container: lxml.html.HtmlElement
) -> lxml.html.HtmlElement:
    """The smallest element holding both the title and the body: the article, without the
    page's sidebars and footer."""
    around = [container, *container.iterancestors()]
    if title is None:
        return container.getparent() if container.getparent() is not None else container
    lineage = set(around)
    for element in (title, *title.iterancestors()):
        if element in lineage:
            return element
    return around[-1]


# -- lead -------------------------------------------------------------------------------
def _block_of(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    while element.tag not in BLOCK_TAGS and element.getparent() is not None:
        element = element.getparent()
    return element


def lead_block(
    region: lxml.html.HtmlElement,
    title: lxml.html.HtmlElement | None,
    container: lxml.html.HtmlElement | None,
) -> lxml.html.HtmlElement | None:
    """The visible lead: the block that opens with "(ĐCSVN)", or an element whose name says
    lead; the first such before the body's text, else the first that opens with "(ĐCSVN)"."""
    elements = _elements(region)
    position = {element: i for i, element in enumerate(elements)}
    enclosing = {title, container} - {None}
    for part in list(enclosing):
        enclosing.update(part.iterancestors())
    stated: list = []  # blocks that open with the mark
    named: list = []
    for element in elements:
        if element in enclosing:
            owner = None
        elif _starts_lead(element.text):
            owner = _block_of(element)
        elif _starts_lead(element.tail) and element.getparent() is not None:
            owner = _block_of(element.getparent())
        else:
            owner = None
        if owner is not None and owner not in enclosing and owner not in stated:
            if inline_text(owner).startswith(LEAD_PREFIX):
                stated.append(owner)
        if element not in enclosing and named_lead(element):
            if chars(element.text_content()) >= MIN_LEAD_CHARS:
                named.append(element)
    candidates = sorted(set(stated) | set(named), key=lambda e: position.get(e, 0))
    first = first_paragraph(container) if container is not None else None
    if first is None:
        return candidates[0] if candidates else None
    if not candidates and title is not None:  # no mark, no name: what stands as a lead
        return standing_lead(elements, position, title, container, first)
    limit = position.get(first, len(elements))
    before = [c for c in candidates if position.get(c, 0) < limit and c is not first]
    if before:
        return before[0]
    return stated[0] if stated else None


def _running_text(element: lxml.html.HtmlElement) -> bool:
    """A sentence or more of text, mostly not links: not a date line, a byline or a menu."""
    text = fold(element.text_content())
    n = chars(text)
    # Chinese writes no spaces between words: its characters count as words.
    words = len(text.split()) + sum(1 for c in text if "\u3400" <= c <= "\u9fff")
    return n >= MIN_PARAGRAPH_CHARS and words >= LEAD_MIN_WORDS and link_chars(element) * 2 <= n


def _emphasised(element: lxml.html.HtmlElement) -> bool:
    """All of the block's text is bold or strong (its own text and tails aside: blank)."""
    marked = "".join(e.text_content() for e in element.iter("strong", "b") if e is not element)
    return fold(marked) == fold(element.text_content())


def standing_lead(
    elements: list,
    position: dict,
    title: lxml.html.HtmlElement,
    container: lxml.html.HtmlElement,
    first: lxml.html.HtmlElement,
) -> lxml.html.HtmlElement | None:
    """A lead nobody marked (an edition in another language has no "(ĐCSVN)"): the block of
    running text standing between the title and the body, outside the body's container;
    else the body's first paragraph when all of it is set in bold and more text follows."""
    start, end = position.get(title, -1), position.get(first, len(elements))
    inside = set(title.iter()) | set(container.iter()) | set(container.iterancestors())
    for element in elements[start + 1 : end]:
        if element in inside or element.tag not in _TEXT_BLOCKS:
            continue
        if any(child.tag in BLOCK_TAGS for child in element):
            continue
        if _running_text(element):
            return element
    if _emphasised(first) and len(_paragraph_blocks(container, {first})) >= 1:
        return first
    return None


# -- related stories --------------------------------------------------------------------
@dataclass
class Related:
    """The related box(es) found: what to cut from the body, the links, how they were found."""

    boxes: list = field(default_factory=list)  # the boxes' elements (heading, lists), page order
    links: list = field(default_factory=list)  # their <a> elements, page order
    found_by: str = ""  # "heading", "name" or "position"
    unread_heading: bool = False  # a heading said "related" and no link stood under it


def _heading_text(element: lxml.html.HtmlElement) -> str:
    return inline_text(element).casefold().rstrip(" :").strip()


def _headings(region: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Blocks whose whole text is a related-stories heading ("Tin liên quan", …)."""
    found: list = []
    for element in _elements(region):
        for text, owner in ((element.text, element), (element.tail, element.getparent())):
            if not text or owner is None or len(text) > 40:
                continue
            if fold(text).casefold().rstrip(" :") not in RELATED_HEADINGS:
                continue
            block = _block_of(owner)
            if block not in found and _heading_text(block) in RELATED_HEADINGS:
                found.append(block)
    return found


def _is_link_list(element: lxml.html.HtmlElement, allowance: int = 0) -> bool:
    return bool(anchors(element)) and label_chars(element) - allowance <= MAX_LIST_LABEL_CHARS


def _box_under(
    heading: lxml.html.HtmlElement, stop: set, is_article: Callable[[str], bool]
) -> list[lxml.html.HtmlElement]:
    """The box a heading introduces: its widest ancestor that holds only it and links; else
    the heading and the lists of links to articles that follow it."""
    allowance = chars(heading.text_content())
    box = heading
    while box.getparent() is not None and box.getparent() not in stop:
        parent = box.getparent()
        if not _is_link_list(parent, allowance):
            break
        box = parent
    if anchors(box):
        return [box]
    found = [box]
    for sibling in box.itersiblings():
        if not isinstance(sibling.tag, str) or not sibling.text_content().strip():
            continue
        if sibling in stop or not _article_list(sibling, is_article):
            break  # text, a "Xem thêm:" pointer, the tags: the list has ended
        found.append(sibling)
    return found


def _outermost(elements: list) -> list:
    chosen = set(elements)
    return [e for e in elements if not any(a in chosen for a in e.iterancestors())]


def _article_list(element: lxml.html.HtmlElement, is_article: Callable[[str], bool]) -> bool:
    """A short list of links, each to an article of the site (not a read-more pointer)."""
    if element.tag in CHROME_TAGS:
        return False  # a sidebar or a footer beside the article, never its own box
    links = anchors(element)
    if not links or len(links) > MAX_RELATED_LINKS or label_chars(element) > MAX_LIST_LABEL_CHARS:
        return False
    if _label(element):
        return False  # a box with a name of its own ("Đọc nhiều"): not the related stories
    return all(is_article(a.get("href") or "") for a in links) and not is_read_more(element)


def _label(element: lxml.html.HtmlElement) -> str:
    """The words of the element outside its links (bullets and separators aside)."""
    outside = [element.text or ""]
    for child in element.iterdescendants(etree.Element):
        in_link = next(child.iterancestors("a"), None) is not None
        if not in_link and child.tag != "a":
            outside.append(child.text or "")
        if not in_link:
            outside.append(child.tail or "")
    return " ".join(w for w in fold(" ".join(outside)).split() if sum(c.isalpha() for c in w) > 1)


def _silent(element: lxml.html.HtmlElement, bylines: bool) -> bool:
    """Nothing a reader takes for text: media, an ad slot, a read-more pointer (a byline)."""
    if not isinstance(element.tag, str) or element.tag in _SILENT_TAGS:
        return True
    if not element.text_content().strip():
        return True
    return is_ad_label(element) or is_read_more(element) or (bylines and is_byline(element))


def _run(elements: Iterable, is_article: Callable[[str], bool], bylines: bool, passed: set) -> list:
    """The article lists at the head of `elements`, past what is silent and the parts found
    already (`passed`: title, lead); stops at text."""
    found = []
    for element in elements:
        if not isinstance(element.tag, str) or element in passed:
            continue
        if _article_list(element, is_article):
            found.append(element)
        elif not _silent(element, bylines):
            break
    return found


def outer_wrapper(
    container: lxml.html.HtmlElement, region: lxml.html.HtmlElement
) -> lxml.html.HtmlElement:
    """The body's outermost wrapper: the container, or the elements around it that hold
    nothing else."""
    outer = container
    while (
        outer.getparent() is not None
        and outer.getparent() is not region
        and len([c for c in outer.getparent() if isinstance(c.tag, str)]) == 1
    ):
        outer = outer.getparent()
    return outer


def byline_after(
    container: lxml.html.HtmlElement, region: lxml.html.HtmlElement, skip: Iterable = ()
) -> lxml.html.HtmlElement | None:
    """The byline set right after the body (outside it, past the boxes of `skip`), if that
    is what follows it."""
    passed = set(skip)
    for sibling in outer_wrapper(container, region).itersiblings():
        if sibling in passed:
            continue
        if isinstance(sibling.tag, str) and sibling.text_content().strip():
            return sibling if is_byline(sibling) else None
    return None


def short_lines_before(
    region: lxml.html.HtmlElement, container: lxml.html.HtmlElement | None, limit: int = 60
) -> list[str]:
    """The text of the region's innermost elements before the body, short ones only: where a
    page shows its date, its section, its byline."""
    found = []
    for element in region.iter(etree.Element):
        if element is container:
            break
        if len(element) == 0 and element.text and 0 < len(element.text.strip()) <= limit:
            found.append(fold(element.text))
    return found


def _beside_body(
    region: lxml.html.HtmlElement,
    container: lxml.html.HtmlElement,
    is_article: Callable[[str], bool],
    passed: set,
) -> list:
    """Article lists that open or close the body, inside it or just outside it."""
    outer = outer_wrapper(container, region)
    children = list(container)
    found = _run(children, is_article, False, passed)
    found += _run(reversed(children), is_article, True, passed)
    if outer is not region:  # beside the article itself stand the page's sidebars
        found += _run(outer.itersiblings(preceding=True), is_article, False, passed)
        found += _run(outer.itersiblings(), is_article, True, passed)
    return found


def related_boxes(
    region: lxml.html.HtmlElement,
    container: lxml.html.HtmlElement | None,
    exclude: Iterable,
    is_article: Callable[[str], bool],
) -> Related:
    """The related stories shown with the article, found by heading, by name, else by place.

    Only inside the article's region: the sidebars' most-read and same-category lists stand
    outside it.
    """
    parts = {e for e in exclude if e is not None}
    stop = {region, *parts}
    if container is not None:
        stop.update((container, *container.iterancestors()))
    related = Related()
    boxes: list = []
    for heading in _headings(region):
        if heading in stop:
            continue
        box = _box_under(heading, stop, is_article)
        if not any(anchors(part) for part in box):
            related.unread_heading = True
            continue
        boxes += box
        related.found_by = related.found_by or "heading"
    named = [
        e
        for e in _elements(region)
        if e not in stop
        and named_related(e)
        and anchors(e)
        and label_chars(e) <= MAX_LABEL_CHARS
        and not any(e is box or e in box.iterdescendants() for box in boxes)
    ]
    if named:
        boxes += _outermost(named)
        related.found_by = related.found_by or "name"
    if not boxes and container is not None:
        boxes = _beside_body(region, container, is_article, parts)
        related.found_by = "position" if boxes else ""
    boxes = _outermost(list(dict.fromkeys(boxes)))
    order = {e: i for i, e in enumerate(_elements(region))}
    related.boxes = sorted(boxes, key=lambda e: order.get(e, 0))
    related.links = [a for box in related.boxes for a in anchors(box)]
    return related

"""Markup variants: the replica's articles under markup that nobody mapped.

The extractor is exact on the markup this replica renders (variant 0); the live site may
have other class names, another nesting, a redesign next year. `--markup-variant K` serves
every article page of every generation rewritten by variant K, and changes the ground truth
with it, so that a test can ask how the extractor reads a site it was not written for.

Each variant is drawn from one random stream seeded by K, every choice independently:
how class and id names are made (from a word list of made-up words, so that no rule can
name them), whether every class is renamed or only the parts inside the containers the rules
know, how deep the body and the article are nested, the lead's wrapping, place and name, the
related box's form (a class that says "related", a heading alone, a bare list), its items
and place, the attribute lazy images keep their URL in, and how much of <head> is cut short
(the meta description at 160 characters, og:title). The content changes too: some
paragraphs are shown twice in a row and some related boxes hold a dead link, so the
articles' `expected_text` says what a faithful reading must give.
"""

from __future__ import annotations

import html
import random
from copy import deepcopy
from dataclasses import dataclass, replace

import lxml.html
from lxml import etree

from .articles import PARTS
from .chrome import DEAD_PATHS, PLACEHOLDER_GIF
from .model import SEED_ID, RelatedLink, ReplicaArticle
from .page import Page

# Made-up words: every class and id a variant writes is built from them.
WORDS = (
    "tavo", "rime", "kelu", "mova", "zeti", "pran", "solu", "veko", "nira", "dumo",
    "qalo", "fesi", "hoya", "brel", "cuno", "lixa", "gorm", "wepa", "yuti", "jask",
    "obri", "umel", "irso", "plim", "trov", "snek", "glau", "vrin", "mesk", "falo",
)  # fmt: skip
# How the names are put together.
NAMINGS = ("kebab", "bem", "camel", "snake", "hashed")
# Which classes are renamed: every one, or those inside the article's known containers.
RENAMES = ("all", "inner")
NESTINGS = (0, 1, 2, 3)
LEAD_FORMS = ("div", "paragraph", "strong", "heading", "split")
LEAD_PLACES = ("after-title", "after-meta", "before-title", "body-top")
LEAD_NAMES = ("word", "plain")  # a class made of a lead word, or one that says nothing
LEAD_WORDS = ("sapo", "summary", "lead", "desc", "intro")
RELATED_FORMS = ("named", "heading", "bare")
RELATED_PLACES = ("before-body", "body-top", "body-middle", "body-end", "after-body")
RELATED_ITEMS = ("list", "cards", "lines")
RELATED_SPELLINGS = (
    ("related",), ("related", "news"), ("lien", "quan"), ("tin", "lien", "quan"),
    ("lienquan",), ("bai", "lien", "quan"),
)  # fmt: skip
HEADING_TEXTS = ("Tin liên quan", "Bài liên quan", "Tin bài liên quan", "Đọc thêm")
HEADING_TAGS = ("h2", "h3", "h4", "div", "p-strong")
LAZY_ATTRS = ("data-original", "data-lazy-src", "data-src")
# The page's chrome in HTML5 elements (header, nav, aside, footer), or in plain divs.
CHROMES = ("semantic", "divs")
CHROME_TAGS = ("header", "nav", "aside", "footer")
SITE_NAME = "Báo điện tử Đảng Cộng sản Việt Nam"
# Classes a site does not choose: a third party's (Google's ad slot).
KEEP_CLASSES = frozenset({"adsbygoogle"})
# The site cuts its meta description here.
DESCRIPTION_LIMIT = 160
# Dead links shown in related boxes: the paths answer 404, the titles stay on the page.
DEAD_RELATED = (
    ("Nội dung này không còn tồn tại trên hệ thống", DEAD_PATHS[0]),
    ("Bài viết đã gỡ bỏ theo yêu cầu của cơ quan chủ quản", DEAD_PATHS[1]),
)


def _pick(number: int, dimension: str, options: tuple):
    """The option of `dimension` for variant `number`: every option once in each run of
    len(options) variants, in an order shuffled per dimension and run, so that choices do
    not move in step."""
    run, index = divmod(number - 1, len(options))
    order = list(options)
    random.Random(f"dcs-replica:variant:{dimension}:{run}").shuffle(order)
    return order[index]


@dataclass(frozen=True)
class Variant:
    """One way of writing the article pages; Variant.of(K) is the same for the same K."""

    number: int
    naming: str = "kebab"
    rename: str = "all"
    nesting: int = 0
    lead_form: str = "div"
    lead_place: str = "after-title"
    lead_name: str = "plain"
    related_form: str = "named"
    related_place: str = "before-body"
    related_items: str = "list"
    heading_text: str = "Tin liên quan"
    heading_tag: str = "h3"
    heading_wrapped: bool = True  # the heading and its list in one box, or side by side
    lazy_attr: str = "data-src"
    chrome: str = "semantic"
    logo_h1: bool = False  # the header's logo is an <h1> too
    cut_og_title: bool = False
    repeat_rate: float = 0.0  # share of articles showing a paragraph twice in a row
    dead_rate: float = 0.0  # share of related boxes holding a dead link

    @classmethod
    def of(cls, number: int) -> Variant | None:
        """Variant `number`; None for 0, the replica's own markup."""
        if number < 0:
            raise ValueError(f"markup variant must be 0 or more, got {number}")
        if number == 0:
            return None
        rng = random.Random(f"dcs-replica:variant:{number}")
        heading = rng.choice(HEADING_TEXTS)
        heading = heading.upper() if rng.random() < 0.3 else heading
        return cls(
            number=number,
            naming=_pick(number, "naming", NAMINGS),
            rename=_pick(number, "rename", RENAMES),
            nesting=_pick(number, "nesting", NESTINGS),
            lead_form=_pick(number, "lead-form", LEAD_FORMS),
            lead_place=_pick(number, "lead-place", LEAD_PLACES),
            lead_name=_pick(number, "lead-name", LEAD_NAMES),
            related_form=_pick(number, "related-form", RELATED_FORMS),
            related_place=_pick(number, "related-place", RELATED_PLACES),
            related_items=_pick(number, "related-items", RELATED_ITEMS),
            heading_text=heading + (":" if rng.random() < 0.3 else ""),
            heading_tag=rng.choice(HEADING_TAGS),
            heading_wrapped=rng.random() < 0.6,
            lazy_attr=_pick(number, "lazy", LAZY_ATTRS),
            chrome=_pick(number, "chrome", CHROMES),
            logo_h1=rng.random() < 0.5,
            cut_og_title=rng.random() < 0.5,
            repeat_rate=rng.choice((0.1, 0.2, 0.3)),
            dead_rate=rng.choice((0.1, 0.2)),
        )

    def describe(self) -> str:
        """One line: the variant's choices, for test output and the replica's banner."""
        related = f"{self.related_form}/{self.related_items} {self.related_place}"
        if self.related_form == "heading":
            related += f" under {self.heading_tag} {self.heading_text!r}"
        return (
            f"variant {self.number}: {self.naming} names ({self.rename}), nesting "
            f"{self.nesting}, lead {self.lead_form}/{self.lead_name} {self.lead_place}, "
            f"related {related}, lazy {self.lazy_attr}, {self.chrome} chrome"
            + (", logo h1" if self.logo_h1 else "")
        )

    # -- names ------------------------------------------------------------------------
    def _join(self, words: list[str]) -> str:
        if self.naming == "camel":
            return words[0] + "".join(w.capitalize() for w in words[1:])
        if self.naming == "snake":
            return "_".join(words)
        if self.naming == "bem":
            return words[0] + "__" + "-".join(words[1:])
        return "-".join(words)

    def name(self, key: str, *meaning: str) -> str:
        """The class (or id) this variant writes for `key`: made-up words, then the words of
        `meaning` if the name is to say what it holds ("sapo", "related", …)."""
        rng = random.Random(f"dcs-replica:variant:{self.number}:name:{key}")
        first = rng.choice(WORDS)
        if self.naming == "hashed":  # as CSS modules minify: a word's start and a number
            return "-".join((*meaning, f"{first[:2]}{rng.randrange(16**5):05x}"))
        words = [first, *(meaning or (rng.choice(WORDS),))]
        return self._join(words)


# -- content ----------------------------------------------------------------------------
def adjust(articles: list[ReplicaArticle], variant: Variant | None, seed: int) -> None:
    """Give the articles what this variant's pages show besides markup: paragraphs repeated
    in a row, dead links among the related ones. The seed article stays as its file says."""
    if variant is None:
        return
    for a in articles:
        if a.key == SEED_ID or a.is_video:
            continue
        rng = random.Random(f"dcs-replica:{seed}:variant:{variant.number}:content:{a.key}")
        if len(a.paragraphs) >= 2 and rng.random() < variant.repeat_rate:
            index = rng.randrange(len(a.paragraphs))
            a.paragraphs.insert(index + 1, a.paragraphs[index])
        if a.related_links and rng.random() < variant.dead_rate:
            title, path = rng.choice(DEAD_RELATED)
            a.related_links.insert(
                rng.randrange(len(a.related_links) + 1), RelatedLink(title, "", path)
            )


# -- markup -----------------------------------------------------------------------------
def _has_class(element: etree._Element, name: str) -> bool:
    return name in (element.get("class") or "").split()


def _find(scope: etree._Element, name: str) -> etree._Element | None:
    return next((e for e in scope.iter(etree.Element) if _has_class(e, name)), None)


def _fragment(markup: str) -> etree._Element:
    return lxml.html.fragment_fromstring(markup)


def _insert_before(anchor: etree._Element, element: etree._Element) -> None:
    anchor.addprevious(element)
    element.tail = "\n"


def _insert_after(anchor: etree._Element, element: etree._Element) -> None:
    element.tail = anchor.tail
    anchor.tail = "\n"
    anchor.addnext(element)


def _wrap(element: etree._Element, cls: str) -> etree._Element:
    wrapper = etree.Element("div", {"class": cls})
    element.addprevious(wrapper)
    wrapper.tail, element.tail = element.tail, None
    wrapper.append(element)
    return wrapper


class _Page:
    """One article page being rewritten: its tree and where its parts are."""

    def __init__(self, body: bytes, a: ReplicaArticle, v: Variant) -> None:
        self.a, self.v = a, v
        self.tree = lxml.html.document_fromstring(body.decode("utf-8"))
        parts = PARTS[a.generation]
        main = self.tree.find("body")
        self.root = _find(main, parts.root)
        self.title = _find(self.root, parts.title)
        self.meta = _find(self.root, parts.meta)
        self.lead = _find(self.root, parts.lead)
        self.body = _find(self.root, parts.body)
        self.related = _find(self.root, parts.related)
        # in "inner" variants the containers the rules know keep their names
        self.kept = {self.root, self.title, self.body} if v.rename == "inner" else set()

    def name(self, key: str, *meaning: str) -> str:
        return self.v.name(f"{self.a.generation}:{key}", *meaning)

    def rename(self) -> None:
        scope = self.tree.find("body") if self.v.rename == "all" else self.root
        for element in scope.iter(etree.Element):
            classes = (element.get("class") or "").split()
            if not classes or element in self.kept:
                continue
            names = [c if c in KEEP_CLASSES else self.name(c) for c in classes]
            element.set("class", " ".join(dict.fromkeys(names)))

    def paragraphs(self) -> list[etree._Element]:
        """The body's paragraphs (the blocks with text and no class)."""
        return [
            e
            for e in self.body
            if e.tag in ("p", "div") and not e.get("class") and e.text_content().strip()
        ]

    # -- the related box ------------------------------------------------------------
    def _items(self) -> list[str]:
        v, links = self.v, self.a.related_links
        cls = self.name
        if v.related_items == "cards":
            cards = []
            for r in links:
                href, title = html.escape(r.href), html.escape(r.title, quote=False)
                cards.append(
                    f'<div class="{cls("card")}"><a class="{cls("thumb")}" href="{href}">'
                    f'<img src="{PLACEHOLDER_GIF}" alt=""></a>'
                    f'<h3 class="{cls("card-title")}"><a href="{href}">{title}</a></h3></div>'
                )
            return [f'<div class="{cls("cards")}">' + "".join(cards) + "</div>"]
        anchors = [
            f'<a href="{html.escape(r.href)}">{html.escape(r.title, quote=False)}</a>'
            for r in links
        ]
        if v.related_items == "lines":
            return [f'<p class="{cls("line")}">{a}</p>' for a in anchors]
        items = "".join(f'<li class="{cls("item")}">{a}</li>' for a in anchors)
        return [f'<ul class="{cls("list")}">{items}</ul>']

    def _heading(self) -> str:
        v, text = self.v, html.escape(self.v.heading_text, quote=False)
        if v.heading_tag == "p-strong":
            return f'<p class="{self.name("heading")}"><strong>{text}</strong></p>'
        return f'<{v.heading_tag} class="{self.name("heading")}">{text}</{v.heading_tag}>'

    def related_box(self) -> list[etree._Element]:
        """The box as this variant writes it: one element, or a heading and its lists."""
        v, items = self.v, self._items()
        if v.related_form == "named":
            spelling = RELATED_SPELLINGS[(v.number + self.a.generation) % len(RELATED_SPELLINGS)]
            box = f'<div class="{self.name("related", *spelling)}">' + "".join(items) + "</div>"
            return [_fragment(box)]
        if v.related_form == "heading":
            if v.heading_wrapped:
                box = f'<div class="{self.name("box")}">{self._heading()}{"".join(items)}</div>'
                return [_fragment(box)]
            return [_fragment(part) for part in (self._heading(), *items)]
        if len(items) == 1:
            return [_fragment(items[0])]
        return [_fragment(f'<div class="{self.name("box")}">' + "".join(items) + "</div>")]

    def place_related(self) -> None:
        if self.related is not None:
            self.related.drop_tree()  # its tail stays
        if not self.a.related_links or self.a.is_video:
            return
        place = self.v.related_place
        if self.v.related_form == "bare" and place == "body-middle":
            place = "body-end"  # a list with no name nor heading is told by its place
        box = self.related_box()
        paragraphs = self.paragraphs()
        if place == "before-body":
            for part in box:
                _insert_before(self.body, part)
        elif place == "after-body":
            for part in reversed(box):
                _insert_after(self.body, part)
        elif place == "body-top":
            for part in reversed(box):
                self.body.insert(0, part)
                part.tail = "\n"
        elif place == "body-middle" and paragraphs:
            for part in reversed(box):
                _insert_after(paragraphs[0], part)
        else:
            for part in box:
                self.body.append(part)
                part.tail = "\n"

    # -- the lead -------------------------------------------------------------------
    def place_lead(self) -> None:
        if self.lead is None:
            return
        self.lead.drop_tree()
        v, lead = self.v, self.a.lead
        meaning = (LEAD_WORDS[(v.number + self.a.generation) % len(LEAD_WORDS)],)
        cls = self.name("lead", *meaning) if v.lead_name == "word" else self.name("lead")
        text = html.escape(lead, quote=False)
        if v.lead_form == "paragraph":
            markup = f'<div class="{cls}"><p>{text}</p></div>'
        elif v.lead_form == "strong":
            markup = f'<p class="{cls}"><strong>{text}</strong></p>'
        elif v.lead_form == "heading":
            markup = f'<h2 class="{cls}">{text}</h2>'
        elif v.lead_form == "split" and lead.startswith("(ĐCSVN)"):
            rest = html.escape(lead[len("(ĐCSVN)") :], quote=False)
            markup = (
                f'<div class="{cls}"><span class="{self.name("mark")}">(ĐCSVN)</span>{rest}</div>'
            )
        else:
            markup = f'<div class="{cls}">{text}</div>'
        element = _fragment(markup)
        place = v.lead_place
        if place == "body-top" and not self.a.is_video:
            self.body.insert(0, element)
            element.tail = "\n"
        elif place == "before-title":
            _insert_before(self.title, element)
        elif place == "after-meta" and self.meta is not None:
            _insert_after(self.meta, element)
        else:
            _insert_after(self.title, element)

    # -- nesting, images, ids, head ---------------------------------------------------
    def nest(self) -> None:
        depth = self.v.nesting
        if depth >= 2 and self.v.rename == "all" and len(self.body):
            inner = etree.SubElement(self.body, "div", {"class": self.name("text")})
            for child in list(self.body)[:-1]:
                inner.append(child)
            inner.text, self.body.text = self.body.text, None
        for level in range(depth):
            _wrap(self.body, self.name(f"body-wrap-{level}"))
        if self.v.rename == "all":
            self.root.tag = ("div", "section", "article")[self.v.number % 3]
            for level in range(min(depth, 2)):
                _wrap(self.root, self.name(f"root-wrap-{level}"))

    def lazy_images(self) -> None:
        for img in self.root.iter("img"):
            url = img.get("data-src") or img.get("src") or ""
            if not url or url.startswith("data:"):
                continue
            img.attrib.pop("data-src", None)
            img.set("src", PLACEHOLDER_GIF)
            img.set(self.v.lazy_attr, url)

    def ids(self) -> None:
        for key, element in (("root", self.root), ("body", self.body)):
            if element not in self.kept:
                element.set("id", self.name(f"id-{key}"))

    def head(self) -> None:
        lead, title = self.a.lead, self.a.title
        cut = lead if len(lead) <= DESCRIPTION_LIMIT else lead[: DESCRIPTION_LIMIT - 3] + "..."
        head = self.tree.find("head")
        for meta in head.iter("meta"):
            if meta.get("name") == "description":
                meta.set("content", cut)
                og = etree.Element("meta", {"property": "og:description", "content": cut})
                _insert_after(meta, og)
                break
        if self.v.cut_og_title and len(title) > 45:
            for meta in head.iter("meta"):
                if meta.get("property") == "og:title":
                    meta.set("content", title[:40].rsplit(" ", 1)[0] + "...")

    def same_category(self) -> None:
        """Right after the article, a list of other stories of its section: the most-read
        box's links under "Tin cùng chuyên mục". Never related stories."""
        aside = self.tree.find(".//aside")
        links = aside.find(".//ul") if aside is not None else None
        if links is None or not len(links):
            return
        box = _fragment(
            f'<div class="{self.name("same-section")}"><h3 class="{self.name("heading")}">'
            f"Tin cùng chuyên mục</h3></div>"
        )
        box.append(deepcopy(links))
        _insert_after(self.root, box)

    def chrome(self) -> None:
        header = self.tree.find(".//header")
        if self.v.logo_h1 and header is not None:
            logo = header.find("a")
            if logo is not None:
                heading = _fragment(
                    f'<h1 class="{self.name("logo")}"><a href="/">{SITE_NAME}</a></h1>'
                )
                logo.addprevious(heading)
                heading.tail = logo.tail
                logo.drop_tree()
        if self.v.chrome == "divs":
            for tag in CHROME_TAGS:
                for element in list(self.tree.iter(tag)):
                    element.tag = "div"

    def serialize(self) -> bytes:
        out = lxml.html.tostring(self.tree, doctype="<!DOCTYPE html>", encoding="unicode")
        return (out + "\n").encode("utf-8")


def restyle(page: Page, a: ReplicaArticle, variant: Variant | None) -> Page:
    """The article's page as `variant` writes it (variant None: unchanged)."""
    if variant is None or page.status != 200:
        return page
    rewrite = _Page(page.body, a, variant)
    rewrite.rename()
    rewrite.place_related()
    rewrite.place_lead()
    rewrite.nest()
    rewrite.same_category()
    rewrite.lazy_images()
    rewrite.chrome()
    rewrite.ids()
    rewrite.head()
    return replace(page, body=rewrite.serialize())

"""extract(html, url) -> Article: one page in, one article out. Pure: no network, no files."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html
from lxml import etree
from trafilatura.settings import Document

from crawler.extract import structure
from crawler.extract.article import GENERIC, SITE_RULES, Article, ExtractionError
from crawler.extract.body import (
    body_paragraphs,
    clean_container,
    document_lines,
    generic_bylines,
    generic_extraction,
)
from crawler.extract.dates import parse_date, parse_iso
from crawler.extract.document import document_fields
from crawler.extract.html import (
    PAGE_LIMITS,
    PageLimits,
    attr_or_text,
    decode,
    inline_text,
    parse,
    select,
    select_first,
    select_in,
)
from crawler.extract.markup import (
    MARKUPS,
    PAGE_META,
    PLACEHOLDER_AUTHORS,
    TITLE_SUFFIXES,
    Markup,
)
from crawler.extract.text import fold
from crawler.site import (
    MAIN,
    SITE_HOSTS,
    VIDEO_PATH_PREFIXES,
    Kind,
    Site,
    article_id,
    document_id,
    generation,
)

_TRUNCATED = ("...", "…")
_AUTHOR_LABELS = re.compile(r"^(?:tác giả|bài và ảnh|bài, ảnh|bài|thực hiện)\s*:\s*", re.I)
_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-srcset", "src")
# Date sources further apart than this are reported: the page contradicts itself.
DATE_TOLERANCE = timedelta(minutes=2)


def _jsonld(tree: lxml.html.HtmlElement) -> dict:
    """The page's JSON-LD object describing the article, or {}."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                types = item.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(isinstance(t, str) and t in PAGE_META.jsonld_types for t in types):
                    return item
                stack.extend(item.get("@graph") or [])
    return {}


def _jsonld_names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _jsonld_names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _jsonld_names(item)]
    return []


def _meta(tree: lxml.html.HtmlElement, selectors: tuple[str, ...]) -> list[str]:
    return [value for value in (attr_or_text(e) for e in select(tree, selectors)) if value]


class _Page:
    """One parsed page and the lookups every part of the extraction shares."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        self.site = Site.of(url)
        self.jsonld = _jsonld(tree)
        self.warnings: list[str] = []
        self.base = url  # where relative links resolve: the canonical URL, once known

    def kind(self, href: str) -> Kind:
        """What a link of the page leads to (article, list, tag, …)."""
        return self.site.classify(urljoin(self.base, href))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # -- identity ---------------------------------------------------------------------
    def canonical_url(self) -> str:
        fallback = self.site.canonical(self.url)
        for value in _meta(self.tree, PAGE_META.canonical):
            link = urljoin(self.url, value)
            host = (urlsplit(link).hostname or "").lower()
            own = SITE_HOSTS if self.site.profile is MAIN else self.site.profile.hosts
            if host not in own and host != self.site.base_host:
                self.warn(f"canonical link to another site ignored: {link}")
                continue
            site = Site.of(link)
            if (
                site.classify(link) is not Kind.ARTICLE
                and self.site.classify(self.url) is Kind.ARTICLE
            ):
                self.warn(f"canonical link is not an article URL, ignored: {link}")
                continue
            return site.canonical(link)
        return fallback


def _find_markup(
    tree: lxml.html.HtmlElement, url: str
) -> tuple[Markup | None, lxml.html.HtmlElement | None]:
    """The rules whose article container the page holds (the URL's generation tried first)."""
    gen = generation(url)
    for markup in sorted(MARKUPS, key=lambda m: m.generation != gen):
        found = select(tree, markup.root)
        if found:
            return markup, found[0]
    return None, None


# What every generation's rules cut from a body: still never text in markup nobody mapped.
_KNOWN_STRIP = tuple(dict.fromkeys(css for m in MARKUPS for css in (*m.strip, *m.related_box)))
_KNOWN_RELATED = tuple(dict.fromkeys(css for m in MARKUPS for css in m.related))
_KNOWN_RELATED_BOX = tuple(dict.fromkeys(css for m in MARKUPS for css in m.related_box))


@dataclass
class _Parts:
    """Where the page keeps the article's parts: where the site's rules say, else found by
    what they are (crawler.extract.structure)."""

    markup: Markup | None  # the rules whose container the page holds
    scopes: list  # where the rules look, narrowest first: their container, then the page
    region: lxml.html.HtmlElement  # the article: title and body, no sidebars, no footer
    title: lxml.html.HtmlElement | None
    lead: lxml.html.HtmlElement | None
    # the body: None when the page has no running text, <body> when it is spread all over
    container: lxml.html.HtmlElement | None
    by_rules: bool  # the body container is where a rule says
    related: structure.Related


def _title_element(page: _Page, markup: Markup | None, scopes: list):
    """The title: where the rules say, else the visible <h1> that titles the page."""
    element = select_first(scopes, markup.title) if markup else None
    if element is not None and inline_text(element):
        return element
    titles = [t.text_content() for t in page.tree.iter("title")]
    hints = [*_meta(page.tree, PAGE_META.title), *titles]
    return structure.title_heading(page.tree, hints)


def _body_container(page: _Page, markup: Markup | None, scopes: list, title):
    """The body's container and whether a rule named it: where the rules say, else the
    block that holds the article's running text."""
    element = select_first(scopes, markup.body) if markup else None
    if element is not None:
        return element, True
    return structure.body_container(page.tree, title), False


def _lead_element(page: _Page, markup: Markup | None, scopes: list, region, title, container):
    """The lead: where the rules say, else the visible block that opens with the paper's
    mark or whose name says lead."""
    element = select_first(scopes, markup.lead) if markup else None
    if element is not None and inline_text(element):
        return element
    found = structure.lead_block(region, title, container)
    if found is not None and markup is not None:
        page.warn("lead not where the site rules look: found by what it is")
    return found


def _related(
    page: _Page, markup: Markup | None, scopes: list, region, container, exclude: list
) -> structure.Related:
    """The related box: the rules' fast path, else by heading, name or place."""
    selectors = markup.related if markup else _KNOWN_RELATED
    links = select_in(scopes, selectors) if markup else select(region, selectors)
    if links:
        boxes = select(page.tree, markup.related_box if markup else _KNOWN_RELATED_BOX)
        return structure.Related(boxes=boxes, links=links, found_by="rules")

    def is_article(href: str) -> bool:
        return page.kind(href) is Kind.ARTICLE

    related = structure.related_boxes(region, container, exclude, is_article)
    if related.links and markup is not None:
        page.warn(f"related box not where the site rules look: found by its {related.found_by}")
    if related.unread_heading:
        page.warn("a related-stories heading with no links under it")
    return related


def _find_parts(page: _Page) -> _Parts:
    """Title, body, lead, related box, in that order: each finder uses the parts before it."""
    markup, root = _find_markup(page.tree, page.url)
    scopes = [root, page.tree] if root is not None else [page.tree]
    title = _title_element(page, markup, scopes)
    container, by_rules = _body_container(page, markup, scopes, title)
    page_body = page.tree.find("body")
    region = page_body if page_body is not None else page.tree
    if container is not None and container is not region:
        region = structure.article_region(title, container)
    lead = _lead_element(page, markup, scopes, region, title, container)
    if container is None and title is not None and lead is not None:
        region = structure.article_region(title, lead)  # no body: the article is title, lead
    related = _related(page, markup, scopes, region, container, [title, lead])
    return _Parts(markup, scopes, region, title, lead, container, by_rules, related)


@dataclass
class _Body:
    """The body as read: from its container, or by trafilatura on the whole page."""

    method: str
    paragraphs: list[str]
    bylines: list[str]  # the author lines cut from its end
    # trafilatura's reading of the whole page (no container found): the last resort for metadata
    document: Document | None = None


def _read_body(page: _Page, parts: _Parts, base: str) -> _Body:
    """The container's paragraphs, cut of what is never text and of the parts found apart;
    trafilatura's reading of the whole page when the text has no one container; nothing when
    the page has no running text."""
    cut = [*parts.related.boxes, parts.title, parts.lead]
    if not parts.by_rules:
        page.warn("no site rule matches this markup: generic extraction")
    if parts.container is None:
        return _Body(GENERIC, [], [])
    if parts.container.tag == "body":
        document = generic_extraction(page.tree, base, _KNOWN_STRIP, cut)
        paragraphs = document_lines(document)
        bylines = generic_bylines(page.tree, paragraphs)
        return _Body(GENERIC, paragraphs, bylines, document)
    strip = parts.markup.strip + parts.markup.related_box if parts.by_rules else _KNOWN_STRIP
    cleaned, bylines = clean_container(parts.container, strip, cut)
    paragraphs, warnings = body_paragraphs(cleaned, base)
    for warning in warnings:
        page.warn(warning)
    return _Body(SITE_RULES if parts.by_rules else GENERIC, paragraphs, bylines)


def _lead(page: _Page, element: lxml.html.HtmlElement | None) -> str:
    """The visible lead; the meta description only when the page shows none (the site cuts
    it at 160 characters)."""
    lead = inline_text(element) if element is not None else ""
    if lead:
        return lead
    lead = fold(next(iter(_meta(page.tree, PAGE_META.description)), ""))
    page.warn("lead taken from the meta description" if lead else "no lead")
    return lead


def _title(page: _Page, element, document: Document | None) -> str:
    """The heading; else og:title, unless the site cut it short; else <title>."""
    if element is not None and inline_text(element):
        return inline_text(element)
    og = fold(next(iter(_meta(page.tree, PAGE_META.title)), ""))
    if og and not og.endswith(_TRUNCATED):
        return og
    titles = page.tree.findall(".//title")
    html_title = fold(titles[0].text_content()) if titles else ""
    for suffix in TITLE_SUFFIXES:
        html_title = html_title.removesuffix(suffix).strip()
    if og:
        page.warn("title taken from a truncated og:title")
        stem = og.rstrip(".… ")
        return html_title if html_title.startswith(stem) and len(html_title) > len(stem) else og
    if html_title:
        return html_title
    return fold(document.title) if document is not None and document.title else ""


def _clean_author(text: str) -> str | None:
    text = _AUTHOR_LABELS.sub("", fold(text)).strip(" -–,.")
    if not text:
        return None
    parts = [p.strip(" ()[]-–.") for p in re.split(r"[,;/&]|\s+-\s+|\s+và\s+", text)]
    if all(p.casefold() in PLACEHOLDER_AUTHORS for p in parts if p):
        return None
    bare = text.strip("()[] ").casefold()
    return None if bare in PLACEHOLDER_AUTHORS else text


def _author(page: _Page, parts: _Parts, body: _Body) -> str | None:
    """The first real name among: the markup's author, the body's closing byline, the byline
    right after the body, JSON-LD, meta, trafilatura's guess."""
    candidates: list[str] = []
    markup = parts.markup
    element = select_first(parts.scopes, markup.author) if markup else None
    if element is not None:
        candidates.append(inline_text(element))
    candidates += reversed(body.bylines)  # cut last first: the byline read top to bottom
    if parts.container is not None and parts.container is not parts.region:
        after = structure.byline_after(parts.container, parts.region, parts.related.boxes)
        candidates += [inline_text(after)] if after is not None else []
    candidates += _jsonld_names(page.jsonld.get("author"))
    candidates += _meta(page.tree, PAGE_META.author)
    if body.document is not None and body.document.author:
        candidates.append(body.document.author)
    return next((author for author in map(_clean_author, candidates) if author), None)


def _stated_dates(page: _Page, scopes: list, markup: Markup | None) -> list[tuple[str, datetime]]:
    """(source, date) of every publication date the rules know, machine-readable ones first:
    they carry seconds and a zone, the date the page shows does not always."""
    machine: list[tuple[str, datetime | None]] = []
    visible: list[tuple[str, datetime | None]] = []
    element = select_first(scopes, markup.published) if markup else None
    if element is not None:
        value = element.get("datetime") or element.get("content")
        if value:
            machine.append((markup.name, parse_date(value)))
        visible.append((markup.name + " text", parse_date(inline_text(element))))
    machine += [("meta", parse_date(value)) for value in _meta(page.tree, PAGE_META.published)]
    if page.jsonld.get("datePublished"):
        machine.append(("json-ld", parse_date(str(page.jsonld["datePublished"]))))
    return [(source, value) for source, value in machine + visible if value is not None]


def _last_resort_dates(page: _Page, parts: _Parts) -> list[tuple[str, datetime]]:
    """A date where no rule looks: any <time datetime>, then a short line of the article
    before its body that reads as a date, then a date-like element's text."""
    for element in select(page.tree, PAGE_META.any_time):
        value = parse_date(element.get("datetime"))
        if value is not None:
            return [("time", value)]
    for line in structure.short_lines_before(parts.region, parts.container):
        value = parse_date(line)
        if value is not None:
            return [("visible", value)]
    for css in PAGE_META.visible_date:
        for element in select(page.tree, (css,))[:20]:
            value = parse_date(inline_text(element)[:120])
            if value is not None:
                return [("visible", value)]
    return []


def _published(page: _Page, parts: _Parts, document: Document | None) -> datetime | None:
    """The first date stated; the page is reported when its dates disagree."""
    found = _stated_dates(page, parts.scopes, parts.markup) or _last_resort_dates(page, parts)
    if not found and document is not None and document.date:
        guess = parse_iso(document.date)  # htmldate's guess: a day, no time
        found = [("trafilatura", guess)] if guess is not None else []
    if not found:
        page.warn("no publication date")
        return None
    published = found[0][1]
    if any(abs(value - published) > DATE_TOLERANCE for _source, value in found):
        stated = ", ".join(f"{source}={value.isoformat()}" for source, value in found)
        page.warn(f"the page states different publication dates: {stated}")
    return published


def _modified(page: _Page) -> datetime | None:
    """Only <head> states it: meta, then JSON-LD."""
    values = [*_meta(page.tree, PAGE_META.modified), str(page.jsonld.get("dateModified") or "")]
    return next((date for date in map(parse_date, values) if date is not None), None)


def _links(elements: list, base: str) -> list[tuple[str, str]]:
    """(title, absolute URL) of the links, page order, each URL once (the titled link)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for a in elements:
        href = (a.get("href") or "").strip()
        title = inline_text(a) or fold(a.get("title"))
        if not href or href.startswith(("#", "javascript:", "mailto:")) or not title:
            continue
        link = urljoin(base, href)
        if link not in seen:
            seen.add(link)
            out.append((title, link))
    return out


def _images(containers: list, base: str, skip: list, featured: list[str]) -> list[str]:
    """Real image URLs: the featured image (og:image), then the containers' in page order,
    a lazy image's data-src, never its data: placeholder; a video's poster."""
    skipped = {e for box in skip for e in box.iter()}  # elements, not id(): lxml proxies die
    images: list[str] = []
    for value in featured[:1]:
        if value and not value.startswith("data:"):
            images.append(urljoin(base, value))
    for container in containers:
        if container is None:
            continue
        for img in container.iter("img", "video"):
            if img in skipped:
                continue
            for attr in ("poster",) if img.tag == "video" else _LAZY_ATTRS:
                value = (img.get(attr) or "").strip().split(" ")[0].strip(",")
                if value and not value.startswith(("data:", "about:", "javascript:")):
                    image = urljoin(base, value)
                    if image not in images:
                        images.append(image)
                    break
    return images


def _tags(page: _Page, parts: _Parts) -> list[str]:
    """The markup's tag links; else the article's links to tag pages; else <head>, JSON-LD."""
    elements = select_in(parts.scopes, parts.markup.tags) if parts.markup else []
    if not elements:
        links = parts.region.iter("a")
        elements = [a for a in links if page.kind(a.get("href") or "") is Kind.TAG]
    values = [inline_text(e) for e in elements] or _meta(page.tree, PAGE_META.tags)
    keywords = page.jsonld.get("keywords")
    if not values and keywords:
        values = keywords.split(",") if isinstance(keywords, str) else [str(k) for k in keywords]
    tags: list[str] = []
    for value in values:
        tag = fold(value).lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _crumbs(page: _Page, parts: _Parts) -> list:
    """The breadcrumb: the markup's, else the article's links to lists before its title."""
    if parts.markup is not None:
        found = select_in(parts.scopes, parts.markup.category)
        if found:
            return found
    crumbs = []
    for element in parts.region.iter(etree.Element):
        if element is parts.title or element is parts.container:
            break
        if element.tag == "a" and page.kind(element.get("href") or "") is Kind.LIST:
            crumbs.append(element)
    return crumbs


def _category(page: _Page, parts: _Parts, document: Document | None) -> str | None:
    """The breadcrumb's last step; else the section <head> or JSON-LD names."""
    crumbs = [inline_text(e) for e in _crumbs(page, parts)]
    crumbs = [c for c in crumbs if c and c.casefold() not in ("trang chủ", "home")]
    if crumbs:
        return crumbs[-1]
    section = _meta(page.tree, PAGE_META.section)
    if section:
        return fold(section[0])
    ld = page.jsonld.get("articleSection")
    if isinstance(ld, list):
        ld = ld[0] if ld else None
    if ld:
        return fold(str(ld))
    if document is not None and document.categories:
        return fold(document.categories[0])
    return None


def stable_id(canonical_url: str, url: str) -> str:
    """The article number in the URL; else a hash of the canonical path (gen-3 URLs have none).
    A documents-portal page: its number (``book-<number>`` for a book)."""
    number = article_id
    if Site.of(canonical_url).profile.documents or Site.of(url).profile.documents:
        number = document_id
    numeric = number(canonical_url) or number(url)
    if numeric:
        return numeric
    path = unicodedata.normalize("NFC", unquote(urlsplit(canonical_url).path))
    return "p" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:12]


def _is_video(page: _Page, markup: Markup | None, scopes: list) -> bool:
    if urlsplit(page.url).path.startswith(VIDEO_PATH_PREFIXES):
        return True
    players = markup.video if markup else ("video",)
    return any(select(scope, players) for scope in scopes if scope is not None)


def extract(
    html: bytes | str, url: str, *, encoding: str | None = None, limits: PageLimits = PAGE_LIMITS
) -> Article:
    """Read one article page; `encoding` is the charset its HTTP header declares, if any.
    Raises ExtractionError when the page is not an article page, or is over `limits`."""
    text, decode_warnings = decode(html, encoding, limits)
    page = _Page(parse(text, limits), url)
    for warning in decode_warnings:
        page.warn(warning)
    canonical_url = page.canonical_url()
    base = page.base = canonical_url  # relative links resolve on the live site, not a mirror

    parts = _find_parts(page)
    body = _read_body(page, parts, base)
    lead = _lead(page, parts.lead)
    title = _title(page, parts.title, body.document)
    if not title:
        raise ExtractionError("no title: the page has no h1, og:title or <title>")
    paragraphs = body.paragraphs
    if body.document is not None:  # trafilatura on a whole page reads title and lead too
        while paragraphs and paragraphs[0] in (title, lead):
            paragraphs.pop(0)

    markup, scopes, container = parts.markup, parts.scopes, parts.container
    published = _published(page, parts, body.document)
    author = _author(page, parts, body)
    image_scopes = [parts.lead, container] if container is not None else [parts.region]
    images = _images(image_scopes, base, parts.related.boxes, _meta(page.tree, PAGE_META.image))
    root = scopes[0] if len(scopes) > 1 else None
    video_scopes = [root, container] if root is not None else scopes
    is_video = not paragraphs and _is_video(page, markup, video_scopes)
    if not paragraphs and not is_video:
        page.warn("no body text")

    profile = page.site.profile
    article = Article(
        url=url,
        canonical_url=canonical_url,
        id=stable_id(canonical_url, url),
        title=title,
        lead=lead or None,
        related=_links(parts.related.links, base),
        paragraphs=paragraphs,
        published=published,
        modified=_modified(page),
        author=author,
        category=_category(page, parts, body.document),
        tags=_tags(page, parts),
        images=images,
        generation=(markup.generation if markup else None)
        or generation(canonical_url)
        or generation(url),
        is_video=is_video,
        method=body.method,
        unread_related=parts.related.unread_heading,
        warnings=page.warnings,
        site=profile.name,
        language=profile.language,
    )
    if profile.documents:
        lines = [lead, *paragraphs] if lead else list(paragraphs)
        article.document = document_fields(page.tree, title, lines)
        article.attachments = _links(_files(page, parts), base)
        article.category = article.category or _url_category(canonical_url)
    elif profile is not MAIN:
        article.original = _original(page, parts)
        if article.original is None:
            page.warn("no link to a Vietnamese original")
    return article


def _files(page: _Page, parts: _Parts) -> list:
    """The page's links to attached files (PDFs...), wherever they stand on the page: a
    download button sits apart from the text."""
    return [a for a in page.tree.iter("a") if page.kind(a.get("href") or "") is Kind.FILE]


def _url_category(canonical_url: str) -> str | None:
    """The list a document sits in, by its URL: the path's step before the document's own."""
    steps = [s for s in urlsplit(canonical_url).path.split("/") if s][:-1]
    steps = [s for s in steps if s != "book"]
    return unquote(steps[-1]) if steps else None


# The newspaper's URL written out, not that of another site under its name (en., …).
_NEWSPAPER_URL = re.compile(r"(?<![\w.-])(?:https?://)?(?:www\.)?dangcongsan\.vn/[^\s<>\"'()]+")


def _original(page: _Page, parts: _Parts) -> dict | None:
    """The newspaper's article an edition's article names as its original: the first link
    of the article (else of the page) to an article of the Vietnamese site, else the first
    such URL its text writes out."""
    newspaper = Site()
    links = [
        urljoin(page.base, (a.get("href") or "").strip())
        for scope in (parts.region, page.tree)
        for a in scope.iter("a")
    ]
    written = _NEWSPAPER_URL.findall(parts.region.text_content())
    links += [url if "://" in url else f"https://{url}" for url in written]
    for link in links:
        if newspaper.classify(link.rstrip(".,;:")) is Kind.ARTICLE:
            canonical = newspaper.canonical(link.rstrip(".,;:"))
            return {"url": canonical, "id": stable_id(canonical, canonical)}
    return None

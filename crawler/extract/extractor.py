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
from trafilatura.settings import Document

from crawler.extract.article import GENERIC, SITE_RULES, Article, ExtractionError
from crawler.extract.body import (
    body_paragraphs,
    clean_container,
    document_lines,
    generic_bylines,
    generic_extraction,
)
from crawler.extract.dates import parse_date, parse_iso
from crawler.extract.html import (
    attr_or_text,
    decode,
    inline_text,
    parse,
    select,
    select_first,
    select_in,
)
from crawler.extract.text import fold
from crawler.site import (
    MARKUPS,
    PAGE_META,
    PLACEHOLDER_AUTHORS,
    SITE_HOSTS,
    TITLE_SUFFIXES,
    VIDEO_PATH_PREFIXES,
    Kind,
    Markup,
    Site,
    article_id,
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

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # -- identity ---------------------------------------------------------------------
    def canonical_url(self) -> str:
        fallback = self.site.canonical(self.url)
        for value in _meta(self.tree, PAGE_META.canonical):
            link = urljoin(self.url, value)
            host = (urlsplit(link).hostname or "").lower()
            if host not in SITE_HOSTS and host != self.site.base_host:
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


@dataclass
class _Body:
    """The body as read, by the site rules or by trafilatura on the whole page."""

    method: str
    paragraphs: list[str]
    related: list[tuple[str, str]]
    bylines: list[str]  # the author lines cut from its end
    # trafilatura's reading of the whole page (generic only): the last resort for metadata
    document: Document | None = None


def _body_by_rules(page: _Page, markup: Markup, scopes: list, container, base: str) -> _Body:
    related = _links(select_in(scopes, markup.related), base)
    cleaned, bylines = clean_container(container, markup.strip + markup.related_box)
    paragraphs, warnings = body_paragraphs(cleaned, base)
    for warning in warnings:
        page.warn(warning)
    return _Body(SITE_RULES, paragraphs, related, bylines)


def _body_generic(page: _Page, base: str) -> _Body:
    page.warn("no site rule matches this markup: generic extraction")
    # What any generation marks as a related box or as not text still is, in unknown markup.
    related = _links(select(page.tree, [css for m in MARKUPS for css in m.related]), base)
    known = tuple(css for m in MARKUPS for css in (*m.strip, *m.related_box))
    document = generic_extraction(page.tree, base, known)
    paragraphs = document_lines(document)
    bylines = generic_bylines(page.tree, paragraphs)
    return _Body(GENERIC, paragraphs, related, bylines, document)


def _lead(page: _Page, element: lxml.html.HtmlElement | None) -> str:
    lead = inline_text(element) if element is not None else ""
    if lead:
        return lead
    lead = fold(next(iter(_meta(page.tree, PAGE_META.description)), ""))
    page.warn("lead taken from the meta description" if lead else "no lead")
    return lead


def _title(page: _Page, scopes: list, markup: Markup | None, document: Document | None) -> str:
    """The heading; else og:title, unless the site cut it short; else <title>."""
    element = select_first(scopes, markup.title) if markup else None
    if element is not None and inline_text(element):
        return inline_text(element)
    if markup is None:  # unknown markup: a lone <h1> is the title
        h1s = [text for text in (inline_text(e) for e in page.tree.iter("h1")) if text]
        if len(h1s) == 1:
            return h1s[0]
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


def _author(page: _Page, scopes: list, markup: Markup | None, body: _Body) -> str | None:
    """The first real name among: the markup's author, the body's closing byline, JSON-LD,
    meta, trafilatura's guess."""
    candidates: list[str] = []
    element = select_first(scopes, markup.author) if markup else None
    if element is not None:
        candidates.append(inline_text(element))
    candidates += reversed(body.bylines)  # cut last first: the byline read top to bottom
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


def _last_resort_dates(page: _Page) -> list[tuple[str, datetime]]:
    """A date where no rule looks: any <time datetime>, then a date-like element's text."""
    for element in select(page.tree, PAGE_META.any_time):
        value = parse_date(element.get("datetime"))
        if value is not None:
            return [("time", value)]
    for css in PAGE_META.visible_date:
        for element in select(page.tree, (css,))[:20]:
            value = parse_date(inline_text(element)[:120])
            if value is not None:
                return [("visible", value)]
    return []


def _published(
    page: _Page, scopes: list, markup: Markup | None, document: Document | None
) -> datetime | None:
    """The first date stated; the page is reported when its dates disagree."""
    found = _stated_dates(page, scopes, markup) or _last_resort_dates(page)
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


def _tags(page: _Page, scopes: list, markup: Markup | None) -> list[str]:
    elements = select_in(scopes, markup.tags) if markup else []
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


def _category(
    page: _Page, scopes: list, markup: Markup | None, document: Document | None
) -> str | None:
    """The breadcrumb's last step; else the section <head> or JSON-LD names."""
    if markup is not None:
        crumbs = [inline_text(e) for e in select_in(scopes, markup.category)]
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
    """The article number in the URL; else a hash of the canonical path (gen-3 URLs have none)."""
    numeric = article_id(canonical_url) or article_id(url)
    if numeric:
        return numeric
    path = unicodedata.normalize("NFC", unquote(urlsplit(canonical_url).path))
    return "p" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:12]


def _is_video(page: _Page, markup: Markup | None, scopes: list) -> bool:
    if urlsplit(page.url).path.startswith(VIDEO_PATH_PREFIXES):
        return True
    players = markup.video if markup else ("video",)
    return any(select(scope, players) for scope in scopes if scope is not None)


def extract(html: bytes | str, url: str) -> Article:
    """Read one article page. Raises ExtractionError when the page is not an article page."""
    text, decode_warnings = decode(html)
    page = _Page(parse(text), url)
    for warning in decode_warnings:
        page.warn(warning)
    canonical_url = page.canonical_url()
    base = canonical_url  # relative links resolve on the live site, not on a mirror

    # The site's rules when the page holds a generation's container, else trafilatura alone.
    markup, root = _find_markup(page.tree, url)
    scopes = [root, page.tree] if root is not None else [page.tree]
    container = select_first(scopes, markup.body) if markup else None
    if container is not None:
        body = _body_by_rules(page, markup, scopes, container, base)
    else:
        body = _body_generic(page, base)

    lead_element = select_first(scopes, markup.lead) if markup else None
    lead = _lead(page, lead_element)
    title = _title(page, scopes, markup, body.document)
    if not title:
        raise ExtractionError("no title: the page has no h1, og:title or <title>")
    paragraphs = body.paragraphs
    # Generic bodies often open with the title or the lead: they are lines 1 and 2 already.
    while paragraphs and paragraphs[0] in (title, lead):
        paragraphs.pop(0)

    published = _published(page, scopes, markup, body.document)
    author = _author(page, scopes, markup, body)
    image_scopes = [lead_element, container] if container is not None else [scopes[0]]
    boxes = select(page.tree, markup.related_box) if markup else []
    images = _images(image_scopes, base, boxes, _meta(page.tree, PAGE_META.image))
    video_scopes = [root, container] if root is not None else scopes
    is_video = not paragraphs and _is_video(page, markup, video_scopes)
    if not paragraphs and not is_video:
        page.warn("no body text")

    return Article(
        url=url,
        canonical_url=canonical_url,
        id=stable_id(canonical_url, url),
        title=title,
        lead=lead or None,
        related=body.related,
        paragraphs=paragraphs,
        published=published,
        modified=_modified(page),
        author=author,
        category=_category(page, scopes, markup, body.document),
        tags=_tags(page, scopes, markup),
        images=images,
        generation=(markup.generation if markup else None)
        or generation(canonical_url)
        or generation(url),
        is_video=is_video,
        method=body.method,
        warnings=page.warnings,
    )

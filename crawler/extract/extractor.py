"""extract(html, url) -> Article: one page in, one article out. Pure: no network, no files."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html

from crawler.extract.article import GENERIC, SITE_RULES, Article, ExtractionError
from crawler.extract.body import (
    body_paragraphs,
    clean_container,
    document_lines,
    generic_bylines,
    generic_extraction,
)
from crawler.extract.dates import parse_any, parse_iso, parse_visible
from crawler.extract.html import attr_or_text, decode, inline_text, parse, select, select_first
from crawler.extract.text import fold
from crawler.site import (
    CDN_HOSTS,
    MARKUPS,
    PAGE_META,
    PLACEHOLDER_AUTHORS,
    SISTER_HOSTS,
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


def _known_host(host: str) -> bool:
    return (
        host in SITE_HOSTS
        or host in CDN_HOSTS
        or host in SISTER_HOSTS
        or host.endswith(".dangcongsan.vn")
    )


def site_for(url: str) -> Site:
    """The URL rules for a page URL: live names as they are, any other host a mirror of it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and host and not _known_host(host):
        return Site(f"{parts.scheme}://{parts.netloc}")
    return Site()


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
        self.site = site_for(url)
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
            site = site_for(link)
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


def _title(page: _Page, scopes: list, markup: Markup | None) -> str:
    element = select_first(scopes, markup.title) if markup else None
    h1 = inline_text(element) if element is not None else ""
    if not h1 and markup is None:
        h1s = [inline_text(e) for e in page.tree.iter("h1")]
        h1s = [t for t in h1s if t]
        h1 = h1s[0] if len(h1s) == 1 else ""
    og = fold(next(iter(_meta(page.tree, PAGE_META.title)), ""))
    titles = page.tree.findall(".//title")
    html_title = fold(titles[0].text_content()) if titles else ""
    for suffix in TITLE_SUFFIXES:
        if html_title.endswith(suffix):
            html_title = html_title[: -len(suffix)].strip()
    if h1:
        return h1
    if og and not og.endswith(_TRUNCATED):
        return og
    if og:
        page.warn("title taken from a truncated og:title")
        stem = og.rstrip(".… ")
        return html_title if html_title.startswith(stem) and len(html_title) > len(stem) else og
    return html_title


def _clean_author(text: str) -> str | None:
    text = _AUTHOR_LABELS.sub("", fold(text)).strip(" -–,.")
    if not text:
        return None
    parts = [p.strip(" ()[]-–.") for p in re.split(r"[,;/&]|\s+-\s+|\s+và\s+", text)]
    if all(p.casefold() in PLACEHOLDER_AUTHORS for p in parts if p):
        return None
    bare = text.strip("()[] ").casefold()
    return None if bare in PLACEHOLDER_AUTHORS else text


def _author(page: _Page, scopes: list, markup: Markup | None, bylines: list[str]) -> str | None:
    candidates: list[str] = []
    if markup is not None:
        element = select_first(scopes, markup.author)
        if element is not None:
            candidates.append(inline_text(element))
    candidates += reversed(bylines)  # the body's closing byline, read top to bottom
    candidates += _jsonld_names(page.jsonld.get("author"))
    candidates += _meta(page.tree, PAGE_META.author)
    for candidate in candidates:
        author = _clean_author(candidate)
        if author:
            return author
    return None


def _last_resort_dates(page: _Page) -> list[tuple[str, datetime]]:
    """A date where no rule looks: any <time datetime>, then a date-like element's text."""
    for element in select(page.tree, PAGE_META.any_time):
        value = parse_any(element.get("datetime"))
        if value is not None:
            return [("time", value)]
    for css in PAGE_META.visible_date:
        for element in select(page.tree, (css,))[:20]:
            value = parse_visible(inline_text(element)[:120])
            if value is not None:
                return [("visible", value)]
    return []


def _dates(page: _Page, scopes: list, markup: Markup | None, generic_date: str | None) -> tuple:
    """(published, modified). Machine-readable sources (a `datetime` attribute, meta, JSON-LD)
    carry seconds and a zone and come first; the date the page shows comes next."""
    machine: list[tuple[str, datetime | None]] = []
    visible: list[tuple[str, datetime | None]] = []
    if markup is not None:
        element = select_first(scopes, markup.published)
        if element is not None:
            value = element.get("datetime") or element.get("content")
            if value:
                machine.append((markup.name, parse_any(value)))
            visible.append((markup.name + " text", parse_visible(inline_text(element))))
    machine += [("meta", parse_any(value)) for value in _meta(page.tree, PAGE_META.published)]
    if page.jsonld.get("datePublished"):
        machine.append(("json-ld", parse_any(str(page.jsonld["datePublished"]))))
    found = [(name, value) for name, value in machine + visible if value is not None]
    if not found:
        found = _last_resort_dates(page)
    if not found and generic_date:  # htmldate's guess: a day, no time
        found = [("trafilatura", parse_iso(generic_date))]
    found = [(name, value) for name, value in found if value is not None]
    published = found[0][1] if found else None
    if published is not None and any(abs(v - published) > DATE_TOLERANCE for _n, v in found):
        stated = ", ".join(f"{name}={value.isoformat()}" for name, value in found)
        page.warn(f"the page states different publication dates: {stated}")

    modified_sources = [parse_any(v) for v in _meta(page.tree, PAGE_META.modified)]
    if page.jsonld.get("dateModified"):
        modified_sources.append(parse_any(str(page.jsonld["dateModified"])))
    if markup is not None and markup.modified:
        element = select_first(scopes, markup.modified)
        if element is not None:
            modified_sources.append(parse_any(element.get("datetime") or inline_text(element)))
    modified = next((v for v in modified_sources if v is not None), None)
    return published, modified


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
    """Real image URLs: the featured image (og:image), then the body's in page order,
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
    tags: list[str] = []
    elements = []
    if markup is not None:
        elements = select(scopes[0], markup.tags) or select(page.tree, markup.tags)
    values = [inline_text(e) for e in elements] or _meta(page.tree, PAGE_META.tags)
    keywords = page.jsonld.get("keywords")
    if not values and keywords:
        values = keywords.split(",") if isinstance(keywords, str) else [str(k) for k in keywords]
    for value in values:
        tag = fold(value).lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _category(page: _Page, scopes: list, markup: Markup | None, generic: list | None) -> str | None:
    if markup is not None:
        crumbs = [
            inline_text(e)
            for e in select(scopes[0], markup.category) or select(page.tree, markup.category)
        ]
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
    return fold(generic[0]) if generic else None


def _stable_id(canonical_url: str, url: str) -> str:
    numeric = article_id(canonical_url) or article_id(url)
    if numeric:
        return numeric
    path = unicodedata.normalize("NFC", unquote(urlsplit(canonical_url).path))
    return "p" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:12]


def _is_video(page: _Page, markup: Markup | None, scopes: list) -> bool:
    path = urlsplit(page.url).path
    if path.startswith(VIDEO_PATH_PREFIXES):
        return True
    players = markup.video if markup else ("video",)
    return any(select(scope, players) for scope in scopes if scope is not None)


def extract(html: bytes | str, url: str) -> Article:
    """Read one article page. Raises ExtractionError when the page is not an article page."""
    text, decode_warnings = decode(html)
    tree = parse(text)
    page = _Page(tree, url)
    for warning in decode_warnings:
        page.warn(warning)
    canonical_url = page.canonical_url()
    base = canonical_url  # relative links resolve on the live site, not on a mirror

    markup, root = _find_markup(tree, url)
    body = select_first([root, tree], markup.body) if markup else None
    method = SITE_RULES if markup is not None and body is not None else GENERIC
    scopes = [root, tree] if root is not None else [tree]

    lead_element = select_first(scopes, markup.lead) if markup else None
    lead = inline_text(lead_element) if lead_element is not None else ""
    related: list[tuple[str, str]] = []
    paragraphs: list[str] = []
    bylines: list[str] = []
    generic = None
    if method == SITE_RULES:
        related = _links(select(scopes[0], markup.related) or select(tree, markup.related), base)
        cleaned, bylines = clean_container(body, markup.strip + markup.related_box)
        paragraphs, body_warnings = body_paragraphs(cleaned, canonical_url)
        for warning in body_warnings:
            page.warn(warning)
    else:
        page.warn("no site rule matches this markup: generic extraction")
        # A related box any generation uses is still a related box.
        related = _links(select(tree, [css for m in MARKUPS for css in m.related]), base)
        known = tuple(css for m in MARKUPS for css in (*m.strip, *m.related_box))
        generic = generic_extraction(tree, canonical_url, known)
        paragraphs = document_lines(generic)
        bylines = generic_bylines(tree, paragraphs)
    if not lead:
        lead = fold(next(iter(_meta(tree, PAGE_META.description)), ""))
        if lead:
            page.warn("lead taken from the meta description")
        else:
            page.warn("no lead")

    title = _title(page, scopes, markup)
    if not title and generic is not None and generic.title:
        title = fold(generic.title)
    if not title:
        raise ExtractionError("no title: the page has no h1, og:title or <title>")
    # Generic bodies often open with the title or the lead: they are lines 1 and 2 already.
    while paragraphs and paragraphs[0] in (title, lead):
        paragraphs.pop(0)

    published, modified = _dates(page, scopes, markup, generic.date if generic else None)
    if published is None:
        page.warn("no publication date")
    author = _author(page, scopes, markup, bylines)
    if author is None and generic is not None and generic.author:
        author = _clean_author(generic.author)
    image_scopes = (
        [lead_element, body] if body is not None else [root if root is not None else tree]
    )
    boxes = select(tree, markup.related_box) if markup is not None else []
    images = _images(image_scopes, base, boxes, _meta(tree, PAGE_META.image))
    is_video = not paragraphs and _is_video(
        page, markup, [root, body] if root is not None else [tree]
    )
    if not paragraphs and not is_video:
        page.warn("no body text")

    return Article(
        url=url,
        canonical_url=canonical_url,
        id=_stable_id(canonical_url, url),
        title=title,
        lead=lead or None,
        related=related,
        paragraphs=paragraphs,
        published=published,
        modified=modified,
        author=author,
        category=_category(page, scopes, markup, generic.categories if generic else None),
        tags=_tags(page, scopes, markup),
        images=images,
        generation=(markup.generation if markup else None)
        or generation(canonical_url)
        or generation(url),
        is_video=is_video,
        method=method,
        warnings=page.warnings,
    )

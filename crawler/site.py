"""What we know of dangcongsan.vn: its hosts, URL forms and markup (see README, "The site").

Every rule about the site's URLs lives here, so that the spider, the pipelines, the
extractor and the replay tools agree on what an article is and what identifies it.
Nothing here knows about the local replica: a mirror is just another base URL.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

LIVE_BASE_URL = "https://dangcongsan.vn"
CANONICAL_HOST = "dangcongsan.vn"
# Hosts that serve the site itself; all of them are mapped onto the base URL.
SITE_HOSTS = frozenset({"dangcongsan.vn", "www.dangcongsan.vn"})
# Image and media CDNs: fetched as page requisites, never crawled for links.
CDN_HOSTS = frozenset({"file1.dangcongsan.vn", "media.dangcongsan.vn"})
# Other sites under the same domain (languages, documents, city edition): out of scope.
SISTER_HOSTS = frozenset(
    {
        "en.dangcongsan.vn",
        "fr.dangcongsan.vn",
        "cn.dangcongsan.vn",
        "tulieuvankien.dangcongsan.vn",
        "tphcm.dangcongsan.vn",
    }
)

# Query parameters that only track where a click came from.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "zarsrc", "zacc", "gidzl", "_gl", "mc_cid", "mc_eid", "ref", "amp"}
)
TRACKING_PREFIXES = ("utm_",)
# Query parameters that select a list page; everything else is dropped from list URLs.
LIST_PARAMS = frozenset({"page"})

ASSET_EXTENSIONS = frozenset(
    {
        ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".bmp", ".avif",
        ".css", ".js", ".woff", ".woff2", ".ttf", ".eot",
        ".mp4", ".mp3", ".webm", ".pdf",
    }
)  # fmt: skip

# Generation 1 (2015-2024 CMS): /<category>[/<sub>...]/<slug>-<id>.html
GEN1_ARTICLE = re.compile(r"^/[^/]+(?:/[^/]+)*/[^/]*?-(\d{5,})\.html$")
# Generation 2 (beta CMS shared with nhandan.vn): /<slug>-post<id>.html
GEN2_ARTICLE = re.compile(r"^/[^/]*-post(\d+)\.html$")
# Generation 3 (2025- portal): /<section>/<slug>.html?categoryId=..., no numeric id.
GEN3_ARTICLE = re.compile(r"^/[^/]+/([^/]+)\.html$")
# A gen-3 slug is a headline (many words); a section or category name is a few words.
MIN_HEADLINE_WORDS = 4

SEARCH_PATHS = ("/tim-kiem", "/page/search")
TAG_PREFIXES = ("/tag/", "/tags/", "/chu-de/")
FEED_PATTERN = re.compile(r"^/(?:rss(?:/.*)?|so-do-website/rss(?:/.*)?|.*\.rss)$")
SITEMAP_PATTERN = re.compile(r"^/(?:.*sitemap[^/]*\.xml(?:\.gz)?|sitemaps?/.*\.xml(?:\.gz)?)$")
LIST_PATTERN = re.compile(r"^/[a-z0-9-]+(?:/[a-z0-9-]+){0,2}(?:\.html?)?$")


class Kind(StrEnum):
    """What a URL is to the crawler."""

    HOME = "home"
    ARTICLE = "article"
    LIST = "list"  # a category list, paginated with ?page=N
    TAG = "tag"  # a tag page: paginates without end, never walked deep
    FEED = "feed"
    SITEMAP = "sitemap"
    ASSET = "asset"  # image, style sheet, script: a page requisite
    SEARCH = "search"  # disallowed by robots.txt; never fetched
    OTHER = "other"  # on the site but none of the above (about pages, ...)
    OFFSITE = "offsite"


def _host(netloc: str) -> str:
    return netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def generation(url: str) -> int | None:
    """The generation of the site (1, 2 or 3) an article URL belongs to, or None."""
    path = urlsplit(url).path
    if GEN2_ARTICLE.match(path):
        return 2
    if GEN1_ARTICLE.match(path):
        return 1
    match = GEN3_ARTICLE.match(path)
    if match and len(match.group(1).strip("-").split("-")) >= MIN_HEADLINE_WORDS:
        return 3
    return None


def article_id(url: str) -> str | None:
    """The site's numeric article ID, when the URL carries one (generations 1 and 2)."""
    path = urlsplit(url).path
    match = GEN2_ARTICLE.match(path) or GEN1_ARTICLE.match(path)
    return match.group(1) if match else None


class Site:
    """The URL rules of dangcongsan.vn, bound to the base URL the crawl runs against.

    With the default base URL the live hosts are fetched as they are. With another base
    (a mirror, the local replica) every link to the site's own hosts and CDNs is fetched
    from the base instead, path and query kept.
    """

    def __init__(self, base_url: str = LIVE_BASE_URL) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be an http(s) URL, got {base_url!r}")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.base_host = _host(parts.netloc)
        self.is_live = self.base_host in SITE_HOSTS

    @classmethod
    def of(cls, url: str) -> Site:
        """The URL rules for a URL met alone (in a WARC, a sidecar): the live site for the
        site's own names, a mirror of it for any other host."""
        parts = urlsplit(url)
        host = _host(parts.netloc)
        known = host == CANONICAL_HOST or host.endswith("." + CANONICAL_HOST)
        if parts.scheme in ("http", "https") and host and not known:
            return cls(f"{parts.scheme}://{parts.netloc}")
        return cls()

    # -- which host serves what -------------------------------------------------------
    def owns(self, url: str) -> bool:
        """Whether the URL is on the site or its CDNs (under any of its names)."""
        host = _host(urlsplit(url).netloc)
        return (
            host in SITE_HOSTS or host in CDN_HOSTS or (not self.is_live and host == self.base_host)
        )

    def fetch_url(self, url: str) -> str | None:
        """The URL to request for a link, mapped onto the base URL; None if out of scope."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        if not self.owns(url):
            return None
        path = parts.path or "/"
        query = "&".join(
            pair
            for pair in parts.query.split("&")
            if pair and not is_tracking_param(pair.split("=")[0])
        )
        if self.is_live and _host(parts.netloc) in CDN_HOSTS:
            return urlunsplit((parts.scheme, parts.netloc, path, query, ""))
        return self.base_url + urlunsplit(("", "", path, query, ""))

    def archive_url(self, fetch_url: str, linked: str | None = None) -> str:
        """The URL an exchange is archived under (WARC-Target-URI).

        On the live site, the URL fetched. From a mirror, the live URL it stands for, so that
        the archive replays as the site: pages link to https://dangcongsan.vn/… and to the
        image CDNs, and a replay engine looks captures up by those links. `linked` is the
        link as found, which tells a CDN image from a page of the site itself.
        """
        parts = urlsplit(fetch_url)
        if self.is_live or _host(parts.netloc) != self.base_host:
            return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
        linked_host = _host(urlsplit(linked).netloc) if linked else ""
        host = linked_host if linked_host in CDN_HOSTS else CANONICAL_HOST
        return urlunsplit(("https", host, parts.path or "/", parts.query, ""))

    def fetch_hosts(self) -> list[str]:
        """The hosts requests go to: the base URL's, and on the live site its CDNs too."""
        if self.is_live:
            return sorted(SITE_HOSTS | CDN_HOSTS)
        return [self.base_host]

    # -- identity -------------------------------------------------------------------
    def canonical(self, url: str) -> str:
        """The identity of a URL: one article is one canonical URL however it was linked.

        Scheme and host are folded onto https://dangcongsan.vn (CDN hosts keep their
        name), fragments and tracking parameters are dropped, and an article's query is
        dropped entirely (``categoryId`` only says where it was listed).
        """
        parts = urlsplit(url)
        host = _host(parts.netloc)
        if host in SITE_HOSTS or (not self.is_live and host == self.base_host):
            host = CANONICAL_HOST
        path = parts.path or "/"
        kind = self.classify(url)
        if kind is Kind.ARTICLE:
            query = ""
        else:
            pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            pairs = [(k, v) for k, v in pairs if not is_tracking_param(k)]
            if kind in (Kind.LIST, Kind.TAG, Kind.HOME):
                pairs = [(k, v) for k, v in pairs if k in LIST_PARAMS]
            query = urlencode(sorted(pairs))
        return urlunsplit(("https", host, path, query, ""))

    def classify(self, url: str) -> Kind:
        parts = urlsplit(url)
        host = _host(parts.netloc)
        path = parts.path or "/"
        suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if host in CDN_HOSTS:
            return Kind.ASSET
        if not self.owns(url):
            return Kind.OFFSITE
        if suffix in ASSET_EXTENSIONS:
            return Kind.ASSET
        if path == "/":
            return Kind.HOME
        if path.startswith(SEARCH_PATHS):
            return Kind.SEARCH
        if path.startswith(TAG_PREFIXES):
            return Kind.TAG
        if FEED_PATTERN.match(path):
            return Kind.FEED
        if SITEMAP_PATTERN.match(path):
            return Kind.SITEMAP
        if generation(url) is not None or (
            "categoryId" in parts.query and GEN3_ARTICLE.match(path)
        ):
            return Kind.ARTICLE
        if LIST_PATTERN.match(path):
            return Kind.LIST
        return Kind.OTHER


# =====================================================================================
# Markup: where each generation keeps its parts
# =====================================================================================
# Owned by the extractor (crawler/extract). Selectors are CSS (lxml.cssselect), listed
# most specific first; the first one that matches wins. A page is read with the rules
# of the first markup whose `root` it contains (the URL's generation is tried first),
# so a page served under another generation's URL is still read right.

from dataclasses import dataclass, field  # noqa: E402


@dataclass(frozen=True)
class Markup:
    """Where one generation of the site keeps the parts of an article page."""

    name: str
    generation: int
    root: tuple[str, ...]  # the article container; its presence selects these rules
    title: tuple[str, ...]
    lead: tuple[str, ...]
    body: tuple[str, ...]
    related: tuple[str, ...]  # the links (<a>) of the related-articles box, in page order
    related_box: tuple[str, ...]  # the box itself, cut out of the body
    published: tuple[str, ...]  # elements with a `datetime`/`content` attribute or a visible date
    author: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    # Inside the body, besides the related box: never article text (bylines, story cards).
    strip: tuple[str, ...] = ()
    video: tuple[str, ...] = ("video", "iframe[src*='youtube']", "div.video", ".player")


# Cut from every body whatever the generation: boilerplate that CMSs put between paragraphs.
COMMON_STRIP = (
    "script", "style", "noscript", "template", "form", "button", "iframe", "object", "embed",
    "video", "audio", "figcaption", "figure", "table.image", "table.picture",
    ".image-caption", ".PhotoCMS_Caption", ".caption", ".fig-caption", "td.caption",
    ".author", "p.author", ".byline", ".source",
    ".ads", ".ad", ".advertisement", ".banner", "[class*='adsbygoogle']", "[id^='ads']",
    ".box-readmore", ".read-more", ".readmore", ".xem-them", ".xemthem",
    ".box-related", ".related-news",
    ".social", ".share", ".tool-share",
)  # fmt: skip

# A paragraph that opens with one of these words is a "see also" pointer, not text.
READ_MORE_PREFIXES = ("Xem thêm", "Đọc thêm", "Tin liên quan", "Bài liên quan", "Tin bài liên quan")

# Bylines that only name the newsroom or a desk: not an author.
PLACEHOLDER_AUTHORS = frozenset(
    {
        "pv", "btv", "ctv", "nv", "tv", "pv-btv", "nhóm pv", "nhóm phóng viên", "phóng viên",
        "biên tập viên", "ban biên tập", "tòa soạn", "toà soạn", "admin", "administrator",
        "đcsvn", "dcsvn", "báo điện tử đảng cộng sản việt nam", "báo đảng cộng sản việt nam",
        "đảng cộng sản việt nam", "dangcongsan.vn", "www.dangcongsan.vn", "dangcongsan",
        "tổng hợp", "theo tổng hợp", "nguồn tổng hợp", "st", "sưu tầm",
    }
)  # fmt: skip

GEN1_MARKUP = Markup(
    name="gen1",
    generation=1,
    root=("div.detail-post",),
    title=("h1.post-title", "h1"),
    lead=("div.post-summary", ".post-summary"),
    body=("div.post-content", ".post-content"),
    related=("div.related-news ul li a", "div.related-news a"),
    related_box=("div.related-news",),
    published=("span.lbPublishedDate", ".lbPublishedDate"),
    author=("p.author", ".post-author"),
    tags=("div.tags a",),
    category=(".breadcrumb a", ".breadcrumbs a", ".post-cate a"),
)

GEN2_MARKUP = Markup(
    name="gen2",
    generation=2,
    root=("div.article__body.cms-body", "h1.article__title"),
    title=("h1.article__title.cms-title", "h1.article__title"),
    lead=("div.article__sapo.cms-desc", "div.article__sapo"),
    body=("div.article__body.cms-body", "div.article__body"),
    related=("div.box-related article.story h3.story__heading a", "div.box-related a.cms-link"),
    related_box=("div.box-related",),
    published=(".article__meta time.time[datetime]", ".article__meta time[datetime]"),
    author=(".article__author .name",),
    tags=("div.article__tag a",),
    category=(".breadcrumb a", ".breadcrumbs a", ".article__cate a"),
    strip=("article.story", ".article__author"),
)

GEN3_MARKUP = Markup(
    name="gen3",
    generation=3,
    root=("article.detail", "h1.detail__title"),
    title=("h1.detail__title", "article.detail h1"),
    lead=("div.detail__sapo",),
    body=("div.detail__content",),
    related=("div.detail__related a",),
    related_box=("div.detail__related",),
    published=("span.detail__time",),
    author=("div.detail__author",),
    tags=("div.detail__tags a",),
    category=(".detail__cate a", ".breadcrumb a", ".breadcrumbs a"),
    strip=("div.detail__author",),
)

MARKUPS: tuple[Markup, ...] = (GEN1_MARKUP, GEN2_MARKUP, GEN3_MARKUP)


@dataclass(frozen=True)
class PageMeta:
    """Where any page (whatever its generation) states its metadata in <head>."""

    canonical: tuple[str, ...] = ("link[rel=canonical]", "meta[property='og:url']")
    title: tuple[str, ...] = ("meta[property='og:title']", "meta[name='twitter:title']")
    description: tuple[str, ...] = ("meta[property='og:description']", "meta[name=description]")
    published: tuple[str, ...] = (
        "meta[property='article:published_time']",
        "meta[itemprop=datePublished]",
        "meta[name=pubdate]",
        "meta[name='publishdate']",
        "time[itemprop=datePublished]",
    )
    # Last resorts, for markup no rule knows: any machine-readable time, then a visible one.
    any_time: tuple[str, ...] = ("article time[datetime]", "main time[datetime]", "time[datetime]")
    visible_date: tuple[str, ...] = (
        "[class*='publish']", "[class*='date']", "[class*='time']", "[class*='Date']",
    )  # fmt: skip
    modified: tuple[str, ...] = (
        "meta[property='article:modified_time']",
        "meta[itemprop=dateModified]",
        "meta[property='og:updated_time']",
    )
    author: tuple[str, ...] = ("meta[name=author]", "meta[property='article:author']")
    image: tuple[str, ...] = ("meta[property='og:image']", "meta[name='twitter:image']")
    section: tuple[str, ...] = ("meta[property='article:section']",)
    tags: tuple[str, ...] = ("meta[property='article:tag']",)
    # JSON-LD types that describe the article itself
    jsonld_types: frozenset[str] = field(
        default=frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting"})
    )


PAGE_META = PageMeta()
# What the site appends to <title>: cut it when <title> is all we have.
TITLE_SUFFIXES = (" - Báo điện tử Đảng Cộng sản Việt Nam", " | Báo điện tử Đảng Cộng sản Việt Nam")
# Where video pages live (gen 1): title, lead and a player, no body text.
VIDEO_PATH_PREFIXES = ("/multimedia/video/", "/video/")

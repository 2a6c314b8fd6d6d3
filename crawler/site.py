"""What we know of dangcongsan.vn: its hosts and URL forms (see README, "The site").

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


# Where video pages live (gen 1): title, lead and a player, no body text.
VIDEO_PATH_PREFIXES = ("/multimedia/video/", "/video/")

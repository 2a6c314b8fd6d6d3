"""What we know of dangcongsan.vn: its hosts and URL forms (see README, "The site").

Every rule about the site's URLs lives here, so that the spider, the pipelines, the
extractor and the replay tools agree on what an article is and what identifies it.
Nothing here knows about the local replica: a mirror is just another base URL.

dangcongsan.vn is several sites under one domain: the newspaper (``main``), the documents
portal (``documents``, tulieuvankien.) and the editions in other languages (``en``, ``fr``,
``cn``). Each is a ``Profile`` (host, language, start points, politeness, URL rules); ``Site``
applies one profile's rules, ``Sites`` the rules of the profiles a crawl covers, each URL by
its host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

LIVE_BASE_URL = "https://dangcongsan.vn"
CANONICAL_HOST = "dangcongsan.vn"
# Hosts that serve the newspaper; all of them are mapped onto the base URL.
SITE_HOSTS = frozenset({"dangcongsan.vn", "www.dangcongsan.vn"})
# Image and media CDNs: fetched as page requisites, never crawled for links.
CDN_HOSTS = frozenset({"file1.dangcongsan.vn", "media.dangcongsan.vn"})
# The other sites under the same domain are profiles (PROFILES, below); the city edition
# (tphcm.) has none and is out of scope.

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

# The documents portal: /<section>/<subsection>[/...]/<slug>-<numeric id>, no .html; a
# book page has a /book/ step. Lists are paths without an ID, their query naming the list.
DOCUMENT_PAGE = re.compile(r"^/[^/]+(?:/[^/]+)+/[^/]*?-(\d+)/?$")
BOOK_STEP = "/book/"
DOCUMENT_LIST = re.compile(r"^/[a-z0-9-]+(?:/[a-z0-9-]+)*/?$")
DOCUMENT_LIST_PARAMS = frozenset({"page", "categoryId"})
# Attachments: under the upload folders, or a document format by its extension.
FILE_PREFIXES = ("/upload/", "/uploads/")
FILE_EXTENSIONS = frozenset(
    {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".rtf", ".zip", ".rar"}
)
# URLs whose classify, canonical and fetch_url answers a Site keeps (see Site.__init__).
URLS_REMEMBERED = 4096


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
    FILE = "file"  # a document's attachment (PDF, Word, ...): archived, its text read


@dataclass(frozen=True)
class Profile:
    """One site of dangcongsan.vn: what a crawl of it starts from and how it treats it."""

    name: str  # as `dcs crawl --site` names it
    host: str  # its canonical host
    aliases: frozenset[str]  # other names of the same host (www.)
    language: str  # BCP 47 code of its text
    start_paths: tuple[str, ...]
    documents: bool = False  # the documents portal's URL rules, else the newspaper's
    first_page: int = 1  # the number of a list's first page (?page=N)
    # Politeness per host: at most this many requests at once (None: the crawl's
    # CONCURRENT_REQUESTS_PER_DOMAIN) and this delay between them (None: DOWNLOAD_DELAY).
    concurrency: int | None = None
    delay: float | None = None

    @property
    def hosts(self) -> frozenset[str]:
        return self.aliases | {self.host}


NEWS_START = ("/", "/sitemap.xml", "/rss")
PROFILES: dict[str, Profile] = {
    "main": Profile("main", CANONICAL_HOST, SITE_HOSTS - {CANONICAL_HOST}, "vi", NEWS_START),
    # A small government server holding large files: two downloads at a time.
    "documents": Profile(
        "documents", "tulieuvankien.dangcongsan.vn", frozenset(), "vi", ("/",),
        documents=True, first_page=0, concurrency=2,
    ),
    "en": Profile("en", "en.dangcongsan.vn", frozenset(), "en", NEWS_START),
    "fr": Profile("fr", "fr.dangcongsan.vn", frozenset(), "fr", NEWS_START),
    "cn": Profile("cn", "cn.dangcongsan.vn", frozenset(), "zh", NEWS_START),
}  # fmt: skip
MAIN = PROFILES["main"]
SITE_CHOICES = (*PROFILES, "all")


def profiles_named(name: str) -> tuple[Profile, ...]:
    """The profiles `--site NAME` covers; ValueError for a name no profile has."""
    if name == "all":
        return tuple(PROFILES.values())
    names = [part.strip() for part in name.split(",") if part.strip()]
    unknown = [part for part in names if part not in PROFILES]
    if unknown or not names:
        raise ValueError(
            f"unknown site {name!r}: choose from {', '.join(SITE_CHOICES)} (or several, a,b)"
        )
    return tuple(PROFILES[part] for part in dict.fromkeys(names))


def profile_of(url: str) -> Profile:
    """The profile whose host serves the URL; the newspaper for any other host (a mirror)."""
    return _profile_of_host(_host(urlsplit(url).netloc))


def _profile_of_host(host: str) -> Profile:
    for profile in PROFILES.values():
        if profile.name != "main" and host in profile.hosts:
            return profile
    return MAIN


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


def document_id(url: str) -> str | None:
    """The ID of a documents-portal page: its number, ``book-<number>`` for a book page."""
    path = urlsplit(url).path
    match = DOCUMENT_PAGE.match(path)
    if not match:
        return None
    return f"book-{match.group(1)}" if BOOK_STEP in path else match.group(1)


class Site:
    """The URL rules of one site of dangcongsan.vn (a Profile; the newspaper by default),
    bound to the base URL the crawl runs against.

    With the default base URL the live hosts are fetched as they are. With another base
    (a mirror, the local replica) every link to the newspaper's hosts and CDNs is fetched
    from the base instead, path and query kept; the other sites' hosts are asked of the
    mirror by name, as of an HTTP proxy (``proxy``), so that one mirror serves them all.
    """

    def __init__(self, base_url: str = LIVE_BASE_URL, profile: Profile = MAIN) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be an http(s) URL, got {base_url!r}")
        self.profile = profile
        self.mirror_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.base_host = _host(parts.netloc)
        self.is_live = self.base_host in SITE_HOSTS
        # The newspaper's mirror answers under its own name; another site's, by the site's.
        self.base_url = self.mirror_url
        self.proxy: str | None = None
        if profile is not MAIN:
            self.base_url = f"{'https' if self.is_live else 'http'}://{profile.host}"
            self.proxy = None if self.is_live else self.mirror_url
        # Pure functions of the URL, asked several times of each one (canonical asks classify;
        # the spider, the middlewares and the state store ask again): the answers for the
        # most recent URLs are kept.
        self.classify = lru_cache(URLS_REMEMBERED)(self.classify)
        self.canonical = lru_cache(URLS_REMEMBERED)(self.canonical)
        self.fetch_url = lru_cache(URLS_REMEMBERED)(self.fetch_url)

    @classmethod
    def of(cls, url: str) -> Site:
        """The URL rules for a URL met alone (in a WARC, a sidecar): the live site for the
        site's own names, a mirror of it for any other host."""
        parts = urlsplit(url)
        return cls._of(parts.scheme, parts.netloc)

    @classmethod
    @lru_cache(maxsize=16)  # one Site per host met (the site's own few), with what it remembers
    def _of(cls, scheme: str, netloc: str) -> Site:
        host = _host(netloc)
        known = host == CANONICAL_HOST or host.endswith("." + CANONICAL_HOST)
        if scheme in ("http", "https") and host and not known:
            return cls(f"{scheme}://{netloc}")
        return cls(profile=_profile_of_host(host))

    @property
    def first_page(self) -> int:
        return self.profile.first_page

    # -- which host serves what -------------------------------------------------------
    def owns(self, url: str) -> bool:
        """Whether the URL is on the site or its CDNs (under any of its names)."""
        host = _host(urlsplit(url).netloc)
        if self.profile is not MAIN:
            return host in self.profile.hosts
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
        if self.profile is not MAIN and self.is_live:
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
        if self.profile is not MAIN and not self.is_live and self.owns(fetch_url):
            return urlunsplit(("https", self.profile.host, parts.path or "/", parts.query, ""))
        if self.is_live or _host(parts.netloc) != self.base_host:
            return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
        linked_host = _host(urlsplit(linked).netloc) if linked else ""
        host = linked_host if linked_host in CDN_HOSTS else CANONICAL_HOST
        return urlunsplit(("https", host, parts.path or "/", parts.query, ""))

    def fetch_hosts(self) -> list[str]:
        """The hosts requests go to: the base URL's, and on the live site its CDNs too."""
        if self.profile is not MAIN:
            return sorted(self.profile.hosts)
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
        if self.profile is not MAIN:
            host = self.profile.host if host in self.profile.hosts else host
        elif host in SITE_HOSTS or (not self.is_live and host == self.base_host):
            host = CANONICAL_HOST
        path = parts.path or "/"
        kind = self.classify(url)
        list_params = DOCUMENT_LIST_PARAMS if self.profile.documents else LIST_PARAMS
        if kind is Kind.ARTICLE:
            query = ""
        else:
            pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            pairs = [(k, v) for k, v in pairs if not is_tracking_param(k)]
            if kind in (Kind.LIST, Kind.TAG, Kind.HOME):
                pairs = [(k, v) for k, v in pairs if k in list_params]
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
        if self.profile.documents and (
            suffix in FILE_EXTENSIONS or path.lower().startswith(FILE_PREFIXES)
        ):
            return Kind.FILE
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
        if self.profile.documents:
            return self._classify_document(path)
        if generation(url) is not None or (
            "categoryId" in parts.query and GEN3_ARTICLE.match(path)
        ):
            return Kind.ARTICLE
        if LIST_PATTERN.match(path):
            return Kind.LIST
        return Kind.OTHER

    @staticmethod
    def _classify_document(path: str) -> Kind:
        if DOCUMENT_PAGE.match(path):
            return Kind.ARTICLE
        if DOCUMENT_LIST.match(path):
            return Kind.LIST
        return Kind.OTHER


class Sites:
    """The sites a crawl covers, one Site each, and each URL handled by its host's site.

    It answers what a Site answers (fetch_url, archive_url, canonical, classify), so that
    the spider and the WARC middleware need not know how many sites they crawl. A URL of a
    site not covered is out of scope (fetch_url None); the image CDNs serve every site.
    """

    def __init__(self, base_url: str = LIVE_BASE_URL, profiles: tuple[Profile, ...] = (MAIN,)):
        self.profiles = profiles
        self.main = Site(base_url)  # the newspaper's rules: its hosts, the CDNs, the mirror
        self.sites = {p.name: Site(base_url, p) for p in profiles if p is not MAIN}
        self.covers_main = MAIN in profiles
        self.base_url = self.main.base_url if self.covers_main else self.first.base_url
        self.base_host = self.main.base_host
        self.is_live = self.main.is_live

    @classmethod
    def from_settings(cls, settings) -> Sites:
        """The sites of a crawl's settings: BASE_URL, SITES (``main``, ``all``, ``en,fr``...)."""
        base_url = settings.get("BASE_URL") or LIVE_BASE_URL
        return cls(base_url, profiles_named(settings.get("SITES") or "main"))

    @property
    def first(self) -> Site:
        return self.main if self.covers_main else next(iter(self.sites.values()))

    def covered(self) -> list[Site]:
        return ([self.main] if self.covers_main else []) + list(self.sites.values())

    def site_for(self, url: str) -> Site:
        if not self.sites:  # the newspaper alone: no host to tell apart (the spider's hot path)
            return self.main
        host = _host(urlsplit(url).netloc)
        for site in self.sites.values():
            if host in site.profile.hosts:
                return site
        return self.main

    def fetch_url(self, url: str) -> str | None:
        site = self.site_for(url)
        if site is self.main and not self.covers_main and self.main.classify(url) is not Kind.ASSET:
            return None
        return site.fetch_url(url)

    def archive_url(self, fetch_url: str, linked: str | None = None) -> str:
        return self.site_for(fetch_url).archive_url(fetch_url, linked)

    def canonical(self, url: str) -> str:
        return self.site_for(url).canonical(url)

    def classify(self, url: str) -> Kind:
        return self.site_for(url).classify(url)

    def first_page_of(self, url: str) -> int:
        return self.site_for(url).first_page

    def fetch_hosts(self) -> list[str]:
        hosts = set(self.main.fetch_hosts()) if self.covers_main else set(CDN_HOSTS)
        for site in self.sites.values():
            hosts.update(site.fetch_hosts())
        return sorted(hosts)

    def start_urls(self) -> list[str]:
        return [
            site.base_url + path for site in self.covered() for path in site.profile.start_paths
        ]

    def proxies(self) -> dict[str, str]:
        """Host -> the mirror to ask for it as a proxy (no entry: fetched directly)."""
        return {
            host: site.proxy
            for site in self.sites.values()
            if site.proxy
            for host in site.profile.hosts
        }


# Where video pages live (gen 1): title, lead and a player, no body text.
VIDEO_PATH_PREFIXES = ("/multimedia/video/", "/video/")

"""ReplicaSite: the whole site at the current clock, and which page answers which path.

Pure (no HTTP): `render(path)` gives status, headers and body; the server adds transport.
Thread-safe: one lock guards the clock and the page cache.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit

from . import articles, assets, feeds, listings, model, text, variants
from .chrome import DEAD_PATHS, SEARCH_KEYWORDS, SISTER_LINKS
from .documents import HOST as DOCUMENTS_HOST
from .documents import ReplicaDocuments
from .editions import EDITIONS, ReplicaEdition
from .model import CATEGORIES, CATEGORY_BY_SLUG, ReplicaArticle
from .page import HTML, Page

CACHE_LIMIT = 4000
MOVED = (
    b"<html><head><title>301 Moved Permanently</title></head><body>"
    b"<h1>301 Moved Permanently</h1><hr><center>nginx</center></body></html>\n"
)


def _page_number(query: str) -> int:
    try:
        return max(1, int(parse_qs(query).get("page", ["1"])[0]))
    except ValueError:
        return 1


class ReplicaSite:
    """A deterministic model of dangcongsan.vn: same seed, same site, byte for byte."""

    def __init__(
        self,
        seed: int = 1,
        per_generation: int = 60,
        now: datetime | None = None,
        clock_skew: timedelta = timedelta(0),
        markup_variant: int = 0,
    ) -> None:
        if per_generation < 3:
            raise ValueError("per_generation must be at least 3")
        self.seed = seed
        self.per_generation = per_generation
        self.markup_variant = markup_variant
        self.variant = variants.Variant.of(markup_variant)  # None: the replica's own markup
        self.now = now or model.START_NOW
        # How far the server's clock is off the stories' own time line: it dates edits and
        # takedowns (sitemap lastmod, Last-Modified) and the Date header. Years behind is a
        # mirror of an old snapshot or a CMS with a wrong clock. Settable at any time.
        self.clock_skew = clock_skew
        # When each month's sitemap was last written anew (an edit, a new story, a takedown),
        # by the server's clock: the lastmod the sitemap index gives it from then on.
        self._month_written: dict[str, datetime] = {}
        self.day = 0
        self._lock = threading.RLock()
        self._articles = model.build(seed, per_generation, self.now)
        variants.adjust(self._articles, self.variant, seed)
        self._reindex()
        # The other sites of dangcongsan.vn, each on its own host name (see page()).
        originals = [a for a in self._articles if a.generation == 1 and not a.is_video]
        self.sisters: dict[str, ReplicaDocuments | ReplicaEdition] = {
            DOCUMENTS_HOST: ReplicaDocuments(),
            **{e.host: ReplicaEdition(e, originals) for e in EDITIONS.values()},
        }

    # -- the content ---------------------------------------------------------------------
    @property
    def articles(self) -> list[ReplicaArticle]:
        with self._lock:
            return list(self._articles)

    @property
    def seed_article(self) -> ReplicaArticle:
        return self._by_key[model.SEED_ID]

    def article(self, key: str) -> ReplicaArticle:
        return self._by_key[key]

    def article_at(self, path_or_url: str) -> ReplicaArticle | None:
        """The article a path (current or old) or live URL leads to."""
        hit = self._routes.get(unquote(urlsplit(path_or_url).path))
        return hit[1] if hit else None

    @property
    def clock(self) -> datetime:
        """The server's clock: ``now`` off by ``clock_skew``."""
        return self.now + self.clock_skew

    def advance(self, days: int = 1) -> dict[str, list[ReplicaArticle]]:
        """Move the clock: new stories appear, some old ones are edited, now and then one is
        taken down. Returns them as "new", "edited" and "removed"."""
        changes: dict[str, list[ReplicaArticle]] = {"new": [], "edited": [], "removed": []}
        with self._lock:
            for _ in range(days):
                self.day += 1
                self.now += timedelta(days=1)
                new, edited, removed = model.grow(
                    self.seed, self.day, self._articles, self.now, self.clock
                )
                variants.adjust(new, self.variant, self.seed)
                self._articles.extend(new)
                self._rewrite_months(new + edited + removed)
                changes["new"] += new
                changes["edited"] += edited
                changes["removed"] += removed
            self._articles.sort(key=lambda a: (a.published, a.key))
            self._reindex()
        return changes

    def edit(self, *keys: str) -> list[ReplicaArticle]:
        """Edit these articles now (dated by the server's clock), as advance() edits some."""
        with self._lock:
            edited = [self._by_key[key] for key in keys]
            for a in edited:
                rng = random.Random(f"dcs-replica:{self.seed}:edit:{a.key}:{a.edits}")
                model.Generator(rng).edit(a, self.clock)
            self._rewrite_months(edited)
            self._reindex()
        return edited

    def take_down(self, key: str, how: str = "404") -> ReplicaArticle:
        """Take an article down: it leaves the lists, feeds and its sitemap month, and its URL
        answers `how` (404, 410, a redirect to "home" or to its category "list")."""
        with self._lock:
            a = self._by_key[key]
            model.take_down(a, how, self.clock)
            self._rewrite_months([a])
            self._reindex()
        return a

    def restore(self, key: str) -> ReplicaArticle:
        """Put a taken-down article back, as it was."""
        with self._lock:
            a = self._by_key[key]
            a.removed = a.removed_at = None
            self._rewrite_months([a])
            self._reindex()
        return a

    def _rewrite_months(self, changed: list[ReplicaArticle]) -> None:
        for a in changed:
            self._month_written[feeds.month_key(a)] = self.clock

    def _reindex(self) -> None:
        self._cache: dict[str, Page] = {}
        self._by_key = {a.key: a for a in self._articles}
        self._routes: dict[str, tuple[str, ReplicaArticle]] = {}
        self._images: dict[str, ReplicaArticle] = {}
        self._media: dict[str, ReplicaArticle] = {}
        for a in self._articles:
            self._routes[unquote(a.path.split("?", 1)[0])] = (
                "removed" if a.removed else "article",
                a,
            )
            for old in a.old_paths:
                self._routes[unquote(old)] = ("redirect", a)
            for f in a.figures:
                self._images[f.path.split("?", 1)[0]] = a
            if a.video_url:
                self._media[urlsplit(a.video_url).path] = a
        present = [a for a in self._articles if not a.removed]
        self._newest = sorted(present, key=lambda a: (a.published, a.key), reverse=True)
        self._months: dict[str, list[ReplicaArticle]] = {}
        for a in self._articles:
            self._months.setdefault(feeds.month_key(a), [])
            if not a.removed:
                self._months[feeds.month_key(a)].append(a)
        self._oldest_month = min(self._months)
        self._tags = {text.slugify(t): t for t in text.TAGS}

    def _in(self, c: model.Category) -> list[ReplicaArticle]:
        return [a for a in self._newest if a.section == c]

    def _tagged(self, tag: str) -> list[ReplicaArticle]:
        return [a for a in self._newest if tag in a.tags]

    def last_page(self, c: model.Category) -> int:
        return max(1, -(-len(self._in(c)) // listings.PAGE_SIZE))

    # -- rendering -----------------------------------------------------------------------
    def render(self, path: str) -> tuple[int, dict[str, str], bytes] | None:
        """(status, headers, body) of a path with its query; None if the site has no such page."""
        page = self.page(path)
        return None if page is None else (page.status, page.headers(), page.body)

    def page(self, path: str, host: str | None = None) -> Page | None:
        """The page a path (with its query) answers; on another site's host name (the
        documents portal, an edition) that site's page."""
        sister = self.sisters.get((host or "").lower())
        if sister is not None:
            return sister.page(path)
        with self._lock:
            page = self._cache.get(path)
            if page is None:
                page = self._route(path)
                if page is not None and page.kind != "tag":  # tag pages are endless
                    if len(self._cache) >= CACHE_LIMIT:
                        self._cache.clear()
                    self._cache[path] = page
            return page

    def not_found(self, path: str) -> Page:
        return listings.not_found(path)

    def _route(self, target: str) -> Page | None:
        parts = urlsplit(target)
        path, query = unquote(parts.path) or "/", parts.query
        hit = self._routes.get(path)
        if hit and hit[0] == "article":
            return self._article_page(hit[1])
        if hit and hit[0] == "removed":
            return self._removed_page(hit[1])
        if hit:
            return Page(301, HTML, MOVED, "redirect", location=hit[1].path, compressible=False)
        if path == "/":
            return listings.home(self._newest, self.seed, self.now)
        if path == "/robots.txt":
            return feeds.robots()
        if path == "/sitemap.xml":
            return feeds.sitemap_index(self._months, self._month_written)
        if path.startswith("/sitemaps/sitemap-"):
            return self._sitemap_child(path)
        if path == "/rss":
            return feeds.rss(self._newest[:30], None, self.now)
        if path.startswith("/so-do-website/rss/"):
            number = path.rsplit("/", 1)[-1]
            for c in CATEGORIES:
                if str(c.rss_id) == number:
                    return feeds.rss(self._in(c)[:20], c, self.now)
            return None
        if path in ("/tim-kiem", "/page/search"):
            q = parse_qs(query)
            return listings.search_page((q.get("q") or q.get("keyword") or [""])[0])
        if path.startswith("/tag/") and path.endswith(".html"):
            tag = self._tags.get(path[len("/tag/") : -len(".html")])
            if tag is None:
                return None
            return listings.tag_page(
                tag, self._tagged(tag), _page_number(query), self.seed, self.now
            )
        if path.startswith("/assets/"):
            return assets.asset(path)
        if path in self._images:
            return assets.image(path, self._images[path].published)
        if path in self._media:
            return assets.video(path, self._media[path].published)
        slug, form = (path[1:-5], ".html") if path.endswith(".html") else (path[1:], "")
        category = CATEGORY_BY_SLUG.get(slug)
        if category is not None:
            stories = self._in(category)
            return listings.category_page(
                category, stories, form, _page_number(query), self.seed, self.now
            )
        return None

    def _removed_page(self, a: ReplicaArticle) -> Page:
        if a.removed in ("404", "410"):
            page = listings.not_found(a.path)
            return Page(int(a.removed), page.content_type, page.body, "removed")
        target = "/" if a.removed == "home" else f"/{a.section.slug}"
        return Page(302, HTML, MOVED.replace(b"301 Moved Permanently", b"302 Found"), "removed",
                    location=target, compressible=False)  # fmt: skip

    def _article_page(self, a: ReplicaArticle) -> Page:
        earlier = [
            b
            for b in self._articles
            if b.published < a.published and not b.is_video and not b.removed
        ]
        dead = None
        if a.markup.dead_link:
            dead = DEAD_PATHS[int(a.key) % len(DEAD_PATHS)]
        page = articles.render_article(a, earlier, self._by_key, self.seed, dead)
        return variants.restyle(page, a, self.variant)

    def _sitemap_child(self, path: str) -> Page | None:
        name = path[len("/sitemaps/sitemap-") :]
        month = name.split(".", 1)[0]
        stories = self._months.get(month)
        if stories is None or path != feeds.child_path(month, self._oldest_month):
            return None
        return feeds.sitemap_child(stories, path.endswith(".gz"), self._month_written.get(month))

    # -- ground truth ----------------------------------------------------------------------
    def urls(self) -> dict[str, list[str]]:
        """Paths (with query) that exist, by kind; "dead" ones answer 404, "offsite" are URLs."""
        with self._lock:
            lists, past_end = [], []
            for c in CATEGORIES:
                last = self.last_page(c)
                for form in ("", ".html"):
                    base = f"/{c.slug}{form}"
                    lists += [base] + [f"{base}?page={n}" for n in range(2, last + 1)]
                    past_end.append(f"{base}?page={last + 1}")
            used_tags = sorted({text.slugify(t) for a in self._articles for t in a.tags})
            images = sorted(f.path for a in self._articles for f in a.figures)
            return {
                "home": ["/"],
                "article": [a.path for a in self._newest if not a.is_video],
                "video": [a.path for a in self._newest if a.is_video],
                "redirect": [old for a in self._newest for old in a.old_paths],
                "list": lists,
                "list_past_end": past_end,
                "tag": [f"/tag/{slug}.html" for slug in used_tags],
                "feed": ["/rss"] + [f"/so-do-website/rss/{c.rss_id}" for c in CATEGORIES],
                "sitemap": ["/sitemap.xml"]
                + [feeds.child_path(m, self._oldest_month) for m in sorted(self._months)],
                "image": images + list(assets.SITE_IMAGES),
                "media": sorted(self._media),
                "asset": assets.asset_paths(),
                "robots": ["/robots.txt"],
                "search": ["/tim-kiem?q=" + quote_plus("Hà Nội"), *SEARCH_PATHS_WITH_QUERY],
                "dead": list(DEAD_PATHS),
                "offsite": [url for url, _ in SISTER_LINKS],
            }


SEARCH_PATHS_WITH_QUERY = [f"/page/search?keyword={quote_plus(k)}" for k in SEARCH_KEYWORDS]

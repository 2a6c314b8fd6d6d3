"""Machine-readable entry points: robots.txt, the sitemap index and its monthly children, RSS."""

from __future__ import annotations

import gzip
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from . import text
from .model import LIVE, Category, ReplicaArticle
from .page import GZIP, RSS, TEXT, XML, Page

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ROBOTS_DATE = datetime(2024, 6, 1, 9, 0, tzinfo=text.VN_TZ)
ROBOTS = """User-agent: *
Disallow: /tim-kiem
Disallow: /page/search
Disallow: /admin/

Sitemap: https://dangcongsan.vn/sitemap.xml
"""


def robots() -> Page:
    return Page(200, TEXT, ROBOTS.encode(), "robots", ROBOTS_DATE, compressible=False)


def month_key(a: ReplicaArticle) -> str:
    return f"{text.vn(a.published):%Y-%m}"


def is_gzipped_month(month: str, oldest: str) -> bool:
    """Some children are served as .xml.gz (the oldest always, and every fourth month)."""
    year, mon = (int(x) for x in month.split("-"))
    return month == oldest or (year * 12 + mon) % 4 == 0


def child_path(month: str, oldest: str) -> str:
    suffix = ".xml.gz" if is_gzipped_month(month, oldest) else ".xml"
    return f"/sitemaps/sitemap-{month}{suffix}"


def _month_lastmod(stories: list[ReplicaArticle], written: datetime | None) -> datetime:
    """A month's lastmod: when its sitemap was last written anew by the server's clock (an
    edit, a story added, taken down or back), else its newest story's modified time. A
    server whose clock runs behind thus dates a change before what the month held."""
    return written or max(a.modified for a in stories)


def sitemap_index(
    months: dict[str, list[ReplicaArticle]], changed: dict[str, datetime] | None = None
) -> Page:
    changed = changed or {}
    oldest = min(months)
    rows = []
    for month in sorted(months, reverse=True):
        lastmod = _month_lastmod(months[month], changed.get(month))
        rows.append(
            f"<sitemap><loc>{LIVE}{child_path(month, oldest)}</loc>"
            f"<lastmod>{text.iso(lastmod)}</lastmod></sitemap>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="{SITEMAP_NS}">\n' + "\n".join(rows) + "\n</sitemapindex>\n"
    )
    newest = max(_month_lastmod(stories, changed.get(m)) for m, stories in months.items())
    return Page(200, XML, body.encode(), "sitemap", newest)


def sitemap_child(
    stories: list[ReplicaArticle], gzipped: bool, changed: datetime | None = None
) -> Page:
    rows = [
        f"<url><loc>{escape(a.url)}</loc><lastmod>{text.iso(a.modified)}</lastmod></url>"
        for a in sorted(stories, key=lambda a: (a.published, a.key), reverse=True)
    ]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="{SITEMAP_NS}">\n' + "\n".join(rows) + "\n</urlset>\n"
    ).encode()
    lastmod = _month_lastmod(stories, changed)
    if gzipped:
        # mtime=0: the same month gives the same bytes, whenever it is served
        return Page(200, GZIP, gzip.compress(body, mtime=0), "sitemap", lastmod, compressible=False)
    return Page(200, XML, body, "sitemap", lastmod)


def _rfc822(when: datetime) -> str:
    return format_datetime(text.vn(when))


def rss(stories: list[ReplicaArticle], category: Category | None, now: datetime) -> Page:
    title = "Báo điện tử Đảng Cộng sản Việt Nam" + (f" - {category.name}" if category else "")
    link = LIVE + (f"/{category.slug}" if category else "/")
    items = []
    for n, a in enumerate(stories):
        # feeds tag some links for their own statistics; the guid stays clean
        url = a.url + ("?utm_source=rss&utm_medium=feed" if n % 3 == 1 else "")
        image = f'<img src="{a.images[0]}" /> ' if a.images else ""
        items.append(
            "<item>"
            f"<title>{escape(a.title)}</title>"
            f"<link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(a.url)}</guid>'
            f"<description><![CDATA[{image}{a.lead}]]></description>"
            f"<category>{escape(a.section.name)}</category>"
            f"<pubDate>{_rfc822(a.published)}</pubDate>"
            "</item>"
        )
    last = max((a.modified for a in stories), default=now)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(title)}</title>\n<link>{link}</link>\n"
        f"<description>{escape(title)}</description>\n<language>vi</language>\n"
        f"<lastBuildDate>{_rfc822(last)}</lastBuildDate>\n"
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )
    return Page(200, RSS, body.encode(), "feed", last, chunked=True)

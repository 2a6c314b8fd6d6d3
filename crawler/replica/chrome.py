"""What every page of the site carries: head, header menu, search, sidebar, footer; link forms.

The boilerplate is the same on every page (as on the live site) so the extractor has to leave
it out; links come in the forms the site really uses (relative, http/https, www., tracking
parameters), chosen per page from a seeded stream so a page is the same byte for byte.
"""

from __future__ import annotations

import html
import random
from collections.abc import Iterable
from urllib.parse import quote_plus

from .model import CATEGORIES, LIVE, ReplicaArticle

SITE_NAME = "Báo điện tử Đảng Cộng sản Việt Nam"
# Links to pages that are gone: the replica answers them with its 404 page.
DEAD_PATHS = (
    "/thoi-su/noi-dung-nay-khong-con-ton-tai-299001.html",
    "/xa-hoi/bai-viet-da-go-bo-theo-yeu-cau-299002.html",
    "/chuyen-de/trang-cu-da-xoa.html",
)
SISTER_LINKS = (
    ("https://en.dangcongsan.vn/", "English"),
    ("https://fr.dangcongsan.vn/", "Français"),
    ("https://cn.dangcongsan.vn/", "中文"),
    ("https://tulieuvankien.dangcongsan.vn/", "Tư liệu văn kiện"),
    ("https://tphcm.dangcongsan.vn/", "Đảng bộ TP Hồ Chí Minh"),
)
SEARCH_KEYWORDS = ("xây dựng Đảng", "Đại hội", "Hà Nội")
PLACEHOLDER_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def esc(value: str) -> str:
    return html.escape(value, quote=False)


def attr(value: str) -> str:
    return html.escape(value, quote=True)


class Links:
    """Link forms for one page, from a stream seeded by the site seed and the page."""

    def __init__(self, seed: int, page_key: str) -> None:
        self.rng = random.Random(f"dcs-replica:{seed}:links:{page_key}")

    def to(self, path: str, tracking: float = 0.0) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            url = path
        elif roll < 0.75:
            url = LIVE + path
        elif roll < 0.85:
            url = "http://www.dangcongsan.vn" + path
        elif roll < 0.93:
            url = "https://www.dangcongsan.vn" + path
        else:
            url = "http://dangcongsan.vn" + path
        if rng.random() < tracking:
            sep = "&" if "?" in url else "?"
            if rng.random() < 0.5:
                source = rng.choice(["facebook", "zalo", "twitter"])
                url += f"{sep}utm_source={source}&utm_medium=social&utm_campaign=dcs"
            else:
                url += f"{sep}fbclid=IwAR{rng.getrandbits(64):016x}"
        return url

    def article(self, a: ReplicaArticle, tracking: float = 0.3) -> str:
        path = a.path
        if a.generation == 3 and self.rng.random() < 0.15:
            path = path.split("?", 1)[0]  # the portal also links without the categoryId
        return self.to(path, tracking)


def head(
    title: str,
    canonical: str,
    description: str,
    og_title: str | None = None,
    og_type: str = "website",
    image: str | None = None,
    extra: str = "",
    css: Iterable[str] = ("main",),
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f'<meta name="description" content="{attr(description)}">',
        f'<meta property="og:site_name" content="{attr(SITE_NAME)}">',
        f'<meta property="og:type" content="{og_type}">',
        f'<meta property="og:title" content="{attr(og_title or title)}">',
        f'<meta property="og:url" content="{attr(canonical)}">',
    ]
    if image:
        parts.append(f'<meta property="og:image" content="{attr(image)}">')
    parts.append(f'<link rel="canonical" href="{attr(canonical)}">')
    parts.append('<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss">')
    parts += [f'<link rel="stylesheet" href="/assets/css/{name}.css">' for name in css]
    parts.append('<script src="/assets/js/main.js"></script>')
    if extra:
        parts.append(extra)
    parts.append("</head>")
    return "\n".join(parts)


def header() -> str:
    items = "".join(f'<li><a href="/{c.slug}">{esc(c.name)}</a></li>' for c in CATEGORIES)
    searches = " ".join(
        f'<a href="/page/search?keyword={quote_plus(k)}">{esc(k)}</a>' for k in SEARCH_KEYWORDS
    )
    return (
        '<header class="header">\n'
        f'<a class="logo" href="{LIVE}/">'
        f'<img src="/assets/images/logo.png" alt="{attr(SITE_NAME)}"></a>\n'
        f'<nav class="menu"><ul><li><a href="/">Trang chủ</a></li>{items}</ul></nav>\n'
        '<form class="search-form" action="/tim-kiem" method="get">'
        '<input type="text" name="q" placeholder="Tìm kiếm">'
        '<button type="submit">Tìm</button></form>\n'
        f'<div class="hot-search">Tìm nhiều: {searches}</div>\n'
        "</header>"
    )


def sidebar(most_read: list[ReplicaArticle], links: Links, dead: str | None = None) -> str:
    items = [f'<li><a href="{attr(links.article(a))}">{esc(a.title)}</a></li>' for a in most_read]
    if dead:
        items.append(f'<li><a href="{attr(dead)}">Bài viết đáng chú ý</a></li>')
    return (
        '<aside class="sidebar">\n<div class="box-most-read"><h2 class="box-title">Đọc nhiều</h2>'
        f"<ul>{''.join(items)}</ul></div>\n"
        '<div class="box-banner"><a href="https://tulieuvankien.dangcongsan.vn/">'
        '<img src="/assets/images/banner.gif" alt="Tư liệu văn kiện"></a></div>\n</aside>'
    )


def footer() -> str:
    cats = " | ".join(f'<a href="/{c.slug}.html">{esc(c.name)}</a>' for c in CATEGORIES)
    sisters = " | ".join(f'<a href="{u}">{esc(name)}</a>' for u, name in SISTER_LINKS)
    return (
        '<footer class="footer">\n'
        f'<div class="footer-menu">{cats}</div>\n'
        f'<div class="footer-sites">{sisters}</div>\n'
        '<div class="footer-links"><a href="/rss">RSS</a> | '
        '<a href="https://www.facebook.com/baodientudangcongsan">Facebook</a></div>\n'
        f"<p>{esc(SITE_NAME)}. Cơ quan chủ quản: "
        "Ban Chấp hành Trung ương Đảng Cộng sản Việt Nam.</p>\n"
        "</footer>\n"
        '<script src="/assets/js/lazyload.js"></script>'
    )


def document(head_html: str, main_html: str, side_html: str = "") -> bytes:
    body = "\n".join(
        [head_html, "<body>", header(), '<div class="container">', main_html, side_html]
        + ["</div>", footer(), "</body>", "</html>", ""]
    )
    return body.encode("utf-8")


def img(url: str, alt: str, lazy: bool) -> str:
    if lazy:
        return (
            f'<img class="lazy" src="{PLACEHOLDER_GIF}" data-src="{attr(url)}" alt="{attr(alt)}">'
        )
    return f'<img src="{attr(url)}" alt="{attr(alt)}">'

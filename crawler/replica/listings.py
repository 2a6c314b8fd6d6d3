"""Pages that list stories: home, category lists (?page=N), endless tag pages, search, 404."""

from __future__ import annotations

import random
from datetime import datetime

from . import text
from .articles import tag_path
from .chrome import DEAD_PATHS, Links, attr, document, esc, head, img, sidebar
from .model import CATEGORIES, LIVE, Category, ReplicaArticle
from .page import HTML, Page

PAGE_SIZE = 10


def _item(a: ReplicaArticle, links: Links) -> str:
    href = attr(links.article(a))
    thumb = ""
    if a.figures:
        lazy = links.rng.random() < 0.3
        thumb = (
            f'<div class="pthumb"><a href="{href}">{img(a.figures[0].url, a.title, lazy)}</a></div>'
        )
    return (
        f'<div class="list-item">{thumb}<div class="pcontent3">'
        f'<a class="item-title" href="{href}">{esc(a.title)}</a>'
        f'<div class="i-date">{text.date_list(a.published)}</div>'
        f'<div class="i-sapo">{esc(a.lead)}</div></div></div>'
    )


def _w_list(stories: list[ReplicaArticle], links: Links) -> str:
    return '<div class="w-list">\n' + "\n".join(_item(a, links) for a in stories) + "\n</div>"


def _most_read(pool: list[ReplicaArticle], seed: int, key: str) -> list[ReplicaArticle]:
    rng = random.Random(f"dcs-replica:{seed}:mostread:{key}")
    return rng.sample(pool, min(5, len(pool)))


def _last_modified(stories: list[ReplicaArticle], fallback: datetime) -> datetime:
    return max((a.modified for a in stories), default=fallback)


def home(newest: list[ReplicaArticle], seed: int, now: datetime) -> Page:
    """Newest stories first, a block per category, hot tags; a dead link in the sidebar."""
    links = Links(seed, f"home:{now.isoformat()}")
    news = [a for a in newest if not a.is_video]
    blocks = [f'<section class="latest"><h2>Tin mới</h2>\n{_w_list(news[:20], links)}</section>']
    for c in CATEGORIES:
        stories = [a for a in newest if a.section == c][:5]
        more = f"/{c.slug}.html" if c.rss_id % 2 else f"/{c.slug}"
        blocks.append(
            f'<section class="cat-block"><h2><a href="{more}">{esc(c.name)}</a></h2>\n'
            f"{_w_list(stories, links)}</section>"
        )
    tags = " ".join(f'<a href="{tag_path(t)}">{esc(t)}</a>' for t in text.TAGS[:8])
    blocks.append(f'<div class="hot-tags">Chủ đề nóng: {tags}</div>')
    main = '<main class="main home">\n' + "\n".join(blocks) + "\n</main>"
    side = sidebar(_most_read(news, seed, f"home:{now:%Y%m%d}"), links, DEAD_PATHS[0])
    head_html = head(
        "Báo điện tử Đảng Cộng sản Việt Nam", LIVE + "/", "Tin tức, thời sự, xây dựng Đảng"
    )
    body = document(head_html, main, side)
    return Page(200, HTML, body, "home", _last_modified(newest, now), chunked=True)


def category_page(
    c: Category, stories: list[ReplicaArticle], form: str, page: int, seed: int, now: datetime
) -> Page:
    """`/<cat>` or `/<cat>.html` (form), ?page=N; past the end: empty or page 1 again."""
    base = f"/{c.slug}{form}"
    last = max(1, -(-len(stories) // PAGE_SIZE))
    shown = page
    if page > last:
        shown = 1 if c.past_end == "repeat" else 0
    chunk = stories[(shown - 1) * PAGE_SIZE : shown * PAGE_SIZE] if shown else []
    links = Links(seed, f"list:{base}:{shown}:{now.isoformat()}")
    paging = ""
    if shown:
        nums = []
        for n in range(1, last + 1):
            href = base if n == 1 else f"{base}?page={n}"
            cls = ' class="active"' if n == shown else ""
            nums.append(f'<a{cls} href="{href}">{n}</a>')
        if shown < last:
            nums.append(f'<a class="next" href="{base}?page={shown + 1}">Trang sau</a>')
        paging = '<div class="paging">' + " ".join(nums) + "</div>"
    main = (
        f'<main class="main category">\n<h1 class="cat-title">{esc(c.name)}</h1>\n'
        f"{_w_list(chunk, links)}\n{paging}\n</main>"
    )
    canonical = LIVE + base + (f"?page={page}" if page > 1 else "")
    side = sidebar(_most_read(stories, seed, base), links)
    body = document(head(f"{c.name} | ĐCSVN", canonical, f"Tin tức {c.name}"), main, side)
    return Page(200, HTML, body, "list", _last_modified(stories, now), chunked=True)


def tag_page(tag: str, stories: list[ReplicaArticle], page: int, seed: int, now: datetime) -> Page:
    """A trap: every ?page=N shows the same stories and a "next" link to N+1."""
    base = tag_path(tag)
    links = Links(seed, f"tag:{base}:{now.isoformat()}")
    nav = []
    if page > 1:
        nav.append(f'<a class="prev" href="{base}?page={page - 1}">Trang trước</a>')
    nav.append(f'<a class="next" href="{base}?page={page + 1}">Trang sau</a>')
    main = (
        f'<main class="main tag">\n<h1 class="tag-title">{esc(tag)}</h1>\n'
        f"{_w_list(stories[:PAGE_SIZE], links)}\n"
        f'<div class="paging">{" ".join(nav)}</div>\n</main>'
    )
    canonical = LIVE + base + (f"?page={page}" if page > 1 else "")
    body = document(head(f"{tag} | ĐCSVN", canonical, f"Tin tức về {tag}"), main)
    return Page(200, HTML, body, "tag", _last_modified(stories, now), chunked=True)


def search_page(query: str) -> Page:
    """Disallowed by robots.txt; answers anyway, like the live site."""
    main = (
        '<main class="main search">\n<h1>Kết quả tìm kiếm</h1>\n'
        f"<p>Không tìm thấy kết quả cho từ khóa “{esc(query)}”.</p>\n</main>"
    )
    body = document(head("Tìm kiếm | ĐCSVN", LIVE + "/tim-kiem", "Tìm kiếm"), main)
    return Page(200, HTML, body, "search")


def not_found(path: str) -> Page:
    main = (
        '<main class="main error">\n<h1>Không tìm thấy trang</h1>\n'
        "<p>Trang bạn yêu cầu không tồn tại hoặc đã bị gỡ bỏ.</p>\n"
        '<p><a href="/">Về trang chủ</a></p>\n'
        "</main>"
    )
    body = document(head("404 - Không tìm thấy trang", LIVE + "/", "Không tìm thấy trang"), main)
    return Page(404, HTML, body, "not-found")

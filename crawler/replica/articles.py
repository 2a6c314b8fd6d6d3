"""Article pages in the markup of each generation (see CONTRACT.md, "Markup contract").

Each page carries the dirt of its generation (NFD bodies, <br> paragraphs, &nbsp;, captions,
bylines, read-more boxes, ads) around text that must come out as `a.expected_text`.
"""

from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass

from . import text
from .chrome import Links, attr, document, esc, head, img, sidebar
from .model import ReplicaArticle
from .page import HTML, Page


@dataclass(frozen=True)
class Parts:
    """The class that marks each part of an article page in one generation's markup."""

    root: str  # the article
    title: str  # its <h1>
    meta: str  # the line with the date
    lead: str
    body: str
    related: str  # the related-stories box


PARTS = {
    1: Parts(
        "detail-post", "post-title", "post-date", "post-summary", "post-content", "related-news"
    ),
    2: Parts(
        "article",
        "article__title",
        "article__meta",
        "article__sapo",
        "article__body",
        "box-related",
    ),
    3: Parts(
        "detail",
        "detail__title",
        "detail__meta",
        "detail__sapo",
        "detail__content",
        "detail__related",
    ),
}
G1, G2, G3 = PARTS[1], PARTS[2], PARTS[3]

AD = (
    '<div class="ads"><span class="ads-label">Quảng cáo</span>'
    '<ins class="adsbygoogle" data-ad-slot="2196413374"></ins>'
    "<script>(adsbygoogle = window.adsbygoogle || []).push({});</script></div>"
)


def tag_path(tag: str) -> str:
    return f"/tag/{text.slugify(tag)}.html"


class Body:
    """Inline dirt for one article's paragraphs, from a stream seeded by the article."""

    def __init__(self, a: ReplicaArticle, seed: int) -> None:
        self.a = a
        self.rng = random.Random(f"dcs-replica:{seed}:body:{a.key}:{a.edits}")

    def inline(self, paragraph: str) -> str:
        m, rng = self.a.markup, self.rng
        if m.nfd:
            paragraph = unicodedata.normalize("NFD", paragraph)
        words = paragraph.split(" ")
        if m.strong and len(words) > 8 and rng.random() < 0.35:
            n = rng.randint(2, 4)
            head_html = f"<strong>{esc(' '.join(words[:n]))}</strong>"
            out = head_html + " " + esc(" ".join(words[n:]))
        else:
            out = esc(paragraph)
        if m.nbsp and rng.random() < 0.5:
            # a real space (never an extra one) written as &nbsp;, as CKEditor does
            parts = out.split(" ")
            if len(parts) > 4:
                k = rng.randrange(1, len(parts) - 1)
                out = " ".join(parts[:k]) + "&nbsp;" + " ".join(parts[k:])
        return out


def _most_read(a: ReplicaArticle, earlier: list[ReplicaArticle], seed: int) -> list:
    rng = random.Random(f"dcs-replica:{seed}:mostread:{a.key}")
    return rng.sample(earlier, min(5, len(earlier)))


def _related_list(a: ReplicaArticle) -> str:
    items = "".join(
        f'<li><a href="{attr(r.href)}">{esc(r.title)}</a></li>' for r in a.related_links
    )
    return f'<div class="{G1.related}"><h3>Tin liên quan</h3><ul>{items}</ul></div>'


def _readmore(a: ReplicaArticle, targets: dict[str, ReplicaArticle], cls: str) -> str:
    target = targets.get(a.markup.readmore or "")
    if target is None:
        return ""
    return (
        f'<div class="{cls}"><strong>Xem thêm:</strong> '
        f'<a href="{attr(target.path)}">{esc(target.title)}</a></div>'
    )


def _interleave(blocks: list[str], extras: list[str], rng: random.Random) -> list[str]:
    """Figures, ads and read-more boxes placed between paragraphs, never before the first."""
    out = list(blocks)
    for extra in extras:
        out.insert(rng.randint(1, max(1, len(out))), extra)
    return out


# -- generation 1 -----------------------------------------------------------------------


def _gen1_figure(url: str, caption: str, style: str) -> str:
    if style == "table":
        return (
            '<table class="image" align="center"><tbody><tr><td>'
            f"{img(url, '', False)}</td></tr>"
            f'<tr><td class="image_desc">{esc(caption)}</td></tr></tbody></table>'
        )
    picture = img(url, "", False)
    return f'<figure class="image">{picture}<figcaption>{esc(caption)}</figcaption></figure>'


def _gen1_body(a: ReplicaArticle, targets: dict, seed: int) -> str:
    m, body = a.markup, Body(a, seed)
    rng = body.rng
    paras = [body.inline(p) for p in a.paragraphs]
    if m.body_style == "br":
        blocks = ["<p>" + "<br>\n".join(paras) + "</p>"]
    else:
        blocks = []
        for p in paras:
            tag = m.body_style if m.body_style != "mixed" else rng.choice(["p", "div"])
            blocks.append(f"<{tag}>{p}</{tag}>")
    extras = [_gen1_figure(f.url, f.caption, m.figure_style) for f in a.figures]
    if m.empty_paragraph:
        extras.append("<p>&nbsp;</p>")
    if m.ad:
        extras.append(AD)
    readmore = _readmore(a, targets, "xemthem")
    if readmore:
        extras.append(readmore)
    blocks = _interleave(blocks, extras, rng)
    if a.related_links and m.related_position == "inside":
        blocks.insert(0, _related_list(a))
    if m.author_style == "class":
        blocks.append(f'<p class="author">{esc(a.byline)}</p>')
    else:
        blocks.append(f'<p style="text-align:right"><strong>{esc(a.byline)}</strong></p>')
    before = _related_list(a) if a.related_links and m.related_position == "before" else ""
    return before + f'\n<div class="{G1.body}">\n' + "\n".join(blocks) + "\n</div>"


def _gen1(a: ReplicaArticle, targets: dict, seed: int) -> str:
    if a.is_video:
        poster = a.figures[0].url if a.figures else ""
        content = (
            f'<div class="{G1.body}"><div class="video-player">'
            f'<video controls preload="none" poster="{attr(poster)}">'
            f'<source src="{attr(a.video_url or "")}" type="video/mp4"></video></div></div>'
        )
    else:
        content = _gen1_body(a, targets, seed)
    tags = " ".join(f'<a href="{tag_path(t)}">{esc(t)}</a>' for t in a.tags)
    return (
        f'<div class="{G1.root}{" video-detail" if a.is_video else ""}">\n'
        f'<div class="breadcrumb"><a href="/">Trang chủ</a> » '
        f'<a href="/{a.section.slug}">{esc(a.section.name)}</a></div>\n'
        f'<h1 class="{G1.title}">{esc(a.title)}</h1>\n'
        f'<div class="{G1.meta}">'
        f'<span class="lbPublishedDate">{text.date_gen1(a.published)}</span></div>\n'
        f'<div class="{G1.lead}">{esc(a.lead)}</div>\n'
        f"{content}\n"
        f'<div class="tags"><span>Từ khóa:</span> {tags}</div>\n'
        "</div>"
    )


def _paragraphs_and_extras(
    a: ReplicaArticle, targets: dict, seed: int, figure_class: str, readmore_class: str
) -> list[str]:
    """The body's <p> blocks with its figures, ad and read-more box set among them (the
    newer generations share this shape and differ in class names)."""
    body = Body(a, seed)
    blocks = [f"<p>{body.inline(p)}</p>" for p in a.paragraphs]
    extras = [
        f'<figure class="{figure_class}">{img(f.url, a.title, a.markup.lazy)}'
        f"<figcaption>{esc(f.caption)}</figcaption></figure>"
        for f in a.figures
    ]
    if a.markup.ad:
        extras.append(AD)
    readmore = _readmore(a, targets, readmore_class)
    if readmore:
        extras.append(readmore)
    return _interleave(blocks, extras, body.rng)


# -- generation 2 -----------------------------------------------------------------------


def _gen2_body(a: ReplicaArticle, targets: dict, seed: int) -> str:
    m = a.markup
    blocks = _paragraphs_and_extras(a, targets, seed, "image", "box-readmore")
    if a.related_links:
        stories = "".join(
            f'<article class="story"><h3 class="story__heading">'
            f'<a class="cms-link" href="{attr(r.href)}" title="{attr(r.title)}">{esc(r.title)}</a>'
            "</h3></article>"
            for r in a.related_links
        )
        box = (
            f'<div class="{G2.related}"><div class="box-heading">Tin liên quan</div>{stories}</div>'
        )
        where = {"top": 0, "middle": min(1, len(blocks)), "end": len(blocks)}[m.related_position]
        blocks.insert(where, box)
    return f'<div class="{G2.body} cms-body">\n' + "\n".join(blocks) + "\n</div>"


def _gen2(a: ReplicaArticle, targets: dict, seed: int) -> str:
    tags = " ".join(f'<a href="{tag_path(t)}">{esc(t)}</a>' for t in a.tags)
    return (
        f'<article class="{G2.root}">\n'
        f'<div class="breadcrumbs"><a href="/{a.section.slug}">{esc(a.section.name)}</a></div>\n'
        f'<h1 class="{G2.title} cms-title">{esc(a.title)}</h1>\n'
        f'<div class="{G2.meta}"><time class="time" datetime="{text.iso(a.published)}">'
        f"{text.date_gen2(a.published)}</time></div>\n"
        f'<div class="{G2.lead} cms-desc">{esc(a.lead)}</div>\n'
        f"{_gen2_body(a, targets, seed)}\n"
        f'<div class="article__author"><span class="name">{esc(a.byline)}</span></div>\n'
        f'<div class="article__tag">{tags}</div>\n'
        "</article>"
    )


def _json_ld(a: ReplicaArticle) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "description": a.lead,
        "mainEntityOfPage": a.url,
        "datePublished": text.iso(a.published),
        "dateModified": text.iso(a.modified),
        "author": {"@type": "Person", "name": a.byline},
        "image": a.images,
        "publisher": {"@type": "Organization", "name": "Báo điện tử Đảng Cộng sản Việt Nam"},
    }
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{payload}</script>'


# -- generation 3 -----------------------------------------------------------------------


def _gen3(a: ReplicaArticle, targets: dict, seed: int) -> str:
    blocks = _paragraphs_and_extras(a, targets, seed, "detail__image", "detail__readmore")
    related = ""
    if a.related_links:
        links = "".join(
            f'<li><a href="{attr(r.href)}">{esc(r.title)}</a></li>' for r in a.related_links
        )
        related = f'<div class="{G3.related}"><h3>Tin liên quan</h3><ul>{links}</ul></div>\n'
    tags = " ".join(f'<a href="{tag_path(t)}">{esc(t)}</a>' for t in a.tags)
    return (
        f'<article class="{G3.root}" data-id="{a.key}">\n'
        f'<div class="detail__cate"><a href="/{a.section.slug}">{esc(a.section.name)}</a></div>\n'
        f'<h1 class="{G3.title}">{esc(a.title)}</h1>\n'
        f'<div class="{G3.meta}">'
        f'<span class="detail__time">{text.date_gen3(a.published)}</span></div>\n'
        f'<div class="{G3.lead}">{esc(a.lead)}</div>\n'
        f"{related}"
        f'<div class="{G3.body}">\n' + "\n".join(blocks) + "\n</div>\n"
        f'<div class="detail__author">{esc(a.byline)}</div>\n'
        f'<div class="detail__tags">{tags}</div>\n'
        "</article>"
    )


def _cut(title: str) -> str:
    return title[:40].rsplit(" ", 1)[0] + "..."


def render_article(
    a: ReplicaArticle,
    earlier: list[ReplicaArticle],
    targets: dict[str, ReplicaArticle],
    seed: int,
    dead: str | None,
) -> Page:
    """The page of an article; `earlier` feeds its "most read" box (stable as the clock runs)."""
    links = Links(seed, f"article:{a.key}")
    image = a.images[0] if a.images else None
    og_title = _cut(a.title) if a.markup.cut_og_title and len(a.title) > 45 else a.title
    extra = ""
    if a.generation in (2, 3):
        extra = (
            f'<meta property="article:published_time" content="{text.iso(a.published)}">\n'
            f'<meta property="article:modified_time" content="{text.iso(a.modified)}">'
        )
    if a.generation == 2:
        extra += "\n" + _json_ld(a)
    head_html = head(
        f"{a.title} | {'Video' if a.is_video else 'ĐCSVN'}",
        a.url,
        a.lead,
        og_title=og_title,
        og_type="video.other" if a.is_video else "article",
        image=image,
        extra=extra,
        css=("main", f"gen{a.generation}"),
    )
    main = {1: _gen1, 2: _gen2, 3: _gen3}[a.generation](a, targets, seed)
    side = sidebar(_most_read(a, earlier, seed), links, dead)
    share = (
        '<div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u='
        f'{attr(a.url)}">Chia sẻ</a></div>'
    )
    body = document(head_html, f'<main class="main">\n{main}\n{share}\n</main>', side)
    kind = "video" if a.is_video else "article"
    return Page(200, HTML, body, kind, last_modified=a.modified)

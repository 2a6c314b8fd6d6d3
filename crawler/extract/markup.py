"""What the extractor knows of the site's markup: where each mapped generation keeps the parts
of an article, and the words by which markup nobody mapped is read.

Two kinds of knowledge, kept apart on purpose. The `Markup` tables name the classes seen on
the generations we know of (SITE.md): they are fast paths, right until the next redesign.
The vocabulary below them (what a lead starts with, what a related box is called, what an
ad says) holds for any markup of the site: the structural finders (crawler.extract.structure)
read pages by it when no table matches. A class name seen on one copy of the site never goes
into that vocabulary.

Selectors are CSS (lxml.cssselect), listed most specific first; the first one that matches
wins. A page is read with the rules of the first markup whose `root` it contains (the URL's
generation is tried first), so a page served under another generation's URL is still read
right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


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

# =====================================================================================
# The vocabulary of any markup of the site: words a reader sees, never class names
# =====================================================================================

# Every lead of the site opens with the paper's mark: "(ĐCSVN) - …".
LEAD_PREFIX = "(ĐCSVN)"
# Words that a lead's class or id is made of, in the CMS conventions of Vietnamese news sites
# (sapo is the French "chapeau" the trade uses); matched as whole words of the name.
LEAD_WORDS = frozenset(
    {"sapo", "chapo", "summary", "lead", "desc", "description", "intro", "introduction",
     "excerpt", "teaser", "tomtat"}
)  # fmt: skip
# How the site introduces the related stories it shows with an article (compared casefolded,
# without a closing colon). "Xem thêm" is left out: the site writes it inline, before one
# link, as a read-more pointer inside the body, not as the heading of a box.
RELATED_HEADINGS = frozenset(
    {"tin liên quan", "bài liên quan", "tin bài liên quan", "bài viết liên quan", "đọc thêm",
     "tin tức liên quan"}
)  # fmt: skip
# A class or id that says "related" in any of its usual spellings (diacritics removed first):
# related, relatedNews, box_related, lien-quan, lienquan, tinLienQuan, tin_lien_quan, …
RELATED_NAME = re.compile(r"relat|lien[\s_-]*quan", re.I)
# The only text of an advertisement slot.
AD_LABELS = frozenset({"quảng cáo", "advertisement", "qc", "tài trợ"})
# HTML5 elements that hold the page's chrome, never the article's text.
CHROME_TAGS = frozenset({"header", "footer", "nav", "aside"})

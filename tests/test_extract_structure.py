"""extract() on markup no rule names: each part found by what it is (crawler.extract.structure).

Hand-made pages, one fact each; the replica's markup variants test the same at scale
(test_extract_variants.py).
"""

from __future__ import annotations

import pytest
from test_extract import SEED_TEXT, SEED_URL, page, seed_page

from crawler.extract import extract, render_text

URL = "https://dangcongsan.vn/thoi-su/mot-bai-bao-trong-bo-cuc-moi-620001.html"
TITLE = "Một bài báo trong bố cục mới chưa luật nào biết"
LEAD = (
    "(ĐCSVN) - Phần mở đầu của bài báo dài hơn một trăm sáu mươi ký tự, để thấy rằng mô tả "
    "trong thẻ meta bị cắt ngắn còn phần mở đầu hiển thị trên trang thì đầy đủ, không bị cắt."
)
ONE = "Đoạn thứ nhất của thân bài, đủ dài để là một đoạn văn thật sự của bài báo này."
TWO = "Đoạn thứ hai của thân bài kể tiếp câu chuyện, cũng đủ dài để được giữ lại."
THREE = "Đoạn thứ ba kết thúc bài báo bằng một câu văn dài đủ để không bị coi là chú thích."
LINKS = (
    '<li><a href="/thoi-su/bai-lien-quan-thu-nhat-610001.html">Bài liên quan thứ nhất</a></li>'
    '<li><a href="https://dangcongsan.vn/bai-da-go-post299002.html">Bài đã gỡ</a></li>'
    '<li><a href="http://www.dangcongsan.vn/kinh-te/bai-thu-ba-610003.html">Bài thứ ba</a></li>'
)
RELATED = [
    ("Bài liên quan thứ nhất", "https://dangcongsan.vn/thoi-su/bai-lien-quan-thu-nhat-610001.html"),
    ("Bài đã gỡ", "https://dangcongsan.vn/bai-da-go-post299002.html"),  # dead: kept as shown
    ("Bài thứ ba", "http://www.dangcongsan.vn/kinh-te/bai-thu-ba-610003.html"),
]
# Outside the article: never its related stories, though they look alike.
OUTSIDE = f"""<div class="qz-after"><h3>Tin cùng chuyên mục</h3><ul>
<li><a href="/thoi-su/cung-chuyen-muc-610010.html">Cùng chuyên mục một</a></li></ul></div>
<div class="qz-side"><h3>Tin liên quan</h3><ul>{LINKS.replace("Bài", "Tin bên lề")}</ul></div>"""
HEAD = (
    f"<title>{TITLE} | ĐCSVN</title>"
    f'<meta name="description" content="{LEAD[:157]}...">'
    f'<meta property="og:title" content="{TITLE[:30]}...">'
)


def unmapped(inside: str, lead: str = f'<div class="qz-a">{LEAD}</div>', after: str = "") -> str:
    """A page in markup no rule names: title, lead, a body holding `inside` (then `after`),
    lists outside the article."""
    return page(
        f"""<div class="qz-0"><div class="qz-1"><h1 class="qz-2">{TITLE}</h1>{lead}
<div class="qz-3">{inside}</div>{after}</div>{OUTSIDE}</div>""",
        HEAD,
    )


def body(*blocks: str) -> str:
    return "".join(blocks)


P1, P2, P3 = f"<p>{ONE}</p>", f"<p>{TWO}</p>", f"<p>{THREE}</p>"
TAGS = '<div class="qz-t">Từ khóa: <a href="/tag/ha-noi.html">Hà Nội</a></div>'
READ_MORE = '<div class="qz-r"><strong>Xem thêm:</strong> <a href="/a-610009.html">Khác</a></div>'
EXPECTED = [TITLE, LEAD, *(f"- {title}" for title, _url in RELATED), ONE, TWO, THREE]


@pytest.mark.parametrize(
    "inside",
    [
        body(f"<h3>Tin liên quan</h3><ul>{LINKS}</ul>", P1, P2, P3),  # heading, list beside it
        body(P1, f'<div class="qz-9"><h4>BÀI LIÊN QUAN:</h4><ul>{LINKS}</ul></div>', P2, P3),
        body(P1, P2, P3, f"<p><strong>Đọc thêm</strong></p><ul>{LINKS}</ul>"),
        body(P1, f"<div>ĐỌC THÊM</div><ul>{LINKS}</ul>", READ_MORE, P2, P3),
        body(f'<div class="tinLienQuan"><ul>{LINKS}</ul></div>', P1, P2, P3),  # named, no heading
        body(P1, f'<div id="box_lien_quan">{LINKS.replace("li>", "p>")}</div>', P2, P3),
        body(P1, P2, f'<section class="relatedPosts"><ul>{LINKS}</ul></section>', P3),
        body(f"<ul>{LINKS}</ul>", P1, P2, P3),  # a bare list between lead and body
        body(P1, P2, P3, '<p style="text-align:right">Thu Hằng</p>', f"<ul>{LINKS}</ul>"),
    ],
)
def test_related_links_are_found_by_heading_name_or_place(inside: str) -> None:
    article = extract(unmapped(inside), URL)
    assert article.method == "generic"
    assert article.related == RELATED
    assert render_text(article).split("\n") == EXPECTED


def test_a_heading_and_its_lines_after_the_body_stop_before_the_tags() -> None:
    after = "<div>Tin liên quan</div>" + LINKS.replace("li>", "p>") + TAGS
    article = extract(unmapped(body(P1, P2, P3), after=after), URL)
    assert article.related == RELATED and article.tags == ["Hà Nội"]
    assert render_text(article).split("\n") == EXPECTED


def test_a_bare_list_after_a_lead_set_inside_the_body_is_related() -> None:
    inside = body(f'<div class="qz-a">{LEAD}</div>', f"<ul>{LINKS}</ul>", P1, P2, P3)
    article = extract(unmapped(inside, lead=""), URL)
    assert article.related == RELATED
    assert render_text(article).split("\n") == EXPECTED


def test_lists_that_are_not_the_articles_related_stories_stay_out() -> None:
    article = extract(unmapped(body(P1, READ_MORE, P2, P3), after=TAGS), URL)
    assert article.related == []
    assert article.paragraphs == [ONE, TWO, THREE]
    assert article.tags == ["Hà Nội"]


def test_a_body_whose_paragraphs_only_br_separates_is_read_whole_without_the_sidebar() -> None:
    html = page(f'<h1 class="qz-2">{TITLE}</h1><p class="qz-a"><strong>{LEAD}</strong></p>'
                f'<div class="qz-3">{ONE}<br><br>{TWO}<br>{THREE}</div>')  # fmt: skip
    article = extract(html, URL)
    assert article.related == []
    assert render_text(article).split("\n") == [TITLE, LEAD, ONE, TWO, THREE]


MOST_READ = f'<div class="qz-s"><h3>Đọc nhiều</h3><ul>{LINKS}</ul></div>'


@pytest.mark.parametrize(
    "sidebar",
    [
        lambda html: html,  # an <aside> beside <main>
        lambda html: html.replace("<aside", "<div").replace("</aside>", "</div>"),
        lambda html: html.replace("</main>", MOST_READ + "</main>"),  # in <main>, after the text
    ],
    ids=["aside-beside-main", "div-beside-main", "div-inside-main"],
)
def test_a_most_read_box_beside_a_body_set_straight_in_the_page_is_not_related(sidebar) -> None:
    html = sidebar(page(f'<h1 class="qz-2">{TITLE}</h1><div class="qz-a">{LEAD}</div>{P1}{P2}{P3}'))
    article = extract(html, URL)
    assert article.related == []
    assert render_text(article).split("\n") == [TITLE, LEAD, ONE, TWO, THREE]


def test_a_related_heading_without_links_makes_the_text_suspect() -> None:
    article = extract(unmapped(body(P1, P2, P3, "<h3>Tin liên quan</h3>")), URL)
    assert article.unread_related and article.related == []
    assert "related-unread" in article.suspicions
    assert any("heading with no links" in warning for warning in article.warnings)


@pytest.mark.parametrize(
    "lead",
    [
        f'<div class="qz-a"><p><strong>{LEAD}</strong></p></div>',
        f'<h2 class="qz-a">{LEAD}</h2>',
        f'<div class="qz-a"><span>(ĐCSVN)</span>{LEAD[len("(ĐCSVN)") :]}</div>',
        f'<p class="boxSummary">{LEAD}</p>',
    ],
)
def test_the_visible_lead_wins_over_the_cut_meta_description(lead: str) -> None:
    article = extract(unmapped(body(P1, P2, P3), lead=lead), URL)
    assert article.lead == LEAD and article.title == TITLE
    assert article.paragraphs == [ONE, TWO, THREE]


def test_a_lead_named_so_needs_no_mark_and_a_lead_inside_the_body_leaves_it() -> None:
    plain = LEAD.removeprefix("(ĐCSVN) - ")
    named = extract(
        unmapped(body(P1, P2, P3), lead=f'<div class="article-sapo">{plain}</div>'), URL
    )
    assert named.lead == plain and "no-lead" in named.suspicions
    inside = extract(unmapped(body(f'<div class="qz-a">{LEAD}</div>', P1, P2, P3), lead=""), URL)
    assert inside.lead == LEAD and inside.paragraphs == [ONE, TWO, THREE]


def test_the_meta_description_only_when_the_page_shows_no_lead() -> None:
    article = extract(unmapped(body(P1, P2, P3), lead=""), URL)
    assert article.lead == LEAD[:157] + "..."
    assert "lead taken from the meta description" in article.warnings


def test_the_title_is_the_articles_h1_not_the_logo_nor_a_cut_og_title() -> None:
    logo = '<h1 class="qz-logo"><a href="/">Báo điện tử Đảng Cộng sản Việt Nam</a></h1>'
    article = extract(unmapped(body(P1, P2, P3)).replace("<header>", "<header>" + logo), URL)
    assert article.title == TITLE


def test_a_paragraph_shown_twice_in_a_row_comes_out_twice() -> None:
    generic = extract(unmapped(body(P1, P2, P2, P3)), URL)
    assert generic.paragraphs == [ONE, TWO, TWO, THREE]
    lines = SEED_TEXT.split("\n")  # title, lead, two related links, the body
    html = seed_page()
    start = html.index("<p>", html.index("article__body"))  # the first body paragraph, twice
    end = html.index("</p>", start) + len("</p>")
    by_rules = extract(html[:end] + html[start:end] + html[end:], SEED_URL)
    assert by_rules.method == "site-rules"
    assert render_text(by_rules).split("\n") == [*lines[:5], lines[4], *lines[5:]]


def test_unmapped_markup_keeps_the_rules_for_captions_bylines_and_ads() -> None:
    picture = '<img src="https://file1.dangcongsan.vn/data/0/images/a.jpg">'
    blocks = body(
        f"<p>{ONE.replace(' ', '&nbsp;', 3)}</p>",
        f'<table class="qz-t"><tr><td>{picture}</td></tr><tr><td>Ảnh: Minh Anh</td></tr></table>',
        f"<p>{TWO}<br>{THREE}</p>",
        '<div class="qz-ad"><span>Quảng cáo</span><ins class="adsbygoogle"></ins></div>',
        f"<figure>{picture}<figcaption>Quang cảnh hội nghị. (Ảnh: PV)</figcaption></figure>",
        '<p class="qz-by">Thu Hằng</p>',
    )
    article = extract(unmapped(blocks), URL)
    assert article.paragraphs == [ONE, TWO, THREE]
    assert article.author == "Thu Hằng"
    assert article.images == ["https://file1.dangcongsan.vn/data/0/images/a.jpg"]


def test_what_makes_a_text_suspect() -> None:
    assert extract(seed_page(), SEED_URL).suspicions == []
    short = extract(unmapped(f"<p>{ONE}</p>", lead=""), URL)
    assert short.suspicions == ["generic", "short-body"]  # the meta description has the mark
    video = page(
        f'<div class="qz-v"><h1>{TITLE}</h1><div class="qz-a">{LEAD}</div><video></video></div>'
    )
    flagged = extract(video, "https://dangcongsan.vn/multimedia/video/mot-video-620009.html")
    assert flagged.is_video and flagged.suspicions == ["generic"]

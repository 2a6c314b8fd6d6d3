"""extract(): the seed article, every generation's markup, dates, bylines, odd pages."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from html import escape
from pathlib import Path

import lxml.html
import pytest

from crawler.extract import Article, ExtractionError, extract, render_text
from crawler.extract.dates import VIETNAM, parse_date
from crawler.extract.extractor import _clean_author
from crawler.extract.html import inline_text, lines
from crawler.extract.text import fold

SEED_TEXT = (
    Path(__file__).resolve().parents[1] / "crawler" / "replica" / "data" / "seed-article.txt"
).read_text(encoding="utf-8")
SEED_URL = (
    "https://dangcongsan.vn/ha-noi--quang-ninh-thuc-day-hop-tac-phat-trien-chat-che-tren-nhieu-"
    "linh-vuc-post531379.html"
)
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACw="


def page(main: str, head: str = "") -> str:
    """A page of the site around `main`: menu, search form, most-read box, footer."""
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">{head}
<link rel="stylesheet" href="/assets/css/main.css"><script src="/assets/js/app.js"></script>
</head><body><header><nav class="menu"><a href="/thoi-su">Thời sự</a>
<a href="/xay-dung-dang">Xây dựng Đảng</a></nav><form action="/tim-kiem"><input name="q"></form>
<a href="/page/search?keyword=dang">Tìm kiếm</a></header><main>{main}</main>
<aside class="most-read"><h3>Đọc nhiều</h3><ul><li>
<a href="/thoi-su/tin-doc-nhieu-nhat-trong-tuan-600001.html">Tin đọc nhiều nhất trong tuần</a>
</li></ul></aside><footer><p>Báo điện tử Đảng Cộng sản Việt Nam. Giấy phép số 123/GP.</p>
</footer></body></html>"""


def seed_page(og_title_cut: bool = True) -> str:
    """The seed article in gen-2 markup, as the markup contract describes it."""
    lines = SEED_TEXT.split("\n")
    title, lead = lines[0], lines[1]
    related = [line[2:] for line in lines[2:] if line.startswith("- ")]
    body = lines[2 + len(related) :]
    stories = "".join(
        f'<article class="story"><a class="cms-link" href="/bai-{i}-post60{i}.html">'
        f'<img src="{PIXEL}" data-src="https://file1.dangcongsan.vn/data/0/images/r{i}.jpg"></a>'
        f'<h3 class="story__heading"><a class="cms-link" href="/bai-{i}-post60{i}.html">'
        f"{escape(t)}</a></h3></article>"
        for i, t in enumerate(related)
    )
    paragraphs = [f"<p>{escape(p).replace(' ', '&nbsp;', 2)}</p>" for p in body]
    paragraphs.insert(
        1,
        '<figure class="image"><img src="' + PIXEL + '" data-src="https://file1.dangcongsan.vn/'
        'data/0/images/2019/08/10/hoi-nghi.jpg?w=780"><figcaption>Quang cảnh hội nghị. '
        "(Ảnh: Minh Anh)</figcaption></figure>",
    )
    paragraphs.insert(3, f'<div class="box-related">{stories}</div>')
    og_title = title[:40] + "..." if og_title_cut else title
    head = f"""<title>{escape(title)} - Báo điện tử Đảng Cộng sản Việt Nam</title>
<meta name="description" content="{escape(lead)}">
<meta property="og:title" content="{escape(og_title)}">
<meta property="og:url" content="{SEED_URL}"><link rel="canonical" href="{SEED_URL}">
<meta property="article:published_time" content="2019-08-10T15:21:00+07:00">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{escape(title)}", "datePublished": "2019-08-10T15:21:00+07:00",
"dateModified": "2019-08-10T17:02:00+07:00", "author": {{"@type": "Person", "name": "PV"}}}}
</script>"""
    main = f"""<div class="article"><h1 class="article__title cms-title">{escape(title)}</h1>
<div class="article__meta"><time class="time" datetime="2019-08-10T15:21:00+07:00">
Thứ Bảy, 10/08/2019 15:21</time><div class="article__author"><span class="name">Minh Anh
</span></div></div><div class="article__sapo cms-desc">{escape(lead)}</div>
<div class="article__body cms-body">{"".join(paragraphs)}</div>
<div class="article__tag"><a href="/tag/ha-noi">Hà Nội</a> <a href="/tag/quang-ninh">Quảng Ninh
</a></div></div>"""
    return page(main, head)


GEN1_URL = "https://dangcongsan.vn/thoi-su/toi-pham-ve-tham-nhung-van-rat-phuc-tap-533819.html"


def gen1_page(published: str = "Thứ Bảy, 10/08/2019 15:21", byline: str = "Nguyễn Văn An") -> str:
    nfd = unicodedata.normalize("NFD", "Đoạn bốn viết ở dạng Unicode tổ hợp, cần chuẩn hóa.")
    main = f"""<div class="detail-post"><h1 class="post-title">Tội phạm về tham nhũng vẫn rất
phức tạp</h1><span class="lbPublishedDate">{published}</span>
<div class="post-summary"><strong>(ĐCSVN)</strong> - Tình hình tội phạm tham nhũng.</div>
<div class="related-news"><ul><li><a href="/thoi-su/bai-lien-quan-mot-500001.html">Bài liên
quan một</a></li><li><a href="http://www.dangcongsan.vn/thoi-su/bai-hai-500002.html">Bài hai
</a></li></ul></div><div class="post-content">
<p>Đoạn&nbsp;một của bài,   có khoảng trắng thừa.</p><div>Đoạn hai nằm trong thẻ div.</div>
<table class="image"><tr><td><img src="/DATA/0/2019/08/a.jpg"></td></tr>
<tr><td>Chú thích ảnh (Ảnh: TTXVN)</td></tr></table>
<p>Dòng ba A.<br>Dòng ba B.<br/><br/>Dòng ba C.</p><p>{nfd}</p>
<p>Xem thêm: <a href="/thoi-su/mot-bai-khac-500003.html">Một bài khác</a></p>
<p>Tin liên quan đến vụ việc sẽ được cập nhật.</p>
<p style="text-align: right;"><strong>{byline}</strong></p></div>
<div class="tags"><a href="/tag/tham-nhung">tham nhũng</a></div></div>"""
    return page(main, "<title>Tội phạm về tham nhũng vẫn rất phức tạp</title>")


GEN3_URL = (
    "https://dangcongsan.vn/thoi-su/hoi-nghi-trung-uong-khai-mac-trong-the.html"
    "?categoryId=1902448&utm_source=zalo"
)


def gen3_page(author: str = "PV", when: str = "28/11/2026 - 08:15") -> str:
    title = "Hội nghị Trung ương khai mạc trọng thể tại Thủ đô Hà Nội"
    main = f"""<article class="detail"><h1 class="detail__title">{title}</h1>
<span class="detail__time">{when}</span><div class="detail__author">{author}</div>
<div class="detail__sapo">(ĐCSVN) - Sáng nay hội nghị khai mạc.</div>
<div class="detail__related"><a href="/thoi-su/cac-dai-bieu-du-hoi-nghi-trung-uong.html">Các
đại biểu dự hội nghị</a></div><div class="detail__content"><p>Đoạn một.</p>
<div class="ads">Quảng cáo</div><p>Đoạn hai.</p></div>
<div class="detail__tags"><a href="/tag/hoi-nghi">Hội nghị</a></div></article>"""
    head = (
        f'<meta property="og:title" content="{title[:25]}...">'
        '<link rel="canonical" href="https://dangcongsan.vn/thoi-su/'
        'hoi-nghi-trung-uong-khai-mac-trong-the.html">'
    )
    return page(main, head)


def test_seed_article_renders_byte_for_byte() -> None:
    article = extract(seed_page().encode("utf-8"), SEED_URL)
    assert render_text(article) == SEED_TEXT
    assert render_text(article).encode("utf-8") == SEED_TEXT.encode("utf-8")
    assert article.method == "site-rules" and article.generation == 2
    assert article.id == "531379" and article.canonical_url == SEED_URL
    assert article.published == datetime(2019, 8, 10, 15, 21, tzinfo=VIETNAM)
    assert article.published.utcoffset().total_seconds() == 7 * 3600
    assert article.modified == datetime(2019, 8, 10, 17, 2, tzinfo=VIETNAM)
    assert article.author == "Minh Anh"
    assert article.tags == ["Hà Nội", "Quảng Ninh"]
    assert article.related[0] == (
        "Hà Nội và Hà Nam tăng cường hợp tác, phát triển",
        "https://dangcongsan.vn/bai-0-post600.html",
    )
    assert article.images == [
        "https://file1.dangcongsan.vn/data/0/images/2019/08/10/hoi-nghi.jpg?w=780"
    ]
    assert not article.no_body and article.flags == []


def test_seed_from_the_replica_when_it_exists() -> None:
    replica = pytest.importorskip("crawler.replica")
    if not hasattr(replica, "ReplicaSite"):
        pytest.skip("crawler.replica has no ReplicaSite yet")
    site = replica.ReplicaSite(seed=1)
    seed = site.seed_article
    status, _headers, body = site.render(seed.path)
    assert status == 200
    article = extract(body, seed.url)
    assert render_text(article) == SEED_TEXT == seed.expected_text


def test_truncated_og_title_loses_to_h1_and_the_title_tag_without_h1() -> None:
    html = seed_page().replace("<h1 ", "<h2 ").replace("</h1>", "</h2>")
    # Without the gen-2 heading no site rule holds: the generic path still gets the title.
    article = extract(html, SEED_URL)
    assert article.title == SEED_TEXT.split("\n")[0]


def test_gen1_body_rules() -> None:
    article = extract(gen1_page(), GEN1_URL)
    assert render_text(article).split("\n") == [
        "Tội phạm về tham nhũng vẫn rất phức tạp",
        "(ĐCSVN) - Tình hình tội phạm tham nhũng.",
        "- Bài liên quan một",
        "- Bài hai",
        "Đoạn một của bài, có khoảng trắng thừa.",
        "Đoạn hai nằm trong thẻ div.",
        "Dòng ba A.",
        "Dòng ba B.",
        "Dòng ba C.",
        unicodedata.normalize("NFC", "Đoạn bốn viết ở dạng Unicode tổ hợp, cần chuẩn hóa."),
        "Tin liên quan đến vụ việc sẽ được cập nhật.",  # a sentence, not a read-more box
    ]
    assert article.author == "Nguyễn Văn An"
    assert article.generation == 1 and article.id == "533819"
    assert article.published == datetime(2019, 8, 10, 15, 21, tzinfo=VIETNAM)
    assert article.related[1][1] == "http://www.dangcongsan.vn/thoi-su/bai-hai-500002.html"
    assert article.images == ["https://dangcongsan.vn/DATA/0/2019/08/a.jpg"]
    assert article.tags == ["tham nhũng"]


def test_gen3_placeholder_byline_query_and_truncated_og_title() -> None:
    article = extract(gen3_page(), GEN3_URL)
    assert article.title == "Hội nghị Trung ương khai mạc trọng thể tại Thủ đô Hà Nội"
    assert article.author is None
    assert article.canonical_url == (
        "https://dangcongsan.vn/thoi-su/hoi-nghi-trung-uong-khai-mac-trong-the.html"
    )
    assert article.id.startswith("p") and len(article.id) == 13
    assert article.id == extract(gen3_page(), GEN3_URL.split("?")[0]).id  # stable
    assert article.generation == 3
    assert article.paragraphs == ["Đoạn một.", "Đoạn hai."]
    assert article.related == [
        (
            "Các đại biểu dự hội nghị",
            "https://dangcongsan.vn/thoi-su/cac-dai-bieu-du-hoi-nghi-trung-uong.html",
        )
    ]
    assert article.published == datetime(2026, 11, 28, 8, 15, tzinfo=VIETNAM)


def test_gen3_canonical_without_link_drops_query() -> None:
    html = gen3_page().replace("<link rel", "<link data-x rel").replace('rel="canonical"', "")
    article = extract(html, GEN3_URL)
    assert "?" not in article.canonical_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thứ Bảy, 10/08/2019 15:21", (2019, 8, 10, 15, 21)),
        ("Thứ Bảy, 10/08/2019 - 15:21", (2019, 8, 10, 15, 21)),
        ("10/08/2019 15:21", (2019, 8, 10, 15, 21)),
        ("28/11/2026 - 08:15", (2026, 11, 28, 8, 15)),
        ("15:21 10/8/2019", (2019, 8, 10, 15, 21)),
        ("Cập nhật 10-08-2019 15h21", (2019, 8, 10, 15, 21)),
        ("2019-08-10T08:21:00Z", (2019, 8, 10, 15, 21)),
        ("2019-08-10T15:21:00+07:00", (2019, 8, 10, 15, 21)),
        ("2019-08-10 15:21", (2019, 8, 10, 15, 21)),
        ("ngày 10 tháng 8 năm 2019", (2019, 8, 10, 0, 0)),
    ],
)
def test_dates_in_vietnam_time(text: str, expected: tuple) -> None:
    parsed = parse_date(text)
    assert parsed == datetime(*expected, tzinfo=VIETNAM)
    assert parsed.utcoffset().total_seconds() == 7 * 3600


def test_no_date_is_none_not_a_guess() -> None:
    assert parse_date("Thứ Bảy") is None and parse_date("31/02/2019 10:00") is None


@pytest.mark.parametrize(
    ("builder", "url"),
    [(lambda d: gen1_page(published=d), GEN1_URL), (lambda d: gen3_page(when=d), GEN3_URL)],
)
def test_dates_parsed_from_each_generation(builder, url) -> None:
    article = extract(builder("Chủ Nhật, 01/03/2020 - 07:05"), url)
    assert article.published == datetime(2020, 3, 1, 7, 5, tzinfo=VIETNAM)


@pytest.mark.parametrize(
    "placeholder",
    ["PV", "BTV", "ĐCSVN", "(ĐCSVN)", "Báo điện tử Đảng Cộng sản Việt Nam", "dangcongsan.vn",
     "PV, BTV", "Tác giả: PV"],
)  # fmt: skip
def test_placeholder_authors_are_none(placeholder: str) -> None:
    assert _clean_author(placeholder) is None
    assert extract(gen3_page(author=placeholder), GEN3_URL).author is None
    assert extract(gen1_page(byline=placeholder), GEN1_URL).author is None


def test_real_authors_are_kept() -> None:
    assert extract(gen3_page(author="Tác giả: Thu Hà"), GEN3_URL).author == "Thu Hà"
    assert _clean_author("Phạm Văn Bình (TTXVN)") == "Phạm Văn Bình (TTXVN)"


def test_video_page_is_flagged_with_title_and_lead() -> None:
    url = "https://dangcongsan.vn/multimedia/video/le-chao-co-tai-quang-truong-ba-dinh-600123.html"
    main = """<div class="detail-post"><h1 class="post-title">Lễ chào cờ tại Quảng trường</h1>
<span class="lbPublishedDate">10/08/2019 - 15:21</span><div class="post-summary">(ĐCSVN) -
Lễ chào cờ sáng nay.</div><div class="post-content"><video controls
src="https://media.dangcongsan.vn/video/le-chao-co.mp4"></video></div></div>"""
    article = extract(page(main, "<title>Video</title>"), url)
    assert render_text(article) == "Lễ chào cờ tại Quảng trường\n(ĐCSVN) - Lễ chào cờ sáng nay."
    assert article.is_video and article.no_body
    assert article.flags == ["no-body", "video"]


def test_unknown_markup_falls_back_to_generic() -> None:
    sentence = "Đây là một câu văn dài của bài báo trong bố cục mới mà chưa luật nào biết. "
    main = f"""<div class="story-v9"><h1>Một bố cục mới chưa từng thấy của trang báo</h1>
<div class="content-v9"><p>{sentence * 5}</p><p>{sentence * 4}</p></div></div>"""
    head = (
        "<title>Một bố cục mới - Báo điện tử Đảng Cộng sản Việt Nam</title>"
        '<meta name="description" content="(ĐCSVN) - Mô tả ngắn.">'
        '<meta property="article:published_time" content="2024-01-02T03:04:05Z">'
    )
    article = extract(page(main, head), "https://dangcongsan.vn/thoi-su/bo-cuc-moi-620001.html")
    assert article.method == "generic"
    assert article.title == "Một bố cục mới chưa từng thấy của trang báo"
    assert article.lead == "(ĐCSVN) - Mô tả ngắn."
    assert article.paragraphs == [(sentence * 5).strip(), (sentence * 4).strip()]
    assert article.published == datetime(2024, 1, 2, 10, 4, 5, tzinfo=VIETNAM)
    assert any("generic" in w for w in article.warnings)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\x01\x02\xff\xfe garbage", "not HTML"),
        (b"%PDF-1.4 1 0 obj", "not HTML"),
        (b'{"title": "json"}', "not HTML"),
        ("<html><body><p>Một đoạn không có tiêu đề.</p></body></html>", "no title"),
        ("", "not HTML"),
    ],
)
def test_garbage_raises_extraction_error(content, reason) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract(content, GEN1_URL)


def test_bytes_decoded_by_meta_charset() -> None:
    html = gen1_page().replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    title = "Tội phạm về tham nhũng vẫn rất\nphức tạp"
    legacy = html.replace(title, "Café crème").encode("cp1252", errors="ignore")
    assert extract(legacy, GEN1_URL).title == "Café crème"  # é is not UTF-8 here
    assert extract(gen1_page().encode("utf-8"), GEN1_URL).title.startswith("Tội phạm")


def test_mirror_url_maps_to_live_identity() -> None:
    mirror = "http://127.0.0.1:8765/thoi-su/toi-pham-ve-tham-nhung-van-rat-phuc-tap-533819.html"
    article = extract(gen1_page(), mirror)
    assert article.canonical_url == GEN1_URL and article.url == mirror


def test_render_text_folds_white_space_and_has_no_trailing_newline() -> None:
    article = Article(
        url="u", canonical_url="u", id="1", title=" Tiêu\u00a0đề ", lead="(ĐCSVN) -  Sapo\t",
        related=[("Liên\u00a0quan", "https://dangcongsan.vn/a-1.html")],
        paragraphs=[unicodedata.normalize("NFD", "Đoạn  một"), "  ", "Đoạn hai\n"],
    )  # fmt: skip
    text = render_text(article)
    assert text == "Tiêu đề\n(ĐCSVN) - Sapo\n- Liên quan\nĐoạn một\nĐoạn hai"
    assert unicodedata.is_normalized("NFC", text)


def test_fold_is_nfc_with_every_run_of_white_space_one_space() -> None:
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    pieces = ["Đoạn", "mo\u0301t", "\u0301", "\u200b", "a", "", *spaces]
    texts = [a + b + c for a in pieces for b in pieces for c in (" ", "x", "\u00a0")]
    for text in texts:  # the fast path for folded texts included
        words = unicodedata.normalize("NFC", text).split()
        assert fold(text) == " ".join(words), repr(text)
    assert fold(fold("  Tiêu\u00a0 đề\n")) == fold("  Tiêu\u00a0 đề\n") == "Tiêu đề"


def test_inline_text_is_the_folded_lines_on_one_line() -> None:
    tree = lxml.html.fragment_fromstring(
        "<div> Một <b>dòng</b><br>\u0301hai<p>ba\u00a0 <i>bốn</i></p><script>x</script> </div>"
    )
    assert lines(tree) == ["Một dòng", "\u0301hai", "ba bốn"]
    assert inline_text(tree) == fold(" ".join(lines(tree))) == "Một dòng \u0301hai ba bốn"


def test_italic_caption_below_an_image_is_not_text() -> None:
    html = gen1_page().replace(
        "<p>Dòng ba A.",
        '<p style="text-align:center"><img src="/DATA/0/b.jpg"></p>'
        '<p style="text-align:center"><em>Các đại biểu dự hội nghị. (Ảnh: TTXVN)</em></p>'
        "<p><em>Một đoạn in nghiêng</em> nhưng là văn bản.</p><p>Dòng ba A.",
    )
    paragraphs = extract(html, GEN1_URL).paragraphs
    assert not any("Ảnh: TTXVN" in p for p in paragraphs)
    assert "Một đoạn in nghiêng nhưng là văn bản." in paragraphs


def test_generic_page_dated_by_a_time_element_or_a_visible_date() -> None:
    sentence = "Một câu văn đủ dài để làm thân bài của một trang có bố cục lạ. "
    body = f"<div class='x'><h1>Tiêu đề của một trang lạ</h1>{{date}}<p>{sentence * 6}</p></div>"
    timed = body.replace("{date}", '<time datetime="2021-05-06T07:08:00+07:00">hôm qua</time>')
    shown = body.replace("{date}", '<div class="meta-date">Thứ Năm, 06/05/2021 - 07:08</div>')
    for html in (timed, shown):
        article = extract(page(html, "<title>Lạ</title>"), "https://dangcongsan.vn/la-620002.html")
        assert article.method == "generic"
        assert article.published == datetime(2021, 5, 6, 7, 8, tzinfo=VIETNAM)

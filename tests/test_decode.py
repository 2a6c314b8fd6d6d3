"""Decoding a page: the charset it declares (BOM, HTTP header, <meta>), else detection; and
the ceilings past which extraction does not take a page on."""

from __future__ import annotations

import codecs
import unicodedata

import pytest
from hostile_server import windows_1258

from crawler.extract import ExtractionError, extract
from crawler.extract.html import PageLimits, charset_of, decode, parse

URL = "https://dangcongsan.vn/thoi-su/hoi-nghi-trung-uong-lan-thu-muoi-123456.html"
TITLE = "Hội nghị Trung ương lần thứ mười"
TEXT = "Sáng 28/11, tại Hà Nội, Bộ Chính trị đã họp và cho ý kiến về nhiều nội dung quan trọng."


# Enough running text that the page reads as an article whatever finds its body.
MORE = "".join(
    f"<p>Đại hội đề ra những định hướng lớn cho giai đoạn {n}, với các mục tiêu cụ thể về phát "
    "triển kinh tế, xã hội, quốc phòng và an ninh của đất nước.</p>"
    for n in range(1, 5)
)


def page(meta: str = "") -> str:
    return (
        f"<html><head>{meta}<title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
        f"<article><p>{TEXT}</p>{MORE}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=windows-1258", "windows-1258"),
        ('text/html;charset="UTF-8"', "UTF-8"),
        (b"text/html; Charset=utf-8; foo=bar", "utf-8"),
        ("text/html", None),
        (None, None),
    ],
)
def test_the_charset_of_a_content_type_header(content_type, charset) -> None:
    assert charset_of(content_type) == charset


def test_the_header_charset_reads_a_page_without_meta() -> None:
    text, warnings = decode(windows_1258(page()), "windows-1258")
    assert TEXT in unicodedata.normalize("NFC", text) and not warnings
    assert extract(windows_1258(page()), URL, encoding="windows-1258").title == TITLE


def test_the_header_charset_wins_over_meta() -> None:
    html = windows_1258(page('<meta charset="utf-8">'))
    assert extract(html, URL, encoding="windows-1258").paragraphs[0] == TEXT


def test_meta_is_read_when_the_header_names_no_charset_python_knows() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'
    html = windows_1258(page(meta))
    article = extract(html, URL, encoding="x-no-such-charset")
    assert article.title == TITLE
    assert "unknown charset 'x-no-such-charset' in the HTTP header, ignored" in article.warnings


def test_an_undeclared_non_utf8_page_is_read_in_the_charset_detected() -> None:
    article = extract(windows_1258(page()), URL)
    assert article.title == TITLE and article.paragraphs[0] == TEXT
    assert any("detected" in warning for warning in article.warnings)


def test_an_undeclared_utf8_page_is_read_as_utf8_without_detection() -> None:
    assert decode(page().encode("utf-8")) == (page(), [])


def test_a_byte_order_mark_wins_over_everything() -> None:
    text, _ = decode(codecs.BOM_UTF8 + page().encode("utf-8"), "windows-1258")
    assert TITLE in text


def test_extract_still_takes_html_and_url_alone() -> None:
    assert extract(page().encode("utf-8"), URL).title == TITLE


def test_a_page_over_the_byte_ceiling_is_not_extracted() -> None:
    with pytest.raises(ExtractionError, match="EXTRACT_MAXSIZE"):
        extract(page().encode(), URL, limits=PageLimits(max_bytes=100))


def test_a_page_of_too_many_elements_is_not_extracted() -> None:
    crowded = page().replace("</article>", "<i>x</i>" * 30_000 + "</article>")
    with pytest.raises(ExtractionError, match="EXTRACT_MAX_ELEMENTS"):
        extract(crowded.encode(), URL)
    assert parse(crowded, PageLimits(max_elements=0)) is not None  # 0: no limit

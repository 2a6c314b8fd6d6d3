"""The sites of dangcongsan.vn as profiles (crawler.site), and what is read from the documents
portal and the editions without a crawl: document metadata, PDF text layers, an edition's
lead and original. The crawls themselves are in test_sites_crawl.py."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from importlib import resources

import lxml.html
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.extract import extract
from crawler.extract.attachment import write_file_text
from crawler.extract.document import document_fields, issue_date
from crawler.extract.pdf import PAGE_BREAK, is_pdf, pdf_text
from crawler.replica import ReplicaSite
from crawler.replica.documents import SCANNED
from crawler.site import Kind, Site, Sites, profile_of, profiles_named
from crawler.spiders.dangcongsan import DangcongsanSpider
from crawler.state import Capture, CrawlState

MIRROR = "http://127.0.0.1:8000"
DOCS = "https://tulieuvankien.dangcongsan.vn"


def replica_file(name: str) -> bytes:
    return resources.files("crawler.replica").joinpath("data", "files", name).read_bytes()


# -- profiles ------------------------------------------------------------------------------
def test_site_names_read_one_several_or_all_and_refuse_an_unknown_one():
    assert [p.name for p in profiles_named("main")] == ["main"]
    assert [p.name for p in profiles_named("en,documents,en")] == ["en", "documents"]
    assert [p.name for p in profiles_named("all")] == ["main", "documents", "en", "fr", "cn"]
    with pytest.raises(ValueError, match="unknown site 'de'"):
        profiles_named("de")


def test_each_url_is_handled_by_its_own_hosts_profile():
    assert profile_of(f"{DOCS}/a/b-1").name == "documents"
    assert profile_of("https://cn.dangcongsan.vn/").language == "zh"
    assert profile_of("https://www.dangcongsan.vn/x").name == "main"
    assert profile_of(MIRROR + "/x").name == "main"  # a mirror stands for the newspaper


def test_the_documents_portal_knows_documents_books_files_and_lists_paged_from_zero():
    site = Site(profile=profiles_named("documents")[0])
    assert site.classify(f"{DOCS}/he-thong-van-ban/van-ban/thong-tu-6587") is Kind.ARTICLE
    assert site.classify(f"{DOCS}/a/b/slug-1528?categoryId=3") is Kind.ARTICLE
    assert site.classify(f"{DOCS}/van-kien/book/sach-chinh-tri/tap-1-403") is Kind.ARTICLE
    assert site.classify(f"{DOCS}/upload/2005/20200715/x.pdf") is Kind.FILE
    assert site.classify(f"{DOCS}/Uploads/2021/3/5/van-kien.pdf") is Kind.FILE
    assert site.classify(f"{DOCS}/Uploads/2021/3/5/photo.jpg") is Kind.FILE
    assert site.classify(f"{DOCS}/c-mac/ho-chi-minh/tac-pham?page=0") is Kind.LIST
    assert site.first_page == 0
    # A list keeps what names it (categoryId) and its page; a document drops its query.
    assert site.canonical(f"http://{DOCS[8:]}/a/b?categoryId=5&page=2&utm_source=x") == (
        f"{DOCS}/a/b?categoryId=5&page=2"
    )
    assert site.canonical(f"{DOCS}/a/b/slug-1528?categoryId=3") == f"{DOCS}/a/b/slug-1528"


def test_against_a_mirror_other_sites_are_asked_of_it_by_name_and_archived_under_theirs():
    sites = Sites(MIRROR, profiles_named("all"))
    fetch = sites.fetch_url(f"{DOCS}/a/b/slug-1528")
    assert fetch == "http://tulieuvankien.dangcongsan.vn/a/b/slug-1528"
    assert sites.proxies()["tulieuvankien.dangcongsan.vn"] == MIRROR
    assert sites.archive_url(fetch) == f"{DOCS}/a/b/slug-1528"
    assert sites.fetch_url("https://dangcongsan.vn/thoi-su/x-533819.html") == (
        MIRROR + "/thoi-su/x-533819.html"
    )
    live = Sites(profiles=profiles_named("en"))
    assert live.fetch_url("https://en.dangcongsan.vn/a/b-1.html") == (
        "https://en.dangcongsan.vn/a/b-1.html"
    )
    assert live.proxies() == {}


def test_a_crawl_of_some_sites_leaves_the_others_out_but_fetches_the_image_cdns():
    en = Sites(MIRROR, profiles_named("en"))
    assert en.fetch_url("https://dangcongsan.vn/thoi-su/x-533819.html") is None
    assert en.fetch_url("https://file1.dangcongsan.vn/DATA/3/a.jpg") is not None
    main = Sites(MIRROR)
    assert main.fetch_url("https://en.dangcongsan.vn/") is None  # as before the profiles
    assert main.start_urls() == [MIRROR + "/", MIRROR + "/sitemap.xml", MIRROR + "/rss"]


# -- document metadata ------------------------------------------------------------------------
def tree(html: str):
    return lxml.html.fromstring(html)


def test_document_fields_are_read_from_a_table_of_labels():
    page = tree(
        "<div><table><tr><td>Số hiệu</td><td>17/2020/TT-BGDĐT</td></tr>"
        "<tr><td>Cơ quan ban hành:</td><td>Bộ Giáo dục và Đào tạo</td></tr>"
        "<tr><td>Ngày ban hành</td><td>15/07/2020</td></tr></table></div>"
    )
    assert document_fields(page, "Thông tư", []) == {
        "number": "17/2020/TT-BGDĐT",
        "issuer": "Bộ Giáo dục và Đào tạo",
        "issued": "2020-07-15",
    }


def test_document_fields_are_read_from_a_definition_list_and_labelled_lines():
    page = tree(
        "<div><dl><dt>Ký hiệu:</dt><dd>43-NQ/TW</dd></dl>"
        "<p><b>Ngày ký:</b> ngày 24 tháng 11 năm 2023</p><p>Người ký: Nguyễn Văn A</p></div>"
    )
    assert document_fields(page, "Nghị quyết", []) == {
        "number": "43-NQ/TW",
        "issued": "2023-11-24",
        "signer": "Nguyễn Văn A",
    }


def test_document_fields_are_read_from_the_documents_own_heading_when_no_label_says():
    lines = ["BAN CHẤP HÀNH TRUNG ƯƠNG", "ĐẢNG CỘNG SẢN VIỆT NAM", "Số 102-KL/TW",
             "Hà Nội, ngày 22 tháng 9 năm 2024", "Bộ Chính trị kết luận như sau."]  # fmt: skip
    assert document_fields(tree("<div></div>"), "Kết luận", lines) == {
        "number": "102-KL/TW",
        "issuer": "BAN CHẤP HÀNH TRUNG ƯƠNG",
        "issued": "2024-09-22",
    }
    title = "Quyết định số 12/2022/QĐ-TTg về công tác lưu trữ"
    assert document_fields(tree("<div></div>"), title, [])["number"] == "12/2022/QĐ-TTg"


def test_a_field_the_page_does_not_state_is_left_out_never_guessed():
    assert document_fields(tree("<p>Một bài viết không có số.</p>"), "Bài viết", ["Văn bản"]) == {}
    assert issue_date("ngày 31 tháng 2 năm 2020") is None  # no such day


# -- PDFs -----------------------------------------------------------------------------------
def test_a_pdfs_text_layer_is_read_page_by_page_with_its_diacritics():
    found = pdf_text(replica_file("thong-tu-17-2020-tt-bgddt.pdf"))
    assert found.page_count == 3 and found.has_text_layer
    assert found.pages[0].splitlines()[:2] == ["BỘ GIÁO DỤC VÀ ĐÀO TẠO", "Số: 17/2020/TT-BGDĐT"]
    text = found.render()
    assert text.split(PAGE_BREAK) == list(found.pages)
    assert unicodedata.is_normalized("NFC", text)
    assert "Điều 2. Hiệu lực thi hành" in found.pages[2]


def test_a_scanned_pdf_has_no_text_layer_and_no_text_is_made_up():
    found = pdf_text(replica_file(SCANNED.rsplit("/", 1)[-1]))
    assert found.page_count == 2
    assert not found.has_text_layer and found.pages == ("", "")


def test_a_pdf_is_told_by_its_bytes_not_by_what_the_server_calls_it():
    data = replica_file("cuong-linh-2011.pdf")
    assert is_pdf(data, "application/octet-stream")
    assert not is_pdf(b"<html>", "application/pdf")


# -- editions ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def replica():
    return ReplicaSite(seed=1, per_generation=3)


def edition_page(replica, host: str, number: int):
    edition = replica.sisters[host]
    path = edition.stories[number][0]
    return f"https://{host}{path}", edition.page(path).body


def test_an_editions_article_is_read_with_its_lead_language_and_original(replica):
    url, html = edition_page(replica, "en.dangcongsan.vn", 0)
    article = extract(html, url)
    assert article.site == "en" and article.language == "en"
    assert article.lead.startswith("The General Secretary met voters of Hanoi")
    assert article.paragraphs[0].startswith("Voters raised questions")
    assert article.published is not None
    original = replica.sisters["en.dangcongsan.vn"].stories[0][4]
    assert article.original == {"url": original.url, "id": original.id}
    assert "no-lead" not in article.suspicions


def test_chinese_text_is_kept_as_written_nfc_and_unfolded(replica):
    url, html = edition_page(replica, "cn.dangcongsan.vn", 0)
    article = extract(html, url)
    assert article.language == "zh"
    assert article.title == "越共中央总书记在河内会见选民"
    assert article.lead.startswith("越共中央总书记周六在河内会见选民，")
    assert all(unicodedata.is_normalized("NFC", p) for p in article.paragraphs)


def test_an_edition_article_naming_no_original_has_none(replica):
    url, html = edition_page(replica, "en.dangcongsan.vn", 2)
    article = extract(html, url)
    assert article.original is None
    assert "no link to a Vietnamese original" in article.warnings


def test_a_file_met_without_its_page_goes_beside_the_document_that_lists_it(tmp_path):
    pdf = f"{DOCS}/upload/2005/20110116/cuong-linh-2011.pdf"
    document = f"{DOCS}/a/b/cuong-linh-1528"
    folder = tmp_path / "documents"
    folder.mkdir()
    sidecar = {"canonical_url": document, "attachments": [{"title": "Tải về", "url": pdf}]}
    (folder / "1528.json").write_text(json.dumps(sidecar), encoding="utf-8")
    data = replica_file("cuong-linh-2011.pdf")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    written = write_file_text(
        data, tmp_path, url=pdf, canonical=pdf, document=None, content_type="", fetched_at=when
    )
    assert written.text == folder / "1528.cuong-linh-2011.pdf.txt"
    assert json.loads(written.sidecar.read_text())["document"] == document
    alone = f"{DOCS}/Uploads/2021/3/5/lone.pdf"
    written = write_file_text(
        data, tmp_path, url=alone, canonical=alone, document=None, content_type="", fetched_at=when
    )
    assert written.text == folder / "files" / "lone.pdf.txt"


PARAGRAPH = "Đoạn văn thứ {n} của bài báo, đủ dài để được đọc như một đoạn văn của thân bài."


def standing_page(before: str) -> str:
    body = "".join(f"<p>{PARAGRAPH.format(n=n)}</p>" for n in range(2, 6))
    return (
        "<html><head><title>Tiêu đề bài viết thử nghiệm</title></head><body><article>"
        f"<h1>Tiêu đề bài viết thử nghiệm</h1>{before}"
        f"<p>{'Đoạn đứng riêng trước thân bài, một câu dài như một lời dẫn của bài viết. ' * 3}"
        f"</p><div>{body}</div></article></body></html>"
    )


def test_a_paragraph_standing_apart_before_the_body_is_the_lead_when_none_is_marked():
    article = extract(standing_page(""), "https://en.dangcongsan.vn/politics/a-b-c-d-800009.html")
    assert article.lead.startswith("Đoạn đứng riêng trước thân bài")
    assert article.paragraphs[0] == PARAGRAPH.format(n=2)


def test_a_paragraph_standing_apart_stays_in_the_body_when_the_page_marks_its_lead():
    marked = "<div>(ĐCSVN) - Lời dẫn của bài viết, có dấu của báo ở đầu như mọi bài.</div>"
    article = extract(standing_page(marked), "https://dangcongsan.vn/thoi-su/a-b-c-d-533819.html")
    assert article.lead.startswith("(ĐCSVN) - Lời dẫn")
    assert article.paragraphs[0].startswith("Đoạn đứng riêng trước thân bài")


def test_an_archived_file_is_not_fetched_again_wherever_it_is_linked(tmp_path):
    pdf = f"{DOCS}/upload/2005/20110116/cuong-linh-2011.pdf"
    state = CrawlState.open(tmp_path)
    state.record_capture(pdf, Capture(200, datetime.now(UTC), record_id="<r>"))
    state.close()
    settings = {"BASE_URL": MIRROR, "OUT_DIR": str(tmp_path), "SITES": "documents"}
    spider = DangcongsanSpider.from_crawler(get_crawler(DangcongsanSpider, settings_dict=settings))
    assert spider.incremental
    url = f"http://{DOCS[8:]}/a/b"
    page = HtmlResponse(url, body=b"<html></html>", request=Request(url, meta={"kind": "list"}))
    assert spider.request(pdf, found_on=page) is None
    other = f"{DOCS}/Uploads/2021/3/5/van-kien-dai-hoi-tap-1.pdf"
    request = spider.request(other, found_on=page)
    assert request.meta["kind"] == "file" and request.meta["document"] is None
    assert request.meta["download_maxsize"] == spider.file_maxsize
    assert request.url == f"http://{DOCS[8:]}/Uploads/2021/3/5/van-kien-dai-hoi-tap-1.pdf"


def test_each_sites_politeness_becomes_the_download_slot_of_its_host(tmp_path):
    from crawler.crawl import CrawlOptions, build_settings

    def slots(*args: str, site: str | None = None) -> dict:
        options = CrawlOptions(out_dir=tmp_path, site=site, settings=list(args), verbose=True)
        return build_settings(options).getdict("DOWNLOAD_SLOTS")

    assert slots() == {}  # the newspaper alone: as before the profiles
    assert slots(site="all") == {"tulieuvankien.dangcongsan.vn": {"concurrency": 2}}
    mine = 'DOWNLOAD_SLOTS={"tulieuvankien.dangcongsan.vn": {"concurrency": 1, "delay": 5}}'
    assert slots(mine, site="documents")["tulieuvankien.dangcongsan.vn"]["delay"] == 5


def test_two_files_of_one_name_beside_one_document_are_both_kept(tmp_path):
    data = replica_file("cuong-linh-2011.pdf")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    document = f"{DOCS}/a/b/cuong-linh-1528"
    paths = []
    for folder in ("2011", "2012", "2011"):  # the first one again: the same file
        url = f"{DOCS}/upload/{folder}/ban-in.pdf"
        written = write_file_text(data, tmp_path, url=url, canonical=url, document=document,
                                  content_type="", fetched_at=when)  # fmt: skip
        paths.append(written.sidecar.name)
    assert paths[0] == paths[2] == "1528.ban-in.pdf.json"
    assert paths[1].startswith("1528.ban-in.pdf-") and paths[1] != paths[0]


def test_an_original_written_out_unlinked_is_found_too(replica):
    url, html = edition_page(replica, "fr.dangcongsan.vn", 0)
    assert b'<div class="origin-link">Version vietnamienne : https://' in html
    article = extract(html, url)
    original = replica.sisters["fr.dangcongsan.vn"].stories[0][4]
    assert article.language == "fr" and article.original == {"url": original.url, "id": original.id}


def test_an_editions_own_url_written_out_is_no_original():
    html = standing_page("<p>Link: https://en.dangcongsan.vn/politics/a-b-c-d-800009.html</p>")
    article = extract(html, "https://en.dangcongsan.vn/politics/a-b-c-d-800009.html")
    assert article.original is None

"""Crawls of the replica's documents portal and editions, alone and all sites together into
one archive folder: texts and sidecars, attached PDFs byte for byte in the WARC files, their
text with page breaks, the scan flagged, edition articles linked to their originals, and the
research tools filtered by site."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import zipfile
from importlib import resources

import pytest
from crawl_support import crawl, dcs, records

from crawler.extract.pdf import PAGE_BREAK, pdf_text
from crawler.replica import ReplicaServer, ReplicaSite
from crawler.replica.documents import HOST as DOCUMENTS_HOST
from crawler.replica.documents import SCANNED
from crawler.state import CrawlState

DOCS = f"https://{DOCUMENTS_HOST}"
EDITION_HOSTS = ("en.dangcongsan.vn", "fr.dangcongsan.vn", "cn.dangcongsan.vn")


def host_of(entry) -> str:
    return entry.request_headers.get("Host", "").rsplit(":", 1)[0]


def sidecar(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def report(out) -> dict:
    return json.loads(max((out / "reports").glob("crawl-*.json")).read_text())


@pytest.fixture(scope="module")
def replica():
    site = ReplicaSite(seed=1, per_generation=3)
    with ReplicaServer(site) as server:
        yield site, server


def crawl_alone(replica, tmp_path_factory, name: str):
    """A crawl of one site into a folder of its own, and what the replica was asked."""
    _site, server = replica
    out = tmp_path_factory.mktemp(name) / "archive"
    server.clear_log()
    crawl(server.base_url, out, "--site", name)
    return out, server.log


@pytest.fixture(scope="module")
def documents(replica, tmp_path_factory):
    return (
        replica[0].sisters[DOCUMENTS_HOST],
        *crawl_alone(replica, tmp_path_factory, "documents"),
    )


@pytest.fixture(scope="module")
def english(replica, tmp_path_factory):
    return (replica[0], *crawl_alone(replica, tmp_path_factory, "en"))


@pytest.fixture(scope="module")
def everything(replica, tmp_path_factory):
    """All sites into one folder, then once more (incremental): what the second run asked."""
    site, server = replica
    out = tmp_path_factory.mktemp("all") / "archive"
    crawl(server.base_url, out, "--site", "all")
    server.clear_log()
    crawl(server.base_url, out, "--site", "all")
    return site, out, server.log


# -- the documents portal ---------------------------------------------------------------------
def test_every_document_and_book_page_is_archived_as_text_with_its_sidecar(documents):
    portal, out, _ = documents
    folder = out / "text" / "documents"
    for document in portal.documents:
        ident = f"book-{document.id}" if document.book else str(document.id)
        text = (folder / f"{ident}.txt").read_text(encoding="utf-8").splitlines()
        assert text[0] == document.title
        assert document.body[-1] in text  # the body, to its last paragraph
        meta = sidecar(folder / f"{ident}.json")
        assert meta["site"] == "documents" and meta["language"] == "vi"
        assert meta["canonical_url"] == DOCS + document.path
        assert meta["category"] == document.listing.name  # its breadcrumb
        if document.lead:
            assert text[1] == document.lead == meta["lead"]
        if document.file:
            assert meta["attachments"][0]["url"] == DOCS + document.file


def test_document_metadata_is_found_in_a_table_a_definition_list_or_the_heading(documents):
    _, out, _ = documents
    folder = out / "text" / "documents"
    assert sidecar(folder / "6587.json")["document"] == {
        "number": "17/2020/TT-BGDĐT",
        "issuer": "Bộ Giáo dục và Đào tạo",
        "issued": "2020-07-15",
        "type": "Thông tư",
    }
    assert sidecar(folder / "7001.json")["document"] == {
        "number": "43-NQ/TW",
        "issuer": "Ban Chấp hành Trung ương",
        "issued": "2023-11-24",
    }
    assert sidecar(folder / "7002.json")["document"] == {
        "number": "102-KL/TW",
        "issuer": "BAN CHẤP HÀNH TRUNG ƯƠNG",
        "issued": "2024-09-22",
    }
    assert sidecar(folder / "1528.json")["document"] == {"issued": "2011-01-16"}
    assert sidecar(folder / "6601.json")["document"] == {"number": "12/2022/QĐ-TTg"}


def test_lists_are_paged_from_page_zero_until_a_page_brings_nothing(documents):
    portal, out, log = documents
    asked = {e.path for e in log if host_of(e) == DOCUMENTS_HOST}
    laws = "/he-thong-van-ban/van-ban-quy-pham-phap-luat"
    assert {laws, f"{laws}?page=1", f"{laws}?page=2"} <= asked  # page 2: empty, the end
    assert f"{laws}?page=0" not in asked and f"{laws}?page=3" not in asked
    # Found on page 1 only: the home page links none of them.
    assert (out / "text" / "documents" / "6602.json").exists()


def test_attached_pdfs_are_in_the_warc_files_byte_for_byte(documents):
    portal, out, _ = documents
    responses = {r.uri: r for r in records(out / "warc") if r.type == "response"}
    for path in portal.files:
        data = resources.files("crawler.replica").joinpath("data", "files", path.rsplit("/")[-1])
        record = responses[DOCS + path]
        assert record.headers["content-type"] == "application/pdf"
        assert record.payload_sha1 == hashlib.sha1(data.read_bytes()).hexdigest()


def test_a_pdfs_text_is_written_beside_its_document_with_page_breaks(documents):
    _, out, _ = documents
    folder = out / "text" / "documents"
    name = "thong-tu-17-2020-tt-bgddt.pdf"
    text = (folder / f"6587.{name}.txt").read_text(encoding="utf-8")
    pages = text.split(PAGE_BREAK)
    assert len(pages) == 3 and pages[0].startswith("BỘ GIÁO DỤC VÀ ĐÀO TẠO\nSố: 17/2020/TT-BGDĐT")
    assert unicodedata.is_normalized("NFC", text)
    data = resources.files("crawler.replica").joinpath("data", "files", name).read_bytes()
    assert text == pdf_text(data).render()
    meta = sidecar(folder / f"6587.{name}.json")
    assert meta["pages"] == 3 and meta["flags"] == [] and meta["page_break"] == "\f"
    assert meta["document"].endswith("-6587") and meta["size"] == len(data)
    # the text is in the WARC files too, as a conversion record of the PDF's response
    conversions = [r for r in records(out / "warc") if r.type == "conversion"]
    assert any(r.uri == f"{DOCS}/upload/2005/20200715/{name}" for r in conversions)


def test_a_book_page_is_archived_with_its_pdf(documents):
    _, out, _ = documents
    folder = out / "text" / "documents"
    assert (folder / "book-403.txt").read_text(encoding="utf-8").startswith("Văn kiện Đại hội")
    book = (folder / "book-403.van-kien-dai-hoi-tap-1.pdf.txt").read_text(encoding="utf-8")
    assert book.count(PAGE_BREAK) == 2 and "LỜI NHÀ XUẤT BẢN" in book


def test_a_scanned_pdf_is_flagged_in_its_sidecar_and_the_report_not_guessed(documents):
    _, out, _ = documents
    stem = out / "text" / "documents" / "7001.nghi-quyet-43-ban-chup.pdf"
    meta = sidecar(stem.with_name(stem.name + ".json"))
    assert meta["flags"] == ["no-text-layer"] and meta["pages"] == 2 and meta["sha1"] is None
    assert not stem.with_name(stem.name + ".txt").exists()
    flagged = report(out)["no_text_layer"]
    assert [entry["url"].rsplit("/", 1)[-1] for entry in flagged] == [SCANNED.rsplit("/")[-1]]
    assert report(out)["files"] == 5
    assert report(out)["suspect_texts"]["articles"] == []  # the generic path is no drift here


def test_a_documents_crawl_asks_the_mirror_for_the_portal_by_name_only(documents):
    _, out, log = documents
    assert {host_of(e) for e in log} == {DOCUMENTS_HOST}
    assert "/robots.txt" in [e.path for e in log]  # its own robots.txt, read first
    uris = {r.uri for r in records(out / "warc") if r.type == "response"}
    assert f"{DOCS}/robots.txt" in uris and all(u.startswith(DOCS) for u in uris)


def test_dcs_extract_rebuilds_the_documents_and_their_pdf_texts_from_the_warc_files(
    documents, tmp_path
):
    _, out, _ = documents
    result = dcs("extract", str(out / "warc"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "files: 5 attached files read, 1 PDFs without a text layer" in result.stdout

    def texts(root):
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*.txt")}

    assert texts(tmp_path / "text") == texts(out / "text")
    scan = tmp_path / "text" / "documents" / "7001.nghi-quyet-43-ban-chup.pdf.json"
    assert sidecar(scan)["flags"] == ["no-text-layer"]
    assert sidecar(scan)["document"].endswith("-7001")


def test_a_file_over_file_maxsize_is_archived_as_its_headers_and_listed(replica, tmp_path):
    _, server = replica
    out = tmp_path / "archive"
    crawl(server.base_url, out, "--site", "documents", "-s", "FILE_MAXSIZE=4000")
    cut = {e["url"].rsplit("/", 1)[-1] for e in report(out)["ceilings"]}
    assert cut == {"cuong-linh-2011.pdf", "thong-tu-17-2020-tt-bgddt.pdf",
                   "ket-luan-102-kl-tw.pdf", "van-kien-dai-hoi-tap-1.pdf"}  # fmt: skip
    assert not list((out / "text" / "documents").glob("*.pdf.txt"))
    assert report(out)["files"] == 1  # the scan, 1,880 bytes, is under the ceiling
    truncated = [
        r for r in records(out / "warc") if r.uri.endswith(".pdf") and r.type == "response"
    ]
    assert {r.warc_headers.get("WARC-Truncated") for r in truncated} == {"length", None}


# -- an edition -------------------------------------------------------------------------------
def test_an_english_crawl_archives_its_articles_with_language_and_original(english):
    site, out, log = english
    assert {host_of(e) for e in log} == {"en.dangcongsan.vn"}
    assert {"/robots.txt", "/", "/rss", "/sitemap.xml"} <= {e.path for e in log}  # its starts
    edition = site.sisters["en.dangcongsan.vn"]
    texts = {p.stem: p for p in (out / "text" / "en").rglob("*.txt")}
    assert len(texts) == len(edition.stories)
    for path, title, lead, body, original, _when in edition.stories:
        number = path.rsplit("-", 1)[-1].removesuffix(".html")
        lines = texts[number].read_text(encoding="utf-8").splitlines()
        assert lines == [title, lead, *body]  # the lead found by what it is: no "(ĐCSVN)"
        meta = sidecar(texts[number].with_suffix(".json"))
        assert meta["language"] == "en" and meta["site"] == "en"
        assert meta["original"] == ({"url": original.url, "id": original.id} if original else None)
        assert meta["published"] is not None
    assert report(out)["suspect_texts"]["articles"] == []  # every lead found, no drift
    # its pictures, on its own host, archived under it
    uris = {r.uri for r in records(out / "warc") if r.type == "response"}
    images = edition.urls()["image"]
    assert {f"https://en.dangcongsan.vn{path}" for path in images} <= uris


# -- all sites in one archive -----------------------------------------------------------------
def test_all_sites_share_one_folder_one_state_store_and_one_search_index(everything):
    site, out, _ = everything
    folders = {p.name for p in (out / "text").iterdir()}
    assert {"documents", "en", "fr", "cn"} <= folders
    assert any(name.isdigit() for name in folders)  # the newspaper's day folders
    state = CrawlState.open(out)
    try:
        for url in (f"{DOCS}/", "https://en.dangcongsan.vn/", "https://dangcongsan.vn/"):
            assert state.seen(url), url
        document = site.sisters[DOCUMENTS_HOST].documents[0]
        story = "https://cn.dangcongsan.vn" + site.sisters["cn.dangcongsan.vn"].stories[0][0]
        for url in (DOCS + document.path, story, site.seed_article.url):
            assert state.is_archived(url), url
    finally:
        state.close()
    hits = dcs("search", "--out", str(out), "--json", "--site", "documents", "giáo viên")
    assert hits.returncode == 0, hits.stderr
    found = [json.loads(line) for line in hits.stdout.splitlines()]
    assert found and all(h["url"].startswith(DOCS) for h in found)
    assert any(h["path"].endswith(".pdf.txt") for h in found)  # the PDFs' text is searched too
    english = dcs("search", "--out", str(out), "--json", "--site", "en", "voters")
    assert [json.loads(line)["id"] for line in english.stdout.splitlines()] == ["800001"]
    assert dcs("search", "--out", str(out), "--site", "main", "voters").stdout == ""


def test_an_article_lists_its_translations_in_every_edition(everything):
    site, out, _ = everything
    original = site.sisters["en.dangcongsan.vn"].stories[0][4]
    result = dcs("translations", "--out", str(out), "--json", original.url)
    assert result.returncode == 0, result.stderr
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["site"] for t in found] == ["en", "fr", "cn"]
    assert {t["language"] for t in found} == {"en", "fr", "zh"}
    by_id = dcs("translations", "--out", str(out), "--json", original.id)
    assert by_id.stdout == result.stdout


def test_the_dataset_export_and_changes_take_a_site(everything, tmp_path):
    _, out, _ = everything
    target = tmp_path / "fr.jsonl"
    assert dcs("export", "dataset", str(target), "--out", str(out), "--site", "fr").returncode == 0
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 2 and {r["site"] for r in rows} == {"fr"}
    assert {r["language"] for r in rows} == {"fr"}
    assert sum(1 for r in rows if r["original_url"]) == 1
    documents = tmp_path / "documents.jsonl"
    dcs("export", "dataset", str(documents), "--out", str(out), "--site", "documents")
    rows = [json.loads(line) for line in documents.read_text().splitlines()]
    numbers = {r["document_number"] for r in rows}
    assert "17/2020/TT-BGDĐT" in numbers
    assert {r["attached_to"] for r in rows if r["text_path"].endswith(".pdf.txt")} != {None}
    changes = dcs("changes", "--out", str(out), "--site", "documents")
    assert changes.returncode == 0 and changes.stdout == ""


def test_an_archived_pdf_is_never_fetched_again(everything):
    _, _, log = everything
    assert log  # the second crawl ran
    assert not [e.path for e in log if e.path.lower().startswith(("/upload/", "/uploads/"))]


def test_the_replay_tools_find_other_sites_captures(everything):
    _, out, _ = everything
    shown = dcs("replay", "show", "--out", str(out), f"{DOCS}{SCANNED}", "--headers")
    assert shown.returncode == 0, shown.stderr
    assert "application/pdf" in shown.stdout
    by_id = dcs("replay", "show", "--out", str(out), "6587")  # a document, by its number
    assert by_id.stdout.startswith("Thông tư số 17/2020/TT-BGDĐT"), by_id.stderr
    story = dcs("replay", "show", "--out", str(out), "820001")  # an edition's article
    assert story.stdout.startswith("越共中央总书记在河内会见选民"), story.stderr


def test_a_wacz_export_lists_the_pages_of_every_site(everything, tmp_path):
    _, out, _ = everything
    wacz = tmp_path / "all.wacz"
    assert dcs("export", "wacz", str(wacz), "--out", str(out)).returncode == 0
    with zipfile.ZipFile(wacz) as archive:
        lines = archive.read("pages/pages.jsonl").decode("utf-8").splitlines()[1:]
    hosts = {json.loads(line)["url"].split("/")[2] for line in lines}
    assert {"dangcongsan.vn", DOCUMENTS_HOST, *EDITION_HOSTS} <= hosts


def test_a_crawl_of_the_newspaper_alone_asks_for_no_other_site(replica, tmp_path):
    _, server = replica
    server.clear_log()
    crawl(server.base_url, tmp_path / "main")
    assert {host_of(e) for e in server.log} == {"127.0.0.1"}
    assert not (tmp_path / "main" / "text" / "en").exists()


def test_an_unknown_site_is_a_one_line_error(tmp_path):
    result = dcs("crawl", "--out", str(tmp_path / "x"), "--site", "moon")
    assert result.returncode != 0
    assert result.stderr.startswith("dcs: error: unknown site 'moon'")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x" / "warc").exists()

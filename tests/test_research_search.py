"""dcs search and its index: diacritics both ways, the query language, filters, updates."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import unicodedata
from datetime import date, datetime

import pytest
from crawl_support import dcs
from research_support import LIVE, article, at, write

from crawler.extract.dates import VIETNAM
from crawler.layout import Layout
from crawler.research.index import TextIndexer, update_index
from crawler.research.query import QueryError, parse_query
from crawler.research.search import Filters, search, snippet
from crawler.research.vietnamese import fold, searchable

SEED = article(
    "531379",
    "Hà Nội - Quảng Ninh: Thúc đẩy hợp tác, phát triển",
    [
        "Sáng 10/8, tại tỉnh Quảng Ninh, Ban Thường vụ Thành ủy Hà Nội tổ chức hội nghị.",
        "Đồng chí Nguyễn Văn Đọc chủ trì hội nghị về đường cao tốc.",
    ],
    lead="(ĐCSVN) - Hai địa phương cần tích cực hợp tác.",
    related=[("Hà Nội và Hà Nam tăng cường hợp tác", f"{LIVE}/thoi-su/ha-nam-465456.html")],
    tags=["Hà Nội", "Quảng Ninh"],
)
HANAM = article(
    "465456",
    "Hà Nội và Hà Nam tăng cường hợp tác, phát triển",
    ["Hà Nam và Hà Nội ký kết chương trình hợp tác giai đoạn mới."],
    published=datetime(2019, 7, 13, 10, 5, tzinfo=VIETNAM),
    category="Kinh tế",
    author="Minh Anh",
    tags=["Hà Nội"],
)
# A text in NFD (the site serves some), with its marks as separate characters.
NFD = article(
    "600001",
    unicodedata.normalize("NFD", "Đại hội Đảng bộ tỉnh Quảng Ninh"),
    [unicodedata.normalize("NFD", "Đại hội Đảng bộ tỉnh lần thứ XV thành công tốt đẹp.")],
    published=datetime(2020, 10, 1, 9, 0, tzinfo=VIETNAM),
    tags=["xây dựng Đảng"],
)
PLAIN = article(  # a text typed without diacritics
    "600002",
    "Quang Ninh don khach du lich",
    ["Tinh Quang Ninh don hon 1 trieu luot khach."],
    published=datetime(2021, 5, 2, 9, 0, tzinfo=VIETNAM),
    category="Du lịch",
)


@pytest.fixture
def archive(tmp_path):
    out = tmp_path / "archive"
    for a in (SEED, HANAM, NFD, PLAIN):
        write(out, a, at(1))
    return out


def ids(out, query, **options):
    return [h.id for h in search(Layout.of(out), query, **options)]


def test_a_query_without_diacritics_finds_the_text_with_them(archive):
    assert set(ids(archive, "quang ninh")) == {"531379", "600001", "600002"}
    assert ids(archive, "nguyen van doc") == ["531379"]


def test_a_query_with_diacritics_finds_the_text_without_them(archive):
    assert "600002" in ids(archive, "Quảng Ninh đón khách")


def test_d_with_stroke_folds_to_d_in_either_case(archive):
    assert ids(archive, "DUONG CAO TOC") == ["531379"]
    assert ids(archive, "đường cao tốc") == ["531379"]
    assert ids(archive, "ĐƯỜNG") == ["531379"]


def test_nfd_texts_and_nfd_queries_match_like_nfc_ones(archive):
    assert ids(archive, "đại hội đảng bộ") == ["600001"]
    assert ids(archive, unicodedata.normalize("NFD", "Đại hội Đảng bộ")) == ["600001"]
    assert ids(archive, "dai hoi dang bo") == ["600001"]


def test_every_vietnamese_letter_folds_as_sqlite_folds_it():
    letters = (
        "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
    )
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, row)")
    for letter in letters + letters.upper():
        for form in ("NFC", "NFD"):
            db.execute("DELETE FROM f")
            db.execute(
                "INSERT INTO f VALUES (?)", (searchable(unicodedata.normalize(form, letter)),)
            )
            tokens = [row[0] for row in db.execute("SELECT term FROM v")]
            assert tokens == [fold(letter)], (letter, form, tokens)


def test_phrases_match_words_in_order_only(archive):
    assert ids(archive, '"ha noi ha nam"') == []
    assert ids(archive, '"hà nam và hà nội"') == ["465456"]
    assert set(ids(archive, "ha nam ha noi")) == {"531379", "465456"}  # the related link


def test_and_or_not_and_groups(archive):
    assert set(ids(archive, "hop tac AND ha nam")) == {"531379", "465456"}
    assert set(ids(archive, '"ha nam" OR "dai hoi"')) == {"531379", "465456", "600001"}
    assert ids(archive, '"quang ninh" NOT "dai hoi" NOT khach') == ["531379"]
    assert ids(archive, '"quang ninh" -"dai hoi" -khach') == ["531379"]
    assert set(ids(archive, '(khach OR "dai hoi") tinh')) == {"600001", "600002"}
    assert ids(archive, "cao tố*") == ["531379"]


def test_hits_are_newest_first_or_by_relevance(archive):
    assert ids(archive, "quang ninh") == ["600002", "600001", "531379"]
    assert ids(archive, "quang ninh", order="oldest") == ["531379", "600001", "600002"]
    # Two words in the title outweigh two in the text.
    assert ids(archive, "ha nam", order="relevance")[0] == "465456"


def test_filters_by_day_category_author_and_tags(archive):
    def only(**filters):
        return set(ids(archive, "ha noi OR quang ninh", filters=Filters(**filters)))

    assert only(since=date(2019, 8, 10)) == {"531379", "600001", "600002"}
    assert only(until=date(2019, 8, 9)) == {"465456"}
    assert only(since=date(2019, 8, 10), until=date(2019, 8, 10)) == {"531379"}
    assert only(category="kinh-te") == {"465456"}
    assert only(category="Du lịch") == {"600002"}
    assert only(author="minh anh") == {"465456"}
    assert only(tags=("ha noi",)) == {"531379", "465456"}
    assert only(tags=("Hà Nội", "Quảng Ninh")) == {"531379"}
    assert only(tags=("xay dung dang",)) == {"600001"}


def test_limit_caps_the_hits(archive):
    assert len(ids(archive, "quang ninh", limit=2)) == 2


def test_a_hit_says_where_its_text_is_and_shows_the_match(archive):
    (hit,) = search(Layout.of(archive), "nguyen van doc")
    assert hit.url == SEED.url and hit.title == SEED.title
    assert hit.published == "2019-08-10T15:21:00+07:00"
    assert hit.path == archive / "text/2019/08/10/531379.txt"
    assert (hit.version, hit.versions, hit.current) == (1, 1, True)
    assert "«Nguyễn Văn Đọc»" in hit.snippet


def test_snippets_mark_phrases_whole_and_cut_near_the_match():
    text = "Tiêu đề\n" + "mở đầu " * 60 + "tỉnh Quảng Ninh và Hà Nội " + "kết thúc " * 60
    cut = snippet(text, parse_query('"quang ninh" ha noi').terms)
    assert "«Quảng Ninh» và «Hà Nội»" in cut
    assert cut.startswith("… ") and cut.endswith(" …") and len(cut) < 200
    assert "Tiêu đề" not in cut


def test_earlier_versions_are_searched_on_request(archive):
    write(archive, SEED, at(2), paragraphs=["Bài viết đã được biên tập lại hoàn toàn."])
    update_index(Layout.of(archive))
    assert ids(archive, "nguyen van doc") == []
    (old,) = search(Layout.of(archive), "nguyen van doc", all_versions=True)
    assert (old.version, old.versions, old.current) == (1, 2, False)
    assert old.path.name == "531379.20261101100000.txt"
    (new,) = search(Layout.of(archive), "bien tap lai")
    assert (new.version, new.current, new.path.name) == (2, True, "531379.txt")


def test_an_update_reads_only_what_changed(archive):
    layout = Layout.of(archive)
    first = update_index(layout)
    assert first.rebuilt and first.texts == 4 and first.added == 4
    again = update_index(layout)
    assert (again.added, again.removed, again.articles) == (0, 0, 0)
    write(archive, article("700001", "Tin mới về Hải Phòng", ["Cảng Hải Phòng mở rộng."]), at(3))
    write(archive, SEED, at(3), title="Hà Nội - Quảng Ninh: tiêu đề đã sửa")
    update = update_index(layout)
    # The new article, and the seed's new text; its old text was only renamed, not read.
    assert (update.added, update.articles, update.texts) == (2, 2, 6)
    assert ids(archive, "hai phong") == ["700001"]
    assert ids(archive, "tieu de da sua") == ["531379"]


def test_texts_are_indexed_one_by_one_as_a_crawl_writes_them(tmp_path):
    out = tmp_path / "archive"
    layout = Layout.of(out)
    indexer = TextIndexer(layout.text_dir, layout.search_index)
    written = write(out, SEED, at(1))
    assert not indexer.add(written)  # no index yet: built whole by the next update
    update_index(layout)
    assert indexer.add(write(out, HANAM, at(1)))
    indexer.close()
    assert ids(out, "ky ket") == ["465456"]
    # What the indexer wrote is what an update would have: it finds nothing to read.
    assert update_index(layout).added == 0


@pytest.fixture
def empty(tmp_path):
    """An archive folder with no text yet, and its search index."""
    out = tmp_path / "archive"
    update_index(Layout.of(out))
    return out


def test_a_text_indexer_that_waits_indexes_its_queue_in_one_transaction(empty):
    out, layout = empty, Layout.of(empty)
    indexer = TextIndexer(layout.text_dir, layout.search_index, wait=60)
    assert indexer.add(write(out, SEED, at(1))) and indexer.add(write(out, HANAM, at(1)))
    assert 0 < indexer.due() <= 60
    assert ids(out, "ha noi") == []  # queued, not indexed yet
    indexer.flush()
    assert indexer.due() is None and set(ids(out, "ha noi")) == {"531379", "465456"}
    assert indexer.add(write(out, PLAIN, at(2)))
    indexer.close()  # indexes what is queued
    assert ids(out, "quang ninh don khach") == ["600002"]
    assert update_index(layout).added == 0


def test_texts_queued_by_an_indexer_killed_before_it_indexed_them_are_caught_up(empty):
    out, layout = empty, Layout.of(empty)
    paths = [write(out, a, at(1)) for a in (SEED, HANAM)]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_INDEXER, str(layout.text_dir), str(layout.search_index),
         *map(str, paths)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert ids(out, "ha noi") == []  # the queue died with the process
    assert update_index(layout).added == 2  # as a crawl's catch-up or dcs index reads it
    assert set(ids(out, "ha noi")) == {"531379", "465456"}


KILLED_INDEXER = """
import os, signal, sys
from pathlib import Path
from crawler.research.index import TextIndexer
indexer = TextIndexer(Path(sys.argv[1]), Path(sys.argv[2]), wait=60)
assert all(indexer.add(Path(path)) for path in sys.argv[3:])
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_text_indexer_that_fails_once_stops_and_says_why(archive, tmp_path):
    layout = Layout.of(archive)
    update_index(layout)
    layout.search_index.write_bytes(b"not a database" * 100)
    indexer = TextIndexer(layout.text_dir, layout.search_index)
    assert not indexer.add(write(archive, HANAM, at(2)))
    assert indexer.failure and "search index" in indexer.failure
    assert not indexer.add(write(archive, HANAM, at(3)))  # not tried again


def test_texts_gone_from_the_archive_leave_the_index(archive):
    layout = Layout.of(archive)
    update_index(layout)
    for path in (archive / "text/2019/07/13").glob("465456.*"):
        path.unlink()
    update = update_index(layout)
    # Its words cannot be taken out without its text: they stay, under an id no row has.
    assert update.removed == 1 and update.retired == 1
    assert ids(archive, '"ha nam"') == ["531379"]
    assert ids(archive, "ky ket chuong trinh") == []


def test_a_text_rewritten_in_place_leaves_no_stale_hit(archive):
    layout = Layout.of(archive)
    update_index(layout)
    # A re-extraction rewrites the text file and its sidecar in place (no version kept).
    sidecar = archive / "text/2021/05/02/600002.json"
    text = archive / "text/2021/05/02/600002.txt"
    text.write_text("Quang Ninh don khach\nMot noi dung hoan toan khac.", encoding="utf-8")
    meta = json.loads(sidecar.read_text())
    meta["sha1"] = meta["versions"][0]["sha1"] = "0" * 40
    sidecar.write_text(json.dumps(meta))
    update = update_index(layout)
    assert update.retired == 1  # its old words stay in FTS under an id no row uses
    assert ids(archive, "trieu luot khach") == []
    assert ids(archive, "hoan toan khac") == ["600002"]
    rebuilt = update_index(layout, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.retired == 0 and rebuilt.texts == 4


def test_the_index_is_rebuilt_from_text_files_alone(archive):
    for sidecar in (archive / "text").rglob("*.json"):
        sidecar.unlink()
    update_index(Layout.of(archive), rebuild=True)
    (hit,) = search(Layout.of(archive), "nguyen van doc")
    assert hit.title == SEED.title  # its first line
    assert hit.published == "2019-08-10T00:00:00+07:00"  # its folder's day


def test_search_builds_a_missing_index_first(archive):
    layout = Layout.of(archive)
    assert not layout.search_index.exists()
    assert ids(archive, "quang ninh")
    assert layout.search_index.exists()


def test_bad_queries_are_one_line_errors():
    for query, message in [
        ('"quang ninh', "unbalanced quote"),
        ("NOT quang", "give words to look for"),
        ("-quang", "give words to look for"),
        ("quang OR", "expected words after OR"),
        ("OR quang", "expected words before 'OR'"),
        ("(quang ninh", "unbalanced parenthesis"),
        ("quang)", "unexpected ')'"),
        ('"–"', "no letters or digits"),
        ("   ", "empty query"),
    ]:
        with pytest.raises(QueryError, match=re.escape(message)):
            parse_query(query)


def test_words_are_quoted_so_no_query_reaches_fts5_syntax():
    query = parse_query('title:x NEAR(a b) "c" OR d*')
    # `title:x` is the phrase "title x", not a column filter; NEAR is a word.
    assert query.fts == '(("title x" AND "near" AND ("a" AND "b") AND "c") OR "d"*)'


def test_the_cli_prints_hits_and_json_lines(archive):
    result = dcs("search", "--out", str(archive), "quang", "ninh", "--limit", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("600002  2021-05-02 09:00  Quang Ninh don khach du lich")
    assert "«Quang Ninh»" in lines[2] and "(version 1 of 1)" in lines[3]
    assert "2 hits" in result.stderr
    result = dcs("search", "--out", str(archive), "--json", "--tag", "ha noi", "ha nam")
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert [h["id"] for h in hits] == ["531379", "465456"]
    assert set(hits[0]) >= {"id", "url", "title", "published", "snippet", "path", "version"}


def test_the_cli_gives_one_line_errors(archive, tmp_path):
    for args, message in [
        (["search", "--out", str(archive), '"quang'], "unbalanced quote"),
        (["search", "--out", str(archive), "x", "--since", "2019-13-01"], "expected YYYY-MM-DD"),
        (["search", "--out", str(archive), "x", "--limit", "0"], "must be at least 1"),
        (["search", "--out", str(tmp_path / "none"), "x"], "no text files"),
    ]:
        result = dcs(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("dcs: error:") and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_damaged_index_is_an_error_and_dcs_index_rebuilds_it(archive):
    layout = Layout.of(archive)
    update_index(layout)
    layout.search_index.write_bytes(b"not a database" * 100)
    result = dcs("search", "--out", str(archive), "quang")
    assert result.returncode == 2 and "search index" in result.stderr
    result = dcs("index", "--out", str(archive))
    assert result.returncode == 0, result.stderr
    assert "Search index" in result.stdout and "4 texts (rebuilt" in result.stdout
    assert ids(archive, "quang ninh")

"""dcs changes and dcs diff: edits found between versions, takedowns from the state store."""

from __future__ import annotations

import json
import os
import unicodedata
from datetime import date

import pytest
from crawl_support import dcs
from research_support import LIVE, article, at, state_with_takedowns, write

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.research.changes import find_changes
from crawler.research.corpus import find_article, parse_text, pick_version
from crawler.research.diff import diff_texts, diff_words
from crawler.research.report import render_words

STORY = article(
    "531379",
    "Hà Nội - Quảng Ninh: Thúc đẩy hợp tác",
    ["Đoạn một giữ nguyên.", "Hội nghị diễn ra tại Hạ Long.", "Đoạn ba giữ nguyên."],
    lead="(ĐCSVN) - Hai địa phương cần tích cực hợp tác.",
    related=[("Tin liên quan một", f"{LIVE}/a-1.html"), ("Tin liên quan hai", f"{LIVE}/a-2.html")],
)
OTHER = article("465456", "Một bài khác", ["Không đổi."])


@pytest.fixture
def archive(tmp_path):
    out = tmp_path / "archive"
    write(out, STORY, at(1))
    write(out, OTHER, at(1))
    # Day 2: a word of the body changed. Day 4: the title, a related link, a paragraph added.
    write(out, STORY, at(2), paragraphs=[
        "Đoạn một giữ nguyên.", "Hội nghị diễn ra tại Cẩm Phả.", "Đoạn ba giữ nguyên.",
    ])  # fmt: skip
    write(out, STORY, at(4), title="Hà Nội - Quảng Ninh: hợp tác toàn diện",
          related=STORY.related[:1], paragraphs=[
        "Đoạn một giữ nguyên.", "Hội nghị diễn ra tại Cẩm Phả.", "Đoạn ba giữ nguyên.",
        "Đoạn bốn mới thêm.",
    ])  # fmt: skip
    return out


def test_each_edit_is_one_change_with_a_summary(archive):
    changes = find_changes(Layout.of(archive))
    assert [(c.kind, c.id, c.at) for c in changes] == [
        ("edited", "531379", at(2)),
        ("edited", "531379", at(4)),
    ]
    assert changes[0].summary == "1 paragraph changed"
    assert changes[1].summary == "title changed; 1 related link removed; 1 paragraph added"
    assert changes[0].url == STORY.url
    assert changes[0].details["from"] == "20261101100000"
    assert changes[0].details["to"] == "20261102100000"


def test_takedowns_and_restorations_come_from_the_state_store(archive):
    state_with_takedowns(archive, [
        (STORY.url, "removed", at(5), 404, None),
        (OTHER.url, "removed", at(5, 12), 301, f"{LIVE}/"),
        (STORY.url, "restored", at(6), 200, None),
    ])  # fmt: skip
    before = os.listdir(archive)
    changes = find_changes(Layout.of(archive), since=date(2026, 11, 5))
    assert os.listdir(archive) == before  # read without a -wal or -shm file left behind
    assert [(c.kind, c.id) for c in changes] == [
        ("removed", "531379"), ("removed", "465456"), ("restored", "531379"),
    ]  # fmt: skip
    assert changes[0].summary == "taken down (HTTP 404)"
    assert changes[1].summary == f"taken down (redirected to {LIVE}/)"
    assert changes[2].summary == "back online (HTTP 200)"
    assert changes[0].title == "Hà Nội - Quảng Ninh: hợp tác toàn diện"  # its latest


def test_archives_without_takedown_records_have_only_edits(archive):
    state_with_takedowns(archive, [])
    with_table = find_changes(Layout.of(archive))
    (archive / "state.sqlite3").unlink()
    import sqlite3

    db = sqlite3.connect(archive / "state.sqlite3")
    db.execute("CREATE TABLE urls (url TEXT PRIMARY KEY)")  # an older state store
    db.close()
    assert [c.kind for c in find_changes(Layout.of(archive))] == ["edited", "edited"]
    assert [c.kind for c in with_table] == ["edited", "edited"]


def test_an_archive_folder_without_texts_is_an_error(tmp_path):
    result = dcs("changes", "--out", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.startswith("dcs: error: no text files in") and "\n" == result.stderr[-1]


def test_changes_are_filtered_by_day_and_kind(archive):
    state_with_takedowns(archive, [(STORY.url, "removed", at(5), 410, None)])
    layout = Layout.of(archive)
    assert [c.at for c in find_changes(layout, until=date(2026, 11, 3))] == [at(2)]
    assert [c.kind for c in find_changes(layout, kinds=("removed",))] == ["removed"]
    assert find_changes(layout, since=date(2026, 11, 7)) == []


def test_the_cli_lists_changes_as_lines_and_json(archive):
    state_with_takedowns(archive, [(STORY.url, "removed", at(5), 404, None)])
    result = dcs("changes", "--out", str(archive))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"2026-11-02 17:00  edited    531379  {STORY.url}  1 paragraph changed"
    assert lines[2] == f"2026-11-05 17:00  removed   531379  {STORY.url}  taken down (HTTP 404)"
    result = dcs("changes", "--out", str(archive), "--json", "--since", "2026-11-04")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["kind"] for r in rows] == ["edited", "removed"]
    assert rows[1]["status"] == 404 and rows[1]["at"].startswith("2026-11-05T10:00:00")


# -- diff -----------------------------------------------------------------------------------
def test_a_word_diff_marks_only_the_words_that_changed():
    words = diff_words("Hội nghị diễn ra tại Hạ Long.", "Hội nghị diễn ra tại Cẩm Phả.")
    assert render_words(words) == "Hội nghị diễn ra tại [-Hạ Long-]{+Cẩm Phả+}."


def test_spelling_and_unicode_form_are_not_changes_but_tones_are():
    old = "Hoà bình cho thuỷ sản"
    assert diff_words(old, "Hòa bình cho thủy sản") == (("=", "Hòa bình cho thủy sản"),)
    assert diff_words(old, unicodedata.normalize("NFD", old)) == (("=", old),)
    assert render_words(diff_words("hoà bình", "hoa bình")) == "[-hoà-]{+hoa+} bình"
    same = diff_texts(parse_text("Hoà\nthuỷ"), parse_text("Hòa\nthủy"))
    assert same.same_words and "spelling" in same.summary()


def test_a_rewritten_paragraph_shows_old_then_new():
    words = diff_words("Một câu hoàn toàn khác trước.", "Nội dung mới được viết lại từ đầu nhé.")
    assert words[0] == ("-", "Một câu hoàn toàn khác trước.") and words[-1][0] == "+"


def test_sections_are_labelled():
    old = parse_text("Tiêu đề\n(ĐCSVN) - Sapo.\n- Liên quan\nMột.\nHai.")
    new = parse_text("Tiêu đề mới\n(ĐCSVN) - Sapo.\nMột.\nHai đã sửa.\nBa.")
    labels = [(c.label, c.kind) for c in diff_texts(old, new).changes]
    assert labels == [
        ("title", "changed"), ("related #1", "removed"), ("body ¶2", "changed"),
        ("body ¶3", "added"),
    ]  # fmt: skip


def test_versions_are_picked_by_time(archive):
    story = find_article(archive / "text", "531379")
    assert [v.stamp for v in story.versions] == [
        "20261101100000", "20261102100000", "20261104100000",
    ]  # fmt: skip
    assert pick_version(story, None, default=-1).number == 3
    assert pick_version(story, "20261102", default=-1).number == 2  # in force that day
    assert pick_version(story, "20261103120000", default=-1).number == 2
    with pytest.raises(DcsError, match="had no text yet"):
        pick_version(story, "2025", default=-1)
    assert find_article(archive / "text", STORY.url + "?utm_source=x").key == story.key


def test_the_cli_diffs_the_last_two_versions_by_default(archive):
    result = dcs("diff", "--out", str(archive), "531379")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "--- version 2" in out and "+++ version 3" in out
    assert "title changed:\n  Hà Nội - Quảng Ninh: [-Thúc đẩy-] hợp tác {+toàn diện+}" in out
    assert "related #2 removed:\n  [-Tin liên quan hai-]" in out
    assert "body ¶4 added:\n  {+Đoạn bốn mới thêm.+}" in out
    assert "\033[" not in out  # no colour into a pipe


def test_the_cli_diffs_chosen_versions_with_colour_and_json(archive):
    result = dcs("diff", "--out", str(archive), STORY.url, "--from", "20261101", "--to",
                 "20261102", "--color", "always")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "body ¶2 changed:" in result.stdout
    assert "\033[31mHạ Long\033[0m\033[32mCẩm Phả\033[0m" in result.stdout
    result = dcs("diff", "--out", str(archive), "531379", "--json", "--from", "20261101")
    head, *changes = [json.loads(line) for line in result.stdout.splitlines()]
    assert head["from"]["version"] == 1 and head["to"]["version"] == 3
    assert {c["section"] for c in changes} == {"title", "related", "body"}


def test_the_cli_diff_gives_one_line_errors(archive):
    for args, message in [
        (["999"], "no article 999"),
        (["465456"], "has one version only"),
        (["531379", "--from", "20261104"], "not earlier than version 3"),
        (["531379", "--to", "yesterday"], "expected a time as YYYYmmddHHMMSS"),
    ]:
        result = dcs("diff", "--out", str(archive), *args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("dcs: error:") and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

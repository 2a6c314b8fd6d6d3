"""One owner of the archive's layout: WARC_DIR and TEXT_DIR are honoured by every command."""

from __future__ import annotations

import json
import zipfile

import pytest
from crawl_support import crawl, dcs

from crawler.errors import DcsError
from crawler.layout import LAYOUT_FILE, Layout
from crawler.replica import ReplicaServer, ReplicaSite


def test_a_folder_without_a_layout_file_has_the_default_layout(tmp_path):
    layout = Layout.of(tmp_path)
    assert layout.warc_dir == tmp_path / "warc"
    assert layout.text_dir == tmp_path / "text"
    assert layout.state_file == tmp_path / "state.sqlite3"
    assert layout.index_dir == tmp_path / "index"


def test_a_recorded_layout_is_read_back_relative_to_the_folder(tmp_path):
    elsewhere = tmp_path / "big-disk" / "warcs"
    layout = Layout(tmp_path / "archive", elsewhere, tmp_path / "archive" / "texts")
    layout.record()
    recorded = json.loads((tmp_path / "archive" / LAYOUT_FILE).read_text())
    assert recorded == {"warc_dir": str(elsewhere.absolute()), "text_dir": "texts"}
    # Moved whole, the folder still finds what lies inside it.
    (tmp_path / "archive").rename(tmp_path / "moved")
    again = Layout.of(tmp_path / "moved")
    assert again.text_dir == tmp_path / "moved" / "texts"
    assert again.warc_dir == elsewhere.absolute()


def test_the_default_layout_leaves_no_layout_file(tmp_path):
    Layout(tmp_path, tmp_path / "warc", tmp_path / "text").record()
    assert not (tmp_path / LAYOUT_FILE).exists()


def test_a_damaged_layout_file_is_a_one_line_error(tmp_path):
    (tmp_path / LAYOUT_FILE).write_text('{"warc_dir": 5}')
    with pytest.raises(DcsError, match="not a dcs layout file"):
        Layout.of(tmp_path)
    (tmp_path / LAYOUT_FILE).write_text("{")
    with pytest.raises(DcsError, match="cannot read"):
        Layout.of(tmp_path)


@pytest.fixture(scope="module")
def moved_archive(tmp_path_factory):
    """A crawl whose WARC and text files live outside the archive folder."""
    root = tmp_path_factory.mktemp("layout")
    out, warcs, texts = root / "archive", root / "disk1" / "warc", root / "disk2" / "text"
    site = ReplicaSite(seed=3, per_generation=3)
    with ReplicaServer(site) as server:
        crawl(server.base_url, out, "-s", f"WARC_DIR={warcs}", "-s", f"TEXT_DIR={texts}")
    return out, warcs, texts, site.seed_article.id


def test_a_crawl_writes_where_the_path_settings_say(moved_archive):
    out, warcs, texts, _seed = moved_archive
    assert list(warcs.glob("*.warc.gz")) and list(texts.rglob("*.txt"))
    assert not (out / "warc").exists() and not (out / "text").exists()
    assert Layout.of(out) == Layout(out, warcs, texts)


def test_every_command_finds_the_files_through_the_folder_alone(moved_archive, tmp_path):
    out, warcs, texts, seed = moved_archive
    index = dcs("index", "--out", str(out))
    assert index.returncode == 0, index.stderr
    assert (out / "index" / "index.cdxj").stat().st_size > 0

    listing = dcs("replay", "list", "--out", str(out), seed)
    assert listing.returncode == 0, listing.stderr
    shown = dcs("replay", "show", "--out", str(out), seed)
    expected = next(texts.rglob(f"{seed}.txt")).read_text(encoding="utf-8")
    assert shown.returncode == 0 and shown.stdout == expected

    wacz = tmp_path / "moved.wacz"
    exported = dcs("export", "wacz", str(wacz), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    names = zipfile.ZipFile(wacz).namelist()
    assert {f"archive/{p.name}" for p in warcs.glob("*.warc.gz")} <= set(names)

    extracted = dcs("extract", str(warcs), "--out", str(out))
    assert extracted.returncode == 0, extracted.stderr
    assert next(texts.rglob(f"{seed}.txt")).read_text(encoding="utf-8") == expected


def test_a_later_crawl_keeps_the_recorded_layout(moved_archive):
    out, warcs, _texts, _seed = moved_archive
    before = len(list(warcs.glob("*.warc.gz")))
    with ReplicaServer(ReplicaSite(seed=3, per_generation=3)) as server:
        crawl(server.base_url, out, "--max-articles", "1")
    assert len(list(warcs.glob("*.warc.gz"))) > before
    assert not (out / "warc").exists()

"""dcs export dataset: a row per article text, in JSON lines, CSV and Parquet, streamed."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tracemalloc
from datetime import date, datetime

import pytest
from crawl_support import dcs
from research_support import LIVE, article, at, state_with_takedowns, write

from crawler.extract.dates import VIETNAM
from crawler.layout import Layout
from crawler.research import dataset
from crawler.research.dataset import COLUMNS, export_dataset

STORY = article(
    "531379",
    "Hà Nội - Quảng Ninh: Thúc đẩy hợp tác",
    ["Đoạn một.", "Đoạn hai, bản đầu."],
    lead="(ĐCSVN) - Sapo của bài.",
    related=[("Tin liên quan", f"{LIVE}/thoi-su/tin-465456.html")],
    tags=["Hà Nội", "Quảng Ninh"],
)
LATER = article(
    "700001", "Tin năm 2021", ["Một đoạn."], published=datetime(2021, 3, 1, 8, tzinfo=VIETNAM)
)
NAMES = [name for name, _kind in COLUMNS]


@pytest.fixture
def archive(tmp_path):
    out = tmp_path / "archive"
    write(out, STORY, at(1))
    write(out, STORY, at(2), paragraphs=["Đoạn một.", "Đoạn hai, bản đã sửa."])
    write(out, LATER, at(1))
    state_with_takedowns(out, [(STORY.url, "removed", at(3), 404, None)])
    return out


def test_every_version_is_a_row_with_every_column(archive, tmp_path):
    result = export_dataset(Layout.of(archive), tmp_path / "d.jsonl")
    assert (result.rows, result.articles) == (3, 2)
    rows = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert all(list(row) == NAMES for row in rows)
    first, second, later = rows
    assert (first["version"], second["version"], first["versions"]) == (1, 2, 2)
    assert (first["current"], second["current"]) == (False, True)
    assert first["body"] == "Đoạn một.\nĐoạn hai, bản đầu."
    assert second["body"] == "Đoạn một.\nĐoạn hai, bản đã sửa."
    assert first["text"] == (archive / "text/2019/08/10/531379.20261101100000.txt").read_text()
    assert first["title"] == STORY.title and first["lead"] == STORY.lead
    assert first["related"] == [
        {"title": "Tin liên quan", "url": f"{LIVE}/thoi-su/tin-465456.html"}
    ]
    assert first["published"] == "2019-08-10T15:21:00+07:00"
    assert first["fetched_at"] == "2026-11-01T10:00:00+00:00"
    assert first["tags"] == ["Hà Nội", "Quảng Ninh"] and first["author"] == "Thu Hằng"
    assert first["images"] and first["category"] == "Thời sự"
    assert first["warc_filename"] == "dcs-1.warc.gz" and first["warc_offset"] == 100
    assert first["warc_record_id"] == "<urn:531379>" and first["warc_length"] == 2000
    assert len(first["sha1"]) == 40 and first["sha1"] != second["sha1"]
    assert first["removed"] and first["removed_at"] == "2026-11-03T10:00:00+00:00"
    assert not later["removed"] and later["removed_at"] is None


def test_parquet_loads_in_pandas_with_types(archive, tmp_path):
    pandas = pytest.importorskip("pandas")
    export_dataset(Layout.of(archive), tmp_path / "d.parquet")
    frame = pandas.read_parquet(tmp_path / "d.parquet")
    assert list(frame.columns) == NAMES and len(frame) == 3
    assert str(frame["published"].dt.tz) in ("+07:00", "UTC+07:00")
    assert frame["published"][0] == pandas.Timestamp("2019-08-10T15:21:00+07:00")
    assert frame["fetched_at"][1] == pandas.Timestamp("2026-11-02T10:00:00Z")
    assert list(frame["version"]) == [1, 2, 1] and frame["removed"].tolist() == [True, True, False]
    assert list(frame["tags"][0]) == ["Hà Nội", "Quảng Ninh"]
    assert frame["related"][0][0]["title"] == "Tin liên quan"


def test_parquet_loads_with_hugging_face_datasets(archive, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    export_dataset(Layout.of(archive), tmp_path / "d.parquet")
    loaded = datasets.load_dataset(
        "parquet", data_files=str(tmp_path / "d.parquet"), cache_dir=str(tmp_path / "cache")
    )["train"]
    assert loaded.num_rows == 3 and loaded.column_names == NAMES
    assert loaded[1]["body"] == "Đoạn một.\nĐoạn hai, bản đã sửa."


def test_csv_keeps_lists_as_json_and_paragraphs_in_one_cell(archive, tmp_path):
    export_dataset(Layout.of(archive), tmp_path / "d.csv")
    with (tmp_path / "d.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == NAMES and len(rows) == 3
    assert rows[0]["body"] == "Đoạn một.\nĐoạn hai, bản đầu."
    assert json.loads(rows[0]["tags"]) == ["Hà Nội", "Quảng Ninh"]


def test_since_and_until_choose_articles_by_publication_day(archive, tmp_path):
    layout = Layout.of(archive)
    assert export_dataset(layout, tmp_path / "a.jsonl", since=date(2020, 1, 1)).rows == 1
    assert export_dataset(layout, tmp_path / "b.jsonl", until=date(2019, 8, 10)).rows == 2
    assert export_dataset(layout, tmp_path / "c.jsonl", until=date(2019, 8, 9)).rows == 0


def test_memory_stays_flat_as_the_corpus_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset, "BATCH", 100)  # rows per row group: what is held at once
    model = article("800000", "Bài mẫu", [f"Đoạn {j} của bài. " * 20 for j in range(8)])
    write(tmp_path / "model", model, at(1))
    files = sorted((tmp_path / "model" / "text").rglob("800000.*"))

    def peak(n: int) -> int:
        out = tmp_path / f"a{n}"
        for i in range(n):  # copies of one article, each a day folder of its own
            folder = out / "text" / str(2000 + i // 365) / "01" / f"{i % 365:03d}"
            folder.mkdir(parents=True)
            for path in files:
                shutil.copy(path, folder / path.name.replace("800000", str(800000 + i)))
        tracemalloc.start()
        export_dataset(Layout.of(out), tmp_path / f"d{n}.parquet")
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    peak(30)  # the first export imports pyarrow: not what is measured
    small, large = peak(300), peak(1200)
    # Four times the articles, about the same memory (a row group at a time).
    assert large < small * 1.5, (small, large)


def test_the_cli_exports_and_reads_nothing_it_should_not_write(archive, tmp_path):
    before = sorted(p.relative_to(archive) for p in archive.rglob("*"))
    result = dcs("export", "dataset", str(tmp_path / "d.parquet"), "--out", str(archive))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.startswith(f"Wrote {tmp_path / 'd.parquet'} (") and "3 rows" in result.stdout
    )
    result = dcs("export", "dataset", str(tmp_path / "d.jsonl"), "--out", str(archive), "--json")
    assert json.loads(result.stdout)["rows"] == 3
    assert sorted(p.relative_to(archive) for p in archive.rglob("*")) == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_the_cli_export_gives_one_line_errors(archive, tmp_path):
    for target, message in [
        (tmp_path / "d.xlsx", "name it .jsonl, .parquet or .csv"),
        (tmp_path / "missing" / "d.csv", "no folder"),
    ]:
        result = dcs("export", "dataset", str(target), "--out", str(archive))
        assert result.returncode == 2
        assert result.stderr.startswith("dcs: error:") and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

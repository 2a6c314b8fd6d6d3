"""write_article(): the text file, its sidecar, kept versions, atomic writes."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trafilatura

import crawler
from crawler.extract import Article, render_text
from crawler.extract.dates import VIETNAM
from crawler.extract.output import write_article

SIDECAR_KEYS = {
    "url", "canonical_url", "id", "title", "lead", "published", "modified", "author",
    "category", "tags", "related", "images", "fetched_at", "sha1", "extractor", "method",
    "flags", "warc", "versions", "generation", "warnings",
}  # fmt: skip
URL = "https://dangcongsan.vn/thoi-su/mot-bai-bao-533819.html"
WARC = {"filename": "dcs-1.warc.gz", "offset": 120, "length": 4000, "record_id": "<urn:uuid:1>"}


def article(body: str = "Đoạn một.", published: datetime | None = None) -> Article:
    return Article(
        url=URL + "?utm_source=x",
        canonical_url=URL,
        id="533819",
        title="Một bài báo",
        lead="(ĐCSVN) - Sapo của bài.",
        related=[("Bài liên quan", "https://dangcongsan.vn/thoi-su/bai-khac-533800.html")],
        paragraphs=[body, "Đoạn hai."],
        # 00:30 in Hanoi is the day before in UTC: the folder follows Vietnam time.
        published=published or datetime(2019, 8, 10, 0, 30, tzinfo=VIETNAM),
        author="Minh Anh",
        category="Thời sự",
        tags=["Hà Nội"],
        images=["https://file1.dangcongsan.vn/data/0/images/a.jpg"],
        generation=1,
    )


def fetched(day: int, hour: int = 3) -> datetime:
    return datetime(2026, 11, day, hour, 0, 0, tzinfo=UTC)


def test_text_and_sidecar(tmp_path: Path) -> None:
    written = write_article(article(), tmp_path, url=URL, fetched_at=fetched(1), warc=WARC)
    assert written.text == tmp_path / "2019" / "08" / "10" / "533819.txt"
    assert written.sidecar == written.text.with_suffix(".json")
    assert written.status == "new" and written.previous is None
    data = written.text.read_bytes()
    assert data == render_text(article()).encode("utf-8") and not data.endswith(b"\n")
    meta = json.loads(written.sidecar.read_text(encoding="utf-8"))
    assert set(meta) == SIDECAR_KEYS
    assert meta["sha1"] == hashlib.sha1(data).hexdigest() == written.sha1
    assert meta["published"] == "2019-08-10T00:30:00+07:00" and meta["modified"] is None
    assert meta["fetched_at"] == "2026-11-01T03:00:00Z"
    assert meta["warc"] == WARC
    assert meta["extractor"] == {
        "name": "dcs-archiver",
        "version": crawler.__version__,
        "trafilatura": trafilatura.__version__,
    }
    assert meta["related"] == [
        {"title": "Bài liên quan", "url": "https://dangcongsan.vn/thoi-su/bai-khac-533800.html"}
    ]
    assert meta["method"] == "site-rules" and meta["flags"] == []
    assert meta["versions"] == [
        {"fetched_at": "2026-11-01T03:00:00Z", "sha1": written.sha1, "file": "533819.txt",
         "warc": WARC}
    ]  # fmt: skip
    raw = written.sidecar.read_text(encoding="utf-8")
    assert "Một bài báo" in raw  # ensure_ascii=False
    assert raw == json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_undated_goes_under_the_fetch_day_in_vietnam_time(tmp_path: Path) -> None:
    undated = article()
    undated.published = None
    written = write_article(undated, tmp_path, url=URL, fetched_at=fetched(1, hour=20))
    assert written.text.parent == tmp_path / "2026" / "11" / "02"  # 20:00Z is 03:00 next day
    meta = json.loads(written.sidecar.read_text(encoding="utf-8"))
    assert meta["published"] is None and "undated" in meta["flags"] and meta["warc"] is None


def test_same_text_makes_no_new_version(tmp_path: Path) -> None:
    first = write_article(article(), tmp_path, url=URL, fetched_at=fetched(1), warc=WARC)
    before = first.sidecar.read_bytes()
    again = write_article(article(), tmp_path, url=URL, fetched_at=fetched(2), warc=None)
    assert again.status == "unchanged" and again.previous is None
    assert first.sidecar.read_bytes() == before  # the text's provenance is its first capture
    assert sorted(p.name for p in first.text.parent.iterdir()) == ["533819.json", "533819.txt"]


def test_changed_text_keeps_every_version_oldest_first(tmp_path: Path) -> None:
    w1 = write_article(article("Bản một."), tmp_path, url=URL, fetched_at=fetched(1), warc=WARC)
    w2 = write_article(article("Bản hai."), tmp_path, url=URL, fetched_at=fetched(2))
    assert w2.status == "changed"
    assert w2.previous == w1.text.parent / "533819.20261101030000.txt"
    assert w2.previous.read_bytes() == render_text(article("Bản một.")).encode("utf-8")
    w3 = write_article(article("Bản ba."), tmp_path, url=URL, fetched_at=fetched(3))
    assert w3.previous.name == "533819.20261102030000.txt"
    meta = json.loads(w3.sidecar.read_text(encoding="utf-8"))
    assert [v["file"] for v in meta["versions"]] == [
        "533819.20261101030000.txt",
        "533819.20261102030000.txt",
        "533819.txt",
    ]
    assert [v["sha1"] for v in meta["versions"]] == [w1.sha1, w2.sha1, w3.sha1]
    assert meta["versions"][0]["warc"] == WARC
    assert meta["fetched_at"] == "2026-11-03T03:00:00Z" and meta["sha1"] == w3.sha1
    assert w3.text.read_text(encoding="utf-8").split("\n")[3] == "Bản ba."


def test_output_is_deterministic(tmp_path: Path) -> None:
    for root in ("a", "b"):
        for day, body in ((1, "Bản một."), (2, "Bản hai."), (3, "Bản hai.")):
            write_article(article(body), tmp_path / root, url=URL, fetched_at=fetched(day))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_crash_while_writing_leaves_the_old_file_whole(tmp_path, monkeypatch) -> None:
    first = write_article(article("Bản một."), tmp_path, url=URL, fetched_at=fetched(1))
    old_text, old_meta = first.text.read_bytes(), first.sidecar.read_bytes()

    def crash(src, dst) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_article(article("Bản hai."), tmp_path, url=URL, fetched_at=fetched(2))
    assert first.text.read_bytes() == old_text and first.sidecar.read_bytes() == old_meta
    assert not [p for p in first.text.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_crash_between_text_and_sidecar_is_repaired_by_the_next_write(
    tmp_path, monkeypatch
) -> None:
    first = write_article(article("Bản một."), tmp_path, url=URL, fetched_at=fetched(1))
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("killed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        write_article(article("Bản hai."), tmp_path, url=URL, fetched_at=fetched(2))
    monkeypatch.setattr(os, "replace", real_replace)
    again = write_article(article("Bản hai."), tmp_path, url=URL, fetched_at=fetched(2))
    meta = json.loads(again.sidecar.read_text(encoding="utf-8"))
    assert [v["sha1"] for v in meta["versions"]] == [first.sha1, again.sha1]
    kept = first.text.parent / meta["versions"][0]["file"]
    assert kept.read_bytes() == render_text(article("Bản một.")).encode("utf-8")

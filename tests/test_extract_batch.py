"""reextract(): WARC files in, the same text tree out whatever the number of workers."""

from __future__ import annotations

import gzip
import json
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.extract.batch import ReextractError, find_warcs, reextract

LIVE = "https://dangcongsan.vn"


def write_warc(path: Path, responses: list[tuple], revisits: list[tuple] = ()) -> Path:
    """responses: (url, warc_date, body, headers); gzip-encoded when headers say so."""
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=path.name.endswith(".gz"))
        for url, date, body, headers in responses:
            status = "404 Not Found" if b"__404__" in body else "200 OK"
            if ("Content-Encoding", "gzip") in headers:
                body = gzip.compress(body, mtime=0)
            http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
        for url, date in revisits:
            http = StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1")
            record = writer.create_revisit_record(
                url, "sha1:AAAA", url, "2026-11-01T00:00:00Z", http_headers=http,
            )  # fmt: skip
            record.rec_headers.replace_header("WARC-Date", date)
            writer.write_record(record)
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def hand_page(title: str, body: str, published: str = "10/08/2019 15:21") -> bytes:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="detail-post"><h1 class="post-title">{title}</h1>
<span class="lbPublishedDate">{published}</span><div class="post-summary">(ĐCSVN) - Sapo.</div>
<div class="post-content"><p>{body}</p></div></div></body></html>""".encode()


HTML = [("Content-Type", "text/html; charset=utf-8")]


def test_versions_revisits_failures_and_skips(tmp_path: Path) -> None:
    url = LIVE + "/thoi-su/bai-bao-thu-nhat-533819.html"
    warcs = tmp_path / "warc"
    warcs.mkdir()
    # Captures of one URL spread over two files, listed out of date order on purpose.
    write_warc(
        warcs / "b.warc.gz",
        [
            (url, "2026-11-03T00:00:00Z", hand_page("Bài một", "Bản ba."), HTML),
            (
                url + "?utm_source=x",
                "2026-11-01T00:00:00Z",
                hand_page("Bài một", "Bản một."),
                [*HTML, ("Content-Encoding", "gzip")],
            ),
            (LIVE + "/thoi-su", "2026-11-01T00:00:00Z", hand_page("Danh mục", "x"), HTML),
            (LIVE + "/thoi-su/hong-533000.html", "2026-11-01T00:00:00Z", b"\x00\x01 binary", HTML),
            (LIVE + "/thoi-su/mat-533001.html", "2026-11-01T00:00:00Z", b"__404__", HTML),
        ],  # fmt: skip
        revisits=[(url, "2026-11-04T00:00:00Z")],
    )
    write_warc(
        warcs / "a.warc",
        [(url, "2026-11-02T00:00:00Z", hand_page("Bài một", "Bản hai."), HTML)],
    )
    summary = reextract([warcs], tmp_path / "out", workers=1, progress=False)
    assert summary.warc_files == 2 and summary.records == 4
    assert (summary.articles, summary.new, summary.changed) == (3, 1, 2)
    assert summary.failed == {"not HTML: no HTML tags in the document": 1}
    assert summary.failures == [(LIVE + "/thoi-su/hong-533000.html", next(iter(summary.failed)))]
    assert summary.skipped == {"not an article URL": 1, "revisit": 1, "status 404": 1}
    day = tmp_path / "out" / "2019" / "08" / "10"
    meta = json.loads((day / "533819.json").read_text(encoding="utf-8"))
    assert [v["fetched_at"] for v in meta["versions"]] == [
        "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z",
    ]  # fmt: skip
    assert (day / "533819.20261101000000.txt").read_text(encoding="utf-8").endswith("Bản một.")
    assert (day / "533819.txt").read_text(encoding="utf-8").endswith("Bản ba.")
    assert meta["warc"]["filename"] == "b.warc.gz" and meta["url"] == url
    assert meta["versions"][1]["warc"]["filename"] == "a.warc"
    # The location points at the response record itself.
    with open(warcs / "b.warc.gz", "rb") as handle:
        handle.seek(meta["warc"]["offset"])
        record = next(iter(ArchiveIterator(handle)))
        assert record.rec_headers.get_header("WARC-Record-ID") == meta["warc"]["record_id"]
        assert record.rec_headers.get_header("WARC-Date") == "2026-11-03T00:00:00Z"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".reextract")]


def test_no_warcs_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReextractError, match="no WARC files"):
        reextract([tmp_path], tmp_path / "out", progress=False)
    with pytest.raises(ReextractError, match="no such file"):
        find_warcs([tmp_path / "missing"])


@pytest.fixture(scope="module")
def replica_warcs(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Two crawls of the replica a month apart (some articles edited, some taken down)."""
    replica = pytest.importorskip("crawler.replica")
    if not hasattr(replica, "ReplicaSite"):
        pytest.skip("crawler.replica has no ReplicaSite yet")
    site = replica.ReplicaSite(seed=1, per_generation=12)
    folder = tmp_path_factory.mktemp("warcs")
    base = "http://127.0.0.1:8080"  # a crawl of the replica: mirror URLs in the WARC
    latest: dict[str, str] = {}
    for crawl, month in enumerate(("11", "12")):
        responses = []
        for n, article in enumerate(a for a in site.articles if not a.removed):
            status, headers, body = site.render(article.path)
            date = f"2026-{month}-{1 + n % 3:02d}T0{n % 10}:00:00Z"
            responses.append((base + article.path, date, body, list(headers.items())))
            latest[article.url] = article.expected_text
        for i in range(3):  # several files, so that both workers get some
            write_warc(folder / f"dcs-{crawl}-{i}.warc.gz", responses[i::3])
        site.advance(days=30)
    return folder, latest


def test_replica_warcs_give_the_same_tree_with_one_or_two_workers(tmp_path, replica_warcs):
    folder, latest = replica_warcs
    one = reextract([folder], tmp_path / "one", workers=1, progress=False)
    two = reextract([folder], tmp_path / "two", workers=2, progress=False)
    assert one == two
    assert one.articles == one.records and not one.failed and one.changed > 0
    first, second = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert first == second
    sidecars = [json.loads(v) for k, v in first.items() if k.endswith(".json")]
    assert len(sidecars) == len(latest)
    texts = {m["canonical_url"]: (tmp_path / "one").rglob(m["id"] + ".txt") for m in sidecars}
    exact = sum(
        next(paths).read_text(encoding="utf-8") == latest[url] for url, paths in texts.items()
    )
    assert exact >= 0.98 * len(latest)
    edited = [m for m in sidecars if len(m["versions"]) > 1]
    assert edited and all(m["versions"][-1]["file"] == m["id"] + ".txt" for m in edited)

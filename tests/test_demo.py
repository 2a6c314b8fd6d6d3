"""`dcs demo`: the replica crawled offline, and what to do next."""

from crawl_support import dcs


def test_demo_crawls_the_replica_and_says_how_to_look(tmp_path):
    out = tmp_path / "archive"
    result = dcs("demo", "--out", str(out), "--max-articles", "5")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Replica of dangcongsan.vn serving at http://127.0.0.1:" in result.stdout
    assert "dcs replay serve" in result.stdout
    assert len(list((out / "text").rglob("*.txt"))) == 5
    assert list((out / "warc").glob("*.warc.gz"))

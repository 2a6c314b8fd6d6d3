"""Reading sitemaps in bounded memory: entries, gzip, and the ceilings (bytes, entries)."""

from __future__ import annotations

import gzip

from crawler.sitemaps import read_sitemap

MiB = 1024**2
URLSET = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'


def urlset(count: int, lastmod: bool = True) -> bytes:
    entries = b"".join(
        b"<url><loc> https://dangcongsan.vn/a/b-%d.html </loc>%s</url>\n"
        % (100000 + n, b"<lastmod>2024-05-01T08:00:00+07:00</lastmod>" if lastmod else b"")
        for n in range(count)
    )
    return URLSET + entries + b"</urlset>"


def test_a_sitemap_lists_its_entries_with_their_lastmod() -> None:
    sitemap = read_sitemap(urlset(3), MiB, 50_000)
    assert sitemap.kind == "urlset" and sitemap.cut is None
    assert sitemap.entries[0] == (
        "https://dangcongsan.vn/a/b-100000.html",
        "2024-05-01T08:00:00+07:00",
    )
    assert read_sitemap(urlset(2, lastmod=False), MiB, 50_000).entries[1][1] is None


def test_a_gzipped_sitemap_index_is_read_the_same() -> None:
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://dangcongsan.vn/sitemap-2024-05.xml</loc></sitemap>"
        b"</sitemapindex>"
    )
    sitemap = read_sitemap(gzip.compress(index), MiB, 50_000)
    assert sitemap.kind == "sitemapindex"
    assert sitemap.entries == [("https://dangcongsan.vn/sitemap-2024-05.xml", None)]


def test_a_gzip_bomb_is_read_up_to_the_byte_ceiling_only() -> None:
    blank = gzip.compress(b" " * 8 * MiB, 9)
    bomb = gzip.compress(urlset(2)[:-10]) + blank * 50 + gzip.compress(b"</urlset>")  # 400 MB
    sitemap = read_sitemap(bomb, 10 * MiB, 50_000)
    assert len(sitemap.entries) == 2
    assert sitemap.ceiling == "SITEMAP_MAXSIZE"
    assert sitemap.cut == f"more than {10 * MiB} bytes once decompressed"


def test_a_sitemap_of_more_entries_than_the_protocol_allows_is_cut() -> None:
    sitemap = read_sitemap(urlset(120), MiB, 100)
    assert len(sitemap.entries) == 100
    assert (sitemap.ceiling, sitemap.cut) == ("SITEMAP_MAX_ENTRIES", "more than 100 entries")


def test_a_broken_gzip_stream_keeps_the_entries_before_the_damage() -> None:
    data = gzip.compress(urlset(2000))
    sitemap = read_sitemap(data[: len(data) // 2], MiB, 50_000)
    assert 0 < len(sitemap.entries) < 2000 and sitemap.cut.startswith("unreadable after")
    assert sitemap.ceiling is None


def test_an_html_page_is_not_a_sitemap() -> None:
    sitemap = read_sitemap(b"<html><body><a href='/x'>x</a></body></html>", MiB, 50_000)
    assert sitemap.kind == "" and sitemap.entries == []

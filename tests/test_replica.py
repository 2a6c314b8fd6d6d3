"""The local replica of dangcongsan.vn: faithful to SITE.md and CONTRACT.md, on the wire too."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import re
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import parsedate_to_datetime
from importlib import resources
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from lxml import html as lxml_html

from crawler.errors import DcsError
from crawler.replica import FaultPlan, FaultSpecError, ReplicaServer, ReplicaSite
from crawler.replica import text as text_module
from crawler.replica.model import path_id
from crawler.site import Kind, Site, generation

SEED_PATH = (
    "/ha-noi--quang-ninh-thuc-day-hop-tac-phat-trien-chat-che-tren-nhieu-linh-vuc-post531379.html"
)
SEED_TEXT = resources.files("crawler.replica").joinpath("data/seed-article.txt").read_bytes()
LIVE = "https://dangcongsan.vn"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def site() -> ReplicaSite:
    return ReplicaSite(seed=1)


@pytest.fixture(scope="module")
def server(site: ReplicaSite):
    with ReplicaServer(site) as running:
        yield running


def fetch(server: ReplicaServer, path: str, method: str = "GET", headers: dict | None = None):
    """(status, headers as a dict with lower-case names, raw body) with http.client."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def raw_exchange(server: ReplicaServer, path: str, headers: str = "") -> tuple[bytes, bytes]:
    """Send one request on a raw socket; return (head, everything after it) as sent."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def dechunk(data: bytes) -> tuple[bytes, int]:
    body, count = b"", 0
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            assert data == b"\r\n", "chunked body must end with the last-chunk and CRLF"
            return body, count
        body += data[:size]
        assert data[size : size + 2] == b"\r\n"
        data = data[size + 2 :]
        count += 1


def doc(site: ReplicaSite, path: str):
    status, _headers, body = site.render(path)
    assert status == 200, path
    return lxml_html.fromstring(body)


def fold(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).replace("\xa0", " ").split())


# -- the seed article ----------------------------------------------------------------------


def test_seed_expected_text_is_the_seed_file_byte_for_byte(site: ReplicaSite) -> None:
    seed = site.seed_article
    assert seed.expected_text.encode("utf-8") == SEED_TEXT
    assert seed.path == SEED_PATH and seed.url == LIVE + SEED_PATH
    assert (seed.generation, seed.id, seed.author) == (2, "531379", None)
    assert seed.published.isoformat() == "2019-08-10T15:21:00+07:00"
    assert [t for t, _ in seed.related] == [
        "Hà Nội và Hà Nam tăng cường hợp tác, phát triển",
        "Đưa các nội dung hợp tác giữa Hà Nội và Vĩnh Phúc đi vào thực chất",
    ]


def test_seed_page_holds_its_text_in_gen2_markup(site: ReplicaSite, server: ReplicaServer) -> None:
    status, headers, body = fetch(server, SEED_PATH)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    tree = lxml_html.fromstring(body)
    seed = site.seed_article
    lines = SEED_TEXT.decode().split("\n")
    assert tree.xpath("string(//h1[contains(@class,'article__title')])") == lines[0]
    assert "cms-title" in tree.xpath("//h1")[0].get("class")
    assert tree.xpath("string(//div[@class='article__sapo cms-desc'])") == lines[1]
    body_div = tree.xpath("//div[@class='article__body cms-body']")[0]
    related = body_div.xpath(".//div[@class='box-related']//article[@class='story']//h3/a")
    assert ["- " + a.text for a in related] == lines[2:4]
    assert all("cms-link" in a.get("class") for a in related)
    paragraphs = [p.text_content() for p in body_div.xpath("./p")]
    assert paragraphs == lines[4:]
    assert "vừa và nhỏ.Hai bên" in body.decode()  # the source's own missing space, kept
    assert tree.xpath("//time[@class='time']/@datetime") == ["2019-08-10T15:21:00+07:00"]
    meta = tree.xpath("//meta[@property='article:published_time']/@content")
    assert meta == ["2019-08-10T15:21:00+07:00"]
    assert "NewsArticle" in tree.xpath("string(//script[@type='application/ld+json'])")
    assert tree.xpath("//link[@rel='canonical']/@href") == [seed.url]
    # its two related stories are real articles of the replica
    for _title, url in seed.related:
        target = site.article_at(url)
        assert target is not None and fetch(server, urlsplit(url).path)[0] == 200
    # lazy images: data: placeholder in src, the real URL in data-src
    images = body_div.xpath(".//img")
    assert images and all(img.get("src").startswith("data:image/") for img in images)
    assert [img.get("data-src") for img in images] == seed.images


# -- every URL form of SITE.md ---------------------------------------------------------------


def test_every_url_in_the_inventory_is_served_as_its_kind(
    site: ReplicaSite, server: ReplicaServer
) -> None:
    urls = site.urls()
    expected = {
        "home": 200, "article": 200, "video": 200, "redirect": 301, "list": 200,
        "list_past_end": 200, "tag": 200, "feed": 200, "sitemap": 200, "image": 200,
        "media": 200, "asset": 200, "robots": 200, "search": 200, "dead": 404,
    }  # fmt: skip
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)  # keep-alive
    fetched = 0
    for kind, status in expected.items():
        assert urls[kind], kind
        for path in urls[kind]:
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = conn.getresponse()
            response.read()
            assert response.status == status, (kind, path)
            fetched += 1
    conn.close()
    elapsed = time.monotonic() - started
    print(f"\nfetched all {fetched} URLs of the replica in {elapsed:.2f}s")
    assert len(urls["article"]) == 180 and len(urls["video"]) >= 3


def test_article_urls_of_three_generations_classify_as_site_py_says(site: ReplicaSite) -> None:
    rules = Site()
    for a in site.articles:
        assert generation(a.url) == a.generation, a.url
        assert rules.classify(LIVE + a.path) is Kind.ARTICLE
        if a.generation == 3:
            assert "?categoryId=19" in a.path and "?" not in a.url
            assert a.id == path_id(a.path)
        else:
            assert a.id in a.path
    assert {a.generation for a in site.articles} == {1, 2, 3}
    assert any("–" in a.slug for a in site.articles)  # non-ASCII slug (en dash)
    assert any("--" in a.slug for a in site.articles)


def test_old_urls_redirect_301_to_the_newer_generation(
    site: ReplicaSite, server: ReplicaServer
) -> None:
    moves = {(generation(LIVE + old), a.generation) for a in site.articles for old in a.old_paths}
    assert {(1, 2), (2, 3)} <= moves
    for a in site.articles:
        for old in a.old_paths:
            status, headers, _ = fetch(server, old)
            assert status == 301
            assert headers["location"] == server.base_url + a.path
    # the redirect target is fetchable, and a redirect keeps no query of the old link
    seed_old = site.seed_article.old_paths[0]
    assert fetch(server, seed_old + "?utm_source=zalo")[1]["location"].endswith(SEED_PATH)


def test_each_generation_uses_its_markup(site: ReplicaSite) -> None:
    selectors = {
        1: ["div.detail-post h1.post-title", "span.lbPublishedDate", "div.post-summary",
            "div.post-content", "div.tags a"],
        2: ["h1.article__title.cms-title", "div.article__sapo.cms-desc",
            "div.article__body.cms-body", ".article__meta time.time[datetime]",
            ".article__author .name", "div.article__tag a",
            "meta[property='article:published_time']"],
        3: ["article.detail h1.detail__title", "div.detail__sapo", "div.detail__content",
            "span.detail__time", "div.detail__author", "div.detail__tags a"],
    }  # fmt: skip
    for a in site.articles:
        if a.is_video:
            continue
        tree = doc(site, a.path)
        for selector in selectors[a.generation]:
            assert tree.cssselect(selector), (a.path, selector)
        assert tree.xpath("//meta[@property='og:url']/@content") == [a.url]
        assert tree.xpath("//link[@rel='canonical']/@href") == [a.url]
    dates = [
        doc(site, a.path).cssselect("span.lbPublishedDate")[0].text
        for a in site.articles
        if a.generation == 1
    ]
    assert all(re.fullmatch(r"(Thứ \w+|Chủ Nhật), \d\d/\d\d/\d{4} \d\d:\d\d", d) for d in dates)
    times = [
        doc(site, a.path).cssselect("span.detail__time")[0].text
        for a in site.articles
        if a.generation == 3
    ]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} - \d\d:\d\d", t) for t in times)
    cut = [
        a
        for a in site.articles
        if a.generation == 3 and a.markup.cut_og_title and len(a.title) > 45
    ]
    assert cut
    og = doc(site, cut[0].path).xpath("//meta[@property='og:title']/@content")[0]
    assert og.endswith("...") and og != cut[0].title


def _reference_text(tree, a) -> str:
    """A plain reading of the contract's selectors: what an extractor must arrive at."""
    parts = {
        1: ("//h1[@class='post-title']", "//div[@class='post-summary']",
            "//div[@class='related-news']//li/a", "//div[@class='post-content']"),
        2: ("//h1[contains(@class,'cms-title')]", "//div[contains(@class,'cms-desc')]",
            "//div[@class='box-related']//h3/a", "//div[contains(@class,'cms-body')]"),
        3: ("//h1[@class='detail__title']", "//div[@class='detail__sapo']",
            "//div[@class='detail__related']//a", "//div[@class='detail__content']"),
    }[a.generation]  # fmt: skip
    lines = [tree.xpath(f"string({parts[0]})"), tree.xpath(f"string({parts[1]})")]
    if a.is_video:
        return "\n".join(fold(x) for x in lines)
    lines += ["- " + link.text_content() for link in tree.xpath(parts[2])]
    body = tree.xpath(parts[3])[0]
    junk = (
        "figure", "table", "script", "ins",
        "div[@class='related-news']", "div[@class='box-related']",
        "div[@class='ads']", "div[@class='xemthem']", "div[@class='box-readmore']",
        "div[@class='detail__readmore']", "p[@class='author']", "p[@style='text-align:right']",
    )  # fmt: skip
    for element in body.xpath(" | ".join(f".//{j}" for j in junk)):
        element.drop_tree()
    for br in body.xpath(".//br"):
        br.tail = "\n" + (br.tail or "")
    for block in body.xpath("./p | ./div"):
        lines += block.text_content().split("\n")
    return "\n".join(fold(x) for x in lines if fold(x))


def test_every_article_page_carries_its_expected_text(site: ReplicaSite) -> None:
    for a in site.articles:
        text = a.expected_text
        assert text == unicodedata.normalize("NFC", text) and not text.endswith("\n")
        lines = text.split("\n")
        assert lines[0] == a.title and lines[1].startswith("(ĐCSVN) - ")
        assert _reference_text(doc(site, a.path), a) == text, a.path
        assert 3 <= len(a.paragraphs) <= 12 or a.is_video or a is site.seed_article
        assert len(a.related) <= 3 and len(a.images) <= 3
        for caption in (f.caption for f in a.figures):
            assert caption not in text


def test_dirt_is_there_and_stays_out_of_the_expected_text(site: ReplicaSite) -> None:
    bodies = {a.key: site.render(a.path)[2].decode() for a in site.articles}
    gen1 = [a for a in site.articles if a.generation == 1 and not a.is_video]
    nfd = [a for a in gen1 if a.markup.nfd]
    assert nfd and all(
        unicodedata.normalize("NFD", a.paragraphs[0].split(" ")[-1]) in bodies[a.key] for a in nfd
    )
    assert any("<br>" in bodies[a.key] for a in gen1 if a.markup.body_style == "br")
    assert any("&nbsp;" in bodies[a.key] for a in site.articles)
    assert any("<figcaption>" in bodies[a.key] for a in site.articles)
    assert any('class="image_desc"' in bodies[a.key] for a in gen1)
    assert any("Xem thêm:" in bodies[a.key] for a in site.articles)
    assert any("Quảng cáo" in bodies[a.key] for a in site.articles)
    assert any('<p class="author">' in bodies[a.key] for a in gen1)
    assert any('<p style="text-align:right"><strong>' in bodies[a.key] for a in gen1)
    for a in site.articles:
        assert "Xem thêm" not in a.expected_text and "Quảng cáo" not in a.expected_text
    bylines = {a.byline for a in site.articles}
    assert {"PV", "BTV", "ĐCSVN"} & bylines and any(a.author for a in site.articles)
    assert all(a.author is None for a in site.articles if a.byline in ("PV", "BTV", "ĐCSVN"))
    home = site.render("/")[2].decode()
    assert "utm_source=" in home or "fbclid=" in home
    assert "http://www.dangcongsan.vn/" in "".join(bodies.values())
    assert "https://en.dangcongsan.vn/" in home and "https://tulieuvankien.dangcongsan.vn/" in home


def test_video_pages_have_no_body_text(site: ReplicaSite, server: ReplicaServer) -> None:
    videos = [a for a in site.articles if a.is_video]
    assert videos and all(a.path.startswith("/multimedia/video/") for a in videos)
    for a in videos:
        tree = doc(site, a.path)
        assert tree.xpath("//video") and a.expected_text == f"{a.title}\n{a.lead}"
        assert fold(tree.xpath("string(//div[@class='post-content'])")) == ""
        source = tree.xpath("//video/source/@src")[0]
        assert fetch(server, urlsplit(source).path)[0] == 200


def test_generated_dates_fall_in_their_generation(site: ReplicaSite) -> None:
    for a in site.articles:
        years = {1: range(2015, 2025), 2: range(2019, 2025), 3: range(2025, 2027)}[a.generation]
        assert a.published.year in years and a.published.utcoffset().total_seconds() == 7 * 3600
        assert a.published <= a.modified <= site.now


# -- every link leads somewhere ---------------------------------------------------------------


def test_every_generated_link_target_exists(site: ReplicaSite) -> None:
    rules = Site("http://127.0.0.1:9")
    urls = site.urls()
    pages = [
        p for kind in ("home", "article", "video", "list", "tag", "search") for p in urls[kind]
    ]
    dead, checked = set(urls["dead"]), set()
    offsite = set()
    for page in pages:
        tree = doc(site, page)
        base = LIVE + page
        refs = tree.xpath("//a/@href | //img/@src | //img/@data-src | //link/@href | //script/@src"
                          " | //source/@src | //video/@poster | //form/@action")  # fmt: skip
        for ref in refs:
            if ref.startswith("data:"):
                continue
            url = urljoin(base, ref)
            fetch_url = rules.fetch_url(url)
            if fetch_url is None:
                offsite.add(urlsplit(url).netloc)
                continue
            parts = urlsplit(fetch_url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path in checked or parts.path in dead:
                continue
            checked.add(path)
            assert site.render(path) is not None, f"{page} links to missing {ref}"
    assert "en.dangcongsan.vn" in offsite and "tulieuvankien.dangcongsan.vn" in offsite
    assert dead & {urlsplit(u).path for u in urls["dead"]}


def test_css_and_js_and_images_are_real(site: ReplicaSite, server: ReplicaServer) -> None:
    for path in site.urls()["asset"]:
        status, headers, body = fetch(server, path)
        kind = "text/css" if path.endswith(".css") else "application/javascript"
        assert status == 200 and headers["content-type"].startswith(kind) and body
    magic = {
        "image/jpeg": b"\xff\xd8\xff",
        "image/png": b"\x89PNG\r\n\x1a\n",
        "image/gif": b"GIF89a",
    }
    seen = set()
    for path in site.urls()["image"]:
        status, headers, body = fetch(server, path, headers={"Accept-Encoding": "gzip"})
        assert status == 200 and "content-encoding" not in headers
        assert body.startswith(magic[headers["content-type"]]), path
        seen.add(headers["content-type"])
        if headers["content-type"] == "image/jpeg":
            assert body.endswith(b"\xff\xd9")
    assert seen == set(magic)
    images = site.urls()["image"]
    assert any(p.startswith("/DATA/0/") for p in images)
    assert any(re.match(r"/data/0/images/\d{4}/\d\d/\d\d/.+\.jpg\?w=780$", p) for p in images)
    assert site.render(images[0])[2] != site.render(images[1])[2]


# -- lists, tags, feeds, sitemaps, robots ------------------------------------------------------


def test_category_lists_paginate_and_end_as_the_site_does(site: ReplicaSite) -> None:
    from crawler.replica.model import CATEGORIES

    behaviours = set()
    for c in CATEGORIES:
        stories = [a for a in site.articles if a.section == c]
        last = site.last_page(c)
        for form in ("", ".html"):
            base = f"/{c.slug}{form}"
            seen = []
            for n in range(1, last + 1):
                tree = doc(site, base if n == 1 else f"{base}?page={n}")
                titles = tree.xpath(
                    "//div[@class='w-list']//div[@class='pcontent3']/a[@class='item-title']"
                )
                assert len(titles) == (10 if n < last else len(stories) - 10 * (last - 1))
                assert len(tree.xpath("//div[@class='w-list']//div[@class='i-date']")) == len(
                    titles
                )
                seen += [t.text for t in titles]
            assert sorted(seen) == sorted(a.title for a in stories)
            page1 = doc(site, base).xpath("//a[@class='item-title']/text()")
            past = doc(site, f"{base}?page={last + 1}").xpath("//a[@class='item-title']/text()")
            assert past == ([] if c.past_end == "empty" else page1)
            behaviours.add(c.past_end)
    assert behaviours == {"empty", "repeat"}


def test_tag_pages_paginate_without_end(site: ReplicaSite) -> None:
    path = site.urls()["tag"][0]
    first = doc(site, path).xpath("//a[@class='item-title']/text()")
    assert first
    for n in (2, 3, 50, 1000):
        tree = doc(site, f"{path}?page={n}")
        assert tree.xpath("//a[@class='item-title']/text()") == first
        assert tree.xpath("//a[@class='next']/@href") == [f"{path}?page={n + 1}"]


def test_home_lists_the_newest_first(site: ReplicaSite) -> None:
    tree = doc(site, "/")
    newest = sorted((a for a in site.articles if not a.is_video), key=lambda a: a.published)[-1]
    assert (
        tree.xpath("//section[@class='latest']//a[@class='item-title']/text()")[0] == newest.title
    )


def test_robots_disallows_search_which_every_page_links_to(
    site: ReplicaSite, server: ReplicaServer
) -> None:
    status, headers, body = fetch(server, "/robots.txt")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert "Disallow: /tim-kiem" in text and "Disallow: /page/search" in text
    assert "Sitemap: https://dangcongsan.vn/sitemap.xml" in text
    for path in site.urls()["article"][:10] + ["/", "/thoi-su"]:
        tree = doc(site, path)
        assert tree.xpath("//form[@action='/tim-kiem']")
        assert tree.xpath("//a[starts-with(@href, '/page/search?keyword=')]")


def test_sitemap_index_and_children_plain_and_gzipped(
    site: ReplicaSite, server: ReplicaServer
) -> None:
    status, _headers, body = fetch(server, "/sitemap.xml")
    index = ET.fromstring(body)
    locs = [e.text for e in index.iter(f"{SITEMAP_NS}loc")]
    assert (
        status == 200
        and locs
        and all(re.search(r"sitemap-\d{4}-\d\d\.xml(\.gz)?$", u) for u in locs)
    )
    gz = [u for u in locs if u.endswith(".gz")]
    assert gz and len(gz) < len(locs)
    listed = {}
    for loc in locs:
        status, headers, data = fetch(
            server, urlsplit(loc).path, headers={"Accept-Encoding": "gzip"}
        )
        assert status == 200
        if loc.endswith(".gz"):
            assert headers["content-type"] in ("application/x-gzip", "application/gzip")
            assert "content-encoding" not in headers
            data = gzip.decompress(data)
        elif headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        for url in ET.fromstring(data).iter(f"{SITEMAP_NS}url"):
            listed[url.findtext(f"{SITEMAP_NS}loc")] = url.findtext(f"{SITEMAP_NS}lastmod")
    assert listed == {a.url: a.modified.isoformat() for a in site.articles}


def test_rss_feeds(site: ReplicaSite, server: ReplicaServer) -> None:
    for path in site.urls()["feed"]:
        status, headers, body = fetch(server, path)
        assert status == 200 and headers["content-type"].startswith("application/rss+xml")
        channel = ET.fromstring(body).find("channel")
        items = channel.findall("item")
        assert items and all(i.findtext("pubDate") for i in items)
        for item in items:
            assert site.article_at(item.findtext("link")) is not None
    newest = max(site.articles, key=lambda a: a.published)
    first = ET.fromstring(fetch(server, "/rss")[2]).find("channel/item")
    assert first.findtext("guid") == newest.url


# -- HTTP the way real servers do it -----------------------------------------------------------


def test_gzip_really_on_the_wire_when_asked(site: ReplicaSite, server: ReplicaServer) -> None:
    plain = site.render(SEED_PATH)[2]
    head, body = raw_exchange(server, SEED_PATH, "Accept-Encoding: gzip, deflate\r\n")
    assert b"Content-Encoding: gzip" in head and b"Vary: Accept-Encoding" in head
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert len(body) == length and body[:2] == b"\x1f\x8b" and gzip.decompress(body) == plain
    head, body = raw_exchange(server, SEED_PATH)
    assert b"Content-Encoding" not in head and body == plain
    head, body = raw_exchange(server, SEED_PATH, "Accept-Encoding: gzip;q=0, br\r\n")
    assert b"Content-Encoding" not in head and body == plain


def test_chunked_really_on_the_wire(site: ReplicaSite, server: ReplicaServer) -> None:
    head, data = raw_exchange(server, "/")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked" in head
    assert b"Content-Length" not in head
    body, chunks = dechunk(data)
    assert body == site.render("/")[2] and chunks > 1
    head, data = raw_exchange(server, "/thoi-su", "Accept-Encoding: gzip\r\n")
    assert b"Transfer-Encoding: chunked" in head and b"Content-Encoding: gzip" in head
    assert gzip.decompress(dechunk(data)[0]) == site.render("/thoi-su")[2]
    head, _ = raw_exchange(server, SEED_PATH)
    assert b"Content-Length" in head and b"chunked" not in head


def test_standard_headers(server: ReplicaServer) -> None:
    status, headers, _ = fetch(server, SEED_PATH)
    assert status == 200 and headers["server"] and headers["date"].endswith("GMT")
    assert re.fullmatch(r'"[0-9a-f]{20}"', headers["etag"])
    assert headers["last-modified"] == "Sat, 10 Aug 2019 09:02:00 GMT"  # 16:02 +07:00
    head, _ = raw_exchange(server, "/no/such/page.html")
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n") and b"text/html; charset=utf-8" in head
    head, _ = raw_exchange(server, site_old_path(server))
    assert head.startswith(b"HTTP/1.1 301 Moved Permanently\r\n")


def site_old_path(server: ReplicaServer) -> str:
    return server.site.seed_article.old_paths[0]


def test_head_gives_the_headers_without_a_body(server: ReplicaServer) -> None:
    get = fetch(server, SEED_PATH)
    status, headers, body = fetch(server, SEED_PATH, method="HEAD")
    assert status == 200 and body == b""
    assert (
        headers["content-length"] == get[1]["content-length"] and headers["etag"] == get[1]["etag"]
    )


def test_conditional_requests_get_304(server: ReplicaServer) -> None:
    _, headers, _ = fetch(server, SEED_PATH)
    etag, modified = headers["etag"], headers["last-modified"]
    status, got, body = fetch(server, SEED_PATH, headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and got["etag"] == etag
    assert fetch(server, SEED_PATH, headers={"If-None-Match": '"other"'})[0] == 200
    assert fetch(server, SEED_PATH, headers={"If-Modified-Since": modified})[0] == 304
    assert (
        fetch(server, SEED_PATH, headers={"If-Modified-Since": "Fri, 09 Aug 2019 00:00:00 GMT"})[0]
        == 200
    )
    # If-None-Match wins over If-Modified-Since
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert fetch(server, SEED_PATH, headers=both)[0] == 200
    assert fetch(server, "/", headers={"If-None-Match": fetch(server, "/")[1]["etag"]})[0] == 304


def test_log_has_the_digest_of_the_body_as_sent(server: ReplicaServer) -> None:
    server.clear_log()
    _, body_plain = raw_exchange(server, SEED_PATH)
    _, body_gz = raw_exchange(server, "/xa-hoi", "Accept-Encoding: gzip\r\n")
    plain, gz = server.log[-2:]
    assert (plain.method, plain.path, plain.status, plain.gzip) == ("GET", SEED_PATH, 200, False)
    assert plain.sha1 == hashlib.sha1(body_plain).hexdigest() and plain.bytes == len(body_plain)
    assert gz.chunked and gz.gzip
    assert gz.sha1 == hashlib.sha1(dechunk(body_gz)[0]).hexdigest()
    assert (
        gz.request_headers["Accept-Encoding"] == "gzip" and gz.headers["Content-Encoding"] == "gzip"
    )
    assert gz.fault is None and gz.time >= plain.time


# -- faults ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty(site: ReplicaSite):
    paths = site.urls()["article"]
    force = {
        paths[0]: "503", paths[1]: "429", paths[2]: "reset", paths[3]: "reset-headers",
        paths[4]: "truncate", paths[5]: "slow", "/robots.txt": "503",
    }  # fmt: skip
    plan = FaultPlan(force=force, slow_seconds=0.4)
    with ReplicaServer(site, faults=plan) as running:
        yield running, paths


@pytest.mark.parametrize(("index", "status"), [(0, 503), (1, 429)])
def test_503_and_429_with_retry_after_then_recovery(faulty, index: int, status: int) -> None:
    server, paths = faulty
    got, headers, _ = fetch(server, paths[index])
    assert got == status and headers["retry-after"] == "1"
    assert fetch(server, paths[index])[0] == 200


def test_robots_faults_only_when_forced(site: ReplicaSite, faulty) -> None:
    server, _ = faulty
    assert fetch(server, "/robots.txt")[0] == 503
    with ReplicaServer(site, faults=FaultPlan(rate_503=1.0)) as everything_fails:
        assert fetch(everything_fails, "/robots.txt")[0] == 200
        assert fetch(everything_fails, "/")[0] == 503


def _read_all(server: ReplicaServer, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


@pytest.mark.parametrize("index", [2, 3])
def test_connection_reset_then_recovery(site: ReplicaSite, faulty, index: int) -> None:
    server, paths = faulty
    with pytest.raises(ConnectionResetError):
        _read_all(server, paths[index])
    assert fetch(server, paths[index])[2] == site.render(paths[index])[2]
    entry = [e for e in server.log if e.path == paths[index]][0]
    assert entry.fault in ("reset", "reset-headers")


def test_truncated_body_then_recovery(site: ReplicaSite, faulty) -> None:
    server, paths = faulty
    with pytest.raises(http.client.IncompleteRead):
        fetch(server, paths[4])
    assert [e.fault for e in server.log if e.path == paths[4]] == ["truncate"]
    assert fetch(server, paths[4])[2] == site.render(paths[4])[2]


def test_slow_then_fast(faulty) -> None:
    server, paths = faulty
    started = time.monotonic()
    assert fetch(server, paths[5])[0] == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert fetch(server, paths[5])[0] == 200
    assert time.monotonic() - started < 0.4


def test_faults_fire_times_times(site: ReplicaSite) -> None:
    path = site.urls()["article"][7]
    with ReplicaServer(site, faults=FaultPlan(force={path: "503"}, times=2)) as server:
        assert [fetch(server, path)[0] for _ in range(3)] == [503, 503, 200]


def test_rates_are_deterministic_per_path_and_off_by_default(site: ReplicaSite, server) -> None:
    paths = site.urls()["article"] + site.urls()["image"]
    plan = FaultPlan(rate_503=0.2, rate_reset=0.1)
    kinds = [plan.kind_for(p, 1) for p in paths]
    assert kinds == [FaultPlan(rate_503=0.2, rate_reset=0.1).kind_for(p, 1) for p in paths]
    assert kinds != [plan.kind_for(p, 2) for p in paths]  # another seed, other paths
    share = sum(k is not None for k in kinds) / len(kinds)
    assert 0.15 < share < 0.45 and {"503", "reset", "reset-headers"} <= set(kinds)
    assert all(e.fault is None for e in server.log)
    assert FaultPlan().kind_for(paths[0], 1) is None


def test_fault_specs(site: ReplicaSite) -> None:
    plan = FaultPlan.parse("light,slow_seconds=0.5,times=2")
    assert plan.rate_503 > 0 and plan.slow_seconds == 0.5 and plan.times == 2
    for bad in ("503=2", "nonsense=1", "503", "reset=x"):
        with pytest.raises(FaultSpecError):
            FaultPlan.parse(bad)
    assert issubclass(FaultSpecError, DcsError)
    with pytest.raises(FaultSpecError):
        FaultPlan(force={"/": "explode"})


# -- the clock and determinism -----------------------------------------------------------------


def test_clock_adds_new_articles_and_edits_old_ones() -> None:
    site = ReplicaSite(seed=5, per_generation=20)
    before = {a.key: (site.render(a.path)[1], a.expected_text) for a in site.articles}
    old_now = site.now
    changes = site.advance(days=1)
    assert site.now - old_now == (site.now - old_now).__class__(days=1)
    new, edited = changes["new"], changes["edited"]
    assert new and edited
    for a in new:
        assert a.generation == 3 and old_now < a.published <= site.now
        assert site.render(a.path)[0] == 200 and a.key not in before
    newest = max(new, key=lambda a: a.published)
    assert newest.published == site.now
    assert (
        doc(site, "/").xpath("//section[@class='latest']//a[@class='item-title']/text()")[0]
        == newest.title
    )
    listing = doc(site, f"/{newest.section.slug}").xpath("//a[@class='item-title']/text()")
    assert listing[0] == newest.title
    assert ET.fromstring(site.render("/rss")[2]).findtext("channel/item/title") == newest.title
    index = ET.fromstring(site.render("/sitemap.xml")[2])
    child = urlsplit(index.findtext(f"{SITEMAP_NS}sitemap/{SITEMAP_NS}loc")).path
    data = site.render(child)[2]
    assert newest.url in (gzip.decompress(data) if child.endswith(".gz") else data).decode()
    for a in edited:
        headers, text = before[a.key]
        assert a.modified == site.now and a.expected_text != text
        now_headers = site.render(a.path)[1]
        assert now_headers["ETag"] != headers["ETag"]
        assert now_headers["Last-Modified"] != headers["Last-Modified"]
    untouched = [
        a for a in site.articles if a.key in before and a not in edited + changes["removed"]
    ]
    for a in untouched:
        assert site.render(a.path)[1]["ETag"] == before[a.key][0]["ETag"], a.path


def _whole_site(site: ReplicaSite) -> dict[str, bytes]:
    urls = site.urls()
    return {
        p: site.render(p)[2]
        for kind, paths in urls.items()
        if kind not in ("dead", "offsite")
        for p in paths
    }


def test_same_seed_same_site_other_seed_other_site() -> None:
    one, two, other = (
        ReplicaSite(seed=3, per_generation=15),
        ReplicaSite(seed=3, per_generation=15),
        ReplicaSite(seed=4, per_generation=15),
    )
    assert _whole_site(one) == _whole_site(two)
    one.advance(2)
    two.advance(2)
    assert _whole_site(one) == _whole_site(two)
    assert [a.title for a in other.articles] != [a.title for a in two.articles]
    assert other.seed_article.expected_text == two.seed_article.expected_text  # the seed stays


def test_python_m_crawler_replica_prints_its_base_url() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.replica",
            "--port",
            "0",
            "--seed",
            "2",
            "--per-generation",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/robots.txt")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "crawler.replica", "--faults", "503=7"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("dcs: error: ")


def test_search_pages_answer_but_are_kind_search(site: ReplicaSite) -> None:
    rules = Site()
    for path in site.urls()["search"]:
        assert rules.classify(LIVE + path) is Kind.SEARCH
        assert parse_qs(urlsplit(path).query)


def sitemap_entries(site: ReplicaSite) -> dict[str, str]:
    """Every article URL in the monthly sitemaps, with its lastmod as written."""
    index = ET.fromstring(site.render("/sitemap.xml")[2])
    entries = {}
    for loc in index.iter(f"{SITEMAP_NS}loc"):
        data = site.render(urlsplit(loc.text).path)[2]
        child = ET.fromstring(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        for url in child.iter(f"{SITEMAP_NS}url"):
            entries[url.findtext(f"{SITEMAP_NS}loc")] = url.findtext(f"{SITEMAP_NS}lastmod")
    return entries


def month_lastmods(site: ReplicaSite) -> dict[str, str]:
    index = ET.fromstring(site.render("/sitemap.xml")[2])
    return {
        s.findtext(f"{SITEMAP_NS}loc"): s.findtext(f"{SITEMAP_NS}lastmod")
        for s in index.iter(f"{SITEMAP_NS}sitemap")
    }


@pytest.mark.parametrize("skew_days", [-7 * 365, 1])
def test_a_skewed_clock_dates_edits_and_the_date_header(skew_days: int) -> None:
    site = ReplicaSite(seed=5, per_generation=10, clock_skew=timedelta(days=skew_days))
    old, new = site.articles[1], site.articles[-1]
    site.edit(old.key, new.key)
    for a in (old, new):
        assert a.modified == site.now + timedelta(days=skew_days) and a.edits == 1
        assert "(Cập nhật lần 1)" in a.expected_text
        assert sitemap_entries(site)[a.url] == text_module.iso(a.modified)
    with ReplicaServer(site) as server:
        with urllib.request.urlopen(server.url("/")) as response:
            date = parsedate_to_datetime(response.headers["Date"])
    assert abs((date - site.clock).total_seconds()) < 1


@pytest.mark.parametrize(("how", "status", "location"), [
    ("404", 404, None), ("410", 410, None), ("home", 302, "/"), ("list", 302, "/{section}"),
])  # fmt: skip
def test_a_taken_down_article_answers_as_told_and_leaves_every_listing(how, status, location):
    site = ReplicaSite(seed=5, per_generation=10)
    a = next(a for a in site.articles if not a.is_video and a.key != "531379")
    months_before = month_lastmods(site)
    site.take_down(a.key, how)
    rendered = site.render(a.path)
    assert rendered[0] == status
    if location:
        assert rendered[1]["Location"] == location.format(section=a.section.slug)
    assert a.url not in sitemap_entries(site)
    assert a.path not in site.urls()["article"]
    for page in ("/", f"/{a.section.slug}", "/rss"):
        assert a.path.split("?")[0] not in site.render(page)[2].decode()
    changed = [m for m, v in month_lastmods(site).items() if months_before.get(m) != v]
    assert len(changed) == 1  # its month's sitemap was written anew
    site.restore(a.key)
    assert site.render(a.path)[0] == 200 and a.url in sitemap_entries(site)


def test_the_clock_takes_articles_down_now_and_then() -> None:
    site = ReplicaSite(seed=5, per_generation=10)
    changes = site.advance(days=20)
    assert len(changes["removed"]) >= 2
    for a in changes["removed"]:
        assert site.render(a.path)[0] in (404, 410, 302)

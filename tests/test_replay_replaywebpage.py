"""The WACZ export opened by its real client: ReplayWeb.page in headless Chromium.

`wacz validate`, unzip and Python's zipfile once accepted an export that ReplayWeb.page
could not open at all; only the client itself tells. ReplayWeb.page (the npm package,
installed by scripts/install-replaywebpage.sh) and the WACZ are served on loopback; the
app opens the export as a user would, and the test reads its page list, types in its
search box and clicks an article, looking into its shadow DOM through the DevTools protocol.

The screenshot of the replayed article is written to the test's tmp folder;
scripts/refresh-screenshot.sh copies it to docs/replaywebpage.png for the README.
"""

from __future__ import annotations

import base64
import json
import os
import re
import zipfile
import zlib
from pathlib import Path

from _chromium import Chromium, png_facts
from _replaywebpage import ReplayWebPage, replaywebpage_site

from crawler.replay import zipwriter
from crawler.replay.export import export_wacz
from crawler.replay.sidecars import iter_sidecars

SCREENSHOT = "replaywebpage.png"


def pages_in(wacz: Path) -> list[dict]:
    with zipfile.ZipFile(wacz) as zf:
        lines = zf.read("pages/pages.jsonl").decode("utf-8").splitlines()
    return [json.loads(line) for line in lines[1:]]


def word_only_in_body_of(url: str, pages: list[dict]) -> str:
    """A word with diacritics of that page's text, in no title, URL or other page's text."""
    page = next(p for p in pages if p["url"] == url)
    elsewhere = " ".join(
        f"{p.get('title', '')} {p['url']}" + ("" if p is page else f" {p.get('text', '')}")
        for p in pages
    ).lower()
    words = re.findall(r"\w{5,}", page["text"])
    return next(w for w in words if not w.isascii() and w.lower() not in elsewhere)


def original_url(replayed_src: str) -> str:
    """The archived URL inside a replay URL (…/20261129154857im_/https://…)."""
    return re.sub(r"^.*?/\d{14}[a-z]{2}_/", "", replayed_src)


def list_find_and_open(app: ReplayWebPage, archive, word: str) -> tuple[list, list, dict]:
    """What a reader does: the page list, a search for a word, the article found."""
    listed = app.listed(len(archive.articles))
    found = app.search(word, until=[archive.seed_url])
    app.open_entry(archive.seed_url)
    return listed, found, app.replayed()


def check_article(state: dict, archive, base_url: str) -> None:
    assert state["h1"] == archive.seed_title
    assert state["title"].startswith(archive.seed_title)
    assert state["location"].startswith(f"{base_url}/w/"), "not replayed by the service worker"
    assert state["location"].endswith(archive.seed_url)
    for image in state["images"]:
        assert image["width"] > 0, f"picture not loaded: {image['src']}"
        assert image["src"].startswith(f"{base_url}/w/"), image["src"]
    assert set(archive.seed_images) <= {original_url(i["src"]) for i in state["images"]}
    assert state["headerColor"] == "rgb(181, 0, 0)"  # the archived main.css applied


def test_replaywebpage_lists_searches_and_shows_an_export(
    chromium, replaywebpage, small_archive, tmp_path
):
    wacz = export_wacz(small_archive.out_dir, tmp_path / "archive.wacz").path
    word = word_only_in_body_of(small_archive.seed_url, pages_in(wacz))

    with (
        replaywebpage_site(replaywebpage, wacz, tmp_path / "site") as site,
        Chromium(chromium, timeout=60) as browser,
    ):
        app = ReplayWebPage(browser, site.base_url)
        app.open(wacz.name)
        listed, found, state = list_find_and_open(app, small_archive, word)
        shot = browser.screenshot(tmp_path / SCREENSHOT, scale=0.75)
    print(f"screenshot: {shot}")

    assert sorted(listed) == sorted(small_archive.articles)
    assert found == [small_archive.seed_url]
    check_article(state, small_archive, site.base_url)
    assert ("/archive.wacz", 206) in site.requests, "not read by ranges"
    width, height, variety = png_facts(shot.read_bytes())
    assert width >= 800 and height >= 600 and variety > 20, "the screenshot looks blank"


def test_replaywebpage_searches_past_the_first_mib_of_a_plain_index_zip64_export(
    chromium, replaywebpage, archive_copy, tmp_path, monkeypatch
):
    # The pages listed before the seed article get 400 KB of random words each: the seed
    # lies past the first MiB of pages.jsonl, compressed or not, with whole pages before
    # it (ReplayWeb.page searched no further when the list's header said "hasText").
    for sidecar in iter_sidecars(archive_copy.out_dir):
        if sidecar.path.stem == archive_copy.seed_id:
            break
        noise = " ".join(base64.b32encode(os.urandom(5)).decode() for _ in range(45_000))
        for version in sidecar.versions:
            with open(version.text_path, "a", encoding="utf-8") as text:
                text.write(f"\n{noise}\n")
    # Zip64 from 64 KiB on: the larger entries, and every entry that starts past it.
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 64 * 1024)
    captures = len(archive_copy.captures)
    result = export_wacz(archive_copy.out_dir, tmp_path / "plain.wacz", zipnum_over=captures)
    word = word_only_in_body_of(archive_copy.seed_url, pages_in(result.path))
    with zipfile.ZipFile(result.path) as zf:
        names = zf.namelist()
        page_list = zf.read("pages/pages.jsonl")
    before_seed = page_list[: page_list.index(f'"url": "{archive_copy.seed_url}"'.encode())]
    assert len(zlib.compress(before_seed)) > 1 << 20, "the seed is not past the first MiB"
    assert not result.zipnum and "indexes/index.cdx" in names

    with (
        replaywebpage_site(replaywebpage, result.path, tmp_path / "site") as site,
        Chromium(chromium, timeout=60) as browser,
    ):
        app = ReplayWebPage(browser, site.base_url)
        app.open(result.path.name)
        listed, found, state = list_find_and_open(app, archive_copy, word)

    assert sorted(listed) == sorted(archive_copy.articles)
    assert found == [archive_copy.seed_url]
    check_article(state, archive_copy, site.base_url)

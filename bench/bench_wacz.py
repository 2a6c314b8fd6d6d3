"""WACZ export benchmark: `dcs export wacz` against py-wacz's `wacz create`, side by side,
on a 10,000-article archive, and how long ReplayWeb.page takes to open each result.

    python bench/bench_wacz.py                  # 10,000 articles (10-20 minutes)
    python bench/bench_wacz.py --articles 2000  # quicker

The archive is synthesized, not crawled (the replica takes too long to build 10,000
articles): the replica's articles (`--per-generation 60`: 180 pages of the three
generations) are renumbered into as many distinct article URLs as asked, the words of
their paragraphs shuffled so that each has a text of its own, each a request and a
response record as `dcs crawl` writes them, with the home page, style sheets and pictures
once, in WARC files of 1,000 articles; `dcs extract` then writes their text files.
Both tools get the same WARC files. py-wacz runs twice: as a user would run it for a page
list with text (`--detect-pages --text`; it keeps as pages only URLs that other requests
name as their Referer, and these synthesized requests name none, so it finds no page), and
given our page list (`--pages pages.jsonl`), which is the WACZ ReplayWeb.page is timed on.

Measured for each: wall time and peak RSS of the export (dcs twice: with the index to
build, as py-wacz must, and with it up to date), the WACZ's size; then, in headless
Chromium, the seconds ReplayWeb.page takes from opening the file to drawing its page list
and to printing the full page count, to find by full-text search a word of the first,
middle and last page of the list, and to replay the last page by its URL. ReplayWeb.page
and Chromium come from scripts/install-replaywebpage.sh and scripts/install-chromium.sh;
the browser helpers are the tests' (tests/_replaywebpage.py).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from _chromium import Chromium, find_chromium  # noqa: E402
from _replaywebpage import ReplayWebPage, install_replaywebpage, replaywebpage_site  # noqa: E402

from crawler.extract.batch import reextract  # noqa: E402
from crawler.replay.sidecars import iter_sidecars  # noqa: E402
from crawler.replica import ReplicaSite  # noqa: E402

SITE = "https://dangcongsan.vn"
PER_FILE = 1000  # articles per WARC file
PLAIN_PARAGRAPH = re.compile(rb"<p>([^<]{200,})</p>")
# Words of their own for the first, middle and last page of the page list.
MARKERS = {"first": "mởđầuđánhdấu", "middle": "ởgiữađánhdấu", "last": "cuốicùngđánhdấu"}


@dataclass
class Export:
    name: str
    seconds: float
    peak_rss_mb: float
    path: Path
    pages: int = 0  # in its pages/pages.jsonl

    @property
    def mb(self) -> float:
        return self.bytes / 1e6

    def __post_init__(self) -> None:
        self.bytes = self.path.stat().st_size


@dataclass
class Opened:
    list_shown: float  # seconds until the page list drew its first entries
    all_counted: float  # ... until it printed the number of every page
    counted: int | None
    # Full-text search for a word of the first, middle and last page of pages.jsonl:
    # seconds until that page was listed alone, or None where it was not found.
    searches: dict[str, float | None] = field(default_factory=dict)
    last_page: float = 0.0  # seconds to replay the last page of the list, by its URL


def renumbered(path: str, n: int) -> str:
    """Article path number n: a new ID where the URL has one, a new slug where it has not."""
    path = path.split("?")[0]
    numbered = re.sub(r"\d+(?=\.html$)", str(900_000 + n), path)
    return numbered if numbered != path else path.replace(".html", f"-{n}.html")


def reworded(html: bytes, rng: random.Random) -> bytes:
    """The page with the words of its plain paragraphs shuffled: a text of its own.

    The replica writes every article from one small set of sentences; 10,000 copies of
    them would compress 50 times over, which no real archive does."""

    def shuffle(paragraph: re.Match) -> bytes:
        words = paragraph.group(1).split()
        rng.shuffle(words)
        return b"<p>" + b" ".join(words) + b"</p>"

    return PLAIN_PARAGRAPH.sub(shuffle, html)


def write_record(writer: WARCWriter, url: str, status: int, headers: dict, body: bytes, when):
    http = StatusAndHeaders(f"{status} OK", list(headers.items()), protocol="HTTP/1.1")
    target = url[len(SITE) :] or "/"
    request = StatusAndHeaders(
        f"GET {target} HTTP/1.1", [("Host", "dangcongsan.vn")], is_http_request=True
    )
    date = {"WARC-Date": when}
    response = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict=date
    )
    writer.write_record(response)
    writer.write_record(
        writer.create_warc_record(url, "request", http_headers=request, warc_headers_dict=date)
    )


def build_archive(out: Path, articles: int) -> tuple[int, dict[str, tuple[str, str]]]:
    """Synthesize the archive folder (see the module's docstring).

    Returns the number of articles and, for the first, middle and last page of the page
    list, the word of its own added to its text and its URL."""
    site = ReplicaSite(seed=1, per_generation=60)
    urls = site.urls()
    sources = []
    for path in urls["article"]:
        status, headers, body = site.render(path)
        if status == 200:
            sources.append((path.split("?")[0], headers, body))
    warc_dir = out / "warc"
    warc_dir.mkdir(parents=True)
    start = time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, 0))
    for first in range(0, articles, PER_FILE):
        name = f"dcs-{20260101000000000 + first}-{first // PER_FILE:05d}-bench.warc.gz"
        with open(warc_dir / name, "wb") as fh:
            writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
            if first == 0:  # the home page, style sheets and pictures, once
                for path in ["/", *urls["asset"], *urls["image"]]:
                    answer = site.render(path)
                    if answer and answer[0] == 200:
                        write_record(writer, SITE + path, 200, answer[1], answer[2], _iso(start))
            for n in range(first, min(first + PER_FILE, articles)):
                original, headers, body = sources[n % len(sources)]
                path = renumbered(original, n)
                page = body.replace(original.encode(), path.encode())  # its canonical link too
                page = reworded(page, random.Random(n))
                write_record(writer, SITE + path, 200, headers, page, _iso(start + 60 + n))
    summary = reextract([warc_dir], out / "text", progress=False)
    # A word of its own at the end of the text of the first, middle and last page (in the
    # order pages.jsonl lists them), to see which of them a search finds.
    sidecars = list(iter_sidecars(out))
    marked = (sidecars[0], sidecars[len(sidecars) // 2], sidecars[-1])
    targets = {}
    for (where, word), sidecar in zip(MARKERS.items(), marked, strict=True):
        with open(sidecar.text_path, "a", encoding="utf-8") as text:
            text.write(f"\n{word}\n")
        targets[where] = (word, sidecar.url)
    return summary.records, targets


def _pages_in(wacz: Path) -> int:
    with zipfile.ZipFile(wacz) as zf:
        if "pages/pages.jsonl" not in zf.namelist():
            return 0
        return len(zf.read("pages/pages.jsonl").splitlines()) - 1  # less its header


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def timed(name: str, command: list[str], path: Path) -> Export:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name} failed: {process.stderr.read().decode()[-2000:]}")
    return Export(name, seconds, usage.ru_maxrss / 1024, path)


def open_in_replaywebpage(
    chromium: str, app: Path, wacz: Path, targets: dict[str, tuple[str, str]]
) -> Opened:
    with tempfile.TemporaryDirectory(prefix="bench-rwp-") as folder:
        with replaywebpage_site(app, wacz, Path(folder)) as site, Chromium(chromium, 600) as b:
            rwp = ReplayWebPage(b, site.base_url)
            shown = rwp.open(wacz.name, timeout=600)
            start = time.monotonic()
            counted = rwp.wait(lambda: rwp.page_list()["counted"], 600, "the page count")
            opened = Opened(shown, shown + time.monotonic() - start, counted)
            for where, (word, url) in targets.items():
                opened.searches[where] = _search(rwp, word, url)
            start = time.monotonic()
            rwp.replay(targets["last"][1])
            rwp.replayed(timeout=120)
            opened.last_page = time.monotonic() - start
    return opened


def _search(rwp: ReplayWebPage, word: str, url: str) -> float | None:
    """Seconds until a search for `word` lists the page `url` alone; None if not in 30 s."""
    start = time.monotonic()
    try:
        rwp.search(word, until=[url])
    except AssertionError:
        return None
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    chromium = find_chromium() or sys.exit("chromium is missing: scripts/install-chromium.sh")
    app = install_replaywebpage()
    wacz_cli = Path(sys.executable).with_name("wacz")
    with tempfile.TemporaryDirectory(prefix="bench-wacz-") as scratch:
        work = Path(scratch)
        out = work / "archive"
        print(f"building a {args.articles:,}-article archive ...", file=sys.stderr, flush=True)
        pages, targets = build_archive(out, args.articles)
        warcs = sorted(str(p) for p in (out / "warc").glob("*.warc.gz"))
        size = sum(Path(p).stat().st_size for p in warcs) / 1e6
        print(f"{len(warcs)} WARC files, {size:.0f} MB, {pages:,} articles with text",
              file=sys.stderr)  # fmt: skip
        dcs_command = [sys.executable, "-m", "crawler.cli", "export", "wacz"]
        fresh = timed("dcs export (index built)", [*dcs_command, str(work / "dcs.wacz"),
                      "--out", str(out)], work / "dcs.wacz")  # fmt: skip
        again = timed("dcs export (index current)", [*dcs_command, str(work / "dcs2.wacz"),
                      "--out", str(out)], work / "dcs2.wacz")  # fmt: skip
        create = [str(wacz_cli), "create", "-o"]
        detected = timed("wacz create -d -t", [*create, str(work / "py.wacz"),
                         "--detect-pages", "--text", *warcs], work / "py.wacz")  # fmt: skip
        detected.pages = _pages_in(detected.path)
        page_list = work / "pages.jsonl"
        with zipfile.ZipFile(fresh.path) as zf:
            page_list.write_bytes(zf.read("pages/pages.jsonl"))
        pywacz = timed("wacz create -p pages.jsonl", [*create, str(work / "py-pages.wacz"),
                       "--pages", str(page_list), *warcs], work / "py-pages.wacz")  # fmt: skip
        pywacz.pages = _pages_in(pywacz.path)
        fresh.pages = again.pages = _pages_in(fresh.path)
        print("opening both in ReplayWeb.page ...", file=sys.stderr, flush=True)
        ours = open_in_replaywebpage(chromium, app, fresh.path, targets)
        theirs = open_in_replaywebpage(chromium, app, pywacz.path, targets)

    print(f"\n{args.articles:,} articles, {len(warcs)} WARC files, {size:.0f} MB of WARC")
    print(f"{'export':28} {'seconds':>8} {'peak RSS MB':>11} {'WACZ MB':>8} {'pages':>7}")
    for run in (fresh, again, detected, pywacz):
        print(f"{run.name:28} {run.seconds:8.1f} {run.peak_rss_mb:11.0f} {run.mb:8.1f} "
              f"{run.pages:7,}")  # fmt: skip
    print(f"\n{'ReplayWeb.page':28} {'list shown s':>12} {'all counted s':>13} {'pages':>7} "
          f"{'last page s':>11}")  # fmt: skip
    for name, opened in (("dcs export", ours), ("wacz create -p pages.jsonl", theirs)):
        print(f"{name:28} {opened.list_shown:12.1f} {opened.all_counted:13.1f} "
              f"{opened.counted or 0:7,} {opened.last_page:11.1f}")  # fmt: skip
    for where in targets:
        found = [f"{o.searches[where]:.1f} s" if o.searches[where] else "not found"
                 for o in (ours, theirs)]  # fmt: skip
        print(f"search for a word of the {where} page: {found[0]} (py-wacz: {found[1]})")
    print(
        f"ratio dcs/py-wacz: export time {fresh.seconds / pywacz.seconds:.2f} "
        f"(index current: {again.seconds / pywacz.seconds:.2f}), "
        f"peak RSS {fresh.peak_rss_mb / pywacz.peak_rss_mb:.2f}, size {fresh.mb / pywacz.mb:.2f}, "
        f"page list shown {ours.list_shown / theirs.list_shown:.2f}"
    )


if __name__ == "__main__":
    main()

"""`dcs demo`: crawl the bundled replica of the site, offline, and show what came of it."""

from __future__ import annotations

from pathlib import Path

from crawler.crawl import CrawlOptions, run_crawl
from crawler.layout import Layout
from crawler.replica import ReplicaServer, ReplicaSite

# A local replica answers at once: politeness off, as for any mirror you own.
LOCAL_MIRROR_SETTINGS = [
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "PROGRESS_INTERVAL=5",
]


def run_demo(out_dir: Path, max_articles: int | None = None) -> int:
    site = ReplicaSite(seed=1)
    with ReplicaServer(site) as server:
        print(f"Replica of dangcongsan.vn serving at {server.base_url}")
        print(f"Crawling it into {out_dir}/ ...", flush=True)
        run_crawl(
            CrawlOptions(
                out_dir=out_dir,
                base_url=server.base_url,
                max_articles=max_articles,
                settings=LOCAL_MIRROR_SETTINGS,
            )
        )
    layout = Layout.of(out_dir)
    warcs = layout.warc_files()
    texts = sorted(layout.text_dir.rglob("*.txt"))
    print(f"\nArchived: {len(warcs)} WARC file(s) in {layout.warc_dir},")
    print(f"          {len(texts)} text file(s) in {layout.text_dir}")
    # Show the seed article (the one of seed-article.txt) when this crawl reached it.
    example = next(layout.text_dir.rglob(f"{site.seed_article.id}.txt"), None)
    example = example or (texts[0] if texts else None)
    if example is None:
        return 0
    print(f"  e.g. {example}: {example.read_text(encoding='utf-8').splitlines()[0]}")
    print("Look at it:")
    print(f"  dcs replay serve --out {out_dir}   # then open http://127.0.0.1:8080/dcs/")
    print(f"  dcs replay list --out {out_dir} {example.stem}   # the captures of that article")
    print(f"  dcs replay show --out {out_dir} {example.stem}   # its text")
    print(f"  dcs export wacz demo.wacz --out {out_dir}")
    return 0

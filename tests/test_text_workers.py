"""Text on worker processes in a whole crawl: the same archive whatever their number, a
worker killed mid-crawl is replaced, and a worker that stalls stalls the fetching."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

from crawl_support import assert_complete, crawl, crawl_until, records

from crawler.replica import ReplicaServer, ReplicaSite
from crawler.site import Kind, Site

# Differ from one crawl to the next whatever the workers: when, where in the WARCs, and
# under which of an article's URLs (with or without ?categoryId=) it was met first.
PER_CAPTURE = ("fetched_at", "warc", "url")


def text_workers(pid: int) -> list[int]:
    """The text worker processes of the crawl ``pid``."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            command = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if parent == pid and b"crawler.textwork" in command:
            found.append(int(entry.name))
    return found


def output(out: Path) -> dict:
    """What a crawl made, less what differs between any two crawls (times, WARC offsets)."""
    texts = {
        str(p.relative_to(out / "text")): p.read_bytes() for p in (out / "text").rglob("*.txt")
    }
    sidecars = {}
    for path in (out / "text").rglob("*.json"):
        sidecar = json.loads(path.read_text(encoding="utf-8"))
        for key in PER_CAPTURE:
            sidecar.pop(key)
        for version in sidecar["versions"]:
            for key in PER_CAPTURE:
                version.pop(key, None)
        sidecars[str(path.relative_to(out / "text"))] = sidecar
    # By canonical URL and digest: which of a page's URLs was fetched, and whether a
    # repeated payload is a response or a revisit (deduplication), depend on which came first.
    # Lists are left out: one is paged on while it brings articles not yet met elsewhere.
    site = Site()
    payloads = Counter(
        (site.canonical(r.uri), r.warc_headers.get("WARC-Payload-Digest"))
        for r in records(out / "warc")
        if r.type in ("response", "revisit") and site.classify(r.uri) != Kind.LIST
    )
    payloads.update(
        (site.canonical(r.uri), r.payload_sha1)
        for r in records(out / "warc")
        if r.type == "conversion"
    )
    # Indexed by the text workers, or in the crawl's process with none.
    with sqlite3.connect(out / "index" / "search.sqlite3") as db:
        indexed = sorted(db.execute("SELECT article, path, sha1, title FROM docs"))
    return {"texts": texts, "sidecars": sidecars, "payloads": payloads, "indexed": indexed}


def test_a_crawl_makes_the_same_archive_with_0_1_or_2_text_workers(tmp_path):
    site = ReplicaSite(seed=6, per_generation=20)
    outputs = {}
    with ReplicaServer(site) as server:
        for workers in (0, 1, 2):
            out = tmp_path / f"workers-{workers}"
            crawl(server.base_url, out, "-s", f"TEXT_WORKERS={workers}")
            assert_complete(site, out)
            outputs[workers] = output(out)
    assert len(outputs[0]["texts"]) == len(outputs[0]["indexed"]) == len(site.articles)
    conversions = [r for r in records(tmp_path / "workers-0" / "warc") if r.type == "conversion"]
    assert len(conversions) == len(site.articles)
    assert outputs[0] == outputs[1] == outputs[2]


def test_a_text_worker_killed_mid_crawl_is_replaced_and_nothing_is_lost(tmp_path):
    site = ReplicaSite(seed=10, per_generation=30)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        victim = crawl_until(server, out, 10, "-s", "TEXT_WORKERS=1", stdout=subprocess.PIPE)
        [worker] = text_workers(victim.pid)
        os.kill(worker, signal.SIGKILL)
        stdout, _ = victim.communicate(timeout=300)
        assert victim.returncode == 0
        assert_complete(site, out)
    assert "1 text worker(s) died and were replaced" in stdout
    report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
    assert report["text_workers"]["lost"] == 1 and report["articles_failed"] == 0
    # Each article once: the page the worker was writing, if any, was written again.
    canonical = Site().canonical
    conversions = Counter(canonical(r.uri) for r in records(out / "warc") if r.type == "conversion")
    assert set(conversions) == {a.url for a in site.articles}
    assert set(conversions.values()) == {1}
    texts = {p.relative_to(out / "text").as_posix() for p in (out / "text").rglob("*.txt")}
    assert len(texts) == len(site.articles)
    # What the killed worker had queued for the search index, the crawl's end caught up.
    with sqlite3.connect(out / "index" / "search.sqlite3") as db:
        assert {row[0] for row in db.execute("SELECT path FROM docs")} == texts


def test_a_stalled_text_worker_stalls_the_fetching_not_the_memory(tmp_path):
    site = ReplicaSite(seed=11, per_generation=40)
    articles = {a.path for a in site.articles}
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        small = ["-s", "TEXT_WORKERS=1", "-s", "TEXT_QUEUE_SIZE=2"]
        small += ["-s", "SCRAPER_SLOT_MAX_ACTIVE_SIZE=100000"]
        victim = crawl_until(server, out, 5, *small)
        [worker] = text_workers(victim.pid)
        os.kill(worker, signal.SIGSTOP)
        try:
            time.sleep(3)  # what was under way when it stopped comes in
            before = len(server.log)
            time.sleep(3)
            assert len(server.log) == before, "fetching went on"
            written = len(list((out / "text").rglob("*.txt")))
            fetched = sum(1 for e in server.log if e.status == 200 and e.path in articles)
            # Held back: the queue, the responses Scrapy keeps (100 kB of bodies), downloads
            # that were under way. Not the whole site.
            assert fetched - written <= 20 < len(articles) - fetched
        finally:
            os.kill(worker, signal.SIGCONT)
        assert victim.wait(timeout=300) == 0
        assert_complete(site, out)

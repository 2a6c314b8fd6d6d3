"""Crawl benchmark: `dcs crawl` against `wget -r --warc-file`, side by side on the replica.

Both crawl the same local replica (faults off, politeness off) in one run of this script;
it prints pages/s, MB/s and peak RSS of each and the ratio, since absolute numbers on a
shared machine mean little. Usage: python bench/bench_crawl.py [--seed 1] [--per-generation 60]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import warcio.archiveiterator


@dataclass
class Run:
    name: str
    seconds: float
    pages: int
    bytes: int
    peak_rss_mb: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds


def ensure_wget() -> str:
    path = shutil.which("wget")
    if path:
        return path
    print("installing wget ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wget"], check=True)
    return shutil.which("wget") or sys.exit("wget could not be installed")


def timed(name: str, command: list[str], warc_dir: Path) -> Run:
    """Runs a command, measuring wall time and the child's peak RSS, then counts the
    response records and payload bytes it archived."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 8):  # wget exits 8 on any 404
        sys.exit(f"{name} failed: {command}")
    pages = size = 0
    for path in warc_dir.rglob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in warcio.archiveiterator.ArchiveIterator(stream):
                if record.rec_type == "response":
                    pages += 1
                    size += len(record.content_stream().read())
    return Run(name, seconds, pages, size, usage.ru_maxrss / 1024)


def start_replica(seed: int, per_generation: int) -> tuple[subprocess.Popen, str]:
    replica = subprocess.Popen(
        [sys.executable, "-m", "crawler.replica", "--port", "0", "--seed", str(seed),
         "--per-generation", str(per_generation)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in replica.stdout:
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if match:
            return replica, match.group(0)
    sys.exit("the replica did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-generation", type=int, default=60)
    args = parser.parse_args()
    wget = ensure_wget()
    replica, base_url = start_replica(args.seed, args.per_generation)
    work = Path(tempfile.mkdtemp(prefix="dcs-bench-"))
    try:
        dcs = timed(
            "dcs crawl",
            [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(work / "dcs"),
             "--base-url", base_url, "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
             "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "PROGRESS_INTERVAL=0"],
            work / "dcs" / "warc",
        )  # fmt: skip
        (work / "wget").mkdir()
        wget_run = timed(
            "wget -r --warc-file",
            [wget, "-r", "-l", "5", "-p", "-q", "-e", "robots=on", "--no-parent",
             "-P", str(work / "wget"), f"--warc-file={work / 'wget' / 'crawl'}", base_url + "/"],
            work / "wget",
        )  # fmt: skip
    finally:
        replica.terminate()
        replica.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'tool':22} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'MB/s':>6} {'peak RSS MB':>11}")
    for run in (dcs, wget_run):
        print(
            f"{run.name:22} {run.pages:6d} {run.seconds:8.1f} {run.pages_per_s:8.1f} "
            f"{run.mb_per_s:6.2f} {run.peak_rss_mb:11.0f}"
        )
    print(
        f"ratio dcs/wget: pages/s {dcs.pages_per_s / wget_run.pages_per_s:.2f}, "
        f"MB/s {dcs.mb_per_s / wget_run.mb_per_s:.2f}, "
        f"peak RSS {dcs.peak_rss_mb / wget_run.peak_rss_mb:.1f}"
    )
    print(
        "note: wget follows only links to the replica's own host name, dcs maps the site's "
        "absolute links too, so dcs archives more pages; compare the rates."
    )


if __name__ == "__main__":
    main()

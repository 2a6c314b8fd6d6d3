"""Crawl benchmark: `dcs crawl` (fetch + WARC + text) against the two steps a user would
script instead, on the same replica in the same run: `wget -r -l inf --warc-file`, then
`trafilatura.extract` over the article pages wget saved.

Prints the time, CPU time and peak RSS of each step, the ratio dcs / (wget + trafilatura),
and wget alone for reference; with several sizes, how dcs's peak RSS grows from the first to
the last. Absolute times on a shared machine mean little: the ratio is what counts (the load
average is printed with it). CPU time, the replica's own aside, moves far less with the load.

    python bench/bench_crawl.py                         # 3,000 articles
    python bench/bench_crawl.py --articles 3000 10000   # memory from 3,000 to 10,000
    python bench/bench_crawl.py --repeat 3              # medians of three runs of each

Both crawl politeness off (no delay, no AutoThrottle, 16 requests at once, 8 per host),
faults off. wget follows tag pages to their first page only, as dcs does (`TAG_MAX_PAGES`):
the replica's tag pages paginate without end, like the site's, and `-l inf` would never
finish. The trafilatura step reads each article once (by canonical URL), which spares it
the copies wget saves of one article under several URLs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import warcio.archiveiterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POLITENESS_OFF = [
    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "PROGRESS_INTERVAL=0",
]  # fmt: skip
TAG_PAGING = r"/tag/.*[?&]page="


@dataclass
class Run:
    name: str
    seconds: float
    peak_rss_mb: float  # of the whole process tree (dcs: the crawl and its text workers)
    cpu_seconds: float = 0.0  # user + system, the whole process tree (the replica's apart)
    responses: int = 0
    texts: int = 0


# -- measuring ----------------------------------------------------------------------------------
def rss_of_tree(root: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def settle() -> None:
    """Let the disk finish what earlier steps left it (the files of the last run deleted, say,
    which an ext4 mounted with `discard` trims at its next commit): else a step pays for the
    one before it, and timings swing by half."""
    os.sync()
    time.sleep(1)


def timed(name: str, command: list[str], ok=(0,), **popen) -> Run:
    """Runs a command; its wall time, its CPU time (with that of the processes it waited
    for: dcs's text workers) and the peak RSS of its process tree (sampled every 0.1 s, and
    at least the largest process's own peak)."""
    settle()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, **popen)
    peak = [0]
    finished = threading.Event()

    def sample() -> None:
        while not finished.wait(0.1):
            peak[0] = max(peak[0], rss_of_tree(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    finished.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in ok:
        sys.exit(f"{name} failed (exit {process.returncode}): {' '.join(command)}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(name, seconds, max(peak[0], usage.ru_maxrss * 1024) / 1e6, cpu)


def responses_in(warc_dir: Path) -> int:
    count = 0
    for path in warc_dir.rglob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in warcio.archiveiterator.ArchiveIterator(stream):
                count += record.rec_type in ("response", "revisit")
    return count


# -- the steps ------------------------------------------------------------------------------------
def ensure_wget() -> str:
    path = shutil.which("wget")
    if path:
        return path
    print("installing wget ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wget"], check=True)
    return shutil.which("wget") or sys.exit("wget could not be installed")


def start_replica(seed: int, per_generation: int) -> tuple[subprocess.Popen, str]:
    replica = subprocess.Popen(
        [sys.executable, "-m", "crawler.replica", "--port", "0", "--seed", str(seed),
         "--per-generation", str(per_generation)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )  # fmt: skip
    for line in replica.stdout:
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if match:
            return replica, match.group(0)
    sys.exit("the replica did not start")


def run_dcs(base_url: str, out: Path, extra: list[str]) -> Run:
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--out", str(out),
               "--base-url", base_url, *POLITENESS_OFF, *extra]  # fmt: skip
    run = timed("dcs crawl", command, cwd=ROOT)
    run.responses = responses_in(out / "warc")
    run.texts = sum(1 for _ in (out / "text").rglob("*.txt"))
    return run


def run_wget(wget: str, base_url: str, out: Path) -> Run:
    out.mkdir(parents=True)
    command = [wget, "-r", "-l", "inf", "-q", "--reject-regex", TAG_PAGING,
               f"--warc-file={out / 'crawl'}", base_url + "/"]  # fmt: skip
    run = timed(
        "wget -r -l inf --warc-file", command, ok=(0, 8), cwd=out, stderr=subprocess.DEVNULL
    )  # exit 8: some 404
    run.responses = responses_in(out)
    return run


def run_trafilatura(site_dir: Path, base_url: str, out: Path) -> Run:
    command = [sys.executable, __file__, "--extract-saved", str(site_dir), base_url, str(out)]
    run = timed("trafilatura.extract", command)
    run.texts = sum(1 for _ in out.glob("*.txt"))
    return run


def extract_saved(site_dir: Path, base_url: str, out: Path) -> None:
    """The second step: trafilatura over the article pages wget saved, one text file each."""
    import trafilatura

    from crawler.site import Kind, Site

    site = Site(base_url)
    out.mkdir(parents=True, exist_ok=True)
    done: set[str] = set()
    for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
        url = f"{base_url}/{unquote(str(path.relative_to(site_dir)))}"
        if site.classify(url) is not Kind.ARTICLE or site.canonical(url) in done:
            continue
        done.add(site.canonical(url))
        text = trafilatura.extract(path.read_bytes(), url=url) or ""
        name = hashlib.sha1(url.encode()).hexdigest()
        (out / f"{name}.txt").write_text(text, encoding="utf-8")


# -- one size -----------------------------------------------------------------------------------
def measure(size: int, args, wget: str) -> dict[str, Run]:
    per_generation = max(1, round(size / 3))
    replica, base_url = start_replica(args.seed, per_generation)
    runs: dict[str, list[Run]] = {}
    try:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="dcs-bench-") as scratch:
                work = Path(scratch)
                runs.setdefault("dcs", []).append(run_dcs(base_url, work / "dcs", args.setting))
                wget_run = run_wget(wget, base_url, work / "wget")
                host = base_url.split("//", 1)[1]
                traf = run_trafilatura(work / "wget" / host, base_url, work / "texts")
                runs.setdefault("wget", []).append(wget_run)
                runs.setdefault("trafilatura", []).append(traf)
    finally:
        replica.terminate()
        replica.wait()
    return {name: median_run(found) for name, found in runs.items()}


def median_run(runs: list[Run]) -> Run:
    middle = sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]
    return Run(
        middle.name,
        statistics.median(run.seconds for run in runs),
        max(run.peak_rss_mb for run in runs),
        statistics.median(run.cpu_seconds for run in runs),
        middle.responses,
        middle.texts,
    )


def report(size: int, runs: dict[str, Run]) -> None:
    dcs, wget, traf = runs["dcs"], runs["wget"], runs["trafilatura"]
    two_step = wget.seconds + traf.seconds
    print(f"\n{size} articles (replica); load average {os.getloadavg()[0]:.1f}")
    print(f"{'':30} {'seconds':>8} {'CPU s':>6} {'responses':>9} {'texts':>6} {'peak RSS MB':>11}")
    for run in (dcs, wget, traf):
        print(
            f"{run.name:30} {run.seconds:8.1f} {run.cpu_seconds:6.1f} {run.responses or '':>9} "
            f"{run.texts or '':>6} {run.peak_rss_mb:11.0f}"
        )
    print(f"{'wget + trafilatura':30} {two_step:8.1f} {wget.cpu_seconds + traf.cpu_seconds:6.1f}")
    print(f"ratio dcs / (wget + trafilatura): {dcs.seconds / two_step:.2f}")
    print(f"ratio dcs / wget alone:           {dcs.seconds / wget.seconds:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[3000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians shown")
    parser.add_argument("-s", dest="setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for dcs crawl (e.g. -s TEXT_WORKERS=0)")  # fmt: skip
    parser.add_argument("--extract-saved", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.extract_saved:
        site_dir, base_url, out = args.extract_saved
        extract_saved(Path(site_dir), base_url, Path(out))
        return
    args.setting = [part for pair in args.setting for part in ("-s", pair)]
    wget = ensure_wget()
    results = {}
    for size in args.articles:
        results[size] = measure(size, args, wget)
        report(size, results[size])
    if len(results) > 1:
        first, last = min(results), max(results)
        before, after = results[first]["dcs"].peak_rss_mb, results[last]["dcs"].peak_rss_mb
        print(
            f"\ndcs peak RSS from {first} to {last} articles: {before:.0f} -> {after:.0f} MB "
            f"({100 * (after - before) / before:+.0f}%)"
        )


if __name__ == "__main__":
    main()

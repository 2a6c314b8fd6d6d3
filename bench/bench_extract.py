"""Extraction speed: ms per page (the pure function) and re-extraction pages/s from WARCs.

    python bench/bench_extract.py               # the replica's articles, WARCs built in a temp dir
    python bench/bench_extract.py ARCHIVE_DIR   # re-extraction timed on an existing archive

Prints a small table; runs in well under a minute on two cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

import trafilatura
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_crawl import settle  # noqa: E402  (bench/ is the script's folder)

from crawler.extract import extract  # noqa: E402
from crawler.extract.batch import find_warcs, reextract  # noqa: E402

MIRROR = "http://127.0.0.1:8080"


def replica_pages(seed: int, per_generation: int) -> list[tuple[str, bytes, list]]:
    from crawler.replica import ReplicaSite

    site = ReplicaSite(seed=seed, per_generation=per_generation)
    pages = []
    for article in site.articles:
        status, headers, body = site.render(article.path)
        if status == 200:
            pages.append((MIRROR + article.path, body, list(dict(headers).items())))
    return pages


def build_warc(folder: Path, pages: list[tuple[str, bytes, list]], files: int = 4) -> None:
    """The pages as response records, spread over a few gzipped WARC files."""
    for index in range(files):
        with open(folder / f"bench-{index:05d}.warc.gz", "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for url, body, headers in pages[index::files]:
                http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    url, "response", payload=BytesIO(body), http_headers=http,
                    warc_headers_dict={"WARC-Date": "2026-11-28T01:00:00Z"},
                )  # fmt: skip
                writer.write_record(record)


def time_extract(pages: list[tuple[str, bytes, list]]) -> list[float]:
    timings = []
    for url, body, _headers in pages:
        start = time.perf_counter()
        extract(body, url)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def time_trafilatura(pages: list[tuple[str, bytes, list]]) -> list[float]:
    """What a user would otherwise run: trafilatura's own extract() on the whole page."""
    timings = []
    for url, body, _headers in pages:
        start = time.perf_counter()
        trafilatura.extract(body, url=url)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def time_reextract(inputs: list[Path], workers: int, records: int | None = None) -> tuple:
    with tempfile.TemporaryDirectory(prefix="bench-out-") as out:
        settle()
        start = time.perf_counter()
        summary = reextract(inputs, Path(out), workers=workers, progress=False)
        elapsed = time.perf_counter() - start
    return summary, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("archive", nargs="?", type=Path, help="an archive folder (or WARC files)")
    # About 900 pages: enough that starting the worker processes is not what is timed.
    parser.add_argument("--per-generation", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5, help="runs of dcs extract, best kept")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as scratch:
        if args.archive is None:
            pages = replica_pages(seed=1, per_generation=args.per_generation)
            timings = time_extract(pages)
            plain = time_trafilatura(pages)
            ours, theirs = statistics.median(timings), statistics.median(plain)
            rows.append(("extract() median", f"{ours:.1f} ms/page"))
            rows.append(("extract() p90", f"{statistics.quantiles(timings, n=10)[-1]:.1f} ms/page"))
            rows.append(("trafilatura.extract() median", f"{theirs:.1f} ms/page"))
            rows.append(("ratio dcs/trafilatura", f"{ours / theirs:.2f} (time per page)"))
            rows.append(("pages", str(len(pages))))
            build_warc(Path(scratch), pages)
            inputs = [Path(scratch)]
        else:
            inputs = [args.archive]
            rows.append(("WARC files", str(len(find_warcs(inputs)))))
        rates = {}
        counts = sorted({1, max(2, cores)})
        # The best of a few runs of each: the one least disturbed by other work on the
        # machine. Runs alternate, so that the machine's own drift (its speed moved by a
        # quarter from one minute to the next) falls on both sides alike.
        runs: dict[int, list] = {workers: [] for workers in counts}
        for _ in range(args.repeat):
            for workers in counts:
                runs[workers].append(time_reextract(inputs, workers))
        for workers in counts:
            summary, elapsed = min(runs[workers], key=lambda run: run[1])
            rates[workers] = summary.records / elapsed
            rows.append(
                (f"dcs extract, {workers} worker(s)", f"{rates[workers]:.1f} pages/s "
                 f"({summary.records} pages, {elapsed:.1f} s, best of {args.repeat})")
            )  # fmt: skip
        many = max(rates)
        rows.append((f"ratio {many} workers / 1 worker", f"{rates[many] / rates[1]:.2f}"))
        rows.append(("load average", f"{os.getloadavg()[0]:.1f}"))
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()

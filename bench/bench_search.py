"""Search at scale: `dcs search` on 500,000 synthetic articles, against grep and ripgrep.

    python bench/bench_search.py                       # 500,000 articles in a temp folder
    python bench/bench_search.py --articles 20000      # a quick run
    python bench/bench_search.py --dir /srv/b --keep   # keep the corpus (and reuse it next time)

The corpus is written as crawls write it (TEXT/YYYY/MM/DD/<id>.txt and <id>.json), ten years
of articles whose lengths follow the replica's (the seed article's length distribution, about
6 KB each), made of the seed's Vietnamese sentences and of generated ones over a Zipfian
vocabulary of syllables, with provinces and people's names at realistic rates. It measures:

- the index build from the text files alone (`dcs index --rebuild`): time, size;
- an update that finds nothing new (what every crawl's end and `dcs index` pay);
- p50/p95 query time of `search()` (query, lookup and snippets read from the text files),
  newest first (the default) and by relevance, over a mix of queries;
- the same questions put to `grep -ril` and `rg -il` over the text folder, the tools a user
  would pick instead, and the ratio. (They are told the exact spelling: neither can ignore
  diacritics, and each reads every byte of the corpus for every query.)
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.extract.dates import VIETNAM  # noqa: E402
from crawler.layout import Layout  # noqa: E402
from crawler.research.index import update_index  # noqa: E402
from crawler.research.search import Filters, search  # noqa: E402

PROVINCES = (
    "Hà Nội", "Thành phố Hồ Chí Minh", "Hải Phòng", "Quảng Ninh", "Đà Nẵng", "Cần Thơ",
    "Thanh Hóa", "Nghệ An", "Huế", "Lào Cai", "Điện Biên", "Sơn La", "Bắc Ninh", "Hưng Yên",
    "Nam Định", "Thái Bình", "Ninh Bình", "Quảng Trị", "Quảng Nam", "Khánh Hòa", "Đắk Lắk",
    "Lâm Đồng", "Bình Dương", "Đồng Nai", "Long An", "An Giang", "Kiên Giang", "Cà Mau",
    "Bạc Liêu", "Sóc Trăng", "Tây Ninh", "Hà Giang", "Cao Bằng", "Lạng Sơn", "Yên Bái",
)  # fmt: skip
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
ONSETS = (
    "", "b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "ph",
    "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip
RHYMES = (
    "a", "ai", "an", "ang", "anh", "ao", "au", "ay", "ăn", "ăng", "âm", "ân", "âu", "ây", "e",
    "em", "en", "eo", "ê", "ên", "êu", "i", "ia", "im", "in", "inh", "iêu", "iên", "o", "oa",
    "oan", "oang", "oi", "om", "on", "ong", "ô", "ôi", "ôn", "ông", "ơ", "ơi", "ơn", "u", "ua",
    "ui", "un", "ung", "uy", "uyên", "ư", "ưa", "ưng", "ươi", "ương", "ươn",
)  # fmt: skip
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
CATEGORIES = (
    "Thời sự", "Xây dựng Đảng", "Kinh tế", "Văn hóa", "Xã hội", "Quốc tế", "Pháp luật",
    "Giáo dục", "Y tế", "Quốc phòng - An ninh", "Khoa học - Công nghệ", "Thể thao",
)  # fmt: skip
YEARS = 10
START = datetime(2015, 1, 1, tzinfo=VIETNAM)


def syllable(onset: str, rhyme: str, tone: str) -> str:
    # The tone mark on the first vowel that can carry it: close enough for a word list.
    vowels = [i for i, ch in enumerate(rhyme) if ch in "aăâeêioôơuưy"]
    at = vowels[-2] if len(vowels) >= 2 and rhyme[-1] in "aiouy" else vowels[0]
    word = onset + rhyme[: at + 1] + tone + rhyme[at + 1 :]
    return unicodedata.normalize("NFC", word)


class Corpus:
    """Deterministic synthetic articles of the site's shape and length."""

    def __init__(self, seed: int) -> None:
        from crawler.replica import ReplicaSite
        from crawler.replica.text import seed_text, sentences

        self.rng = random.Random(seed)
        rng = self.rng
        seed_words = list(dict.fromkeys(w for w in seed_text().raw.split() if w.isalpha()))
        generated = [syllable(o, r, t) for o in ONSETS for r in RHYMES for t in TONES]
        rng.shuffle(generated)
        vocabulary = seed_words + [w for w in generated if w not in set(seed_words)]
        # Zipf: the k-th word is used in proportion to 1/k.
        self.vocabulary = vocabulary
        self.cumulative = list(itertools.accumulate(1 / (k + 1) for k in range(len(vocabulary))))
        given = vocabulary[:3000]
        self.people = [
            f"{rng.choice(FAMILY)} {rng.choice(given).title()} {rng.choice(given).title()}"
            for _ in range(20000)
        ]
        self.people_weights = list(itertools.accumulate(1 / (k + 1) for k in range(20000)))
        self.province_weights = list(
            itertools.accumulate(1 / (k + 1) for k in range(len(PROVINCES)))
        )
        self.sentences = list(sentences()) + [self.sentence() for _ in range(40000)]
        site = ReplicaSite(seed=1, per_generation=60)
        self.lengths = [len(a.expected_text) for a in site.articles]

    def zipf(self, values, cumulative, k=1):
        total = cumulative[-1]
        return [values[bisect.bisect(cumulative, self.rng.random() * total)] for _ in range(k)]

    def sentence(self) -> str:
        rng = self.rng
        words = self.zipf(self.vocabulary, self.cumulative, rng.randint(12, 30))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words)), self.zipf(PROVINCES, self.province_weights)[0])
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), self.zipf(self.people, self.people_weights)[0])
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def article(self, number: int) -> tuple[str, datetime, dict]:
        rng = self.rng
        target = rng.choice(self.lengths) * rng.uniform(0.8, 1.2)
        title = " ".join(rng.choice(self.sentences).rstrip(".").split()[: rng.randint(8, 14)])
        lines = [title, "(ĐCSVN) - " + rng.choice(self.sentences)]
        lines += [
            "- " + " ".join(rng.choice(self.sentences).split()[:10])
            for _ in range(rng.randint(0, 3))
        ]
        size = sum(map(len, lines))
        while size < target:
            paragraph = " ".join(rng.choice(self.sentences) for _ in range(rng.randint(2, 5)))
            lines.append(paragraph)
            size += len(paragraph)
        published = START + timedelta(minutes=rng.randrange(YEARS * 365 * 24 * 60))
        meta = {
            "category": rng.choice(CATEGORIES),
            "author": rng.choice(self.people[:300]),
            "tags": [rng.choice(PROVINCES), rng.choice(CATEGORIES).lower()],
        }
        return "\n".join(lines), published, meta


def write_corpus(text_dir: Path, articles: int, seed: int) -> tuple[int, float]:
    """Write the text files and sidecars; returns (bytes of text, seconds)."""
    corpus, started, total, made = Corpus(seed), time.perf_counter(), 0, set()
    fetched = datetime(2026, 11, 28, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    for number in range(articles):
        text, published, meta = corpus.article(number)
        ident = str(300000 + number)
        folder = f"{text_dir}/{published:%Y/%m/%d}"
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        data = text.encode("utf-8")
        total += len(data)
        with open(f"{folder}/{ident}.txt", "wb") as handle:
            handle.write(data)
        sha1 = hashlib.sha1(data).hexdigest()
        sidecar = {
            "id": ident,
            "url": f"https://dangcongsan.vn/thoi-su/bai-{ident}.html",
            "title": text.split("\n", 1)[0],
            "lead": text.split("\n", 2)[1],
            "published": published.isoformat(),
            **meta,
            "fetched_at": fetched,
            "sha1": sha1,
            "versions": [{"file": f"{ident}.txt", "sha1": sha1, "fetched_at": fetched}],
        }
        with open(f"{folder}/{ident}.json", "w", encoding="utf-8") as handle:
            handle.write(json.dumps(sidecar, ensure_ascii=False))
        if number % 50000 == 49999:
            print(f"  wrote {number + 1:,} articles", file=sys.stderr, flush=True)
    return total, time.perf_counter() - started


def queries() -> list[tuple[str, Filters]]:
    """Places, phrases, operators, a prefix, names, filters, a word no article has."""
    none = Filters()
    return [
        ("quang ninh", none),
        ('"quảng ninh"', none),
        ("Hà Nội", none),
        ('"thanh hoa"', none),
        ('"ca mau" du lich', none),
        ("bac lieu soc trang", none),
        ('"ha noi" OR "hai phong"', none),
        ('"quang ninh" NOT "ha noi"', none),
        ('("lao cai" OR "yen bai") hop tac', none),
        ("hop tac phat trien", none),
        ('"phat trien kinh te xa hoi"', none),
        ("cao toc*", none),
        ("nguyen", none),
        ('"tran van"', none),
        ("đảng bộ", Filters(category="xay dung dang")),
        ("hop tac", Filters(category="the thao")),
        ("quang ninh", Filters(tags=("Quảng Ninh",))),
        ("ha noi", Filters(since=datetime(2024, 1, 1).date(), until=datetime(2024, 3, 31).date())),
        (
            '"ca mau"',
            Filters(since=datetime(2016, 6, 1).date(), until=datetime(2016, 6, 30).date()),
        ),
        ("xyzzy", none),
        ("hội nghị", Filters(category="y te", since=datetime(2020, 1, 1).date())),
        ('"ha giang" "cao bang" "lang son"', none),
    ]


GREP_QUERIES = ("quảng ninh", "hợp tác phát triển", "cao bằng")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_queries(layout: Layout, order: str, rounds: int, cpu: list[float] | None = None):
    """Wall-clock seconds of each query (and, into `cpu`, the CPU seconds it took: on a
    machine others share, the part of the wall time that is this process's own work)."""
    timings = []
    for _ in range(rounds):
        for text, filters in queries():
            started, used = time.perf_counter(), time.process_time()
            search(layout, text, filters=filters, order=order)
            timings.append(time.perf_counter() - started)
            if cpu is not None:
                cpu.append(time.process_time() - used)
    return timings


def time_tool(command: list[str], rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timings.append(time.perf_counter() - started)
    return timings


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def report(*, articles, text_bytes, texts, build, index_bytes, noop, timings, rounds) -> None:
    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:,.1f} ms"

    print(f"\nCorpus: {articles:,} articles, {text_bytes / 1e6:,.0f} MB of text "
          f"({text_bytes / articles / 1e3:.1f} KB each); {texts:,} texts indexed\n")  # fmt: skip
    built = (
        f"{build:,.0f} s ({articles / build:,.0f} articles/s, {text_bytes / build / 1e6:.1f} MB/s)"
        if build == build  # not NaN: timed in this run
        else "not timed in this run (--queries-only)"
    )
    table(["search index", ""], [
        ["build from the text files", built],
        ["index size", f"{index_bytes / 1e6:,.0f} MB ({index_bytes / text_bytes:.0%} of the text)"],
        ["update that finds nothing new", f"{noop:.2f} s"],
    ])  # fmt: skip
    table(
        [f"query ({len(queries())} queries x {rounds}, 20 hits)", "p50", "p95", "max"],
        [[name, ms(v, 0.5), ms(v, 0.95), ms(v, 1)] for name, v in timings.items()],
    )
    newest = next(iter(timings.values()))
    p95 = percentile(newest, 0.95) * 1000
    print(f"Target p95 < 100 ms: {'met' if p95 < 100 else 'NOT met'} ({p95:.1f} ms)")
    for name, values in timings.items():
        if "text folder" in name:
            ratio = percentile(values, 0.5) / percentile(newest, 0.5)
            print(f"ratio {name} / `search()`, p50: {ratio:,.0f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500_000)
    parser.add_argument("--dir", type=Path, help="where to write the corpus (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus afterwards")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--queries-only", action="store_true",
        help="with --keep'd corpus and index: time the queries only (no build, no grep)",
    )  # fmt: skip
    args = parser.parse_args()

    root = args.dir or Path(tempfile.mkdtemp(prefix="dcs-bench-search-"))
    out = root / f"archive-{args.articles}"
    layout = Layout.of(out)
    try:
        marker = out / "corpus-complete"
        if marker.exists():
            text_bytes = int(marker.read_text())
            print(f"Corpus: {args.articles:,} articles already in {out}", file=sys.stderr)
        else:
            shutil.rmtree(out, ignore_errors=True)
            print(f"Writing {args.articles:,} articles into {out}", file=sys.stderr)
            text_bytes, took = write_corpus(layout.text_dir, args.articles, args.seed)
            marker.write_text(str(text_bytes))
            print(f"  {took:.0f} s", file=sys.stderr)

        if args.queries_only and layout.search_index.exists():
            print("Using the search index already built", file=sys.stderr)
            built, build = update_index(layout), float("nan")
        else:
            print("Building the search index from the text files", file=sys.stderr)
            started = time.perf_counter()
            built = update_index(layout, rebuild=True)
            build = time.perf_counter() - started
        started = time.perf_counter()
        update_index(layout)
        noop = time.perf_counter() - started
        index_bytes = layout.search_index.stat().st_size

        print("Querying", file=sys.stderr)
        time_queries(layout, "newest", 1)  # warm the page cache, as a user's second query
        cpu: list[float] = []
        newest = time_queries(layout, "newest", args.rounds, cpu)
        relevance = time_queries(layout, "relevance", max(1, args.rounds // 2))
        cli = time_tool(
            [sys.executable, "-m", "crawler.cli", "search", "--out", str(out), "quang", "ninh"], 3
        )

        print("Asking grep and ripgrep", file=sys.stderr)
        tools: dict[str, list[float]] = {}
        for name, base in (("grep -ril", ["grep", "-ril", "-F"]), ("rg -il", ["rg", "-il", "-F"])):
            if args.queries_only:
                break
            if shutil.which(base[0]) is None:
                print(f"  {base[0]} is not installed: left out", file=sys.stderr)
                continue
            time_tool([*base, GREP_QUERIES[0], str(layout.text_dir)], 1)  # warm
            tools[name] = [
                t for q in GREP_QUERIES for t in time_tool([*base, q, str(layout.text_dir)], 2)
            ]

        report(
            articles=args.articles,
            text_bytes=text_bytes,
            texts=built.texts,
            build=build,
            index_bytes=index_bytes,
            noop=noop,
            timings={
                "`search()`, newest first (the default)": newest,
                "`search()`, newest first: CPU time of the process": cpu,
                "`search()`, by relevance": relevance,
                "`dcs search quang ninh`, the whole command": cli,
                **{f"`{name}` over the text folder": values for name, values in tools.items()},
            },
            rounds=args.rounds,
        )
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
            if args.dir is None:
                shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The extractor on markup nobody mapped: the replica's markup variants, every generation.

Each variant (crawler.replica.variants) renames every class and id with made-up words,
re-nests the containers, moves and wraps the lead, sets the related box under another name,
under a heading alone or as a bare list, cuts <head> short, repeats paragraphs and hides
images under other lazy-loading attributes. Required: >= 98% of each generation's texts
exact under every variant, and the seed article byte for byte. The rates are printed in
pytest's summary.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from dataclasses import astuple, fields
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from _rates import ExactRates, check_metadata, record
from crawl_support import crawl, dcs

from crawler.extract import extract, render_text
from crawler.extract.text import fold
from crawler.replica import ReplicaServer, ReplicaSite
from crawler.replica.variants import LEAD_PLACES, Variant

REPO = Path(__file__).resolve().parents[1]
SEED_TEXT = (REPO / "crawler" / "replica" / "data" / "seed-article.txt").read_text("utf-8")
MIRROR = "http://127.0.0.1:8080"  # a crawl of the replica fetches its paths from a mirror
VARIANTS = range(1, 11)  # ten markups, each unlike the others and unlike the replica's own
_NAMES = re.compile(r'\b(?:class|id)="([^"]*)"')


@cache
def _readings(number: int) -> tuple[ReplicaSite, list]:
    """The replica under variant `number`, and each article with what the extractor read."""
    site = ReplicaSite(seed=1, markup_variant=number)
    return site, [(a, extract(site.render(a.path)[2], MIRROR + a.path)) for a in site.articles]


def _names(site: ReplicaSite) -> set[str]:
    """Every class and id written on the site's article pages."""
    found: set[str] = set()
    for a in site.articles:
        for value in _NAMES.findall(site.render(a.path)[2].decode("utf-8")):
            found.update(value.split())
    return found


@pytest.mark.parametrize("number", VARIANTS)
def test_text_is_exact_for_each_generation_under_markup_variant(number: int) -> None:
    site, readings = _readings(number)
    rates = ExactRates.of(readings)
    record(f"{site.variant.describe()}\n    {rates}")
    rates.check()


@pytest.mark.parametrize("number", [0, *VARIANTS])
def test_the_seed_article_comes_out_byte_exact_under_markup_variant(number: int) -> None:
    site = ReplicaSite(seed=1, per_generation=3, markup_variant=number)
    seed = site.seed_article
    assert render_text(extract(site.render(seed.path)[2], MIRROR + seed.path)) == SEED_TEXT


@pytest.mark.parametrize("number", VARIANTS)
def test_metadata_stays_right_under_markup_variant(number: int) -> None:
    """What the sidecar says, read from markup nobody mapped: dates place the text file."""
    _site, readings = _readings(number)
    check_metadata(readings)


def test_the_variants_class_names_appear_in_no_extraction_rule() -> None:
    """A variant is a site nobody mapped: none of its names may be in the extractor's code."""
    sources = "\n".join(
        path.read_text("utf-8")
        for path in [*(REPO / "crawler" / "extract").glob("*.py"), REPO / "crawler" / "site.py"]
    )
    own = _names(ReplicaSite(seed=1, per_generation=5))
    for number in VARIANTS:
        names = _names(ReplicaSite(seed=1, per_generation=5, markup_variant=number)) - own
        assert len(names) > 20, number
        named = [n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", sources)]
        assert named == [], (number, named)


def test_the_variants_differ_from_each_other_in_every_choice() -> None:
    choices = [astuple(Variant.of(number))[1:] for number in VARIANTS]
    assert len(set(choices)) == len(choices)
    for index, item in enumerate(fields(Variant)[1:]):
        assert len({choice[index] for choice in choices}) >= 2, item.name
    # the structural choices take each of their values within the first eight variants
    first = [Variant.of(number) for number in range(1, 9)]
    assert {v.related_form for v in first} == {"named", "heading", "bare"}
    assert {v.rename for v in first} == {"all", "inner"}
    assert {v.nesting for v in first} == {0, 1, 2, 3}
    assert {v.lead_place for v in first} == set(LEAD_PLACES)


def test_a_variant_is_the_same_site_for_the_same_number_and_zero_is_the_replicas_own() -> None:
    own, zero = ReplicaSite(seed=2, per_generation=4), ReplicaSite(seed=2, per_generation=4)
    one = ReplicaSite(seed=2, per_generation=4, markup_variant=5)
    again = ReplicaSite(seed=2, per_generation=4, markup_variant=5)
    other = ReplicaSite(seed=2, per_generation=4, markup_variant=6)
    seed = own.seed_article.path
    assert Variant.of(0) is None and zero.variant is None
    assert own.render(seed) == zero.render(seed)
    assert one.render(seed) == again.render(seed) != own.render(seed)
    assert other.render(seed)[2] != one.render(seed)[2]
    with pytest.raises(ValueError):
        ReplicaSite(seed=1, markup_variant=-1)


def test_the_ground_truth_follows_the_variant() -> None:
    """Paragraphs shown twice are in the expected text twice; dead related links stay."""
    own = {a.key: a for a in ReplicaSite(seed=1).articles}
    site = ReplicaSite(seed=1, markup_variant=3)
    repeated = [
        a
        for a in site.articles
        if any(x == y for x, y in zip(a.paragraphs, a.paragraphs[1:], strict=False))
    ]
    dead = [a for a in site.articles if any(not r.target for r in a.related_links)]
    assert repeated and dead
    for a in repeated[:3]:
        shown = fold(lxml.html.document_fromstring(site.render(a.path)[2]).text_content())
        twice = next(x for x, y in zip(a.paragraphs, a.paragraphs[1:], strict=False) if x == y)
        assert len(a.paragraphs) == len(own[a.key].paragraphs) + 1
        assert f"{twice}\n{twice}" in a.expected_text
        assert shown.count(fold(twice)) == 2
    for a in dead[:3]:
        r = next(r for r in a.related_links if not r.target)
        assert f"- {r.title}" in a.expected_text and r.href in site.render(a.path)[2].decode()
        assert site.render(r.href) is None  # 404
    assert site.seed_article.expected_text == SEED_TEXT


def test_dcs_replica_serves_a_markup_variant() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.replica", "--per-generation", "4", "--markup-variant", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = process.stdout.readline().strip()
        parts = urlsplit(base)
        seed_path = ReplicaSite(seed=1, per_generation=4).seed_article.path
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", seed_path)
        page = conn.getresponse().read()
        conn.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert b"article__sapo" not in page  # not the replica's own markup
    assert render_text(extract(page, base + seed_path)) == SEED_TEXT
    bad = dcs("replica", "--markup-variant", "-1")
    assert bad.returncode == 2 and bad.stderr.startswith("dcs: error: argument --markup-variant")
    assert bad.stderr.count("\n") == 1


def test_a_crawl_of_unmapped_markup_reports_its_suspect_texts(tmp_path: Path) -> None:
    """Drift shows the day it happens: every text read without a site rule is counted, per
    generation and method, and listed in the crawl's and `dcs extract`'s reports."""
    site = ReplicaSite(seed=4, per_generation=4, markup_variant=2)
    out = tmp_path / "archive"
    with ReplicaServer(site) as server:
        result = crawl(server.base_url, out)
    report = json.loads(next((out / "reports").glob("crawl-*.json")).read_text())
    suspect = report["suspect_texts"]
    assert suspect["count"] == report["articles"] == len(site.articles)
    assert set(suspect["by_generation"]) == {"1", "2", "3"}
    assert all(set(methods) == {"generic"} for methods in suspect["by_generation"].values())
    assert {entry["url"] for entry in suspect["articles"]} == {a.url for a in site.articles}
    assert all("generic" in entry["reasons"] for entry in suspect["articles"])
    assert f"Text: {suspect['count']} suspect texts (gen 1: " in result.stdout

    again = dcs("extract", str(out / "warc"), "--out", str(out), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert f"text: {suspect['count']} suspect texts (gen 1: " in again.stdout
    extract_report = json.loads(next((out / "reports").glob("extract-*.json")).read_text())
    assert extract_report["suspect_texts"]["articles"] == suspect["articles"]
    assert f"Report: {out / 'reports'}" in again.stdout

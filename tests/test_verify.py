"""`dcs verify [--repair]`: the fixity check of a real crawl of the replica, damaged on
purpose; then a crawl after the repair fetches exactly what was lost, and nothing else."""

from __future__ import annotations

import gzip
import json
import random
import sqlite3
from collections import Counter

from crawl_support import crawl, dcs, records
from warcio.archiveiterator import ArchiveIterator

from crawler.repair import repair
from crawler.replica import ReplicaServer, ReplicaSite
from crawler.verify import DAMAGED, LOST, MISSING, verify
from crawler.warc.gzip_members import walk

REPLICA = {"seed": 1, "per_generation": 3}  # the site small_archive was crawled from


def flip_64_bytes(path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at : at + 64] = bytes(b ^ 0xFF for b in data[at : at + 64])
    path.write_bytes(bytes(data))


def kept_captures(archive, path) -> list:
    """The captures of a file (no articles, no robots.txt) that their state rows keep: the
    later crawls found them unchanged and wrote revisits that refer to them."""
    state = sqlite3.connect(archive.out_dir / "state.sqlite3")
    kept = set(
        state.execute(
            "SELECT ref_filename, ref_offset FROM urls WHERE kind != 'article' AND ref_status = 200"
        )
    )
    return [
        c
        for c in archive.captures
        if (c.filename, c.offset) in kept and c.filename == path.name
        and not c.url.endswith("robots.txt")
    ]  # fmt: skip


def early_capture(archive):
    """A page or image of the first crawl's file that some article follows."""
    path = archive.out_dir / "warc" / archive.warcs[0]
    last_article = max(
        c.offset for c in archive.captures if c.filename == path.name and c.url in archive.articles
    )
    early = [c for c in kept_captures(archive, path) if c.offset < last_article]
    return early[len(early) // 2], path


def seed_text_file(archive):
    [path] = archive.out_dir.glob(f"text/*/*/*/{archive.seed_id}.txt")
    return path


def test_the_crawled_archive_is_intact_but_for_the_text_removed(small_archive):
    fixity = verify(small_archive.out_dir)

    assert [(f.kind, f.where) for f in fixity.findings] == [(LOST, small_archive.without_text)]
    assert "text file" in fixity.findings[0].why and "missing" in fixity.findings[0].why
    assert len(fixity.warcs) == len(small_archive.warcs)
    assert sum(check.records for check in fixity.warcs) > len(small_archive.captures)
    assert fixity.texts > 0 and fixity.rows > 0


def test_a_record_whose_digest_fails_is_damaged_and_its_capture_lost(archive_copy):
    # One bit of an image changed inside a record that is still whole gzip, of the same
    # length (so that no other record moves): only the digests can tell.
    # An image no other URL refers to: the same picture under two URLs is archived once,
    # and damage to it loses both (which of the two holds the record depends on the order
    # the crawl fetched them in).
    path = archive_copy.out_dir / "warc" / archive_copy.warcs[0]
    data = path.read_bytes()
    images = {c.offset: c for c in kept_captures(archive_copy, path)}
    state = sqlite3.connect(archive_copy.out_dir / "state.sqlite3")
    referrers = Counter(state.execute("SELECT ref_filename, ref_offset FROM urls"))
    for member in walk(path, inflate=True):
        capture = images.get(member.offset)
        if capture is None or not capture.content_type.startswith("image/"):
            continue
        if referrers[(path.name, member.offset)] > 1:
            continue
        record = bytearray(member.data)
        record[-10] ^= 0x01  # in the payload, before the record's closing CRLF CRLF
        tampered = gzip.compress(bytes(record))
        if len(tampered) == member.length:
            break
    path.write_bytes(data[: member.offset] + tampered + data[member.end :])

    fixity = verify(archive_copy.out_dir)

    damaged = [f for f in fixity.findings if f.kind == DAMAGED]
    assert len(damaged) == 1 and damaged[0].where == f"warc/{path.name}"
    assert "block digest failed" in damaged[0].why and "payload digest failed" in damaged[0].why
    assert sorted(lost.fetch_url for lost in fixity.lost) == sorted(
        [capture.url, archive_copy.without_text]
    )


def test_damage_is_found_repaired_and_refetched_by_the_next_crawl(archive_copy):
    out = archive_copy.out_dir
    hit, first = early_capture(archive_copy)
    flip_64_bytes(first, hit.offset + hit.length // 2 - 32)
    second = out / "warc" / archive_copy.warcs[1]
    with open(second, "ab") as file:
        file.write(random.Random(9).randbytes(5000))  # garbage after the last record
    seed_text = seed_text_file(archive_copy)
    seed_text.write_text(seed_text.read_text(encoding="utf-8").replace("Đảng", "Dang", 1))

    check = dcs("verify", "--out", str(out))

    assert check.returncode == 1 and check.stderr == "", check.stderr
    lines = check.stdout.splitlines()
    assert f"damaged: warc/{first.name}: bytes {hit.offset}-" in check.stdout
    assert f"damaged: warc/{second.name}: bytes {second.stat().st_size - 5000}-" in check.stdout
    assert f"damaged: {seed_text.relative_to(out)}: SHA-1" in check.stdout
    lost = sorted(line.split(": ")[1] for line in lines if line.startswith("lost: "))
    assert lost == sorted([hit.url, archive_copy.without_text, archive_copy.seed_url])
    assert lines[-1].startswith("Verified 3 WARC files") and "3 lost captures" in lines[-1]

    repair = dcs("verify", "--out", str(out), "--repair")

    assert repair.returncode == 1, repair.stderr
    quarantined = sorted(p.relative_to(out / "quarantine") for p in (out / "quarantine").rglob("*"))
    assert {str(p) for p in quarantined} >= {
        "warc",
        f"warc/{first.name}",
        f"warc/{second.name}",
        str(seed_text.relative_to(out)),
    }
    assert "re-queued 3 lost capture(s)" in repair.stdout
    assert first.stat().st_size < (out / "quarantine" / "warc" / first.name).stat().st_size
    frontier = sqlite3.connect(out / "state.sqlite3").execute("SELECT url FROM frontier")
    assert len(frontier.fetchall()) == 3
    assert "moved the WARC pointers of" in repair.stdout
    for where in sidecar_pointers(out):  # moved with the records after the damage cut out
        with open(out / "warc" / where["filename"], "rb") as warc:
            warc.seek(where["offset"])
            record = next(iter(ArchiveIterator(warc)))
        assert record.rec_headers.get_header("WARC-Record-ID") == where["record_id"]

    before = {p.name for p in (out / "warc").iterdir()}
    with ReplicaServer(ReplicaSite(**REPLICA)) as server:
        crawl(server.base_url, out)
    [new] = {p.name for p in (out / "warc").iterdir()} - before
    fetched = {
        r.uri
        for r in records(out / "warc")
        if r.filename == new and r.type == "response" and r.status == 200
    }
    assert fetched - {"https://dangcongsan.vn/robots.txt"} == set(lost)

    after = dcs("verify", "--out", str(out))
    assert after.returncode == 0, after.stdout
    assert after.stdout.splitlines()[-1].endswith("all intact.")
    assert seed_text.read_text(encoding="utf-8") == archive_copy.seed_text


def sidecar_pointers(out) -> list[dict]:
    pointers = []
    for path in out.glob("text/*/*/*/*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        pointers += [data["warc"]] + [version["warc"] for version in data["versions"]]
    return pointers


def test_a_state_store_of_random_bytes_is_damaged_and_quarantined(archive_copy):
    state = archive_copy.out_dir / "state.sqlite3"
    state.write_bytes(random.Random(3).randbytes(50_000))

    check = dcs("verify", "--out", str(archive_copy.out_dir))
    assert check.returncode == 1 and "damaged: state.sqlite3: " in check.stdout

    repair = dcs("verify", "--out", str(archive_copy.out_dir), "--repair")
    assert "the next crawl is a full one" in repair.stdout
    assert not state.exists()
    assert (archive_copy.out_dir / "quarantine" / "state.sqlite3").stat().st_size == 50_000


def test_findings_name_missing_text_files(archive_copy):
    seed_text = seed_text_file(archive_copy)
    seed_text.unlink()
    fixity = verify(archive_copy.out_dir)
    missing = [f for f in fixity.findings if f.kind == MISSING]
    assert [f.where for f in missing] == [str(seed_text.relative_to(archive_copy.out_dir))]
    assert archive_copy.seed_url in [lost.fetch_url for lost in fixity.lost]


def test_an_unreadable_sidecar_goes_to_quarantine_with_its_text(archive_copy):
    out = archive_copy.out_dir
    text = seed_text_file(archive_copy)
    sidecar = text.with_suffix(".json")
    sidecar.write_text('{"url": "https://dangcongsan.vn/', encoding="utf-8")  # cut short

    fixity = verify(out)

    assert (DAMAGED, str(sidecar.relative_to(out))) in [(f.kind, f.where) for f in fixity.findings]
    assert archive_copy.seed_url in [lost.fetch_url for lost in fixity.lost]
    lines = repair(fixity)
    assert not sidecar.exists() and not text.exists()
    assert (out / "quarantine" / text.relative_to(out)).read_text(encoding="utf-8") == (
        archive_copy.seed_text
    )
    assert any(line.startswith("re-queued 2 lost capture(s)") for line in lines)

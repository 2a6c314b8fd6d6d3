"""`replay show` / `replay list`: captures found by any URL variant or ID, bytes as archived."""

from __future__ import annotations

import gzip
import importlib.util
import json
import zlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.errors import DcsError
from crawler.replay.show import find_captures, pick_capture, show
from crawler.site import article_id


def _raw_block(archive, capture) -> bytes:
    """The record's content block (HTTP headers + body as sent), read independently."""
    with open(archive.out_dir / "warc" / capture.filename, "rb") as fh:
        fh.seek(capture.offset)
        record = next(iter(ArchiveIterator(fh, no_record_parse=True)))
        return record.raw_stream.read()


def _decode(headers: bytes, body: bytes) -> bytes:
    lower = headers.lower()
    if b"content-encoding: gzip" in lower:
        return gzip.decompress(body)
    if b"content-encoding: deflate" in lower:
        return zlib.decompress(body)
    return body


def test_any_variant_of_the_url_finds_the_same_captures(small_archive):
    url = small_archive.seed_url
    expected = find_captures(small_archive.out_dir, url)
    assert [c.timestamp for c in expected] == [
        small_archive.seed_timestamp,
        small_archive.identical_revisit.timestamp,
    ]
    variants = [
        url.replace("https://", "http://www."),
        url.replace("https://", "https://www."),
        url + "?utm_source=facebook&utm_medium=social",
        url + "#comments",
        url.replace("https://", ""),
    ]
    for variant in variants:
        assert find_captures(small_archive.out_dir, variant) == expected, variant


def test_a_portal_article_is_found_without_its_category_query(small_archive):
    assert small_archive.portal
    for url in small_archive.portal:
        # The crawl archived it as first linked: with its category query, or without one.
        bare = url.split("?", 1)[0]
        archived = [c for c in small_archive.captures if c.url.split("?", 1)[0] == bare]
        expected = find_captures(small_archive.out_dir, url)
        assert {(c.filename, c.offset) for c in expected} == {
            (c.filename, c.offset) for c in archived
        }
        assert len(expected) == len(archived)
        assert find_captures(small_archive.out_dir, bare) == expected
        assert find_captures(small_archive.out_dir, bare + "?categoryId=1902448") == expected


def test_an_id_finds_the_article(small_archive):
    by_id = find_captures(small_archive.out_dir, small_archive.seed_id)
    assert by_id == find_captures(small_archive.out_dir, small_archive.seed_url)


def test_an_id_without_a_text_file_is_found_by_its_url_pattern(small_archive):
    url = small_archive.without_text
    ident = article_id(url)
    if ident is None:
        url = next(
            u for u in small_archive.articles if article_id(u) and u != small_archive.seed_url
        )
        ident = article_id(url)
    captures = find_captures(small_archive.out_dir, ident)
    assert captures and all(c.url == url for c in captures)


def test_capture_fields(small_archive):
    [first, revisit] = find_captures(small_archive.out_dir, small_archive.seed_url)
    expected = small_archive.capture_of(small_archive.seed_url)
    assert (first.filename, first.offset, first.length) == (
        expected.filename,
        expected.offset,
        expected.length,
    )
    assert first.status == "200" and first.mime == "text/html" and not first.is_revisit
    assert first.digest.startswith("sha1:")
    assert revisit.is_revisit and revisit.digest == first.digest


def test_html_is_exactly_the_archived_payload_decoded(small_archive):
    capture = small_archive.capture_of(small_archive.seed_url)
    block = _raw_block(small_archive, capture)
    headers, body = block.split(b"\r\n\r\n", 1)

    html = show(small_archive.out_dir, small_archive.seed_url, part="html")

    assert html == _decode(headers, body)
    assert small_archive.seed_title.encode() in html


def test_headers_are_exactly_the_archived_headers(small_archive):
    capture = small_archive.capture_of(small_archive.seed_url)
    block = _raw_block(small_archive, capture)
    got = show(small_archive.out_dir, small_archive.seed_url, at=capture.timestamp, part="headers")
    assert block.startswith(got)
    assert got.endswith(b"\r\n\r\n") and got.startswith(b"HTTP/1.1 200")


def test_text_is_the_text_file_of_that_capture(small_archive):
    text = show(small_archive.out_dir, small_archive.seed_url)
    assert text == small_archive.seed_text.encode("utf-8")
    # The revisit stands for the same capture: same text.
    at = small_archive.identical_revisit.timestamp
    assert show(small_archive.out_dir, small_archive.seed_id, at=at) == text


def test_at_picks_the_closest_capture(small_archive):
    first, revisit = find_captures(small_archive.out_dir, small_archive.seed_url)
    assert pick_capture([first, revisit], "2025") == first
    assert pick_capture([first, revisit], first.timestamp[:8]) == first
    assert pick_capture([first, revisit], revisit.timestamp) == revisit
    assert pick_capture([first, revisit], "2030") == revisit
    assert pick_capture([first, revisit]) == revisit  # the latest by default


def test_revisits_show_the_original_payload_and_their_own_headers(small_archive):
    out = small_archive.out_dir
    at = small_archive.identical_revisit.timestamp
    original_html = show(out, small_archive.seed_url, at=small_archive.seed_timestamp, part="html")
    assert show(out, small_archive.seed_url, at=at, part="html") == original_html

    revisit = small_archive.not_modified_revisit
    css = show(out, revisit.url, at=revisit.timestamp, part="html")
    original = small_archive.capture_of(revisit.url)
    headers, body = _raw_block(small_archive, original).split(b"\r\n\r\n", 1)
    assert css == _decode(headers, body) and css
    assert show(out, revisit.url, at=revisit.timestamp, part="headers").startswith(b"HTTP/1.1 304")


def test_a_revisit_of_another_url_shows_that_urls_payload(small_archive):
    out, copy = small_archive.out_dir, small_archive.copied_photo
    photo = show(out, copy.url, at=copy.timestamp, part="html")
    assert photo and photo == show(out, copy.refers_to_url, part="html")
    assert show(out, copy.url, at=copy.timestamp, part="headers").startswith(b"HTTP/1.1 200")


def test_text_of_an_older_capture_is_its_kept_version(archive_copy):
    """A sidecar lists every text with its capture: show picks the one of the capture asked."""
    out = archive_copy.out_dir
    [sidecar] = list(out.glob(f"text/*/*/*/{archive_copy.seed_id}.json"))
    data = json.loads(sidecar.read_text())
    old_file = f"{archive_copy.seed_id}.{archive_copy.seed_timestamp}.txt"
    (sidecar.parent / old_file).write_text("older text", encoding="utf-8")
    newer = {"filename": "dcs-later.warc.gz", "offset": 0, "length": 1, "record_id": "<urn:x>"}
    data["versions"] = [
        {**data["versions"][0], "file": old_file},
        {
            "fetched_at": "2026-01-01T00:00:00Z",
            "sha1": "0",
            "file": sidecar.stem + ".txt",
            "warc": newer,
        },
    ]
    data["warc"] = newer
    sidecar.write_text(json.dumps(data))

    assert show(out, archive_copy.seed_url, at=archive_copy.seed_timestamp) == b"older text"


@pytest.mark.skipif(
    importlib.util.find_spec("crawler.extract.extractor") is None,
    reason="the extractor (crawler.extract) is not in this tree yet",
)
def test_text_is_extracted_on_the_fly_when_no_text_file_exists(small_archive):
    text = show(small_archive.out_dir, small_archive.without_text).decode("utf-8")
    title = small_archive.articles[small_archive.without_text]
    assert text.splitlines()[0] == title


@pytest.mark.parametrize(
    "query", ["https://dangcongsan.vn/khong-co-bai-nay-post999999.html", "999999"]
)
def test_unknown_url_or_id_is_a_one_line_error(small_archive, query):
    with pytest.raises(DcsError) as err:
        show(small_archive.out_dir, query)
    assert "\n" not in str(err.value) and query in str(err.value)
    assert find_captures(small_archive.out_dir, query) == []


def test_bad_part_and_bad_time_are_one_line_errors(small_archive):
    with pytest.raises(DcsError, match="unknown part"):
        show(small_archive.out_dir, small_archive.seed_url, part="pdf")
    with pytest.raises(DcsError, match="bad time"):
        show(small_archive.out_dir, small_archive.seed_url, at="yesterday")


@pytest.mark.parametrize("status", [301, 404])
def test_text_of_a_redirect_or_an_error_page_is_a_one_line_error(small_archive, status):
    capture = next(c for c in small_archive.captures if c.status == status)
    with pytest.raises(DcsError) as err:
        show(small_archive.out_dir, capture.url)
    message = str(err.value)
    assert "\n" not in message and f"is a {status} " in message and "not an article" in message
    if status == 301:
        assert "redirect to http" in message
    headers = show(small_archive.out_dir, capture.url, part="headers")
    assert headers.startswith(f"HTTP/1.1 {status} ".encode())

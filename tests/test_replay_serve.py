"""pywb, run for real on a free loopback port, replays the archive without the live site."""

from __future__ import annotations

import gzip
import json
import socket
import urllib.error
import urllib.request
from html import unescape

import pytest
import yaml
from _replay import ReplayProcess, free_port

from crawler.errors import DcsError
from crawler.replay.serve import check_port, serve, write_config
from crawler.replay.show import show


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            status, headers, body = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        status, headers, body = err.code, dict(err.headers), err.read()
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, headers, body


def test_the_server_says_where_to_open(replay_server):
    base, banner = replay_server
    assert f"{base}/dcs/" in banner and "Ctrl-C" in banner


def test_seed_article_is_replayed_from_the_archive(replay_server, small_archive):
    base, _ = replay_server
    ts, url = small_archive.seed_timestamp, small_archive.seed_url

    status, _, top = get(f"{base}/dcs/{ts}/{url}")  # pywb's banner, the page in its iframe
    assert status == 200 and b'id="replay_iframe"' in top
    assert f'"url": "{url}"'.encode() in top and f'"request_ts": "{ts}"'.encode() in top

    status, headers, body = get(f"{base}/dcs/{ts}mp_/{url}")  # the page itself
    page = unescape(body.decode("utf-8"))
    assert status == 200
    assert headers.get("Memento-Datetime")
    assert f"<title>{small_archive.seed_title}" in page
    assert small_archive.seed_first_paragraph in page
    # Its style sheets are fetched through the archive, not from the live site.
    assert f"/dcs/{ts}cs_/https://dangcongsan.vn/assets/css/main.css" in page


def test_images_and_styles_come_from_the_archive(replay_server, small_archive):
    base, _ = replay_server
    ts = small_archive.seed_timestamp
    for url in small_archive.seed_images + small_archive.stylesheets:
        status, _, body = get(f"{base}/dcs/{ts}im_/{url}")
        assert status == 200, url
        archived = show(small_archive.out_dir, url, at=ts, part="html")
        if url in small_archive.seed_images:
            assert body == archived, url  # images are served byte for byte
        else:
            assert body.strip(), url


def test_revisits_resolve_to_their_originals(replay_server, small_archive):
    base, _ = replay_server
    same = small_archive.identical_revisit
    status, _, body = get(f"{base}/dcs/{same.timestamp}mp_/{same.url}")
    assert status == 200
    assert small_archive.seed_first_paragraph in unescape(body.decode("utf-8"))

    not_modified = small_archive.not_modified_revisit
    status, _, body = get(f"{base}/dcs/{not_modified.timestamp}id_/{not_modified.url}")
    original = show(small_archive.out_dir, not_modified.url, at=not_modified.timestamp, part="html")
    assert status == 200
    assert body == original  # the style sheet of the first crawl, not an empty 304


def test_a_payload_archived_under_another_url_replays_from_there(replay_server, small_archive):
    base, _ = replay_server
    copy = small_archive.copied_photo
    status, _, body = get(f"{base}/dcs/{copy.timestamp}id_/{copy.url}")
    original = show(small_archive.out_dir, copy.refers_to_url, part="html")
    assert status == 200 and body == original and body


def test_calendar_lists_the_captures(replay_server, small_archive):
    base, _ = replay_server
    url = small_archive.seed_url
    status, _, page = get(f"{base}/dcs/*/{url}")
    assert status == 200 and url.encode() in page
    # The calendar is drawn from pywb's CDX API: both captures of the seed page are there.
    status, _, body = get(f"{base}/dcs/cdx?url={url}&output=json")
    timestamps = [json.loads(line)["timestamp"] for line in body.decode().splitlines()]
    assert status == 200
    assert timestamps == [small_archive.seed_timestamp, small_archive.identical_revisit.timestamp]


def test_an_unarchived_url_is_not_found(replay_server, small_archive):
    base, _ = replay_server
    missing = "https://dangcongsan.vn/khong-co-bai-nay-post999999.html"
    status, _, _ = get(f"{base}/dcs/{small_archive.seed_timestamp}mp_/{missing}")
    assert status == 404


def test_a_port_in_use_is_a_one_line_error(small_archive):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        expected = f"port {port} is in use on 127.0.0.1; choose another with --port"
        with pytest.raises(DcsError) as err:
            serve(small_archive.out_dir, port=port)
        assert str(err.value) == expected
        with pytest.raises(DcsError, match="in use"):
            check_port("127.0.0.1", port)


def test_an_unknown_host_is_a_one_line_error():
    with pytest.raises(DcsError) as err:
        check_port("no-such-host.invalid", free_port())
    assert "\n" not in str(err.value) and "--host" in str(err.value)


def test_no_warc_files_is_a_one_line_error(tmp_path):
    (tmp_path / "warc").mkdir()
    with pytest.raises(DcsError, match="no WARC files"):
        serve(tmp_path, port=free_port())


def test_the_config_points_pywb_at_the_archive(archive_copy):
    config = yaml.safe_load(write_config(archive_copy.out_dir).read_text())
    coll = config["collections"]["dcs"]
    assert coll["index_paths"] == str((archive_copy.out_dir / "index" / "index.cdxj").resolve())
    assert coll["archive_paths"].rstrip("/") == str((archive_copy.out_dir / "warc").resolve())
    assert config["enable_auto_colls"] is False


def test_a_corrupt_warc_is_reported_and_the_rest_served(archive_copy, tmp_path):
    warc = archive_copy.out_dir / "warc"
    (warc / "dcs-20200101000000000-00000-junk.warc.gz").write_bytes(b"not a warc\n" * 100)
    log = tmp_path / "pywb.log"
    server = ReplayProcess(archive_copy.out_dir, free_port(), log)
    try:
        server.wait_ready()
        ts, url = archive_copy.seed_timestamp, archive_copy.seed_url
        status, _, body = get(f"{server.base_url}/dcs/{ts}mp_/{url}")
        assert status == 200 and archive_copy.seed_first_paragraph in unescape(body.decode())
    finally:
        server.stop()
    damaged = [line for line in log.read_text().splitlines() if "damaged WARC file" in line]
    assert len(damaged) == 1 and damaged[0].startswith("dcs: error: ") and "junk" in damaged[0]

"""The settings a crawl runs with: defaults fit for the live site, overrides that fit."""

import pytest

from crawler.crawl import CrawlOptions, build_settings
from crawler.errors import DcsError


def test_defaults_are_polite(tmp_path):
    settings = build_settings(CrawlOptions(out_dir=tmp_path, verbose=True))
    assert settings.get("BASE_URL") == "https://dangcongsan.vn"
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY") <= 1.0


def test_typed_overrides_are_checked(tmp_path):
    settings = build_settings(
        CrawlOptions(out_dir=tmp_path, verbose=True, settings=["RETRY_TIMES=7"])
    )
    assert settings.getint("RETRY_TIMES") == 7
    with pytest.raises(DcsError, match="RETRY_TIMES"):
        build_settings(CrawlOptions(out_dir=tmp_path, verbose=True, settings=["RETRY_TIMES=x"]))


def test_the_user_agent_names_the_contact(tmp_path):
    default = build_settings(CrawlOptions(out_dir=tmp_path, verbose=True))
    assert default.get("USER_AGENT").startswith("dcs-archiver/")
    contact = "mailto:archive@example.org"
    settings = build_settings(
        CrawlOptions(out_dir=tmp_path, verbose=True, settings=[f"CONTACT_URL={contact}"])
    )
    assert f"+{contact}" in settings.get("USER_AGENT")
    own = build_settings(CrawlOptions(out_dir=tmp_path, verbose=True, settings=["USER_AGENT=me"]))
    assert own.get("USER_AGENT") == "me"


@pytest.mark.parametrize(
    ("pair", "words"),
    [
        ("CONCURRENT_REQUESTS=0", "more than zero"),
        ("DOWNLOAD_TIMEOUT=0", "more than zero"),
        ("DOWNLOAD_DELAY=nan", "finite"),
        ("WARC_PREFIX=../x", "WARC prefix"),
        ("SINCE=2020-13-01", "month"),
        ("ITEM_PIPELINES=[1]", "JSON object"),
        ("RETRY_TIMES=-1", "negative"),
        ("AUTOTHROTTLE_MAX_DELAY=inf", "finite"),
        ("ROBOTSTXT_OBEY=maybe", "true or false"),
        ("DOWNLOADER_MIDDLEWARES={", "JSON object"),
        ("LOG_LEVEL=info", "DEBUG, INFO"),
        ("REVISIT_POLICY=7d", "AGE:INTERVAL"),
        ("BASE_URL=dangcongsan.vn", "http(s) URL"),
    ],
)
def test_every_class_of_bad_value_is_refused_before_the_crawl(tmp_path, pair, words):
    with pytest.raises(DcsError, match="setting") as refused:
        build_settings(CrawlOptions(out_dir=tmp_path, verbose=True, settings=[pair]))
    assert words in str(refused.value) and "\n" not in str(refused.value)


def test_priorities_may_be_negative_and_zero_means_no_limit(tmp_path):
    settings = build_settings(
        CrawlOptions(
            out_dir=tmp_path,
            verbose=True,
            settings=["DEPTH_PRIORITY=-1", "DOWNLOAD_MAXSIZE=0", "CLOSESPIDER_TIMEOUT=0"],
        )
    )
    assert settings.getint("DEPTH_PRIORITY") == -1

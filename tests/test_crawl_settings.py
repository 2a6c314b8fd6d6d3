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

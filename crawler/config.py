"""The settings of a crawl, checked in one place before it starts: a bad value is one line
(``dcs: error: …``), not a traceback halfway into the crawl or a crawl that fetches nothing.

Checks go by class of setting, not case by case:
- a value fits the type of the setting's default (bool, int, float, JSON object for dicts);
- numbers are finite, and counts, sizes and times never negative (only priorities may be);
  those in POSITIVE cannot be zero either (for the others Scrapy reads 0 as "no limit");
- settings with a syntax of their own parse (PARSED: the revisit policy, the log level,
  the base URL, dates, the WARC prefix).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, Settings

from crawler.errors import DcsError
from crawler.site import Site
from crawler.state import RevisitPolicy
from crawler.warc.writer import check_prefix

# Zero makes no sense for these (a crawl that never sends, a timeout at once, empty files).
POSITIVE = frozenset(
    {
        "AUTOTHROTTLE_MAX_DELAY",
        "AUTOTHROTTLE_TARGET_CONCURRENCY",
        "CONCURRENT_ITEMS",
        "CONCURRENT_REQUESTS",
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        "DNS_TIMEOUT",
        "DOWNLOAD_TIMEOUT",
        "REACTOR_THREADPOOL_MAXSIZE",
        "WARC_MAX_SIZE",
    }
)


def _log_level(value: str) -> None:
    if str(value) not in logging.getLevelNamesMapping():
        raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")


def _day(value: str) -> None:
    if value:
        date.fromisoformat(value)


PARSED: dict[str, Callable[[Any], object]] = {
    "BASE_URL": Site,
    "LOG_LEVEL": _log_level,
    "REVISIT_POLICY": RevisitPolicy.parse,
    "SINCE": _day,
    "WARC_PREFIX": check_prefix,
}


def parse_setting(pair: str, defaults: BaseSettings) -> tuple[str, str]:
    """Check one ``-s NAME=VALUE``: the pair's form and the value's type."""
    name, sep, value = pair.partition("=")
    name = name.strip()
    if not sep or not name:
        raise DcsError(f"invalid setting {pair!r}: expected NAME=VALUE")
    _check_type(name, value, defaults.get(name))
    return name, value


def check_settings(settings: Settings, defaults: BaseSettings) -> None:
    """Check every setting of ours or given for a crawl against the kind of its default."""
    for name in sorted(settings):
        if settings.getpriority(name) <= SETTINGS_PRIORITIES["default"]:
            continue  # Scrapy's own default
        value, default = settings.get(name), defaults.get(name)
        try:
            if name in PARSED:
                PARSED[name](value)
            elif isinstance(default, int | float) and not isinstance(default, bool):
                _check_number(name, settings.getfloat(name))
        except (DcsError, ValueError, TypeError) as exc:
            raise DcsError(f"invalid value {value!r} for setting {name}: {exc}") from None


def _check_number(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    if value < 0 and "PRIORITY" not in name:
        raise ValueError("it cannot be negative")
    if value == 0 and name in POSITIVE:
        raise ValueError("it must be more than zero")


def _check_type(name: str, value: str, default: Any) -> None:
    expected = None
    try:
        if isinstance(default, bool):
            expected = "true or false"
            Settings({name: value}).getbool(name)
        elif isinstance(default, int):
            expected = "a whole number"
            int(value)
        elif isinstance(default, float):
            expected = "a number"
            float(value)
        elif isinstance(default, BaseSettings | dict):
            expected = "a JSON object"
            if not isinstance(json.loads(value), dict):
                raise ValueError(expected)
    except ValueError:
        message = f"invalid value {value!r} for setting {name} (expected {expected})"
        raise DcsError(message) from None

"""Dates as the site writes them, read into aware datetimes in Vietnam time (UTC+7)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")

# 10/08/2019 15:21, Thứ Bảy, 10/08/2019 - 15:21, 10-08-2019 15:21:05, 10/8/2019 | 15h21
_DATE_TIME = re.compile(
    r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:[^\d]{1,6}(?P<H>\d{1,2})\s*[:hH]\s*(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
# 15:21 10/08/2019, 15:21 - 10/08/2019, 15h21, ngày 10/08/2019 (time first)
_TIME_DATE = re.compile(
    r"(?P<H>\d{1,2})\s*[:hH]\s*(?P<M>\d{2})(?::(?P<S>\d{2}))?[^\d]{1,12}?"
    r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
)
# ngày 10 tháng 8 năm 2019
_WORDS = re.compile(r"(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s*(?:,|năm)\s*(?P<y>\d{4})", re.I)
_ISO_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


def _to_vietnam(value: datetime) -> datetime:
    # A date without a zone is the site's local time.
    if value.tzinfo is None:
        return value.replace(tzinfo=VIETNAM)
    return value.astimezone(VIETNAM)


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 date (`2019-08-10T15:21:00+07:00`, `...Z`, `2019-08-10 15:21`)."""
    text = text.strip()
    if not _ISO_LIKE.match(text):
        return None
    candidate = text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text
    # Python 3.11 reads most of ISO 8601, not a zone written "+0700".
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)
    try:
        return _to_vietnam(datetime.fromisoformat(candidate))
    except ValueError:
        try:
            return _to_vietnam(datetime.fromisoformat(candidate[:10]))
        except ValueError:
            return None


def _build(match: re.Match[str]) -> datetime | None:
    groups = match.groupdict()
    try:
        return datetime(
            int(groups["y"]),
            int(groups["m"]),
            int(groups["d"]),
            int(groups.get("H") or 0),
            int(groups.get("M") or 0),
            int(groups.get("S") or 0),
            tzinfo=VIETNAM,
        )
    except ValueError:  # 31/02, 25:00: not a date
        return None


def parse_date(text: str | None) -> datetime | None:
    """A date as the site writes it: ISO 8601 (machine-readable attributes) or as shown on
    the page, day first (`Thứ Bảy, 10/08/2019 15:21`). Vietnam time; None when no date."""
    if not text:
        return None
    iso = parse_iso(text)
    if iso is not None:
        return iso
    for pattern in (_TIME_DATE, _DATE_TIME, _WORDS):
        match = pattern.search(text)
        if match:
            value = _build(match)
            if value is not None:
                return value
    return None


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in Vietnam time, seconds precision: `2019-08-10T15:21:00+07:00`."""
    if value is None:
        return None
    return _to_vietnam(value).isoformat(timespec="seconds")


def utc_isoformat(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, as WARC-Date is written."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")

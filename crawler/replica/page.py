"""A rendered response of the replica, before HTTP: status, type, body, validators."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
CSS = "text/css; charset=utf-8"
JS = "application/javascript; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
GZIP = "application/x-gzip"


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes
    kind: str  # home, article, video, redirect, list, tag, feed, sitemap, image, asset, ...
    last_modified: datetime | None = None
    location: str | None = None  # path of a redirect's target
    chunked: bool = False  # sent with Transfer-Encoding: chunked
    compressible: bool = True  # gzip when the client accepts it

    @property
    def etag(self) -> str | None:
        """Strong validator from the (identity) body; only for pages that carry dates."""
        if self.status != 200 or self.last_modified is None:
            return None
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'

    def headers(self) -> dict[str, str]:
        out = {"Content-Type": self.content_type}
        if self.last_modified is not None and self.status == 200:
            out["Last-Modified"] = http_date(self.last_modified)
        if self.etag:
            out["ETag"] = self.etag
        if self.location:
            out["Location"] = self.location
        return out

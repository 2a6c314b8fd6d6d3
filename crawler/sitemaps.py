"""Reading a sitemap in bounded memory, gzip bombs included.

The sitemap protocol caps one sitemap at 50,000 URLs and 50 MB uncompressed. A sitemap is
decompressed and parsed as a stream (lxml's iterparse), one <url> or <sitemap> entry at a
time, and reading stops after SITEMAP_MAXSIZE decompressed bytes or SITEMAP_MAX_ENTRIES
entries (the protocol's limits by default): a 3 MB gzip bomb that would inflate to gigabytes
costs no more than a sitemap at those limits. What stopped the reading early is returned,
for the crawl report; the entries read before it are kept.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field

from lxml import etree

READ_CHUNK = 64 * 1024


@dataclass
class Sitemap:
    """What a sitemap lists: `kind` is "urlset" or "sitemapindex" ("" when the document is
    not a sitemap); `entries` are (loc, lastmod) pairs, lastmod as written or None."""

    kind: str = ""
    entries: list[tuple[str, str | None]] = field(default_factory=list)
    ceiling: str | None = None  # the ceiling that stopped the reading early, if one did
    cut: str | None = None  # why reading stopped before the end, if it did


class _CappedStream(io.RawIOBase):
    """A stream that ends after `limit` bytes of the one it wraps, and says whether it did."""

    def __init__(self, stream: io.BufferedIOBase, limit: int) -> None:
        self.stream = stream
        self.left = limit
        self.capped = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            self.capped = self.capped or bool(self.stream.read(1))
            return 0
        data = self.stream.read(min(len(buffer), self.left, READ_CHUNK))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_sitemap(body: bytes, max_bytes: int, max_entries: int) -> Sitemap:
    """The entries of a sitemap or sitemap index, gzipped or not, read in bounded memory."""
    raw: io.BufferedIOBase = io.BytesIO(body)
    if body[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    stream = _CappedStream(raw, max_bytes) if max_bytes else raw
    sitemap = Sitemap()
    events = etree.iterparse(
        stream,
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
    )
    try:
        for event, element in events:
            name = _name(element.tag)
            if not sitemap.kind:
                if name not in ("urlset", "sitemapindex"):
                    return sitemap  # not a sitemap: nothing to follow
                sitemap.kind = name
            if event != "end" or name not in ("url", "sitemap"):
                continue
            values = {_name(child.tag): (child.text or "").strip() for child in element}
            if values.get("loc"):
                sitemap.entries.append((values["loc"], values.get("lastmod") or None))
            # Forget what was read: memory stays that of one entry.
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
            if max_entries and len(sitemap.entries) >= max_entries:
                sitemap.ceiling = "SITEMAP_MAX_ENTRIES"
                sitemap.cut = f"more than {max_entries} entries"
                return sitemap
    except (etree.XMLSyntaxError, OSError, EOFError, zlib.error) as exc:
        sitemap.cut = f"unreadable after {len(sitemap.entries)} entries: {exc}"
    if isinstance(stream, _CappedStream) and stream.capped:
        sitemap.ceiling = "SITEMAP_MAXSIZE"
        sitemap.cut = f"more than {max_bytes} bytes once decompressed"
    return sitemap

"""The article as extracted from one page: what the text file and the sidecar are made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crawler.errors import DcsError
from crawler.extract.markup import LEAD_PREFIX

GENERIC = "generic"  # the page's markup matched no site rule: its parts found by what they are
SITE_RULES = "site-rules"
# A body shorter than this (a video page's aside) is a sign the body was not found.
MIN_BODY_CHARS = 200


class ExtractionError(DcsError):
    """A page that yields no article (not HTML, no title): nothing is written for it."""


@dataclass
class Article:
    """One article page, reduced to its parts. Dates are aware, in Vietnam time (+07:00)."""

    url: str  # as fetched
    canonical_url: str
    id: str
    title: str
    lead: str | None = None
    related: list[tuple[str, str]] = field(default_factory=list)  # (title, absolute URL)
    paragraphs: list[str] = field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    author: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    generation: int | None = None
    is_video: bool = False
    method: str = SITE_RULES
    unread_related: bool = False  # a related-stories heading stood with no link under it
    warnings: list[str] = field(default_factory=list)
    # Which site of dangcongsan.vn (crawler.site.PROFILES) and the language of its text.
    site: str = "main"
    language: str = "vi"
    document: dict = field(default_factory=dict)  # documents portal: number, issuer, issued…
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (title, URL) of files
    original: dict | None = None  # an edition's Vietnamese original: {url, id}

    @property
    def no_body(self) -> bool:
        """No body text: a video page, or a page whose text we could not find."""
        return not self.paragraphs

    @property
    def flags(self) -> list[str]:
        """Short markers for the sidecar and the crawl report, sorted."""
        flags = []
        if self.no_body:
            flags.append("no-body")
        if self.is_video:
            flags.append("video")
        if self.published is None:
            flags.append("undated")
        return sorted(flags)

    @property
    def suspicions(self) -> list[str]:
        """Why the text, read without error, may still be read wrong: what markup drift
        looks like (see crawler.extract.suspect)."""
        reasons = []
        # Only the newspaper's markup is mapped: elsewhere the generic path is the way, not drift.
        if self.method == GENERIC and self.site == "main":
            reasons.append("generic")
        # The paper's mark opens the newspaper's leads only; elsewhere a lead is a lead, and
        # a document of the documents portal need have none.
        mark = LEAD_PREFIX if self.site == "main" else ""
        if (not self.lead or not self.lead.startswith(mark)) and self.site != "documents":
            reasons.append("no-lead")
        if self.unread_related:
            reasons.append("related-unread")
        if not self.is_video and len("\n".join(self.paragraphs)) < MIN_BODY_CHARS:
            reasons.append("short-body")
        return reasons

"""The replica's Vietnamese: the seed article, word material for generated stories, slugs, dates.

Generated stories reuse the seed article's own sentences and words, so the replica reads like
the site (diacritics, en dashes, long sentences) without shipping any other text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources

VN_TZ = timezone(timedelta(hours=7), "ICT")
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
LEAD_PREFIX = "(ĐCSVN) - "
PLACEHOLDER_BYLINES = ("PV", "BTV", "ĐCSVN")
AUTHORS = (
    "Thu Hằng", "Minh Anh", "Quang Huy", "Hà Linh", "Đức Trung", "Phương Thảo",
    "Lan Hương", "Tuấn Anh", "Ngọc Bích", "Văn Hiếu",
)  # fmt: skip
TAGS = (
    "Hà Nội", "Quảng Ninh", "hợp tác phát triển", "xây dựng Đảng", "hệ thống chính trị",
    "kinh tế - xã hội", "cải cách hành chính", "du lịch", "giao thông vận tải",
    "đồng bằng sông Hồng", "công nghệ thông tin", "nông nghiệp công nghệ cao",
    "an sinh xã hội", "Hải Phòng", "doanh nghiệp", "logistics",
)  # fmt: skip
CAPTIONS = (
    "Quang cảnh hội nghị. (Ảnh: PV)",
    "Các đại biểu tham dự hội nghị. (Ảnh: TTXVN)",
    "Đồng chí Bí thư phát biểu tại buổi làm việc. (Ảnh: BTV)",
    "Toàn cảnh phiên làm việc. Ảnh: ĐCSVN",
    "Lãnh đạo hai địa phương trao đổi bên lề hội nghị.",
)


@dataclass(frozen=True)
class SeedText:
    """seed-article.txt split into the parts of the text file layout."""

    raw: str
    title: str
    lead: str
    related_titles: tuple[str, ...]
    paragraphs: tuple[str, ...]


@cache
def seed_text() -> SeedText:
    """The seed article, read from the package data (the only copy code may read)."""
    raw = resources.files("crawler.replica").joinpath("data/seed-article.txt").read_text("utf-8")
    lines = raw.split("\n")
    related = tuple(line[2:] for line in lines[2:] if line.startswith("- "))
    body = tuple(lines[2 + len(related) :])
    return SeedText(raw, lines[0], lines[1], related, body)


@cache
def sentences() -> tuple[str, ...]:
    """Whole sentences of the seed body, the material of generated paragraphs."""
    out: list[str] = []
    for para in seed_text().paragraphs:
        pieces: list[str] = []
        for piece in re.split(r"(?<=[.…])\s+", para):
            if pieces and not (piece[:1].isupper() or piece[:1] == "“"):
                pieces[-1] += " " + piece  # "Hạ Long… đi vào": one sentence
            else:
                pieces.append(piece)
        for sentence in pieces:
            sentence = sentence.strip()
            # skip the seed's glued sentences ("nhỏ.Hai") and unbalanced brackets
            glued = re.search(r"[^\W\d]\.[^\W\d]", sentence)
            if glued or sentence.count("(") != sentence.count(")"):
                continue
            if len(sentence.split()) >= 6 and sentence[-1] in ".…":
                out.append(sentence)
    return tuple(dict.fromkeys(out))


def headline(words: list[str]) -> str:
    text = " ".join(words).strip(" -–,")
    return text[:1].upper() + text[1:]


def slugify(title: str) -> str:
    """The site's slug rule: drop diacritics and ASCII punctuation, keep spaces as hyphens.

    "Hà Nội - Quảng Ninh: Thúc đẩy" gives "ha-noi--quang-ninh-thuc-day" (the dropped dash
    leaves two spaces); a non-ASCII en dash survives, as seen on the live site.
    """
    text = title.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(c for c in text if (c.isascii() and c.isalnum()) or c in " –")
    return text.strip().replace(" ", "-")


def fold(text: str) -> str:
    """Ground-truth normal form of a line: NFC, NBSP as space, white space folded."""
    text = unicodedata.normalize("NFC", text).replace("\xa0", " ")
    return " ".join(text.split())


def vn(dt: datetime) -> datetime:
    return dt.astimezone(VN_TZ)


def date_gen1(dt: datetime) -> str:
    """`Thứ Bảy, 10/08/2019 15:21` (span.lbPublishedDate)."""
    dt = vn(dt)
    return f"{WEEKDAYS[dt.weekday()]}, {dt:%d/%m/%Y %H:%M}"


def date_gen2(dt: datetime) -> str:
    """`Thứ Bảy, 10/08/2019 - 15:21` (time.time text)."""
    dt = vn(dt)
    return f"{WEEKDAYS[dt.weekday()]}, {dt:%d/%m/%Y - %H:%M}"


def date_gen3(dt: datetime) -> str:
    """`28/11/2026 - 08:15` (span.detail__time)."""
    return f"{vn(dt):%d/%m/%Y - %H:%M}"


def date_list(dt: datetime) -> str:
    """`10/08/2019 15:21` (div.i-date in lists)."""
    return f"{vn(dt):%d/%m/%Y %H:%M}"


def iso(dt: datetime) -> str:
    return vn(dt).isoformat(timespec="seconds")

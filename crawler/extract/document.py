"""What a documents-portal page states about its document: number, issuing body, date of
issue, kind, signer. Found by what they are, wherever the page puts them: a labelled field
("Số hiệu: …", a table row, a definition list), a document number's shape ("17/2020/TT-BGDĐT",
"43-NQ/TW"), a date written the way Vietnamese documents write it ("ngày 15 tháng 7 năm
2020"). A field the page does not state is left out, never guessed.
"""

from __future__ import annotations

import re
from datetime import date

import lxml.html

from crawler.extract.text import fold

# Labels, as the language says them (lower case, without the colon).
LABELS = {
    "number": ("số hiệu", "số ký hiệu", "ký hiệu", "số văn bản", "số"),
    "issuer": ("cơ quan ban hành", "nơi ban hành", "đơn vị ban hành", "cơ quan"),
    "issued": ("ngày ban hành", "ban hành ngày", "ngày ký", "ngày văn bản"),
    "type": ("loại văn bản", "thể loại", "hình thức văn bản"),
    "signer": ("người ký", "người ký duyệt"),
}
# A document number: digits, then letter groups joined by - and /, e.g. 17/2020/TT-BGDĐT,
# 43-NQ/TW, 01/2021/NĐ-CP, 102-KL/TW, 12/2022/QĐ-TTg (a later group may hold lower case).
NUMBER = re.compile(
    r"(?<![\w/])(\d{1,5}(?:/\d{4})?[/-][A-ZĐ][A-ZĐ0-9]*(?:[-/][A-ZĐ][A-ZĐa-zđ0-9]*)*)(?![\w/])"
)
STATED_NUMBER = re.compile(r"\b[Ss]ố(?:\s+hiệu)?\s*:?\s*" + NUMBER.pattern)
DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
DATE_DIGITS = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
MAX_LABEL_CHARS = 40
MAX_VALUE_CHARS = 200
# The national motto and the Party's name head every document: never its issuing body.
HEADER_LINES = ("cộng hòa xã hội chủ nghĩa việt nam", "cộng hoà xã hội chủ nghĩa việt nam",
                "đảng cộng sản việt nam", "độc lập - tự do - hạnh phúc")  # fmt: skip


def _field_of(label: str) -> str | None:
    label = fold(label).rstrip(" :.").casefold()
    for name, labels in LABELS.items():
        if label in labels:
            return name
    return None


def labelled_fields(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """``label: value`` pairs the page shows, by field: table rows of two cells, ``dt``/``dd``,
    and short blocks that read "Label: value" (the label alone in its own element or not)."""
    found: dict[str, str] = {}

    def note(label: str, value: str) -> None:
        name = _field_of(label) if len(label) <= MAX_LABEL_CHARS else None
        value = fold(value).strip(" :")
        if name and value and len(value) <= MAX_VALUE_CHARS:
            found.setdefault(name, value)

    for row in tree.iter("tr"):
        cells = [c for c in row if c.tag in ("td", "th")]
        if len(cells) == 2:
            note(cells[0].text_content(), cells[1].text_content())
    for term in tree.iter("dt"):
        value = term.getnext()
        if value is not None and value.tag == "dd":
            note(term.text_content(), value.text_content())
    for block in tree.iter("li", "p", "div", "span"):
        if len(block) > 4:
            continue
        text = fold(block.text_content())
        label, colon, value = text.partition(":")
        if colon and len(text) <= MAX_LABEL_CHARS + MAX_VALUE_CHARS:
            note(label, value)
    return found


def issue_date(text: str) -> str | None:
    """An ISO day from "ngày 15 tháng 7 năm 2020" or "15/07/2020"; None if not a real day."""
    match = DATE_WORDS.search(text) or DATE_DIGITS.search(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _issuer_line(lines: list[str]) -> str | None:
    """The document's heading names who issued it: the first line in capitals at its top
    that is neither the motto nor the Party's name."""
    for line in lines[:8]:
        letters = [c for c in line if c.isalpha()]
        if not letters or len(line) > 80 or any(c.islower() for c in letters):
            continue
        if line.casefold().strip(" -*") in HEADER_LINES or NUMBER.search(line):
            continue
        return line
    return None


def document_fields(tree: lxml.html.HtmlElement, title: str, lines: list[str]) -> dict:
    """Number, issuing body, date of issue, kind and signer, where the page states them.
    ``lines``: the document's text as read (lead and body), top to bottom."""
    fields = labelled_fields(tree)
    number = fields.get("number")
    if number:
        match = NUMBER.search(number)
        number = match.group(1) if match else number
    else:
        for text in (*lines[:30], title):
            match = STATED_NUMBER.search(text) or NUMBER.search(text)
            if match:
                number = match.group(1)
                break
    issued = issue_date(fields["issued"]) if fields.get("issued") else None
    if issued is None:
        issued = next((day for day in map(issue_date, lines[:40]) if day), None)
    result = {
        "number": number,
        "issuer": fields.get("issuer") or _issuer_line(lines),
        "issued": issued,
        "type": fields.get("type"),
        "signer": fields.get("signer"),
    }
    return {key: value for key, value in result.items() if value}

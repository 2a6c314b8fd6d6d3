"""The text layer of a PDF, page by page: what a document's attached file says.

Only the text the PDF carries is read (PDFium, through pypdfium2: the engine Chrome uses,
forgiving with the damaged files government servers hand out, and fast enough for whole
books on one core). A scanned PDF, all images, has no text layer: it is reported as such,
never guessed at (no OCR). Text is NFC, white space folded per line, diacritics kept.

In the text file, pages are separated by a line holding a single form feed (U+000C), as
pdftotext separates them: ``text.split("\\n\\f\\n")`` gives the pages back, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.extract.text import fold

PAGE_BREAK = "\n\f\n"  # between two pages of the text file
PDF_MAGIC = b"%PDF-"
# PDFium marks a hyphen it judged soft (a word broken at a line's end) and a few controls.
_DROPPED = str.maketrans({"\ufffe": "", "\x02": "", "\x03": "", "\x00": ""})


class PdfError(Exception):
    """A file that is not a PDF PDFium can open (damaged, encrypted, not a PDF)."""


@dataclass(frozen=True)
class PdfText:
    pages: tuple[str, ...]  # each page's lines, joined by "\n"; "" for a page without text

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def has_text_layer(self) -> bool:
        return any(self.pages)

    def render(self) -> str:
        return PAGE_BREAK.join(self.pages)


def is_pdf(data: bytes, content_type: str = "") -> bool:
    """By what the bytes are (a PDF opens with ``%PDF-`` within its first KiB), whatever the
    server calls them; the Content-Type only when the bytes are too few to tell."""
    return PDF_MAGIC in data[:1024] or (not data and "pdf" in content_type.lower())


def pdf_text(data: bytes | Path) -> PdfText:
    """The text layer of every page, of a PDF's bytes or of the PDF file at a path (PDFium
    reads it from disk as it needs). Raises PdfError if the PDF cannot be opened."""
    import pypdfium2 as pdfium  # only text workers that meet a PDF load PDFium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"not a readable PDF: {exc}") from None
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                raw = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            lines = (fold(line.translate(_DROPPED)) for line in raw.splitlines())
            pages.append("\n".join(line for line in lines if line))
    finally:
        document.close()
    return PdfText(tuple(pages))

"""Article text extraction: pure page → Article, the text file, the sidecar, re-extraction."""

from crawler.extract.article import Article, ExtractionError
from crawler.extract.extractor import extract
from crawler.extract.text import render_text

__all__ = ["Article", "ExtractionError", "extract", "render_text"]

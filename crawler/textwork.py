"""One archived article page made into its text file and sidecar: the work a text worker
does, the same whether it runs in a worker process (crawler.textpool) or in the crawl's own
process (``TEXT_WORKERS=0``), so that both give the same files.

Neither Scrapy nor Twisted is imported here: a worker loads only what extraction needs.
``python -m crawler.textwork TEXT_ROOT MAX_BYTES MAX_ELEMENTS [SEARCH_INDEX]`` is the
worker: it reads pages from stdin and writes outcomes to stdout, one length-prefixed pickle
frame each, until stdin closes. Given the search index, it also indexes the texts it
writes (crawler.research.index.TextIndexer), which the crawl's process then need not: in
one transaction about once a second (INDEX_WAIT), or as soon as no page waits.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from crawler.extract import ExtractionError, extract, render_text
from crawler.extract.article import GENERIC
from crawler.extract.attachment import PdfError, write_file_text
from crawler.extract.html import PAGE_LIMITS, PageLimits
from crawler.extract.output import write_article
from crawler.extract.suspect import suspect_entry
from crawler.research.index import TextIndexer

FRAME = struct.Struct(">I")  # the length of the pickle that follows
# Seconds a text written waits to be indexed with those written after it: a commit per
# article cost a worker more than indexing it.
INDEX_WAIT = 1.0


@dataclass
class ArticlePage:
    """An archived article page on its way to becoming text (the spider's item)."""

    url: str
    canonical: str
    fetched_at: datetime
    html: bytes = field(repr=False)  # kept out of log lines
    charset: str | None = None  # as the HTTP header declares it
    warc: dict | None = None


@dataclass
class FilePage:
    """An archived attachment (a document's PDF) on its way to becoming text."""

    url: str
    canonical: str
    document: str | None  # the canonical URL of the document page that links it
    fetched_at: datetime
    body: bytes = field(repr=False)  # b"" when it is in a spool file
    content_type: str = ""
    warc: dict | None = None
    # The file holding the body (crawler.spool.Spool, a path in a text worker), else None.
    spool: os.PathLike[str] | None = None


@dataclass(frozen=True)
class TextOutcome:
    """What became of one page: its text written (``text`` set), no text in it
    (``failure``), or a text that could not be written (``write_error``: a full disk)."""

    text: str | None = None
    path: str | None = None
    sha1: str | None = None
    status: str | None = None  # "new", "changed" or "unchanged" (see write_article)
    article_id: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    generic: bool = False  # read by trafilatura alone: no site rule knew the markup
    no_body: bool = False
    suspect: dict | None = None  # the crawl report's line when the text looks suspect
    failure: str | None = None
    write_error: str | None = None
    indexed: bool = False  # taken by the worker's search index (indexed within INDEX_WAIT)
    flags: tuple[str, ...] = ()  # a file's: no-text-layer, not-pdf
    pages: int = 0  # a file's pages


def _write_error(canonical: str, where: object, exc: OSError) -> TextOutcome:
    return TextOutcome(
        write_error=f"cannot write the text of {canonical} in {where}: {exc.strerror or exc}"
    )


def make_file_text(page: FilePage, text_root: Path) -> TextOutcome:
    """Read an attached file's text layer and write its text and sidecar under ``text_root``."""
    data = page.body if page.spool is None else Path(page.spool)
    try:
        written = write_file_text(
            data, text_root, url=page.url, canonical=page.canonical,
            document=page.document, content_type=page.content_type,
            fetched_at=page.fetched_at, warc=page.warc,
        )  # fmt: skip
    except PdfError as exc:
        return TextOutcome(failure=str(exc))
    except OSError as exc:
        return _write_error(page.canonical, exc.filename or text_root, exc)
    return TextOutcome(
        text=written.text_value,
        path=str(written.text) if written.text else None,  # a scan: its sidecar alone
        sha1=written.text_sha1,
        status="new",
        article_id=written.sidecar.stem,
        flags=written.flags,
        pages=written.pages,
    )


def make_text(
    page: ArticlePage | FilePage, text_root: Path, limits: PageLimits = PAGE_LIMITS
) -> TextOutcome:
    """Extract the page and write its text file and sidecar under ``text_root``."""
    if isinstance(page, FilePage):
        return make_file_text(page, text_root)
    try:
        article = extract(page.html, page.url, encoding=page.charset, limits=limits)
    except ExtractionError as exc:
        return TextOutcome(failure=str(exc))
    text = render_text(article)
    try:
        written = write_article(
            article, text_root, url=page.url, fetched_at=page.fetched_at, warc=page.warc,
            text=text,
        )  # fmt: skip
    except OSError as exc:
        return _write_error(page.canonical, exc.filename or text_root, exc)
    return TextOutcome(
        text=text,
        path=str(written.text),
        sha1=written.sha1,
        status=written.status,
        article_id=article.id,
        published=article.published,
        modified=article.modified,
        generic=article.method == GENERIC,
        no_body=article.no_body,
        suspect=suspect_entry(article),
    )


# -- the frames between the crawl and its workers ----------------------------------------------
def frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


def read_frame(source: BinaryIO) -> object | None:
    """The next message, or None at the end of the stream."""
    header = _read(source, FRAME.size)
    if len(header) < FRAME.size:
        return None
    (length,) = FRAME.unpack(header)
    data = _read(source, length)
    if len(data) < length:
        return None
    return pickle.loads(data)


def _read(source: BinaryIO, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the stream (an unbuffered pipe gives what
    it holds)."""
    data = source.read(size)
    while 0 < len(data) < size:
        more = source.read(size - len(data))
        if not more:
            break
        data += more
    return data


def _input_comes(source: BinaryIO, timeout: float) -> bool:
    """Whether input comes within ``timeout`` seconds (True for a stream that cannot be
    waited on)."""
    try:
        return bool(select.select([source], [], [], timeout)[0])
    except (OSError, ValueError):  # no file descriptor (a BytesIO), or closed
        return True


def serve(
    text_root: Path,
    limits: PageLimits,
    source: BinaryIO,
    sink: BinaryIO,
    indexer: TextIndexer | None = None,
) -> None:
    """The worker's loop: (job id, page) in, (job id, outcome) out, until the end of input.

    An unexpected exception goes back in the outcome's place, for the crawl to raise as it
    would have raised it in its own process. The indexer's queue is indexed when it is due
    or when no page comes before then; ``source`` is read unbuffered, so that bytes read
    ahead into a buffer never hide a page waiting."""
    while (message := read_frame(source)) is not None:
        job, page = message
        try:
            outcome: object = make_text(page, text_root, limits)
            if indexer is not None and outcome.path:
                outcome = replace(outcome, indexed=indexer.add(Path(outcome.path)))
        except Exception as exc:  # a bug, not a page: the crawl logs it
            outcome = exc
        try:
            data = frame((job, outcome))
        except Exception:  # an exception that does not pickle
            data = frame((job, RuntimeError(f"{type(outcome).__name__}: {outcome}")))
        sink.write(data)
        sink.flush()
        if indexer is not None:
            due = indexer.due()
            if due is not None and not _input_comes(source, due):
                indexer.flush()


def main() -> None:
    # Ctrl-C reaches the whole process group: the crawl finishes its work in flight and
    # closes our input when it is done with us, which is when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Frames go to a private copy of stdout; anything printed goes to stderr, the crawl's log.
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    text_root, max_bytes, max_elements = sys.argv[1:4]
    limits = PageLimits(max_bytes=int(max_bytes), max_elements=int(max_elements))
    indexer = None
    if len(sys.argv) > 4:
        indexer = TextIndexer(Path(text_root), Path(sys.argv[4]), wait=INDEX_WAIT)
    source = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    try:
        serve(Path(text_root), limits, source, sink, indexer)
    finally:
        if indexer is not None:
            indexer.close()  # indexes what is queued
            if indexer.failure:
                print(f"search index not updated: {indexer.failure}", file=sys.stderr)


if __name__ == "__main__":
    # Run as crawler.textwork, not __main__, so that outcomes unpickle in the crawl.
    from crawler.textwork import main as worker_main

    worker_main()

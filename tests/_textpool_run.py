"""Runs a TextPool in a process of its own (Twisted's reactor runs once a process), for
tests/test_textpool.py.

    python _textpool_run.py pool ROOT WORKERS SIZE WORKER URL...   # prints a JSON summary
    python _textpool_run.py worker ROOT                           # a worker (see below)

WORKER is "real" (crawler.textwork), "fake" (this file's worker) or "broken" (exits at once).
The fake worker answers each page with its URL as the text, and kills itself with SIGKILL on
pages whose URL holds "die-once" (the first time only) or "die-always".
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import UTC, datetime
from hashlib import sha1
from pathlib import Path

from crawler.textwork import ArticlePage, TextOutcome, frame, read_frame


def fake_worker(root: Path) -> None:
    sink = os.fdopen(os.dup(1), "wb")
    while (message := read_frame(sys.stdin.buffer)) is not None:
        job, page = message
        marker = root / sha1(page.url.encode()).hexdigest()
        if "die-always" in page.url or ("die-once" in page.url and not marker.exists()):
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        sink.write(frame((job, TextOutcome(text=page.url))))
        sink.flush()


def run_pool(root: Path, workers: int, size: int, kind: str, urls: list[str]) -> None:
    from twisted.internet import defer, task

    from crawler.extract.html import PAGE_LIMITS
    from crawler.textpool import TextPool, default_command

    commands = {
        "real": default_command,
        "fake": lambda root, limits: [sys.executable, __file__, "worker", str(root)],
        "broken": lambda root, limits: [sys.executable, "-c", "raise SystemExit(3)"],
    }

    @defer.inlineCallbacks
    def main(reactor):
        pool = TextPool(workers, root, PAGE_LIMITS, size, command=commands[kind])
        most = [0, 0]  # pages in the pool, pages sent to one worker ahead of its answers
        enqueue = pool.enqueue

        def counted(page):  # at each new page
            result = enqueue(page)
            most[0] = max(most[0], len(pool.waiting) + sum(len(w.jobs) for w in pool.workers))
            most[1] = max([most[1], *(len(w.jobs) for w in pool.workers)])
            return result

        pool.enqueue = counted
        pool.start()
        now = datetime(2026, 11, 28, 1, tzinfo=UTC)
        pages = [ArticlePage(url, url, now, page_html(url)) for url in urls]
        outcomes = yield defer.gatherResults([pool.submit(page) for page in pages])
        yield pool.close()
        print(
            json.dumps(
                {
                    "outcomes": [[o.text, o.failure] for o in outcomes],
                    "lost": pool.lost,
                    "retried": pool.retried,
                    "given_up": pool.given_up,
                    "in_process": pool.in_process,
                    "most_in_pool": most[0],
                    "most_at_a_worker": most[1],
                    "workers_left": len(pool.workers),
                }
            )
        )

    task.react(main)


def page_html(url: str) -> bytes:
    """A replica article page when the URL is one, else a bare page."""
    path = Path(os.environ.get("PAGES", "/nonexistent")) / sha1(url.encode()).hexdigest()
    return path.read_bytes() if path.exists() else b"<html><body><p>x</p></body></html>"


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        fake_worker(Path(sys.argv[2]))
    else:
        run_pool(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6:])

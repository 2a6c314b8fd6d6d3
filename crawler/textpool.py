"""TextPool: article pages made into text on worker processes, off the crawl's reactor.

Extraction is pure CPU; in the crawl's own process it would hold the reactor, and the
network with it, for every article. Workers are plain Python processes started with
Twisted's ``spawnProcess`` (``python -m crawler.textwork``): the reactor hears of their
answers and of their deaths like of any other event, and no process is forked from a
running reactor.

- **Bounded.** At most ``size`` pages are in the pool at once (sent to a worker or waiting
  for one); ``submit`` waits for room. The item pipeline awaits it, so a slow pool holds
  the responses behind it and Scrapy stops fetching (``SCRAPER_SLOT_MAX_ACTIVE_SIZE``)
  instead of piling pages up in memory.
- **A worker that dies** (killed, out of memory, a crash in a C library) is replaced; the
  page it was writing is tried once more on another worker, and if that one dies too, it
  comes back as a failure for the crawl report. Pages queued behind it are simply resent.
- **Workers that cannot start** (three deaths in a row without an answer): the pool logs
  why and writes the remaining pages in the crawl's own process.
- **Closing** closes the workers' input: each finishes what it has and exits. If the crawl
  itself is killed, the workers see their input close just the same.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from twisted.internet import defer, error, protocol
from twisted.python.failure import Failure

import crawler
from crawler.extract.html import PageLimits
from crawler.textwork import FRAME, ArticlePage, TextOutcome, frame, make_text

logger = logging.getLogger(__name__)

# Pages sent to a worker ahead of its answers: it has work while the reactor is busy
# elsewhere and has not yet read its answers (with 2, a worker sat idle a third of the time).
DEPTH = 16
# The pool's bound by default (TEXT_QUEUE_SIZE 0): as many again wait for whichever worker
# frees first.
QUEUE_PER_WORKER = 2 * DEPTH
FAILED_STARTS = 3  # workers in a row that exit before answering: they cannot run here
CLOSE_TIMEOUT = 60.0  # seconds a worker gets to finish its pages once told to stop


def default_text_workers() -> int:
    """All the cores this process may run on but one (the crawl's own), at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def default_command(
    text_root: Path, limits: PageLimits, search_index: Path | None = None
) -> list[str]:
    """The worker's command line; given the search index, the workers index what they write."""
    command = [sys.executable, "-m", "crawler.textwork", str(text_root),
               str(limits.max_bytes), str(limits.max_elements)]  # fmt: skip
    return command + [str(search_index)] if search_index is not None else command


@dataclass(eq=False)
class Job:
    id: int
    page: ArticlePage
    done: defer.Deferred = field(default_factory=defer.Deferred)
    attempts: int = 0  # workers that died on this page


class TextWorker(protocol.ProcessProtocol):
    """One worker process: the pages sent to it, oldest first, and its answers."""

    def __init__(self, pool: TextPool, number: int) -> None:
        self.pool = pool
        self.number = number
        self.jobs: deque[Job] = deque()
        self.buffer = bytearray()
        self.answers = 0
        self.ended: defer.Deferred = defer.Deferred()

    def send(self, job: Job) -> None:
        self.jobs.append(job)
        self.transport.write(frame((job.id, job.page)))

    def outReceived(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= FRAME.size:
            (length,) = FRAME.unpack_from(self.buffer)
            if len(self.buffer) < FRAME.size + length:
                return
            message = bytes(self.buffer[FRAME.size : FRAME.size + length])
            del self.buffer[: FRAME.size + length]
            self.answers += 1
            self.pool.answered(self, self.jobs.popleft(), message)

    def errReceived(self, data: bytes) -> None:
        for line in data.decode("utf-8", "replace").splitlines():
            if line.strip():
                logger.warning("text worker %d: %s", self.number, line)

    def processEnded(self, reason: Failure) -> None:
        self.pool.ended(self, reason)
        self.ended.callback(None)


class TextPool:
    """``workers`` processes writing text under ``text_root``, at most ``size`` pages in."""

    def __init__(
        self,
        workers: int,
        text_root: Path,
        limits: PageLimits,
        size: int,
        command: Callable[[Path, PageLimits], list[str]] = default_command,
        reactor=None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.count = workers
        self.text_root = Path(text_root)
        self.limits = limits
        self.command = command(self.text_root, limits)
        self.room = defer.DeferredSemaphore(size)
        self.waiting: deque[Job] = deque()
        self.workers: list[TextWorker] = []
        self.numbers = itertools.count(1)
        self.ids = itertools.count()
        self.closing = False
        self.failed_starts = 0  # workers in a row that exited before their first answer
        self.in_process = False  # the workers could not start: pages are written here
        self.lost = 0  # workers that died
        self.retried: list[str] = []  # pages a worker died on, tried again
        self.given_up: list[str] = []  # pages two workers died on

    # -- the pipeline's side ------------------------------------------------------------------
    def start(self) -> None:
        for _ in range(self.count):
            self.spawn()

    def submit(self, page: ArticlePage) -> defer.Deferred:
        """The page's TextOutcome, once a worker wrote it (waits while the pool is full)."""
        return self.room.run(self.enqueue, page)

    def close(self) -> defer.Deferred:
        """Let the workers finish what they have, then end them."""
        self.closing = True
        for worker in self.workers:
            worker.transport.closeStdin()
            self.reactor.callLater(CLOSE_TIMEOUT, self.kill, worker)
        return defer.DeferredList([worker.ended for worker in self.workers])

    # -- dispatching --------------------------------------------------------------------------
    def spawn(self) -> None:
        worker = TextWorker(self, next(self.numbers))
        env = dict(os.environ)
        # The worker imports this package wherever it was imported from here.
        package_root = str(Path(crawler.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self.reactor.spawnProcess(
            worker, self.command[0], self.command, env=env, childFDs={0: "w", 1: "r", 2: "r"}
        )
        self.workers.append(worker)

    def enqueue(self, page: ArticlePage) -> defer.Deferred:
        job = Job(next(self.ids), page)
        self.waiting.append(job)
        self.dispatch()
        return job.done

    def dispatch(self) -> None:
        while self.waiting:
            if self.in_process:
                self.write_here(self.waiting.popleft())
                continue
            free = [worker for worker in self.workers if len(worker.jobs) < DEPTH]
            if not free:
                return
            min(free, key=lambda worker: len(worker.jobs)).send(self.waiting.popleft())

    def write_here(self, job: Job) -> None:
        try:
            outcome = make_text(job.page, self.text_root, self.limits)
        except Exception:
            job.done.errback(Failure())
        else:
            job.done.callback(outcome)

    # -- what the workers say -----------------------------------------------------------------
    def answered(self, worker: TextWorker, job: Job, message: bytes) -> None:
        self.failed_starts = 0
        try:
            job_id, outcome = pickle.loads(message)
            assert job_id == job.id, f"answer to job {job_id} for job {job.id}"
        except Exception:
            job.done.errback(Failure())
        else:
            if isinstance(outcome, BaseException):
                job.done.errback(Failure(outcome))
            else:
                job.done.callback(outcome)
        self.dispatch()

    def ended(self, worker: TextWorker, reason: Failure) -> None:
        self.workers.remove(worker)
        if self.closing and not worker.jobs:
            return  # told to stop, and done
        why = _death(reason)
        jobs = list(worker.jobs)
        if worker.answers or getattr(reason.value, "signal", None):
            self.lost += 1
            self.failed_starts = 0
            if jobs:
                jobs = self.charge(worker, jobs, why)
            else:
                logger.error("text worker %d %s", worker.number, why)
        else:
            # Exited on its own before its first answer: it could not start (an import
            # error, a broken install), whatever page it was given.
            self.failed_starts += 1
            logger.error("text worker %d %s before its first answer", worker.number, why)
        self.waiting.extendleft(reversed(jobs))  # first in line, in their order
        if self.closing or self.in_process:
            self.in_process = True  # no new worker for the last pages
        elif self.failed_starts >= FAILED_STARTS:
            logger.error("text workers cannot start: writing text in the crawl's process")
            self.in_process = True
        else:
            self.spawn()
        self.dispatch()

    def charge(self, worker: TextWorker, jobs: list[Job], why: str) -> list[Job]:
        """The page a worker died on is tried once more, then given up; the pages queued
        behind it are sent again as they were. Returns the pages to send again."""
        current = jobs[0]
        current.attempts += 1
        if current.attempts == 1:
            logger.error("text worker %d %s on %s: trying it again on a new worker",
                         worker.number, why, current.page.url)  # fmt: skip
            self.retried.append(current.page.url)
            return jobs
        logger.error("text worker %d %s on %s again: giving it up",
                     worker.number, why, current.page.url)  # fmt: skip
        self.given_up.append(current.page.url)
        current.done.callback(TextOutcome(failure=f"the text worker {why} twice on this page"))
        return jobs[1:]

    def kill(self, worker: TextWorker) -> None:
        if worker in self.workers:
            try:
                worker.transport.signalProcess("KILL")
            except error.ProcessExitedAlready:
                pass


def _death(reason: Failure) -> str:
    """How a worker ended, in words: "was killed by signal 9", "exited with status 1"."""
    value = reason.value
    signal_number = getattr(value, "signal", None)
    if signal_number:
        return f"was killed by signal {signal_number}"
    return f"exited with status {getattr(value, 'exitCode', None)}"

"""Run the crawl again and again in the foreground: `dcs schedule --every 1h` / `--cron ...`.

Each run is a subprocess (Twisted's reactor cannot be restarted in one process), one at a
time: a tick that comes while the previous run is still going is skipped, not queued. A
failed run is logged and the schedule goes on. SIGTERM or SIGINT is passed on to the running
crawl as one SIGTERM (Scrapy then finishes the records in flight), the scheduler waits for it
and exits 0; a second signal is passed on too, which makes Scrapy stop at once.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crawler.errors import DcsError

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# The longest interval taken: times further away than this cannot be written as dates.
MAX_INTERVAL = 100 * 365 * 86400
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhdw]?)", re.IGNORECASE)
# How often the loop looks at the clock, the child and the signals received.
STEP = 0.1


class ScheduleError(DcsError):
    """A schedule that cannot be understood or started."""


def parse_interval(text: str | float) -> float:
    """Seconds in "30s", "15m", "1h", "1d", "1w", "1h30m" or a bare number of seconds."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        source = text.strip()
        if not source:
            raise ScheduleError("invalid interval '' (use e.g. 30s, 15m, 1h, 1d)")
        position, value = 0, 0.0
        while position < len(source):
            match = _PART.match(source, position)
            if match is None:
                raise ScheduleError(f"invalid interval {text!r} (use e.g. 30s, 15m, 1h, 1d)")
            value += float(match.group(1)) * UNITS[(match.group(2) or "s").lower()]
            position = match.end()
    if not math.isfinite(value) or value <= 0:
        raise ScheduleError(f"invalid interval {text!r}: it must be more than zero")
    if value > MAX_INTERVAL:
        raise ScheduleError(f"invalid interval {text!r}: at most 100 years")
    return value


def crawl_arguments(crawl_argv: list[str]) -> list[str]:
    """The options of each scheduled ``dcs crawl``: those given after ``--``."""
    return list(crawl_argv[1:] if crawl_argv[:1] == ["--"] else crawl_argv)


def crawl_command(crawl_argv: list[str]) -> list[str]:
    """The command of one scheduled run: ``dcs crawl`` with the options given after ``--``."""
    return [sys.executable, "-m", "crawler.cli", "crawl", *crawl_arguments(crawl_argv)]


class Ticks(Protocol):
    def first(self, now: float) -> float: ...
    def next_after(self, tick: float) -> float: ...


@dataclass
class IntervalTicks:
    """Every ``every`` seconds from the start, the first run at once."""

    every: float
    start: float | None = None

    def first(self, now: float) -> float:
        self.start = now
        return now

    def next_after(self, tick: float) -> float:
        start = tick if self.start is None else self.start
        # The epsilon keeps float error from handing back the same tick.
        return start + (math.floor((tick - start) / self.every + 1e-9) + 1) * self.every


@dataclass
class CronTicks:
    """The times a cron expression matches, in local time (croniter's syntax)."""

    expression: str

    def __post_init__(self) -> None:
        from croniter import croniter

        if not croniter.is_valid(self.expression):
            raise ScheduleError(
                f"invalid cron expression {self.expression!r} (e.g. '0 3 * * *' = daily at 03:00)"
            )
        self.next_after(time.time())  # one that never matches (31 February) fails now

    def first(self, now: float) -> float:
        return self.next_after(now)

    def next_after(self, tick: float) -> float:
        from croniter import CroniterError, croniter

        start = datetime.fromtimestamp(tick).astimezone()
        try:
            return croniter(self.expression, start).get_next(float)
        except CroniterError:
            raise ScheduleError(
                f"cron expression {self.expression!r} matches no date: it would never run"
            ) from None


def _when(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(sep=" ", timespec="seconds")


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def run_schedule(
    command: list[str],
    *,
    every: float | str | None = None,
    cron: str | None = None,
    max_runs: int | None = None,
    log: logging.Logger = logger,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    popen: Callable[..., subprocess.Popen] = subprocess.Popen,
) -> int:
    """Run ``command`` on a schedule until stopped (or ``max_runs`` runs have started).

    Returns 0 when stopped by SIGTERM/SIGINT or when every run succeeded, 1 when
    ``max_runs`` ended a schedule in which some run failed.
    """
    if (every is None) == (cron is None):
        raise ScheduleError("give either an interval (--every) or a cron expression (--cron)")
    if max_runs is not None and max_runs < 1:
        raise ScheduleError(f"invalid number of runs {max_runs}: it must be at least 1")
    ticks: Ticks = IntervalTicks(parse_interval(every)) if every is not None else CronTicks(cron)  # type: ignore[arg-type]
    what = f"every {every}" if every is not None else f"cron {cron!r}"

    signals_received: list[int] = []
    previous: dict[int, object] = {}
    # Signal handlers can only be set from the main thread (tests may run elsewhere).
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda n, _f: signals_received.append(n))

    proc: subprocess.Popen | None = None
    runs = failures = 0
    try:
        tick = ticks.first(clock())
        log.info("schedule %s: %s", what, " ".join(command))
        while True:
            if tick > clock():
                log.info("next run at %s", _when(tick))
            while not signals_received and clock() < tick:
                sleep(min(STEP, max(0.0, tick - clock())))
            if signals_received:
                break
            runs += 1
            started = clock()
            try:
                # Own process group: a Ctrl-C in the terminal reaches the scheduler only,
                # which passes on exactly one SIGTERM (two would force Scrapy to stop).
                proc = popen(command, process_group=0)
            except OSError as exc:
                raise ScheduleError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
            log.info("run %d started at %s (pid %d)", runs, _when(started), proc.pid)
            tick = ticks.next_after(tick)
            forwarded = 0
            while proc.poll() is None:
                if forwarded < len(signals_received):
                    forwarded += 1
                    log.info("stopping: passing SIGTERM to run %d (pid %d)", runs, proc.pid)
                    proc.send_signal(signal.SIGTERM)
                while not signals_received and clock() >= tick:
                    log.warning("skipped: previous run still running (tick %s)", _when(tick))
                    tick = ticks.next_after(tick)
                sleep(STEP)
            code = proc.returncode
            proc = None
            duration = clock() - started
            level = logging.INFO if code == 0 else logging.ERROR
            log.log(level, "run %d ended: %s after %.1fs", runs, _describe_exit(code), duration)
            failures += code != 0
            if signals_received:
                break
            if max_runs is not None and runs >= max_runs:
                return 1 if failures else 0
        log.info("schedule stopped by %s", signal.Signals(signals_received[0]).name)
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            # Leaving on an unexpected error: do not orphan a crawl.
            proc.terminate()
            proc.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

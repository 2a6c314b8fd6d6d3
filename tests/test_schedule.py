"""The scheduler: intervals, cron, overlapping and failing runs, clean stop on SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from crawler.errors import DcsError
from crawler.schedule import (
    CronTicks,
    IntervalTicks,
    ScheduleError,
    crawl_command,
    parse_interval,
    run_schedule,
)

REPO = Path(__file__).resolve().parent.parent


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def stamp(path: Path, extra: str = "") -> list[str]:
    """A command appending the time it started to ``path``, then running ``extra``."""
    return py(f"import time\nopen({str(path)!r}, 'a').write(f'{{time.time()}}\\n')\n{extra}")


def starts(path: Path) -> list[float]:
    return [float(line) for line in path.read_text().split()]


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="crawler.schedule")
    return caplog


# -- parsing -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400), ("1h30m", 5400), ("90", 90),
     ("0.5s", 0.5), (" 2H ", 7200), (2.5, 2.5)],
)  # fmt: skip
def test_parse_interval(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "-1m", "0s", "1h-", "m", 0])
def test_bad_intervals_are_one_line_errors(text):
    with pytest.raises(DcsError, match="invalid interval"):
        parse_interval(text)


def test_cron_expressions():
    ticks = CronTicks("*/15 * * * *")
    start = datetime(2026, 11, 28, 10, 7, 30).astimezone().timestamp()
    first = ticks.first(start)
    assert datetime.fromtimestamp(first).strftime("%H:%M:%S") == "10:15:00"
    assert ticks.next_after(first) - first == 15 * 60
    with pytest.raises(ScheduleError, match="invalid cron expression"):
        CronTicks("every day at noon")
    with pytest.raises(ScheduleError, match="invalid cron expression"):
        CronTicks("61 * * * *")


def test_interval_ticks_keep_to_their_grid():
    ticks = IntervalTicks(0.1)
    assert ticks.first(1000.0) == 1000.0
    tick = 1000.0
    for _ in range(50):  # float error must never hand back the same tick
        after = ticks.next_after(tick)
        assert after - tick == pytest.approx(0.1)
        tick = after
    assert ticks.next_after(1000.35) == pytest.approx(1000.4)


def test_either_every_or_cron(tmp_path):
    with pytest.raises(ScheduleError):
        run_schedule(["true"])
    with pytest.raises(ScheduleError):
        run_schedule(["true"], every="1h", cron="0 * * * *")
    with pytest.raises(ScheduleError, match="invalid cron"):
        run_schedule(["true"], cron="nope")
    with pytest.raises(ScheduleError, match="cannot run"):
        run_schedule([str(tmp_path / "no-such-program")], every="1s", max_runs=1)


def test_crawl_command_passes_the_options_after_dashes():
    assert crawl_command(["--", "--out", "/srv/a"]) == [
        sys.executable, "-m", "crawler.cli", "crawl", "--out", "/srv/a",
    ]  # fmt: skip
    assert crawl_command([])[-1] == "crawl"


# -- runs ----------------------------------------------------------------------------------
def test_runs_on_the_interval(tmp_path, log):
    out = tmp_path / "runs"
    assert run_schedule(stamp(out), every=0.5, max_runs=2) == 0
    first, second = starts(out)
    assert 0.4 < second - first < 1.0
    messages = [r.getMessage() for r in log.records]
    assert any(m.startswith("run 1 started at ") for m in messages)
    assert any(m.startswith("run 2 ended: exit code 0 after ") for m in messages)
    assert not any("skipped" in m for m in messages)


def test_a_run_overrunning_the_next_tick_skips_it(tmp_path, log):
    out = tmp_path / "runs"
    assert run_schedule(stamp(out, "time.sleep(1.2)"), every=0.5, max_runs=2) == 0
    first, second = starts(out)
    # Ticks at +0.5 and +1.0 come while run 1 is going; run 2 waits for the tick at +1.5.
    assert 1.4 < second - first < 2.0
    messages = [r.getMessage() for r in log.records]
    during_run_1 = log.records[: messages.index(next(m for m in messages if "run 1 ended" in m))]
    skipped = [r for r in during_run_1 if "skipped: previous run still running" in r.getMessage()]
    assert len(skipped) == 2 and all(r.levelno == logging.WARNING for r in skipped)


def test_a_failing_run_does_not_stop_the_schedule(tmp_path, log):
    out = tmp_path / "runs"
    assert run_schedule(stamp(out, "raise SystemExit(3)"), every=0.2, max_runs=3) == 1
    assert len(starts(out)) == 3
    failed = [r for r in log.records if "exit code 3" in r.getMessage()]
    assert len(failed) == 3 and all(r.levelno == logging.ERROR for r in failed)


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


class FakeProcess:
    """A run that lasts ``duration`` seconds of the fake clock."""

    def __init__(self, clock: FakeClock, duration: float, code: int, starts: list) -> None:
        self.clock, self.end, self.code, self.pid = clock, clock.now + duration, code, 4242
        self.returncode = None
        starts.append(clock.now)

    def poll(self):
        if self.returncode is None and self.clock.now >= self.end:
            self.returncode = self.code
        return self.returncode


def test_cron_runs_wait_for_their_minute_and_skip_when_busy(log):
    clock = FakeClock(datetime(2026, 11, 28, 10, 0, 20).astimezone().timestamp())
    started: list[float] = []
    durations = iter([150, 10])  # the first run overruns the 10:02 tick

    def popen(command, **kwargs):
        assert kwargs == {"process_group": 0}
        return FakeProcess(clock, next(durations), 0, started)

    code = run_schedule(
        ["crawl"], cron="* * * * *", max_runs=2, clock=clock, sleep=clock.sleep, popen=popen
    )
    assert code == 0
    assert [datetime.fromtimestamp(t).strftime("%H:%M:%S") for t in started] == [
        "10:01:00",
        "10:04:00",
    ]
    skipped = [r.getMessage() for r in log.records if "skipped" in r.getMessage()]
    assert len(skipped) == 2 and "10:02:00" in skipped[0] and "10:03:00" in skipped[1]


# -- stopping ------------------------------------------------------------------------------
CHILD = """
import os, signal, sys, time
out = sys.argv[1]
def note(signum, frame):
    open(out + ".signals", "a").write(signal.Signals(signum).name + "\\n")
    time.sleep(0.3)  # finishing the records in flight
    sys.exit(0)
signal.signal(signal.SIGTERM, note)
signal.signal(signal.SIGINT, note)
open(out + ".pid", "w").write(str(os.getpid()))
time.sleep(60)
"""

SCHEDULER = """
import logging, sys
from crawler.schedule import run_schedule
logging.basicConfig(level=logging.INFO, format="%(message)s")
sys.exit(run_schedule([sys.executable, "-c", sys.argv[1], sys.argv[2]], every=3600))
"""


def wait_for(path: Path, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_a_signal_stops_the_scheduler_after_the_running_crawl(tmp_path, how):
    out = tmp_path / "child"
    scheduler = subprocess.Popen(
        [sys.executable, "-c", SCHEDULER, CHILD, str(out)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        child_pid = int(wait_for(Path(f"{out}.pid")))
        if how == "sigterm":
            scheduler.send_signal(signal.SIGTERM)
        else:  # the terminal sends SIGINT to the whole foreground group
            os.killpg(scheduler.pid, signal.SIGINT)
        assert scheduler.wait(timeout=10) == 0
    finally:
        scheduler.kill()
        stderr = scheduler.stderr.read()
    # The crawl got exactly one SIGTERM (a second one would force Scrapy to stop at once).
    assert Path(f"{out}.signals").read_text() == "SIGTERM\n"
    assert not pid_alive(child_pid)
    assert "run 1 ended: exit code 0" in stderr
    assert "schedule stopped by" in stderr

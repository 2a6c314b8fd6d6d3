"""`python -m crawler.replica --port 8000 --seed 1 [--faults light] [--markup-variant K]`: serve in
the foreground.

Prints the base URL alone on the first line of stdout (for scripts), then serves until
interrupted. `dcs replica` calls serve_forever().
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from ..errors import DcsError
from .faults import KINDS, FaultPlan, FaultSpecError
from .server import ReplicaServer
from .website import ReplicaSite


def _plan(faults: bool | str | FaultPlan | None, force: list[str] | None) -> FaultPlan:
    if isinstance(faults, FaultPlan):
        plan = faults
    elif faults is True:
        plan = FaultPlan.parse("light")
    else:
        plan = FaultPlan.parse(faults or "none")
    for item in force or []:
        path, sep, kind = item.rpartition("=")
        if not sep or not path.startswith("/") or kind not in KINDS:
            raise FaultSpecError(
                f"bad --force {item!r}: expected /PATH=KIND, KIND one of {', '.join(KINDS)}"
            )
        plan.force[path] = kind
    return plan


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8000,
    seed: int = 1,
    faults: bool | str | FaultPlan | None = None,
    per_generation: int = 60,
    days: int = 0,
    advance_every: float = 0.0,
    force: list[str] | None = None,
    clock_skew_days: float = 0.0,
    markup_variant: int = 0,
) -> int:
    """Serve the replica until interrupted; the base URL goes to stdout first, alone."""
    plan = _plan(faults, force)
    try:
        site = ReplicaSite(
            seed=seed,
            per_generation=per_generation,
            clock_skew=timedelta(days=clock_skew_days),
            markup_variant=markup_variant,
        )
    except ValueError as exc:
        raise FaultSpecError(str(exc)) from None
    if days:
        site.advance(days)
    try:
        server = ReplicaServer(site, faults=plan, host=host, port=port).start()
    except OSError as exc:
        raise DcsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(server.base_url, flush=True)
    counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in site.urls().items())
    markup = site.variant.describe() if site.variant else "the replica's own markup"
    print(
        f"replica of dangcongsan.vn: seed {seed}, clock {site.now:%Y-%m-%d %H:%M %z}, "
        f"faults {'on' if plan.active else 'off'}; {counts}; {markup}",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            if advance_every > 0:
                time.sleep(advance_every)
                site.advance(1)
                print(f"clock: {site.now:%Y-%m-%d %H:%M %z}", file=sys.stderr, flush=True)
            else:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def number_in(low: float, high: float, kind: type = int):
    """An argparse type: a number of ``kind`` from ``low`` to ``high``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {text}")
        return value

    return parse


port_number = number_in(0, 65535)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The replica's options, shared by `python -m crawler.replica` and `dcs replica`."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=0, help="0 (default): a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-generation", type=int, default=60, help="articles per generation")
    parser.add_argument(
        "--days", type=number_in(0, 36500), default=0, help="advance the clock N days first"
    )
    parser.add_argument(
        "--faults", default="none", help="none | light | heavy | 503=0.05,reset=0.01,..."
    )
    parser.add_argument("--force", action="append", default=[], help="/PATH=KIND (repeatable)")
    parser.add_argument(
        "--advance-every",
        type=number_in(0, 86400, float),
        default=0,
        help="one day per N seconds",
    )
    parser.add_argument(
        "--clock-skew",
        type=number_in(-36500, 36500, float),
        default=0.0,
        metavar="DAYS",
        help="the server's clock, which dates edits and takedowns, runs DAYS off the stories' "
        "time (negative: behind)",
    )
    parser.add_argument(
        "--markup-variant",
        type=number_in(0, 1_000_000),
        default=0,
        metavar="K",
        help="serve article pages in markup variant K (0, the default: the replica's own)",
    )


def serve_from_arguments(args: argparse.Namespace) -> int:
    return serve_forever(
        args.host, args.port, args.seed, args.faults, args.per_generation, args.days,
        args.advance_every, args.force, args.clock_skew, args.markup_variant,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.replica", description=__doc__.split("\n")[0]
    )
    add_arguments(parser)
    try:
        return serve_from_arguments(parser.parse_args(argv))
    except DcsError as exc:
        print(f"dcs: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Faults on demand: which request fails how, deterministically per path, and only at first.

A faulted path fails its first `times` requests and is then served normally, so a crawler
that retries recovers. Off by default; /robots.txt is never faulted unless forced.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from ..errors import DcsError

KINDS = ("503", "429", "reset", "reset-headers", "truncate", "slow")
PRESETS = {
    "none": {},
    "light": {"503": 0.02, "429": 0.02, "reset": 0.01, "truncate": 0.01, "slow": 0.01},
    "heavy": {"503": 0.05, "429": 0.05, "reset": 0.03, "truncate": 0.03, "slow": 0.03},
}


class FaultSpecError(DcsError):
    """A fault plan that cannot be understood."""


@dataclass
class FaultPlan:
    """Rates per kind of fault (0..1, summing to at most 1), and faults forced on paths.

    "reset" closes the connection with a TCP RST part way through the body (half of the
    rate-chosen resets come right after the headers instead: "reset-headers"); "truncate"
    announces the full Content-Length, sends half and closes; "slow" sleeps `slow_seconds`
    before answering; "503" and "429" answer with `Retry-After: 1`.
    """

    rate_503: float = 0.0
    rate_429: float = 0.0
    rate_reset: float = 0.0
    rate_truncate: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 2.0
    times: int = 1
    seed: int | None = None  # None: the site's seed
    force: dict[str, str] = field(default_factory=dict)  # path (with or without query) -> kind

    def __post_init__(self) -> None:
        rates = self._rates()
        if any(not 0.0 <= r <= 1.0 for _, r in rates) or sum(r for _, r in rates) > 1.0:
            raise FaultSpecError("fault rates must be between 0 and 1 and sum to at most 1")
        if self.times < 1:
            raise FaultSpecError("fault times must be at least 1")
        if self.slow_seconds < 0:
            raise FaultSpecError("slow_seconds must not be negative")
        for path, kind in self.force.items():
            if kind not in KINDS:
                raise FaultSpecError(
                    f"unknown fault {kind!r} for {path} (one of {', '.join(KINDS)})"
                )

    def _rates(self) -> list[tuple[str, float]]:
        return [
            ("503", self.rate_503),
            ("429", self.rate_429),
            ("reset", self.rate_reset),
            ("truncate", self.rate_truncate),
            ("slow", self.rate_slow),
        ]

    @property
    def active(self) -> bool:
        return bool(self.force) or any(r > 0 for _, r in self._rates())

    def kind_for(self, path: str, site_seed: int = 0) -> str | None:
        """The fault a path (with query) is given, if any; the same answer every time."""
        base = path.split("?", 1)[0]
        forced = self.force.get(path) or self.force.get(base)
        if forced:
            return forced
        if base == "/robots.txt" or not self.active:
            return None
        seed = site_seed if self.seed is None else self.seed
        digest = hashlib.sha256(f"{seed}:fault:{path}".encode()).digest()
        roll = int.from_bytes(digest[:8], "big") / 2**64
        edge = 0.0
        for kind, rate in self._rates():
            edge += rate
            if roll < edge:
                if kind == "reset" and digest[8] % 2:
                    return "reset-headers"
                return kind
        return None

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """`light`, `heavy`, `none`, or `503=0.05,429=0.02,reset=0.01,truncate=0.01,slow=0.01,
        slow_seconds=1,times=2,seed=7` (any subset, or a preset followed by overrides)."""
        values: dict[str, float] = {}
        options: dict[str, float] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            if item in PRESETS:
                values.update(PRESETS[item])
                continue
            name, sep, raw = item.partition("=")
            try:
                number = float(raw)
            except ValueError:
                number = None
            if not sep or number is None:
                raise FaultSpecError(f"bad fault spec item {item!r} (expected name=number)")
            if name in ("503", "429", "reset", "truncate", "slow"):
                values[name] = number
            elif name in ("slow_seconds", "times", "seed"):
                options[name] = number
            else:
                raise FaultSpecError(f"unknown fault {name!r} in {spec!r}")
        return cls(
            rate_503=values.get("503", 0.0),
            rate_429=values.get("429", 0.0),
            rate_reset=values.get("reset", 0.0),
            rate_truncate=values.get("truncate", 0.0),
            rate_slow=values.get("slow", 0.0),
            slow_seconds=options.get("slow_seconds", 2.0),
            times=int(options.get("times", 1)),
            seed=int(options["seed"]) if "seed" in options else None,
        )


class FaultCounter:
    """Counts requests per path so a fault fires only on the first `times` of them."""

    def __init__(self, plan: FaultPlan | None, site_seed: int) -> None:
        self.plan = plan or FaultPlan()
        self.site_seed = site_seed
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def next_fault(self, path: str) -> str | None:
        kind = self.plan.kind_for(path, self.site_seed)
        if kind is None:
            return None
        with self._lock:
            count = self._seen.get(path, 0) + 1
            self._seen[path] = count
        return kind if count <= self.plan.times else None

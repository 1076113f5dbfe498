"""Named runtime helpers that IR `call` operations may use, for rare operations that need the host.

Each helper is a plain Python function of integer arguments returning an integer; every backend calls
the same function, so there is one definition of what a helper does.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Helper:
    name: str
    fn: Callable[..., int]
    nargs: int
    doc: str


HELPERS: dict[str, Helper] = {}


def helper(name: str, nargs: int):
    """Register a helper function under `name`."""
    def register(fn: Callable[..., int]) -> Callable[..., int]:
        HELPERS[name] = Helper(name, fn, nargs, (fn.__doc__ or "").strip())
        return fn
    return register


TIMER_HZ = 10_000_000


@helper("time_ticks", 0)
def time_ticks() -> int:
    """The host's monotonic clock in ticks of 100 ns (a 10 MHz timer, as on QEMU's virt machine)."""
    return time.monotonic_ns() // (1_000_000_000 // TIMER_HZ)

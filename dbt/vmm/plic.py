"""The platform-level interrupt controller (SiFive PLIC layout, as on QEMU's virt machine).

Sources 1..NSOURCES are level-triggered lines; contexts are (hart, M) = 2*hart and (hart, S) = 2*hart+1.
A context's interrupt is pending when an enabled, pending source has a priority above its threshold;
claim returns the best such source and clears its pending bit, complete lets it pend again.
"""
from __future__ import annotations

from typing import Callable

BASE, SIZE = 0xC000000, 0x4000000
NSOURCES = 32          # source 0 means "none"
PRIORITY_BITS = 7
PRIORITY, PENDING, ENABLE, CONTEXT = 0x0, 0x1000, 0x2000, 0x200000
ENABLE_STRIDE, CONTEXT_STRIDE = 0x80, 0x1000


class Plic:
    """Priorities, pending bits, per-context enables, thresholds and claim/complete."""

    def __init__(self, harts: int = 1, on_change: Callable[[], None] | None = None) -> None:
        self.contexts = 2 * harts
        self.priority = [0] * NSOURCES
        self.level = [False] * NSOURCES
        self.pending = 0
        self.claimed = 0
        self.enable = [0] * self.contexts
        self.threshold = [0] * self.contexts
        self.on_change = on_change

    # -- device side --------------------------------------------------------------------------------
    def set_level(self, source: int, high: bool) -> None:
        """Drive interrupt line `source` high or low."""
        self.level[source] = high
        if high and not self.claimed >> source & 1:
            self.pending |= 1 << source
        elif not high:
            self.pending &= ~(1 << source)
        if self.on_change is not None:
            self.on_change()

    # -- hart side -----------------------------------------------------------------------------------
    def best(self, ctx: int) -> int:
        """The source a claim by ctx would return (0 if none)."""
        ready = self.pending & self.enable[ctx] & ~1
        best, best_prio = 0, self.threshold[ctx]
        while ready:
            src = (ready & -ready).bit_length() - 1
            ready &= ready - 1
            if self.priority[src] > best_prio:
                best, best_prio = src, self.priority[src]
        return best

    def irq(self, ctx: int) -> bool:
        """True if context ctx has an interrupt to take (its MEIP or SEIP)."""
        return self.best(ctx) != 0

    def claim(self, ctx: int) -> int:
        src = self.best(ctx)
        if src:
            self.pending &= ~(1 << src)
            self.claimed |= 1 << src
        return src

    def complete(self, ctx: int, src: int) -> None:
        if 0 < src < NSOURCES and self.enable[ctx] >> src & 1 and self.claimed >> src & 1:
            self.claimed &= ~(1 << src)
            if self.level[src]:
                self.pending |= 1 << src

    # -- registers (32-bit) ---------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if offset < PENDING:
            src = offset >> 2
            return self.priority[src] if src < NSOURCES else 0
        if offset < ENABLE:
            return self.pending >> (8 * (offset - PENDING)) & 0xFFFFFFFF if offset - PENDING < NSOURCES // 8 else 0
        ctx, word = divmod(offset - ENABLE, ENABLE_STRIDE)
        if offset < CONTEXT:
            return self.enable[ctx] >> (8 * word) & 0xFFFFFFFF if ctx < self.contexts and word < NSOURCES // 8 else 0
        ctx, reg = divmod(offset - CONTEXT, CONTEXT_STRIDE)
        if ctx >= self.contexts:
            return 0
        return {0: lambda: self.threshold[ctx], 4: lambda: self.claim(ctx)}.get(reg, lambda: 0)()

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFFFFFFFF
        if offset < PENDING:
            src = offset >> 2
            if 0 < src < NSOURCES:
                self.priority[src] = value & ((1 << PRIORITY_BITS) - 1)
        elif ENABLE <= offset < CONTEXT:
            ctx, word = divmod(offset - ENABLE, ENABLE_STRIDE)
            if ctx < self.contexts and word < NSOURCES // 8 and word % 4 == 0:
                shift = 8 * word
                mask = 0xFFFFFFFF << shift
                self.enable[ctx] = (self.enable[ctx] & ~mask | value << shift) & ~1 & ((1 << NSOURCES) - 1)
        elif offset >= CONTEXT:
            ctx, reg = divmod(offset - CONTEXT, CONTEXT_STRIDE)
            if ctx < self.contexts:
                {0: lambda: self.threshold.__setitem__(ctx, value & ((1 << PRIORITY_BITS) - 1)),
                 4: lambda: self.complete(ctx, value)}.get(reg, lambda: None)()
        if self.on_change is not None:
            self.on_change()

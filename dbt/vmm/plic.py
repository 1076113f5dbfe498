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

    # -- registers (32-bit): regions of (first offset, stride, reader, writer) -------------------------
    def _priority(self, src: int, off: int) -> int:
        return self.priority[src] if src < NSOURCES else 0

    def _set_priority(self, src: int, off: int, value: int) -> None:
        if 0 < src < NSOURCES:
            self.priority[src] = value & ((1 << PRIORITY_BITS) - 1)

    def _pending(self, word: int, off: int) -> int:
        return self.pending >> (32 * word) & 0xFFFFFFFF

    def _enable(self, ctx: int, off: int) -> int:
        return self.enable[ctx] >> (8 * off) & 0xFFFFFFFF if ctx < self.contexts else 0

    def _set_enable(self, ctx: int, off: int, value: int) -> None:
        if ctx < self.contexts and off < NSOURCES // 8:
            mask = 0xFFFFFFFF << (8 * off)
            self.enable[ctx] = (self.enable[ctx] & ~mask | value << (8 * off)) & ((1 << NSOURCES) - 2)

    def _context(self, ctx: int, off: int) -> int:
        reg = CONTEXT_REGS.get(off)
        return reg[0](self, ctx) if reg is not None and ctx < self.contexts else 0

    def _set_context(self, ctx: int, off: int, value: int) -> None:
        reg = CONTEXT_REGS.get(off)
        if reg is not None and ctx < self.contexts:
            reg[1](self, ctx, value)

    def _set_threshold(self, ctx: int, value: int) -> None:
        self.threshold[ctx] = value & ((1 << PRIORITY_BITS) - 1)

    def _region(self, offset: int):
        for first, stride, reader, writer in REGIONS:
            if offset >= first:
                index, off = divmod(offset - first, stride)
                return index, off, reader, writer
        raise AssertionError("offset below the first region")

    def read(self, offset: int, size: int) -> int:
        index, off, reader, _ = self._region(offset)
        return reader(self, index, off)

    def write(self, offset: int, size: int, value: int) -> None:
        index, off, _, writer = self._region(offset)
        if writer is not None:
            writer(self, index, off, value & 0xFFFFFFFF)
        if self.on_change is not None:
            self.on_change()


REGIONS = (  # searched from the highest first offset down
    (CONTEXT, CONTEXT_STRIDE, Plic._context, Plic._set_context),
    (ENABLE, ENABLE_STRIDE, Plic._enable, Plic._set_enable),
    (PENDING, 4, Plic._pending, None),
    (PRIORITY, 4, Plic._priority, Plic._set_priority),
)
CONTEXT_REGS = {0: (lambda p, ctx: p.threshold[ctx], Plic._set_threshold), 4: (Plic.claim, Plic.complete)}

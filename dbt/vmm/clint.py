"""The core-local interruptor (SiFive CLINT layout, as on QEMU's virt machine): per-hart msip and
mtimecmp, and mtime, a 10 MHz counter from the host's monotonic clock."""
from __future__ import annotations

from ..helpers import TIMER_HZ, time_ticks
from .regs import lanes_read, lanes_write

BASE, SIZE = 0x2000000, 0x10000
MSIP, MTIMECMP, MTIME = 0x0, 0x4000, 0xBFF8
NEVER = (1 << 64) - 1


class Clint:
    """msip (4 bytes per hart), mtimecmp (8 bytes per hart) and the shared mtime."""

    def __init__(self, harts: int = 1) -> None:
        self.harts = harts
        self.msip = [0] * harts
        self.mtimecmp = [NEVER] * harts
        self.offset = 0  # mtime = host ticks + offset (a guest may write mtime)

    @property
    def hz(self) -> int:
        return TIMER_HZ

    def mtime(self) -> int:
        """The current value of mtime."""
        return (time_ticks() + self.offset) & NEVER

    def set_mtime(self, value: int) -> None:
        self.offset = value - time_ticks()

    def timer_pending(self, hart: int) -> bool:
        """MTIP of a hart: mtime >= mtimecmp."""
        return self.mtime() >= self.mtimecmp[hart]

    def _slot(self, offset: int, base: int, width: int, count: int) -> tuple[int, int] | None:
        i, lane = divmod(offset - base, width)
        return (i, lane) if base <= offset and i < count else None

    def read(self, offset: int, size: int) -> int:
        if (s := self._slot(offset, MSIP, 4, self.harts)) is not None:
            return lanes_read(self.msip[s[0]], s[1], size)
        if (s := self._slot(offset, MTIMECMP, 8, self.harts)) is not None:
            return lanes_read(self.mtimecmp[s[0]], s[1], size)
        if MTIME <= offset < MTIME + 8:
            return lanes_read(self.mtime(), offset - MTIME, size)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if (s := self._slot(offset, MSIP, 4, self.harts)) is not None:
            self.msip[s[0]] = lanes_write(self.msip[s[0]], s[1], size, value, 4) & 1
        elif (s := self._slot(offset, MTIMECMP, 8, self.harts)) is not None:
            self.mtimecmp[s[0]] = lanes_write(self.mtimecmp[s[0]], s[1], size, value)
        elif MTIME <= offset < MTIME + 8:
            self.set_mtime(lanes_write(self.mtime(), offset - MTIME, size, value))

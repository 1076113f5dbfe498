"""SBI, the supervisor binary interface, served by the monitor for ecalls from S-mode: base, timer,
legacy console putchar/getchar, IPIs, hart status (HSM), the debug console (DBCN) and system reset. a7 is the extension,
a6 the function; results come back in a0 (error) and a1 (value)."""
from __future__ import annotations

from typing import Callable

from .htif import MachineExit
from .priv import SSI, Hart

SUCCESS, ERR_FAILED, ERR_NOT_SUPPORTED, ERR_INVALID_PARAM = 0, -1, -2, -3
SPEC_VERSION = (2 << 24) | 0          # SBI 2.0
IMPL_ID = 0x64627400                  # "dbt"
BASE, TIME, IPI, HSM, DBCN, SRST = 0x10, 0x54494D45, 0x735049, 0x48534D, 0x4442434E, 0x53525354
HART_STARTED = 0
ALL_HARTS = (1 << 64) - 1  # hart_mask_base meaning "every hart"
LEGACY_SET_TIMER, LEGACY_PUTCHAR, LEGACY_GETCHAR, LEGACY_SHUTDOWN = 0, 1, 2, 8

Result = tuple[int, int]


class Sbi:
    """The SBI extensions; `machine` provides console, timer and stop."""

    def __init__(self, machine) -> None:
        self.m = machine
        base = {0: lambda h: (SUCCESS, SPEC_VERSION), 1: lambda h: (SUCCESS, IMPL_ID),
                2: lambda h: (SUCCESS, 1), 3: self._probe, 4: lambda h: (SUCCESS, 0),
                5: lambda h: (SUCCESS, 0), 6: lambda h: (SUCCESS, 0)}
        self.extensions: dict[int, dict[int, Callable[[Hart], Result]]] = {
            BASE: base,
            TIME: {0: self._set_timer},
            IPI: {0: self._send_ipi},
            HSM: {2: self._hart_status},
            DBCN: {0: self._dbcn_write, 1: self._dbcn_read, 2: self._dbcn_write_byte},
            SRST: {0: self._reset},
        }
        self.legacy: dict[int, Callable[[Hart], int]] = {
            LEGACY_SET_TIMER: lambda h: self._set_timer(h)[0],
            LEGACY_PUTCHAR: lambda h: self._putchar(h.state["a0"]),
            LEGACY_GETCHAR: lambda h: self.m.console_getchar(),
            LEGACY_SHUTDOWN: lambda h: self._stop(0, "SBI legacy shutdown"),
        }

    def call(self, h: Hart) -> bool:
        """Serve the ecall; always True (an unknown call gets ERR_NOT_SUPPORTED)."""
        st = h.state
        ext, fid = st["a7"], st["a6"]
        if ext in self.legacy:
            st["a0"] = self.legacy[ext](h)
            return True
        fn = self.extensions.get(ext, {}).get(fid)
        err, value = fn(h) if fn is not None else (ERR_NOT_SUPPORTED, 0)
        st["a0"], st["a1"] = err, value
        return True

    def _probe(self, h: Hart) -> Result:
        ext = h.state["a0"]
        return SUCCESS, int(ext in self.extensions or ext in self.legacy)

    def _set_timer(self, h: Hart) -> Result:
        self.m.set_supervisor_timer(h.hartid, h.state["a0"])
        return SUCCESS, 0

    def _send_ipi(self, h: Hart) -> Result:
        """Raise SSIP on the harts in a0 (a bit mask starting at hart a1)."""
        mask, first = h.state["a0"], h.state["a1"]
        harts = self.m.harts
        targets = harts if first == ALL_HARTS else [harts[i] for i in range(len(harts))
                                                      if i >= first and mask >> (i - first) & 1]
        if first != ALL_HARTS and (first >= len(harts) or mask >> (len(harts) - first)):
            return ERR_INVALID_PARAM, 0
        for t in targets:
            t.mip_sw |= 1 << SSI
        return SUCCESS, 0

    def _hart_status(self, h: Hart) -> Result:
        return (SUCCESS, HART_STARTED) if h.state["a0"] < len(self.m.harts) else (ERR_INVALID_PARAM, 0)

    def _putchar(self, ch: int) -> int:
        self.m.console_write(bytes([ch & 0xFF]))
        return SUCCESS

    def _dbcn_buffer(self, h: Hart) -> tuple[int, int] | None:
        """The (address, length) of a DBCN buffer (a0 = length, a1/a2 = address), if it lies in RAM."""
        st = h.state
        n, lo, hi = st["a0"], st["a1"], st["a2"]
        return (lo, n) if not hi and self.m.memory.is_ram(lo, n) else None

    def _dbcn_write(self, h: Hart) -> Result:
        buf = self._dbcn_buffer(h)
        if buf is None:
            return ERR_INVALID_PARAM, 0
        self.m.console_write(self.m.memory.peek(*buf))
        return SUCCESS, buf[1]

    def _dbcn_read(self, h: Hart) -> Result:
        buf = self._dbcn_buffer(h)
        if buf is None:
            return ERR_INVALID_PARAM, 0
        data = self.m.console_read(buf[1])
        self.m.memory.dma_write(buf[0], data)
        return SUCCESS, len(data)

    def _dbcn_write_byte(self, h: Hart) -> Result:
        return self._putchar(h.state["a0"]), 0

    def _reset(self, h: Hart) -> Result:
        kind, reason = h.state["a0"] & 0xFFFFFFFF, h.state["a1"] & 0xFFFFFFFF
        if kind > 2 and kind < 0xF0000000:
            return ERR_INVALID_PARAM, 0
        self._stop(1 if reason == 1 else 0, f"SBI system reset (type {kind}, reason {reason})")
        return SUCCESS, 0

    def _stop(self, status: int, why: str) -> int:
        raise MachineExit(status, why)

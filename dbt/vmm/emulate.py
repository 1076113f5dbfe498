"""The monitor's side of trap and emulate: decode the privileged instruction at the PC of a PRIV exit
and carry it out on the hart (or raise the exception the specification prescribes in the guest)."""
from __future__ import annotations

from typing import Callable, Protocol

from .priv import (BREAKPOINT, CSRS, ECALL_FROM, ILLEGAL_INSN, M, MASK64, S, TSR, TVM, TW, U, Hart,
                   csr_allowed)

SYSTEM_OPCODE = 0x73
C_EBREAK = 0x9002


class Monitor(Protocol):
    """What instruction emulation needs from the machine."""

    def sbi_call(self, hart: Hart) -> bool:
        """Serve an S-mode ecall as SBI; False to deliver it to the guest as an exception."""

    def wait_for_interrupt(self, hart: Hart) -> None:
        """Idle until an interrupt is pending and enabled in mie (or the machine stops)."""


def _x(h: Hart, n: int) -> int:
    return h.state[f"x{n}"] if n else 0


def _set_x(h: Hart, n: int, v: int) -> None:
    if n:
        h.state[f"x{n}"] = v & MASK64


def _retire(h: Hart, size: int = 4) -> None:
    """The emulated instruction completed: count it and step past it."""
    st = h.state
    st.words[1] += 1  # icount
    st.pc = st.pc + size


def _illegal(h: Hart, word: int) -> None:
    h.trap(ILLEGAL_INSN, word)


# -- SYSTEM instructions with funct3 = 0, keyed by bits 31:20 ----------------------------------------------
def _ecall(h: Hart, mon: Monitor, word: int) -> None:
    if h.mode == S and mon.sbi_call(h):
        _retire(h)
    else:
        h.trap(ECALL_FROM[h.mode])


def _ebreak(h: Hart, mon: Monitor, word: int) -> None:
    h.trap(BREAKPOINT, h.state.pc)


def _mret(h: Hart, mon: Monitor, word: int) -> None:
    if h.mode != M:
        return _illegal(h, word)
    h.state.words[1] += 1
    h.mret()


def _sret(h: Hart, mon: Monitor, word: int) -> None:
    if h.mode == U or (h.mode == S and h.mstatus & TSR):
        return _illegal(h, word)
    h.state.words[1] += 1
    h.sret()


def _wfi(h: Hart, mon: Monitor, word: int) -> None:
    if h.mode == U or (h.mode == S and h.mstatus & TW):
        return _illegal(h, word)
    _retire(h)
    mon.wait_for_interrupt(h)


def _sfence_vma(h: Hart, mon: Monitor, word: int) -> None:
    """No address translation yet: nothing to flush, only the access rule to apply."""
    if h.mode == U or (h.mode == S and h.mstatus & TVM):
        return _illegal(h, word)
    _retire(h)


SYSTEM: dict[int, Callable[[Hart, Monitor, int], None]] = {
    0x000: _ecall, 0x001: _ebreak, 0x302: _mret, 0x102: _sret, 0x105: _wfi,
}
SFENCE_VMA_FUNCT7 = 0x09


# -- Zicsr, keyed by funct3 ------------------------------------------------------------------------------
CSR_OPS: dict[int, Callable[[int, int], int]] = {
    1: lambda old, src: src,             # csrrw
    2: lambda old, src: old | src,       # csrrs
    3: lambda old, src: old & ~src,      # csrrc
}


def _csr(h: Hart, mon: Monitor, word: int) -> None:
    funct3 = (word >> 12) & 7
    rd, rs1, csr = (word >> 7) & 31, (word >> 15) & 31, word >> 20
    op = CSR_OPS.get(funct3 & 3)
    if op is None:
        return _illegal(h, word)
    src = rs1 if funct3 & 4 else _x(h, rs1)
    writes = funct3 & 3 == 1 or rs1 != 0
    if not csr_allowed(h, csr, writes):
        return _illegal(h, word)
    read, write = CSRS[csr]
    old = read(h) & MASK64
    if writes:
        write(h, op(old, src) & MASK64)
    _set_x(h, rd, old)
    _retire(h)


def emulate(h: Hart, mon: Monitor, word: int, size: int) -> None:
    """Carry out the privileged instruction `word` at h.state.pc."""
    if size == 2:
        return _ebreak(h, mon, word) if word == C_EBREAK else _illegal(h, word)
    if word & 0x7F != SYSTEM_OPCODE:
        return _illegal(h, word)
    if (word >> 12) & 7:
        return _csr(h, mon, word)
    if word >> 25 == SFENCE_VMA_FUNCT7 and (word >> 7) & 31 == 0:
        return _sfence_vma(h, mon, word)
    fn = SYSTEM.get(word >> 20) if word & 0xFFF80 == 0 else None
    if fn is None:
        return _illegal(h, word)
    fn(h, mon, word)

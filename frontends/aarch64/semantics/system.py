"""System instructions at EL0: svc, brk, hints and barriers, the exclusive-monitor clear, mrs/msr of the
EL0-visible system registers (TPIDR_EL0, NZCV, FPCR, FPSR, CNTVCT_EL0, CNTFRQ_EL0, DCZID_EL0, CTR_EL0),
and the cache maintenance instructions (dc zva zeroes a 64-byte block, the others are no-ops)."""
from __future__ import annotations

from typing import Callable

from dbt.exits import ExitKind
from dbt.helpers import TIMER_HZ
from dbt.ir.block import Const, Value
from dbt.ir.types import I1, I64

from ..lifter import Ctx, encoding, field
from ..registers import C, FPCR, N, NO_RESERVATION, RESERVATION, TPIDR, V, Z
from .fp import read_fpsr, write_fpcr, write_fpsr
from .memory import store

ZVA_BYTES = 64
DCZID = 4          # log2 of the dc zva block in 4-byte words; DZP = 0 (dc zva allowed)
CTR = 0x8444C004   # CTR_EL0: 64-byte lines, IDC/DIC clear


@encoding("11010100 000 xxxxxxxxxxxxxxxx 00001")
def svc(ctx: Ctx, w: int) -> None:
    ctx.b.exit(ExitKind.SYSCALL, ctx.pc, ctx.next_pc)


@encoding("11010100 001 xxxxxxxxxxxxxxxx 00000")
def brk(ctx: Ctx, w: int) -> None:
    ctx.b.exit(ExitKind.BREAK, ctx.pc, ctx.next_pc)


@encoding("11010101 00000011 0010 xxxxxxx 11111")
def hint(ctx: Ctx, w: int) -> None:
    """nop, yield, bti, and the pointer-authentication hints (no-ops without PAC)."""


@encoding("11010101 00000011 0011 xxxx x10 11111")
def clrex(ctx: Ctx, w: int) -> None:
    ctx.b.put(RESERVATION, Const(I64, NO_RESERVATION))


@encoding("11010101 00000011 0011 xxxx 1xx 11111")
def barrier(ctx: Ctx, w: int) -> None:
    """dsb, dmb (no effect with one CPU) and isb (ends the block so later code is fetched anew)."""
    if field(w, 5, 3) == 6:
        ctx.b.goto(ctx.next_pc)


def _nzcv_read(ctx: Ctx) -> Value:
    b = ctx.b
    out = Const(I64, 0)
    for reg, bit in ((N, 31), (Z, 30), (C, 29), (V, 28)):
        out = b.or_(out, b.shl(b.zext(b.get(reg), I64), Const(I64, bit)))
    return out


def _nzcv_write(ctx: Ctx, v: Value) -> None:
    b = ctx.b
    for reg, bit in ((N, 31), (Z, 30), (C, 29), (V, 28)):
        b.put(reg, b.trunc(b.lshr(v, Const(I64, bit)), I1))


def _const(value: int) -> Callable[[Ctx], Value]:
    return lambda ctx: Const(I64, value)


# (op0, op1, CRn, CRm, op2) -> (read, write or None)
SYSREGS: dict[tuple, tuple[Callable[[Ctx], Value], Callable[[Ctx, Value], None] | None]] = {
    (3, 3, 13, 0, 2): (lambda ctx: ctx.b.get(TPIDR), lambda ctx, v: ctx.b.put(TPIDR, v)),
    (3, 3, 4, 2, 0): (_nzcv_read, _nzcv_write),
    (3, 3, 4, 4, 0): (lambda ctx: ctx.b.get(FPCR), lambda ctx, v: write_fpcr(ctx, v)),
    (3, 3, 4, 4, 1): (lambda ctx: read_fpsr(ctx), lambda ctx, v: write_fpsr(ctx, v)),
    (3, 3, 14, 0, 2): (lambda ctx: ctx.b.call("time_ticks", I64), None),
    (3, 3, 14, 0, 1): (lambda ctx: ctx.b.call("time_ticks", I64), None),
    (3, 3, 14, 0, 0): (_const(TIMER_HZ), None),
    (3, 3, 0, 0, 7): (_const(DCZID), None),
    (3, 3, 0, 0, 1): (_const(CTR), None),
}


def _sysreg_key(w: int) -> tuple:
    return (2 + field(w, 19, 1), field(w, 16, 3), field(w, 12, 4), field(w, 8, 4), field(w, 5, 3))


@encoding("1101010100 x 1 x xxx xxxx xxxx xxx xxxxx")
def mrs_msr(ctx: Ctx, w: int) -> None:
    """mrs (L = 1) and msr (register) of the EL0-visible system registers; others are undefined."""
    entry = SYSREGS.get(_sysreg_key(w))
    is_read = field(w, 21, 1)
    if entry is None or (not is_read and entry[1] is None):
        ctx.undefined()
        return
    rt = field(w, 0, 5)
    if is_read:
        ctx.set_x(rt, entry[0](ctx))
    else:
        entry[1](ctx, ctx.x(rt))


@encoding("1101010100 0 01 xxx xxxx xxxx xxx xxxxx")
def sys(ctx: Ctx, w: int) -> None:
    """dc zva zeroes its block; dc cvau/civac/cvac/cvap and ic ivau have no visible effect here."""
    op1, crn, crm, op2 = field(w, 16, 3), field(w, 12, 4), field(w, 8, 4), field(w, 5, 3)
    if (op1, crn, crm, op2) == (3, 7, 4, 1):
        b = ctx.b
        base = b.and_(ctx.x(field(w, 0, 5)), Const(I64, ~(ZVA_BYTES - 1) & I64.mask))
        for off in range(0, ZVA_BYTES, 8):
            store(ctx, b.add(base, Const(I64, off)), Const(I64, 0))
    elif (op1, crn) == (3, 7) and crm in (5, 10, 11, 12, 13, 14):
        pass
    else:
        ctx.undefined()


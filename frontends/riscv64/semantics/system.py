"""System instructions at user level: ecall, ebreak, fences, and Zicsr for the user CSRs
(fflags, frm, fcsr, cycle, time, instret). Privileged instructions are undefined in user mode."""
from __future__ import annotations

from typing import Callable

from dbt.exits import ExitKind
from dbt.ir.block import Const, Value
from dbt.ir.types import I32, I64

from .. import fields as f
from ..lifter import Ctx, family, insn

FFLAGS, FRM, FCSR, CYCLE, TIME, INSTRET = 0x001, 0x002, 0x003, 0xC00, 0xC01, 0xC02


@insn("ecall", fields=f.no_operands)
def ecall(ctx: Ctx, a: f.Args) -> None:
    ctx.b.exit(ExitKind.SYSCALL, ctx.pc, ctx.next_pc)


@insn("ebreak", fields=f.no_operands)
def ebreak(ctx: Ctx, a: f.Args) -> None:
    ctx.b.exit(ExitKind.BREAK, ctx.pc, ctx.next_pc)


@insn("fence", "fence_tso", fields=f.no_operands)
def fence(ctx: Ctx, a: f.Args) -> None:
    """Memory ordering has no visible effect with one hart."""


@insn("fence_i", fields=f.no_operands)
def fence_i(ctx: Ctx, a: f.Args) -> None:
    """Writes to translated code already drop the stale translations; end the block all the same."""
    ctx.b.goto(ctx.next_pc)


@insn("unimp", "c_unimp", "mret", "sret", "uret", "wfi", "sfence_vma", fields=f.no_operands)
def undefined(ctx: Ctx, a: f.Args) -> None:
    ctx.undefined()


# -- Zicsr ------------------------------------------------------------------------------------------

def _read_fcsr(ctx: Ctx) -> Value:
    b = ctx.b
    return b.zext(b.or_(b.shl(b.getround(), Const(I32, 5)), b.getflags()), I64)


def _write_fcsr(ctx: Ctx, v: Value) -> None:
    b = ctx.b
    w = b.trunc(v, I32)
    b.setflags(b.and_(w, Const(I32, 0x1F)))
    b.setround(b.and_(b.lshr(w, Const(I32, 5)), Const(I32, 7)))


def _counter(ctx: Ctx) -> Value:
    """cycle and instret both count retired guest instructions (exact and the same on every tier)."""
    return ctx.b.emit("icount", I64)


# csr -> (read, write or None for read-only)
CSRS: dict[int, tuple[Callable[[Ctx], Value], Callable[[Ctx, Value], None] | None]] = {
    FFLAGS: (lambda ctx: ctx.b.zext(ctx.b.getflags(), I64),
             lambda ctx, v: ctx.b.setflags(ctx.b.and_(ctx.b.trunc(v, I32), Const(I32, 0x1F)))),
    FRM: (lambda ctx: ctx.b.zext(ctx.b.getround(), I64),
          lambda ctx, v: ctx.b.setround(ctx.b.and_(ctx.b.trunc(v, I32), Const(I32, 7)))),
    FCSR: (_read_fcsr, _write_fcsr),
    CYCLE: (_counter, None),
    INSTRET: (_counter, None),
    TIME: (lambda ctx: ctx.b.call("time_ticks", I64), None),
}


def csr_access(op: str, immediate: bool):
    """csrrw / csrrs / csrrc and their immediate forms; an unknown CSR or a write to a read-only one
    is an illegal instruction."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        entry = CSRS.get(a.csr)
        src_is_zero = (a.imm if immediate else a.rs1) == 0
        writes = op == "w" or not src_is_zero
        if entry is None or (writes and entry[1] is None):
            ctx.undefined()
            return
        read, write = entry
        b = ctx.b
        src = Const(I64, a.imm) if immediate else ctx.x(a.rs1)
        old = read(ctx) if (op != "w" or a.rd != 0) else None
        if writes:
            if op == "s":
                new = b.or_(old, src)
            elif op == "c":
                new = b.and_(old, b.not_(src))
            else:
                new = src
            write(ctx, new)
        if old is not None:
            ctx.set_x(a.rd, old)
    return lift


family(f.csr_type, csr_access, {"csrrw": ("w", False), "csrrs": ("s", False), "csrrc": ("c", False),
                                "csrrwi": ("w", True), "csrrsi": ("s", True), "csrrci": ("c", True)})

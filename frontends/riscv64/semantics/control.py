"""Branches and jumps: every one ends the block."""
from __future__ import annotations

from dbt.ir.block import Const
from dbt.ir.types import I64

from .. import fields as f
from ..lifter import Ctx, family, insn


def branch(cond: str):
    """Continue at pc + imm if rs1 <cond> rs2, else at the next instruction."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        c = ctx.b.cmp(cond, ctx.x(a.rs1), ctx.x(a.rs2))
        ctx.b.br(c, ctx.pc + a.imm, ctx.next_pc)
    return lift


family(f.b_type, branch, {"beq": ("eq",), "bne": ("ne",), "blt": ("slt",), "bge": ("sge",),
                          "bltu": ("ult",), "bgeu": ("uge",)})


LINK_REGISTERS = (1, 5)  # ra and t0: a jump that writes them is a call (the psABI's convention)


def _link(ctx: Ctx, rd: int) -> None:
    ctx.set_x(rd, Const(I64, ctx.next_pc))
    if rd in LINK_REGISTERS:
        ctx.b.block.return_to = ctx.next_pc


@insn("jal", fields=f.j_type)
def jal(ctx: Ctx, a: f.Args) -> None:
    _link(ctx, a.rd)
    ctx.b.goto(ctx.pc + a.imm)


@insn("jalr", fields=f.i_type)
def jalr(ctx: Ctx, a: f.Args) -> None:
    b = ctx.b
    target = b.and_(ctx.addr(a.rs1, a.imm), Const(I64, ~1))
    _link(ctx, a.rd)
    b.goto_ind(target)

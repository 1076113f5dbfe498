"""Branches: every one ends the block. BL and BLR mark the block as a call returning to pc + 4."""
from __future__ import annotations

from dbt.ir.block import Const
from dbt.ir.types import I64

from ..lifter import Ctx, encoding, field, sign


def _link(ctx: Ctx) -> None:
    ctx.set_x(30, Const(I64, ctx.next_pc))
    ctx.b.block.return_to = ctx.next_pc


def _target(ctx: Ctx, imm: int, bits: int) -> int:
    return (ctx.pc + (sign(imm, bits) << 2)) & I64.mask


@encoding("x00101 xxxxxxxxxxxxxxxxxxxxxxxxxx")
def branch_imm(ctx: Ctx, w: int) -> None:
    """B and BL."""
    if field(w, 31, 1):
        _link(ctx)
    ctx.b.goto(_target(ctx, field(w, 0, 26), 26))


@encoding("0101010 0 xxxxxxxxxxxxxxxxxxx 0 xxxx")
def branch_cond(ctx: Ctx, w: int) -> None:
    ctx.b.br(ctx.cond(field(w, 0, 4)), _target(ctx, field(w, 5, 19), 19), ctx.next_pc)


@encoding("x 011010 x xxxxxxxxxxxxxxxxxxx xxxxx")
def compare_branch(ctx: Ctx, w: int) -> None:
    """CBZ and CBNZ."""
    sf, nonzero = field(w, 31, 1), field(w, 24, 1)
    v = ctx.x(field(w, 0, 5), sf)
    c = ctx.b.cmp("ne" if nonzero else "eq", v, Const(v.ty, 0))
    ctx.b.br(c, _target(ctx, field(w, 5, 19), 19), ctx.next_pc)


@encoding("x 011011 x xxxxx xxxxxxxxxxxxxx xxxxx")
def test_branch(ctx: Ctx, w: int) -> None:
    """TBZ and TBNZ."""
    b = ctx.b
    bit = field(w, 31, 1) << 5 | field(w, 19, 5)
    v = b.and_(ctx.x(field(w, 0, 5)), Const(I64, 1 << bit))
    c = b.cmp("ne" if field(w, 24, 1) else "eq", v, Const(I64, 0))
    b.br(c, _target(ctx, field(w, 5, 14), 14), ctx.next_pc)


@encoding("1101011 0 0 xx 11111 000000 xxxxx 00000")
def branch_reg(ctx: Ctx, w: int) -> None:
    """BR, BLR and RET."""
    opc = field(w, 21, 2)
    if opc == 3:
        ctx.undefined()
        return
    target = ctx.x(field(w, 5, 5))
    if opc == 1:
        _link(ctx)
    ctx.b.goto_ind(target)

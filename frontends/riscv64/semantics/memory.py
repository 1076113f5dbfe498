"""Loads and stores, integer and floating point (RV64I, F, D)."""
from __future__ import annotations

from dbt.ir.types import F32, F64, I8, I16, I32, I64

from .. import fields as f
from ..lifter import Ctx, family


def load(ty, signed: bool):
    """rd = extend(mem[rs1 + imm])."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        v = b.load(ty, ctx.addr(a.rs1, a.imm))
        ctx.set_x(a.rd, (b.sext if signed else b.zext)(v, I64))
    return lift


def store(ty):
    """mem[rs1 + imm] = rs2 truncated to the access width."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        b.store(ctx.addr(a.rs1, a.imm), b.trunc(ctx.x(a.rs2), ty))
    return lift


def fload(ty):
    """FP load: flw NaN-boxes its 32 bits, fld takes all 64."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        bits = b.load(ty, ctx.addr(a.rs1, a.imm))
        ctx.set_f(a.rd, b.bitcast(bits, F32 if ty is I32 else F64))
    return lift


def fstore(ty):
    """FP store of the low 32 or all 64 bits of an FP register (no NaN-box check, as the spec says)."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        b.store(ctx.addr(a.rs1, a.imm), b.trunc(ctx.fbits(a.rs2), ty))
    return lift


family(f.i_type, load, {"lb": (I8, True), "lh": (I16, True), "lw": (I32, True), "ld": (I64, True),
                        "lbu": (I8, False), "lhu": (I16, False), "lwu": (I32, False)})
family(f.s_type, store, {"sb": (I8,), "sh": (I16,), "sw": (I32,), "sd": (I64,)})
family(f.i_type, fload, {"flw": (I32,), "fld": (I64,)})
family(f.s_type, fstore, {"fsw": (I32,), "fsd": (I64,)})

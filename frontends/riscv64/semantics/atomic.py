"""The A extension for a single hart: LR/SC with a reservation register, and AMOs as load-op-store.

Ordering bits (aq/rl) have no effect with one hart. A failing SC still reads and rewrites the old value
(so it faults like the successful one would); the memory contents do not change.
"""
from __future__ import annotations

from dbt.ir.block import Const
from dbt.ir.types import I32, I64

from .. import fields as f
from ..lifter import Ctx, family
from ..registers import NO_RESERVATION, RESERVATION


def load_reserved(ty):
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        addr = ctx.x(a.rs1)
        v = b.load(ty, addr)
        b.put(RESERVATION, addr)
        ctx.set_x(a.rd, b.sext(v, I64))
    return lift


def store_conditional(ty):
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        addr = ctx.x(a.rs1)
        ok = b.cmp("eq", b.get(RESERVATION), addr)
        old = b.load(ty, addr, for_write=True)
        b.store(addr, b.select(ok, b.trunc(ctx.x(a.rs2), ty), old))
        b.put(RESERVATION, Const(I64, NO_RESERVATION))
        ctx.set_x(a.rd, b.zext(b.select(ok, Const(I64, 0), Const(I64, 1)), I64))
    return lift


def _minmax(cond: str):
    return lambda b, x, y: b.select(b.cmp(cond, x, y), x, y)


_AMO_OPS = {
    "swap": lambda b, x, y: y,
    "add": lambda b, x, y: b.add(x, y),
    "and": lambda b, x, y: b.and_(x, y),
    "or": lambda b, x, y: b.or_(x, y),
    "xor": lambda b, x, y: b.xor(x, y),
    "min": _minmax("slt"),
    "max": _minmax("sgt"),
    "minu": _minmax("ult"),
    "maxu": _minmax("ugt"),
}


def amo(op: str, ty):
    """rd = old mem[rs1]; mem[rs1] = old <op> rs2 (32-bit forms sign-extend the old value)."""
    combine = _AMO_OPS[op]

    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        addr = ctx.x(a.rs1)
        old = b.load(ty, addr, for_write=True)  # an AMO faults as a store
        b.store(addr, combine(b, old, b.trunc(ctx.x(a.rs2), ty)))
        ctx.set_x(a.rd, b.sext(old, I64))
    return lift


family(f.r_type, load_reserved, {"lr_w": (I32,), "lr_d": (I64,)})
family(f.r_type, store_conditional, {"sc_w": (I32,), "sc_d": (I64,)})
family(f.r_type, amo, {f"amo{op}_{s}": (op, ty) for op in _AMO_OPS for s, ty in (("w", I32), ("d", I64))})

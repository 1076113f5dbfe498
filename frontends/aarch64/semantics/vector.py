"""Lanes of the 128-bit V registers: splitting, joining and the partial writes Advanced SIMD needs."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.types import F32, F64, I64, I128, INT_BY_BITS, int_of

from ..lifter import Ctx, encoding, field
from ..registers import VREG

FLOAT_OF = {32: F32, 64: F64}


# -- lanes ----------------------------------------------------------------------------------------------

def lanes(ctx: Ctx, v: Value, esize: int, count: int) -> list[Value]:
    """The first `count` esize-bit lanes of a 128-bit value."""
    b = ctx.b
    ty = INT_BY_BITS[esize]
    return [b.trunc(b.lshr(v, Const(I128, i * esize)), ty) for i in range(count)]


def pack(ctx: Ctx, values: list[Value]) -> Value:
    """Lanes (lowest first) joined into a 128-bit value; bits above them are zero."""
    b = ctx.b
    out = Const(I128, 0)
    esize = values[0].ty.bits
    for i, v in enumerate(values):
        if v.ty.is_float:
            v = b.bitcast(v, int_of(v.ty))
        out = b.or_(out, b.shl(b.zext(v, I128), Const(I128, i * esize)))
    return out


SCALAR = None  # q of the scalar forms: one lane, the rest of the register cleared


def read(ctx: Ctx, reg: int, esize: int, q: int | None) -> list[Value]:
    """The lanes of V[reg] an instruction with this q uses (one lane for the scalar forms)."""
    return lanes(ctx, ctx.vreg(reg), esize, 1 if q is SCALAR else (64 << q) // esize)


def read_float(ctx: Ctx, reg: int, esize: int, q: int) -> list[Value]:
    b = ctx.b
    return [b.bitcast(x, FLOAT_OF[esize]) for x in read(ctx, reg, esize, q)]


def write(ctx: Ctx, reg: int, values: list[Value]) -> None:
    ctx.set_vreg(reg, pack(ctx, values))


def mask_of(ctx: Ctx, c: Value, ty) -> Value:
    """All ones where c holds, else zero (the result of a vector compare)."""
    return ctx.b.select(c, Const(ty, ty.mask), Const(ty, 0))


def pairwise(ctx: Ctx, xs: list[Value], ys: list[Value], fn) -> list[Value]:
    """fn over adjacent pairs of the concatenation xs + ys (the pairwise operations)."""
    both = xs + ys
    return [fn(ctx, both[2 * i], both[2 * i + 1]) for i in range(len(xs))]


def low_half(ctx: Ctx, v: Value, q: int) -> Value:
    """v, or only its low 64 bits when q = 0."""
    return v if q else ctx.b.and_(v, Const(I128, I64.mask))


def narrow(ctx: Ctx, q: int, rd: int, values: list[Value]) -> None:
    """Write narrowed lanes to the low half (q = 0, upper half cleared) or the high half (q = 1)."""
    b = ctx.b
    packed = pack(ctx, values)
    if q:
        low = b.and_(ctx.vreg(rd), Const(I128, I64.mask))
        b.put(VREG[rd], b.or_(low, b.shl(packed, Const(I128, 64))))
    else:
        ctx.set_vreg(rd, packed)


def source_half(ctx: Ctx, rn: int, q: int) -> Value:
    """The low 64 bits of V[rn] (q = 0) or its high 64 bits (the '2' forms), as a 128-bit value."""
    v = ctx.vreg(rn)
    return ctx.b.lshr(v, Const(I128, 64)) if q else v


def insert(ctx: Ctx, rd: int, esize: int, index: int, value: Value) -> None:
    """Replace lane `index` of V[rd], keeping the others."""
    b = ctx.b
    shift = esize * index
    keep = ~(((1 << esize) - 1) << shift) & I128.mask
    old = b.and_(ctx.vreg(rd), Const(I128, keep))
    b.put(VREG[rd], b.or_(old, b.shl(b.zext(value, I128), Const(I128, shift))))



def vector_and_scalar(vector: str, scalar: str):
    """Register fn(ctx, w, q) for a vector encoding (q from bit 30) and for its scalar form (q = SCALAR)."""
    def register(fn):
        encoding(vector)(lambda ctx, w: fn(ctx, w, field(w, 30, 1)))
        encoding(scalar)(lambda ctx, w: fn(ctx, w, SCALAR))
        return fn
    return register

"""Lane functions for the widening, halving, rounding and saturating Advanced SIMD integer operations
(hadd, rhadd, hsub, qadd, qsub, abd, xtn with saturation, rounding and saturating narrowing shifts).
A saturating lane sets FPSR.QC, as A64 does."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.types import I64, INT_BY_BITS

from ..lifter import Ctx
from ..registers import FPSR

QC = 1 << 27


def widen(ctx: Ctx, v: Value, signed: bool, bits: int | None = None) -> Value:
    """v extended to `bits` (default: twice its width)."""
    return (ctx.b.sext if signed else ctx.b.zext)(v, INT_BY_BITS[bits or 2 * v.ty.bits])


def bounds(bits: int, signed: bool) -> tuple[int, int]:
    """The smallest and largest value of a bits-wide integer, as Python ints."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def saturate(ctx: Ctx, wide: Value, bits: int, signed: bool, wide_signed: bool = True) -> Value:
    """A wide value clamped to a bits-wide (signed or unsigned) range and truncated; sets QC if clamped.
    wide_signed says how to read the wide value."""
    b = ctx.b
    wty = wide.ty
    lo, hi = bounds(bits, signed)
    lt, gt = ("slt", "sgt") if wide_signed else ("ult", "ugt")
    below = b.cmp(lt, wide, Const(wty, lo & wty.mask)) if (lo or wide_signed) else None
    above = b.cmp(gt, wide, Const(wty, hi & wty.mask))
    r = wide
    if lo or wide_signed:
        r = b.select(below, Const(wty, lo & wty.mask), r)
        note_saturation(ctx, b.or_(below, above))
    else:
        note_saturation(ctx, above)
    r = b.select(above, Const(wty, hi & wty.mask), r)
    return b.trunc(r, INT_BY_BITS[bits])


def note_saturation(ctx: Ctx, sat: Value) -> None:
    """Set FPSR.QC where sat (an i1) holds."""
    b = ctx.b
    b.put(FPSR, b.or_(b.get(FPSR), b.select(sat, Const(I64, QC), Const(I64, 0))))


def halving(signed: bool, op: str, rounding: bool = False):
    """SHADD/UHADD, SRHADD/URHADD, SHSUB/UHSUB: (x op y [+ 1]) >> 1 computed without overflow."""
    def lift(ctx: Ctx, x: Value, y: Value) -> Value:
        b = ctx.b
        r = b.binop(op, widen(ctx, x, signed), widen(ctx, y, signed))
        if rounding:
            r = b.add(r, Const(r.ty, 1))
        return b.trunc(b.ashr(r, Const(r.ty, 1)), x.ty)
    return lift


def saturating(signed: bool, op: str):
    """SQADD/UQADD, SQSUB/UQSUB."""
    def lift(ctx: Ctx, x: Value, y: Value) -> Value:
        r = ctx.b.binop(op, widen(ctx, x, signed), widen(ctx, y, signed))
        return saturate(ctx, r, x.ty.bits, signed, wide_signed=signed or op == "sub")
    return lift


def absolute_difference(signed: bool):
    """SABD/UABD: |x - y| of the lanes read signed or unsigned."""
    def lift(ctx: Ctx, x: Value, y: Value) -> Value:
        b = ctx.b
        greater = b.cmp("sgt" if signed else "ugt", x, y)
        return b.select(greater, b.sub(x, y), b.sub(y, x))
    return lift


def saturating_narrow(signed_in: bool, signed_out: bool):
    """SQXTN, UQXTN, SQXTUN: a lane narrowed to half its width with saturation."""
    def lift(ctx: Ctx, x: Value) -> Value:
        return saturate(ctx, x, x.ty.bits // 2, signed_out, wide_signed=signed_in)
    return lift


def shift_right_narrow(ctx: Ctx, x: Value, amount: int, signed_in: bool, rounding: bool,
                       saturate_to: bool | None) -> Value:
    """(x [+ round]) >> amount narrowed to half width: truncated (saturate_to None) or saturated to a
    signed (True) or unsigned (False) range: RSHRN, [SU]Q[R]SHRN, SQ[R]SHRUN."""
    b = ctx.b
    wide = widen(ctx, x, signed_in)
    if rounding:
        wide = b.add(wide, Const(wide.ty, 1 << (amount - 1)))
    r = (b.ashr if signed_in else b.lshr)(wide, Const(wide.ty, amount))
    half = x.ty.bits // 2
    if saturate_to is None:
        return b.trunc(r, INT_BY_BITS[half])
    return saturate(ctx, r, half, saturate_to, wide_signed=signed_in)


def rounding_shift_right(ctx: Ctx, x: Value, amount: int, signed: bool) -> Value:
    """SRSHR/URSHR: (x + 2**(amount-1)) >> amount without overflow."""
    b = ctx.b
    wide = widen(ctx, x, signed)
    wide = b.add(wide, Const(wide.ty, 1 << (amount - 1)))
    return b.trunc((b.ashr if signed else b.lshr)(wide, Const(wide.ty, amount)), x.ty)

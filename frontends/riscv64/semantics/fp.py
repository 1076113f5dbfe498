"""The F and D extensions: IEEE arithmetic, sign injection, min/max, compares, classification,
conversions and moves. Single-precision values are NaN-boxed in the 64-bit FP registers."""
from __future__ import annotations

from dbt.exits import ExitKind
from dbt.ir.block import Const
from dbt.ir.ops import DYN
from dbt.ir.types import F32, F64, I32, I64

from .. import fields as f
from ..lifter import Ctx, capstone_gap, family

_SIGN = {F32: 1 << 31, F64: 1 << 63}
_INT = {F32: I32, F64: I64}
_FMT = {"s": F32, "d": F64}


def _rm(ctx: Ctx, a: f.Args) -> int | None:
    """The instruction's rounding mode for the IR, or None (after ending the block) if it is reserved.
    A dynamic rounding mode is illegal while frm holds a reserved value (5, 6 or 7)."""
    if a.rm == 7:
        b = ctx.b
        b.trap_if(b.cmp("ugt", b.getround(), Const(I32, 4)), ExitKind.UNDEF)
        return DYN
    if a.rm > 4:
        ctx.undefined()
        return None
    return a.rm


def _negate(ctx: Ctx, v):
    b = ctx.b
    bits = b.bitcast(v, _INT[v.ty])
    return b.bitcast(b.xor(bits, Const(bits.ty, _SIGN[v.ty])), v.ty)


def arith(opcode: str, ty):
    def lift(ctx: Ctx, a: f.Args) -> None:
        rm = _rm(ctx, a)
        if rm is not None:
            ctx.set_f(a.rd, ctx.b.fbinop(opcode, ctx.f(a.rs1, ty), ctx.f(a.rs2, ty), rm))
    return lift


def sqrt(ty):
    def lift(ctx: Ctx, a: f.Args) -> None:
        rm = _rm(ctx, a)
        if rm is not None:
            ctx.set_f(a.rd, ctx.b.fsqrt(ctx.f(a.rs1, ty), rm))
    return lift


def fused(ty, negate_product: bool, negate_addend: bool):
    """fmadd (a*b+c), fmsub (a*b-c), fnmsub (-a*b+c), fnmadd (-a*b-c), rounded once."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        rm = _rm(ctx, a)
        if rm is None:
            return
        x, y, z = ctx.f(a.rs1, ty), ctx.f(a.rs2, ty), ctx.f(a.rs3, ty)
        if negate_product:
            x = _negate(ctx, x)
        if negate_addend:
            z = _negate(ctx, z)
        ctx.set_f(a.rd, ctx.b.fma(x, y, z, rm))
    return lift


def sign_inject(ty, mode: str):
    """fsgnj / fsgnjn / fsgnjx: rs1's magnitude with rs2's sign, its negation, or the xor of signs."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        it, sign = _INT[ty], _SIGN[ty]
        x = b.bitcast(ctx.f(a.rs1, ty), it)
        y = b.bitcast(ctx.f(a.rs2, ty), it)
        if mode == "j":
            s = b.and_(y, Const(it, sign))
        elif mode == "n":
            s = b.and_(b.not_(y), Const(it, sign))
        else:
            s = b.and_(b.xor(x, y), Const(it, sign))
        mag = b.and_(x, Const(it, sign - 1))
        ctx.set_f(a.rd, b.bitcast(b.or_(mag, s), ty))
    return lift


def minmax(opcode: str, ty):
    def lift(ctx: Ctx, a: f.Args) -> None:
        ctx.set_f(a.rd, ctx.b.fminmax(opcode, ctx.f(a.rs1, ty), ctx.f(a.rs2, ty)))
    return lift


def compare(cond: str, signaling: bool, ty):
    """feq (quiet), flt and fle (signaling): rd = 1 or 0."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        ctx.set_x(a.rd, b.zext(b.fcmp(cond, ctx.f(a.rs1, ty), ctx.f(a.rs2, ty), signaling), I64))
    return lift


def classify(ty):
    """fclass: a one-hot mask of the operand's class (RISC-V order: -inf ... +inf, sNaN, qNaN)."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        it = _INT[ty]
        frac_bits = 23 if ty is F32 else 52
        exp_max = (1 << (ty.bits - 1 - frac_bits)) - 1
        v = b.bitcast(ctx.f(a.rs1, ty), it)
        neg = b.cmp("uge", v, Const(it, _SIGN[ty]))
        exp = b.and_(b.lshr(v, Const(it, frac_bits)), Const(it, exp_max))
        frac = b.and_(v, Const(it, (1 << frac_bits) - 1))
        frac_zero = b.cmp("eq", frac, Const(it, 0))
        exp_zero = b.cmp("eq", exp, Const(it, 0))
        exp_ones = b.cmp("eq", exp, Const(it, exp_max))
        quiet = b.cmp("ne", b.and_(v, Const(it, 1 << (frac_bits - 1))), Const(it, 0))

        def by_sign(neg_bit: int, pos_bit: int):
            return b.select(neg, Const(I64, neg_bit), Const(I64, pos_bit))

        index = b.select(exp_zero, b.select(frac_zero, by_sign(3, 4), by_sign(2, 5)), by_sign(1, 6))
        special = b.select(frac_zero, by_sign(0, 7), b.select(quiet, Const(I64, 9), Const(I64, 8)))
        index = b.select(exp_ones, special, index)
        ctx.set_x(a.rd, b.shl(Const(I64, 1), index))
    return lift


def to_int(ty, width, signed: bool):
    """fcvt.{w,wu,l,lu}.{s,d}: saturating; NaN gives the largest value; 32-bit results sign-extend."""
    nan_result = ((1 << (width.bits - 1)) - 1) if signed else width.mask

    def lift(ctx: Ctx, a: f.Args) -> None:
        rm = _rm(ctx, a)
        if rm is None:
            return
        b = ctx.b
        x = ctx.f(a.rs1, ty)
        r = b.f2i(x, width, signed, rm)
        r = b.select(b.fcmp("un", x, x, False), Const(width, nan_result), r)
        ctx.set_x(a.rd, b.sext(r, I64))
    return lift


def from_int(ty, width, signed: bool):
    """fcvt.{s,d}.{w,wu,l,lu}."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        rm = _rm(ctx, a)
        if rm is not None:
            ctx.set_f(a.rd, ctx.b.i2f(ctx.b.trunc(ctx.x(a.rs1), width), ty, signed, rm))
    return lift


def convert(src, dst):
    """fcvt.s.d / fcvt.d.s."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        rm = _rm(ctx, a)
        if rm is not None:
            ctx.set_f(a.rd, ctx.b.fcvt(ctx.f(a.rs1, src), dst, rm))
    return lift


def move_to_int(ty):
    """fmv.x.w (sign-extends the low 32 bits, boxed or not) / fmv.x.d."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        raw = ctx.fbits(a.rs1)
        ctx.set_x(a.rd, b.sext(b.trunc(raw, I32), I64) if ty is F32 else raw)
    return lift


def move_from_int(ty):
    """fmv.w.x (NaN-boxes the low 32 bits) / fmv.d.x."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        x = ctx.x(a.rs1)
        ctx.set_f(a.rd, b.bitcast(b.trunc(x, I32), F32) if ty is F32 else b.bitcast(x, F64))
    return lift


for _s, _ty in _FMT.items():
    family(f.r_type, arith, {f"f{op}_{_s}": (f"f{op}", _ty) for op in ("add", "sub", "mul", "div")})
    family(f.r_type, sqrt, {f"fsqrt_{_s}": (_ty,)})
    family(f.r4_type, fused, {f"fmadd_{_s}": (_ty, False, False), f"fmsub_{_s}": (_ty, False, True),
                              f"fnmsub_{_s}": (_ty, True, False), f"fnmadd_{_s}": (_ty, True, True)})
    family(f.r_type, sign_inject, {f"fsgnj_{_s}": (_ty, "j"), f"fsgnjn_{_s}": (_ty, "n"),
                                   f"fsgnjx_{_s}": (_ty, "x")})
    family(f.r_type, minmax, {f"fmin_{_s}": ("fmin", _ty), f"fmax_{_s}": ("fmax", _ty)})
    family(f.r_type, compare, {f"feq_{_s}": ("eq", False, _ty), f"flt_{_s}": ("lt", True, _ty),
                               f"fle_{_s}": ("le", True, _ty)})
    family(f.r_type, classify, {f"fclass_{_s}": (_ty,)})
    family(f.r_type, to_int, {f"fcvt_w_{_s}": (_ty, I32, True), f"fcvt_wu_{_s}": (_ty, I32, False),
                              f"fcvt_l_{_s}": (_ty, I64, True), f"fcvt_lu_{_s}": (_ty, I64, False)})
    family(f.r_type, from_int, {f"fcvt_{_s}_w": (_ty, I32, True), f"fcvt_{_s}_wu": (_ty, I32, False),
                                f"fcvt_{_s}_l": (_ty, I64, True), f"fcvt_{_s}_lu": (_ty, I64, False)})
family(f.r_type, convert, {"fcvt_s_d": (F64, F32), "fcvt_d_s": (F32, F64)})
family(f.r_type, move_to_int, {"fmv_x_w": (F32,), "fmv_x_d": (F64,)})
family(f.r_type, move_from_int, {"fmv_w_x": (F32,), "fmv_d_x": (F64,)})

# Capstone decodes these exact conversions only with rm = 000, but every rm value is defined.
capstone_gap(0xFFF0007F, 0xD2000053, "fcvt_d_w")
capstone_gap(0xFFF0007F, 0xD2100053, "fcvt_d_wu")
capstone_gap(0xFFF0007F, 0x42000053, "fcvt_d_s")

"""Advanced SIMD arithmetic, lane by lane: three-same integer and FP operations (vector and scalar),
two-register misc (cnt, not, rbit, compares with zero, abs, neg, xtn, shll, pairwise widening adds,
reversals, FP rounding and conversions, fcvtl/fcvtn), across-lane reductions, shifts by immediate
(incl. widening, narrowing, insert and fixed-point conversions), the long and wide three-different
family, by-element multiplies and scalar pairwise operations."""
from __future__ import annotations

from typing import Callable

from dbt.ir.block import Const, Value
from dbt.ir.ops import DYN, RDN, RMM, RNE, RTZ, RUP
from dbt.ir.types import F32, F64, I8, I64, INT_BY_BITS, int_of

from ..lifter import Ctx, encoding, field
from . import nan
from .fp import fabs, fmax_min, fneg, round_integral
from .saturating import (absolute_difference, halving, rounding_shift_right, saturate, saturating,
                         saturating_narrow, shift_right_narrow, widen)
from .vector import (FLOAT_OF, SCALAR, lanes, low_half, mask_of, narrow, pairwise, read, read_float,
                     source_half, vector_and_scalar, write)


def _cmp(cond: str):
    return lambda ctx, x, y: mask_of(ctx, ctx.b.cmp(cond, x, y), x.ty)


def _minmax(cond: str):
    return lambda ctx, x, y: ctx.b.select(ctx.b.cmp(cond, x, y), x, y)


def _shl_by_register(signed: bool):
    """SSHL/USHL: shift by the signed low byte of the other lane (negative: right), out-of-range aware."""
    def lift(ctx: Ctx, x: Value, y: Value) -> Value:
        b = ctx.b
        ty = x.ty
        s = b.sext(b.trunc(y, I8), I64) if ty.bits > 8 else b.trunc(y, I8)
        s = s if s.ty is ty else (b.trunc(s, ty) if s.ty.bits > ty.bits else b.sext(s, ty))
        neg = b.cmp("slt", s, Const(ty, 0))
        amount = b.select(neg, b.neg(s), s)
        big = b.cmp("uge", amount, Const(ty, ty.bits))
        left = b.select(big, Const(ty, 0), b.shl(x, amount))
        if signed:
            right = b.ashr(x, b.select(big, Const(ty, ty.bits - 1), amount))
        else:
            right = b.select(big, Const(ty, 0), b.lshr(x, amount))
        return b.select(neg, right, left)
    return lift


# (U, opcode) -> lane function of the integer three-same group
INT_THREE_SAME: dict[tuple[int, int], Callable] = {
    (0, 0b10000): lambda ctx, x, y: ctx.b.add(x, y),
    (1, 0b10000): lambda ctx, x, y: ctx.b.sub(x, y),
    (0, 0b10011): lambda ctx, x, y: ctx.b.mul(x, y),
    (0, 0b00110): _cmp("sgt"), (1, 0b00110): _cmp("ugt"),
    (0, 0b00111): _cmp("sge"), (1, 0b00111): _cmp("uge"),
    (1, 0b10001): _cmp("eq"),
    (0, 0b10001): lambda ctx, x, y: mask_of(ctx, ctx.b.cmp("ne", ctx.b.and_(x, y), Const(x.ty, 0)), x.ty),
    (0, 0b01100): _minmax("sgt"), (1, 0b01100): _minmax("ugt"),
    (0, 0b01101): _minmax("slt"), (1, 0b01101): _minmax("ult"),
    (0, 0b01000): _shl_by_register(True), (1, 0b01000): _shl_by_register(False),
    (0, 0b10111): "pairwise-add",
    (0, 0b10100): ("pairwise", _minmax("sgt")), (1, 0b10100): ("pairwise", _minmax("ugt")),
    (0, 0b10101): ("pairwise", _minmax("slt")), (1, 0b10101): ("pairwise", _minmax("ult")),
    (0, 0b10010): ("acc", lambda ctx, x, y: ctx.b.mul(x, y), "add"),
    (1, 0b10010): ("acc", lambda ctx, x, y: ctx.b.mul(x, y), "sub"),
    **{(u, op): fn for u in (0, 1) for op, fn in (
        (0b00000, halving(u == 0, "add")), (0b00010, halving(u == 0, "add", rounding=True)),
        (0b00100, halving(u == 0, "sub")), (0b00001, saturating(u == 0, "add")),
        (0b00101, saturating(u == 0, "sub")), (0b01110, absolute_difference(u == 0)),
        (0b01111, ("acc", absolute_difference(u == 0), "add")))},
}
# Saturating operations also have scalar forms of every element size.
SCALAR_ANY_SIZE = {(u, op) for u in (0, 1) for op in (0b00001, 0b00101)}


def _bitwise(ctx: Ctx, u: int, size: int, n: Value, m: Value, d: Value) -> Value:
    """AND, BIC, ORR, ORN (U = 0) and EOR, BSL, BIT, BIF (U = 1) on whole registers."""
    b = ctx.b
    if not u:
        return [b.and_, lambda x, y: b.and_(x, b.not_(y)), b.or_, lambda x, y: b.or_(x, b.not_(y))][size](n, m)
    if size == 0:
        return b.xor(n, m)
    select, on_true, on_false = {1: (d, n, m), 2: (m, n, d), 3: (m, d, n)}[size]
    return b.or_(b.and_(select, on_true), b.and_(b.not_(select), on_false))


# Integer three-same operations with a scalar (64-bit) form.
SCALAR_THREE_SAME = {(0, 0b10000), (1, 0b10000), (0, 0b00110), (1, 0b00110), (0, 0b00111), (1, 0b00111),
                     (0, 0b10001), (1, 0b10001), (0, 0b01000), (1, 0b01000)}


@vector_and_scalar("0 x x 01110 xx 1 xxxxx xxxxx 1 xxxxx xxxxx", "01 x 11110 xx 1 xxxxx xxxxx 1 xxxxx xxxxx")
def three_same(ctx: Ctx, w: int, q: int | None) -> None:
    u, size, opcode = field(w, 29, 1), field(w, 22, 2), field(w, 11, 5)
    rd, rn, rm = field(w, 0, 5), field(w, 5, 5), field(w, 16, 5)
    if opcode == 0b00011 and q is not SCALAR:
        r = _bitwise(ctx, u, size, ctx.vreg(rn), ctx.vreg(rm), ctx.vreg(rd))
        ctx.set_vreg(rd, low_half(ctx, r, q))
        return
    if opcode >= 0b11000:
        _fp_three_same(ctx, w, q)
        return
    fn = INT_THREE_SAME.get((u, opcode))
    esize = 8 << size
    bad_scalar = q is SCALAR and (u, opcode) not in SCALAR_ANY_SIZE and (
        size != 3 or (u, opcode) not in SCALAR_THREE_SAME)
    if fn is None or (esize == 64 and q == 0) or bad_scalar:
        ctx.undefined()
        return
    xs, ys = read(ctx, rn, esize, q), read(ctx, rm, esize, q)
    if fn == "pairwise-add":
        out = pairwise(ctx, xs, ys, lambda ctx, x, y: ctx.b.add(x, y))
    elif isinstance(fn, tuple) and fn[0] == "acc":  # mla, mls, saba, uaba
        out = [ctx.b.binop(fn[2], d, fn[1](ctx, x, y)) for x, y, d in zip(xs, ys, read(ctx, rd, esize, q))]
    elif isinstance(fn, tuple):
        out = pairwise(ctx, xs, ys, fn[1])
    else:
        out = [fn(ctx, x, y) for x, y in zip(xs, ys)]
    write(ctx, rd, out)


def _fcmp_mask(cond: str, swap: bool = False, absolute: bool = False):
    def lift(ctx: Ctx, x: Value, y: Value) -> Value:
        if absolute:
            x, y = fabs(ctx, x), fabs(ctx, y)
        if swap:
            x, y = y, x
        return ctx.b.bitcast(mask_of(ctx, ctx.b.fcmp(cond, x, y, cond != "eq"), int_of(x.ty)), x.ty)
    return lift


# (U, bit 23, opcode) -> lane function (or ("pairwise", fn)) of the FP three-same group
FP_THREE_SAME: dict[tuple[int, int, int], object] = {
    (0, 0, 0b11010): lambda ctx, x, y: nan.arith(ctx, "fadd", x, y),
    (0, 1, 0b11010): lambda ctx, x, y: nan.arith(ctx, "fsub", x, y),
    (1, 0, 0b11011): lambda ctx, x, y: nan.arith(ctx, "fmul", x, y),
    (1, 0, 0b11111): lambda ctx, x, y: nan.arith(ctx, "fdiv", x, y),
    (0, 0, 0b11110): lambda ctx, x, y: fmax_min(ctx, "fmax", x, y),
    (0, 1, 0b11110): lambda ctx, x, y: fmax_min(ctx, "fmin", x, y),
    (0, 0, 0b11000): lambda ctx, x, y: nan.min_max_number(ctx, "fmax", x, y),
    (0, 1, 0b11000): lambda ctx, x, y: nan.min_max_number(ctx, "fmin", x, y),
    (1, 1, 0b11010): lambda ctx, x, y: fabs(ctx, nan.arith(ctx, "fsub", x, y)),
    (0, 0, 0b11100): _fcmp_mask("eq"),
    (1, 0, 0b11100): _fcmp_mask("le", swap=True),
    (1, 1, 0b11100): _fcmp_mask("lt", swap=True),
    (1, 0, 0b11101): _fcmp_mask("le", swap=True, absolute=True),
    (1, 1, 0b11101): _fcmp_mask("lt", swap=True, absolute=True),
    (1, 0, 0b11010): ("pairwise", lambda ctx, x, y: nan.arith(ctx, "fadd", x, y)),
    (1, 0, 0b11110): ("pairwise", lambda ctx, x, y: fmax_min(ctx, "fmax", x, y)),
    (1, 1, 0b11110): ("pairwise", lambda ctx, x, y: fmax_min(ctx, "fmin", x, y)),
    (1, 0, 0b11000): ("pairwise", lambda ctx, x, y: nan.min_max_number(ctx, "fmax", x, y)),
    (1, 1, 0b11000): ("pairwise", lambda ctx, x, y: nan.min_max_number(ctx, "fmin", x, y)),
    (0, 0, 0b11001): "fmla",
    (0, 1, 0b11001): "fmls",
}


def _fp_three_same(ctx: Ctx, w: int, q: int | None) -> None:
    u, a, sz, opcode = field(w, 29, 1), field(w, 23, 1), field(w, 22, 1), field(w, 11, 5)
    rd, rn, rm = field(w, 0, 5), field(w, 5, 5), field(w, 16, 5)
    fn = FP_THREE_SAME.get((u, a, opcode))
    esize = 32 << sz
    if fn is None or (sz and q == 0) or (q is SCALAR and (isinstance(fn, (tuple, str)))):
        ctx.undefined()
        return
    xs, ys = read_float(ctx, rn, esize, q), read_float(ctx, rm, esize, q)
    if fn in ("fmla", "fmls"):
        acc = read_float(ctx, rd, esize, q)
        out = [nan.fused(ctx, fneg(ctx, x) if fn == "fmls" else x, y, d) for x, y, d in zip(xs, ys, acc)]
    elif isinstance(fn, tuple):
        out = pairwise(ctx, xs, ys, fn[1])
    else:
        out = [fn(ctx, x, y) for x, y in zip(xs, ys)]
    write(ctx, rd, out)


# -- two-register miscellaneous ---------------------------------------------------------------------------

def _cmp_zero(cond: str):
    return lambda ctx, x: mask_of(ctx, ctx.b.cmp(cond, x, Const(x.ty, 0)), x.ty)


# (U, opcode) -> lane function of the integer two-register misc group
INT_TWO_MISC = {
    (0, 0b01001): _cmp_zero("eq"), (1, 0b01001): _cmp_zero("sle"),
    (0, 0b01000): _cmp_zero("sgt"), (1, 0b01000): _cmp_zero("sge"),
    (0, 0b01010): _cmp_zero("slt"),
    (0, 0b01011): lambda ctx, x: ctx.b.select(ctx.b.cmp("slt", x, Const(x.ty, 0)), ctx.b.neg(x), x),
    (1, 0b01011): lambda ctx, x: ctx.b.neg(x),
    (0, 0b00111): lambda ctx, x: saturate(ctx, _abs(ctx, widen(ctx, x, True)), x.ty.bits, True),
    (1, 0b00111): lambda ctx, x: saturate(ctx, ctx.b.neg(widen(ctx, x, True)), x.ty.bits, True),
}
# (U, opcode) -> (signed input, signed output) of SQXTN, UQXTN, SQXTUN
SATURATING_NARROW = {(0, 0b10100): (True, True), (1, 0b10100): (False, False), (1, 0b10010): (True, False)}


def _abs(ctx: Ctx, x: Value) -> Value:
    return ctx.b.select(ctx.b.cmp("slt", x, Const(x.ty, 0)), ctx.b.neg(x), x)


def _fcmp_zero(cond: str, swap: bool = False):
    def lift(ctx: Ctx, v: Value) -> Value:
        zero = ctx.b.bitcast(Const(int_of(v.ty), 0), v.ty)
        x, y = (zero, v) if swap else (v, zero)
        return ctx.b.bitcast(mask_of(ctx, ctx.b.fcmp(cond, x, y, cond != "eq"), int_of(v.ty)), v.ty)
    return lift


def _to_int(rm: int, signed: bool):
    return lambda ctx, v: ctx.b.f2i(v, int_of(v.ty), signed, rm)


def _round(rm: int, exact: bool = False):
    return lambda ctx, v: round_integral(ctx, v, rm, exact)


# (U, size<1>, opcode) -> lane function on floats of the FP two-register misc rows
FLOAT_TWO_MISC = {
    (0, 1, 0b01111): fabs, (1, 1, 0b01111): fneg, (1, 1, 0b11111): lambda ctx, v: nan.unary(ctx, ctx.b.fsqrt(v, DYN), v),
    (0, 0, 0b11000): _round(RNE), (0, 0, 0b11001): _round(RDN), (0, 1, 0b11000): _round(RUP),
    (0, 1, 0b11001): _round(RTZ), (1, 0, 0b11000): _round(RMM), (1, 0, 0b11001): _round(DYN, True),
    (1, 1, 0b11001): _round(DYN),
    **{(u, hi, op): _to_int(rm, u == 0) for u in (0, 1)
       for hi, op, rm in ((0, 0b11010, RNE), (0, 0b11011, RDN), (1, 0b11010, RUP), (1, 0b11011, RTZ),
                          (0, 0b11100, RMM))},
    (0, 1, 0b01100): _fcmp_zero("lt", swap=True), (1, 1, 0b01100): _fcmp_zero("le", swap=True),
    (0, 1, 0b01101): _fcmp_zero("eq"), (1, 1, 0b01101): _fcmp_zero("le"), (0, 1, 0b01110): _fcmp_zero("lt"),
}


def _float_misc(ctx: Ctx, u: int, size: int, opcode: int, xs: list[Value], esize: int):
    """The FP rows of the two-register misc group (size<1> selects the opcode set); None if undefined."""
    b = ctx.b
    ft = FLOAT_OF[esize]
    key = (u, size >> 1, opcode)
    if key in ((0, 0, 0b11101), (1, 0, 0b11101)):
        return [b.i2f(x, ft, u == 0, DYN) for x in xs]
    fn = FLOAT_TWO_MISC.get(key)
    return None if fn is None else [fn(ctx, b.bitcast(x, ft)) for x in xs]


@encoding("01 x 11110 xx 10000 xxxxx 10 xxxxx xxxxx")
def scalar_two_misc(ctx: Ctx, w: int) -> None:
    """The scalar forms: compares with zero, abs, neg (64-bit), int <-> float conversions, ..."""
    u, size, opcode = field(w, 29, 1), field(w, 22, 2), field(w, 12, 5)
    rd, rn = field(w, 0, 5), field(w, 5, 5)
    if (u, opcode) in INT_TWO_MISC:
        if size != 3:
            ctx.undefined()
            return
        write(ctx, rd, [INT_TWO_MISC[(u, opcode)](ctx, x) for x in read(ctx, rn, 64, SCALAR)])
        return
    esize = 32 << (size & 1)
    out = _float_misc(ctx, u, size, opcode, read(ctx, rn, esize, SCALAR), esize)
    if out is None:
        ctx.undefined()
        return
    write(ctx, rd, out)


@encoding("0 x x 01110 xx 10000 xxxxx 10 xxxxx xxxxx")
def two_misc(ctx: Ctx, w: int) -> None:
    b = ctx.b
    q, u, size, opcode = field(w, 30, 1), field(w, 29, 1), field(w, 22, 2), field(w, 12, 5)
    rd, rn = field(w, 0, 5), field(w, 5, 5)
    esize = 8 << size
    if opcode in (0b10110, 0b10111) and not u and size == 1:  # fcvtn(2) f64 -> f32, fcvtl(2) f32 -> f64
        if opcode == 0b10110:
            narrow(ctx, q, rd, [nan.convert(ctx, x, F32) for x in read_float(ctx, rn, 64, 1)])
        else:
            xs = lanes(ctx, source_half(ctx, rn, q), 32, 2)
            write(ctx, rd, [nan.convert(ctx, b.bitcast(x, F32), F64) for x in xs])
        return
    if opcode == 0b00101:  # cnt, not, rbit
        xs = read(ctx, rn, 8, q)
        fn = {(0, 0): lambda x: b.unop("popcnt", x), (1, 0): b.not_, (1, 1): lambda x: b.unop("bitrev", x)}
        op = fn.get((u, size))
        if op is None:
            ctx.undefined()
            return
        write(ctx, rd, [op(x) for x in xs])
    elif opcode == 0b10010 and not u:  # xtn, xtn2
        narrow(ctx, q, rd, [b.trunc(x, INT_BY_BITS[esize]) for x in read(ctx, rn, 2 * esize, 1)])
    elif (u, opcode) in SATURATING_NARROW and size < 3:  # sqxtn, uqxtn, sqxtun (and the '2' forms)
        fn = saturating_narrow(*SATURATING_NARROW[(u, opcode)])
        narrow(ctx, q, rd, [fn(ctx, x) for x in read(ctx, rn, 2 * esize, 1)])
    elif opcode == 0b10011 and u:  # shll, shll2
        wide = INT_BY_BITS[2 * esize]
        xs = lanes(ctx, source_half(ctx, rn, q), esize, 64 // esize)
        write(ctx, rd, [b.shl(b.zext(x, wide), Const(wide, esize)) for x in xs])
    elif opcode in (0b00010, 0b00110) and size < 3:  # [su]addlp, [su]adalp
        wide = INT_BY_BITS[2 * esize]
        ext = b.zext if u else b.sext
        xs = [ext(x, wide) for x in read(ctx, rn, esize, q)]
        out = [b.add(xs[2 * i], xs[2 * i + 1]) for i in range(len(xs) // 2)]
        if opcode == 0b00110:
            out = [b.add(o, d) for o, d in zip(out, read(ctx, rd, 2 * esize, q))]
        write(ctx, rd, out)
    elif opcode in (0, 1) and size + opcode < (3 - u):  # rev64, rev32, rev16
        container = {(0, 0): 64, (1, 0): 32, (0, 1): 16}[(u, opcode)]
        xs = read(ctx, rn, esize, q)
        per = container // esize
        write(ctx, rd, [xs[i - i % per + per - 1 - i % per] for i in range(len(xs))])
    elif (u, opcode) in INT_TWO_MISC and (q or size < 3):
        fn = INT_TWO_MISC[(u, opcode)]
        write(ctx, rd, [fn(ctx, x) for x in read(ctx, rn, esize, q)])
    else:
        fesize = 32 << (size & 1)
        out = None if (fesize == 64 and not q) else _float_misc(ctx, u, size, opcode, read(ctx, rn, fesize, q), fesize)
        if out is None:
            ctx.undefined()
            return
        write(ctx, rd, out)


# -- across lanes -----------------------------------------------------------------------------------------

ACROSS = {
    (0, 0b11011): lambda ctx, x, y: ctx.b.add(x, y),
    (0, 0b01010): _minmax("sgt"), (1, 0b01010): _minmax("ugt"),
    (0, 0b11010): _minmax("slt"), (1, 0b11010): _minmax("ult"),
}


@encoding("0 x x 01110 xx 11000 xxxxx 10 xxxxx xxxxx")
def across_lanes(ctx: Ctx, w: int) -> None:
    b = ctx.b
    q, u, size, opcode = field(w, 30, 1), field(w, 29, 1), field(w, 22, 2), field(w, 12, 5)
    esize = 8 << size
    xs = read(ctx, field(w, 5, 5), esize, q) if size < 3 else []
    if opcode == 0b00011 and size < 3 and len(xs) > 2:  # [su]addlv
        wide = INT_BY_BITS[2 * esize]
        acc = Const(wide, 0)
        for x in xs:
            acc = b.add(acc, (b.zext if u else b.sext)(x, wide))
        ctx.set_vreg(field(w, 0, 5), acc)
        return
    fn = ACROSS.get((u, opcode))
    if fn is None or len(xs) <= 2:
        ctx.undefined()
        return
    acc = xs[0]
    for x in xs[1:]:
        acc = fn(ctx, acc, x)
    ctx.set_vreg(field(w, 0, 5), acc)


# -- shifts by immediate ------------------------------------------------------------------------------------

@vector_and_scalar("0 x x 011110 xxxx xxx xxxxx 1 xxxxx xxxxx", "01 x 111110 xxxx xxx xxxxx 1 xxxxx xxxxx")
def shift_imm(ctx: Ctx, w: int, q: int | None) -> None:
    """SSHR, USHR, SSRA, USRA, SHL, SLI, SRI, SHRN, [SU]SHLL (uxtl, sxtl), and the fixed-point
    conversions SCVTF, UCVTF, FCVTZS, FCVTZU (vector and scalar)."""
    b = ctx.b
    u, immh, opcode = field(w, 29, 1), field(w, 19, 4), field(w, 11, 5)
    if immh == 0:  # the modified immediates (simd_move) match these words first
        ctx.undefined()
        return
    esize = 8 << (immh.bit_length() - 1)
    immhb = field(w, 16, 7)
    rd, rn = field(w, 0, 5), field(w, 5, 5)
    right, left = 2 * esize - immhb, immhb - esize
    ty = INT_BY_BITS[esize]
    scalar = q is SCALAR
    if opcode in (0b11100, 0b11111) and esize >= 32 and not (esize == 64 and q == 0):
        _fixed_convert(ctx, q, rd, rn, esize, right, to_float=opcode == 0b11100, signed=not u)
        return
    if opcode == 0b10100 and esize < 64 and not scalar:  # sshll, ushll
        wide = INT_BY_BITS[2 * esize]
        xs = lanes(ctx, source_half(ctx, rn, q), esize, 64 // esize)
        write(ctx, rd, [b.shl((b.zext if u else b.sext)(x, wide), Const(wide, left)) for x in xs])
        return
    if opcode in NARROWING_SHIFTS and esize < 64 and not scalar:  # shrn, rshrn, sq[r]shr[u]n, uq[r]shrn
        signed_in, rounding, saturate_to = NARROWING_SHIFTS[opcode][u]
        xs = read(ctx, rn, 2 * esize, 1)
        narrow(ctx, q, rd, [shift_right_narrow(ctx, x, right, signed_in, rounding, saturate_to) for x in xs])
        return
    if (esize == 64 and q == 0) or (scalar and esize != 64):
        ctx.undefined()
        return
    xs = read(ctx, rn, esize, q)

    def shr(x):
        if right >= esize:
            return b.ashr(x, Const(ty, esize - 1)) if not u else Const(ty, 0)
        return (b.lshr if u else b.ashr)(x, Const(ty, right))

    def rshr(x):
        return rounding_shift_right(ctx, x, right, not u)

    if opcode == 0b00000:
        out = [shr(x) for x in xs]
    elif opcode == 0b00010:
        out = [b.add(d, shr(x)) for x, d in zip(xs, read(ctx, rd, esize, q))]
    elif opcode == 0b00100:
        out = [rshr(x) for x in xs]
    elif opcode == 0b00110:
        out = [b.add(d, rshr(x)) for x, d in zip(xs, read(ctx, rd, esize, q))]
    elif opcode == 0b01010 and not u:
        out = [b.shl(x, Const(ty, left)) for x in xs]
    elif opcode == 0b01010:  # sli
        keep = Const(ty, ((1 << left) - 1))
        out = [b.or_(b.and_(d, keep), b.shl(x, Const(ty, left))) for x, d in zip(xs, read(ctx, rd, esize, q))]
    elif opcode == 0b01000 and u:  # sri
        keep = Const(ty, ~(ty.mask >> right) & ty.mask if right < esize else ty.mask)
        out = [b.or_(b.and_(d, keep), shr(x)) for x, d in zip(xs, read(ctx, rd, esize, q))]
    else:
        ctx.undefined()
        return
    write(ctx, rd, out)


# opcode -> per U: (signed input, rounding, saturate to signed / unsigned / None = truncate)
NARROWING_SHIFTS = {
    0b10000: ((False, False, None), (True, False, False)),    # shrn, sqshrun
    0b10001: ((False, True, None), (True, True, False)),      # rshrn, sqrshrun
    0b10010: ((True, False, True), (False, False, False)),    # sqshrn, uqshrn
    0b10011: ((True, True, True), (False, True, False)),      # sqrshrn, uqrshrn
}


def _fixed_convert(ctx: Ctx, q: int | None, rd: int, rn: int, esize: int, fbits: int, to_float: bool,
                   signed: bool) -> None:
    """[SU]CVTF and FCVTZ[SU] with fbits fraction bits, lane by lane."""
    from .fp import scaled_f2i, scaled_i2f
    ft = FLOAT_OF[esize]
    if to_float:
        out = [scaled_i2f(ctx, x, ft, signed, fbits) for x in read(ctx, rn, esize, q)]
    else:
        out = [scaled_f2i(ctx, x, INT_BY_BITS[esize], signed, fbits) for x in read_float(ctx, rn, esize, q)]
    write(ctx, rd, out)


# -- three different (long, wide) ------------------------------------------------------------------------

def _absdiff(ctx: Ctx, x: Value, y: Value) -> Value:
    b = ctx.b
    return b.select(b.cmp("sgt", x, y), b.sub(x, y), b.sub(y, x))


# opcode -> (first operand is wide, combine(ctx, acc or None, x, y) on widened lanes, accumulates)
THREE_DIFFERENT = {
    0b0000: (False, lambda ctx, x, y: ctx.b.add(x, y), None),
    0b0001: (True, lambda ctx, x, y: ctx.b.add(x, y), None),
    0b0010: (False, lambda ctx, x, y: ctx.b.sub(x, y), None),
    0b0011: (True, lambda ctx, x, y: ctx.b.sub(x, y), None),
    0b0111: (False, _absdiff, None),
    0b0101: (False, _absdiff, "add"),
    0b1100: (False, lambda ctx, x, y: ctx.b.mul(x, y), None),
    0b1000: (False, lambda ctx, x, y: ctx.b.mul(x, y), "add"),
    0b1010: (False, lambda ctx, x, y: ctx.b.mul(x, y), "sub"),
}


@encoding("0 x x 01110 xx 1 xxxxx xxxx 00 xxxxx xxxxx")
def three_different(ctx: Ctx, w: int) -> None:
    """[SU]ADDL, [SU]ADDW, [SU]SUBL, [SU]SUBW, [SU]ABDL, [SU]ABAL, [SU]MULL, [SU]MLAL, [SU]MLSL (and the
    '2' forms on the upper halves)."""
    b = ctx.b
    q, u, size, opcode = field(w, 30, 1), field(w, 29, 1), field(w, 22, 2), field(w, 12, 4)
    rd, rn, rm = field(w, 0, 5), field(w, 5, 5), field(w, 16, 5)
    entry = THREE_DIFFERENT.get(opcode)
    if entry is None or size == 3:
        ctx.undefined()
        return
    wide_first, combine, accumulate = entry
    esize = 8 << size
    wide = INT_BY_BITS[2 * esize]
    count = 64 // esize
    ext = b.zext if u else b.sext

    def narrow(reg: int) -> list[Value]:
        return [ext(x, wide) for x in lanes(ctx, source_half(ctx, reg, q), esize, count)]

    xs = read(ctx, rn, 2 * esize, 1) if wide_first else narrow(rn)
    out = [combine(ctx, x, y) for x, y in zip(xs, narrow(rm))]
    if accumulate:
        out = [b.binop(accumulate, d, r) for d, r in zip(read(ctx, rd, 2 * esize, 1), out)]
    write(ctx, rd, out)


# -- by element and scalar pairwise ----------------------------------------------------------------------------

@vector_and_scalar("0 x x 01111 xx x x xxxx xxxx x 0 xxxxx xxxxx", "01 x 11111 xx x x xxxx xxxx x 0 xxxxx xxxxx")
def by_element(ctx: Ctx, w: int, q: int | None) -> None:
    """FMUL, FMLA, FMLS (by element, vector and scalar) and MUL, MLA, MLS (by element, vector)."""
    b = ctx.b
    u, size, opcode = field(w, 29, 1), field(w, 22, 2), field(w, 12, 4)
    h, l_, m = field(w, 11, 1), field(w, 21, 1), field(w, 20, 1)
    rd, rn, rm = field(w, 0, 5), field(w, 5, 5), field(w, 16, 4)
    if opcode in (0b1001, 0b0001, 0b0101) and not u and size >= 2:
        esize = 32 << (size & 1)
        if esize == 64 and (l_ or q == 0):
            ctx.undefined()
            return
        index = (h << 1 | l_) if esize == 32 else h
        rm |= m << 4
        y = read_float(ctx, rm, esize, 1)[index]
        xs = read_float(ctx, rn, esize, q)
        if opcode == 0b1001:
            out = [nan.arith(ctx, "fmul", x, y) for x in xs]
        else:
            acc = read_float(ctx, rd, esize, q)
            out = [nan.fused(ctx, fneg(ctx, x) if opcode == 0b0101 else x, y, d) for x, d in zip(xs, acc)]
        write(ctx, rd, out)
    elif opcode in (0b1000, 0b0000, 0b0100) and size in (1, 2) and (opcode == 0b1000) != bool(u) and q is not SCALAR:
        esize = 8 << size
        index = (h << 2 | l_ << 1 | m) if esize == 16 else (h << 1 | l_)
        if esize == 32:
            rm |= m << 4
        y = read(ctx, rm, esize, 1)[index]
        xs = read(ctx, rn, esize, q)
        prods = [b.mul(x, y) for x in xs]
        if opcode == 0b1000:
            out = prods
        else:
            acc = read(ctx, rd, esize, q)
            out = [(b.sub if opcode == 0b0100 else b.add)(d, p) for d, p in zip(acc, prods)]
        write(ctx, rd, out)
    else:
        ctx.undefined()


@encoding("01 x 11110 xx 11000 xxxxx 10 xxxxx xxxxx")
def scalarpairwise(ctx: Ctx, w: int) -> None:
    """ADDP (scalar) and FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP (scalar)."""
    b = ctx.b
    u, size, opcode = field(w, 29, 1), field(w, 22, 2), field(w, 12, 5)
    rd, rn = field(w, 0, 5), field(w, 5, 5)
    if not u and size == 3 and opcode == 0b11011:
        x, y = read(ctx, rn, 64, 1)
        ctx.set_vreg(rd, b.add(x, y))
        return
    esize = 32 << (size & 1)
    ops = {(0, 0b01101): lambda x, y: nan.arith(ctx, "fadd", x, y),
           (0, 0b01111): lambda x, y: fmax_min(ctx, "fmax", x, y),
           (1, 0b01111): lambda x, y: fmax_min(ctx, "fmin", x, y),
           (0, 0b01100): lambda x, y: nan.min_max_number(ctx, "fmax", x, y),
           (1, 0b01100): lambda x, y: nan.min_max_number(ctx, "fmin", x, y)}
    fn = ops.get((size >> 1, opcode)) if u else None
    if fn is None:
        ctx.undefined()
        return
    x, y = read_float(ctx, rn, esize, 1)[:2]
    ctx.set_vreg(rd, fn(x, y))



"""Scalar floating point: arithmetic, fused multiply-add, min/max, square root, rounding to integral,
conversions between precisions and to and from integers (every rounding mode, fixed point too), fcmp and
fccmp, fcsel, fmov. FPCR's rounding mode and FPSR's cumulative flags are the IR's FP environment."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.ops import DYN, RDN, RMM, RNE, RTZ, RUP
from dbt.ir.types import F32, F64, I32, I64, I128, int_of

from ..lifter import Ctx, encoding, field, int_ty
from . import nan
from ..registers import FPCR, FPSR, VREG

FTYPES = {0: F32, 1: F64}
SIGN = {F32: 1 << 31, F64: 1 << 63}
# FPCR.RMode (RN, RP, RM, RZ) -> IR rounding mode, packed 4 bits per entry
_RMODE_TABLE = RNE | RUP << 4 | RDN << 8 | RTZ << 12
FPCR_RMODE_SHIFT = 22
FPSR_KEPT = 0xF8000080  # N, Z, C, V, QC and IDC: stored as written (nothing here sets them)


# -- FP environment -------------------------------------------------------------------------------------

def write_fpcr(ctx: Ctx, v: Value) -> None:
    """msr fpcr: keep the value and switch the IR's rounding mode to FPCR.RMode."""
    b = ctx.b
    b.put(FPCR, v)
    rmode = b.and_(b.trunc(b.lshr(v, Const(I64, FPCR_RMODE_SHIFT)), I32), Const(I32, 3))
    shift = b.shl(rmode, Const(I32, 2))
    b.setround(b.and_(b.lshr(Const(I32, _RMODE_TABLE), shift), Const(I32, 15)))


def read_fpsr(ctx: Ctx) -> Value:
    """FPSR's IOC, DZC, OFC, UFC, IXC (bits 0-4) are the IR flags NV, DZ, OF, UF, NX in reverse order."""
    b = ctx.b
    return b.or_(b.get(FPSR), b.zext(b.lshr(b.unop("bitrev", b.getflags()), Const(I32, 27)), I64))


def write_fpsr(ctx: Ctx, v: Value) -> None:
    b = ctx.b
    b.put(FPSR, b.and_(v, Const(I64, FPSR_KEPT)))
    low = b.and_(b.trunc(v, I32), Const(I32, 31))
    b.setflags(b.lshr(b.unop("bitrev", low), Const(I32, 27)))


# -- helpers ---------------------------------------------------------------------------------------------

def fneg(ctx: Ctx, v: Value) -> Value:
    """v with its sign flipped (no exception, NaNs included)."""
    return nan.bits_op(ctx, "xor", v, SIGN[v.ty])


def fabs(ctx: Ctx, v: Value) -> Value:
    """v with its sign cleared."""
    return nan.bits_op(ctx, "and", v, SIGN[v.ty] - 1)


def fmax_min(ctx: Ctx, opcode: str, x: Value, y: Value) -> Value:
    """FMAX/FMIN: a NaN operand gives the propagated NaN (the IR's min/max return the other operand);
    the IR operation still raises Invalid Operation for a signaling NaN."""
    return nan.propagate(ctx, ctx.b.fminmax(opcode, x, y), x, y)


def ftype(ctx: Ctx, w: int):
    """The scalar type of bits 23:22, or None (after ending the block) for half precision."""
    ty = FTYPES.get(field(w, 22, 2))
    if ty is None:
        ctx.undefined()
    return ty


def set_compare_flags(ctx: Ctx, x: Value, y: Value, signaling: bool) -> None:
    """NZCV of a floating-point comparison: less 1000, equal 0110, greater 0010, unordered 0011."""
    b = ctx.b
    un = b.fcmp("un", x, y, signaling)
    lt = b.fcmp("lt", x, y, False)
    eq = b.fcmp("eq", x, y, False)
    ctx.set_nzcv(lt, eq, b.not_(lt), un)


# -- data processing --------------------------------------------------------------------------------------

def round_integral(ctx: Ctx, v: Value, rm: int, exact: bool = False) -> Value:
    """FRINT*: v rounded to an integral value (a NaN is propagated)."""
    return nan.unary(ctx, ctx.b.fround(v, rm, exact), v)


ONE_SOURCE = {
    0: lambda ctx, v: v,
    1: fabs,
    2: fneg,
    3: lambda ctx, v: nan.unary(ctx, ctx.b.fsqrt(v, DYN), v),
    8: lambda ctx, v: round_integral(ctx, v, RNE),
    9: lambda ctx, v: round_integral(ctx, v, RUP),
    10: lambda ctx, v: round_integral(ctx, v, RDN),
    11: lambda ctx, v: round_integral(ctx, v, RTZ),
    12: lambda ctx, v: round_integral(ctx, v, RMM),
    14: lambda ctx, v: round_integral(ctx, v, DYN, True),
    15: lambda ctx, v: round_integral(ctx, v, DYN),
}


@encoding("000 11110 xx 1 xxxxxx 10000 xxxxx xxxxx")
def one_source(ctx: Ctx, w: int) -> None:
    ty = ftype(ctx, w)
    if ty is None:
        return
    opcode = field(w, 15, 6)
    x = ctx.vlow(field(w, 5, 5), ty)
    if opcode in (4, 5):  # fcvt to single / double
        to = FTYPES[opcode - 4]
        if to is ty:
            ctx.undefined()
            return
        ctx.set_vreg(field(w, 0, 5), nan.convert(ctx, x, to))
        return
    fn = ONE_SOURCE.get(opcode)
    if fn is None:
        ctx.undefined()
        return
    ctx.set_vreg(field(w, 0, 5), fn(ctx, x))


TWO_SOURCE = {
    0: lambda ctx, x, y: nan.arith(ctx, "fmul", x, y),
    1: lambda ctx, x, y: nan.arith(ctx, "fdiv", x, y),
    2: lambda ctx, x, y: nan.arith(ctx, "fadd", x, y),
    3: lambda ctx, x, y: nan.arith(ctx, "fsub", x, y),
    4: lambda ctx, x, y: fmax_min(ctx, "fmax", x, y),
    5: lambda ctx, x, y: fmax_min(ctx, "fmin", x, y),
    6: lambda ctx, x, y: nan.min_max_number(ctx, "fmax", x, y),
    7: lambda ctx, x, y: nan.min_max_number(ctx, "fmin", x, y),
    8: lambda ctx, x, y: fneg(ctx, nan.arith(ctx, "fmul", x, y)),
}


@encoding("000 11110 xx 1 xxxxx xxxx 10 xxxxx xxxxx")
def two_source(ctx: Ctx, w: int) -> None:
    ty = ftype(ctx, w)
    fn = TWO_SOURCE.get(field(w, 12, 4))
    if ty is None:
        return
    if fn is None:
        ctx.undefined()
        return
    ctx.set_vreg(field(w, 0, 5), fn(ctx, ctx.vlow(field(w, 5, 5), ty), ctx.vlow(field(w, 16, 5), ty)))


@encoding("000 11111 xx x xxxxx x xxxxx xxxxx xxxxx")
def three_source(ctx: Ctx, w: int) -> None:
    """fmadd (a + n*m), fmsub (a - n*m), fnmadd (-a - n*m), fnmsub (-a + n*m), rounded once."""
    ty = ftype(ctx, w)
    if ty is None:
        return
    n, m, a = (ctx.vlow(field(w, s, 5), ty) for s in (5, 16, 10))
    if field(w, 15, 1) ^ field(w, 21, 1):
        n = fneg(ctx, n)
    if field(w, 21, 1):
        a = fneg(ctx, a)
    ctx.set_vreg(field(w, 0, 5), nan.fused(ctx, n, m, a))


@encoding("000 11110 xx 1 xxxxx 00 1000 xxxxx xx 000")
def compare(ctx: Ctx, w: int) -> None:
    ty = ftype(ctx, w)
    if ty is None:
        return
    x = ctx.vlow(field(w, 5, 5), ty)
    y = ctx.b.bitcast(Const(int_of(ty), 0), ty) if field(w, 3, 1) else ctx.vlow(field(w, 16, 5), ty)
    set_compare_flags(ctx, x, y, bool(field(w, 4, 1)))


@encoding("000 11110 xx 1 xxxxx xxxx 01 xxxxx x xxxx")
def cond_compare(ctx: Ctx, w: int) -> None:
    ty = ftype(ctx, w)
    if ty is None:
        return
    b = ctx.b
    c = ctx.cond(field(w, 12, 4))
    before = b.getflags()  # a comparison that does not happen raises nothing
    set_compare_flags(ctx, ctx.vlow(field(w, 5, 5), ty), ctx.vlow(field(w, 16, 5), ty), bool(field(w, 4, 1)))
    b.setflags(b.select(c, b.getflags(), before))
    ctx.keep_flags_if(c, field(w, 0, 4))


@encoding("000 11110 xx 1 xxxxx xxxx 11 xxxxx xxxxx")
def fcsel(ctx: Ctx, w: int) -> None:
    ty = ftype(ctx, w)
    if ty is None:
        return
    it = int_of(ty)
    x, y = ctx.vlow(field(w, 5, 5), it), ctx.vlow(field(w, 16, 5), it)
    ctx.set_vreg(field(w, 0, 5), ctx.b.select(ctx.cond(field(w, 12, 4)), x, y))


def expand_fp_imm(imm8: int, ty) -> int:
    """VFPExpandImm: the bit pattern of an 8-bit floating-point immediate."""
    e = 8 if ty is F32 else 11
    f = ty.bits - e - 1
    s, b6, rest_e, frac = imm8 >> 7, (imm8 >> 6) & 1, (imm8 >> 4) & 3, imm8 & 15
    exp = ((b6 ^ 1) << (e - 1)) | ((((1 << (e - 3)) - 1) if b6 else 0) << 2) | rest_e
    return (s << (ty.bits - 1)) | (exp << f) | (frac << (f - 4))


@encoding("000 11110 xx 1 xxxxxxxx 100 00000 xxxxx")
def fmov_imm(ctx: Ctx, w: int) -> None:
    ty = ftype(ctx, w)
    if ty is not None:
        ctx.set_vreg(field(w, 0, 5), Const(int_of(ty), expand_fp_imm(field(w, 13, 8), ty)))


# -- conversions to and from integers ---------------------------------------------------------------------

F2I_ROUNDING = {0: RNE, 1: RUP, 2: RDN, 3: RTZ}


def scaled_f2i(ctx: Ctx, x: Value, ity, signed: bool, fbits: int, rm: int = RTZ) -> Value:
    """x * 2**fbits converted to an integer (fixed-point conversions; fbits = 0: plain)."""
    if fbits:
        x = ctx.b.fbinop("fmul", x, ctx.b.bitcast(Const(int_of(x.ty), _pow2(fbits, x.ty)), x.ty), DYN)
    return ctx.b.f2i(x, ity, signed, rm)


def scaled_i2f(ctx: Ctx, v: Value, ty, signed: bool, fbits: int) -> Value:
    """An integer converted to ty and divided by 2**fbits."""
    r = ctx.b.i2f(v, ty, signed, DYN)
    if fbits:
        r = ctx.b.fbinop("fmul", r, ctx.b.bitcast(Const(int_of(ty), _pow2(-fbits, ty)), ty), DYN)
    return r


def _f2i(ctx: Ctx, w: int, ty, rm: int, signed: bool, scale: int = 0) -> None:
    x = ctx.vlow(field(w, 5, 5), ty)
    ctx.set_x(field(w, 0, 5), scaled_f2i(ctx, x, int_ty(field(w, 31, 1)), signed, scale, rm))


def _i2f(ctx: Ctx, w: int, ty, signed: bool, scale: int = 0) -> None:
    ctx.set_vreg(field(w, 0, 5), scaled_i2f(ctx, ctx.x(field(w, 5, 5), field(w, 31, 1)), ty, signed, scale))


def _pow2(n: int, ty) -> int:
    """The bit pattern of 2**n (a normal number) in ty."""
    bias, f = (127, 23) if ty is F32 else (1023, 52)
    return (n + bias) << f


def _fmov_general(ctx: Ctx, w: int, ty, to_fp: bool, upper: bool) -> None:
    b = ctx.b
    sf = field(w, 31, 1)
    if ty.bits != (64 if sf else 32):
        ctx.undefined()
        return
    rd, rn = field(w, 0, 5), field(w, 5, 5)
    if not to_fp:
        v = ctx.vreg(rn)
        ctx.set_x(rd, b.trunc(b.lshr(v, Const(I128, 64)) if upper else v, int_of(ty)))
    elif upper:
        low = b.and_(ctx.vreg(rd), Const(I128, I64.mask))
        b.put(VREG[rd], b.or_(low, b.shl(b.zext(ctx.x(rn), I128), Const(I128, 64))))
    else:
        ctx.set_vreg(rd, ctx.x(rn, sf))


@encoding("x 0 0 11110 xx 1 xx xxx 000000 xxxxx xxxxx")
def int_convert(ctx: Ctx, w: int) -> None:
    rmode, opcode, ft = field(w, 19, 2), field(w, 16, 3), field(w, 22, 2)
    if opcode in (6, 7) and (rmode == 1 and ft == 2):
        _fmov_general(ctx, w, F64, opcode == 7, True)
        return
    ty = ftype(ctx, w)
    if ty is None:
        return
    if opcode < 2:
        _f2i(ctx, w, ty, F2I_ROUNDING[rmode], opcode == 0)
    elif rmode:
        ctx.undefined()
    elif opcode < 4:
        _i2f(ctx, w, ty, opcode == 2)
    elif opcode < 6:
        _f2i(ctx, w, ty, RMM, opcode == 4)
    else:
        _fmov_general(ctx, w, ty, opcode == 7, False)


@encoding("x 0 0 11110 xx 0 xx xxx xxxxxx xxxxx xxxxx")
def fixed_convert(ctx: Ctx, w: int) -> None:
    """scvtf/ucvtf and fcvtzs/fcvtzu with a binary fixed-point scale."""
    ty = ftype(ctx, w)
    if ty is None:
        return
    rmode, opcode, scale = field(w, 19, 2), field(w, 16, 3), 64 - field(w, 10, 6)
    if not field(w, 31, 1) and scale > 32:
        ctx.undefined()
    elif rmode == 3 and opcode < 2:
        _f2i(ctx, w, ty, RTZ, opcode == 0, scale)
    elif rmode == 0 and opcode in (2, 3):
        _i2f(ctx, w, ty, opcode == 2, scale)
    else:
        ctx.undefined()

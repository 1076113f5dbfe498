"""A64 NaN propagation on top of the IR's FP operations, which return the default NaN: with FPCR.DN = 0
an operation with a NaN operand returns that NaN, quieted: the first signaling NaN among the operands,
else the first quiet one (FPProcessNaNs). Conversions between precisions keep the payload's top bits.

Deviation, for speed: two-operand operations return the first NaN operand, so a quiet NaN first and a
signaling NaN second give the quiet one where A64 gives the signaling one, quieted (exact priority costs
about 50% more time in FP-heavy code; signaling NaNs hardly occur outside tests). Three-operand fused
multiply-adds follow FPProcessNaNs3 exactly."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.ops import DYN
from dbt.ir.types import F32, F64, int_of

from ..lifter import Ctx

QUIET = {F32: 1 << 22, F64: 1 << 51}
DEFAULT_NAN = {F32: 0x7FC00000, F64: 0x7FF8000000000000}


def is_nan(ctx: Ctx, v: Value) -> Value:
    """Whether v is a NaN, tested on its bits (an FP comparison would touch the FP environment)."""
    b = ctx.b
    it = int_of(v.ty)
    magnitude = b.and_(b.bitcast(v, it), Const(it, it.mask >> 1))
    return b.cmp("ugt", magnitude, Const(it, DEFAULT_NAN[v.ty] & ~QUIET[v.ty]))


def is_snan(ctx: Ctx, v: Value) -> Value:
    return ctx.b.and_(is_nan(ctx, v), _quiet_clear(ctx, v))


def bits_op(ctx: Ctx, opcode: str, v: Value, mask: int) -> Value:
    """A float with `opcode` (and, or, xor) applied to its bit pattern and a constant."""
    b = ctx.b
    it = int_of(v.ty)
    return b.bitcast(b.binop(opcode, b.bitcast(v, it), Const(it, mask)), v.ty)


def quieted(ctx: Ctx, v: Value) -> Value:
    """v with its quiet bit set."""
    return bits_op(ctx, "or", v, QUIET[v.ty])


def _quiet_clear(ctx: Ctx, v: Value) -> Value:
    b = ctx.b
    it = int_of(v.ty)
    return b.cmp("eq", b.and_(b.bitcast(v, it), Const(it, QUIET[v.ty])), Const(it, 0))


def process_nans(ctx: Ctx, *ops: Value) -> tuple[Value, Value]:
    """(whether any operand is a NaN, the NaN A64 returns then: the first sNaN, else the first qNaN)."""
    b = ctx.b
    if len(ops) == 1:
        return is_nan(ctx, ops[0]), quieted(ctx, ops[0])
    if len(ops) == 2:  # the hot case (every fadd, fmul, ...): the first NaN operand, in 8 operations;
        x, y = ops    # see the module docstring for the one case where A64 picks the other
        nx, ny = is_nan(ctx, x), is_nan(ctx, y)
        return b.or_(nx, ny), quieted(ctx, b.select(nx, x, y))
    nans = [is_nan(ctx, o) for o in ops]
    pick = ops[-1]
    for o, n in zip(reversed(ops[:-1]), reversed(nans[:-1])):
        pick = b.select(n, o, pick)
    for o in reversed(ops):
        pick = b.select(is_snan(ctx, o), o, pick)
    any_nan = nans[0]
    for n in nans[1:]:
        any_nan = b.or_(any_nan, n)
    return any_nan, quieted(ctx, pick)


def propagate(ctx: Ctx, result: Value, *ops: Value) -> Value:
    """result, or the propagated NaN when an operand is a NaN."""
    any_nan, nan = process_nans(ctx, *ops)
    return ctx.b.select(any_nan, nan, result)


def arith(ctx: Ctx, opcode: str, x: Value, y: Value) -> Value:
    """fadd, fsub, fmul, fdiv with A64 NaN propagation."""
    return propagate(ctx, ctx.b.fbinop(opcode, x, y, DYN), x, y)


def unary(ctx: Ctx, result: Value, x: Value) -> Value:
    """The result of a one-operand operation (fsqrt, frint*) with x propagated when it is a NaN."""
    return propagate(ctx, result, x)


def fused(ctx: Ctx, n: Value, m: Value, a: Value) -> Value:
    """a + n*m rounded once (FPMulAdd): NaNs in the order a, n, m, except that inf*0 with a quiet NaN
    addend gives the default NaN."""
    b = ctx.b
    r = b.fma(n, m, a, DYN)
    any_nan, nan = process_nans(ctx, a, n, m)
    it = int_of(n.ty)

    def abs_bits(v: Value) -> Value:
        return b.and_(b.bitcast(v, it), Const(it, it.mask >> 1))

    inf = Const(it, DEFAULT_NAN[n.ty] & ~QUIET[n.ty])
    zero = Const(it, 0)
    inf_zero = b.or_(b.and_(b.cmp("eq", abs_bits(n), inf), b.cmp("eq", abs_bits(m), zero)),
                     b.and_(b.cmp("eq", abs_bits(n), zero), b.cmp("eq", abs_bits(m), inf)))
    default = b.and_(inf_zero, b.and_(is_nan(ctx, a), b.not_(is_snan(ctx, a))))
    nan = b.select(default, b.bitcast(Const(it, DEFAULT_NAN[n.ty]), n.ty), nan)
    return b.select(any_nan, nan, r)


def min_max_number(ctx: Ctx, opcode: str, x: Value, y: Value) -> Value:
    """FMAXNM/FMINNM: one quiet NaN yields the number (the IR's rule); a signaling NaN or two NaNs
    are processed as for arithmetic."""
    b = ctx.b
    r = b.fminmax(opcode, x, y)
    any_snan = b.or_(is_snan(ctx, x), is_snan(ctx, y))
    both = b.and_(is_nan(ctx, x), is_nan(ctx, y))
    _, nan = process_nans(ctx, x, y)
    return b.select(b.or_(any_snan, both), nan, r)


def convert(ctx: Ctx, x: Value, to) -> Value:
    """fcvt between single and double precision; a NaN keeps its sign and the top of its payload."""
    b = ctx.b
    r = b.fcvt(x, to, DYN)
    src, dst = int_of(x.ty), int_of(to)
    bits = b.bitcast(x, src)
    sign = b.lshr(bits, Const(src, src.bits - 1))
    if to is F32:  # the fraction's top 22 bits below the quiet bit
        payload = b.trunc(b.and_(b.lshr(bits, Const(src, 29)), Const(src, (1 << 22) - 1)), dst)
        sign = b.trunc(sign, dst)
    else:
        payload = b.shl(b.zext(b.and_(bits, Const(src, (1 << 22) - 1)), dst), Const(dst, 29))
        sign = b.zext(sign, dst)
    nan = b.or_(b.or_(b.shl(sign, Const(dst, dst.bits - 1)), Const(dst, DEFAULT_NAN[to])), payload)
    return b.select(is_nan(ctx, x), b.bitcast(nan, to), r)


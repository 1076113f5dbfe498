"""Advanced SIMD moves: dup, ins, umov, smov (and the scalar dup), ext, the permutes uzp, zip and trn,
modified immediates (movi, mvni, orr, bic, fmov) and the table lookups tbl and tbx."""
from __future__ import annotations

from dbt.ir.block import Const
from dbt.ir.types import F32, F64, I8, I64, I128, INT_BY_BITS

from ..lifter import Ctx, encoding, field
from .fp import expand_fp_imm
from .vector import insert, lanes, low_half, read, write


# -- copies ---------------------------------------------------------------------------------------------------

def _element(imm5: int) -> tuple[int, int] | None:
    """(esize, index) from imm5's lowest set bit."""
    if imm5 & 15 == 0:
        return None
    low = (imm5 & -imm5).bit_length() - 1
    return 8 << low, imm5 >> (low + 1)


@encoding("0 x x 01110000 xxxxx 0 xxxx 1 xxxxx xxxxx")
def copy(ctx: Ctx, w: int) -> None:
    """DUP (element, general), INS (element, general), SMOV, UMOV."""
    b = ctx.b
    q, op, imm4 = field(w, 30, 1), field(w, 29, 1), field(w, 11, 4)
    rd, rn = field(w, 0, 5), field(w, 5, 5)
    el = _element(field(w, 16, 5))
    if el is None:
        ctx.undefined()
        return
    esize, index = el
    ty = INT_BY_BITS[esize]
    count = (64 << q) // esize
    if op:  # ins (element): imm4 holds the source index
        src = lanes(ctx, ctx.vreg(rn), esize, 16)[imm4 >> (esize.bit_length() - 4)]
        insert(ctx, rd, esize, index, src)
    elif imm4 == 0:  # dup (element)
        src = lanes(ctx, ctx.vreg(rn), esize, 128 // esize)[index]
        write(ctx, rd, [src] * count)
    elif imm4 == 1:  # dup (general)
        x = ctx.x(rn)
        write(ctx, rd, [x if ty is I64 else b.trunc(x, ty)] * count)
    elif imm4 == 3:  # ins (general)
        x = ctx.x(rn)
        insert(ctx, rd, esize, index, x if ty is I64 else b.trunc(x, ty))
    elif imm4 in (5, 7):  # smov, umov
        src = lanes(ctx, ctx.vreg(rn), esize, 128 // esize)[index]
        out = INT_BY_BITS[32 << q]
        if src.ty is not out:
            src = (b.sext if imm4 == 5 else b.zext)(src, out)
        ctx.set_x(rd, src)
    else:
        ctx.undefined()


@encoding("01 0 11110000 xxxxx 0 0000 1 xxxxx xxxxx")
def scalar_dup(ctx: Ctx, w: int) -> None:
    """DUP (scalar, element), alias mov: one lane to the low bits of Vd."""
    el = _element(field(w, 16, 5))
    if el is None:
        ctx.undefined()
        return
    esize, index = el
    ctx.set_vreg(field(w, 0, 5), lanes(ctx, ctx.vreg(field(w, 5, 5)), esize, 128 // esize)[index])


@encoding("0 x 101110 000 xxxxx 0 xxxx 0 xxxxx xxxxx")
def ext(ctx: Ctx, w: int) -> None:
    b = ctx.b
    q, imm4 = field(w, 30, 1), field(w, 11, 4)
    if not q and imm4 > 7:
        ctx.undefined()
        return
    nbytes = 8 << q
    lo, hi = ctx.vreg(field(w, 5, 5)), ctx.vreg(field(w, 16, 5))
    if not q:
        lo, hi = b.and_(lo, Const(I128, I64.mask)), b.and_(hi, Const(I128, I64.mask))
    both = b.or_(b.lshr(lo, Const(I128, 8 * imm4)), b.shl(hi, Const(I128, 8 * (nbytes - imm4))))
    ctx.set_vreg(field(w, 0, 5), low_half(ctx, both, q))


@encoding("0 x 001110 xx 0 xxxxx 0 xxx 10 xxxxx xxxxx")
def permute(ctx: Ctx, w: int) -> None:
    """UZP1/2, TRN1/2, ZIP1/2."""
    q, size, opcode = field(w, 30, 1), field(w, 22, 2), field(w, 12, 3)
    esize = 8 << size
    if opcode in (0, 4) or (esize == 64 and not q):
        ctx.undefined()
        return
    xs, ys = read(ctx, field(w, 5, 5), esize, q), read(ctx, field(w, 16, 5), esize, q)
    n, part = len(xs), opcode >> 2
    kind = opcode & 3
    if kind == 1:  # uzp
        both = xs + ys
        out = [both[2 * i + part] for i in range(n)]
    elif kind == 2:  # trn
        out = [(xs if i % 2 == 0 else ys)[i - i % 2 + part] for i in range(n)]
    else:  # zip
        base = part * n // 2
        out = [(xs if i % 2 == 0 else ys)[base + i // 2] for i in range(n)]
    write(ctx, field(w, 0, 5), out)


# -- modified immediates ----------------------------------------------------------------------------------

def expand_imm(op: int, cmode: int, imm8: int) -> int:
    """AdvSIMDExpandImm: the 64-bit pattern (repeated to 128 bits by the caller)."""
    kind = cmode >> 1
    if kind < 4:
        return _rep(imm8 << (8 * kind), 32)
    if kind < 6:
        return _rep(imm8 << (8 * (kind & 1)), 16)
    if kind == 6:
        ones = 8 * (1 + (cmode & 1))
        return _rep((imm8 << ones) | ((1 << ones) - 1), 32)
    if cmode == 14:
        return sum(0xFF << (8 * i) for i in range(8) if imm8 >> i & 1) if op else _rep(imm8, 8)
    return expand_fp_imm(imm8, F64) if op else _rep(expand_fp_imm(imm8, F32), 32)


def _rep(v: int, bits: int) -> int:
    return sum(v << i for i in range(0, 64, bits))


@encoding("0 x x 0111100000 xxx xxxx x 1 xxxxx xxxxx")
def modified_imm(ctx: Ctx, w: int) -> None:
    """MOVI, MVNI, ORR, BIC (vector, immediate) and FMOV (vector, immediate)."""
    b = ctx.b
    q, op, cmode, o2 = field(w, 30, 1), field(w, 29, 1), field(w, 12, 4), field(w, 11, 1)
    imm8 = field(w, 16, 3) << 5 | field(w, 5, 5)
    rd = field(w, 0, 5)
    if o2 or (cmode == 15 and op and not q):
        ctx.undefined()
        return
    imm64 = expand_imm(op, cmode, imm8)
    imm = Const(I128, imm64 | (imm64 << 64 if q else 0))
    if cmode < 12 and cmode & 1:  # orr / bic
        r = b.or_(ctx.vreg(rd), imm) if not op else b.and_(ctx.vreg(rd), b.xor(imm, Const(I128, I128.mask)))
        ctx.set_vreg(rd, low_half(ctx, r, q))
    elif op and cmode < 14:  # mvni
        ctx.set_vreg(rd, low_half(ctx, b.xor(imm, Const(I128, I128.mask)), q))
    else:
        ctx.set_vreg(rd, imm)


@encoding("0 x 001110 000 xxxxx 0 xx x 00 xxxxx xxxxx")
def table_lookup(ctx: Ctx, w: int) -> None:
    """TBL (out-of-range indices give 0) and TBX (they leave the destination byte) over 1-4 registers."""
    b = ctx.b
    q, length, tbx = field(w, 30, 1), field(w, 13, 2) + 1, field(w, 12, 1)
    rd, rn, rm = field(w, 0, 5), field(w, 5, 5), field(w, 16, 5)
    tables = [ctx.vreg((rn + i) % 32) for i in range(length)]
    old = read(ctx, rd, 8, q)
    out = []
    for i, idx in enumerate(read(ctx, rm, 8, q)):
        wide = b.zext(idx, I128)
        lane = old[i] if tbx else Const(I8, 0)
        for t, table in enumerate(tables):
            hit = b.cmp("eq", b.lshr(idx, Const(I8, 4)), Const(I8, t))
            byte = b.trunc(b.lshr(table, b.shl(b.and_(wide, Const(I128, 15)), Const(I128, 3))), I8)
            lane = b.select(hit, byte, lane)
        out.append(lane)
    write(ctx, rd, out)



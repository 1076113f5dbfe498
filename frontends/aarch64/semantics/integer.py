"""Integer data processing: add/sub (immediate, shifted and extended register, with carry), logical
(immediate and shifted register), move wide, PC-relative addresses, bitfield moves, extract, conditional
select and compare, multiply and divide, and the one- and two-source operations."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.types import I64, I128, INT_BY_BITS

from ..lifter import Ctx, encoding, field, int_ty, sign
from ..registers import C


# -- operand helpers ------------------------------------------------------------------------------------

def ror(ctx: Ctx, v: Value, amount: Value | int) -> Value:
    """Rotate right by a constant or a value (taken modulo the width)."""
    b = ctx.b
    bits = v.ty.bits
    if isinstance(amount, int):
        amount %= bits
        if amount == 0:
            return v
        return b.or_(b.lshr(v, Const(v.ty, amount)), b.shl(v, Const(v.ty, bits - amount)))
    n = b.and_(amount, Const(v.ty, bits - 1))
    return b.or_(b.lshr(v, n), b.shl(v, b.sub(Const(v.ty, bits), n)))


SHIFTS = {0: lambda ctx, v, n: ctx.b.shl(v, Const(v.ty, n)),
          1: lambda ctx, v, n: ctx.b.lshr(v, Const(v.ty, n)),
          2: lambda ctx, v, n: ctx.b.ashr(v, Const(v.ty, n)),
          3: ror}


def shifted_rm(ctx: Ctx, w: int, sf: int) -> Value:
    """Rm shifted by the constant amount in imm6 (LSL, LSR, ASR, ROR)."""
    return SHIFTS[field(w, 22, 2)](ctx, ctx.x(field(w, 16, 5), sf), field(w, 10, 6))


def extend(ctx: Ctx, v: Value, option: int, shift: int, ty) -> Value:
    """UXTB .. SXTX of a register value, to ty, then shifted left."""
    b = ctx.b
    bits = 8 << (option & 3)
    part = b.trunc(v, INT_BY_BITS[bits]) if bits < v.ty.bits else v
    if part.ty.bits < ty.bits:
        part = (b.sext if option & 4 else b.zext)(part, ty)
    elif part.ty.bits > ty.bits:
        part = b.trunc(part, ty)
    return b.shl(part, Const(ty, shift))


def decode_bit_masks(n: int, imms: int, immr: int, bits: int) -> int | None:
    """The logical-immediate value (DecodeBitMasks' wmask), or None for a reserved encoding."""
    combined = (n << 6) | (~imms & 0x3F)
    if combined == 0:
        return None
    length = combined.bit_length() - 1
    if length < 1 or (n and bits == 32):
        return None
    esize = 1 << length
    levels = esize - 1
    s, r = imms & levels, immr & levels
    if s == levels:
        return None
    welem = (1 << (s + 1)) - 1
    elem = ((welem >> r) | (welem << (esize - r))) & ((1 << esize) - 1)
    out = 0
    for i in range(0, bits, esize):
        out |= elem << i
    return out


# -- add and subtract -----------------------------------------------------------------------------------

def add_sub(ctx: Ctx, x: Value, y: Value, sub: bool, flags: bool, carry: Value | None = None) -> Value:
    """x + y or x - y (with carry-in when given: ADC/SBC), setting NZCV when flags."""
    b = ctx.b
    ty = x.ty
    yy = b.not_(y) if sub else y
    if carry is None:
        r = b.sub(x, y) if sub else b.add(x, y)
    else:
        r = b.add(b.add(x, yy), b.zext(carry, ty))
    if flags:
        zero = Const(ty, 0)
        if carry is None:
            c = b.cmp("uge", x, y) if sub else b.cmp("ult", r, x)
        else:
            c = b.select(carry, b.cmp("ule", r, x), b.cmp("ult", r, x))
        v = b.cmp("slt", b.and_(b.xor(x, r), b.xor(yy, r)), zero)
        flags = (b.cmp("slt", r, zero), b.cmp("eq", r, zero), c, v)
        ctx.set_nzcv(*flags)
        if sub and carry is None:
            ctx.flag_origin = (*flags, "sub", x, y)
    return r


@encoding("xxx100010xxxxxxxxxxxxxxxxxxxxxxx")
def add_sub_imm(ctx: Ctx, w: int) -> None:
    sf, sub, s = field(w, 31, 1), field(w, 30, 1), field(w, 29, 1)
    imm = field(w, 10, 12) << (12 * field(w, 22, 1))
    r = add_sub(ctx, ctx.xsp(field(w, 5, 5), sf), Const(int_ty(sf), imm), bool(sub), bool(s))
    (ctx.set_x if s else ctx.set_xsp)(field(w, 0, 5), r)


@encoding("xxx01011xx0xxxxxxxxxxxxxxxxxxxxx")
def add_sub_shifted(ctx: Ctx, w: int) -> None:
    sf, sub, s = field(w, 31, 1), field(w, 30, 1), field(w, 29, 1)
    if field(w, 22, 2) == 3 or (not sf and field(w, 15, 1)):
        ctx.undefined()
        return
    r = add_sub(ctx, ctx.x(field(w, 5, 5), sf), shifted_rm(ctx, w, sf), bool(sub), bool(s))
    ctx.set_x(field(w, 0, 5), r)


@encoding("xxx01011001xxxxxxxxxxxxxxxxxxxxx")
def add_sub_extended(ctx: Ctx, w: int) -> None:
    sf, sub, s = field(w, 31, 1), field(w, 30, 1), field(w, 29, 1)
    shift = field(w, 10, 3)
    if shift > 4:
        ctx.undefined()
        return
    ty = int_ty(sf)
    y = extend(ctx, ctx.x(field(w, 16, 5)), field(w, 13, 3), shift, ty)
    r = add_sub(ctx, ctx.xsp(field(w, 5, 5), sf), y, bool(sub), bool(s))
    (ctx.set_x if s else ctx.set_xsp)(field(w, 0, 5), r)


@encoding("xxx11010000xxxxx000000xxxxxxxxxx")
def add_sub_carry(ctx: Ctx, w: int) -> None:
    sf, sub, s = field(w, 31, 1), field(w, 30, 1), field(w, 29, 1)
    r = add_sub(ctx, ctx.x(field(w, 5, 5), sf), ctx.x(field(w, 16, 5), sf), bool(sub), bool(s),
                carry=ctx.b.get(C))
    ctx.set_x(field(w, 0, 5), r)


# -- logical ---------------------------------------------------------------------------------------------

LOGICAL = {0: "and", 1: "or", 2: "xor", 3: "and"}


@encoding("xxx100100xxxxxxxxxxxxxxxxxxxxxxx")
def logical_imm(ctx: Ctx, w: int) -> None:
    sf, opc = field(w, 31, 1), field(w, 29, 2)
    ty = int_ty(sf)
    imm = decode_bit_masks(field(w, 22, 1), field(w, 10, 6), field(w, 16, 6), ty.bits)
    if imm is None:
        ctx.undefined()
        return
    r = ctx.b.binop(LOGICAL[opc], ctx.x(field(w, 5, 5), sf), Const(ty, imm))
    if opc == 3:
        ctx.set_nz_logical(r)
        ctx.set_x(field(w, 0, 5), r)
    else:
        ctx.set_xsp(field(w, 0, 5), r)


@encoding("xxx01010xxxxxxxxxxxxxxxxxxxxxxxx")
def logical_shifted(ctx: Ctx, w: int) -> None:
    sf, opc = field(w, 31, 1), field(w, 29, 2)
    if not sf and field(w, 15, 1):
        ctx.undefined()
        return
    y = shifted_rm(ctx, w, sf)
    if field(w, 21, 1):
        y = ctx.b.not_(y)
    r = ctx.b.binop(LOGICAL[opc], ctx.x(field(w, 5, 5), sf), y)
    if opc == 3:
        ctx.set_nz_logical(r)
    ctx.set_x(field(w, 0, 5), r)


# -- moves and addresses ----------------------------------------------------------------------------------

@encoding("xxx100101xxxxxxxxxxxxxxxxxxxxxxx")
def move_wide(ctx: Ctx, w: int) -> None:
    sf, opc, hw = field(w, 31, 1), field(w, 29, 2), field(w, 21, 2)
    if opc == 1 or (not sf and hw > 1):
        ctx.undefined()
        return
    ty = int_ty(sf)
    shift = 16 * hw
    imm = field(w, 5, 16) << shift
    rd = field(w, 0, 5)
    if opc == 0:
        ctx.set_x(rd, Const(ty, ~imm & ty.mask))
    elif opc == 2:
        ctx.set_x(rd, Const(ty, imm))
    else:
        b = ctx.b
        ctx.set_x(rd, b.or_(b.and_(ctx.x(rd, sf), Const(ty, ~(0xFFFF << shift) & ty.mask)), Const(ty, imm)))


@encoding("xxx10000xxxxxxxxxxxxxxxxxxxxxxxx")
def pc_relative(ctx: Ctx, w: int) -> None:
    imm = sign(field(w, 5, 19) << 2 | field(w, 29, 2), 21)
    if field(w, 31, 1):  # adrp
        value = (ctx.pc & ~0xFFF) + (imm << 12)
    else:
        value = ctx.pc + imm
    ctx.set_x(field(w, 0, 5), Const(I64, value & I64.mask))


# -- bitfield and extract ------------------------------------------------------------------------------------

def _mask(n: int) -> int:
    return (1 << n) - 1


def bitfield(ctx: Ctx, w: int, kind: str) -> None:
    """SBFM, BFM and UBFM (and so asr/lsl/lsr immediate, sbfx, ubfx, bfi, bfxil, sxt*, uxt*)."""
    b = ctx.b
    sf = field(w, 31, 1)
    immr, imms = field(w, 16, 6), field(w, 10, 6)
    ty = int_ty(sf)
    bits = ty.bits
    if field(w, 22, 1) != sf or immr >= bits or imms >= bits:
        ctx.undefined()
        return
    src = ctx.x(field(w, 5, 5), sf)
    rd = field(w, 0, 5)
    if imms >= immr:  # extract the field [imms:immr] to the bottom
        width, pos = imms - immr + 1, 0
        if kind == "s":
            r = b.ashr(b.shl(src, Const(ty, bits - 1 - imms)), Const(ty, bits - width))
        else:
            r = b.and_(b.lshr(src, Const(ty, immr)), Const(ty, _mask(width)))
    else:  # insert the low imms+1 bits at bits - immr
        width, pos = imms + 1, bits - immr
        if kind == "s":
            low = b.ashr(b.shl(src, Const(ty, bits - width)), Const(ty, bits - width))
        else:
            low = b.and_(src, Const(ty, _mask(width)))
        r = b.shl(low, Const(ty, pos))
    if kind == "b":
        keep = ~(_mask(width) << pos) & ty.mask
        r = b.or_(b.and_(ctx.x(rd, sf), Const(ty, keep)), b.and_(r, Const(ty, _mask(width) << pos)))
    ctx.set_x(rd, r)


encoding("x00100110xxxxxxxxxxxxxxxxxxxxxxx")(lambda ctx, w: bitfield(ctx, w, "s"))
encoding("x01100110xxxxxxxxxxxxxxxxxxxxxxx")(lambda ctx, w: bitfield(ctx, w, "b"))
encoding("x10100110xxxxxxxxxxxxxxxxxxxxxxx")(lambda ctx, w: bitfield(ctx, w, "u"))


@encoding("x00100111x0xxxxxxxxxxxxxxxxxxxxx")
def extract(ctx: Ctx, w: int) -> None:
    b = ctx.b
    sf, lsb = field(w, 31, 1), field(w, 10, 6)
    ty = int_ty(sf)
    if field(w, 22, 1) != sf or lsb >= ty.bits:
        ctx.undefined()
        return
    hi, lo = ctx.x(field(w, 5, 5), sf), ctx.x(field(w, 16, 5), sf)
    r = lo if lsb == 0 else b.or_(b.lshr(lo, Const(ty, lsb)), b.shl(hi, Const(ty, ty.bits - lsb)))
    ctx.set_x(field(w, 0, 5), r)


# -- conditional select and compare ---------------------------------------------------------------------

SELECT_ELSE = {0: lambda b, v: v, 1: lambda b, v: b.add(v, Const(v.ty, 1)),
               2: lambda b, v: b.not_(v), 3: lambda b, v: b.neg(v)}


@encoding("xx011010100xxxxxxxxx0xxxxxxxxxxx")
def cond_select(ctx: Ctx, w: int) -> None:
    b = ctx.b
    sf = field(w, 31, 1)
    other = SELECT_ELSE[field(w, 30, 1) << 1 | field(w, 10, 1)](b, ctx.x(field(w, 16, 5), sf))
    ctx.set_x(field(w, 0, 5), b.select(ctx.cond(field(w, 12, 4)), ctx.x(field(w, 5, 5), sf), other))


@encoding("xx1 11010010 xxxxx xxxx x 0 xxxxx 0 xxxx")
def cond_compare(ctx: Ctx, w: int) -> None:
    """CCMP/CCMN: flags of the comparison if the condition holds, else the immediate flags."""
    sf, sub = field(w, 31, 1), field(w, 30, 1)
    ty = int_ty(sf)
    y = Const(ty, field(w, 16, 5)) if field(w, 11, 1) else ctx.x(field(w, 16, 5), sf)
    c = ctx.cond(field(w, 12, 4))
    add_sub(ctx, ctx.x(field(w, 5, 5), sf), y, bool(sub), True)
    ctx.keep_flags_if(c, field(w, 0, 4))


# -- multiply and divide ---------------------------------------------------------------------------------

def _mul_add(ctx: Ctx, w: int, widen, sub: bool) -> None:
    """MADD/MSUB (widen None) and the long forms [SU]MADDL/[SU]MSUBL (widen: sext or zext of Wn, Wm)."""
    b = ctx.b
    sf = field(w, 31, 1)
    if widen is None:
        x, y, ty = ctx.x(field(w, 5, 5), sf), ctx.x(field(w, 16, 5), sf), int_ty(sf)
    else:
        x = widen(b)(ctx.x(field(w, 5, 5), 0), I64)
        y = widen(b)(ctx.x(field(w, 16, 5), 0), I64)
        ty = I64
    p = b.mul(x, y)
    a = ctx.x(field(w, 10, 5), 1 if widen else sf)
    ctx.set_x(field(w, 0, 5), b.sub(a, p) if sub else b.add(a, p))


def _mul_high(ctx: Ctx, w: int, signed: bool) -> None:
    b = ctx.b
    ext = b.sext if signed else b.zext
    p = b.mul(ext(ctx.x(field(w, 5, 5)), I128), ext(ctx.x(field(w, 16, 5)), I128))
    ctx.set_x(field(w, 0, 5), b.trunc(b.lshr(p, Const(I128, 64)), I64))


_SEXT = lambda b: b.sext  # noqa: E731
_ZEXT = lambda b: b.zext  # noqa: E731
# (op31, o0) -> lift; only sf = 1 is defined for the long and high forms
THREE_SOURCE = {
    (0, 0): lambda ctx, w: _mul_add(ctx, w, None, False),
    (0, 1): lambda ctx, w: _mul_add(ctx, w, None, True),
    (1, 0): lambda ctx, w: _mul_add(ctx, w, _SEXT, False),
    (1, 1): lambda ctx, w: _mul_add(ctx, w, _SEXT, True),
    (2, 0): lambda ctx, w: _mul_high(ctx, w, True),
    (5, 0): lambda ctx, w: _mul_add(ctx, w, _ZEXT, False),
    (5, 1): lambda ctx, w: _mul_add(ctx, w, _ZEXT, True),
    (6, 0): lambda ctx, w: _mul_high(ctx, w, False),
}


@encoding("x0011011xxxxxxxxxxxxxxxxxxxxxxxx")
def three_source(ctx: Ctx, w: int) -> None:
    key = (field(w, 21, 3), field(w, 15, 1))
    fn = THREE_SOURCE.get(key)
    if fn is None or (key[0] and not field(w, 31, 1)) or (key[0] in (2, 6) and field(w, 10, 5) != 31):
        ctx.undefined()
        return
    fn(ctx, w)


def _shift_var(opcode: str):
    return lambda ctx, x, y: ctx.b.binop(opcode, x, y)


TWO_SOURCE = {
    2: lambda ctx, x, y: ctx.b.binop("udiv", x, y),  # x/0 = 0 in the IR, as in A64
    3: lambda ctx, x, y: ctx.b.binop("sdiv", x, y),
    8: _shift_var("shl"), 9: _shift_var("lshr"), 10: _shift_var("ashr"),
    11: lambda ctx, x, y: ror(ctx, x, y),
}


@encoding("x0011010110xxxxxxxxxxxxxxxxxxxxx")
def two_source(ctx: Ctx, w: int) -> None:
    sf = field(w, 31, 1)
    fn = TWO_SOURCE.get(field(w, 10, 6))
    if fn is None:
        ctx.undefined()
        return
    ctx.set_x(field(w, 0, 5), fn(ctx, ctx.x(field(w, 5, 5), sf), ctx.x(field(w, 16, 5), sf)))


def _swap_within(ctx: Ctx, v: Value, chunk: int) -> Value:
    """Reverse the bytes inside each chunk-bit container."""
    b = ctx.b
    r = b.unop("bswap", v)
    if chunk == v.ty.bits:
        return r
    # bswap reversed the container order too: rotate containers back into place
    if v.ty.bits == 64 and chunk == 32:
        return ror(ctx, r, 32)
    m = Const(v.ty, int("00ff" * (v.ty.bits // 16), 16))
    return b.or_(b.and_(b.lshr(v, Const(v.ty, 8)), m), b.shl(b.and_(v, m), Const(v.ty, 8)))


def _cls(ctx: Ctx, v: Value) -> Value:
    b = ctx.b
    return b.sub(b.unop("clz", b.xor(v, b.ashr(v, Const(v.ty, 1)))), Const(v.ty, 1))


ONE_SOURCE = {
    0: lambda ctx, v: ctx.b.unop("bitrev", v),
    1: lambda ctx, v: _swap_within(ctx, v, 16),
    2: lambda ctx, v: _swap_within(ctx, v, 32),
    3: lambda ctx, v: _swap_within(ctx, v, 64),
    4: lambda ctx, v: ctx.b.unop("clz", v),
    5: _cls,
}


@encoding("x101101011000000xxxxxxxxxxxxxxxx")
def one_source(ctx: Ctx, w: int) -> None:
    sf, opcode = field(w, 31, 1), field(w, 10, 6)
    fn = ONE_SOURCE.get(opcode)
    if fn is None or (opcode == 3 and not sf):
        ctx.undefined()
        return
    ctx.set_x(field(w, 0, 5), fn(ctx, ctx.x(field(w, 5, 5), sf)))


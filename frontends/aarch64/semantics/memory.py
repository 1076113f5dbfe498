"""Loads and stores: unsigned offset, unscaled, pre- and post-index, register offset (extended and
shifted), PC-relative literal and register pairs, for general-purpose and SIMD&FP registers (8 to 128
bits). Prefetches are no-ops."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.types import I32, I64, I128, INT_BY_BITS

from ..lifter import Ctx, encoding, field, sign
from .integer import extend


# -- memory helpers shared by every load and store ----------------------------------------------------

def load(ctx: Ctx, addr: Value, nbytes: int, for_write: bool = False) -> Value:
    """An nbytes little-endian load (16 bytes: two 64-bit halves joined)."""
    b = ctx.b
    if nbytes < 16:
        return b.load(INT_BY_BITS[8 * nbytes], addr, for_write)
    lo = b.load(I64, addr)
    hi = b.load(I64, ctx.offset(addr, 8))
    return b.or_(b.zext(lo, I128), b.shl(b.zext(hi, I128), Const(I128, 64)))


def store(ctx: Ctx, addr: Value, value: Value) -> None:
    """Store an integer value of 8 to 128 bits (128: as two 64-bit halves)."""
    b = ctx.b
    if value.ty is not I128:
        b.store(addr, value)
        return
    b.store(addr, b.trunc(value, I64))
    b.store(ctx.offset(addr, 8), b.trunc(b.lshr(value, Const(I128, 64)), I64))


class Access:
    """What a load or store moves: its size, direction, register bank and extension."""

    __slots__ = ("nbytes", "load", "simd", "signed_to")

    def __init__(self, nbytes: int, load: bool, simd: bool, signed_to=None) -> None:
        self.nbytes, self.load, self.simd, self.signed_to = nbytes, load, simd, signed_to


def single_access(size: int, v: int, opc: int) -> Access | None:
    """The access of a single-register load/store; None for reserved encodings, "prefetch" for PRFM."""
    if v:
        nbytes = 16 if opc & 2 else 1 << size
        if opc & 2 and size:
            return None
        return Access(nbytes, bool(opc & 1), True)
    nbytes = 1 << size
    if opc < 2:
        return Access(nbytes, opc == 1, False)
    if opc == 2:
        return "prefetch" if size == 3 else Access(nbytes, True, False, I64)
    return None if size >= 2 else Access(nbytes, True, False, I32)


def transfer(ctx: Ctx, acc: Access, addr: Value, rt: int) -> None:
    """Move register rt to or from memory at addr."""
    b = ctx.b
    if acc.load:
        v = load(ctx, addr, acc.nbytes)
        if acc.simd:
            ctx.set_vreg(rt, v)
        elif acc.signed_to is not None:
            ctx.set_x(rt, b.sext(v, acc.signed_to))
        else:
            ctx.set_x(rt, v)
    else:
        ty = INT_BY_BITS[8 * acc.nbytes]
        if acc.simd:
            v = ctx.vreg(rt)
            store(ctx, addr, v if ty is I128 else b.trunc(v, ty))
        else:
            x = ctx.x(rt)
            store(ctx, addr, x if ty is I64 else b.trunc(x, ty))


def _single(ctx: Ctx, w: int, address) -> None:
    """Decode the access of a single-register form and transfer it at address(ctx, w, nbytes)."""
    acc = single_access(field(w, 30, 2), field(w, 26, 1), field(w, 22, 2))
    if acc is None:
        ctx.undefined()
        return
    if acc == "prefetch":
        return
    addr, writeback = address(ctx, w, acc.nbytes)
    transfer(ctx, acc, addr, field(w, 0, 5))
    if writeback is not None:
        ctx.set_xsp(field(w, 5, 5), writeback)


def _unsigned_offset(ctx: Ctx, w: int, nbytes: int):
    return ctx.offset(ctx.xsp(field(w, 5, 5)), field(w, 10, 12) * nbytes), None


def _imm9(ctx: Ctx, w: int, nbytes: int):
    """Unscaled (00), post-index (01), unprivileged (10) and pre-index (11) addressing."""
    base = ctx.xsp(field(w, 5, 5))
    moved = ctx.offset(base, sign(field(w, 12, 9), 9))
    mode = field(w, 10, 2)
    if mode == 1:
        return base, moved
    if mode == 3:
        return moved, moved
    return moved, None


def _register_offset(ctx: Ctx, w: int, nbytes: int):
    option = field(w, 13, 3)
    shift = (nbytes.bit_length() - 1) if field(w, 12, 1) else 0
    offset = extend(ctx, ctx.x(field(w, 16, 5)), option, shift, I64)
    return ctx.b.add(ctx.xsp(field(w, 5, 5)), offset), None


encoding("xx 111 x 01 xx xxxxxxxxxxxx xxxxx xxxxx")(lambda ctx, w: _single(ctx, w, _unsigned_offset))
encoding("xx 111 x 00 xx 0 xxxxxxxxx xx xxxxx xxxxx")(lambda ctx, w: _single(ctx, w, _imm9))


@encoding("xx 111 x 00 xx 1 xxxxx xxx x 10 xxxxx xxxxx")
def register_offset(ctx: Ctx, w: int) -> None:
    if not field(w, 14, 1):  # option must be UXTW, LSL (UXTX), SXTW or SXTX
        ctx.undefined()
        return
    _single(ctx, w, _register_offset)


LITERAL = {(0, 0): Access(4, True, False), (1, 0): Access(8, True, False), (2, 0): Access(4, True, False, I64),
           (0, 1): Access(4, True, True), (1, 1): Access(8, True, True), (2, 1): Access(16, True, True)}


@encoding("xx 011 x 00 xxxxxxxxxxxxxxxxxxx xxxxx")
def load_literal(ctx: Ctx, w: int) -> None:
    key = (field(w, 30, 2), field(w, 26, 1))
    if key == (3, 0):  # prfm (literal)
        return
    acc = LITERAL.get(key)
    if acc is None:
        ctx.undefined()
        return
    addr = Const(I64, (ctx.pc + (sign(field(w, 5, 19), 19) << 2)) & I64.mask)
    transfer(ctx, acc, addr, field(w, 0, 5))


# (opc, V) -> (bytes per register, sign-extend to i64)
PAIR_SIZES = {(0, 0): (4, False), (1, 0): (4, True), (2, 0): (8, False),
              (0, 1): (4, False), (1, 1): (8, False), (2, 1): (16, False)}


@encoding("xx 101 x 0 xx x xxxxxxx xxxxx xxxxx xxxxx")
def pair(ctx: Ctx, w: int) -> None:
    """LDP/STP/LDPSW/LDNP/STNP in offset, pre- and post-index forms."""
    opc, v, mode, is_load = field(w, 30, 2), field(w, 26, 1), field(w, 23, 2), field(w, 22, 1)
    entry = PAIR_SIZES.get((opc, v))
    if entry is None or (entry[1] and (not is_load or mode == 0)):
        ctx.undefined()
        return
    nbytes, signed = entry
    acc = Access(nbytes, bool(is_load), bool(v), I64 if signed else None)
    b = ctx.b
    base = ctx.xsp(field(w, 5, 5))
    moved = ctx.offset(base, sign(field(w, 15, 7), 7) * nbytes)
    addr = base if mode == 1 else moved
    rt, rt2 = field(w, 0, 5), field(w, 10, 5)
    if is_load:  # both loads happen before either register is written
        first, second = load(ctx, addr, nbytes), load(ctx, ctx.offset(addr, nbytes), nbytes)
        for reg, val in ((rt, first), (rt2, second)):
            if v:
                ctx.set_vreg(reg, val)
            else:
                ctx.set_x(reg, b.sext(val, I64) if signed else val)
    else:
        transfer(ctx, acc, addr, rt)
        transfer(ctx, acc, ctx.offset(addr, nbytes), rt2)
    if mode in (1, 3):
        ctx.set_xsp(field(w, 5, 5), moved)

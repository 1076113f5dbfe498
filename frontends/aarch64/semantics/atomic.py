"""Exclusive and ordered loads and stores, compare-and-swap and the LSE atomic memory operations, for a
single CPU: an exclusive store succeeds when the reservation holds its address; ordering has no visible
effect. A failing exclusive store still reads and rewrites memory (it faults like a successful one)."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.types import I64, INT_BY_BITS

from ..lifter import Ctx, encoding, field
from ..registers import NO_RESERVATION, RESERVATION
from .memory import load, store


def _value(ctx: Ctx, n: int, ty) -> Value:
    v = ctx.x(n)
    return v if ty is I64 else ctx.b.trunc(v, ty)


def _exclusive(ctx: Ctx, w: int, size: int, pair: bool) -> None:
    b = ctx.b
    nbytes = 1 << size
    ty = INT_BY_BITS[8 * nbytes]
    addr = ctx.xsp(field(w, 5, 5))
    rt, rt2, rs = field(w, 0, 5), field(w, 10, 5), field(w, 16, 5)
    if field(w, 22, 1):  # load exclusive
        first = load(ctx, addr, nbytes)
        second = load(ctx, b.add(addr, Const(I64, nbytes)), nbytes) if pair else None
        b.put(RESERVATION, addr)
        ctx.set_x(rt, first)
        if pair:
            ctx.set_x(rt2, second)
        return
    ok = b.cmp("eq", b.get(RESERVATION), addr)
    old = load(ctx, addr, nbytes, for_write=True)
    new = _value(ctx, rt, ty)
    b.store(addr, b.select(ok, new, old))
    if pair:
        addr2 = b.add(addr, Const(I64, nbytes))
        old2 = load(ctx, addr2, nbytes, for_write=True)
        b.store(addr2, b.select(ok, _value(ctx, rt2, ty), old2))
    b.put(RESERVATION, Const(I64, NO_RESERVATION))
    ctx.set_x(rs, b.select(ok, Const(I64, 0), Const(I64, 1)))


def _ordered(ctx: Ctx, w: int, size: int) -> None:
    """LDAR/STLR and LDLAR/STLLR: plain loads and stores here."""
    nbytes = 1 << size
    addr = ctx.xsp(field(w, 5, 5))
    rt = field(w, 0, 5)
    if field(w, 22, 1):
        ctx.set_x(rt, load(ctx, addr, nbytes))
    else:
        store(ctx, addr, _value(ctx, rt, INT_BY_BITS[8 * nbytes]))


def _cas(ctx: Ctx, w: int, size: int) -> None:
    b = ctx.b
    nbytes = 1 << size
    ty = INT_BY_BITS[8 * nbytes]
    addr = ctx.xsp(field(w, 5, 5))
    rs, rt = field(w, 16, 5), field(w, 0, 5)
    old = load(ctx, addr, nbytes, for_write=True)
    b.store(addr, b.select(b.cmp("eq", old, _value(ctx, rs, ty)), _value(ctx, rt, ty), old))
    ctx.set_x(rs, old)


def _cas_pair(ctx: Ctx, w: int, size: int) -> None:
    """CASP: compare Rs:Rs+1 with the pair in memory; if equal store Rt:Rt+1; Rs:Rs+1 get the old pair."""
    b = ctx.b
    nbytes = 1 << size
    ty = INT_BY_BITS[8 * nbytes]
    rs, rt = field(w, 16, 5), field(w, 0, 5)
    if rs & 1 or rt & 1:
        ctx.undefined()
        return
    addr = ctx.xsp(field(w, 5, 5))
    addr2 = ctx.offset(addr, nbytes)
    old = load(ctx, addr, nbytes, for_write=True)
    old2 = load(ctx, addr2, nbytes, for_write=True)
    same = b.and_(b.cmp("eq", old, _value(ctx, rs, ty)), b.cmp("eq", old2, _value(ctx, rs + 1, ty)))
    b.store(addr, b.select(same, _value(ctx, rt, ty), old))
    b.store(addr2, b.select(same, _value(ctx, rt + 1, ty), old2))
    ctx.set_x(rs, old)
    ctx.set_x(rs + 1, old2)


@encoding("xx 001000 x x x xxxxx x xxxxx xxxxx xxxxx")
def exclusive_group(ctx: Ctx, w: int) -> None:
    size, o2, o1 = field(w, 30, 2), field(w, 23, 1), field(w, 21, 1)
    if not o2 and not o1:
        _exclusive(ctx, w, size, False)
    elif not o2 and size >= 2:
        _exclusive(ctx, w, size, True)
    elif not o2 and field(w, 10, 5) == 31:
        _cas_pair(ctx, w, 2 + size)
    elif o2 and not o1:
        _ordered(ctx, w, size)
    elif o2 and field(w, 10, 5) == 31:
        _cas(ctx, w, size)
    else:
        ctx.undefined()


def _minmax(cond: str, signed: bool):
    def combine(b, x, y):
        return b.select(b.cmp(cond, x, y), x, y)
    return combine


# opc (with o3 = 0) -> combine(old, operand)
ATOMIC_OPS = {
    0: lambda b, x, y: b.add(x, y),
    1: lambda b, x, y: b.and_(x, b.not_(y)),
    2: lambda b, x, y: b.xor(x, y),
    3: lambda b, x, y: b.or_(x, y),
    4: _minmax("sgt", True),
    5: _minmax("slt", True),
    6: _minmax("ugt", False),
    7: _minmax("ult", False),
}


@encoding("xx 111 0 00 x x 1 xxxxx x xxx 00 xxxxx xxxxx")
def atomic_memory(ctx: Ctx, w: int) -> None:
    """LDADD, LDCLR, LDEOR, LDSET, LD[SU]MAX, LD[SU]MIN, SWP (any acquire/release) and LDAPR."""
    b = ctx.b
    size, o3, opc = field(w, 30, 2), field(w, 15, 1), field(w, 12, 3)
    nbytes = 1 << size
    ty = INT_BY_BITS[8 * nbytes]
    addr = ctx.xsp(field(w, 5, 5))
    rs, rt = field(w, 16, 5), field(w, 0, 5)
    if o3 and opc == 4 and rs == 31:  # ldapr
        ctx.set_x(rt, load(ctx, addr, nbytes))
        return
    if o3 and opc != 0:
        ctx.undefined()
        return
    old = load(ctx, addr, nbytes, for_write=True)
    operand = _value(ctx, rs, ty)
    b.store(addr, operand if o3 else ATOMIC_OPS[opc](b, old, operand))
    ctx.set_x(rt, old)


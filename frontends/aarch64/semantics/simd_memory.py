"""Advanced SIMD structure loads and stores: LD1-LD4 and ST1-ST4 of multiple structures and of one
lane, and LD1R-LD4R (replicate), with optional post-index."""
from __future__ import annotations

from dbt.ir.block import Const, Value
from dbt.ir.types import I64, INT_BY_BITS

from ..lifter import Ctx, encoding, field
from .vector import insert, lanes, read, write


# -- structure loads and stores ------------------------------------------------------------------------------

# opcode of the multiple-structures form -> (registers, elements per structure)
MULTIPLE = {0b0111: (1, 1), 0b1010: (2, 1), 0b0110: (3, 1), 0b0010: (4, 1),
            0b1000: (2, 2), 0b0100: (3, 3), 0b0000: (4, 4)}


def _post_index(ctx: Ctx, w: int, base: Value, total: int) -> None:
    if not field(w, 23, 1):
        return
    rm = field(w, 16, 5)
    step = Const(I64, total) if rm == 31 else ctx.x(rm)
    ctx.set_xsp(field(w, 5, 5), ctx.b.add(base, step))


@encoding("0 x 0011000 x 000000 xxxx xx xxxxx xxxxx", "0 x 0011001 x 0 xxxxx xxxx xx xxxxx xxxxx")
def multiple_structures(ctx: Ctx, w: int) -> None:
    """LD1-LD4 and ST1-ST4 (multiple structures), with optional post-index."""
    b = ctx.b
    q, is_load, opcode, size = field(w, 30, 1), field(w, 22, 1), field(w, 12, 4), field(w, 10, 2)
    entry = MULTIPLE.get(opcode)
    if entry is None or (size == 3 and not q and entry[1] > 1):
        ctx.undefined()
        return
    nregs, per = entry
    esize = 8 << size
    count = (64 << q) // esize
    base = ctx.xsp(field(w, 5, 5))
    rt = field(w, 0, 5)
    regs = [(rt + i) % 32 for i in range(nregs)]
    ty = INT_BY_BITS[esize]
    ebytes = esize // 8

    def addr_of(r: int, e: int) -> Value:
        g, k = divmod(r, per)  # register group g, element k of each structure
        offset = g * count * per * ebytes + (e * per + k) * ebytes
        return b.add(base, Const(I64, offset))

    if is_load:
        values = {r: [b.load(ty, addr_of(i, e)) for e in range(count)] for i, r in enumerate(regs)}
        for r, vals in values.items():
            write(ctx, r, vals)
    else:
        for i, r in enumerate(regs):
            for e, v in enumerate(read(ctx, r, esize, q)):
                b.store(addr_of(i, e), v)
    _post_index(ctx, w, base, nregs * count * ebytes)


@encoding("0 x 0011010 x x 00000 xxx x xx xxxxx xxxxx", "0 x 0011011 x x xxxxx xxx x xx xxxxx xxxxx")
def single_structure(ctx: Ctx, w: int) -> None:
    """LD1-LD4/ST1-ST4 of one lane and LD1R-LD4R (replicate), with optional post-index."""
    b = ctx.b
    q, is_load, r_, opcode, s, size = (field(w, 30, 1), field(w, 22, 1), field(w, 21, 1), field(w, 13, 3),
                                       field(w, 12, 1), field(w, 10, 2))
    nregs = (opcode & 1) << 1 | r_
    nregs += 1
    scale = opcode >> 1
    base = ctx.xsp(field(w, 5, 5))
    rt = field(w, 0, 5)
    if scale == 3:  # replicate
        if not is_load or s:
            ctx.undefined()
            return
        esize = 8 << size
        ty = INT_BY_BITS[esize]
        count = (64 << q) // esize
        values = [b.load(ty, b.add(base, Const(I64, i * esize // 8))) for i in range(nregs)]
        for i, v in enumerate(values):  # every load before any register write
            write(ctx, (rt + i) % 32, [v] * count)
        _post_index(ctx, w, base, nregs * esize // 8)
        return
    index_bits = q << 3 | s << 2 | size
    if scale == 0:
        esize, index = 8, index_bits
    elif scale == 1 and not size & 1:
        esize, index = 16, index_bits >> 1
    elif scale == 2 and size == 0:
        esize, index = 32, index_bits >> 2
    elif scale == 2 and size == 1 and not s:
        esize, index = 64, index_bits >> 3
    else:
        ctx.undefined()
        return
    ty = INT_BY_BITS[esize]
    addrs = [b.add(base, Const(I64, i * esize // 8)) for i in range(nregs)]
    regs = [(rt + i) % 32 for i in range(nregs)]
    if is_load:
        values = [b.load(ty, addr) for addr in addrs]  # every load before any register write
        for r, v in zip(regs, values):
            insert(ctx, r, esize, index, v)
    else:
        for r, addr in zip(regs, addrs):
            b.store(addr, lanes(ctx, ctx.vreg(r), esize, 128 // esize)[index])
    _post_index(ctx, w, base, nregs * esize // 8)



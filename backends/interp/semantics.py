"""Reference meaning of the pure integer IR operations, as plain Python functions on masked ints.

The interpreter's generated code inlines the same arithmetic; the IR builder folds constants with these
functions, so a folded constant and an executed operation always agree.
"""
from __future__ import annotations

from dbt.ir.types import Ty, to_signed


def _sdiv(a: int, b: int, bits: int) -> int:
    sa, sb = to_signed(a, bits), to_signed(b, bits)
    if sb == 0:
        return 0
    q = abs(sa) // abs(sb)
    return -q if (sa < 0) != (sb < 0) else q


def _srem(a: int, b: int, bits: int) -> int:
    sa, sb = to_signed(a, bits), to_signed(b, bits)
    if sb == 0:
        return sa
    r = abs(sa) % abs(sb)
    return -r if sa < 0 else r


BINARY = {
    "add": lambda a, b, bits: a + b,
    "sub": lambda a, b, bits: a - b,
    "mul": lambda a, b, bits: a * b,
    "and": lambda a, b, bits: a & b,
    "or": lambda a, b, bits: a | b,
    "xor": lambda a, b, bits: a ^ b,
    "shl": lambda a, b, bits: a << (b % bits),
    "lshr": lambda a, b, bits: a >> (b % bits),
    "ashr": lambda a, b, bits: to_signed(a, bits) >> (b % bits),
    "udiv": lambda a, b, bits: a // b if b else 0,
    "urem": lambda a, b, bits: a % b if b else a,
    "sdiv": _sdiv,
    "srem": _srem,
}

def _bitrev(a: int, bits: int) -> int:
    return int(format(a, f"0{bits}b")[::-1], 2)


UNARY = {
    "clz": lambda a, bits: bits - a.bit_length(),
    "ctz": lambda a, bits: (a & -a).bit_length() - 1 if a else bits,
    "popcnt": lambda a, bits: a.bit_count(),
    "bswap": lambda a, bits: int.from_bytes(a.to_bytes(bits // 8, "little"), "big"),
    "bitrev": _bitrev,
}

CMP = {
    "eq": lambda a, b, bits: a == b,
    "ne": lambda a, b, bits: a != b,
    "ult": lambda a, b, bits: a < b,
    "ule": lambda a, b, bits: a <= b,
    "ugt": lambda a, b, bits: a > b,
    "uge": lambda a, b, bits: a >= b,
    "slt": lambda a, b, bits: to_signed(a, bits) < to_signed(b, bits),
    "sle": lambda a, b, bits: to_signed(a, bits) <= to_signed(b, bits),
    "sgt": lambda a, b, bits: to_signed(a, bits) > to_signed(b, bits),
    "sge": lambda a, b, bits: to_signed(a, bits) >= to_signed(b, bits),
}


def eval_binary(opcode: str, ty: Ty, a: int, b: int) -> int:
    """Result of an integer binary operation (masked)."""
    return BINARY[opcode](a, b, ty.bits) & ty.mask


def eval_unary(opcode: str, ty: Ty, a: int) -> int:
    """Result of an integer unary operation (masked)."""
    return UNARY[opcode](a, ty.bits) & ty.mask


def eval_cmp(cond: str, ty: Ty, a: int, b: int) -> int:
    """1 if the integer comparison holds, else 0."""
    return int(CMP[cond](a, b, ty.bits))


def eval_cast(opcode: str, src: Ty, dst: Ty, v: int) -> int:
    """Result of zext/sext/trunc/bitcast (masked)."""
    if opcode == "sext":
        return to_signed(v, src.bits) & dst.mask
    return v & dst.mask

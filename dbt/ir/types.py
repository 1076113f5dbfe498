"""IR value types: fixed-width integers and IEEE binary floats.

Integers carry no signedness; operations decide how to read them. Every integer value is kept as a
non-negative Python int masked to its width.
"""
from __future__ import annotations


class Ty:
    """An IR type: a name, a width in bits, and whether it is a float."""

    __slots__ = ("name", "bits", "is_float", "mask")

    def __init__(self, name: str, bits: int, is_float: bool) -> None:
        self.name = name
        self.bits = bits
        self.is_float = is_float
        self.mask = (1 << bits) - 1

    @property
    def is_int(self) -> bool:
        return not self.is_float

    @property
    def bytes(self) -> int:
        return max(1, self.bits // 8)

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        return (by_name, (self.name,))


I1 = Ty("i1", 1, False)
I8 = Ty("i8", 8, False)
I16 = Ty("i16", 16, False)
I32 = Ty("i32", 32, False)
I64 = Ty("i64", 64, False)
I128 = Ty("i128", 128, False)
F32 = Ty("f32", 32, True)
F64 = Ty("f64", 64, True)

ALL_TYPES = (I1, I8, I16, I32, I64, I128, F32, F64)
_BY_NAME = {t.name: t for t in ALL_TYPES}
INT_BY_BITS = {t.bits: t for t in ALL_TYPES if t.is_int}
FLOAT_BY_BITS = {32: F32, 64: F64}


def by_name(name: str) -> Ty:
    """The type called `name` (as printed in IR text)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown IR type {name!r}") from None


def int_of(t: Ty) -> Ty:
    """The integer type of the same width (the bit pattern of a float)."""
    return INT_BY_BITS[t.bits]


def to_signed(value: int, bits: int) -> int:
    """Read a masked bit pattern as a two's-complement integer."""
    return value - (1 << bits) if value >> (bits - 1) else value

"""The floating-point operations the interpreter's generated code calls: dbt.softfloat under the names
the code generator uses. Each returns (result bits, accrued flags)."""
from __future__ import annotations

from dbt import softfloat as _sf

add, sub, mul, div, sqrt, fma = _sf.add, _sf.sub, _sf.mul, _sf.div, _sf.sqrt, _sf.fma
min, max = _sf.min, _sf.max
convert, to_int, from_int, round_to_integral = _sf.convert, _sf.to_int, _sf.from_int, _sf.round_to_integral


def _unordered(fmt: int, a: int, b: int, signaling: bool) -> tuple[int, int]:
    either_nan = _sf.is_nan(fmt, a) or _sf.is_nan(fmt, b)
    if signaling:
        flags = _sf.NV if either_nan else 0
    else:
        flags = _sf.NV if (_sf.is_snan(fmt, a) or _sf.is_snan(fmt, b)) else 0
    return int(either_nan), flags


def compare(fmt: int, a: int, b: int, cond: str, signaling: bool) -> tuple[int, int]:
    """The IR's fcmp: eq / lt / le / un, quiet or signaling."""
    if cond == "un":
        return _unordered(fmt, a, b, signaling)
    if cond == "eq":
        r, flags = _sf.eq(fmt, a, b)
        if signaling and (_sf.is_nan(fmt, a) or _sf.is_nan(fmt, b)):
            flags |= _sf.NV
        return r, flags
    r, flags = (_sf.lt if cond == "lt" else _sf.le)(fmt, a, b)
    if not signaling and not (_sf.is_snan(fmt, a) or _sf.is_snan(fmt, b)):
        flags &= ~_sf.NV
    return r, flags

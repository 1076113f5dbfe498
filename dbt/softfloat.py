"""Pure-Python IEEE 754 binary32/binary64 arithmetic with RISC-V semantics.

This module is the reference semantics of floating-point operations for the
interpreter tier: every result is exact to the bit, and every operation also
reports the IEEE exception flags the way RISC-V accumulates them in fflags.

Conventions:

* A value is its raw bit pattern as a Python int (32 bits for binary32, 64 bits
  for binary64); the format is chosen by ``fmt``, which is 32 or 64.
* Rounding modes use the RISC-V ``frm`` numbering (RNE, RTZ, RDN, RUP, RMM).
* Flags use the RISC-V ``fflags`` bit order (NX, UF, OF, DZ, NV).
* Every operation returns ``(result, flags)``.
* Every NaN result is the canonical (default) NaN, as RISC-V requires.
* Tininess is detected after rounding; subnormals are never flushed.

Each arithmetic operation has an exact integer path (sign, exponent and
integer significand, an exact or sticky-bit intermediate, then one correctly
rounded step) and, for round-to-nearest-even on normal operands, a fast path
that uses host float arithmetic (which is IEEE binary64 with RNE) together with
an exactness test that decides NX.  The fast path gives up and falls back to
the exact path whenever its result is not provably right.
"""

import math
import struct

__all__ = [
    "RNE", "RTZ", "RDN", "RUP", "RMM",
    "NX", "UF", "OF", "DZ", "NV",
    "add", "sub", "mul", "div", "sqrt", "fma",
    "min", "max", "eq", "lt", "le",
    "to_int", "from_int", "convert", "round_to_integral", "classify",
    "is_nan", "is_snan", "is_qnan", "is_inf", "is_zero", "is_subnormal",
    "sign_bit", "canonical_nan", "float_to_bits", "bits_to_float",
]

# Rounding modes, numbered as the RISC-V frm field.
RNE = 0  # to nearest, ties to even
RTZ = 1  # toward zero
RDN = 2  # toward -infinity
RUP = 3  # toward +infinity
RMM = 4  # to nearest, ties to max magnitude

# Exception flags, in RISC-V fflags bit order.
NX = 1   # inexact
UF = 2   # underflow
OF = 4   # overflow
DZ = 8   # divide by zero
NV = 16  # invalid operation

class _Format:
    """Constants that describe one IEEE 754 binary interchange format."""

    __slots__ = (
        "width", "p", "bias", "emin", "emax", "qmin", "qmax",
        "sign", "exp_mask", "frac_mask", "hidden", "quiet", "inf",
        "nan", "max_finite", "mag_mask", "exp_all",
    )

    def __init__(self, width, exp_bits, frac_bits):
        self.width = width
        self.p = frac_bits + 1                        # precision in bits
        self.bias = (1 << (exp_bits - 1)) - 1
        self.emin = 1 - self.bias                     # exponent of the smallest normal
        self.emax = self.bias                         # exponent of the largest finite
        self.qmin = self.emin - frac_bits             # quantum (ulp) exponent, subnormals
        self.qmax = self.emax - frac_bits             # quantum exponent, largest binade
        self.sign = 1 << (width - 1)
        self.exp_all = (1 << exp_bits) - 1            # biased exponent of inf/NaN
        self.exp_mask = self.exp_all << frac_bits
        self.frac_mask = (1 << frac_bits) - 1
        self.hidden = 1 << frac_bits
        self.quiet = 1 << (frac_bits - 1)             # quiet bit of a NaN
        self.inf = self.exp_mask
        self.nan = self.exp_mask | self.quiet         # the canonical NaN
        self.max_finite = self.exp_mask - 1
        self.mag_mask = self.sign - 1


_F32 = _Format(32, 8, 23)
_F64 = _Format(64, 11, 52)
_FORMATS = {32: _F32, 64: _F64}

# Classes returned by _decode.
_ZERO, _FINITE, _INF, _QNAN, _SNAN = range(5)

_pack_d = struct.Struct("<d").pack
_unpack_d = struct.Struct("<d").unpack
_pack_q = struct.Struct("<Q").pack
_unpack_q = struct.Struct("<Q").unpack
_pack_f = struct.Struct("<f").pack
_unpack_f = struct.Struct("<f").unpack
_pack_i = struct.Struct("<I").pack
_unpack_i = struct.Struct("<I").unpack

# Magnitude bounds of fast-path results: strictly inside the normal range, so
# that neither tininess (even after rounding) nor overflow can occur.
_F64_FAST_LO = 2.0 ** -1020
_F64_FAST_HI = 2.0 ** 1020
_F32_FAST_LO = 2.0 ** -124
_F32_FAST_HI = 2.0 ** 126

# Biased-exponent window of binary64 fast-path operands: normal and far from
# overflow, so no intermediate of the exactness tests can overflow.
_F64_OP_EXP_LO = 1
_F64_OP_EXP_HI = 0x7FC

_F64_HIDDEN = 1 << 52
_F64_FRAC = _F64_HIDDEN - 1


# ---------------------------------------------------------------------------
# Public helpers
# ---------------------------------------------------------------------------

def float_to_bits(fmt, x):
    """Bit pattern of the Python float ``x`` in ``fmt`` (binary32 rounds RNE)."""
    if fmt == 64:
        return _unpack_q(_pack_d(x))[0]
    return _unpack_i(_pack_f(x))[0]


def bits_to_float(fmt, a):
    """Python float whose value equals the ``fmt`` bit pattern ``a``."""
    if fmt == 64:
        return _unpack_d(_pack_q(a))[0]
    return _unpack_f(_pack_i(a))[0]


def canonical_nan(fmt):
    """The RISC-V canonical NaN of ``fmt``."""
    return _FORMATS[fmt].nan


def sign_bit(fmt, a):
    """1 if the sign bit of ``a`` is set, else 0."""
    return (a >> (fmt - 1)) & 1


def is_nan(fmt, a):
    """True if ``a`` is a NaN (quiet or signaling)."""
    F = _FORMATS[fmt]
    return (a & F.mag_mask) > F.inf


def is_snan(fmt, a):
    """True if ``a`` is a signaling NaN."""
    F = _FORMATS[fmt]
    return (a & F.mag_mask) > F.inf and not a & F.quiet


def is_qnan(fmt, a):
    """True if ``a`` is a quiet NaN."""
    F = _FORMATS[fmt]
    return (a & F.mag_mask) > F.inf and bool(a & F.quiet)


def is_inf(fmt, a):
    """True if ``a`` is +infinity or -infinity."""
    F = _FORMATS[fmt]
    return (a & F.mag_mask) == F.inf


def is_zero(fmt, a):
    """True if ``a`` is +0 or -0."""
    return not a & _FORMATS[fmt].mag_mask


def is_subnormal(fmt, a):
    """True if ``a`` is a nonzero subnormal number."""
    F = _FORMATS[fmt]
    return not a & F.exp_mask and bool(a & F.frac_mask)


# ---------------------------------------------------------------------------
# Decoding, rounding and encoding
# ---------------------------------------------------------------------------

def _decode(F, a):
    """Split ``a`` into (sign, class, m, e); a finite value is (-1)**sign * m * 2**e."""
    sign = a >> (F.width - 1)
    biased = (a & F.exp_mask) >> (F.p - 1)
    frac = a & F.frac_mask
    if biased == F.exp_all:
        if not frac:
            return sign, _INF, 0, 0
        return sign, (_QNAN if frac & F.quiet else _SNAN), 0, 0
    if biased:
        return sign, _FINITE, frac | F.hidden, biased - F.bias - F.p + 1
    if frac:
        return sign, _FINITE, frac, F.qmin
    return sign, _ZERO, 0, 0


def _round_shift(m, shift, rm, negative):
    """Round m / 2**shift (m >= 0, shift >= 1) to an integer; return (int, inexact).

    ``negative`` is the sign of the value whose magnitude is m, which the
    directed rounding modes need.
    """
    r = m >> shift
    rem = m - (r << shift)
    if not rem:
        return r, False
    if rm == RNE:
        half = 1 << (shift - 1)
        if rem > half or (rem == half and r & 1):
            r += 1
    elif rm == RMM:
        if rem >= 1 << (shift - 1):
            r += 1
    elif rm == RUP:
        if not negative:
            r += 1
    elif rm == RDN:
        if negative:
            r += 1
    return r, True


def _overflow(F, sign, rm):
    """Result and flags of an overflow: infinity or the largest finite number."""
    if rm == RTZ or (rm == RDN and not sign) or (rm == RUP and sign):
        mag = F.max_finite
    else:
        mag = F.inf
    return (F.sign if sign else 0) | mag, OF | NX


def _rounds_up_to_min_normal(F, m, e, rm, sign):
    """Whether m * 2**e, which lies in [2**(emin-1), 2**emin), rounds to 2**emin.

    This is rounding to the format's precision with an unbounded exponent
    range: the test of tininess after rounding.
    """
    shift = m.bit_length() - F.p
    if shift <= 0:
        return False
    r, _ = _round_shift(m, shift, rm, sign)
    return r >> F.p == 1


def _round_pack(F, sign, m, e, rm):
    """Round (-1)**sign * m * 2**e (m > 0) into F; return (bits, flags).

    This is the single correctly rounded step of every operation.  If the
    caller's intermediate is not exact it must carry at least two bits below
    the format's precision and a sticky 1 in its lowest bit.
    """
    top = e + m.bit_length() - 1                       # exponent of the leading bit
    q = (top if top > F.emin else F.emin) - F.p + 1    # quantum exponent of the result
    shift = q - e
    if shift <= 0:
        sig = m << -shift
        flags = 0
    else:
        sig, inexact = _round_shift(m, shift, rm, sign)
        flags = NX if inexact else 0
        if sig >> F.p:                                 # carry out of the top bit
            sig >>= 1
            q += 1
        if inexact and top < F.emin and not (
                top == F.emin - 1 and _rounds_up_to_min_normal(F, m, e, rm, sign)):
            flags |= UF
    if q > F.qmax:
        return _overflow(F, sign, rm)
    bits = sig if sig < F.hidden else ((q - F.qmin + 1) << (F.p - 1)) | (sig - F.hidden)
    return (F.sign if sign else 0) | bits, flags


def _nan_flags(*classes):
    """NV if any of the decoded classes is a signaling NaN, else 0."""
    return NV if _SNAN in classes else 0


def _exact_zero_sum(F, sign_a, sign_b, rm):
    """The zero that x + y gives when the exact sum is 0 (IEEE 754 6.3)."""
    if sign_a == sign_b:
        return F.sign if sign_a else 0
    return F.sign if rm == RDN else 0


def _add_finite(F, sa, ma, ea, sb, mb, eb, rm):
    """Correctly rounded sum of two nonzero finite values; returns (bits, flags)."""
    e = ea if ea < eb else eb
    xa = ma << (ea - e)
    xb = mb << (eb - e)
    total = (-xa if sa else xa) + (-xb if sb else xb)
    if not total:
        return _exact_zero_sum(F, sa, sb, rm), 0
    if total < 0:
        return _round_pack(F, 1, -total, e, rm)
    return _round_pack(F, 0, total, e, rm)


# ---------------------------------------------------------------------------
# Arithmetic: exact paths
# ---------------------------------------------------------------------------

def _add_exact(F, a, b, rm):
    """a + b by the exact integer algorithm."""
    sa, ca, ma, ea = _decode(F, a)
    sb, cb, mb, eb = _decode(F, b)
    if ca >= _QNAN or cb >= _QNAN:
        return F.nan, _nan_flags(ca, cb)
    if ca == _INF or cb == _INF:
        if ca == cb and sa != sb:
            return F.nan, NV
        return (a if ca == _INF else b), 0
    if ca == _ZERO:
        if cb == _ZERO:
            return _exact_zero_sum(F, sa, sb, rm), 0
        return b, 0
    if cb == _ZERO:
        return a, 0
    return _add_finite(F, sa, ma, ea, sb, mb, eb, rm)


def _mul_exact(F, a, b, rm):
    """a * b by the exact integer algorithm."""
    sa, ca, ma, ea = _decode(F, a)
    sb, cb, mb, eb = _decode(F, b)
    if ca >= _QNAN or cb >= _QNAN:
        return F.nan, _nan_flags(ca, cb)
    sign = sa ^ sb
    sbit = F.sign if sign else 0
    if ca == _INF or cb == _INF:
        if ca == _ZERO or cb == _ZERO:
            return F.nan, NV
        return sbit | F.inf, 0
    if ca == _ZERO or cb == _ZERO:
        return sbit, 0
    return _round_pack(F, sign, ma * mb, ea + eb, rm)


def _normalize(F, m, e):
    """Scale a finite significand to exactly F.p bits, keeping m * 2**e."""
    shift = F.p - m.bit_length()
    return m << shift, e - shift


def _div_exact(F, a, b, rm):
    """a / b by the exact integer algorithm (quotient with a sticky bit)."""
    sa, ca, ma, ea = _decode(F, a)
    sb, cb, mb, eb = _decode(F, b)
    if ca >= _QNAN or cb >= _QNAN:
        return F.nan, _nan_flags(ca, cb)
    sign = sa ^ sb
    sbit = F.sign if sign else 0
    if ca == _INF:
        if cb == _INF:
            return F.nan, NV
        return sbit | F.inf, 0
    if cb == _INF:
        return sbit, 0
    if cb == _ZERO:
        if ca == _ZERO:
            return F.nan, NV
        return sbit | F.inf, DZ
    if ca == _ZERO:
        return sbit, 0
    ma, ea = _normalize(F, ma, ea)
    mb, eb = _normalize(F, mb, eb)
    extra = F.p + 2                  # quotient gets at least p + 2 bits
    quo, rem = divmod(ma << extra, mb)
    return _round_pack(F, sign, quo | (1 if rem else 0), ea - eb - extra, rm)


def _sqrt_exact(F, a, rm):
    """sqrt(a) by the exact integer algorithm (integer root with a sticky bit)."""
    sa, ca, ma, ea = _decode(F, a)
    if ca >= _QNAN:
        return F.nan, _nan_flags(ca)
    if ca == _ZERO:
        return a, 0
    if sa:
        return F.nan, NV
    if ca == _INF:
        return a, 0
    ma, ea = _normalize(F, ma, ea)
    extra = F.p + 4                  # root gets at least p + 2 bits
    if (ea - extra) & 1:
        extra += 1
    root = math.isqrt(ma << extra)
    sticky = 1 if root * root != ma << extra else 0
    return _round_pack(F, 0, root | sticky, (ea - extra) >> 1, rm)


def _fma_exact(F, a, b, c, rm):
    """a * b + c with a single rounding, by the exact integer algorithm."""
    sa, ca, ma, ea = _decode(F, a)
    sb, cb, mb, eb = _decode(F, b)
    sc, cc, mc, ec = _decode(F, c)
    inf_times_zero = ((ca == _INF and cb == _ZERO) or (ca == _ZERO and cb == _INF))
    if ca >= _QNAN or cb >= _QNAN or cc >= _QNAN:
        flags = _nan_flags(ca, cb, cc)
        return F.nan, flags | (NV if inf_times_zero else 0)
    if inf_times_zero:
        return F.nan, NV
    sp = sa ^ sb
    if ca == _INF or cb == _INF:
        if cc == _INF and sc != sp:
            return F.nan, NV
        return (F.sign if sp else 0) | F.inf, 0
    if cc == _INF:
        return c, 0
    if ca == _ZERO or cb == _ZERO:
        if cc == _ZERO:
            return _exact_zero_sum(F, sp, sc, rm), 0
        return c, 0
    if cc == _ZERO:
        return _round_pack(F, sp, ma * mb, ea + eb, rm)
    return _add_finite(F, sp, ma * mb, ea + eb, sc, mc, ec, rm)


# ---------------------------------------------------------------------------
# Arithmetic: public entry points with fast paths
# ---------------------------------------------------------------------------

def _add_fast64(a, b):
    """a + b in binary64 RNE for normal operands via host floats; None if unsure.

    NX comes from TwoSum (Knuth), whose error term is exactly a + b - s when
    nothing overflows, which the operand exponent window guarantees.
    """
    ea = (a >> 52) & 0x7FF
    eb = (b >> 52) & 0x7FF
    if not (_F64_OP_EXP_LO <= ea <= _F64_OP_EXP_HI and _F64_OP_EXP_LO <= eb <= _F64_OP_EXP_HI):
        return None
    x = _unpack_d(_pack_q(a))[0]
    y = _unpack_d(_pack_q(b))[0]
    s = x + y
    if not _F64_FAST_LO <= abs(s) <= _F64_FAST_HI:
        return None
    bv = s - x
    err = (x - (s - bv)) + (y - bv)
    return _unpack_q(_pack_d(s))[0], (NX if err else 0)


def _add_fast32(a, b):
    """a + b in binary32 RNE for normal operands via host floats; None if unsure.

    Rounding the binary64 sum to binary32 is innocuous double rounding
    (53 >= 2*24 + 2).  The result is exact iff the binary64 sum is exact
    (TwoSum error 0) and is itself a binary32 number.
    """
    if not (0x00800000 <= (a & 0x7FFFFFFF) < 0x7F800000
            and 0x00800000 <= (b & 0x7FFFFFFF) < 0x7F800000):
        return None
    x = _unpack_f(_pack_i(a))[0]
    y = _unpack_f(_pack_i(b))[0]
    s = x + y
    if not _F32_FAST_LO <= abs(s) <= _F32_FAST_HI:
        return None
    packed = _pack_f(s)
    bv = s - x
    err = (x - (s - bv)) + (y - bv)
    return _unpack_i(packed)[0], (NX if err or _unpack_f(packed)[0] != s else 0)


def add(fmt, a, b, rm):
    """a + b rounded with rm; returns (bits, flags)."""
    if rm == RNE:
        fast = _add_fast64(a, b) if fmt == 64 else _add_fast32(a, b)
        if fast is not None:
            return fast
    return _add_exact(_FORMATS[fmt], a, b, rm)


def sub(fmt, a, b, rm):
    """a - b rounded with rm; returns (bits, flags).  Computed as a + (-b)."""
    return add(fmt, a, b ^ _FORMATS[fmt].sign, rm)


def _mul_fast64(a, b):
    """a * b in binary64 RNE for normal operands via host floats; None if unsure.

    NX is decided with integers: the product of the two 53-bit significands is
    exact iff it has no set bits below its top 53.
    """
    ea = (a >> 52) & 0x7FF
    eb = (b >> 52) & 0x7FF
    if not (ea and eb and ea != 0x7FF and eb != 0x7FF):
        return None
    s = _unpack_d(_pack_q(a))[0] * _unpack_d(_pack_q(b))[0]
    if not _F64_FAST_LO <= abs(s) <= _F64_FAST_HI:
        return None
    prod = ((a & _F64_FRAC) | _F64_HIDDEN) * ((b & _F64_FRAC) | _F64_HIDDEN)
    low = prod & ((1 << (prod.bit_length() - 53)) - 1)
    return _unpack_q(_pack_d(s))[0], (NX if low else 0)


def _mul_fast32(a, b):
    """a * b in binary32 RNE for normal operands via host floats; None if unsure.

    The binary64 product of two binary32 numbers is exact (48 bits), so the
    result is exact iff rounding it to binary32 changes nothing.
    """
    if not (0x00800000 <= (a & 0x7FFFFFFF) < 0x7F800000
            and 0x00800000 <= (b & 0x7FFFFFFF) < 0x7F800000):
        return None
    s = _unpack_f(_pack_i(a))[0] * _unpack_f(_pack_i(b))[0]
    if not _F32_FAST_LO <= abs(s) <= _F32_FAST_HI:
        return None
    packed = _pack_f(s)
    return _unpack_i(packed)[0], (NX if _unpack_f(packed)[0] != s else 0)


def mul(fmt, a, b, rm):
    """a * b rounded with rm; returns (bits, flags)."""
    if rm == RNE:
        fast = _mul_fast64(a, b) if fmt == 64 else _mul_fast32(a, b)
        if fast is not None:
            return fast
    return _mul_exact(_FORMATS[fmt], a, b, rm)


def _div_fast64(a, b):
    """a / b in binary64 RNE for normal operands via host floats; None if unsure.

    NX is decided with integers: the quotient q is exact iff
    sig(q) * sig(b) == sig(a) * 2**k for the k that matches the exponents.
    """
    ea = (a >> 52) & 0x7FF
    eb = (b >> 52) & 0x7FF
    if not (ea and eb and ea != 0x7FF and eb != 0x7FF):
        return None
    q = _unpack_d(_pack_q(a))[0] / _unpack_d(_pack_q(b))[0]
    if not _F64_FAST_LO <= abs(q) <= _F64_FAST_HI:
        return None
    bits = _unpack_q(_pack_d(q))[0]
    eq = (bits >> 52) & 0x7FF
    lhs = ((bits & _F64_FRAC) | _F64_HIDDEN) * ((b & _F64_FRAC) | _F64_HIDDEN)
    rhs = ((a & _F64_FRAC) | _F64_HIDDEN) << (ea - eb - eq + 1075)
    return bits, (0 if lhs == rhs else NX)


def _div_fast32(a, b):
    """a / b in binary32 RNE for normal operands via host floats; None if unsure.

    Double rounding through binary64 is innocuous for division (53 >= 2*24 + 2);
    the binary32 result r is exact iff r * b == a, a product that binary64
    holds exactly.
    """
    if not (0x00800000 <= (a & 0x7FFFFFFF) < 0x7F800000
            and 0x00800000 <= (b & 0x7FFFFFFF) < 0x7F800000):
        return None
    x = _unpack_f(_pack_i(a))[0]
    y = _unpack_f(_pack_i(b))[0]
    q = x / y
    if not _F32_FAST_LO <= abs(q) <= _F32_FAST_HI:
        return None
    packed = _pack_f(q)
    return _unpack_i(packed)[0], (0 if _unpack_f(packed)[0] * y == x else NX)


def div(fmt, a, b, rm):
    """a / b rounded with rm; returns (bits, flags)."""
    if rm == RNE:
        fast = _div_fast64(a, b) if fmt == 64 else _div_fast32(a, b)
        if fast is not None:
            return fast
    return _div_exact(_FORMATS[fmt], a, b, rm)


def _sqrt_fast(fmt, a):
    """sqrt(a) in RNE for a positive normal a via host math.sqrt; None if unsure.

    math.sqrt is correctly rounded (IEEE 754 requires it of the C library's
    sqrt); for binary32, double rounding through binary64 is innocuous.  The
    root of a normal number is normal, and r is exact iff r * r == a, checked
    with integers for binary64 and in binary64 (exactly) for binary32.
    """
    if fmt == 64:
        if not 0x0010000000000000 <= a < 0x7FF0000000000000:
            return None
        bits = _unpack_q(_pack_d(math.sqrt(_unpack_d(_pack_q(a))[0])))[0]
        sig = (bits & _F64_FRAC) | _F64_HIDDEN
        # r * r == a  <=>  sig_r**2 == sig_a << (Ea + 1075 - 2*Er), a shift of 52 or 53
        shift = ((a >> 52) & 0x7FF) + 1075 - 2 * ((bits >> 52) & 0x7FF)
        exact = sig * sig == ((a & _F64_FRAC) | _F64_HIDDEN) << shift
        return bits, (0 if exact else NX)
    if not 0x00800000 <= a < 0x7F800000:
        return None
    x = _unpack_f(_pack_i(a))[0]
    packed = _pack_f(math.sqrt(x))
    r = _unpack_f(packed)[0]
    return _unpack_i(packed)[0], (0 if r * r == x else NX)


def sqrt(fmt, a, rm):
    """Square root of a rounded with rm; returns (bits, flags)."""
    if rm == RNE:
        fast = _sqrt_fast(fmt, a)
        if fast is not None:
            return fast
    return _sqrt_exact(_FORMATS[fmt], a, rm)


def fma(fmt, a, b, c, rm):
    """a * b + c with a single rounding (rm); returns (bits, flags).

    As RISC-V requires, inf * 0 raises NV even when c is a quiet NaN.
    """
    return _fma_exact(_FORMATS[fmt], a, b, c, rm)


# ---------------------------------------------------------------------------
# Comparisons, min/max, classification
# ---------------------------------------------------------------------------

def _order_key(F, a):
    """Integer that orders non-NaN values like their real values (+0 == -0)."""
    mag = a & F.mag_mask
    return -mag if a & F.sign else mag


def _nan_compare_flags(F, a, b, signaling):
    """Flags of a comparison in which a or b is a NaN."""
    if signaling or is_snan(F.width, a) or is_snan(F.width, b):
        return NV
    return 0


def eq(fmt, a, b):
    """Quiet equality a == b; returns (0 or 1, flags); NV only for sNaN inputs."""
    F = _FORMATS[fmt]
    if (a & F.mag_mask) > F.inf or (b & F.mag_mask) > F.inf:
        return 0, _nan_compare_flags(F, a, b, False)
    return int(_order_key(F, a) == _order_key(F, b)), 0


def lt(fmt, a, b):
    """Signaling a < b; returns (0 or 1, flags); NV for any NaN input."""
    F = _FORMATS[fmt]
    if (a & F.mag_mask) > F.inf or (b & F.mag_mask) > F.inf:
        return 0, NV
    return int(_order_key(F, a) < _order_key(F, b)), 0


def le(fmt, a, b):
    """Signaling a <= b; returns (0 or 1, flags); NV for any NaN input."""
    F = _FORMATS[fmt]
    if (a & F.mag_mask) > F.inf or (b & F.mag_mask) > F.inf:
        return 0, NV
    return int(_order_key(F, a) <= _order_key(F, b)), 0


def _total_key(F, a):
    """Integer that orders non-NaN values with -0 below +0."""
    key = 2 * _order_key(F, a)
    return key - 1 if a == F.sign else key


def _min_max(F, a, b, pick_max):
    """Shared body of min and max (IEEE 754-2019 minimumNumber/maximumNumber)."""
    a_nan = (a & F.mag_mask) > F.inf
    b_nan = (b & F.mag_mask) > F.inf
    if a_nan or b_nan:
        flags = _nan_compare_flags(F, a, b, False)
        if a_nan and b_nan:
            return F.nan, flags
        return (b if a_nan else a), flags
    a_greater = _total_key(F, a) > _total_key(F, b)
    return (a if a_greater == pick_max else b), 0


def min(fmt, a, b):
    """RISC-V fmin: the smaller of a and b (-0 < +0, a single NaN is ignored)."""
    return _min_max(_FORMATS[fmt], a, b, False)


def max(fmt, a, b):
    """RISC-V fmax: the larger of a and b (-0 < +0, a single NaN is ignored)."""
    return _min_max(_FORMATS[fmt], a, b, True)


def classify(fmt, a):
    """RISC-V fclass mask of a (one of bits 0..9 set)."""
    F = _FORMATS[fmt]
    sign, cls, m, _ = _decode(F, a)
    if cls == _SNAN:
        return 1 << 8
    if cls == _QNAN:
        return 1 << 9
    if cls == _INF:
        return 1 if sign else 1 << 7
    if cls == _ZERO:
        return 1 << 3 if sign else 1 << 4
    if m < F.hidden:
        return 1 << 2 if sign else 1 << 5
    return 1 << 1 if sign else 1 << 6


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------

def _int_range(width, signed):
    """(lowest, highest) value of a width-bit integer type."""
    if signed:
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


def to_int(fmt, a, width, signed, rm):
    """Convert a to a width-bit (un)signed integer with rm; saturating.

    Returns (bit pattern masked to width bits, flags).  Out-of-range values and
    infinities saturate with NV only; NaN gives 0 with NV; an in-range inexact
    result raises NX.
    """
    F = _FORMATS[fmt]
    lo, hi = _int_range(width, signed)
    sign, cls, m, e = _decode(F, a)
    if cls >= _QNAN:
        return 0, NV
    if cls == _INF:
        return (lo if sign else hi) & ((1 << width) - 1), NV
    if cls == _ZERO:
        return 0, 0
    if e >= 0:
        if e > width:                    # |a| >= 2**width: certainly out of range
            return (lo if sign else hi) & ((1 << width) - 1), NV
        mag, inexact = m << e, False
    else:
        mag, inexact = _round_shift(m, -e, rm, sign)
    value = -mag if sign else mag
    if value < lo or value > hi:
        return (lo if sign else hi) & ((1 << width) - 1), NV
    return value & ((1 << width) - 1), (NX if inexact else 0)


def from_int(fmt, value, width, signed, rm):
    """Convert the width-bit integer pattern value ((un)signed) to fmt with rm."""
    value &= (1 << width) - 1
    if signed and value >> (width - 1):
        value -= 1 << width
    if not value:
        return 0, 0
    F = _FORMATS[fmt]
    if value < 0:
        return _round_pack(F, 1, -value, 0, rm)
    return _round_pack(F, 0, value, 0, rm)


def convert(from_fmt, to_fmt, a, rm):
    """Convert a from from_fmt to to_fmt (binary32 <-> binary64) with rm."""
    F = _FORMATS[from_fmt]
    G = _FORMATS[to_fmt]
    sign, cls, m, e = _decode(F, a)
    if cls >= _QNAN:
        return G.nan, _nan_flags(cls)
    sbit = G.sign if sign else 0
    if cls == _INF:
        return sbit | G.inf, 0
    if cls == _ZERO:
        return sbit, 0
    return _round_pack(G, sign, m, e, rm)


def round_to_integral(fmt, a, rm, exact):
    """Round a to an integral value in fmt with rm (FRINT*, fround/froundnx).

    NaN gives the canonical NaN (NV for sNaN); infinities and zeros are
    returned unchanged; a zero result keeps the sign of a.  If ``exact`` is
    true, NX is raised when the value changed.
    """
    F = _FORMATS[fmt]
    sign, cls, m, e = _decode(F, a)
    if cls >= _QNAN:
        return F.nan, _nan_flags(cls)
    if cls != _FINITE or e >= 0:
        return a, 0
    mag, inexact = _round_shift(m, -e, rm, sign)
    flags = NX if inexact and exact else 0
    if not mag:
        return (F.sign if sign else 0), flags
    bits, _ = _round_pack(F, sign, mag, 0, rm)
    return bits, flags

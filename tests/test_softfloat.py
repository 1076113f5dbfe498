"""dbt.softfloat checked bit for bit against a RISC-V 64 CPU emulated by Unicorn.

Each case runs a tiny hand-assembled RISC-V sequence (operands moved from
integer registers with fmv.d.x, frm set with fsrm, fflags cleared, the
operation, the result moved back, fflags read) and compares result bits and
flags with softfloat.  round_to_integral has no RV64GC instruction and is
checked against an independent computation with fractions.Fraction.

Random cases use fixed seeds, so a failure reproduces.  On a mismatch the
message names the operation, the operands in hex, the rounding mode and both
results with their flags.
"""

import math
import random
import struct
from fractions import Fraction

import pytest

import dbt.softfloat as sf

unicorn = pytest.importorskip("unicorn")
from unicorn import riscv_const as rv  # noqa: E402

RM_NAMES = {sf.RNE: "RNE", sf.RTZ: "RTZ", sf.RDN: "RDN", sf.RUP: "RUP", sf.RMM: "RMM"}
ALL_RM = list(RM_NAMES)
FMTS = (32, 64)
RANDOM_CASES = 3000          # random operand tuples per (operation, format)

# ---------------------------------------------------------------------------
# RISC-V encodings (RISC-V unprivileged spec, chapter "RV32/64G Instruction
# Set Listings"): OP-FP is R-type with opcode 0x53, funct7 = funct5 << 2 | fmt.
# ---------------------------------------------------------------------------

OP_FP = 0x53
OP_FMADD, OP_FMSUB, OP_FNMSUB, OP_FNMADD = 0x43, 0x47, 0x4B, 0x4F
OP_SYSTEM = 0x73
FMT_BITS = {32: 0, 64: 1}
RM_DYN = 7
CSR_FFLAGS, CSR_FRM = 0x001, 0x002
F5 = {
    "add": 0x00, "sub": 0x01, "mul": 0x02, "div": 0x03, "sqrt": 0x0B,
    "minmax": 0x05, "cvt_ff": 0x08, "cmp": 0x14, "cvt_if": 0x18,
    "cvt_fi": 0x1A, "mvx_class": 0x1C, "mv_from_x": 0x1E,
}
INT_CONV = {(32, True): 0, (32, False): 1, (64, True): 2, (64, False): 3}


def r_type(funct5, fmt, rs2, rs1, rm, rd):
    """Encode an OP-FP R-type instruction."""
    return ((funct5 << 2 | FMT_BITS[fmt]) << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | OP_FP


def r4_type(opcode, fmt, rs3, rs2, rs1, rm, rd):
    """Encode an R4-type fused multiply-add instruction."""
    return (rs3 << 27) | (FMT_BITS[fmt] << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | opcode


def csr_insn(csr, rs1, funct3, rd):
    """Encode a Zicsr instruction (funct3 1 csrrw, 2 csrrs, 5 csrrwi)."""
    return (csr << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | OP_SYSTEM


def fmv_d_x(fd, rs1):
    """fmv.d.x fd, rs1 (moves all 64 bits, so binary32 operands come pre-boxed)."""
    return r_type(F5["mv_from_x"], 64, 0, rs1, 0, fd)


def fmv_x_d(rd, fs1):
    """fmv.x.d rd, fs1 (all 64 bits, so the NaN boxing of binary32 results is visible)."""
    return r_type(F5["mvx_class"], 64, 0, fs1, 0, rd)


# ---------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------

class RiscvOracle:
    """Runs single FP instructions on Unicorn's RV64 CPU.

    Operands go in x11..x13, the rounding mode in x14; the instruction reads
    f1..f3 (or x11) and writes f10 (or x10).  Each distinct instruction gets
    its own code page, written once, so no translated block goes stale.
    """

    CODE_BASE = 0x100000
    PAGE = 0x1000

    def __init__(self):
        self.uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
        mstatus = self.uc.reg_read(rv.UC_RISCV_REG_MSTATUS)
        self.uc.reg_write(rv.UC_RISCV_REG_MSTATUS, mstatus | (3 << 13))   # FS = dirty
        self.pages = {}

    def _program(self, insn, f_inputs, f_result):
        """Address and end of the code page that runs insn; built on first use."""
        key = (insn, f_inputs, f_result)
        if key not in self.pages:
            words = [fmv_d_x(1 + i, 11 + i) for i in range(f_inputs)]
            words += [csr_insn(CSR_FRM, 14, 1, 0), csr_insn(CSR_FFLAGS, 0, 5, 0), insn]
            if f_result:
                words.append(fmv_x_d(10, 10))
            words.append(csr_insn(CSR_FFLAGS, 0, 2, 15))
            addr = self.CODE_BASE + len(self.pages) * self.PAGE
            self.uc.mem_map(addr, self.PAGE)
            self.uc.mem_write(addr, b"".join(struct.pack("<I", w) for w in words))
            self.pages[key] = (addr, addr + 4 * len(words))
        return self.pages[key]

    def run(self, insn, operands, rm, f_inputs, f_result):
        """Execute insn on the operands (64-bit register values); return (x10, fflags)."""
        start, end = self._program(insn, f_inputs, f_result)
        for i, value in enumerate(operands):
            self.uc.reg_write(rv.UC_RISCV_REG_X11 + i, value)
        self.uc.reg_write(rv.UC_RISCV_REG_X14, rm)
        self.uc.emu_start(start, end)
        return self.uc.reg_read(rv.UC_RISCV_REG_X10), self.uc.reg_read(rv.UC_RISCV_REG_X15)


@pytest.fixture(scope="module")
def oracle():
    return RiscvOracle()


def box(fmt, bits):
    """Register image of an fmt value: binary32 is NaN-boxed (upper 32 bits set)."""
    return bits | 0xFFFFFFFF00000000 if fmt == 32 else bits


def unbox(fmt, reg):
    """fmt value of a register image holding a binary32 or binary64 result.

    The spec NaN-boxes binary32 results (upper 32 bits all ones), but Unicorn
    2.1.4 is built on QEMU 5.0, which predates NaN-boxing and leaves the upper
    half zero; either is accepted, anything else is an oracle error.
    """
    if fmt == 32:
        assert reg >> 32 in (0, 0xFFFFFFFF), f"binary32 result with garbage upper half: {reg:#018x}"
        return reg & 0xFFFFFFFF
    return reg


class Mismatches:
    """Collects mismatching cases and fails with a readable report."""

    def __init__(self, title):
        self.title = title
        self.lines = []
        self.count = 0

    def check(self, op, operands, rm, expected, actual, digits):
        """Record a mismatch between expected (oracle) and actual (softfloat)."""
        self.count += 1
        if expected != actual:
            ops = ", ".join(f"{x:#0{digits + 2}x}" for x in operands)
            rm_name = RM_NAMES.get(rm, rm)
            self.lines.append(
                f"{op}({ops}) rm={rm_name}: expected {expected[0]:#x} flags {expected[1]:#04x}, "
                f"softfloat {actual[0]:#x} flags {actual[1]:#04x}")

    def assert_none(self):
        """Fail listing the first mismatches, if any."""
        shown = "\n".join(self.lines[:25])
        assert not self.lines, (
            f"{self.title}: {len(self.lines)} of {self.count} cases mismatch\n{shown}")


# ---------------------------------------------------------------------------
# Operand generation
# ---------------------------------------------------------------------------

class Fmt:
    """Field layout of a format, for building test operands."""

    def __init__(self, fmt):
        self.fmt = fmt
        self.mbits = 23 if fmt == 32 else 52
        self.emax_field = 0xFE if fmt == 32 else 0x7FE
        self.sign = 1 << (fmt - 1)
        self.inf = (self.emax_field + 1) << self.mbits
        self.digits = fmt // 4

    def make(self, sign, exp_field, frac):
        """Bits from sign, biased exponent and fraction."""
        return (self.sign if sign else 0) | (exp_field << self.mbits) | (frac & ((1 << self.mbits) - 1))

    def from_float(self, x):
        """Bits of a Python float (rounded to nearest for binary32)."""
        if self.fmt == 64:
            return struct.unpack("<Q", struct.pack("<d", x))[0]
        return struct.unpack("<I", struct.pack("<f", x))[0]

    def specials(self):
        """Zeros, infinities, NaNs with payloads, extreme normals and subnormals, and 1.0."""
        m = self.mbits
        one = self.from_float(1.0)
        mags = [
            0, 1, 2, 3, (1 << m) - 1, 1 << (m - 1),          # zero, subnormals
            1 << m, (1 << m) | 1, (2 << m) - 1,               # smallest normals
            self.inf - 1, self.inf - 2,                       # largest normals
            one, one + 1, one - 1, self.from_float(1.5), self.from_float(3.0),
            self.from_float(0.5), self.from_float(2.0) - 1,
            self.inf,
            self.inf | 1 << (m - 1),                          # canonical qNaN
            self.inf | 1 << (m - 1) | 0x2A,                   # qNaN with payload
            self.inf | 1,                                     # sNaN
            self.inf | 0x15,                                  # sNaN with payload
        ]
        return [sign | x for x in mags for sign in (0, self.sign)]

    def few_specials(self):
        """A smaller special set for three-operand operations."""
        m = self.mbits
        one = self.from_float(1.0)
        mags = [0, 1, (1 << m) - 1, 1 << m, self.inf - 1, one, self.from_float(1.5),
                self.inf, self.inf | 1 << (m - 1), self.inf | 0x15]
        return [sign | x for x in mags for sign in (0, self.sign)]

    def random_bits(self, rng):
        """Any bit pattern."""
        return rng.getrandbits(self.fmt)

    def random_normal(self, rng, exp_field=None):
        """A random normal number, optionally with a given biased exponent."""
        if exp_field is None:
            exp_field = rng.randint(1, self.emax_field)
        exp_field = max(1, min(self.emax_field, exp_field))
        frac = rng.getrandbits(self.mbits)
        if rng.random() < 0.25:                           # few significant bits: exact results
            frac &= ~((1 << rng.randint(0, self.mbits)) - 1)
        return self.make(rng.getrandbits(1), exp_field, frac)

    def random_subnormal(self, rng):
        """A random nonzero subnormal."""
        return self.make(rng.getrandbits(1), 0, rng.randint(1, (1 << self.mbits) - 1))

    def exp_field(self, bits):
        """Biased exponent of bits."""
        return (bits >> self.mbits) & (self.emax_field + 1)

    def nearby(self, rng, a):
        """A normal number whose exponent is within a few precisions of a's."""
        p = self.mbits + 1
        return self.random_normal(rng, self.exp_field(a) + rng.randint(-p - 3, p + 3))

    def cancelling(self, rng, a):
        """-a moved by a few ulps, for massive cancellation."""
        return (a ^ self.sign) + rng.randint(-3, 3) if a & (self.inf - 1) > 4 else a ^ self.sign

    def random_operand(self, rng, ref=None):
        """A mix of random patterns, normals near ref, subnormals and edge exponents."""
        u = rng.random()
        if u < 0.25:
            return self.random_bits(rng)
        if u < 0.6 and ref is not None:
            return self.nearby(rng, ref)
        if u < 0.7 and ref is not None:
            return self.cancelling(rng, ref)
        if u < 0.8:
            return self.random_subnormal(rng)
        if u < 0.9:                                       # near the ends of the exponent range
            p = self.mbits + 1
            edge = rng.choice([rng.randint(1, p + 2), rng.randint(self.emax_field - p - 2, self.emax_field),
                               rng.randint(self.emax_field // 2 - p, self.emax_field // 2 + p)])
            return self.random_normal(rng, edge)
        return self.random_normal(rng)


def rng_for(*key):
    """A deterministic generator per test."""
    return random.Random("softfloat-" + "-".join(map(str, key)))


def halfway_pairs(F, rng):
    """Operand pairs whose exact sum or product lies halfway between neighbours."""
    pairs = []
    half_ulp_exp = F.mbits + 1                               # ulp(1)/2 = 2**-(p)
    for _ in range(40):
        a = F.random_normal(rng, rng.randint(F.mbits + 3, F.emax_field - 2))
        e = F.exp_field(a) - half_ulp_exp
        pairs.append((a, F.make(rng.getrandbits(1), e, 0)))                  # a +- ulp/2
        pairs.append((a, F.make(rng.getrandbits(1), e + 1, 1 << (F.mbits - 1))))  # a +- 3ulp/2
        pairs.append((a, F.from_float(rng.choice([1.5, 0.75, 1.25, 3.0, 5.0, -1.5]))))  # products
        sub = F.random_subnormal(rng)
        pairs.append((sub, F.from_float(rng.choice([0.5, 0.25, 1.5, 0.375]))))  # subnormal ties
    one = F.from_float(1.0)
    for k in range(4):                       # results just below 2**emin: tininess after rounding
        for factor in (one - 1, one - 2, one + 1, one + 2, F.from_float(0.5) + k):
            for sign in (0, F.sign):
                pairs.append(((1 << F.mbits) + k | sign, factor))
    return pairs


# ---------------------------------------------------------------------------
# Comparison drivers
# ---------------------------------------------------------------------------

def run_binary(oracle, name, fmt, cases, softfn, insn_for, exact_fn=None):
    """Compare a two-operand FP->FP operation over cases x all rounding modes."""
    F = Fmt(fmt)
    report = Mismatches(f"{name} binary{fmt}")
    for a, b in cases:
        for rm in ALL_RM:
            reg, flags = oracle.run(insn_for(rm), [box(fmt, a), box(fmt, b)], rm, 2, True)
            expected = (unbox(fmt, reg), flags)
            report.check(name, (a, b), rm, expected, softfn(fmt, a, b, rm), F.digits)
            if exact_fn is not None and rm == sf.RNE:
                report.check(name + "[exact path]", (a, b), rm, expected, exact_fn(a, b), F.digits)
    report.assert_none()
    return report.count


def binary_cases(F, rng, n=RANDOM_CASES):
    """Special x special, halfway pairs and n random pairs."""
    specials = F.specials()
    cases = [(a, b) for a in specials for b in specials]
    cases += halfway_pairs(F, rng)
    for _ in range(n):
        a = F.random_operand(rng)
        cases.append((a, F.random_operand(rng, a)))
    return cases


ARITH = {
    "add": (sf.add, sf._add_exact),
    "sub": (sf.sub, None),
    "mul": (sf.mul, sf._mul_exact),
    "div": (sf.div, sf._div_exact),
}


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("name", list(ARITH))
def test_arith(oracle, name, fmt):
    softfn, exact = ARITH[name]
    F = Fmt(fmt)
    fmt_desc = sf._FORMATS[fmt]
    exact_fn = (lambda a, b: exact(fmt_desc, a, b, sf.RNE)) if exact else None
    cases = binary_cases(F, rng_for(name, fmt))
    run_binary(oracle, name, fmt, cases, softfn,
               lambda rm: r_type(F5[name], fmt, 2, 1, RM_DYN, 10), exact_fn)


@pytest.mark.parametrize("fmt", FMTS)
def test_static_rounding_mode_field(oracle, fmt):
    """The rm field of the instruction, rather than frm, selects the mode."""
    F = Fmt(fmt)
    rng = rng_for("static", fmt)
    cases = [(F.random_normal(rng), F.random_normal(rng)) for _ in range(300)]
    for name in ("add", "mul", "div"):
        # frm (x14) is set to a different mode than the static field, to prove the field wins
        report = Mismatches(f"{name} binary{fmt} static rm")
        for a, b in cases:
            for rm in ALL_RM:
                insn = r_type(F5[name], fmt, 2, 1, rm, 10)
                reg, flags = oracle.run(insn, [box(fmt, a), box(fmt, b)], (rm + 1) % 5, 2, True)
                report.check(name, (a, b), rm, (unbox(fmt, reg), flags),
                             ARITH[name][0](fmt, a, b, rm), F.digits)
        report.assert_none()


@pytest.mark.parametrize("fmt", FMTS)
def test_sqrt(oracle, fmt):
    F = Fmt(fmt)
    rng = rng_for("sqrt", fmt)
    fmt_desc = sf._FORMATS[fmt]
    operands = F.specials() + [F.random_operand(rng) for _ in range(RANDOM_CASES)]
    operands += [F.from_float(float(k * k)) for k in range(1, 60)]          # exact roots
    operands += [F.random_normal(rng) & ~F.sign for _ in range(RANDOM_CASES // 2)]
    report = Mismatches(f"sqrt binary{fmt}")
    for a in operands:
        for rm in ALL_RM:
            reg, flags = oracle.run(r_type(F5["sqrt"], fmt, 0, 1, RM_DYN, 10), [box(fmt, a)], rm, 1, True)
            expected = (unbox(fmt, reg), flags)
            report.check("sqrt", (a,), rm, expected, sf.sqrt(fmt, a, rm), F.digits)
            if rm == sf.RNE:
                report.check("sqrt[exact path]", (a,), rm, expected,
                             sf._sqrt_exact(fmt_desc, a, rm), F.digits)
    report.assert_none()


def is_inf_times_zero(fmt, a, b):
    """True if {a, b} is {infinity, zero} in either order and sign."""
    return ((sf.is_inf(fmt, a) and sf.is_zero(fmt, b))
            or (sf.is_zero(fmt, a) and sf.is_inf(fmt, b)))


FMA_OPS = {
    # opcode: how the frontend maps it onto fma by flipping input signs
    OP_FMADD: ("fmadd", False, False),
    OP_FMSUB: ("fmsub", False, True),
    OP_FNMSUB: ("fnmsub", True, False),
    OP_FNMADD: ("fnmadd", True, True),
}


def fma_cases(F, rng, n):
    """Special triples and random triples with c near a*b so cancellation happens."""
    few = F.few_specials()
    cases = [(a, b, c) for a in few for b in few for c in few[::2]]
    cases += [(a, b, c) for a in few for b in few for c in few[1::4]]
    for _ in range(n):
        a = F.random_operand(rng)
        b = F.random_operand(rng, a)
        if rng.random() < 0.5:
            prod, _ = sf.mul(F.fmt, a, b, sf.RNE)
            c = F.cancelling(rng, prod) if rng.random() < 0.6 else F.random_operand(rng, prod)
        else:
            c = F.random_operand(rng, a)
        cases.append((a, b, c))
    return cases


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("opcode", list(FMA_OPS))
def test_fma(oracle, fmt, opcode):
    """fmadd/fmsub/fnmsub/fnmadd as fma with flipped input signs.

    The RISC-V F spec requires NV for inf * 0 even when the addend is a quiet
    NaN; Unicorn 2.1.4 (QEMU 5.0) returns the canonical NaN without NV there,
    so for exactly that case the spec's (canonical NaN, NV) is asserted.
    """
    name, negate_product, negate_c = FMA_OPS[opcode]
    F = Fmt(fmt)
    rng = rng_for(name, fmt)
    n = RANDOM_CASES if opcode == OP_FMADD else RANDOM_CASES // 6
    cases = fma_cases(F, rng, n)
    if opcode != OP_FMADD:
        cases = cases[::4]
    report = Mismatches(f"{name} binary{fmt}")
    insn = r4_type(opcode, fmt, 3, 2, 1, RM_DYN, 10)
    for a, b, c in cases:
        for rm in ALL_RM:
            reg, flags = oracle.run(insn, [box(fmt, a), box(fmt, b), box(fmt, c)], rm, 3, True)
            if is_inf_times_zero(fmt, a, b) and sf.is_qnan(fmt, c):
                reg, flags = sf.canonical_nan(fmt), flags | sf.NV
            actual = sf.fma(fmt, a ^ (F.sign if negate_product else 0), b,
                            c ^ (F.sign if negate_c else 0), rm)
            report.check(name, (a, b, c), rm, (unbox(fmt, reg), flags), actual, F.digits)
    report.assert_none()


def compare_cases(F, rng):
    """Specials crossed, equal pairs and random pairs for comparisons and min/max."""
    specials = F.specials()
    cases = [(a, b) for a in specials for b in specials]
    for _ in range(RANDOM_CASES // 2):
        a = F.random_operand(rng)
        b = rng.choice([a, a ^ 1, a ^ F.sign, F.random_operand(rng, a)])
        cases.append((a, b))
    return cases


@pytest.mark.parametrize("fmt", FMTS)
def test_min_max(oracle, fmt):
    """fmin/fmax follow RISC-V F 2.2 (minimumNumber/maximumNumber).

    Unicorn 2.1.4 is built on QEMU 5.0, whose fmin/fmax use IEEE 754-2008
    minNum/maxNum: with one signaling NaN it returns the canonical NaN instead
    of the other operand.  For those cases the spec's result is asserted with
    Unicorn's flags (NV in both), and Unicorn is the oracle everywhere else.
    """
    F = Fmt(fmt)
    report = Mismatches(f"fmin/fmax binary{fmt}")
    for a, b in compare_cases(F, rng_for("minmax", fmt)):
        one_snan = (sf.is_snan(fmt, a) or sf.is_snan(fmt, b)) and not (
            sf.is_nan(fmt, a) and sf.is_nan(fmt, b))
        for funct3, name, fn in ((0, "min", sf.min), (1, "max", sf.max)):
            insn = r_type(F5["minmax"], fmt, 2, 1, funct3, 10)
            reg, flags = oracle.run(insn, [box(fmt, a), box(fmt, b)], 0, 2, True)
            expected = (unbox(fmt, reg), flags)
            if one_snan:
                expected = (b if sf.is_nan(fmt, a) else a, flags)
            report.check(name, (a, b), None, expected, fn(fmt, a, b), F.digits)
    report.assert_none()


@pytest.mark.parametrize("fmt", FMTS)
def test_compare(oracle, fmt):
    F = Fmt(fmt)
    report = Mismatches(f"compare binary{fmt}")
    for a, b in compare_cases(F, rng_for("cmp", fmt)):
        for funct3, name, fn in ((2, "eq", sf.eq), (1, "lt", sf.lt), (0, "le", sf.le)):
            insn = r_type(F5["cmp"], fmt, 2, 1, funct3, 10)
            expected = oracle.run(insn, [box(fmt, a), box(fmt, b)], 0, 2, False)
            report.check(name, (a, b), None, expected, fn(fmt, a, b), F.digits)
    report.assert_none()


@pytest.mark.parametrize("fmt", FMTS)
def test_classify(oracle, fmt):
    F = Fmt(fmt)
    rng = rng_for("class", fmt)
    report = Mismatches(f"classify binary{fmt}")
    insn = r_type(F5["mvx_class"], fmt, 0, 1, 1, 10)
    for a in F.specials() + [F.random_operand(rng) for _ in range(RANDOM_CASES // 3)]:
        reg, flags = oracle.run(insn, [box(fmt, a)], 0, 1, False)
        report.check("classify", (a,), None, (reg, flags), (sf.classify(fmt, a), 0), F.digits)
    report.assert_none()


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------

def to_int_operands(F, rng):
    """Specials, values around 2**31, 2**32, 2**63, 2**64, halves, and random values."""
    values = list(F.specials())
    floats = [0.5, 1.5, 2.5, 0.9, 0.3, 1.0, 3.5, 4.5, 0.49999999999999994]
    for k in (31, 32, 63, 64):
        big = 2.0 ** k
        floats += [big, big - 0.5, big + 0.5, big - 1, big + 1, big - 1.5]
    for x in floats:
        for v in (x, -x):
            bits = F.from_float(v)
            values += [bits, bits + 1, bits - 1, bits + 2, bits - 2]
    p = F.mbits + 1
    for _ in range(RANDOM_CASES // 2):
        values.append(F.random_normal(rng, F.exp_field(F.from_float(1.0)) + rng.randint(-3, 66)))
        if rng.random() < 0.3:
            values.append(F.random_normal(rng, F.exp_field(F.from_float(1.0)) + rng.randint(p - 3, p + 2)))
        values.append(F.random_operand(rng))
    return [v & ((1 << F.fmt) - 1) for v in values]


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("width,signed", list(INT_CONV))
def test_to_int(oracle, fmt, width, signed):
    """fcvt.{w,wu,l,lu}.{s,d}; softfloat gives 0 for NaN where RISC-V gives the maximum."""
    F = Fmt(fmt)
    rng = rng_for("to_int", fmt, width, signed)
    mask = (1 << width) - 1
    nan_result = ((1 << (width - 1)) - 1) if signed else mask
    insn = r_type(F5["cvt_if"], fmt, INT_CONV[(width, signed)], 1, RM_DYN, 10)
    name = f"to_int{width}{'s' if signed else 'u'}"
    report = Mismatches(f"{name} binary{fmt}")
    for a in to_int_operands(F, rng):
        for rm in ALL_RM:
            reg, flags = oracle.run(insn, [box(fmt, a)], rm, 1, False)
            result, sflags = sf.to_int(fmt, a, width, signed, rm)
            if sf.is_nan(fmt, a):
                assert (result, sflags) == (0, sf.NV), f"{name}({a:#x}) NaN -> {result:#x}, {sflags:#x}"
                result = nan_result
            report.check(name, (a,), rm, (reg & mask, flags), (result, sflags), F.digits)
    report.assert_none()


def from_int_operands(width, rng):
    """Extremes, values around 2**24, 2**53 and their halfway points, random ints."""
    values = [0, 1, 2, 3, (1 << width) - 1, 1 << (width - 1), (1 << (width - 1)) - 1, (1 << (width - 1)) + 1]
    for k in (23, 24, 25, 26, 30, 31, 52, 53, 54, 55, 62, 63):
        if k < width:
            for d in (-3, -2, -1, 0, 1, 2, 3):
                values += [(1 << k) + d, -((1 << k) + d)]
    for _ in range(RANDOM_CASES // 2):
        bits = rng.randint(1, width)
        v = rng.getrandbits(bits) | (1 << (bits - 1))
        if rng.random() < 0.5:                                   # clear low bits: ties and exact cases
            v &= ~((1 << rng.randint(0, bits)) - 1) | (1 << rng.randint(0, bits))
        values.append(-v if rng.getrandbits(1) else v)
    return [v & ((1 << width) - 1) for v in values]


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("width,signed", list(INT_CONV))
def test_from_int(oracle, fmt, width, signed):
    """fcvt.{s,d}.{w,wu,l,lu}."""
    F = Fmt(fmt)
    rng = rng_for("from_int", fmt, width, signed)
    insn = r_type(F5["cvt_fi"], fmt, INT_CONV[(width, signed)], 11, RM_DYN, 10)
    name = f"from_int{width}{'s' if signed else 'u'}"
    report = Mismatches(f"{name} binary{fmt}")
    for v in from_int_operands(width, rng):
        # RV64 keeps 32-bit values sign-extended in registers
        reg_value = v if width == 64 or v < 1 << 31 else v | 0xFFFFFFFF00000000
        for rm in ALL_RM:
            reg, flags = oracle.run(insn, [reg_value], rm, 0, True)
            report.check(name, (v,), rm, (unbox(fmt, reg), flags),
                         sf.from_int(fmt, v, width, signed, rm), width // 4)
    report.assert_none()


def narrowing_operands(rng):
    """binary64 values around the binary32 range ends, binary32 ties, and random values."""
    D = Fmt(64)
    values = list(D.specials())
    f32_edges = [2.0 ** 128, 2.0 ** 127 * (2 - 2.0 ** -23), 2.0 ** -126, 2.0 ** -149,
                 2.0 ** -150, 2.0 ** -126 * (1 - 2.0 ** -24), 1.0, 3.0 * 2.0 ** -151]
    for x in f32_edges:
        for v in (x, -x):
            bits = D.from_float(v)
            values += [bits + d for d in range(-3, 4)]
    for _ in range(RANDOM_CASES):
        u = rng.random()
        if u < 0.4:                                          # within or near binary32 range
            values.append(D.random_normal(rng, 1023 + rng.randint(-160, 135)))
        elif u < 0.6:                                        # exactly halfway between binary32 numbers
            f32 = rng.getrandbits(24) | 1 << 24
            exp = 1023 + rng.randint(-155, 130)
            values.append(D.make(rng.getrandbits(1), exp, f32 << 28))
        else:
            values.append(D.random_operand(rng))
    return values


def test_convert_narrow(oracle):
    """fcvt.s.d: rounds, with OF/UF/NX."""
    rng = rng_for("narrow")
    insn = r_type(F5["cvt_ff"], 32, 1, 1, RM_DYN, 10)
    report = Mismatches("convert binary64 -> binary32")
    for a in narrowing_operands(rng):
        for rm in ALL_RM:
            reg, flags = oracle.run(insn, [a], rm, 1, True)
            report.check("convert64to32", (a,), rm, (unbox(32, reg), flags),
                         sf.convert(64, 32, a, rm), 16)
    report.assert_none()


def test_convert_widen(oracle):
    """fcvt.d.s: exact, NaN -> canonical NaN, NV for sNaN."""
    S = Fmt(32)
    rng = rng_for("widen")
    insn = r_type(F5["cvt_ff"], 64, 0, 1, RM_DYN, 10)
    report = Mismatches("convert binary32 -> binary64")
    for a in S.specials() + [S.random_operand(rng) for _ in range(RANDOM_CASES)]:
        for rm in ALL_RM:
            reg, flags = oracle.run(insn, [box(32, a)], rm, 1, True)
            report.check("convert32to64", (a,), rm, (reg, flags), sf.convert(32, 64, a, rm), 8)
    report.assert_none()


# ---------------------------------------------------------------------------
# round_to_integral against fractions.Fraction
# ---------------------------------------------------------------------------

def value_of(fmt, bits):
    """Exact value of finite bits as a Fraction, via the host's float decoding."""
    if fmt == 64:
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
    else:
        x = struct.unpack("<f", struct.pack("<I", bits))[0]
    return Fraction(x), math.copysign(1.0, x) < 0


def reference_round(v, rm):
    """Round the Fraction v to an integer in mode rm, from first principles."""
    floor = v.numerator // v.denominator
    frac = v - floor
    if frac == 0:
        return floor
    if rm == sf.RTZ:
        return floor if v > 0 else floor + 1
    if rm == sf.RDN:
        return floor
    if rm == sf.RUP:
        return floor + 1
    if frac != Fraction(1, 2):
        return floor + (1 if frac > Fraction(1, 2) else 0)
    if rm == sf.RNE:
        return floor + (floor & 1)
    return floor + 1 if v > 0 else floor                     # RMM: away from zero


def reference_round_to_integral(fmt, bits, rm, exact):
    """round_to_integral computed independently with Fraction and host floats."""
    F = Fmt(fmt)
    mag = bits & (F.sign - 1)
    if mag > F.inf:
        return sf.canonical_nan(fmt), (sf.NV if not bits & (1 << (F.mbits - 1)) else 0)
    if mag == F.inf:
        return bits, 0
    v, negative = value_of(fmt, bits)
    n = reference_round(v, rm)
    result = F.from_float(math.copysign(float(n), -1.0 if negative else 1.0))
    return result, (sf.NX if exact and n != v else 0)


@pytest.mark.parametrize("fmt", FMTS)
def test_round_to_integral(fmt):
    F = Fmt(fmt)
    rng = rng_for("rint", fmt)
    values = list(F.specials())
    for x in (0.3, 0.5, 1.5, 2.5, 0.7, 1.0, 3.5, 2.0 ** F.mbits - 0.5, 2.0 ** F.mbits + 1):
        values += [F.from_float(x), F.from_float(-x)]
    one = F.exp_field(F.from_float(1.0))
    for _ in range(RANDOM_CASES):
        values.append(F.random_normal(rng, one + rng.randint(-3, F.mbits + 2)))
        values.append(F.random_operand(rng))
    report = Mismatches(f"round_to_integral binary{fmt}")
    for a in values:
        for rm in ALL_RM:
            for exact in (False, True):
                report.check(f"round_to_integral[exact={exact}]", (a,), rm,
                             reference_round_to_integral(fmt, a, rm, exact),
                             sf.round_to_integral(fmt, a, rm, exact), F.digits)
    report.assert_none()


# ---------------------------------------------------------------------------
# The checks can fail, and the helpers do what they say
# ---------------------------------------------------------------------------

def test_wrong_results_are_caught(oracle):
    """A softfloat that is off by one bit, or forgets a flag, fails the comparison."""
    F = Fmt(64)
    cases = binary_cases(F, rng_for("canary"), n=50)
    insn_for = lambda rm: r_type(F5["add"], 64, 2, 1, RM_DYN, 10)  # noqa: E731

    def wrong_bits(fmt, a, b, rm):
        r, f = sf.add(fmt, a, b, rm)
        return (r ^ 1, f) if (a, b) == cases[-1] else (r, f)

    def wrong_flags(fmt, a, b, rm):
        r, f = sf.add(fmt, a, b, rm)
        return r, f & ~sf.NX

    for bad in (wrong_bits, wrong_flags):
        with pytest.raises(AssertionError) as info:
            run_binary(oracle, "add", 64, cases, bad, insn_for)
        assert "expected 0x" in str(info.value) and "rm=" in str(info.value)
    assert run_binary(oracle, "add", 64, cases, sf.add, insn_for) == 5 * len(cases)


def test_reference_round_catches_wrong_result():
    """The Fraction reference disagrees with a deliberately wrong rounding."""
    one_and_half = Fmt(64).from_float(2.5)
    assert reference_round_to_integral(64, one_and_half, sf.RNE, True) == (Fmt(64).from_float(2.0), sf.NX)
    assert reference_round_to_integral(64, one_and_half, sf.RMM, True) != sf.round_to_integral(
        64, one_and_half, sf.RNE, True)


def test_helpers():
    assert sf.is_nan(64, 0x7FF0000000000001) and sf.is_snan(64, 0x7FF0000000000001)
    assert sf.is_qnan(32, 0xFFC00001) and not sf.is_snan(32, 0xFFC00001)
    assert sf.is_inf(32, 0xFF800000) and not sf.is_nan(32, 0xFF800000)
    assert sf.is_zero(64, 1 << 63) and sf.is_subnormal(32, 1) and not sf.is_subnormal(32, 0)
    assert sf.sign_bit(32, 0x80000000) == 1 and sf.canonical_nan(32) == 0x7FC00000
    assert sf.canonical_nan(64) == 0x7FF8000000000000
    assert sf.bits_to_float(64, sf.float_to_bits(64, 1.25)) == 1.25
    assert sf.float_to_bits(32, 1.0) == 0x3F800000
    assert (sf.NX, sf.UF, sf.OF, sf.DZ, sf.NV) == (1, 2, 4, 8, 16)
    assert (sf.RNE, sf.RTZ, sf.RDN, sf.RUP, sf.RMM) == (0, 1, 2, 3, 4)


def test_documented_edge_cases():
    """Cases the brief spells out, stated directly."""
    neg_point9 = Fmt(64).from_float(-0.9)
    assert sf.to_int(64, neg_point9, 32, False, sf.RTZ) == (0, sf.NX)
    assert sf.to_int(64, Fmt(64).from_float(-1.0), 32, False, sf.RTZ) == (0, sf.NV)
    assert sf.round_to_integral(64, Fmt(64).from_float(-0.3), sf.RNE, True) == (1 << 63, sf.NX)
    assert sf.round_to_integral(64, Fmt(64).from_float(-0.3), sf.RNE, False) == (1 << 63, 0)
    # 0 * inf + qNaN raises NV (RISC-V)
    assert sf.fma(64, 0, 0x7FF0000000000000, 0x7FF8000000000000, sf.RNE) == (0x7FF8000000000000, sf.NV)
    # x - x is +0, except -0 when rounding down
    one = Fmt(32).from_float(1.0)
    assert sf.sub(32, one, one, sf.RNE) == (0, 0)
    assert sf.sub(32, one, one, sf.RDN) == (0x80000000, 0)
    # tininess after rounding: (2**-126)(1 - 2**-24) rounds to 2**-126 and still underflows
    nearly_min = Fmt(64).from_float(2.0 ** -126 * (1 - 2.0 ** -24))
    assert sf.convert(64, 32, nearly_min, sf.RNE) == (0x00800000, sf.UF | sf.NX)

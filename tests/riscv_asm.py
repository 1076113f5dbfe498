"""A tiny RV64GC assembler for tests: one encoder function per instruction, nothing else.

Encodings follow the RISC-V unprivileged spec's instruction listings ("RV32/64G Instruction Set
Listings" and the RVC "Instruction Listings" tables). Every encoder takes its operands in assembly
order and returns the instruction word (a 16-bit parcel for compressed instructions):

    add(rd, rs1, rs2)               lw(rd, offset, rs1)           sw(rs2, offset, rs1)
    beq(rs1, rs2, offset)           jal(rd, offset)                jalr(rd, offset, rs1)
    fadd_s(rd, rs1, rs2, rm=DYN)    fmadd_d(rd, rs1, rs2, rs3, rm) fcvt_w_s(rd, rs1, rm)
    amoadd_w(rd, rs2, rs1, aq, rl)  lr_d(rd, rs1, aq, rl)          sc_d(rd, rs2, rs1, aq, rl)
    csrrw(rd, csr, rs1)             csrrwi(rd, csr, uimm)          c_addi(rd, imm) ...

Register operands are numbers 0..31 (x or f by position). Out-of-range operands raise ValueError,
and so do operands that would make a compressed encoding reserved or a HINT.

INSNS maps each instruction's assembly name ("fadd.s", "c.addi", "amoadd.w") to an `Insn` record:
its encoder and the kinds of its operands, which tests use to generate random valid operands.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

X_NAMES = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 "
           "s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()
F_NAMES = ("ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 fa6 fa7 "
           "fs2 fs3 fs4 fs5 fs6 fs7 fs8 fs9 fs10 fs11 ft8 ft9 ft10 ft11").split()

RNE, RTZ, RDN, RUP, RMM, DYN = 0, 1, 2, 3, 4, 7
RM_NAMES = {RNE: "rne", RTZ: "rtz", RDN: "rdn", RUP: "rup", RMM: "rmm", DYN: "dyn"}

# Major opcodes (inst[6:0]).
LOAD, LOAD_FP, MISC_MEM, OP_IMM, AUIPC, OP_IMM_32 = 0x03, 0x07, 0x0F, 0x13, 0x17, 0x1B
STORE, STORE_FP, AMO, OP, LUI, OP_32 = 0x23, 0x27, 0x2F, 0x33, 0x37, 0x3B
MADD, MSUB, NMSUB, NMADD, OP_FP = 0x43, 0x47, 0x4B, 0x4F, 0x53
BRANCH, JALR, JAL, SYSTEM = 0x63, 0x67, 0x6F, 0x73

# CSR numbers used by tests.
CSR_FFLAGS, CSR_FRM, CSR_FCSR = 0x001, 0x002, 0x003
CSR_CYCLE, CSR_TIME, CSR_INSTRET = 0xC00, 0xC01, 0xC02


# ---------------------------------------------------------------------------------------------
# Field checks
# ---------------------------------------------------------------------------------------------

def _reg(r: int) -> int:
    if not 0 <= r < 32:
        raise ValueError(f"register number {r} out of range")
    return r


def _creg(r: int) -> int:
    """A compressed 3-bit register field (x8..x15 / f8..f15)."""
    if not 8 <= r < 16:
        raise ValueError(f"register {r} is not one of x8..x15 (compressed rd'/rs1'/rs2')")
    return r - 8


def _simm(v: int, bits: int, align: int = 1) -> int:
    """A signed immediate that must fit in `bits` bits and be a multiple of `align`; its two's complement."""
    if not -(1 << (bits - 1)) <= v < (1 << (bits - 1)) or v % align:
        raise ValueError(f"immediate {v} does not fit {bits} signed bits (multiple of {align})")
    return v & ((1 << bits) - 1)


def _uimm(v: int, bits: int, align: int = 1) -> int:
    if not 0 <= v < (1 << bits) or v % align:
        raise ValueError(f"immediate {v} does not fit {bits} unsigned bits (multiple of {align})")
    return v


def _bit(v: int, hi: int, lo: int | None = None) -> int:
    """v[hi:lo] (or v[hi])."""
    lo = hi if lo is None else lo
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def _rm(rm: int) -> int:
    if rm not in RM_NAMES:
        raise ValueError(f"rounding mode {rm} is reserved (use raw_fp to encode it)")
    return rm


# ---------------------------------------------------------------------------------------------
# 32-bit base formats
# ---------------------------------------------------------------------------------------------

def r_type(opcode, funct3, funct7, rd, rs1, rs2):
    return (funct7 << 25) | (_reg(rs2) << 20) | (_reg(rs1) << 15) | (funct3 << 12) | (_reg(rd) << 7) | opcode


def i_type(opcode, funct3, rd, rs1, imm):
    return (_simm(imm, 12) << 20) | (_reg(rs1) << 15) | (funct3 << 12) | (_reg(rd) << 7) | opcode


def s_type(opcode, funct3, rs1, rs2, imm):
    u = _simm(imm, 12)
    return (_bit(u, 11, 5) << 25) | (_reg(rs2) << 20) | (_reg(rs1) << 15) | (funct3 << 12) \
        | (_bit(u, 4, 0) << 7) | opcode


def b_type(opcode, funct3, rs1, rs2, imm):
    u = _simm(imm, 13, 2)
    return (_bit(u, 12) << 31) | (_bit(u, 10, 5) << 25) | (_reg(rs2) << 20) | (_reg(rs1) << 15) \
        | (funct3 << 12) | (_bit(u, 4, 1) << 8) | (_bit(u, 11) << 7) | opcode


def u_type(opcode, rd, imm20):
    return (_uimm(imm20, 20) << 12) | (_reg(rd) << 7) | opcode


def j_type(opcode, rd, imm):
    u = _simm(imm, 21, 2)
    return (_bit(u, 20) << 31) | (_bit(u, 10, 1) << 21) | (_bit(u, 11) << 20) | (_bit(u, 19, 12) << 12) \
        | (_reg(rd) << 7) | opcode


def r4_type(opcode, fmt, rd, rs1, rs2, rs3, rm):
    return (_reg(rs3) << 27) | (fmt << 25) | (_reg(rs2) << 20) | (_reg(rs1) << 15) | (rm << 12) \
        | (_reg(rd) << 7) | opcode


def shift_type(opcode, funct3, funct_hi, rd, rs1, shamt, bits):
    """slli/srli/srai (6-bit shamt, funct6 = funct_hi) and the *W forms (5-bit shamt, funct7)."""
    return (funct_hi << (20 + bits)) | (_uimm(shamt, bits) << 20) | (_reg(rs1) << 15) | (funct3 << 12) \
        | (_reg(rd) << 7) | opcode


def csr_type(funct3, rd, csr, src):
    """Zicsr: src is rs1 for csrrw/s/c and the 5-bit uimm for the immediate forms."""
    return (_uimm(csr, 12) << 20) | (_uimm(src, 5) << 15) | (funct3 << 12) | (_reg(rd) << 7) | SYSTEM


def amo_type(funct5, width3, rd, rs1, rs2, aq, rl):
    return (funct5 << 27) | (_uimm(aq, 1) << 26) | (_uimm(rl, 1) << 25) | (_reg(rs2) << 20) \
        | (_reg(rs1) << 15) | (width3 << 12) | (_reg(rd) << 7) | AMO


def fp_type(funct5, fmt, rd, rs1, rs2, funct3):
    """OP-FP: funct7 = funct5 << 2 | fmt (0 = S, 1 = D); funct3 is rm or a sub-opcode."""
    return r_type(OP_FP, funct3, funct5 << 2 | fmt, rd, rs1, rs2)


def raw_fp(funct5, fmt, rd, rs1, rs2, rm):
    """An OP-FP word with any 3-bit rm, including the reserved 5 and 6."""
    return fp_type(funct5, fmt, rd, rs1, rs2, _uimm(rm, 3))


# ---------------------------------------------------------------------------------------------
# The instruction table
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Insn:
    """One instruction: assembly name, operand kinds (in assembly order) and encoder."""

    name: str
    kinds: tuple[str, ...]
    encode: Callable[..., int]
    size: int = 4

    def __call__(self, *ops, **kw) -> int:
        return self.encode(*ops, **kw)


INSNS: dict[str, Insn] = {}

# Operand kinds: x (x register), f (f register), xc/fc (x8..x15/f8..f15), xnz (x1..x31), xnz2
# (x register other than x0 and x2), imm12, shamt6/5, boff (13-bit branch offset), joff (21-bit),
# uimm20, rm, aq, rl, csr, uimm5, and compressed immediates named after their field.


def _define(name: str, kinds: tuple[str, ...], encode: Callable[..., int], size: int = 4) -> None:
    INSNS[name] = Insn(name, kinds, encode, size)
    globals()[name.replace(".", "_")] = encode


# -- RV64I -----------------------------------------------------------------------------------------

_define("lui", ("x", "uimm20"), lambda rd, imm20: u_type(LUI, rd, imm20))
_define("auipc", ("x", "uimm20"), lambda rd, imm20: u_type(AUIPC, rd, imm20))
_define("jal", ("x", "joff"), lambda rd, off: j_type(JAL, rd, off))
_define("jalr", ("x", "imm12", "x"), lambda rd, off, rs1: i_type(JALR, 0, rd, rs1, off))

for _n, _f3 in {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}.items():
    _define(_n, ("x", "x", "boff"), lambda rs1, rs2, off, f3=_f3: b_type(BRANCH, f3, rs1, rs2, off))

for _n, _f3 in {"lb": 0, "lh": 1, "lw": 2, "ld": 3, "lbu": 4, "lhu": 5, "lwu": 6}.items():
    _define(_n, ("x", "imm12", "x"), lambda rd, off, rs1, f3=_f3: i_type(LOAD, f3, rd, rs1, off))

for _n, _f3 in {"sb": 0, "sh": 1, "sw": 2, "sd": 3}.items():
    _define(_n, ("x", "imm12", "x"), lambda rs2, off, rs1, f3=_f3: s_type(STORE, f3, rs1, rs2, off))

for _n, _f3 in {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}.items():
    _define(_n, ("x", "x", "imm12"), lambda rd, rs1, imm, f3=_f3: i_type(OP_IMM, f3, rd, rs1, imm))
_define("addiw", ("x", "x", "imm12"), lambda rd, rs1, imm: i_type(OP_IMM_32, 0, rd, rs1, imm))

for _n, (_f3, _hi) in {"slli": (1, 0x00), "srli": (5, 0x00), "srai": (5, 0x10)}.items():
    _define(_n, ("x", "x", "shamt6"),
            lambda rd, rs1, sh, f3=_f3, hi=_hi: shift_type(OP_IMM, f3, hi, rd, rs1, sh, 6))
for _n, (_f3, _hi) in {"slliw": (1, 0x00), "srliw": (5, 0x00), "sraiw": (5, 0x20)}.items():
    _define(_n, ("x", "x", "shamt5"),
            lambda rd, rs1, sh, f3=_f3, hi=_hi: shift_type(OP_IMM_32, f3, hi, rd, rs1, sh, 5))

_OP = {  # name: (opcode, funct3, funct7) -- RV64I and RV64M register-register
    "add": (OP, 0, 0x00), "sub": (OP, 0, 0x20), "sll": (OP, 1, 0x00), "slt": (OP, 2, 0x00),
    "sltu": (OP, 3, 0x00), "xor": (OP, 4, 0x00), "srl": (OP, 5, 0x00), "sra": (OP, 5, 0x20),
    "or": (OP, 6, 0x00), "and": (OP, 7, 0x00),
    "addw": (OP_32, 0, 0x00), "subw": (OP_32, 0, 0x20), "sllw": (OP_32, 1, 0x00),
    "srlw": (OP_32, 5, 0x00), "sraw": (OP_32, 5, 0x20),
    "mul": (OP, 0, 0x01), "mulh": (OP, 1, 0x01), "mulhsu": (OP, 2, 0x01), "mulhu": (OP, 3, 0x01),
    "div": (OP, 4, 0x01), "divu": (OP, 5, 0x01), "rem": (OP, 6, 0x01), "remu": (OP, 7, 0x01),
    "mulw": (OP_32, 0, 0x01), "divw": (OP_32, 4, 0x01), "divuw": (OP_32, 5, 0x01),
    "remw": (OP_32, 6, 0x01), "remuw": (OP_32, 7, 0x01),
}
for _n, (_op, _f3, _f7) in _OP.items():
    _define(_n, ("x", "x", "x"), lambda rd, rs1, rs2, op=_op, f3=_f3, f7=_f7: r_type(op, f3, f7, rd, rs1, rs2))

_define("fence", (), lambda: 0x0FF0000F)      # fence iorw, iorw
_define("fence.i", (), lambda: 0x0000100F)
_define("ecall", (), lambda: 0x00000073)
_define("ebreak", (), lambda: 0x00100073)

# -- Zicsr -----------------------------------------------------------------------------------------

for _n, _f3 in {"csrrw": 1, "csrrs": 2, "csrrc": 3}.items():
    _define(_n, ("x", "csr", "x"), lambda rd, csr, rs1, f3=_f3: csr_type(f3, rd, csr, _reg(rs1)))
for _n, _f3 in {"csrrwi": 5, "csrrsi": 6, "csrrci": 7}.items():
    _define(_n, ("x", "csr", "uimm5"), lambda rd, csr, uimm, f3=_f3: csr_type(f3, rd, csr, uimm))

# -- A ---------------------------------------------------------------------------------------------

_AMO = {"amoswap": 0x01, "amoadd": 0x00, "amoxor": 0x04, "amoand": 0x0C, "amoor": 0x08,
        "amomin": 0x10, "amomax": 0x14, "amominu": 0x18, "amomaxu": 0x1C}
for _w, _f3 in (("w", 2), ("d", 3)):
    _define(f"lr.{_w}", ("x", "x", "aq", "rl"),
            lambda rd, rs1, aq=0, rl=0, f3=_f3: amo_type(0x02, f3, rd, rs1, 0, aq, rl))
    _define(f"sc.{_w}", ("x", "x", "x", "aq", "rl"),
            lambda rd, rs2, rs1, aq=0, rl=0, f3=_f3: amo_type(0x03, f3, rd, rs1, rs2, aq, rl))
    for _n, _f5 in _AMO.items():
        _define(f"{_n}.{_w}", ("x", "x", "x", "aq", "rl"),
                lambda rd, rs2, rs1, aq=0, rl=0, f5=_f5, f3=_f3: amo_type(f5, f3, rd, rs1, rs2, aq, rl))

# -- F and D ---------------------------------------------------------------------------------------

_define("flw", ("f", "imm12", "x"), lambda rd, off, rs1: i_type(LOAD_FP, 2, rd, rs1, off))
_define("fld", ("f", "imm12", "x"), lambda rd, off, rs1: i_type(LOAD_FP, 3, rd, rs1, off))
_define("fsw", ("f", "imm12", "x"), lambda rs2, off, rs1: s_type(STORE_FP, 2, rs1, rs2, off))
_define("fsd", ("f", "imm12", "x"), lambda rs2, off, rs1: s_type(STORE_FP, 3, rs1, rs2, off))

for _s, _fmt in (("s", 0), ("d", 1)):
    for _n, _f5 in {"fadd": 0x00, "fsub": 0x01, "fmul": 0x02, "fdiv": 0x03}.items():
        _define(f"{_n}.{_s}", ("f", "f", "f", "rm"),
                lambda rd, rs1, rs2, rm=DYN, f5=_f5, fmt=_fmt: fp_type(f5, fmt, rd, rs1, rs2, _rm(rm)))
    _define(f"fsqrt.{_s}", ("f", "f", "rm"),
            lambda rd, rs1, rm=DYN, fmt=_fmt: fp_type(0x0B, fmt, rd, rs1, 0, _rm(rm)))
    for _n, _op in {"fmadd": MADD, "fmsub": MSUB, "fnmsub": NMSUB, "fnmadd": NMADD}.items():
        _define(f"{_n}.{_s}", ("f", "f", "f", "f", "rm"),
                lambda rd, rs1, rs2, rs3, rm=DYN, op=_op, fmt=_fmt: r4_type(op, fmt, rd, rs1, rs2, rs3, _rm(rm)))
    for _n, (_f5, _f3) in {"fsgnj": (0x04, 0), "fsgnjn": (0x04, 1), "fsgnjx": (0x04, 2),
                           "fmin": (0x05, 0), "fmax": (0x05, 1)}.items():
        _define(f"{_n}.{_s}", ("f", "f", "f"),
                lambda rd, rs1, rs2, f5=_f5, f3=_f3, fmt=_fmt: fp_type(f5, fmt, rd, rs1, rs2, f3))
    for _n, _f3 in {"feq": 2, "flt": 1, "fle": 0}.items():
        _define(f"{_n}.{_s}", ("x", "f", "f"),
                lambda rd, rs1, rs2, f3=_f3, fmt=_fmt: fp_type(0x14, fmt, rd, rs1, rs2, f3))
    _define(f"fclass.{_s}", ("x", "f"), lambda rd, rs1, fmt=_fmt: fp_type(0x1C, fmt, rd, rs1, 0, 1))
    for _i, _rs2 in {"w": 0, "wu": 1, "l": 2, "lu": 3}.items():
        _define(f"fcvt.{_i}.{_s}", ("x", "f", "rm"),
                lambda rd, rs1, rm=DYN, r2=_rs2, fmt=_fmt: fp_type(0x18, fmt, rd, rs1, r2, _rm(rm)))
        _define(f"fcvt.{_s}.{_i}", ("f", "x", "rm"),
                lambda rd, rs1, rm=DYN, r2=_rs2, fmt=_fmt: fp_type(0x1A, fmt, rd, rs1, r2, _rm(rm)))
_define("fcvt.s.d", ("f", "f", "rm"), lambda rd, rs1, rm=DYN: fp_type(0x08, 0, rd, rs1, 1, _rm(rm)))
_define("fcvt.d.s", ("f", "f", "rm"), lambda rd, rs1, rm=DYN: fp_type(0x08, 1, rd, rs1, 0, _rm(rm)))
_define("fmv.x.w", ("x", "f"), lambda rd, rs1: fp_type(0x1C, 0, rd, rs1, 0, 0))
_define("fmv.x.d", ("x", "f"), lambda rd, rs1: fp_type(0x1C, 1, rd, rs1, 0, 0))
_define("fmv.w.x", ("f", "x"), lambda rd, rs1: fp_type(0x1E, 0, rd, rs1, 0, 0))
_define("fmv.d.x", ("f", "x"), lambda rd, rs1: fp_type(0x1E, 1, rd, rs1, 0, 0))


# ---------------------------------------------------------------------------------------------
# Compressed (RVC, RV64 subset): quadrant in bits 1:0, funct3 in 15:13
# ---------------------------------------------------------------------------------------------

def _c(funct3: int, body: int, quadrant: int) -> int:
    return (funct3 << 13) | body | quadrant


def _ci(funct3, quadrant, rd, imm6):
    """CI format: imm[5] at bit 12, rd at 11:7, imm[4:0] at 6:2 (imm6 already 6 bits)."""
    return _c(funct3, (_bit(imm6, 5) << 12) | (_reg(rd) << 7) | (_bit(imm6, 4, 0) << 2), quadrant)


def _nonzero(v, what):
    if v == 0:
        raise ValueError(f"{what} must be nonzero (zero is reserved or a HINT)")
    return v


def _not(r, bad, what):
    if r in bad:
        raise ValueError(f"{what} cannot be {X_NAMES[r]} here (reserved or HINT encoding)")
    return r


def c_addi4spn(rd, nzuimm):
    u = _uimm(_nonzero(nzuimm, "c.addi4spn immediate"), 10, 4)
    body = (_bit(u, 5, 4) << 11) | (_bit(u, 9, 6) << 7) | (_bit(u, 2) << 6) | (_bit(u, 3) << 5) | (_creg(rd) << 2)
    return _c(0b000, body, 0b00)


def _cl_d(funct3, r, off, rs1):
    """CL/CS with a doubleword offset: uimm[5:3] at 12:10, uimm[7:6] at 6:5."""
    u = _uimm(off, 8, 8)
    return _c(funct3, (_bit(u, 5, 3) << 10) | (_creg(rs1) << 7) | (_bit(u, 7, 6) << 5) | (_creg(r) << 2), 0b00)


def _cl_w(funct3, r, off, rs1):
    """CL/CS with a word offset: uimm[5:3] at 12:10, uimm[2] at 6, uimm[6] at 5."""
    u = _uimm(off, 7, 4)
    return _c(funct3, (_bit(u, 5, 3) << 10) | (_creg(rs1) << 7) | (_bit(u, 2) << 6) | (_bit(u, 6) << 5)
              | (_creg(r) << 2), 0b00)


def c_fld(rd, off, rs1): return _cl_d(0b001, rd, off, rs1)
def c_lw(rd, off, rs1): return _cl_w(0b010, rd, off, rs1)
def c_ld(rd, off, rs1): return _cl_d(0b011, rd, off, rs1)
def c_fsd(rs2, off, rs1): return _cl_d(0b101, rs2, off, rs1)
def c_sw(rs2, off, rs1): return _cl_w(0b110, rs2, off, rs1)
def c_sd(rs2, off, rs1): return _cl_d(0b111, rs2, off, rs1)


def c_nop():
    return _ci(0b000, 0b01, 0, 0)


def c_addi(rd, imm):
    return _ci(0b000, 0b01, _not(rd, (0,), "c.addi rd"), _simm(_nonzero(imm, "c.addi immediate"), 6))


def c_addiw(rd, imm):
    return _ci(0b001, 0b01, _not(rd, (0,), "c.addiw rd"), _simm(imm, 6))


def c_li(rd, imm):
    return _ci(0b010, 0b01, _not(rd, (0,), "c.li rd"), _simm(imm, 6))


def c_addi16sp(imm):
    u = _simm(_nonzero(imm, "c.addi16sp immediate"), 10, 16)
    body = (_bit(u, 9) << 12) | (2 << 7) | (_bit(u, 4) << 6) | (_bit(u, 6) << 5) | (_bit(u, 8, 7) << 3) \
        | (_bit(u, 5) << 2)
    return _c(0b011, body, 0b01)


def c_lui(rd, imm6):
    """c.lui rd, imm6: rd = sext(imm6 << 12); imm6 in -32..31, nonzero."""
    return _ci(0b011, 0b01, _not(rd, (0, 2), "c.lui rd"), _simm(_nonzero(imm6, "c.lui immediate"), 6))


def _cb_alu(funct2, rd, imm6):
    return _c(0b100, (_bit(imm6, 5) << 12) | (funct2 << 10) | (_creg(rd) << 7) | (_bit(imm6, 4, 0) << 2), 0b01)


def c_srli(rd, shamt): return _cb_alu(0b00, rd, _uimm(_nonzero(shamt, "c.srli shift"), 6))
def c_srai(rd, shamt): return _cb_alu(0b01, rd, _uimm(_nonzero(shamt, "c.srai shift"), 6))
def c_andi(rd, imm): return _cb_alu(0b10, rd, _simm(imm, 6))


def _ca(bit12, funct2, rd, rs2):
    return _c(0b100, (bit12 << 12) | (0b11 << 10) | (_creg(rd) << 7) | (funct2 << 5) | (_creg(rs2) << 2), 0b01)


def c_sub(rd, rs2): return _ca(0, 0b00, rd, rs2)
def c_xor(rd, rs2): return _ca(0, 0b01, rd, rs2)
def c_or(rd, rs2): return _ca(0, 0b10, rd, rs2)
def c_and(rd, rs2): return _ca(0, 0b11, rd, rs2)
def c_subw(rd, rs2): return _ca(1, 0b00, rd, rs2)
def c_addw(rd, rs2): return _ca(1, 0b01, rd, rs2)


def c_j(off):
    u = _simm(off, 12, 2)
    body = (_bit(u, 11) << 12) | (_bit(u, 4) << 11) | (_bit(u, 9, 8) << 9) | (_bit(u, 10) << 8) \
        | (_bit(u, 6) << 7) | (_bit(u, 7) << 6) | (_bit(u, 3, 1) << 3) | (_bit(u, 5) << 2)
    return _c(0b101, body, 0b01)


def _cb_branch(funct3, rs1, off):
    u = _simm(off, 9, 2)
    body = (_bit(u, 8) << 12) | (_bit(u, 4, 3) << 10) | (_creg(rs1) << 7) | (_bit(u, 7, 6) << 5) \
        | (_bit(u, 2, 1) << 3) | (_bit(u, 5) << 2)
    return _c(funct3, body, 0b01)


def c_beqz(rs1, off): return _cb_branch(0b110, rs1, off)
def c_bnez(rs1, off): return _cb_branch(0b111, rs1, off)


def c_slli(rd, shamt):
    return _ci(0b000, 0b10, _not(rd, (0,), "c.slli rd"), _uimm(_nonzero(shamt, "c.slli shift"), 6))


def _css_ld(funct3, rd, off):
    """c.ldsp/c.fldsp: uimm[5] at 12, uimm[4:3|8:6] at 6:2."""
    u = _uimm(off, 9, 8)
    return _c(funct3, (_bit(u, 5) << 12) | (_reg(rd) << 7) | (_bit(u, 4, 3) << 5) | (_bit(u, 8, 6) << 2), 0b10)


def c_fldsp(rd, off): return _css_ld(0b001, rd, off)
def c_ldsp(rd, off): return _css_ld(0b011, _not(rd, (0,), "c.ldsp rd"), off)


def c_lwsp(rd, off):
    """uimm[5] at 12, uimm[4:2|7:6] at 6:2."""
    u = _uimm(off, 8, 4)
    rd = _not(rd, (0,), "c.lwsp rd")
    return _c(0b010, (_bit(u, 5) << 12) | (rd << 7) | (_bit(u, 4, 2) << 4) | (_bit(u, 7, 6) << 2), 0b10)


def _cr(bit12, r1, r2):
    return _c(0b100, (bit12 << 12) | (_reg(r1) << 7) | (_reg(r2) << 2), 0b10)


def c_jr(rs1): return _cr(0, _not(rs1, (0,), "c.jr rs1"), 0)
def c_mv(rd, rs2): return _cr(0, _not(rd, (0,), "c.mv rd"), _not(rs2, (0,), "c.mv rs2"))
def c_ebreak(): return _cr(1, 0, 0)
def c_jalr(rs1): return _cr(1, _not(rs1, (0,), "c.jalr rs1"), 0)
def c_add(rd, rs2): return _cr(1, _not(rd, (0,), "c.add rd"), _not(rs2, (0,), "c.add rs2"))


def c_fsdsp(rs2, off):
    """uimm[5:3|8:6] at 12:7."""
    u = _uimm(off, 9, 8)
    return _c(0b101, (_bit(u, 5, 3) << 10) | (_bit(u, 8, 6) << 7) | (_reg(rs2) << 2), 0b10)


def c_sdsp(rs2, off):
    u = _uimm(off, 9, 8)
    return _c(0b111, (_bit(u, 5, 3) << 10) | (_bit(u, 8, 6) << 7) | (_reg(rs2) << 2), 0b10)


def c_swsp(rs2, off):
    """uimm[5:2|7:6] at 12:7."""
    u = _uimm(off, 8, 4)
    return _c(0b110, (_bit(u, 5, 2) << 9) | (_bit(u, 7, 6) << 7) | (_reg(rs2) << 2), 0b10)


_COMPRESSED_KINDS = {
    "c.addi4spn": ("xc", "c_nzuimm10"), "c.fld": ("fc", "c_uimm8d", "xc"), "c.lw": ("xc", "c_uimm7w", "xc"),
    "c.ld": ("xc", "c_uimm8d", "xc"), "c.fsd": ("fc", "c_uimm8d", "xc"), "c.sw": ("xc", "c_uimm7w", "xc"),
    "c.sd": ("xc", "c_uimm8d", "xc"), "c.nop": (), "c.addi": ("xnz", "c_nzimm6"), "c.addiw": ("xnz", "c_imm6"),
    "c.li": ("xnz", "c_imm6"), "c.addi16sp": ("c_nzimm10",), "c.lui": ("xnz2", "c_nzimm6"),
    "c.srli": ("xc", "c_nzuimm6"), "c.srai": ("xc", "c_nzuimm6"), "c.andi": ("xc", "c_imm6"),
    "c.sub": ("xc", "xc"), "c.xor": ("xc", "xc"), "c.or": ("xc", "xc"), "c.and": ("xc", "xc"),
    "c.subw": ("xc", "xc"), "c.addw": ("xc", "xc"), "c.j": ("c_joff",), "c.beqz": ("xc", "c_boff"),
    "c.bnez": ("xc", "c_boff"), "c.slli": ("xnz", "c_nzuimm6"), "c.fldsp": ("f", "c_uimm9d"),
    "c.lwsp": ("xnz", "c_uimm8w"), "c.ldsp": ("xnz", "c_uimm9d"), "c.jr": ("xnz",), "c.mv": ("xnz", "xnz"),
    "c.ebreak": (), "c.jalr": ("xnz",), "c.add": ("xnz", "xnz"), "c.fsdsp": ("f", "c_uimm9d"),
    "c.swsp": ("x", "c_uimm8w"), "c.sdsp": ("x", "c_uimm9d"),
}
for _n, _k in _COMPRESSED_KINDS.items():
    INSNS[_n] = Insn(_n, _k, globals()[_n.replace(".", "_")], 2)

COMPRESSED = tuple(_COMPRESSED_KINDS)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def size_of(word: int) -> int:
    """2 for a compressed parcel (low bits != 0b11), else 4."""
    return 4 if word & 3 == 3 else 2


def to_bytes(*words: int) -> bytes:
    """Little-endian code bytes for a sequence of instruction words and compressed parcels."""
    return b"".join(struct.pack("<I" if size_of(w) == 4 else "<H", w) for w in words)


def li_sequence(rd: int, value: int) -> list[int]:
    """lui/addiw/slli/addi words that load any 64-bit value into rd (rd != x0)."""
    value &= (1 << 64) - 1
    sv = value - (1 << 64) if value >> 63 else value
    if -(1 << 31) <= sv < (1 << 31):
        lo = ((sv & 0xFFF) ^ 0x800) - 0x800
        hi = (sv - lo) >> 12 & 0xFFFFF
        if hi == 0:
            return [addi(rd, 0, lo)]
        return [lui(rd, hi)] + ([addiw(rd, rd, lo)] if lo else [])
    lo = ((sv & 0xFFF) ^ 0x800) - 0x800
    rest = (sv - lo) >> 12
    shift = 12
    while rest % 2 == 0:
        rest >>= 1
        shift += 1
    return li_sequence(rd, rest) + [slli(rd, rd, shift)] + ([addi(rd, rd, lo)] if lo else [])


# Python keywords cannot be function names: `and`/`or` are also reachable as and_/or_.
and_ = INSNS["and"].encode
or_ = INSNS["or"].encode

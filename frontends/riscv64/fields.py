"""Operand fields of RISC-V instruction formats, extracted from the raw instruction bits.

Capstone says which instruction a word is; these small functions say what its operands are. Compressed
formats decode straight to the operands of the 32-bit instruction they expand to.
"""
from __future__ import annotations


class Args:
    """The operands of one instruction: register numbers, a sign-extended immediate, rm, csr."""

    __slots__ = ("rd", "rs1", "rs2", "rs3", "imm", "rm", "csr")

    def __init__(self, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0, rs3: int = 0,
                 rm: int = 0, csr: int = 0) -> None:
        self.rd, self.rs1, self.rs2, self.imm, self.rs3, self.rm, self.csr = rd, rs1, rs2, imm, rs3, rm, csr

    def __repr__(self) -> str:
        return (f"Args(rd={self.rd}, rs1={self.rs1}, rs2={self.rs2}, rs3={self.rs3}, imm={self.imm}, "
                f"rm={self.rm}, csr={self.csr:#x})")


def sext(value: int, bits: int) -> int:
    """Sign-extend the low `bits` bits of value to a Python int."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _rd(w): return (w >> 7) & 31
def _rs1(w): return (w >> 15) & 31
def _rs2(w): return (w >> 20) & 31


# -- 32-bit formats ---------------------------------------------------------------------------------

def r_type(w: int) -> Args:
    return Args(_rd(w), _rs1(w), _rs2(w), rm=(w >> 12) & 7)


def r4_type(w: int) -> Args:
    return Args(_rd(w), _rs1(w), _rs2(w), rs3=w >> 27, rm=(w >> 12) & 7)


def i_type(w: int) -> Args:
    return Args(_rd(w), _rs1(w), imm=sext(w >> 20, 12))


def shift64(w: int) -> Args:
    return Args(_rd(w), _rs1(w), imm=(w >> 20) & 63)


def shift32(w: int) -> Args:
    return Args(_rd(w), _rs1(w), imm=(w >> 20) & 31)


def s_type(w: int) -> Args:
    return Args(rs1=_rs1(w), rs2=_rs2(w), imm=sext(((w >> 25) << 5) | ((w >> 7) & 31), 12))


def b_type(w: int) -> Args:
    imm = ((w >> 31) & 1) << 12 | ((w >> 7) & 1) << 11 | ((w >> 25) & 0x3F) << 5 | ((w >> 8) & 0xF) << 1
    return Args(rs1=_rs1(w), rs2=_rs2(w), imm=sext(imm, 13))


def u_type(w: int) -> Args:
    return Args(_rd(w), imm=sext(w & 0xFFFFF000, 32))


def j_type(w: int) -> Args:
    imm = ((w >> 31) & 1) << 20 | ((w >> 12) & 0xFF) << 12 | ((w >> 20) & 1) << 11 | ((w >> 21) & 0x3FF) << 1
    return Args(_rd(w), imm=sext(imm, 21))


def csr_type(w: int) -> Args:
    """csrrw/csrrs/csrrc (rs1) and their immediate forms (rs1 holds the 5-bit uimm)."""
    return Args(_rd(w), _rs1(w), imm=_rs1(w), csr=w >> 20)


def no_operands(w: int) -> Args:
    return Args()


# -- compressed formats (h is the 16-bit parcel; rd'/rs' registers are x8..x15) --------------------

def _r3(h: int, shift: int) -> int:
    return 8 + ((h >> shift) & 7)


def _ci_imm(h: int) -> int:
    return sext(((h >> 7) & 0x20) | ((h >> 2) & 0x1F), 6)


def _cl_imm_d(h: int) -> int:   # ld/fld/sd/fsd: uimm[5:3]=h[12:10], uimm[7:6]=h[6:5]
    return ((h >> 7) & 0x38) | ((h << 1) & 0xC0)


def _cl_imm_w(h: int) -> int:   # lw/sw: uimm[5:3]=h[12:10], uimm[2]=h[6], uimm[6]=h[5]
    return ((h >> 7) & 0x38) | ((h >> 4) & 0x4) | ((h << 1) & 0x40)


def c_addi4spn(h):
    imm = ((h >> 7) & 0x30) | ((h >> 1) & 0x3C0) | ((h >> 4) & 0x4) | ((h >> 2) & 0x8)
    return Args(_r3(h, 2), 2, imm=imm)


def c_load_d(h): return Args(_r3(h, 2), _r3(h, 7), imm=_cl_imm_d(h))
def c_load_w(h): return Args(_r3(h, 2), _r3(h, 7), imm=_cl_imm_w(h))
def c_store_d(h): return Args(rs1=_r3(h, 7), rs2=_r3(h, 2), imm=_cl_imm_d(h))
def c_store_w(h): return Args(rs1=_r3(h, 7), rs2=_r3(h, 2), imm=_cl_imm_w(h))
def c_addi(h): return Args((h >> 7) & 31, (h >> 7) & 31, imm=_ci_imm(h))
def c_li(h): return Args((h >> 7) & 31, 0, imm=_ci_imm(h))


def c_addi16sp(h):
    imm = ((h >> 3) & 0x200) | ((h >> 2) & 0x10) | ((h << 1) & 0x40) | ((h << 4) & 0x180) | ((h << 3) & 0x20)
    return Args(2, 2, imm=sext(imm, 10))


def c_lui(h):
    return Args((h >> 7) & 31, imm=sext(((h << 5) & 0x20000) | ((h << 10) & 0x1F000), 18))


def _shamt(h): return ((h >> 7) & 0x20) | ((h >> 2) & 0x1F)
def c_shift_r3(h): return Args(_r3(h, 7), _r3(h, 7), imm=_shamt(h))
def c_andi(h): return Args(_r3(h, 7), _r3(h, 7), imm=_ci_imm(h))
def c_arith(h): return Args(_r3(h, 7), _r3(h, 7), _r3(h, 2))


def c_j(h):
    imm = (((h >> 1) & 0x800) | ((h >> 7) & 0x10) | ((h >> 1) & 0x300) | ((h << 2) & 0x400)
           | ((h >> 1) & 0x40) | ((h << 1) & 0x80) | ((h >> 2) & 0xE) | ((h << 3) & 0x20))
    return Args(0, imm=sext(imm, 12))


def c_branch(h):
    imm = ((h >> 4) & 0x100) | ((h >> 7) & 0x18) | ((h << 1) & 0xC0) | ((h >> 2) & 0x6) | ((h << 3) & 0x20)
    return Args(rs1=_r3(h, 7), rs2=0, imm=sext(imm, 9))


def c_slli(h): return Args((h >> 7) & 31, (h >> 7) & 31, imm=_shamt(h))
def c_ldsp(h): return Args((h >> 7) & 31, 2, imm=((h >> 7) & 0x20) | ((h >> 2) & 0x18) | ((h << 4) & 0x1C0))
def c_lwsp(h): return Args((h >> 7) & 31, 2, imm=((h >> 7) & 0x20) | ((h >> 2) & 0x1C) | ((h << 4) & 0xC0))
def c_sdsp(h): return Args(rs1=2, rs2=(h >> 2) & 31, imm=((h >> 7) & 0x38) | ((h >> 1) & 0x1C0))
def c_swsp(h): return Args(rs1=2, rs2=(h >> 2) & 31, imm=((h >> 7) & 0x3C) | ((h >> 1) & 0xC0))
def c_jr(h): return Args(0, (h >> 7) & 31, imm=0)
def c_jalr(h): return Args(1, (h >> 7) & 31, imm=0)
def c_mv(h): return Args((h >> 7) & 31, 0, (h >> 2) & 31)
def c_add(h): return Args((h >> 7) & 31, (h >> 7) & 31, (h >> 2) & 31)
def c_none(h): return Args()

"""The C extension: each compressed instruction is lifted as the 32-bit instruction it expands to.
Encodings the spec reserves (a zero immediate where one is required, rd or rs1 = x0 where that is
reserved) are illegal instructions."""
from __future__ import annotations

from .. import fields as f
from ..lifter import compressed


def _zero_imm(a: f.Args) -> bool:
    return a.imm == 0


def _rd_zero(a: f.Args) -> bool:
    return a.rd == 0


def _rs1_zero(a: f.Args) -> bool:
    return a.rs1 == 0


for _key, (_base, _fields, _reserved) in {
    "c_addi4spn": ("addi", f.c_addi4spn, _zero_imm),
    "c_fld": ("fld", f.c_load_d, None), "c_lw": ("lw", f.c_load_w, None), "c_ld": ("ld", f.c_load_d, None),
    "c_fsd": ("fsd", f.c_store_d, None), "c_sw": ("sw", f.c_store_w, None), "c_sd": ("sd", f.c_store_d, None),
    "c_nop": ("addi", f.c_none, None), "c_addi": ("addi", f.c_addi, None),
    "c_addiw": ("addiw", f.c_addi, _rd_zero), "c_li": ("addi", f.c_li, None),
    "c_addi16sp": ("addi", f.c_addi16sp, _zero_imm), "c_lui": ("lui", f.c_lui, _zero_imm),
    "c_srli": ("srli", f.c_shift_r3, None), "c_srai": ("srai", f.c_shift_r3, None),
    "c_andi": ("andi", f.c_andi, None),
    "c_sub": ("sub", f.c_arith, None), "c_xor": ("xor", f.c_arith, None), "c_or": ("or", f.c_arith, None),
    "c_and": ("and", f.c_arith, None), "c_subw": ("subw", f.c_arith, None), "c_addw": ("addw", f.c_arith, None),
    "c_j": ("jal", f.c_j, None), "c_beqz": ("beq", f.c_branch, None), "c_bnez": ("bne", f.c_branch, None),
    "c_slli": ("slli", f.c_slli, None), "c_fldsp": ("fld", f.c_ldsp, None),
    "c_lwsp": ("lw", f.c_lwsp, _rd_zero), "c_ldsp": ("ld", f.c_ldsp, _rd_zero),
    "c_jr": ("jalr", f.c_jr, _rs1_zero), "c_mv": ("add", f.c_mv, None),
    "c_ebreak": ("ebreak", f.c_none, None), "c_jalr": ("jalr", f.c_jalr, None), "c_add": ("add", f.c_add, None),
    "c_fsdsp": ("fsd", f.c_sdsp, None), "c_swsp": ("sw", f.c_swsp, None), "c_sdsp": ("sd", f.c_sdsp, None),
}.items():
    compressed(_key, _base, _fields, _reserved)

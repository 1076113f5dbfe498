"""The C extension: each compressed instruction is lifted as the 32-bit instruction it expands to."""
from __future__ import annotations

from .. import fields as f
from ..lifter import compressed

for _key, (_base, _fields) in {
    "c_addi4spn": ("addi", f.c_addi4spn),
    "c_fld": ("fld", f.c_load_d), "c_lw": ("lw", f.c_load_w), "c_ld": ("ld", f.c_load_d),
    "c_fsd": ("fsd", f.c_store_d), "c_sw": ("sw", f.c_store_w), "c_sd": ("sd", f.c_store_d),
    "c_nop": ("addi", f.c_none), "c_addi": ("addi", f.c_addi), "c_addiw": ("addiw", f.c_addi),
    "c_li": ("addi", f.c_li), "c_addi16sp": ("addi", f.c_addi16sp), "c_lui": ("lui", f.c_lui),
    "c_srli": ("srli", f.c_shift_r3), "c_srai": ("srai", f.c_shift_r3), "c_andi": ("andi", f.c_andi),
    "c_sub": ("sub", f.c_arith), "c_xor": ("xor", f.c_arith), "c_or": ("or", f.c_arith),
    "c_and": ("and", f.c_arith), "c_subw": ("subw", f.c_arith), "c_addw": ("addw", f.c_arith),
    "c_j": ("jal", f.c_j), "c_beqz": ("beq", f.c_branch), "c_bnez": ("bne", f.c_branch),
    "c_slli": ("slli", f.c_slli), "c_fldsp": ("fld", f.c_ldsp), "c_lwsp": ("lw", f.c_lwsp),
    "c_ldsp": ("ld", f.c_ldsp), "c_jr": ("jalr", f.c_jr), "c_mv": ("add", f.c_mv),
    "c_ebreak": ("ebreak", f.c_none), "c_jalr": ("jalr", f.c_jalr), "c_add": ("add", f.c_add),
    "c_fsdsp": ("fsd", f.c_sdsp), "c_swsp": ("sw", f.c_swsp), "c_sdsp": ("sd", f.c_sdsp),
}.items():
    compressed(_key, _base, _fields)

"""The RV64GC frontend: Capstone decodes, per-instruction semantic functions lift to IR."""
from __future__ import annotations

from dbt.frontend import Fetch, Frontend, LinuxABI
from dbt.ir.block import Block
from dbt.linux.syscall_numbers import GENERIC

from . import semantics  # noqa: F401  (registers every semantic function)
from .lifter import Lifter
from .registers import REGISTERS

# AT_HWCAP on RISC-V: one bit per single-letter extension ('a' is bit 0): I, M, A, F, D, C.
HWCAP = sum(1 << (ord(c) - ord("a")) for c in "imafdc")


class RiscV64(Frontend):
    name = "riscv64"
    elf_machine = 243  # EM_RISCV
    regfile = REGISTERS
    max_insn_size = 4
    insn_alignment = 2
    linux = LinuxABI(
        syscall_numbers={**GENERIC, 258: "riscv_hwprobe", 259: "riscv_flush_icache"},
        syscall_nr_reg="a7",
        arg_regs=("a0", "a1", "a2", "a3", "a4", "a5"),
        ret_reg="a0",
        sp_reg="sp",
        hwcap=HWCAP,
        platform="",
        uname_machine="riscv64",
        tls_reg="tp",
    )

    def __init__(self) -> None:
        self._lifter = Lifter()

    def lift_block(self, fetch: Fetch, pc: int, max_insns: int = 64) -> Block:
        return self._lifter.lift_block(fetch, pc, max_insns)

    def disassemble(self, code: bytes, addr: int) -> list[tuple[int, int, str]]:
        return self._lifter.disassemble(code, addr)


FRONTEND = RiscV64()

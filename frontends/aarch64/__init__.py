"""The AArch64 (A64) frontend: an encoding table decodes, per-family semantic functions lift to IR."""
from __future__ import annotations

from dbt.frontend import Frontend, LinuxABI
from dbt.linux.syscall_numbers import GENERIC

from . import semantics  # noqa: F401  (registers every semantic function)
from .lifter import Lifter
from .registers import REGISTERS

# AT_HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h) for what the frontend implements:
# FP, ASIMD (the subset compilers and musl use), CPUID is not offered, ATOMICS (LSE).
HWCAP_FP, HWCAP_ASIMD, HWCAP_ATOMICS = 1 << 0, 1 << 1, 1 << 8
HWCAP = HWCAP_FP | HWCAP_ASIMD | HWCAP_ATOMICS

# O_* values where aarch64 differs from asm-generic.
OPEN_FLAGS = {"O_DIRECTORY": 0o40000, "O_NOFOLLOW": 0o100000, "O_DIRECT": 0o200000, "O_LARGEFILE": 0o400000}


class AArch64(Lifter, Frontend):
    """The A64 instruction set of AArch64 user programs (the Lifter supplies lift_block and disassemble)."""

    name = "aarch64"
    elf_machine = 183  # EM_AARCH64
    regfile = REGISTERS
    max_insn_size = 4
    insn_alignment = 4
    linux = LinuxABI(
        syscall_numbers=dict(GENERIC),
        syscall_nr_reg="x8",
        arg_regs=("x0", "x1", "x2", "x3", "x4", "x5"),
        ret_reg="x0",
        sp_reg="sp",
        hwcap=HWCAP,
        platform="aarch64",
        uname_machine="aarch64",
        tls_reg="tpidr_el0",
        sigaction_restorer=True,
        open_flags=OPEN_FLAGS,
    )


FRONTEND = AArch64()

"""The AArch64 user-mode register file: x0-x30, sp, the NZCV flags as four separate 1-bit registers
(so unread flags die in the builder and in LLVM), v0-v31 as 128-bit registers, FPCR, TPIDR_EL0 and the
exclusive-monitor address. FPSR's cumulative flags (IOC .. IXC) and FPCR's rounding mode live in the shared state
header (the IR's FP environment)."""
from dbt.ir.types import I1, I64, I128
from dbt.state import Register, RegisterFile

# No reservation: an address no exclusive load can produce (they are aligned).
NO_RESERVATION = (1 << 64) - 1


def _x_aliases(i: int) -> tuple[str, ...]:
    return {29: ("fp",), 30: ("lr",)}.get(i, ())


REGISTERS = RegisterFile(
    [Register(f"x{i}", I64, _x_aliases(i)) for i in range(31)]
    + [Register("sp", I64)]
    + [Register(flag, I1) for flag in "nzcv"]
    + [Register("fpcr", I64), Register("fpsr", I64), Register("tpidr_el0", I64, ("tpidr",)),
       Register("reservation", I64)]
    + [Register(f"v{i}", I128, (f"q{i}",)) for i in range(32)]
)

X = [REGISTERS[f"x{i}"] for i in range(31)]
SP = REGISTERS["sp"]
N, Z, C, V = (REGISTERS[f] for f in "nzcv")
VREG = [REGISTERS[f"v{i}"] for i in range(32)]
FPCR = REGISTERS["fpcr"]
FPSR = REGISTERS["fpsr"]  # FPSR's bits other than the cumulative exception flags (QC, IDC, ...)
TPIDR = REGISTERS["tpidr_el0"]
RESERVATION = REGISTERS["reservation"]

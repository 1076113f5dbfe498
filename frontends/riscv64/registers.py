"""The RV64GC register file: 32 integer registers, 32 FP registers (raw 64-bit, NaN-boxed for single
precision) and the LR/SC reservation. fcsr lives in the shared state header (the IR's FP environment)."""
from dbt.ir.types import I64
from dbt.state import Register, RegisterFile

X_ABI = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 "
         "s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()
F_ABI = ("ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 fa6 fa7 "
         "fs2 fs3 fs4 fs5 fs6 fs7 fs8 fs9 fs10 fs11 ft8 ft9 ft10 ft11").split()

# No reservation: an address no aligned LR can produce.
NO_RESERVATION = (1 << 64) - 1


def _aliases(i: int, abi: str) -> tuple[str, ...]:
    return (abi, "fp") if abi == "s0" else (abi,)


REGISTERS = RegisterFile(
    [Register(f"x{i}", I64, _aliases(i, X_ABI[i])) for i in range(32)]
    + [Register(f"f{i}", I64, (F_ABI[i],)) for i in range(32)]
    + [Register("reservation", I64)]
)

X = [REGISTERS[f"x{i}"] for i in range(32)]
F = [REGISTERS[f"f{i}"] for i in range(32)]
RESERVATION = REGISTERS["reservation"]

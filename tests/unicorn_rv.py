"""Differential harness: the same RV64GC code on Unicorn (RISC-V 64) and on dbt's Engine.

A `Pair` holds one Unicorn CPU and one dbt Engine with the same address space:

    CODE_BASE .. +CODE_SIZE   code (2 MiB), filled with c.ebreak everywhere code is not placed, so a
                              branch or jump that lands anywhere stops at an ebreak
    DATA_BASE .. +DATA_SIZE   one data page, readable and writable

`Pair.run(case)` places the case's code (only when it differs from what is already there, so
both translators keep their cached translations across operand variations; when the bytes change,
dbt drops the old translation by itself and Unicorn is told with ctl_remove_cache), loads the
same initial state into both (all 32 x and 32 f registers, frm, fflags, data page), runs each
until the ebreak, and compares all x and f registers, fflags, frm, the data page, the final pc,
the exit kind (BREAK) and dbt's instruction count (the instructions before the ebreak).

Known Unicorn 2.1.4 (QEMU 5.0) deviations from the current RISC-V spec are encoded once, below,
in `compare_f` (NaN-boxing) and in the two `fix_*` functions (fmin/fmax with one signaling NaN,
fma of inf*0 + qNaN); each counts the cases it touched in DEVIATIONS.
"""
from __future__ import annotations

import ctypes
import random
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import unicorn
import unicorn.unicorn_py3.unicorn as _uc_lib
from capstone import CS_ARCH_RISCV, CS_MODE_RISCV64, CS_MODE_RISCVC, Cs
from unicorn import riscv_const as rv

import riscv_asm as A
from dbt.engine import Engine
from dbt.exits import ExitKind
from dbt.memory import PROT_EXEC, PROT_READ, PROT_WRITE
from dbt.state import FFLAGS, FRM, ICOUNT, PC
from frontends.riscv64 import FRONTEND
from frontends.riscv64.registers import NO_RESERVATION, REGISTERS

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
BOX = 0xFFFFFFFF00000000

CODE_BASE, CODE_SIZE = 0x100000, 0x200000
CODE_MID = CODE_BASE + CODE_SIZE // 2
DATA_BASE, DATA_SIZE = 0x400000, 0x1000
FILL = A.c_ebreak()
FILL_BYTES = A.to_bytes(FILL)
EBREAK = A.ebreak()

DEVIATIONS: Counter = Counter()   # deviation name -> cases it touched
CASES: Counter = Counter()        # (family, dbt tier) -> differential cases run

_XSLOT = REGISTERS["x0"].slot
_FSLOT = REGISTERS["f0"].slot
assert REGISTERS["f31"].slot == _FSLOT + 31 and REGISTERS["x31"].slot == _XSLOT + 31

_CS = Cs(CS_ARCH_RISCV, CS_MODE_RISCV64 | CS_MODE_RISCVC)


def disasm(code: bytes, at: int) -> str:
    out = []
    for i in _CS.disasm(code, at):
        out.append(f"{i.address:#x}: {i.bytes[::-1].hex()} {i.mnemonic} {i.op_str}".rstrip())
    done = sum(len(i.bytes) for i in _CS.disasm(code, at))
    if done < len(code):
        out.append(f"{at + done:#x}: {code[done:].hex()} (not decoded by Capstone)")
    return "\n    ".join(out)


# ---------------------------------------------------------------------------------------------
# Floating-point classification (binary32 when fmt == 32, binary64 when fmt == 64)
# ---------------------------------------------------------------------------------------------

def _fields(fmt: int):
    return (23, 0xFF) if fmt == 32 else (52, 0x7FF)


def is_nan(fmt, v):
    m, e = _fields(fmt)
    return (v >> m) & e == e and v & ((1 << m) - 1) != 0


def is_snan(fmt, v):
    m, _ = _fields(fmt)
    return is_nan(fmt, v) and not (v >> (m - 1)) & 1


def is_qnan(fmt, v):
    return is_nan(fmt, v) and not is_snan(fmt, v)


def is_inf(fmt, v):
    m, e = _fields(fmt)
    return (v >> m) & e == e and v & ((1 << m) - 1) == 0


def is_zero(fmt, v):
    return v & ((1 << (fmt - 1)) - 1) == 0


def boxed(fmt, v):
    """The register image of an fmt value (binary32 NaN-boxed)."""
    return (v & M32) | BOX if fmt == 32 else v & M64


NV = 0x10


# ---------------------------------------------------------------------------------------------
# The deviations (each encoded once; see the module docstring)
# ---------------------------------------------------------------------------------------------

def compare_f(i: int, dbt_val: int, uc_val: int, single: bool) -> str | None:
    """Compare f register i; `single` if the case leaves a binary32 result in it.

    Deviation "nanbox": the spec (F extension, NaN boxing) writes binary32 results with the upper 32
    bits all ones. Unicorn 2.1.4 / QEMU 5.0 predates NaN-boxing: its binary32 results come out with a
    zero upper half (or, for sign injection, whatever the source register held). dbt follows the spec,
    so for binary32 destinations the low 32 bits must match and dbt's upper half must be all ones.
    """
    if not single:
        return None if dbt_val == uc_val else f"f{i}: dbt {dbt_val:#018x}, unicorn {uc_val:#018x}"
    if dbt_val >> 32 != M32:
        return f"f{i}: binary32 result not NaN-boxed in dbt: {dbt_val:#018x} (unicorn {uc_val:#018x})"
    if dbt_val & M32 != uc_val & M32:
        return f"f{i}: dbt {dbt_val & M32:#010x}, unicorn {uc_val & M32:#010x} (binary32)"
    if uc_val >> 32 != M32:
        DEVIATIONS["nanbox"] += 1
    return None


def fix_minmax_one_snan(op: str, fmt: int, a: int, b: int, rd: int, exp: "MachineState") -> bool:
    """Deviation "fminmax-snan": RISC-V F 2.2 fmin/fmax return the other operand when exactly one
    operand is a signaling NaN (and raise NV); QEMU 5.0 uses IEEE 754-2008 minNum/maxNum and returns
    the canonical NaN. Expect the spec's value; the flags (NV) agree."""
    if not (op in ("fmin", "fmax") and (is_snan(fmt, a) != is_snan(fmt, b))
            and not (is_nan(fmt, a) and is_nan(fmt, b))):
        return False
    want = boxed(fmt, b if is_snan(fmt, a) else a)
    got = exp.f[rd]
    exp.f[rd] = want
    exp.fflags |= NV
    touched = (got & M32) != (want & M32) if fmt == 32 else got != want
    if touched:
        DEVIATIONS["fminmax-snan"] += 1
    return touched


def fix_fma_inf_zero_qnan(fmt: int, a: int, b: int, c: int, exp: "MachineState") -> bool:
    """Deviation "fma-inf*0+qnan": the spec raises NV for a fused multiply-add of inf * 0 even when
    the addend is a quiet NaN; QEMU 5.0 does not. Expect NV (the result, canonical NaN, agrees)."""
    if not (((is_inf(fmt, a) and is_zero(fmt, b)) or (is_zero(fmt, a) and is_inf(fmt, b)))
            and is_qnan(fmt, c)):
        return False
    touched = not exp.fflags & NV
    exp.fflags |= NV
    if touched:
        DEVIATIONS["fma-inf*0+qnan"] += 1
    return touched


# ---------------------------------------------------------------------------------------------
# Cases and machine states
# ---------------------------------------------------------------------------------------------

@dataclass
class Case:
    """One differential run.

    code: instruction words/parcels placed at `at`; the run must end at an ebreak (in the code or in the
    filler). x/f: initial register values (the rest are random). n: dbt's expected instruction count
    (default: all words but a final ebreak). singles: f registers that end up holding binary32 results.
    fix: a callable(expected MachineState) applying a documented Unicorn deviation.
    """

    code: list[int]
    x: dict[int, int] = field(default_factory=dict)
    f: dict[int, int] = field(default_factory=dict)
    frm: int = 0
    fflags: int = 0
    at: int = CODE_MID
    data: bytes | None = None
    n: int | None = None
    singles: frozenset[int] | set[int] = frozenset()
    fix: Callable[["MachineState"], bool] | None = None
    note: str = ""
    end: int | None = None   # expected final pc, when the test knows it (control transfers)

    @property
    def code_bytes(self) -> bytes:
        return A.to_bytes(*self.code)

    @property
    def expected_n(self) -> int:
        if self.n is not None:
            return self.n
        return len(self.code) - (1 if self.code and self.code[-1] in (EBREAK, FILL) else 0)


@dataclass
class MachineState:
    x: list[int]
    f: list[int]
    fflags: int
    frm: int
    pc: int
    data: bytes


class Report:
    """Collects mismatches of a family and fails listing the first ones."""

    def __init__(self, family: str):
        self.family = family
        self.cases = 0
        self.failures: list[str] = []

    def add(self, message: str | None, tier: str = "interp") -> None:
        self.cases += 1
        CASES[(self.family, tier)] += 1
        if message:
            self.failures.append(message)

    def assert_ok(self, show: int = 8) -> None:
        assert self.cases > 0, f"{self.family}: no cases ran"
        if self.failures:
            raise AssertionError(f"{self.family}: {len(self.failures)} of {self.cases} cases differ\n\n"
                                 + "\n\n".join(self.failures[:show]))


# ---------------------------------------------------------------------------------------------
# The pair of machines
# ---------------------------------------------------------------------------------------------

_UC_READ_IDS = ([rv.UC_RISCV_REG_X0 + i for i in range(32)] + [rv.UC_RISCV_REG_F0 + i for i in range(32)]
                + [rv.UC_RISCV_REG_FFLAGS, rv.UC_RISCV_REG_FRM, rv.UC_RISCV_REG_PC])
_UC_WRITE_IDS = ([rv.UC_RISCV_REG_X0 + i for i in range(1, 32)] + [rv.UC_RISCV_REG_F0 + i for i in range(32)]
                 + [rv.UC_RISCV_REG_FCSR])


class _Batch:
    """Raw uc_reg_read_batch / uc_reg_write_batch over a fixed list of registers (the Python
    wrappers cost ~1 us per register, this ~5 us for all of them)."""

    def __init__(self, ids):
        n = len(ids)
        self.n = n
        self.ids = (ctypes.c_int * n)(*ids)
        self.buf = (ctypes.c_uint64 * n)()
        base = ctypes.addressof(self.buf)
        self.ptrs = (ctypes.c_void_p * n)(*[base + 8 * i for i in range(n)])

    def read(self, uc) -> list[int]:
        err = _uc_lib.uclib.uc_reg_read_batch(uc._uch, self.ids, self.ptrs, self.n)
        if err:
            raise unicorn.UcError(err)
        return self.buf[:]

    def write(self, uc, values) -> None:
        self.buf[:] = values
        err = _uc_lib.uclib.uc_reg_write_batch(uc._uch, self.ids, self.ptrs, self.n)
        if err:
            raise unicorn.UcError(err)


def random_x(rng: random.Random) -> int:
    """A background integer register value."""
    return rng.getrandbits(64)


class Pair:
    """One Unicorn RV64 CPU and one dbt Engine over the same memory layout."""

    def __init__(self, seed: int = 1, tier: str = "interp") -> None:
        self.tier = tier
        self.rng = random.Random(seed)
        self.uc = uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
        uc.reg_write(rv.UC_RISCV_REG_MSTATUS, uc.reg_read(rv.UC_RISCV_REG_MSTATUS) | (3 << 13))  # FS dirty
        uc.mem_map(CODE_BASE, CODE_SIZE)
        uc.mem_map(DATA_BASE, DATA_SIZE)
        filler = FILL_BYTES * (CODE_SIZE // 2)
        uc.mem_write(CODE_BASE, filler)
        # the JIT tier compiles a block the first time it runs (threshold 1), so a group of cases
        # sharing code runs once in the interpreter and then natively
        self.eng = eng = Engine(FRONTEND, tier=tier, threshold=1 if tier != "interp" else None)
        eng.memory.map(CODE_BASE, CODE_SIZE, PROT_READ | PROT_EXEC)
        eng.memory.map(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE)
        eng.memory.poke(CODE_BASE, filler)
        self.placed: dict[int, bytes] = {}
        self.data = bytes(DATA_SIZE)
        self._read = _Batch(_UC_READ_IDS)
        self._write = _Batch(_UC_WRITE_IDS)

    # -- memory -----------------------------------------------------------------------------------
    def _write_code(self, at: int, code: bytes) -> None:
        self.uc.mem_write(at, code)
        self.uc.ctl_remove_cache(at, at + len(code))
        self.eng.memory.poke(at, code)   # drops dbt's translations of these bytes

    def place(self, at: int, code: bytes) -> None:
        """Put code at `at`, restoring the filler wherever earlier code was."""
        if self.placed.get(at) == code and len(self.placed) == 1:
            return
        for addr, old in self.placed.items():
            self._write_code(addr, FILL_BYTES * (len(old) // 2))
        self.placed = {at: code}
        self._write_code(at, code)

    def set_data(self, data: bytes) -> None:
        assert len(data) == DATA_SIZE
        self.uc.mem_write(DATA_BASE, data)
        self.eng.memory.poke(DATA_BASE, data)
        self.data = data

    # -- running ----------------------------------------------------------------------------------
    def initial(self, case: Case) -> tuple[list[int], list[int]]:
        rng = self.rng
        xs = [0] + [random_x(rng) for _ in range(31)]
        fs = [rng.getrandbits(64) for _ in range(32)]
        for i in range(16):             # f0..f15 hold NaN-boxed binary32 values by convention
            fs[i] |= BOX
        for r, v in case.x.items():
            if r:
                xs[r] = v & M64
        for r, v in case.f.items():
            fs[r] = v & M64
        return xs, fs

    def run_uc(self, case: Case, xs, fs) -> tuple[MachineState, str | None]:
        uc = self.uc
        self._write.write(uc, xs[1:] + fs + [(case.frm & 7) << 5 | (case.fflags & 0x1F)])
        err = None
        try:
            uc.emu_start(case.at, 0)
            err = "unicorn ran off without an exception"
        except unicorn.UcError as e:
            if e.errno not in (unicorn.UC_ERR_INSN_INVALID, unicorn.UC_ERR_EXCEPTION):
                err = f"unicorn stopped with {e}"
        vals = self._read.read(uc)
        pc = vals[66]
        if err is None and bytes(uc.mem_read(pc, 2)) != FILL_BYTES and \
                bytes(uc.mem_read(pc, 4)) != A.to_bytes(EBREAK):
            err = f"unicorn stopped at {pc:#x}, which is not an ebreak"
        st = MachineState(vals[:32], vals[32:64], vals[64], vals[65], pc,
                          bytes(uc.mem_read(DATA_BASE, DATA_SIZE)))
        return st, err

    def run_dbt(self, case: Case, xs, fs):
        eng = self.eng
        W = eng.state.words
        W[_XSLOT:_XSLOT + 32] = xs_array(xs)
        W[_FSLOT:_FSLOT + 32] = xs_array(fs)
        W[FFLAGS] = case.fflags & 0x1F
        W[FRM] = case.frm & 7
        eng.state["reservation"] = NO_RESERVATION
        W[PC] = case.at
        before = W[ICOUNT]
        try:
            ex = eng.run(max_insns=1000)
        except Exception as e:  # a crash inside dbt is a finding too
            return None, f"dbt raised {type(e).__name__}: {e}", 0
        st = MachineState(W[_XSLOT:_XSLOT + 32].tolist(), W[_FSLOT:_FSLOT + 32].tolist(), W[FFLAGS], W[FRM],
                          ex.pc, eng.memory.peek(DATA_BASE, DATA_SIZE))
        problems = []
        if ex.kind != ExitKind.BREAK:
            problems.append(f"dbt exit {ex.describe()} (expected a breakpoint)")
        if W[PC] != ex.pc:
            problems.append(f"dbt state.pc {W[PC]:#x} != exit pc {ex.pc:#x}")
        return st, ("; ".join(problems) or None), W[ICOUNT] - before

    def run(self, case: Case) -> str | None:
        """Run the case on both machines; None if they agree, else a readable report."""
        code = case.code_bytes
        self.place(case.at, code)
        if case.data is not None:
            self.set_data(case.data)
        xs, fs = self.initial(case)
        ust, uerr = self.run_uc(case, xs, fs)
        dst, derr, icount = self.run_dbt(case, xs, fs)
        problems = []
        if uerr:
            problems.append(uerr)
        if derr:
            problems.append(derr)
        if dst is not None:
            if case.fix is not None:
                case.fix(ust)
            problems += compare(case, ust, dst)
            if icount != case.expected_n:
                problems.append(f"dbt icount advanced by {icount}, expected {case.expected_n}")
            if case.end is not None and dst.pc != case.end:
                problems.append(f"dbt stopped at {dst.pc:#x}, expected {case.end:#x}")
        # keep both data pages equal for the next case
        if ust.data != (dst.data if dst is not None else None):
            self.set_data(ust.data)
        else:
            self.data = ust.data
        if not problems:
            return None
        return describe(case, code, xs, fs, problems, self.tier)


def xs_array(values):
    return array("Q", values)


def compare(case: Case, exp: MachineState, got: MachineState) -> list[str]:
    out = []
    for i in range(1, 32):
        if exp.x[i] != got.x[i]:
            out.append(f"x{i} ({A.X_NAMES[i]}): dbt {got.x[i]:#018x}, unicorn {exp.x[i]:#018x}")
    if got.x[0] != 0:
        out.append(f"x0 (zero) holds {got.x[0]:#x} in dbt")
    for i in range(32):
        msg = compare_f(i, got.f[i], exp.f[i], i in case.singles)
        if msg:
            out.append(msg)
    if exp.fflags != got.fflags:
        out.append(f"fflags: dbt {got.fflags:#04x}, unicorn {exp.fflags:#04x}")
    if exp.frm != got.frm:
        out.append(f"frm: dbt {got.frm}, unicorn {exp.frm}")
    if exp.pc != got.pc:
        out.append(f"final pc: dbt {got.pc:#x}, unicorn {exp.pc:#x}")
    if exp.data != got.data:
        diffs = [i for i in range(DATA_SIZE) if exp.data[i] != got.data[i]]
        lo, hi = diffs[0], diffs[-1] + 1
        out.append(f"data page differs at {DATA_BASE + lo:#x}..{DATA_BASE + hi:#x}: "
                   f"dbt {got.data[lo:min(hi, lo + 16)].hex()}, unicorn {exp.data[lo:min(hi, lo + 16)].hex()}")
    return out


def describe(case: Case, code: bytes, xs, fs, problems, tier: str = "interp") -> str:
    regs = set()
    for i in _CS.disasm(code, case.at):
        for tok in i.op_str.replace("(", " ").replace(")", " ").replace(",", " ").split():
            if tok in A.X_NAMES:
                regs.add(("x", A.X_NAMES.index(tok)))
            elif tok in A.F_NAMES:
                regs.add(("f", A.F_NAMES.index(tok)))
    regs |= {("x", r) for r in case.x} | {("f", r) for r in case.f}
    inputs = ", ".join(f"{A.X_NAMES[r] if k == 'x' else A.F_NAMES[r]}={(xs if k == 'x' else fs)[r]:#x}"
                       for k, r in sorted(regs) if (k, r) != ("x", 0))
    tag = ", ".join(t for t in (case.note, "" if tier == "interp" else f"{tier} tier") if t)
    head = f"[{tag}] " if tag else ""
    return (f"{head}code:\n    {disasm(code, case.at)}\n  inputs: {inputs}; frm={case.frm} fflags={case.fflags:#x}"
            + "\n  " + "\n  ".join(problems))

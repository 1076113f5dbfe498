"""Differential harness: the same A64 code on Unicorn (ARM64, the "max" CPU, which has LSE) and on dbt.

Snippets are assembled with Keystone (words Keystone cannot assemble, such as LSE atomics, come from
`encode_*` below) and followed by `brk #0`; the code page is filled with `brk #0` elsewhere, so a
wrong branch stops at once. Both machines get the same registers (x0-x30, sp, NZCV, v0-v31,
TPIDR_EL0; FPCR = FPSR = 0) and the same data page; after the run x0-x30, sp, NZCV, v0-v31, FPSR's
flags (and the other FPSR bits written), TPIDR_EL0, the data page and the final pc must be equal.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import unicorn
from keystone import KS_ARCH_ARM64, KS_MODE_LITTLE_ENDIAN, Ks
from unicorn import arm64_const as a64

from dbt.engine import Engine
from dbt.exits import ExitKind
from dbt.memory import PROT_EXEC, PROT_READ, PROT_WRITE
from dbt.state import FFLAGS, FRM, PC
from frontends.aarch64 import FRONTEND
from frontends.aarch64.registers import NO_RESERVATION

M64 = (1 << 64) - 1
CODE_BASE, CODE_SIZE = 0x100000, 0x10000
DATA_BASE, DATA_SIZE = 0x400000, 0x1000
BRK = (0xD4200000).to_bytes(4, "little")
CASES: Counter = Counter()  # (family, tier) -> cases run

_KS = Ks(KS_ARCH_ARM64, KS_MODE_LITTLE_ENDIAN)
_UC_X = [a64.UC_ARM64_REG_X0 + i for i in range(29)] + [a64.UC_ARM64_REG_X29, a64.UC_ARM64_REG_X30]
_UC_Q = [a64.UC_ARM64_REG_Q0 + i for i in range(32)]

# Interesting integers: zero, one, the signed and unsigned boundaries of 32 and 64 bits, all ones.
EDGES = [0, 1, 2, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, M64, M64 - 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
         0x100000000, 0xFFFFFFFF80000000, 0x8000000000000001]
# Interesting binary64 and binary32 values; NaN operands (quiet and signaling, both signs, with payloads)
# come from the NAN lists, so that A64's NaN propagation is compared too.
NAN64 = [0x7FF8000000000000, 0x7FF8000000000001, 0xFFF4000000000ABC, 0x7FF0000000000001, 0xFFFFFFFFFFFFFFFF,
         0xFFF0000000000002]
NAN32 = [0x7FC00000, 0x7FC00001, 0xFFA00123, 0x7F800001, 0xFFFFFFFF, 0xFF800002]
F64_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 3.0, 1e300, -1e300, 5e-324, 2.2250738585072014e-308,
             float("inf"), float("-inf"), 4294967296.5, -9.3e18, 1.8e19, 123456.789]


# Snippets whose float operands are binary32 (the others get binary64 lanes).
SINGLE_MARKS = (".4s", ".2s", ".s[", " s0", " s1")


def asm(text: str, at: int = CODE_BASE) -> bytes:
    """Keystone's encoding of `text` (instructions separated by ';' or newlines) at address `at`."""
    enc, _ = _KS.asm(text.replace(";", "\n"), at)
    return bytes(enc)


def encode_atomic(size: int, acquire: int, release: int, o3: int, opc: int, rs: int, rn: int, rt: int) -> str:
    """An LSE atomic memory operation (LDADD .. LDUMIN, SWP) as a .long directive."""
    word = size << 30 | 0b111 << 27 | acquire << 23 | release << 22 | 1 << 21 | rs << 16 | o3 << 15 \
        | opc << 12 | rn << 5 | rt
    return f".long {word:#x}"


def encode_cas(size: int, acquire: int, release: int, rs: int, rn: int, rt: int) -> str:
    """CAS, CASA, CASL, CASAL as a .long directive."""
    word = size << 30 | 0b001000 << 24 | 1 << 23 | acquire << 22 | 1 << 21 | rs << 16 | release << 15 \
        | 31 << 10 | rn << 5 | rt
    return f".long {word:#x}"


def encode_casp(sz: int, acquire: int, release: int, rs: int, rn: int, rt: int) -> str:
    """CASP, CASPA, CASPL, CASPAL (sz = 0: 32-bit registers, 1: 64-bit) as a .long directive."""
    word = sz << 30 | 0b001000 << 24 | acquire << 22 | 1 << 21 | rs << 16 | release << 15 | 31 << 10 \
        | rn << 5 | rt
    return f".long {word:#x}"


def f64_bits(v: float) -> int:
    import struct
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def f32_bits(v: float) -> int:
    import struct
    try:
        return struct.unpack("<I", struct.pack("<f", v))[0]
    except OverflowError:
        return 0x7F800000 if v > 0 else 0xFF800000


def random_int(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.4:
        return rng.choice(EDGES)
    if r < 0.6:
        return rng.getrandbits(rng.choice((4, 8, 16, 32)))
    return rng.getrandbits(64)


def _is_signaling(v: int, single: bool) -> bool:
    return not v >> (22 if single else 51) & 1


def random_float_lanes(rng: random.Random, single: bool, signaling: bool) -> int:
    """A 128-bit value whose lanes are interesting or random floats, some of them NaNs of one class
    (quiet or signaling)."""
    def one() -> float:
        return rng.choice(F64_EDGES) if rng.random() < 0.5 else rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-5, 5)

    nans = [v for v in (NAN32 if single else NAN64) if _is_signaling(v, single) == signaling]

    def lane(bits) -> int:
        if rng.random() < 0.12:
            return rng.choice(nans)
        return bits(one())
    if single:
        return sum(lane(f32_bits) << (32 * i) for i in range(4))
    return sum(lane(f64_bits) << (64 * i) for i in range(2))


@dataclass
class Family:
    """Snippets of one instruction family and how to draw their inputs."""

    name: str
    snippets: list[str]
    setup: Callable[[random.Random], dict] = field(default=lambda rng: {})
    floats: bool = False      # v registers hold float lanes (single or double at random)


@dataclass
class MachineState:
    x: list[int]
    sp: int
    nzcv: int
    v: list[int]
    fpsr: int
    tpidr: int
    pc: int
    data: bytes


class Pair:
    """One Unicorn ARM64 CPU and one dbt Engine with the same memory layout."""

    def __init__(self, seed: int = 1, tier: str = "interp") -> None:
        self.tier = tier
        self.rng = random.Random(seed)
        self.uc = uc = unicorn.Uc(unicorn.UC_ARCH_ARM64, unicorn.UC_MODE_ARM)
        uc.ctl_set_cpu_model(a64.UC_CPU_ARM64_MAX)
        uc.mem_map(CODE_BASE, CODE_SIZE)
        uc.mem_map(DATA_BASE, DATA_SIZE)
        filler = BRK * (CODE_SIZE // 4)
        uc.mem_write(CODE_BASE, filler)
        self.eng = eng = Engine(FRONTEND, tier=tier, threshold=1 if tier != "interp" else None)
        eng.memory.map(CODE_BASE, CODE_SIZE, PROT_READ | PROT_EXEC)
        eng.memory.map(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE)
        eng.memory.poke(CODE_BASE, filler)
        self.code = b""

    def place(self, code: bytes) -> None:
        if code == self.code:
            return
        old = len(self.code)
        self.code = code
        image = code + BRK * max(0, (old - len(code)) // 4)
        self.uc.mem_write(CODE_BASE, image)
        self.uc.ctl_remove_cache(CODE_BASE, CODE_BASE + len(image))
        self.eng.memory.poke(CODE_BASE, image)

    def initial(self, fam: Family, snippet: str) -> dict:
        rng = self.rng
        single = any(t in snippet for t in SINGLE_MARKS)
        # One class of NaN per case: dbt returns the first NaN operand of a two-operand operation where
        # A64 prefers a signaling NaN second to a quiet NaN first (frontends/aarch64/semantics/nan.py).
        signaling = rng.random() < 0.5
        st = {"x": [random_int(rng) for _ in range(31)],
              "sp": DATA_BASE + 0x800 + 16 * rng.randint(-8, 8),
              "nzcv": rng.getrandbits(4),
              "v": [random_float_lanes(rng, single, signaling) if fam.floats else rng.getrandbits(128)
                    for _ in range(32)],
              "tpidr": rng.getrandbits(64),
              "data": bytes(rng.getrandbits(8) for _ in range(DATA_SIZE))}
        for key, value in fam.setup(rng).items():
            kind, _, index = key.partition(":")
            if index:
                st[kind][int(index)] = value
            else:
                st[kind] = value
        return st

    def run_uc(self, st: dict, end: int) -> tuple[MachineState, str | None]:
        uc = self.uc
        for i, r in enumerate(_UC_X):
            uc.reg_write(r, st["x"][i])
        for i, r in enumerate(_UC_Q):
            uc.reg_write(r, st["v"][i])
        uc.reg_write(a64.UC_ARM64_REG_SP, st["sp"])
        uc.reg_write(a64.UC_ARM64_REG_NZCV, st["nzcv"] << 28)
        uc.reg_write(a64.UC_ARM64_REG_FPCR, 0)
        uc.reg_write(a64.UC_ARM64_REG_FPSR, 0)
        uc.reg_write(a64.UC_ARM64_REG_TPIDR_EL0, st["tpidr"])
        uc.mem_write(DATA_BASE, st["data"])
        err = None
        try:
            uc.emu_start(CODE_BASE, end, count=1000)
        except unicorn.UcError as e:
            err = f"unicorn stopped with {e} at {uc.reg_read(a64.UC_ARM64_REG_PC):#x}"
        out = MachineState([uc.reg_read(r) for r in _UC_X], uc.reg_read(a64.UC_ARM64_REG_SP),
                           uc.reg_read(a64.UC_ARM64_REG_NZCV) >> 28, [uc.reg_read(r) for r in _UC_Q],
                           uc.reg_read(a64.UC_ARM64_REG_FPSR), uc.reg_read(a64.UC_ARM64_REG_TPIDR_EL0),
                           uc.reg_read(a64.UC_ARM64_REG_PC), bytes(uc.mem_read(DATA_BASE, DATA_SIZE)))
        return out, err

    def run_dbt(self, st: dict) -> tuple[MachineState | None, str | None]:
        eng = self.eng
        s = eng.state
        for i in range(31):
            s[f"x{i}"] = st["x"][i]
        for i in range(32):
            s[f"v{i}"] = st["v"][i]
        s["sp"] = st["sp"]
        for bit, flag in zip((3, 2, 1, 0), "nzcv"):
            s[flag] = st["nzcv"] >> bit & 1
        s["fpcr"], s["fpsr"], s["tpidr_el0"], s["reservation"] = 0, 0, st["tpidr"], NO_RESERVATION
        s.words[FFLAGS] = s.words[FRM] = 0
        eng.memory.poke(DATA_BASE, st["data"])
        s.words[PC] = CODE_BASE
        try:
            ex = eng.run(max_insns=1000)
        except Exception as e:  # a crash inside dbt is a finding too
            return None, f"dbt raised {type(e).__name__}: {e}"
        flags = s.words[FFLAGS]
        fpsr = int(f"{flags & 0x1F:05b}"[::-1], 2)  # IR flags NX UF OF DZ NV -> FPSR IOC DZC OFC UFC IXC
        out = MachineState([s[f"x{i}"] for i in range(31)], s["sp"],
                           s["n"] << 3 | s["z"] << 2 | s["c"] << 1 | s["v"], [s[f"v{i}"] for i in range(32)],
                           fpsr | s["fpsr"], s["tpidr_el0"], ex.pc, eng.memory.peek(DATA_BASE, DATA_SIZE))
        err = None if ex.kind == ExitKind.BREAK else f"dbt exit {ex.describe()} (expected the final brk)"
        return out, err

    def run(self, fam: Family, snippet: str) -> str | None:
        """Run one snippet on both machines from one random state; None if they agree."""
        code = asm(snippet) + BRK
        self.place(code)
        end = CODE_BASE + len(code) - 4
        st = self.initial(fam, snippet)
        exp, uerr = self.run_uc(st, end)
        got, derr = self.run_dbt(st)
        CASES[(fam.name, self.tier)] += 1
        problems = [p for p in (uerr, derr) if p]
        if got is not None:
            problems += compare(exp, got)
        if not problems:
            return None
        inputs = ", ".join(f"x{i}={v:#x}" for i, v in enumerate(st["x"][:10]))
        return f"[{self.tier}] {snippet!r}\n  inputs: {inputs}, nzcv={st['nzcv']:04b}\n  " + "\n  ".join(problems)


def compare(exp: MachineState, got: MachineState) -> list[str]:
    out = [f"x{i}: dbt {g:#x}, unicorn {e:#x}" for i, (e, g) in enumerate(zip(exp.x, got.x)) if e != g]
    out += [f"v{i}: dbt {g:#034x}, unicorn {e:#034x}" for i, (e, g) in enumerate(zip(exp.v, got.v)) if e != g]
    for name in ("sp", "nzcv", "fpsr", "tpidr", "pc"):
        e, g = getattr(exp, name), getattr(got, name)
        if e != g:
            out.append(f"{name}: dbt {g:#x}, unicorn {e:#x}")
    if exp.data != got.data:
        diffs = [i for i in range(DATA_SIZE) if exp.data[i] != got.data[i]]
        lo = diffs[0]
        out.append(f"data differs at {DATA_BASE + lo:#x} ({len(diffs)} bytes): dbt {got.data[lo:lo + 16].hex()}, "
                   f"unicorn {exp.data[lo:lo + 16].hex()}")
    return out

"""The RISC-V lifter: a registry of per-instruction semantic functions and the block-lifting loop.

Each semantic function takes a context (the IR builder, the instruction's PC, register helpers) and the
instruction's operand fields, and emits IR. Functions register under Capstone's instruction names; a
compressed instruction is lifted by the function of the instruction it expands to.
"""
from __future__ import annotations

from typing import Callable

from dbt.exits import Access, ExitKind, GuestFault
from dbt.frontend import Fetch
from dbt.ir.block import Block, Const, Value
from dbt.ir.builder import IRBuilder
from dbt.ir.types import F32, F64, I32, I64

from .fields import Args
from .registers import F, X

LiftFn = Callable[["Ctx", Args], None]
Decoder = Callable[[int], Args]

# key -> (field decoder, semantic function); key is Capstone's name without ordering suffixes.
SEMANTICS: dict[str, tuple[Decoder, LiftFn]] = {}
# compressed key -> (key of the 32-bit instruction it expands to, compressed field decoder, reserved)
COMPRESSED: dict[str, tuple[str, Decoder, Callable[[Args], bool] | None]] = {}
# Encodings Capstone does not decode although the spec defines them: (mask, match, key).
CAPSTONE_GAPS: list[tuple[int, int, str]] = []

BOX32 = 0xFFFFFFFF00000000
CANONICAL_NAN32 = 0x7FC00000


def insn(*keys: str, fields: Decoder) -> Callable[[LiftFn], LiftFn]:
    """Register a semantic function for the given instruction names, with their field decoder."""
    def register(fn: LiftFn) -> LiftFn:
        for k in keys:
            if k in SEMANTICS:
                raise ValueError(f"riscv64: {k} registered twice")
            SEMANTICS[k] = (fields, fn)
        return fn
    return register


def family(fields: Decoder, make: Callable[..., LiftFn], members: dict[str, tuple]) -> None:
    """Register a family of instructions that share one semantic shape: key -> make(*params)."""
    for key, params in members.items():
        insn(key, fields=fields)(make(*params))


def compressed(key: str, expands_to: str, fields: Decoder,
               reserved: Callable[[Args], bool] | None = None) -> None:
    """Register a compressed instruction; `reserved` says which of its operand values are illegal."""
    COMPRESSED[key] = (expands_to, fields, reserved)


def capstone_gap(mask: int, match: int, key: str) -> None:
    """Decode words with (word & mask) == match as `key` where Capstone gives up on them."""
    CAPSTONE_GAPS.append((mask, match, key))


class Ctx:
    """What a semantic function needs: the builder and the instruction's address and size."""

    __slots__ = ("b", "pc", "size")

    def __init__(self, b: IRBuilder) -> None:
        self.b = b
        self.pc = 0
        self.size = 4

    @property
    def next_pc(self) -> int:
        return self.pc + self.size

    def x(self, n: int) -> Value:
        """Integer register n (x0 reads as zero)."""
        return Const(I64, 0) if n == 0 else self.b.get(X[n])

    def set_x(self, n: int, v: Value | int) -> None:
        """Write integer register n (writes to x0 vanish)."""
        if n:
            self.b.put(X[n], v)

    def fbits(self, n: int) -> Value:
        return self.b.get(F[n])

    def set_fbits(self, n: int, v: Value) -> None:
        self.b.put(F[n], v)

    def f(self, n: int, ty) -> Value:
        """FP register n as a float of type ty; a single-precision value not NaN-boxed reads as the canonical NaN."""
        b = self.b
        raw = self.fbits(n)
        if ty is F64:
            return b.bitcast(raw, F64)
        boxed = b.cmp("uge", raw, BOX32)
        return b.bitcast(b.select(boxed, b.trunc(raw, I32), Const(I32, CANONICAL_NAN32)), F32)

    def set_f(self, n: int, v: Value) -> None:
        """Write a float to FP register n (NaN-boxing single precision)."""
        b = self.b
        if v.ty is F64:
            self.set_fbits(n, b.bitcast(v, I64))
        else:
            self.set_fbits(n, b.or_(b.zext(b.bitcast(v, I32), I64), BOX32))

    def addr(self, base: int, offset: int) -> Value:
        return self.b.add(self.x(base), Const(I64, offset))

    def undefined(self) -> None:
        self.b.exit(ExitKind.UNDEF, self.pc, self.pc)


def _key_table() -> dict[int, str]:
    """Capstone instruction id -> semantics key."""
    from capstone import riscv_const
    keys = {}
    for name in dir(riscv_const):
        if name.startswith("RISCV_INS_") and name not in ("RISCV_INS_INVALID", "RISCV_INS_ENDING"):
            key = name[len("RISCV_INS_"):].lower()
            for suffix in ("_aq_rl", "_aq", "_rl"):
                if key.endswith(suffix):
                    key = key[: -len(suffix)]
                    break
            keys[getattr(riscv_const, name)] = key
    return keys


class Lifter:
    """Decodes with Capstone and lifts basic blocks."""

    def __init__(self) -> None:
        self._cs = None
        self._keys: dict[int, str] = {}

    @property
    def cs(self):
        """Capstone, imported when first needed (a run from the code cache may translate nothing)."""
        if self._cs is None:
            from capstone import CS_ARCH_RISCV, CS_MODE_RISCV64, CS_MODE_RISCVC, Cs
            self._cs = Cs(CS_ARCH_RISCV, CS_MODE_RISCV64 | CS_MODE_RISCVC)
            self._cs.detail = False
            self._keys = _key_table()
        return self._cs

    def disassemble(self, code: bytes, addr: int) -> list[tuple[int, int, str]]:
        return [(i.address, i.size, f"{i.mnemonic} {i.op_str}".strip()) for i in self.cs.disasm(code, addr)]

    def lift_block(self, fetch: Fetch, pc: int, max_insns: int = 64) -> Block:
        block = Block("riscv64", pc)
        b = IRBuilder(block)
        ctx = Ctx(b)
        if pc & 1:
            raise GuestFault(pc, Access.EXEC, 2)
        code = fetch(pc, max_insns * 4)
        end = pc + len(code)
        at = pc
        full = False
        while not b.terminated and not full and at < end:
            for ins in self.cs.disasm(code[at - pc:], at, max_insns - len(block.insns)):
                raw = code[at - pc: at - pc + ins.size]
                self._lift(ctx, at, raw, f"{ins.mnemonic} {ins.op_str}".strip(), self._keys.get(ins.id, "invalid"))
                at += ins.size
                full = len(block.insns) >= max_insns
                if b.terminated or full:
                    break
            else:  # Capstone stopped at `at`: a defined encoding it does not know, or the block's end
                if at < end and self._lift_gap(ctx, code, pc, at):
                    at += 4
                    full = len(block.insns) >= max_insns
                    continue
                break
        if not b.terminated:
            if full:
                b.goto(at)
            else:
                _stopped_at(b, ctx, code, pc, at, end)
        return block

    def _lift(self, ctx: Ctx, at: int, raw: bytes, text: str, key: str) -> None:
        ctx.b.insn(at, len(raw), raw, text)
        ctx.pc, ctx.size = at, len(raw)
        _lift_one(ctx, key, int.from_bytes(raw, "little"))

    def _lift_gap(self, ctx: Ctx, code: bytes, pc: int, at: int) -> bool:
        """Lift the instruction at `at` from CAPSTONE_GAPS if Capstone stopped on a defined encoding."""
        raw = code[at - pc: at - pc + 4]
        if len(raw) < 4 or raw[0] & 3 != 3:
            return False
        word = int.from_bytes(raw, "little")
        for mask, match, key in CAPSTONE_GAPS:
            if word & mask == match:
                self._lift(ctx, at, raw, f"{key.replace('_', '.')} (.insn {word:#010x})", key)
                return True
        return False


def _lift_one(ctx: Ctx, key: str, word: int) -> None:
    comp = COMPRESSED.get(key)
    if comp is not None:
        key, decode, reserved = comp
        if reserved is not None and reserved(decode(word)):
            ctx.undefined()
            return
    else:
        entry = SEMANTICS.get(key)
        if entry is None:
            ctx.undefined()
            return
        decode = entry[0]
    fn = SEMANTICS[key][1]
    fn(ctx, decode(word))


def _stopped_at(b: IRBuilder, ctx: Ctx, code: bytes, pc: int, at: int, end: int) -> None:
    """Capstone stopped at `at`: an undefined instruction, or the end of executable bytes."""
    rest = code[at - pc:]
    need = 2 if rest and rest[0] & 3 != 3 else 4
    if len(rest) >= need:
        b.insn(at, need, rest[:need], f".insn {int.from_bytes(rest[:need], 'little'):#0{2 + 2 * need}x}")
        ctx.pc, ctx.size = at, need
        ctx.undefined()
    elif at == pc:
        raise GuestFault(end, Access.EXEC, need)
    else:
        b.goto(at)

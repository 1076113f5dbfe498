"""The AArch64 lifter: an encoding table of (mask, match) rows, each naming a small semantic function,
and the block-lifting loop.

A64 encodings are fixed 32-bit words, so the frontend decodes operand fields itself, once, at lift time;
Capstone only supplies the assembly text (and the mnemonic of an instruction the table lacks). Semantic
functions register with `@encoding("pattern")`, a 32-character string of 0, 1 and x (spaces ignored).
"""
from __future__ import annotations

from typing import Callable

from dbt.exits import Access, ExitKind, GuestFault
from dbt.frontend import Fetch
from dbt.ir.block import Block, Const, Op, Value
from dbt.ir.builder import IRBuilder
from dbt.ir.types import I1, I32, I64, I128, Ty, int_of

from .registers import C, N, SP, V, VREG, X, Z

LiftFn = Callable[["Ctx", int], None]

# A block ends early once it holds this many IR operations (SIMD lanes make some instructions large;
# the JIT compiles regions of at most 1500 operations).
MAX_BLOCK_OPS = 800

# (mask, match, semantic function, pattern) in registration order; the first matching row wins.
ENCODINGS: list[tuple[int, int, LiftFn, str]] = []


def encoding(*patterns: str) -> Callable[[LiftFn], LiftFn]:
    """Register a semantic function for the words matching any of the bit patterns."""
    def register(fn: LiftFn) -> LiftFn:
        for pattern in patterns:
            bits = pattern.replace(" ", "").replace("_", "")
            if len(bits) != 32 or set(bits) - set("01x"):
                raise ValueError(f"aarch64: bad encoding pattern {pattern!r}")
            mask = int(bits.replace("0", "1").replace("x", "0"), 2)
            match = int(bits.replace("x", "0"), 2)
            ENCODINGS.append((mask, match, fn, pattern))
        return fn
    return register


def field(w: int, lo: int, n: int) -> int:
    """Bits lo .. lo+n-1 of the instruction word."""
    return (w >> lo) & ((1 << n) - 1)


def sign(v: int, bits: int) -> int:
    """A bits-wide field read as a two's-complement number."""
    return v - (1 << bits) if v >> (bits - 1) else v


def int_ty(sf: int) -> Ty:
    """I64 for sf = 1, I32 for sf = 0."""
    return I64 if sf else I32


def _cond_table():
    """Condition codes 0, 2, ..., 14 as functions of the flags (odd codes negate, except 15 = always)."""
    def ge(b, n, z, c, v): return b.cmp("eq", n, v)
    return {
        0: lambda b, n, z, c, v: z,
        2: lambda b, n, z, c, v: c,
        4: lambda b, n, z, c, v: n,
        6: lambda b, n, z, c, v: v,
        8: lambda b, n, z, c, v: b.and_(c, b.not_(z)),
        10: ge,
        12: lambda b, n, z, c, v: b.and_(b.not_(z), ge(b, n, z, c, v)),
        14: lambda b, n, z, c, v: Const(I1, 1),
    }


CONDITIONS = _cond_table()

# Condition codes as one comparison of the operands of the instruction that set the flags:
# "sub" (cmp x, y: subs), "test" (x = result of a logical op with S, y = 0: N, Z from it, C = V = 0).
FUSED = {
    "sub": {0: "eq", 1: "ne", 2: "uge", 3: "ult", 8: "ugt", 9: "ule", 10: "sge", 11: "slt", 12: "sgt",
            13: "sle"},
    "test": {0: "eq", 1: "ne", 4: "slt", 5: "sge", 10: "sge", 11: "slt", 12: "sgt", 13: "sle"},
}


class Ctx:
    """What a semantic function needs: the builder, the instruction's address, register helpers."""

    __slots__ = ("b", "pc", "word", "flag_origin")

    def __init__(self, b: IRBuilder) -> None:
        self.b = b
        self.pc = 0
        self.word = 0
        # (n, z, c, v, kind, x, y) of the last flag-setting comparison lifted in this block
        self.flag_origin: tuple | None = None

    @property
    def next_pc(self) -> int:
        return self.pc + 4

    # -- general-purpose registers: number 31 is the zero register or sp, depending on the operand --
    def x(self, n: int, sf: int = 1) -> Value:
        """Register n (31 reads as zero), 64-bit or its low 32 bits."""
        ty = int_ty(sf)
        if n == 31:
            return Const(ty, 0)
        v = self.b.get(X[n])
        return v if sf else self.b.trunc(v, I32)

    def xsp(self, n: int, sf: int = 1) -> Value:
        """Register n where 31 means sp."""
        if n != 31:
            return self.x(n, sf)
        v = self.b.get(SP)
        return v if sf else self.b.trunc(v, I32)

    def set_x(self, n: int, v: Value | int) -> None:
        """Write register n (31: discarded); a 32-bit value is zero-extended."""
        if isinstance(v, int):
            v = Const(I64, v)
        if v.ty is not I64:
            v = self.b.zext(v, I64)
        if n != 31:
            self.b.put(X[n], v)

    def set_xsp(self, n: int, v: Value) -> None:
        """Write register n where 31 means sp."""
        if n == 31:
            self.b.put(SP, v if v.ty is I64 else self.b.zext(v, I64))
        else:
            self.set_x(n, v)

    # -- flags and conditions --------------------------------------------------------------------
    def set_nzcv(self, n: Value, z: Value, c: Value, v: Value) -> None:
        for reg, val in ((N, n), (Z, z), (C, c), (V, v)):
            self.b.put(reg, val)

    def set_nzcv_imm(self, nzcv: int) -> None:
        """Flags from a 4-bit immediate (N is bit 3)."""
        self.set_nzcv(*(Const(I1, (nzcv >> s) & 1) for s in (3, 2, 1, 0)))

    def set_nz_logical(self, r: Value) -> None:
        """N and Z of a result, C and V cleared (logical operations with S)."""
        b = self.b
        flags = (b.cmp("slt", r, Const(r.ty, 0)), b.cmp("eq", r, Const(r.ty, 0)), Const(I1, 0), Const(I1, 0))
        self.set_nzcv(*flags)
        self.flag_origin = (*flags, "test", r, Const(r.ty, 0))

    def keep_flags_if(self, c: Value, nzcv: int) -> None:
        """After a conditional compare set the flags: keep them where c holds, else take the 4-bit
        immediate nzcv (N is bit 3)."""
        b = self.b
        for i, reg in enumerate((N, Z, C, V)):
            b.put(reg, b.select(c, b.get(reg), Const(I1, (nzcv >> (3 - i)) & 1)))

    def offset(self, base: Value, off: int) -> Value:
        """base + off, re-based onto base's own base when base is itself base' + constant (so the
        accesses of a block share one base and the JIT checks them together)."""
        b = self.b
        if isinstance(base, Op) and base.opcode == "add" and isinstance(base.args[1], Const):
            return b.add(base.args[0], Const(I64, (base.args[1].value + off) & I64.mask))
        return b.add(base, Const(I64, off & I64.mask))

    def cond(self, cc: int) -> Value:
        """The i1 value of condition code cc (a direct comparison when the flags still hold those of
        a comparison lifted earlier in this block)."""
        b = self.b
        origin = self.flag_origin
        if origin is not None and cc < 14 and all(b.get(r) is v for r, v in zip((N, Z, C, V), origin)):
            fused = FUSED[origin[4]].get(cc)
            if fused is not None:
                return b.cmp(fused, origin[5], origin[6])
        base = CONDITIONS[cc & 14]
        v = base(b, b.get(N), b.get(Z), b.get(C), b.get(V)) if cc & 14 != 14 else Const(I1, 1)
        return b.not_(v) if (cc & 1 and cc != 15) else v

    # -- SIMD and FP registers -----------------------------------------------------------------------
    def vreg(self, n: int) -> Value:
        return self.b.get(VREG[n])

    def set_vreg(self, n: int, v: Value) -> None:
        """Write all 128 bits of V[n] (narrower values are zero-extended)."""
        if v.ty is not I128:
            v = self.b.zext(v if v.ty.is_int else self.b.bitcast(v, int_of(v.ty)), I128)
        self.b.put(VREG[n], v)

    def vlow(self, n: int, ty: Ty) -> Value:
        """The low bits of V[n] as ty (an integer or a float)."""
        it = int_of(ty)
        v = self.b.trunc(self.vreg(n), it)
        return self.b.bitcast(v, ty) if ty.is_float else v

    def undefined(self) -> None:
        self.b.exit(ExitKind.UNDEF, self.pc, self.pc)


class Lifter:
    """Decodes with the encoding table and lifts basic blocks."""

    def __init__(self) -> None:
        self._cs = None
        self._decoded: dict[int, LiftFn | None] = {}

    @property
    def cs(self):
        """Capstone, imported when first needed (a run from the code cache may translate nothing)."""
        if self._cs is None:
            from capstone import CS_ARCH_ARM64, CS_MODE_ARM, Cs
            self._cs = Cs(CS_ARCH_ARM64, CS_MODE_ARM)
            self._cs.detail = False
        return self._cs

    def disassemble(self, code: bytes, addr: int) -> list[tuple[int, int, str]]:
        """(address, size, assembly text) for each instruction Capstone can decode in code."""
        return [(a, s, f"{m} {o}".strip()) for a, s, m, o in self.cs.disasm_lite(code, addr)]

    def text(self, raw: bytes, pc: int) -> str:
        """Capstone's assembly text for one word (or .inst when it cannot decode it)."""
        for _, _, m, o in self.cs.disasm_lite(raw, pc, 1):
            return f"{m} {o}".strip()
        return f".inst {int.from_bytes(raw, 'little'):#010x}"

    def decode(self, word: int) -> LiftFn | None:
        """The semantic function of a word, or None for an instruction outside the implemented set."""
        fn = self._decoded.get(word, False)
        if fn is False:
            fn = next((f for mask, match, f, _ in ENCODINGS if word & mask == match), None)
            if len(self._decoded) < 1 << 16:
                self._decoded[word] = fn
        return fn

    def lift_block(self, fetch: Fetch, pc: int, max_insns: int = 64) -> Block:
        """IR for the basic block at pc: at most max_insns instructions, ending in an explicit exit."""
        if pc & 3:
            raise GuestFault(pc, Access.EXEC, 4)
        block = Block("aarch64", pc)
        b = IRBuilder(block)
        ctx = Ctx(b)
        code = fetch(pc, max_insns * 4)
        n = len(code) // 4
        if n == 0:
            raise GuestFault(pc, Access.EXEC, 4)
        for i in range(n):
            raw = code[4 * i: 4 * i + 4]
            at = pc + 4 * i
            word = int.from_bytes(raw, "little")
            b.insn(at, 4, raw, self.text(raw, at))
            ctx.pc, ctx.word = at, word
            fn = self.decode(word)
            if fn is None:
                ctx.undefined()
            else:
                fn(ctx, word)
            if b.terminated:
                return block
            if len(block.ops) > MAX_BLOCK_OPS:
                n = i + 1
                break
        b.goto(pc + 4 * n)
        return block

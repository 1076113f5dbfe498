"""IRBuilder: how frontends emit IR.

It checks widths as it builds, folds constants and trivial identities, forwards register values within a
block (a `get` after a `put` of the same register is the put value), computes a pure operation on the
same operands once, and drops register writes that a later write makes dead before anything could
observe them.
"""
from __future__ import annotations

from ..state import Register
from .block import Block, Const, GuestInsn, Op, Value
from .ops import DYN, EXITS, FLOAT_CMP, INT_CMP, MEMORY, PURE, READS, info
from .types import F32, F64, I1, I32, I64, Ty


class IRError(Exception):
    """IR that breaks a rule of the IR: wrong widths, unknown opcode, malformed block."""


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise IRError(msg)


class IRBuilder:
    """Appends operations to one block, folding what can be folded."""

    def __init__(self, block: Block) -> None:
        self.block = block
        self._next_id = 0
        self._regs: dict[Register, Value] = {}
        self._pure: dict[tuple, Op] = {}  # pure operations by opcode, type, attributes and operands
        self._terminated = False

    # -- plumbing -------------------------------------------------------------------------------
    def emit(self, opcode: str, ty: Ty | None, args: tuple = (), attrs: tuple = ()) -> Op:
        """Append one operation (no folding; a pure operation the block already computes from the same
        operands is not computed again); the escape hatch every helper below goes through."""
        _check(not self._terminated, f"operation {opcode} after the block's terminator")
        key = None
        if info(opcode).effect == PURE:
            key = (opcode, ty, attrs, *((a.ty, a.value) if isinstance(a, Const) else a for a in args))
            same = self._pure.get(key)
            if same is not None:
                return same
        op = Op(opcode, ty, args, attrs, self._next_id)
        self._next_id += 1
        self.block.ops.append(op)
        if key is not None:
            self._pure[key] = op
        return op

    @staticmethod
    def const(ty: Ty, value: int) -> Const:
        return Const(ty, value)

    def _as_value(self, v: Value | int, ty: Ty) -> Value:
        return Const(ty, v) if isinstance(v, int) else v

    # -- guest instructions and registers -------------------------------------------------------
    def insn(self, pc: int, size: int, raw: bytes, text: str) -> None:
        """Mark the start of a guest instruction."""
        self.block.insns.append(GuestInsn(pc, size, raw, text))
        self.emit("insn", None, (), (pc, size))

    def get(self, reg: Register) -> Value:
        v = self._regs.get(reg)
        if v is None:
            v = self._regs[reg] = self.emit("get", reg.ty, (), (reg,))
        return v

    def put(self, reg: Register, value: Value | int) -> None:
        value = self._as_value(value, reg.ty)
        _check(value.ty is reg.ty, f"put {reg.name}: value is {value.ty}, register is {reg.ty}")
        self._regs[reg] = value
        self.emit("put", None, (value,), (reg,))

    # -- integer operations ---------------------------------------------------------------------
    def binop(self, opcode: str, a: Value | int, b: Value | int) -> Value:
        if isinstance(a, int):
            a = Const(b.ty, a)
        if isinstance(b, int):
            b = Const(a.ty, b)
        _check(a.ty is b.ty and a.ty.is_int, f"{opcode}: operand types {a.ty} and {b.ty}")
        folded = _fold_binary(opcode, a, b)
        if folded is not None:
            return folded
        return self.emit(opcode, a.ty, (a, b))

    def add(self, a, b): return self.binop("add", a, b)
    def sub(self, a, b): return self.binop("sub", a, b)
    def mul(self, a, b): return self.binop("mul", a, b)
    def and_(self, a, b): return self.binop("and", a, b)
    def or_(self, a, b): return self.binop("or", a, b)
    def xor(self, a, b): return self.binop("xor", a, b)
    def shl(self, a, b): return self.binop("shl", a, b)
    def lshr(self, a, b): return self.binop("lshr", a, b)
    def ashr(self, a, b): return self.binop("ashr", a, b)

    def unop(self, opcode: str, a: Value) -> Value:
        """clz, ctz, popcnt, bswap or bitrev."""
        _check(a.ty.is_int, f"{opcode} of {a.ty}")
        _check(opcode != "bswap" or a.ty.bits % 8 == 0, f"bswap of {a.ty}")
        if isinstance(a, Const):
            from backends.interp.semantics import eval_unary
            return Const(a.ty, eval_unary(opcode, a.ty, a.value))
        return self.emit(opcode, a.ty, (a,))

    def neg(self, a: Value) -> Value:
        return self.binop("sub", Const(a.ty, 0), a)

    def not_(self, a: Value) -> Value:
        return self.binop("xor", a, Const(a.ty, a.ty.mask))

    def cmp(self, cond: str, a: Value | int, b: Value | int) -> Value:
        if isinstance(a, int):
            a = Const(b.ty, a)
        if isinstance(b, int):
            b = Const(a.ty, b)
        _check(cond in INT_CMP, f"unknown integer condition {cond!r}")
        _check(a.ty is b.ty and a.ty.is_int, f"cmp.{cond}: operand types {a.ty} and {b.ty}")
        if isinstance(a, Const) and isinstance(b, Const):
            from backends.interp.semantics import eval_cmp
            return Const(I1, eval_cmp(cond, a.ty, a.value, b.value))
        return self.emit("cmp", I1, (a, b), (cond,))

    def select(self, c: Value, a: Value | int, b: Value | int) -> Value:
        if isinstance(a, int):
            a = Const(b.ty, a)
        if isinstance(b, int):
            b = Const(a.ty, b)
        _check(c.ty is I1, f"select: condition is {c.ty}, not i1")
        _check(a.ty is b.ty, f"select: operand types {a.ty} and {b.ty}")
        if isinstance(c, Const):
            return a if c.value else b
        if a is b:
            return a
        return self.emit("select", a.ty, (c, a, b))

    def _cast(self, opcode: str, v: Value, ty: Ty) -> Value:
        if v.ty is ty:
            return v
        if opcode == "bitcast":
            _check(v.ty.bits == ty.bits, f"bitcast {v.ty} to {ty}: widths differ")
        else:
            _check(v.ty.is_int and ty.is_int, f"{opcode} {v.ty} to {ty}: integers only")
            wider = opcode != "trunc"
            _check((ty.bits > v.ty.bits) == wider, f"{opcode} {v.ty} to {ty}: wrong direction")
        if isinstance(v, Const) and (opcode != "bitcast"):
            from backends.interp.semantics import eval_cast
            return Const(ty, eval_cast(opcode, v.ty, ty, v.value))
        if isinstance(v, Const):
            return Const(ty, v.value)
        if isinstance(v, Op) and v.args and v.args[0].ty is ty and (
                (opcode == "trunc" and v.opcode in ("zext", "sext")) or (opcode == v.opcode == "bitcast")):
            return v.args[0]
        return self.emit(opcode, ty, (v,))

    def zext(self, v: Value, ty: Ty) -> Value: return self._cast("zext", v, ty)
    def sext(self, v: Value, ty: Ty) -> Value: return self._cast("sext", v, ty)
    def trunc(self, v: Value, ty: Ty) -> Value: return self._cast("trunc", v, ty)
    def bitcast(self, v: Value, ty: Ty) -> Value: return self._cast("bitcast", v, ty)

    # -- memory ---------------------------------------------------------------------------------
    def load(self, ty: Ty, addr: Value | int, for_write: bool = False) -> Op:
        """A guest load; for_write marks the load half of a read-modify-write (atomic) access."""
        addr = self._as_value(addr, I64)
        _check(addr.ty is I64, f"load address is {addr.ty}, not i64")
        return self.emit("load", ty, (addr,), (bool(for_write),))

    def trap_if(self, cond: Value, kind: int) -> None:
        """Leave before the current instruction with `kind` when cond holds (emit before any put)."""
        _check(cond.ty is I1, f"trap_if condition is {cond.ty}, not i1")
        if isinstance(cond, Const):
            if cond.value:
                self.exit(kind, self.block.insns[-1].pc, self.block.insns[-1].pc)
            return
        self.emit("trap_if", None, (cond,), (kind,))

    def store(self, addr: Value | int, value: Value) -> None:
        addr = self._as_value(addr, I64)
        _check(addr.ty is I64, f"store address is {addr.ty}, not i64")
        self.emit("store", value.ty, (addr, value))

    # -- floating point -------------------------------------------------------------------------
    def fbinop(self, opcode: str, a: Value, b: Value, rm: int = DYN) -> Op:
        _check(a.ty is b.ty and a.ty.is_float, f"{opcode}: operand types {a.ty} and {b.ty}")
        return self.emit(opcode, a.ty, (a, b), (rm,))

    def fsqrt(self, a: Value, rm: int = DYN) -> Op:
        _check(a.ty.is_float, f"fsqrt of {a.ty}")
        return self.emit("fsqrt", a.ty, (a,), (rm,))

    def fma(self, a: Value, b: Value, c: Value, rm: int = DYN) -> Op:
        _check(a.ty is b.ty is c.ty and a.ty.is_float, f"fma: operand types {a.ty}, {b.ty}, {c.ty}")
        return self.emit("fma", a.ty, (a, b, c), (rm,))

    def fminmax(self, opcode: str, a: Value, b: Value) -> Op:
        _check(a.ty is b.ty and a.ty.is_float, f"{opcode}: operand types {a.ty} and {b.ty}")
        return self.emit(opcode, a.ty, (a, b))

    def fcmp(self, cond: str, a: Value, b: Value, signaling: bool) -> Op:
        _check(cond in FLOAT_CMP, f"unknown float condition {cond!r}")
        _check(a.ty is b.ty and a.ty.is_float, f"fcmp: operand types {a.ty} and {b.ty}")
        return self.emit("fcmp", I1, (a, b), (cond, bool(signaling)))

    def fcvt(self, a: Value, ty: Ty, rm: int = DYN) -> Op:
        _check(a.ty.is_float and ty.is_float and a.ty is not ty, f"fcvt {a.ty} to {ty}")
        return self.emit("fcvt", ty, (a,), (rm,))

    def f2i(self, a: Value, ty: Ty, signed: bool, rm: int = DYN) -> Op:
        _check(a.ty.is_float and ty in (I32, I64), f"f2i {a.ty} to {ty}")
        return self.emit("f2i", ty, (a,), (bool(signed), rm))

    def i2f(self, a: Value, ty: Ty, signed: bool, rm: int = DYN) -> Op:
        _check(a.ty in (I32, I64) and ty in (F32, F64), f"i2f {a.ty} to {ty}")
        return self.emit("i2f", ty, (a,), (bool(signed), rm))

    def fround(self, a: Value, rm: int, exact: bool) -> Op:
        _check(a.ty.is_float, f"fround of {a.ty}")
        return self.emit("fround", a.ty, (a,), (rm, bool(exact)))

    def getflags(self) -> Op: return self.emit("getflags", I32)
    def getround(self) -> Op: return self.emit("getround", I32)

    def setflags(self, v: Value | int) -> None:
        v = self._as_value(v, I32)
        _check(v.ty is I32, f"setflags of {v.ty}")
        self.emit("setflags", None, (v,))

    def setround(self, v: Value | int) -> None:
        v = self._as_value(v, I32)
        _check(v.ty is I32, f"setround of {v.ty}")
        self.emit("setround", None, (v,))

    def call(self, helper: str, ty: Ty | None, *args: Value) -> Op:
        """Call a runtime helper registered under `helper` (see dbt.helpers)."""
        from ..helpers import HELPERS
        _check(helper in HELPERS, f"unknown helper {helper!r}")
        return self.emit("call", ty, tuple(args), (helper,))

    # -- terminators ----------------------------------------------------------------------------
    def _terminate(self, opcode: str, args: tuple = (), attrs: tuple = ()) -> None:
        self.emit(opcode, None, args, attrs)
        self._terminated = True
        _drop_dead_puts(self.block.ops)
        _drop_unused(self.block.ops)

    def goto(self, target: int) -> None:
        self._terminate("goto", (), (target & I64.mask,))

    def goto_ind(self, target: Value) -> None:
        _check(target.ty is I64, f"goto_ind of {target.ty}")
        if isinstance(target, Const):
            self.goto(target.value)
        else:
            self._terminate("goto_ind", (target,))

    def br(self, cond: Value, target: int, fallthrough: int) -> None:
        _check(cond.ty is I1, f"br condition is {cond.ty}, not i1")
        if isinstance(cond, Const):
            self.goto(target if cond.value else fallthrough)
        elif target == fallthrough:
            self.goto(target)
        else:
            self._terminate("br", (cond,), (target & I64.mask, fallthrough & I64.mask))

    def exit(self, kind: int, pc: int, next_pc: int) -> None:
        self._terminate("exit", (), (kind, pc, next_pc))

    @property
    def terminated(self) -> bool:
        return self._terminated


_IDENTITY_RIGHT = {"add": 0, "sub": 0, "or": 0, "xor": 0, "shl": 0, "lshr": 0, "ashr": 0, "mul": 1,
                   "udiv": 1, "sdiv": 1}


def _fold_binary(opcode: str, a: Value, b: Value) -> Value | None:
    """A constant or an operand when the operation is trivial; None when it must be emitted."""
    ca, cb = isinstance(a, Const), isinstance(b, Const)
    if ca and cb:
        from backends.interp.semantics import eval_binary
        return Const(a.ty, eval_binary(opcode, a.ty, a.value, b.value))
    if cb:
        if _IDENTITY_RIGHT.get(opcode) == b.value:
            return a
        if opcode in ("shl", "lshr", "ashr") and b.value % a.ty.bits == 0:
            return a
        if opcode == "and":
            if b.value == a.ty.mask:
                return a
            if b.value == 0:
                return b
        if opcode == "mul" and b.value == 0:
            return b
    if ca:
        if a.value == 0 and opcode in ("add", "or", "xor"):
            return b
        if opcode == "and":
            if a.value == a.ty.mask:
                return b
            if a.value == 0:
                return a
        if opcode == "mul" and a.value == 1:
            return b
    return None


def _drop_dead_puts(ops: list[Op]) -> None:
    """Remove register writes overwritten later in the block before any op that can leave it."""
    overwritten: set = set()
    dead = []
    for i in range(len(ops) - 1, -1, -1):
        op = ops[i]
        if op.opcode == "put":
            reg = op.attrs[0]
            if reg in overwritten:
                dead.append(i)
            else:
                overwritten.add(reg)
        elif info(op.opcode).effect in (MEMORY, EXITS):
            overwritten.clear()
    for i in dead:  # descending order keeps indices valid
        del ops[i]


def _drop_unused(ops: list[Op]) -> None:
    """Remove pure operations and register reads whose values nothing uses."""
    uses: dict[Op, int] = {}
    for op in ops:
        for a in op.args:
            if isinstance(a, Op):
                uses[a] = uses.get(a, 0) + 1
    keep = []
    for op in reversed(ops):
        if op.ty is not None and not uses.get(op) and info(op.opcode).effect in (PURE, READS):
            for a in op.args:
                if isinstance(a, Op):
                    uses[a] -= 1
            continue
        keep.append(op)
    keep.reverse()
    ops[:] = keep


__all__ = ["IRBuilder", "IRError"]

"""The IR's text form, for people and golden tests.

    block riscv64 0x10078
      insn 0x10078, 4                 ; addi a0, a0, 1
      %0 = get.i64 a0
      %1 = add.i64 %0, 1
      put a0, %1
      goto 0x1007c

Values are renumbered from %0 in order. A constant operand is printed bare when its type is the one the
operation implies (see operand_types), and as `value:type` otherwise.
"""
from __future__ import annotations

from .block import Block, Const, Op, Value
from .ops import RM_NAMES
from .types import I1, I32, I64, Ty
from ..exits import ExitKind


def operand_types(opcode: str, ty: Ty | None, args: tuple[Value, ...], attrs: tuple = ()) -> list[Ty | None]:
    """The type each operand must have (None: any, checked elsewhere), used by printer, parser, verifier."""
    n = len(args)
    if opcode == "put":
        return [attrs[0].ty]
    if opcode in ("setflags", "setround"):
        return [I32]
    if opcode in ("load", "goto_ind"):
        return [I64]
    if opcode == "store":
        return [I64, ty]
    if opcode in ("select",):
        return [I1, ty, ty]
    if opcode in ("br", "trap_if"):
        return [I1]
    if opcode in ("cmp", "fcmp"):
        known = next((a.ty for a in args if not isinstance(a, Const)), None)
        return [known, known]
    if opcode in ("zext", "sext", "trunc", "bitcast", "fcvt", "f2i", "i2f", "call"):
        return [None] * n
    return [ty] * n


def reg_name(reg) -> str:
    """A register as IR text shows it: its first alias (the ABI name) when it has one."""
    return reg.aliases[0] if reg.aliases else reg.name


def _literal(value: int, ty: Ty) -> str:
    if ty.is_int and ty.bits > 1 and value >> (ty.bits - 1):
        neg = value - (1 << ty.bits)
        if neg >= -4096:
            return str(neg)
    return str(value) if value < 4096 else hex(value)


class _Names:
    def __init__(self) -> None:
        self.ids: dict[Op, int] = {}

    def define(self, op: Op) -> str:
        self.ids[op] = len(self.ids)
        return f"%{self.ids[op]}"

    def ref(self, v: Value, expected: Ty | None) -> str:
        if isinstance(v, Const):
            lit = _literal(v.value, v.ty)
            return lit if expected is v.ty else f"{lit}:{v.ty}"
        if v not in self.ids:
            return f"%?{v.id}"
        return f"%{self.ids[v]}"


def _mnemonic(op: Op) -> str:
    code, a = op.opcode, op.attrs
    ty = f".{op.ty}" if op.ty is not None else ""
    if code == "cmp":
        return f"cmp.{a[0]}"
    if code == "fcmp":
        return f"fcmp.{a[0]}.{'s' if a[1] else 'q'}"
    if code in ("fadd", "fsub", "fmul", "fdiv", "fsqrt", "fma", "fcvt"):
        return f"{code}{ty}.{RM_NAMES[a[0]]}"
    if code in ("f2i", "i2f"):
        return f"{code}{ty}.{'s' if a[0] else 'u'}.{RM_NAMES[a[1]]}"
    if code == "fround":
        return f"fround{ty}.{RM_NAMES[a[0]]}{'.exact' if a[1] else ''}"
    if code == "put" or code == "getflags" or code == "getround" or code == "icount":
        return code
    return code + ty


def format_op(op: Op, names: _Names, insn_text: str = "") -> str:
    code, a = op.opcode, op.attrs
    types = operand_types(code, op.ty, op.args, op.attrs)
    args = [names.ref(v, t) for v, t in zip(op.args, types)]
    if code == "insn":
        text = f"insn {a[0]:#x}, {a[1]}"
        return f"{text:<32}; {insn_text}" if insn_text else text
    if code == "get":
        return f"{names.define(op)} = get.{op.ty} {reg_name(a[0])}"
    if code == "put":
        return f"put {reg_name(a[0])}, {args[0]}"
    if code == "call":
        call = f"call{'.' + str(op.ty) if op.ty else ''} {a[0]}({', '.join(args)})"
        return f"{names.define(op)} = {call}" if op.ty is not None else call
    if code == "goto":
        return f"goto {a[0]:#x}"
    if code == "br":
        return f"br {args[0]}, {a[0]:#x}, {a[1]:#x}"
    if code == "exit":
        return f"exit {ExitKind(a[0]).name.lower()}, {a[1]:#x}, {a[2]:#x}"
    if code == "trap_if":
        return f"trap_if {args[0]}, {ExitKind(a[0]).name.lower()}"
    if code == "load" and a[0]:
        return f"{names.define(op)} = load.{op.ty}.for_write {args[0]}"
    text = _mnemonic(op) + (" " + ", ".join(args) if args else "")
    if op.ty is not None and code != "store":
        return f"{names.define(op)} = {text}"
    return text


def format_block(block: Block) -> str:
    """The whole block as text (see the module docstring)."""
    names = _Names()
    lines = [f"block {block.isa} {block.pc:#x}"]
    k = 0
    for op in block.ops:
        text = ""
        if op.opcode == "insn":
            text = block.insns[k].text if k < len(block.insns) else ""
            k += 1
        lines.append("  " + format_op(op, names, text))
    return "\n".join(lines) + "\n"

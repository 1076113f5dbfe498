"""IR values, operations and blocks.

An operation is also the SSA value it produces (as in LLVM). A block is a straight-line list of
operations, with `insn` markers at guest instruction boundaries, ending in one terminator.
"""
from __future__ import annotations

from typing import Any

from .ops import info
from .types import Ty


class Value:
    """Something an operation can take as an operand."""

    __slots__ = ("ty",)


class Const(Value):
    """A constant: an int masked to its type's width (floats are given by their bit pattern)."""

    __slots__ = ("value",)

    def __init__(self, ty: Ty, value: int) -> None:
        self.ty = ty
        self.value = value & ty.mask

    def __repr__(self) -> str:
        return f"Const({self.ty}, {self.value:#x})"


class Op(Value):
    """One IR operation: opcode, operands, attributes and (for value-producing ops) a result type."""

    __slots__ = ("opcode", "args", "attrs", "id")

    def __init__(self, opcode: str, ty: Ty | None, args: tuple[Value, ...] = (), attrs: tuple = (),
                 id: int = -1) -> None:
        self.opcode = opcode
        self.ty = ty
        self.args = args
        self.attrs = attrs
        self.id = id

    def attr(self, name: str) -> Any:
        """The attribute called `name` (as the op table names it)."""
        return self.attrs[info(self.opcode).attrs.index(name)]

    def __repr__(self) -> str:
        return f"Op(%{self.id} {self.opcode})"


class GuestInsn:
    """A decoded guest instruction as the frontend saw it: address, size, raw bytes, assembly text."""

    __slots__ = ("pc", "size", "raw", "text")

    def __init__(self, pc: int, size: int, raw: bytes, text: str) -> None:
        self.pc = pc
        self.size = size
        self.raw = raw
        self.text = text

    def __repr__(self) -> str:
        return f"GuestInsn({self.pc:#x}, {self.text!r})"


class Block:
    """A translated basic block: the guest instructions it covers and the IR that implements them."""

    __slots__ = ("isa", "pc", "insns", "ops", "return_to")

    def __init__(self, isa: str, pc: int) -> None:
        self.isa = isa
        self.pc = pc
        self.insns: list[GuestInsn] = []
        self.ops: list[Op] = []
        # For a block ending in a call: the guest address the callee returns to (a region-forming hint).
        self.return_to: int | None = None

    @property
    def end(self) -> int:
        """The guest address just past the block's last instruction."""
        if not self.insns:
            return self.pc
        last = self.insns[-1]
        return last.pc + last.size

    @property
    def terminator(self) -> Op:
        return self.ops[-1]

    def successors(self) -> tuple[int, ...]:
        """The constant guest addresses control can reach from this block's end."""
        t = self.terminator
        if t.opcode == "goto":
            return (t.attrs[0],)
        if t.opcode == "br":
            return (t.attrs[0], t.attrs[1])
        return ()

    def __str__(self) -> str:
        from .printer import format_block
        return format_block(self)

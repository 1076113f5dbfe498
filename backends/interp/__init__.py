"""The reference interpreter, also the cold tier: each IR block becomes one generated Python function.

`compile_block` turns a block into a code object once; `InterpEnv.bind` makes a callable of it for one
CPU state and guest memory. The generated code's contract is described in backends.interp.codegen.
"""
from __future__ import annotations

from types import CodeType, FunctionType

from dbt.exits import ExitKind, GuestTrap
from dbt.helpers import HELPERS
from dbt.ir.block import Block
from dbt.memory import GuestMemory
from dbt.state import CPUState

from . import fpops
from .codegen import generate
from .semantics import BINARY, UNARY


def _trap(kind: int) -> GuestTrap:
    return GuestTrap(ExitKind(kind))


class CompiledBlock:
    """A block's function code, the names it takes from the environment, and the map from source line
    to guest instruction index."""

    __slots__ = ("code", "params", "line_insn", "source")

    def __init__(self, code: CodeType, params: tuple[str, ...], line_insn: list[int], source: str) -> None:
        self.code = code
        self.params = params
        self.line_insn = line_insn
        self.source = source


def compile_block(block: Block) -> CompiledBlock:
    gen = generate(block)
    module = compile(gen.source, f"<block {block.isa} {block.pc:#x}>", "exec")
    code = next(c for c in module.co_consts if isinstance(c, CodeType))
    return CompiledBlock(code, tuple(sorted(gen.names)), gen.line_insn, gen.source)


class InterpEnv:
    """The names generated code may use, bound to one CPU state and one guest memory."""

    def __init__(self, state: CPUState, memory: GuestMemory) -> None:
        self.names = {
            "S": state.words,
            "MB": memory.view8, "MH": memory.view16, "MI": memory.view32, "MQ": memory.view64,
            "P": memory.perm, "LIM": memory.size,
            "LD": memory.load, "LDW": memory.load_for_write, "ST": memory.store,
            "TRAP": _trap,
            "SF": fpops, "DIV": BINARY, "UN": UNARY,
        }
        for name, h in HELPERS.items():
            self.names[f"H_{name}"] = h.fn

    def bind(self, compiled: CompiledBlock):
        """A zero-argument function that runs the block and returns the next PC (see codegen)."""
        fn = FunctionType(compiled.code, {})
        fn.__defaults__ = tuple(self.names[n] for n in compiled.params)
        return fn


def block_code(fn) -> CodeType:
    """The code object of a bound block function (to find the faulting line in a traceback)."""
    return fn.__code__

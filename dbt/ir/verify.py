"""The IR verifier: checks a block against the rules every backend relies on.

- every opcode is in the op table, with the right operand count and attribute count;
- operand types match what the operation implies (printer.operand_types), results have sane types;
- SSA: an operand is a constant or an op defined earlier in the same block;
- the block starts with an `insn` marker and ends with exactly one terminator;
- within one guest instruction, every memory access comes before the first register write, so an
  instruction that faults (or that the JIT hands back to the interpreter) has changed no register.
"""
from __future__ import annotations

from .block import Block, Const, Op
from .builder import IRError
from .ops import MEMORY, TERMINATOR, info
from .printer import operand_types
from .types import I1, I32, I64


def verify(block: Block) -> None:
    """Raise IRError naming the block, the op and the rule it breaks."""
    defined: set[Op] = set()
    ops = block.ops
    where = f"block {block.isa} {block.pc:#x}"
    if not ops or ops[0].opcode != "insn":
        raise IRError(f"{where}: does not start with an insn marker")
    wrote_register = False
    n_insns = 0
    for i, op in enumerate(ops):
        row = info(op.opcode)
        at = f"{where}, op {i} ({op.opcode})"
        if row.nargs >= 0 and len(op.args) != row.nargs:
            raise IRError(f"{at}: {len(op.args)} operands, expected {row.nargs}")
        if len(op.attrs) != len(row.attrs):
            raise IRError(f"{at}: {len(op.attrs)} attributes, expected {len(row.attrs)} {row.attrs}")
        for a in op.args:
            if isinstance(a, Op) and a not in defined:
                raise IRError(f"{at}: operand %{a.id} used before it is defined in this block")
            if not isinstance(a, (Op, Const)):
                raise IRError(f"{at}: operand {a!r} is not an IR value")
        for k, (a, t) in enumerate(zip(op.args, operand_types(op.opcode, op.ty, op.args, op.attrs))):
            if t is not None and a.ty is not t:
                raise IRError(f"{at}: operand {k} is {a.ty}, expected {t}")
        _check_result(op, row.result, at)
        if (row.effect == TERMINATOR) != (i == len(ops) - 1):
            raise IRError(f"{at}: terminators must end the block, and only there")
        if op.opcode == "insn":
            n_insns += 1
            wrote_register = False
        elif op.opcode == "put":
            wrote_register = True
        elif row.effect == MEMORY and wrote_register:
            raise IRError(f"{at}: memory access after a register write in the same guest instruction "
                          f"(instruction at {block.insns[n_insns - 1].pc:#x})")
        defined.add(op)
    if n_insns != len(block.insns):
        raise IRError(f"{where}: {n_insns} insn markers for {len(block.insns)} instructions")


def _check_result(op: Op, rule: str, at: str) -> None:
    fixed = {"i1": I1, "i32": I32, "i64": I64}
    if rule == "none":
        if op.ty is not None and op.opcode != "store":
            raise IRError(f"{at}: has a result type {op.ty} but produces no value")
    elif rule in fixed:
        if op.ty is not fixed[rule]:
            raise IRError(f"{at}: result is {op.ty}, expected {fixed[rule]}")
    elif rule == "same":
        if op.args and op.ty is not op.args[0].ty:
            raise IRError(f"{at}: result is {op.ty}, operand is {op.args[0].ty}")
    elif op.ty is None and op.opcode != "call":
        raise IRError(f"{at}: needs a result type")

"""The closed set of IR operations, declared once as a table.

Each row names an opcode, its operand count, its attributes, its effect class and how its result type
is found. Backends are tables keyed by these names; an opcode a backend lacks is a loud error.
The meaning of every opcode is defined by the reference interpreter (backends/interp).
"""
from __future__ import annotations

from dataclasses import dataclass

# Effect classes: how an operation interacts with the world outside its operands.
PURE = "pure"        # no side effects, can be removed when unused, never exits
READS = "reads"      # reads guest state (registers, FP environment); removable when unused
WRITES = "writes"    # writes guest state; never exits
MEMORY = "memory"    # guest memory access: may leave the block with a fault
EXITS = "exits"      # may leave the block (helper calls)
MARKER = "marker"    # guest instruction boundary
TERMINATOR = "terminator"  # ends the block


@dataclass(frozen=True)
class OpInfo:
    name: str
    nargs: int
    attrs: tuple[str, ...]
    effect: str
    result: str  # "same" (type of operand 0), "attr" (op.ty set by builder), "i1", "i32", or "none"
    doc: str


def _rows(names: str, nargs: int, attrs: tuple, effect: str, result: str, doc: str) -> list[OpInfo]:
    return [OpInfo(n, nargs, attrs, effect, result, doc) for n in names.split()]


INT_BINARY = ("add", "sub", "mul", "and", "or", "xor", "shl", "lshr", "ashr", "udiv", "sdiv", "urem", "srem")
INT_UNARY = ("clz", "ctz", "popcnt", "bswap", "bitrev")
INT_CMP = ("eq", "ne", "ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge")
FLOAT_CMP = ("eq", "lt", "le", "un")
FP_BINARY = ("fadd", "fsub", "fmul", "fdiv")
CASTS = ("zext", "sext", "trunc", "bitcast")

# Rounding modes of FP operations: the static ones, and DYN for "the FP environment's current mode".
RNE, RTZ, RDN, RUP, RMM, DYN = 0, 1, 2, 3, 4, 7
RM_NAMES = {RNE: "rne", RTZ: "rtz", RDN: "rdn", RUP: "rup", RMM: "rmm", DYN: "dyn"}
RM_BY_NAME = {v: k for k, v in RM_NAMES.items()}

# Accrued FP exception flags (IR encoding, the same bit order as RISC-V fflags).
FLAG_NX, FLAG_UF, FLAG_OF, FLAG_DZ, FLAG_NV = 1, 2, 4, 8, 16

_TABLE: list[OpInfo] = [
    *_rows(" ".join(INT_BINARY), 2, (), PURE, "same",
           "integer arithmetic on equal types; shifts take the amount modulo the width; division by zero "
           "gives 0 (urem/srem: the dividend); sdiv of MIN by -1 gives MIN (srem: 0)"),
    *_rows(" ".join(INT_UNARY), 1, (), PURE, "same",
           "count leading zeros, count trailing zeros (the width for 0), population count, "
           "byte swap (widths of whole bytes), bit reversal"),
    OpInfo("cmp", 2, ("cond",), PURE, "i1", "integer comparison " + "/".join(INT_CMP)),
    OpInfo("select", 3, (), PURE, "attr", "c ? a : b for an i1 condition"),
    *_rows(" ".join(CASTS), 1, (), PURE, "attr",
           "zero/sign extension, truncation, and reinterpretation between an int and a float of one width"),
    OpInfo("get", 0, ("reg",), READS, "attr", "read a guest register"),
    OpInfo("put", 1, ("reg",), WRITES, "none", "write a guest register"),
    OpInfo("load", 1, ("for_write",), MEMORY, "attr",
           "little-endian guest memory load of op.ty from an i64 address; for_write: the load of a "
           "read-modify-write (atomic) access, which needs write permission and faults as a write"),
    OpInfo("store", 2, (), MEMORY, "none", "little-endian guest memory store (address, value)"),
    OpInfo("trap_if", 1, ("kind",), MEMORY, "none",
           "leave the block before the current instruction with an ExitKind (e.g. UNDEF) if the i1 is set"),
    *_rows(" ".join(FP_BINARY), 2, ("rm",), WRITES, "same",
           "IEEE arithmetic with a rounding mode; accrues FP flags; a NaN result is the default NaN"),
    OpInfo("fsqrt", 1, ("rm",), WRITES, "same", "IEEE square root"),
    OpInfo("fma", 3, ("rm",), WRITES, "same", "a*b+c rounded once; inf*0 raises NV even with a quiet NaN addend"),
    *_rows("fmin fmax", 2, (), WRITES, "same",
           "IEEE 754-2019 minimumNumber/maximumNumber: -0 < +0, a NaN operand yields the other"),
    OpInfo("fcmp", 2, ("cond", "signaling"), WRITES, "i1",
           "float comparison " + "/".join(FLOAT_CMP) + "; signaling comparisons raise NV on any NaN"),
    OpInfo("fcvt", 1, ("rm",), WRITES, "attr", "float to float of another width"),
    OpInfo("f2i", 1, ("signed", "rm"), WRITES, "attr",
           "float to integer, saturating; NaN gives 0 and raises NV"),
    OpInfo("i2f", 1, ("signed", "rm"), WRITES, "attr", "integer to float"),
    OpInfo("fround", 1, ("rm", "exact"), WRITES, "same", "round to an integral value in the same format"),
    OpInfo("getflags", 0, (), READS, "i32", "the accrued FP exception flags"),
    OpInfo("setflags", 1, (), WRITES, "none", "replace the accrued FP exception flags (an i32)"),
    OpInfo("getround", 0, (), READS, "i32", "the FP environment's rounding mode"),
    OpInfo("setround", 1, (), WRITES, "none", "set the FP environment's rounding mode (an i32)"),
    OpInfo("icount", 0, (), READS, "i64", "guest instructions executed before the current one (exact)"),
    OpInfo("call", -1, ("helper",), EXITS, "attr", "call a named runtime helper for a rare complex operation"),
    OpInfo("insn", 0, ("pc", "size"), MARKER, "none", "start of the guest instruction at pc"),
    OpInfo("goto", 0, ("target",), TERMINATOR, "none", "continue at a constant guest address"),
    OpInfo("goto_ind", 1, (), TERMINATOR, "none", "continue at a computed guest address"),
    OpInfo("br", 1, ("target", "fallthrough"), TERMINATOR, "none", "continue at target if the i1 is set"),
    OpInfo("exit", 0, ("kind", "pc", "next"), TERMINATOR, "none",
           "leave translated code for the runtime: system call, breakpoint, undefined instruction, ..."),
]

OPS: dict[str, OpInfo] = {row.name: row for row in _TABLE}


def info(opcode: str) -> OpInfo:
    """The table row of an opcode; an unknown opcode is an error that names it."""
    try:
        return OPS[opcode]
    except KeyError:
        raise KeyError(f"unknown IR opcode {opcode!r}") from None

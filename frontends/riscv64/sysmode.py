"""The RV64GC frontend for system mode ("riscv64-system"): user code lifts exactly as in user mode, and
every instruction the privileged architecture governs ends the block with a PRIV exit at its own PC,
so the VMM monitor emulates it (trap and emulate): ecall, ebreak, mret, sret, wfi, sfence.vma, and
every CSR access except the unprivileged floating-point CSRs and cycle/instret."""
from __future__ import annotations

from dbt.exits import ExitKind
from dbt.frontend import Fetch
from dbt.ir.block import Block

from . import RiscV64
from .lifter import COMPRESSED, Ctx, Lifter, _lift_one
from .semantics.system import CYCLE, FCSR, FFLAGS, FRM, INSTRET

PRIVILEGED = frozenset({"ecall", "ebreak", "mret", "sret", "uret", "wfi", "sfence_vma"})
CSR_KEYS = frozenset({"csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci"})
INLINE_CSRS = frozenset({FFLAGS, FRM, FCSR, CYCLE, INSTRET})


def is_privileged(key: str, word: int) -> bool:
    """True if the instruction (Capstone key, raw word) must be emulated by the monitor."""
    key = COMPRESSED.get(key, (key,))[0]
    return key in PRIVILEGED or (key in CSR_KEYS and (word >> 20) not in INLINE_CSRS)


class SystemLifter(Lifter):
    """The user-mode lifter with privileged instructions turned into PRIV exits."""

    def _lift(self, ctx: Ctx, at: int, raw: bytes, text: str, key: str) -> None:
        ctx.b.insn(at, len(raw), raw, text)
        ctx.pc, ctx.size = at, len(raw)
        word = int.from_bytes(raw, "little")
        if is_privileged(key, word):
            ctx.b.exit(ExitKind.PRIV, at, at)
        else:
            _lift_one(ctx, key, word)


class RiscV64System(RiscV64):
    """RV64GC for a whole machine: privileged instructions exit to the monitor."""

    name = "riscv64-system"

    def __init__(self) -> None:
        self._lifter = SystemLifter()

    def lift_block(self, fetch: Fetch, pc: int, max_insns: int = 64) -> Block:
        return self._lifter.lift_block(fetch, pc, max_insns)


FRONTEND = RiscV64System()

"""The execution engine: one guest CPU, its memory, its translations, and the dispatch loop.

`Engine.run` executes guest code until something needs the outside world (a system call, a fault, an
undefined instruction, the instruction budget) and reports it as an `Exit`. The Linux layer and the
VMM shell sit on top and decide what an exit means.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from backends.interp import InterpEnv

from .exits import Access, ExitKind, GuestFault
from .frontend import Frontend
from .memory import GuestMemory
from .state import EXIT_ARG, EXIT_INFO, ICOUNT, ILIMIT, PC, CPUState
from .translator import MAX_BLOCK_INSNS, Translator

NO_LIMIT = (1 << 64) - 1


@dataclass
class Exit:
    """Why run() returned: the kind, the guest PC it concerns, and details for faults."""

    kind: ExitKind
    pc: int
    next_pc: int | None = None   # where execution continues after a system call / breakpoint
    addr: int | None = None      # fault address
    access: Access | None = None  # fault access kind
    raw: bytes | None = None     # bytes of an undefined instruction

    def describe(self) -> str:
        if self.kind == ExitKind.FAULT:
            kind = self.access.name.lower() if self.access else "access"
            return f"{kind} fault at address {self.addr:#x} (pc {self.pc:#x})"
        if self.kind == ExitKind.UNDEF:
            return f"undefined instruction {self.raw.hex() if self.raw else '?'} at pc {self.pc:#x}"
        return f"{self.kind.name.lower()} at pc {self.pc:#x}"


class Engine:
    """A guest CPU of one ISA with its own address space."""

    def __init__(self, frontend: Frontend, memory: GuestMemory | None = None) -> None:
        self.frontend = frontend
        self.memory = memory if memory is not None else GuestMemory()
        self.state = CPUState(frontend.regfile)
        self.env = InterpEnv(self.state, self.memory)
        self.translator = Translator(frontend, self.memory, self.env)
        self.time_interp = 0.0
        self.trace = None  # callable(block) for --trace, or None

    @property
    def icount(self) -> int:
        return self.state.icount

    def stats_text(self) -> str:
        """The --stats report: exact guest instruction count, translations, time per tier."""
        tr = self.translator
        t = self.time_interp
        rate = f" ({self.icount / t / 1e6:.2f} M guest instructions/s)" if t > 0 else ""
        return (f"dbt stats: guest instructions executed: {self.icount}\n"
                f"dbt stats: blocks translated: {tr.blocks_translated}, invalidated: {tr.invalidations}\n"
                f"dbt stats: time in interpreter tier: {t:.3f} s{rate}\n")

    def run(self, max_insns: int | None = None) -> Exit:
        """Run from state.pc until an exit; with max_insns, stop after exactly that many more instructions."""
        words = self.state.words
        words[ILIMIT] = NO_LIMIT if max_insns is None else min(NO_LIMIT, words[ICOUNT] + max_insns)
        t0 = time.perf_counter()
        try:
            return self._run_interp()
        finally:
            self.time_interp += time.perf_counter() - t0

    def _run_interp(self) -> Exit:
        S = self.state.words
        translator = self.translator
        cache = translator.cache
        pc, icount, limit = S[PC], S[ICOUNT], S[ILIMIT]
        trace = self.trace
        blk = None
        try:
            while True:
                if icount >= limit:
                    S[PC], S[ICOUNT] = pc, icount
                    return Exit(ExitKind.BUDGET, pc)
                blk = cache.get(pc)
                if blk is None or icount + blk.n > limit:
                    blk = None
                    remaining = limit - icount
                    blk = translator.translate(pc, remaining) if remaining < MAX_BLOCK_INSNS \
                        else translator.lookup(pc)
                if blk.needs_icount:
                    S[ICOUNT] = icount
                if trace is not None:
                    trace(blk)
                nxt = blk.fn()
                blk.hits += 1
                if nxt < 0:  # stopped after ~nxt instructions: guest code was written
                    done = ~nxt
                    icount += done
                    pc = blk.pcs[done]
                    continue
                icount += blk.n
                if blk.exit_kind is not None:
                    return self._block_exit(blk, nxt, icount)
                pc = nxt
        except GuestFault as fault:
            return self._fault(blk, fault, pc, icount)

    def _block_exit(self, blk, pc: int, icount: int) -> Exit:
        S = self.state.words
        kind = blk.exit_kind
        if kind != ExitKind.SYSCALL:
            icount -= 1  # the exiting instruction did not complete
        S[PC], S[ICOUNT] = pc, icount
        raw = blk.ir.insns[-1].raw if kind == ExitKind.UNDEF else None
        return Exit(kind, pc, next_pc=blk.exit_next, raw=raw)

    def _fault(self, blk, fault: GuestFault, pc: int, icount: int) -> Exit:
        S = self.state.words
        done = _faulting_insn(blk, fault) if blk is not None else 0
        if blk is not None and done >= 0:
            pc = blk.pcs[done]
            icount += done
        S[PC], S[ICOUNT] = pc, icount
        S[EXIT_ARG], S[EXIT_INFO] = fault.addr, int(fault.access)
        return Exit(ExitKind.FAULT, pc, addr=fault.addr, access=fault.access)


def _faulting_insn(blk, fault: BaseException) -> int:
    """Index of the instruction whose code raised, from the traceback's line in the block function.

    0 when the fault came from translating the block itself (an instruction fetch)."""
    code = blk.fn.__code__
    tb = fault.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code is code:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None:
        return 0
    return max(0, blk.compiled.line_insn[line])

"""The execution engine: one guest CPU, its memory, its translations, and the dispatch loop.

`Engine.run` executes guest code until something needs the outside world (a system call, a fault, an
undefined instruction, the instruction budget) and reports it as an `Exit`. The Linux layer and the
VMM shell sit on top and decide what an exit means.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from backends.interp import InterpEnv

from .exits import Access, ExitKind, GuestFault, GuestTrap
from .frontend import Frontend
from .memory import GuestMemory
from .state import EXIT_ARG, EXIT_INFO, ICOUNT, ILIMIT, PC, CPUState
from .translator import MAX_BLOCK_INSNS, Translator

NO_LIMIT = (1 << 64) - 1
TIERS = ("interp", "jit", "auto")
SEEN_TARGETS = 16  # indirect-jump targets remembered per block
HOT_THRESHOLD = 50  # interpreted executions before a block roots a compiled region (Engine(threshold=) overrides)


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

    def __init__(self, frontend: Frontend, memory: GuestMemory | None = None, tier: str = "interp",
                 threshold: int | None = None) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r} (choose from {', '.join(TIERS)})")
        self.frontend = frontend
        self.memory = memory if memory is not None else GuestMemory()
        self.state = CPUState(frontend.regfile)
        self.env = InterpEnv(self.state, self.memory)
        self.translator = Translator(frontend, self.memory, self.env)
        self.tier = tier
        self.time_interp = 0.0
        self.time_native = 0.0
        self.notes: list[str] = []  # things worth telling a --stats reader (e.g. regions left cold)
        self.trace = None  # callable(block) for --trace, or None
        self.jit = None
        if tier != "interp":
            from .jit import JIT
            self.jit = JIT(self, eager=tier == "jit", threshold=threshold or HOT_THRESHOLD)

    @property
    def icount(self) -> int:
        return self.state.icount

    def stats(self) -> dict:
        """Execution statistics: the exact guest instruction count, translation and tier figures."""
        tr = self.translator
        out = {"guest_instructions": self.icount, "blocks_translated": tr.blocks_translated,
               "blocks_invalidated": tr.invalidations, "tier": self.tier,
               "seconds_interpreter": round(self.time_interp, 6)}
        if self.jit is not None:
            j = self.jit
            out.update(regions_compiled=j.regions_compiled, regions_optimized=j.regions_optimized,
                       regions_from_cache=j.regions_from_cache, seconds_llvm=round(j.compile_seconds, 6),
                       seconds_native=round(self.time_native, 6))
        return out

    def stats_text(self) -> str:
        """The --stats report: exact guest instruction count, translations, time per tier."""
        tr = self.translator
        lines = [f"guest instructions executed: {self.icount}",
                 f"blocks translated: {tr.blocks_translated}, invalidated: {tr.invalidations}",
                 f"time in interpreter tier: {self.time_interp:.3f} s"]
        if self.jit is not None:
            j = self.jit
            lines += [f"regions compiled: {j.regions_compiled}, {j.regions_optimized} of them optimized "
                      f"({j.compile_seconds:.3f} s in LLVM), loaded from the code cache: {j.regions_from_cache}",
                      f"time in native code: {self.time_native:.3f} s"]
        lines += self.notes
        return "".join(f"dbt stats: {line}\n" for line in lines)

    def run(self, max_insns: int | None = None) -> Exit:
        """Run from state.pc until an exit; with max_insns, stop after exactly that many more instructions."""
        words = self.state.words
        words[ILIMIT] = NO_LIMIT if max_insns is None else min(NO_LIMIT, words[ICOUNT] + max_insns)
        if self.jit is None:
            t0 = time.perf_counter()
            try:
                return self._run_interp()
            finally:
                self.time_interp += time.perf_counter() - t0
        return self._run_tiered()

    def _run_tiered(self) -> Exit:
        """Native code where there is some, the interpreter elsewhere."""
        jit = self.jit
        S = self.state.words
        perf = time.perf_counter
        limit = S[ILIMIT]
        while True:
            # Native code runs in slices of guest instructions (counted across syscalls and other
            # exits), so the JIT gets to look at where time goes.
            stop = S[ILIMIT] = min(limit, jit.slice_end(S[ICOUNT]))
            t0 = perf()
            kind = jit.run()
            t1 = perf()
            S[ILIMIT] = limit
            self.time_native += t1 - t0
            if kind == ExitKind.BUDGET and stop < limit:  # the slice ended, not the caller's budget
                jit.profile(S[PC], S[ICOUNT])
                continue
            if kind == ExitKind.SYSCALL:
                return Exit(ExitKind.SYSCALL, S[PC], next_pc=S[EXIT_ARG])
            if kind == ExitKind.MISS and (jit.ensure(S[PC]) if jit.eager else jit.reinstall(S[PC])):
                continue
            # MISS, SLOW, BUDGET, or an exit the interpreter reports in full: interpret until native
            # code (eagerly compiling: one block, then compile what follows).
            compiling = jit.compile_seconds
            try:
                ex = self._run_interp(jit.native, one_block=jit.eager)
            finally:  # LLVM time is reported on its own
                self.time_interp += perf() - t1 - (jit.compile_seconds - compiling)
            if ex is not None:
                return ex

    def _run_interp(self, native: dict | None = None, one_block: bool = False) -> Exit | None:
        """Interpret blocks until an exit; with `native`, return None on reaching a pc it contains
        (or, with one_block, after the first block)."""
        S = self.state.words
        translator = self.translator
        cache = translator.cache
        pc, icount, limit = S[PC], S[ICOUNT], S[ILIMIT]
        trace = self.trace
        jit = self.jit
        threshold = jit.threshold if jit is not None else 0
        blk = None
        first = True
        try:
            while True:
                if icount >= limit:
                    S[PC], S[ICOUNT] = pc, icount
                    return Exit(ExitKind.BUDGET, pc)
                if native is not None and not first and (one_block or pc in native):
                    S[PC], S[ICOUNT] = pc, icount
                    return None
                first = False
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
                if blk.hits == threshold:
                    jit.hot(blk)
                if nxt < 0:  # stopped after ~nxt instructions: guest code was written
                    done = ~nxt
                    icount += done
                    pc = blk.pcs[done]
                    continue
                icount += blk.n
                if blk.exit_kind is not None:
                    return self._block_exit(blk, nxt, icount)
                seen = blk.seen
                if seen is not None and len(seen) < SEEN_TARGETS:
                    seen.add(nxt)
                pc = nxt
        except GuestFault as fault:
            return self._fault(blk, fault, pc, icount)
        except GuestTrap as trap:
            done = _faulting_insn(blk, trap)
            S[PC], S[ICOUNT] = blk.pcs[done], icount + done
            return Exit(trap.kind, blk.pcs[done], raw=blk.ir.insns[done].raw)

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

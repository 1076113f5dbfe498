"""The translator: finds the basic block at a guest PC, lifts and compiles it once, caches it, counts how
often it runs, and drops exactly the translations whose guest bytes are written."""
from __future__ import annotations

import os

from backends.interp import InterpEnv, compile_block

from .exits import Access, ExitKind
from .frontend import Frontend
from .ir.block import Block
from .ir.verify import verify
from .memory import PAGE_SHIFT, PROT_EXEC, GuestMemory

MAX_BLOCK_INSNS = 64


class TranslatedBlock:
    """One cached translation: the IR, the interpreter's function, and what the dispatcher needs."""

    __slots__ = ("pc", "end", "n", "fn", "ir", "compiled", "hits", "exit_kind", "exit_next",
                 "needs_icount", "pcs", "valid", "seen")

    def __init__(self, ir: Block, compiled, fn) -> None:
        self.ir = ir
        self.pc = ir.pc
        self.end = ir.end
        self.n = len(ir.insns)
        self.pcs = [i.pc for i in ir.insns] + [ir.end]
        self.compiled = compiled
        self.fn = fn
        self.hits = 0
        term = ir.terminator
        self.exit_kind = ExitKind(term.attrs[0]) if term.opcode == "exit" else None
        self.exit_next = term.attrs[2] if term.opcode == "exit" else None
        self.needs_icount = any(op.opcode == "icount" for op in ir.ops)
        self.valid = True
        # For a block ending in an indirect jump: the targets the interpreter saw it take (a profile
        # that lets the JIT keep calls through pointers and switch tables inside one region).
        self.seen: set[int] | None = set() if term.opcode == "goto_ind" else None

    def __repr__(self) -> str:
        return f"<block {self.pc:#x}-{self.end:#x} {self.n} insns, {self.hits} runs>"


class Translator:
    """Block cache for one guest address space."""

    def __init__(self, frontend: Frontend, memory: GuestMemory, env: InterpEnv) -> None:
        self.frontend = frontend
        self.memory = memory
        self.env = env
        self.cache: dict[int, TranslatedBlock] = {}
        self.by_page: dict[int, set[TranslatedBlock]] = {}
        self.blocks_translated = 0
        self.invalidations = 0
        # Called with (addr, size, dropped blocks) when guest code is written (e.g. by the JIT tier).
        self.listeners: list = []
        # Asked (page) -> bool before a page stops being watched for writes: does anyone else hold
        # code made from it (e.g. native code loaded from the code cache)?
        self.holders: list = []
        self.verify = bool(os.environ.get("DBT_VERIFY"))  # check every lifted block (tests set it)
        memory.code_write_hook = self.invalidate

    def fetch(self, addr: int, n: int) -> bytes:
        """Up to n executable guest bytes at addr (fewer at the end of executable memory)."""
        mem = self.memory
        end = addr
        stop = min(addr + n, mem.size)
        while end < stop and mem.perm[end >> PAGE_SHIFT] & PROT_EXEC:
            end = ((end >> PAGE_SHIFT) + 1) << PAGE_SHIFT
        if end == addr:
            return mem.read(addr, 1, Access.EXEC)  # raises the precise fetch fault
        return mem.peek(addr, min(end, stop) - addr)

    def lift(self, pc: int, max_insns: int = MAX_BLOCK_INSNS) -> Block:
        block = self.frontend.lift_block(self.fetch, pc, max_insns)
        if self.verify:
            verify(block)
        return block

    def lookup(self, pc: int) -> TranslatedBlock:
        blk = self.cache.get(pc)
        if blk is None:
            blk = self.translate(pc)
        return blk

    def translate(self, pc: int, max_insns: int = MAX_BLOCK_INSNS) -> TranslatedBlock:
        """Translate the block at pc; cached unless cut short by max_insns (an instruction budget)."""
        ir = self.lift(pc, max_insns)
        compiled = compile_block(ir)
        blk = TranslatedBlock(ir, compiled, self.env.bind(compiled))
        self.blocks_translated += 1
        if max_insns == MAX_BLOCK_INSNS:
            self.cache[pc] = blk
            first, last = pc >> PAGE_SHIFT, (max(blk.end, pc + 1) - 1) >> PAGE_SHIFT
            for page in range(first, last + 1):
                self.by_page.setdefault(page, set()).add(blk)
            self.memory.mark_code(pc, max(blk.end - pc, 1))
        return blk

    def invalidate(self, addr: int, size: int) -> None:
        """Drop every translation whose guest bytes overlap [addr, addr+size)."""
        dropped = []
        end = addr + size
        pages = range(addr >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1)
        for page in pages:
            for blk in [b for b in self.by_page.get(page, ()) if b.pc < end and addr < max(b.end, b.pc + 1)]:
                dropped.append(blk)
                self._forget(blk)
        self.invalidations += len(dropped)
        for listener in self.listeners:
            listener(addr, size, dropped)
        for page in pages:
            if not self.by_page.get(page) and not any(holds(page) for holds in self.holders):
                self.by_page.pop(page, None)
                self.memory.unmark_code(page)

    def _forget(self, blk: TranslatedBlock) -> None:
        blk.valid = False
        if self.cache.get(blk.pc) is blk:
            del self.cache[blk.pc]
        for page in range(blk.pc >> PAGE_SHIFT, ((max(blk.end, blk.pc + 1) - 1) >> PAGE_SHIFT) + 1):
            s = self.by_page.get(page)
            if s is not None:
                s.discard(blk)

    def flush(self) -> None:
        """Drop every translation."""
        for page in list(self.by_page):
            self.invalidate(page << PAGE_SHIFT, 1 << PAGE_SHIFT)

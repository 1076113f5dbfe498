"""The JIT tier: picks hot code from the interpreter's execution counts, compiles regions of guest blocks
to native code with the LLVM backend, and runs them through the native dispatcher.

ISA-neutral: it sees only IR blocks and the runtime's buffers.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from backends.llvm.compiler import Compiler

from .exits import GuestFault
from backends.llvm.dispatch import EMPTY_TAG, JCACHE_ENTRIES, dispatcher_text
from backends.llvm.lower import LoweringError, Region, lower_region, module_text

MAX_REGION_BLOCKS = 48
MAX_REGION_OPS = 1500
WARM_FRACTION = 4  # a block joins a region when it ran at least 1/WARM_FRACTION as often as the root

_DISPATCH = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


@dataclass(eq=False)
class NativeRegion:
    """A compiled region: its function, the guest blocks it covers, and whether it is still valid."""

    name: str
    address: int
    blocks: list = field(default_factory=list)  # TranslatedBlocks
    valid: bool = True


class JIT:
    """Hot-code compilation and native dispatch for one Engine."""

    def __init__(self, engine, eager: bool = False, threshold: int = 50) -> None:
        self.engine = engine
        self.eager = eager          # compile every block before it first runs (the jit tier)
        self.threshold = 0 if eager else threshold
        # Eager compilation covers all code, so it compiles fast; hot regions get the optimizer.
        self.compiler = Compiler(opt=0, codegen_opt=0) if eager else Compiler(opt=2)
        addr = self.compiler.compile(module_text([], dispatcher_text()), ["dbt_dispatch"])["dbt_dispatch"]
        self._dispatch = _DISPATCH(addr)
        self.jcache = (ctypes.c_uint64 * (2 * JCACHE_ENTRIES))()
        for i in range(JCACHE_ENTRIES):
            self.jcache[2 * i] = EMPTY_TAG
        self._args = (engine.state.address, engine.memory.base_address, engine.memory.perm_address,
                      ctypes.addressof(self.jcache))
        self.native: dict[int, NativeRegion] = {}   # guest pc -> region entered there
        self.by_block: dict[object, list[NativeRegion]] = {}
        self.failed: set[int] = set()
        self.regions_compiled = 0
        self._counter = 0
        engine.translator.listeners.append(self.on_invalidate)

    # -- running ----------------------------------------------------------------------------------
    def run(self) -> int:
        """Run native code from state.pc until it needs Python; returns an ExitKind value."""
        return self._dispatch(*self._args)

    def _install(self, pc: int, region: NativeRegion) -> None:
        slot = (pc >> 1) & (JCACHE_ENTRIES - 1)
        self.jcache[2 * slot] = pc
        self.jcache[2 * slot + 1] = region.address
        self.native[pc] = region

    def _uninstall(self, pc: int) -> None:
        slot = (pc >> 1) & (JCACHE_ENTRIES - 1)
        if self.jcache[2 * slot] == pc:
            self.jcache[2 * slot] = EMPTY_TAG
        self.native.pop(pc, None)

    def reinstall(self, pc: int) -> bool:
        """After a jump-cache conflict: put pc's region back in its slot if pc has one."""
        region = self.native.get(pc)
        if region is None or not region.valid:
            return False
        self._install(pc, region)
        return True

    # -- compiling --------------------------------------------------------------------------------
    def hot(self, blk) -> None:
        """The interpreter saw blk reach the threshold: compile a region rooted at it."""
        if blk.pc in self.failed or not blk.valid:
            return
        blocks = self.form_region(blk)
        self.compile([blocks])

    def ensure(self, pc: int) -> bool:
        """Eager mode: compile the code at pc (and what it reaches directly) before it runs."""
        if pc in self.native:
            return self.reinstall(pc)
        if pc in self.failed:
            return False
        try:
            root = self.engine.translator.lookup(pc)
        except GuestFault:
            return False  # the interpreter reports the fetch fault
        self.compile([self.form_region(root, static=True)])
        return pc in self.native

    def form_region(self, root, static: bool = False) -> list:
        """Blocks reachable from root through direct edges (and call return sites): those that ran
        often enough, or (static) every one, translating them as needed."""
        translator = self.engine.translator
        cache = translator.cache
        warm = 0 if static else max(1, root.hits // WARM_FRACTION)
        chosen = [root]
        seen = {root.pc}
        ops = len(root.ir.ops)
        i = 0
        while i < len(chosen) and len(chosen) < MAX_REGION_BLOCKS:
            blk = chosen[i]
            i += 1
            targets = list(blk.ir.successors())
            if blk.ir.return_to is not None:
                targets.append(blk.ir.return_to)
            for pc in targets:
                if pc in seen:
                    continue
                seen.add(pc)
                if pc in self.native:
                    continue  # already compiled: reached through the dispatcher
                nxt = cache.get(pc)
                if nxt is None and static:
                    try:
                        nxt = translator.lookup(pc)
                    except GuestFault:
                        continue
                if nxt is None or nxt.hits < warm or ops + len(nxt.ir.ops) > MAX_REGION_OPS:
                    continue
                chosen.append(nxt)
                ops += len(nxt.ir.ops)
        return chosen

    def compile(self, batches: list[list]) -> None:
        """Compile regions (each a list of TranslatedBlocks, the first its root) in one LLVM module."""
        functions, pending = [], []
        for blocks in batches:
            self._counter += 1
            name = f"r{self._counter}_{blocks[0].pc:x}"
            try:
                functions.append(lower_region(Region([b.ir for b in blocks], name), self.engine.memory.size,
                                              self.engine.frontend.regfile.size))
            except LoweringError as e:
                self.failed.add(blocks[0].pc)
                self.engine.notes.append(str(e))
                continue
            pending.append((name, blocks))
        if not functions:
            return
        addrs = self.compiler.compile(module_text(functions), [name for name, _ in pending])
        for name, blocks in pending:
            region = NativeRegion(name, addrs[name], blocks)
            if not all(b.valid for b in blocks):
                continue  # code changed while compiling
            self.regions_compiled += 1
            for b in blocks:
                self._install(b.pc, region)
                self.by_block.setdefault(b, []).append(region)

    def on_invalidate(self, dropped: list) -> None:
        """Translations were dropped (guest code written): forget the native code built from them."""
        for blk in dropped:
            for region in self.by_block.pop(blk, ()):
                if region.valid:
                    region.valid = False
                    for b in region.blocks:
                        if self.native.get(b.pc) is region:
                            self._uninstall(b.pc)

"""The JIT tier: picks hot code from the interpreter's execution counts, compiles regions of guest blocks
to native code with the LLVM backend (on a background thread), runs them through the native
dispatcher, and keeps them in the persistent code cache for the next run.

ISA-neutral: it sees only IR blocks, guest memory and the runtime's buffers.
"""
from __future__ import annotations

import ctypes
import os
import queue as queue_module
import threading
import time
import weakref
from dataclasses import dataclass, field

from backends.llvm.compiler import Compiler
from backends.llvm.dispatch import EMPTY_TAG, JCACHE_ENTRIES, dispatcher_text
from backends.llvm.lower import LoweringError, Region, lower_region, module_text

from .codecache import CachedModule, CachedRegion, CodeCache, digest
from .exits import GuestFault
from .memory import PAGE_SHIFT

PERF_MAP = bool(os.environ.get("DBT_PERF_MAP"))  # write /tmp/perf-PID.map for profiling JIT code
BACKGROUND = os.environ.get("DBT_JIT_THREAD", "0") == "1"  # compile hot regions on another thread
WORKER_BATCH = 4  # at most this many queued regions are compiled together in one LLVM module

MAX_REGION_BLOCKS = 48
MAX_REGION_OPS = 1500
WARM_FRACTION = 4  # a block joins a region when it ran at least 1/WARM_FRACTION as often as the root

_DISPATCH = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


@dataclass(eq=False)
class NativeRegion:
    """Compiled code for some guest blocks: entered at any of them, valid while their bytes are."""

    name: str
    address: int
    blocks: list[tuple[int, int, str]]            # (guest pc, length, digest of the bytes)
    translated: list = field(default_factory=list)  # the TranslatedBlocks it came from (none if cached)
    valid: bool = True

    def pages(self):
        for pc, length, _ in self.blocks:
            yield from range(pc >> PAGE_SHIFT, ((pc + max(length, 1) - 1) >> PAGE_SHIFT) + 1)


@dataclass(eq=False)
class _Job:
    """A region lowered to LLVM IR, waiting to be compiled."""

    name: str
    blocks: list
    function: tuple[str, set[str]]
    spans: list[tuple[int, int, str]]


class JIT:
    """Hot-code compilation, native dispatch and the code cache for one Engine."""

    def __init__(self, engine, eager: bool = False, threshold: int = 50) -> None:
        self.engine = engine
        self.eager = eager          # compile every block before it first runs (the jit tier)
        self.threshold = 0 if eager else threshold
        # Eager compilation covers all code, so it compiles fast; hot regions get the optimizer.
        self.opt = 0 if eager else 2
        self.compiler = Compiler(opt=self.opt, codegen_opt=self.opt)
        addr = self.compiler.compile(module_text([], dispatcher_text()), ["dbt_dispatch"])["dbt_dispatch"]
        self._dispatch = _DISPATCH(addr)
        self.jcache = (ctypes.c_uint64 * (2 * JCACHE_ENTRIES))()
        for i in range(JCACHE_ENTRIES):
            self.jcache[2 * i] = EMPTY_TAG
        self._args = (engine.state.address, engine.memory.base_address, engine.memory.perm_address,
                      ctypes.addressof(self.jcache))
        self.native: dict[int, NativeRegion] = {}   # guest pc -> region entered there
        self.by_page: dict[int, set[NativeRegion]] = {}
        self.failed: set[int] = set()
        self.regions_compiled = 0
        self.regions_from_cache = 0
        self._counter = 0
        self.cache: CodeCache | None = None
        self.modules: list[CachedModule] = []   # everything loaded or compiled, for the cache file
        self._cache_dirty = False
        engine.translator.listeners.append(self.on_invalidate)
        engine.translator.holders.append(self.holds)
        # Background compilation (not for eager mode, which must compile before running).
        self.background = not eager and BACKGROUND
        self.done: list[list[NativeRegion]] = []     # compiled by the worker, to be installed
        self._queue = queue_module.SimpleQueue()
        self._queued: set[int] = set()               # roots waiting for the worker
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._compiling = threading.Lock()
        if self.background:
            ref = weakref.ref(self)
            os.register_at_fork(
                before=lambda: (j := ref()) and j._compiling.acquire(),
                after_in_parent=lambda: (j := ref()) and j._compiling.release(),
                after_in_child=lambda: (j := ref()) and j._after_fork_child())

    # -- running ----------------------------------------------------------------------------------
    def run(self) -> int:
        """Run native code from state.pc until it needs Python; returns an ExitKind value."""
        return self._dispatch(*self._args)

    def _install_entry(self, pc: int, region: NativeRegion) -> None:
        slot = (pc >> 1) & (JCACHE_ENTRIES - 1)
        self.jcache[2 * slot + 1] = region.address  # function first: native code reads tag, then function
        self.jcache[2 * slot] = pc
        self.native[pc] = region

    def _uninstall_entry(self, pc: int) -> None:
        slot = (pc >> 1) & (JCACHE_ENTRIES - 1)
        if self.jcache[2 * slot] == pc:
            self.jcache[2 * slot] = EMPTY_TAG
        self.native.pop(pc, None)

    def reinstall(self, pc: int) -> bool:
        """After a jump-cache conflict: put pc's region back in its slot if pc has one."""
        region = self.native.get(pc)
        if region is None or not region.valid:
            return False
        self._install_entry(pc, region)
        return True

    def holds(self, page: int) -> bool:
        """Whether native code was built from bytes on this guest page (so writes must be noticed)."""
        return bool(self.by_page.get(page))

    # -- forming and compiling regions ------------------------------------------------------------
    def hot(self, blk) -> None:
        """The interpreter saw blk reach the threshold: compile a region rooted at it (in the
        background, while the interpreter goes on; `poll` installs the result)."""
        if blk.pc in self.failed or blk.pc in self._queued or not blk.valid:
            return
        blocks = self.form_region(blk)
        self._queued.update(b.pc for b in blocks)
        if self.background:
            job = self.prepare(blocks)
            if job is not None:
                self._start_worker()
                self._queue.put(job)
        else:
            self.install(self.compile([blocks]))

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
        self.install(self.compile([self.form_region(root, static=True)]))
        return pc in self.native

    def form_region(self, root, static: bool = False, warm: int | None = None) -> list:
        """Blocks reachable from root through direct edges (and call return sites): those that ran
        often enough (`warm` times; by default a fraction of the root's count), or (static) every
        one, translating them as needed."""
        translator = self.engine.translator
        cache = translator.cache
        if warm is None:
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
                if pc in self.native or pc in self._queued:
                    continue  # compiled or being compiled: reached through the dispatcher
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

    def prepare(self, blocks: list) -> _Job | None:
        """Lower a region (blocks, the first its root) to LLVM IR: Python work, on the main thread."""
        memory = self.engine.memory
        self._counter += 1
        name = f"r{self._counter}_{blocks[0].pc:x}"
        try:
            function = lower_region(Region([b.ir for b in blocks], name), memory.size,
                                    self.engine.frontend.regfile.size)
        except LoweringError as e:
            self.failed.add(blocks[0].pc)
            self._queued.difference_update(b.pc for b in blocks)
            self.engine.notes.append(str(e))
            return None
        spans = [(b.pc, b.end - b.pc, digest(memory.peek(b.pc, b.end - b.pc))) for b in blocks]
        return _Job(name, list(blocks), function, spans)

    def build(self, jobs: list[_Job]) -> list[NativeRegion]:
        """Compile lowered regions in one LLVM module and load them (no Python work to speak of, so
        the background worker runs it while the interpreter holds the GIL)."""
        if not jobs:
            return []
        obj = self.compiler.compile_object(module_text([j.function for j in jobs]))
        addrs = self.compiler.load(obj, [j.name for j in jobs])
        regions = [NativeRegion(j.name, addrs[j.name], j.spans, j.blocks) for j in jobs]
        with self._lock:
            self.modules.append(CachedModule(obj, [CachedRegion(r.name, r.blocks) for r in regions]))
            self._cache_dirty = True
            self.regions_compiled += len(regions)
        if PERF_MAP:
            self._perf_map(regions)
        return regions

    def compile(self, batches: list[list]) -> list[NativeRegion]:
        """Lower and build regions right away."""
        return self.build([j for j in map(self.prepare, batches) if j is not None])

    def install(self, regions: list[NativeRegion]) -> None:
        """Make compiled regions reachable from the dispatcher (main thread only)."""
        memory = self.engine.memory
        for region in regions:
            if region.translated:
                self._queued.difference_update(b.pc for b in region.translated)
                if not all(b.valid for b in region.translated):
                    region.valid = False  # guest code changed while it was being compiled
                    continue
            for pc, length, _ in region.blocks:
                self._install_entry(pc, region)
                memory.mark_code(pc, max(length, 1))
            for page in region.pages():
                self.by_page.setdefault(page, set()).add(region)

    def poll(self) -> None:
        """Install what the background worker finished."""
        done = self.done
        while done:
            self.install(done.pop(0))

    def on_invalidate(self, addr: int, size: int, dropped: list) -> None:
        """Guest bytes in [addr, addr+size) were written: forget native code built from them."""
        end = addr + size
        for page in range(addr >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
            for region in list(self.by_page.get(page, ())):
                if any(pc < end and addr < pc + max(n, 1) for pc, n, _ in region.blocks):
                    self._drop(region)

    def _drop(self, region: NativeRegion) -> None:
        region.valid = False
        for pc, _, _ in region.blocks:
            if self.native.get(pc) is region:
                self._uninstall_entry(pc)
        for page in region.pages():
            s = self.by_page.get(page)
            if s is not None:
                s.discard(region)
                if not s:
                    del self.by_page[page]

    # -- the background worker ----------------------------------------------------------------------
    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="dbt-jit", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        """Take queued regions in batches, compile them, hand them back."""
        queue = self._queue
        while True:
            batch = [queue.get()]
            while not queue.empty() and len(batch) < WORKER_BATCH:
                batch.append(queue.get_nowait())
            with self._compiling:
                try:
                    self.done.append(self.build(batch))
                except Exception as e:  # a compiler failure must not kill the guest: stay interpreted
                    self.engine.notes.append(f"compilation failed: {e}")
                    for job in batch:
                        self.failed.add(job.blocks[0].pc)
                        self._queued.difference_update(b.pc for b in job.blocks)

    def drain(self) -> None:
        """Wait until every queued region is compiled, then install them."""
        if self._worker is not None:
            while not self._queue.empty() or self._compiling.locked():
                time.sleep(0.001)
        self.poll()

    def _after_fork_child(self) -> None:
        self._compiling.release()
        self._queue = queue_module.SimpleQueue()
        self._queued.clear()
        self._worker = None

    # -- the persistent code cache ------------------------------------------------------------------
    def use_cache(self, cache: CodeCache) -> None:
        """Load what earlier runs compiled for this program and install what still matches memory."""
        self.cache = cache
        memory = self.engine.memory
        for module in cache.load():
            try:
                addrs = self.compiler.load(module.obj, [r.name for r in module.regions])
            except (RuntimeError, ValueError) as e:
                cache.problem = f"cached code did not load: {e}"
                self.modules.clear()
                self._cache_dirty = True
                return
            self.modules.append(module)
            regions = []
            for cr in module.regions:
                try:
                    ok = all(digest(memory.peek(pc, n)) == d for pc, n, d in cr.blocks)
                except ValueError:
                    ok = False
                if ok:
                    regions.append(NativeRegion(cr.name, addrs[cr.name], cr.blocks))
            self.install(regions)
            self.regions_from_cache += len(regions)
            if PERF_MAP:
                self._perf_map(regions)

    def save_cache(self) -> None:
        """Write this run's new code to the cache (with what was loaded from it)."""
        if self.cache is None:
            return
        self.drain()
        with self._lock:
            if not self._cache_dirty:
                return
            modules = list(self.modules)
            self._cache_dirty = False
        try:
            self.cache.save(modules)
        except OSError as e:
            self.engine.notes.append(f"code cache not written: {e.strerror}")

    # -- profiling ----------------------------------------------------------------------------------
    def _perf_map(self, regions: list[NativeRegion]) -> None:
        """Name compiled regions for `perf report` (/tmp/perf-PID.map, Linux perf's JIT convention).
        Sizes are estimated as the distance to the next function of the same module."""
        starts = sorted(r.address for r in regions)
        with open(f"/tmp/perf-{os.getpid()}.map", "a") as f:
            for r in regions:
                later = [a for a in starts if a > r.address]
                size = min(later[0] - r.address, 1 << 16) if later else 1 << 12
                f.write(f"{r.address:x} {size:x} dbt:{r.name} ({len(r.blocks)} blocks)\n")

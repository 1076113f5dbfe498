"""The JIT tier: picks hot code from the interpreter's execution counts, compiles regions of guest blocks
to native code with the LLVM backend, runs them through the native dispatcher, and keeps them in the
persistent code cache for the next run.

Two levels: a region is first compiled quickly (no optimizer, fast instruction selection); native code
then runs in slices of SLICE guest instructions, and between slices the JIT looks at where execution
stopped (a sample of where time goes) and at how often each entry point was entered from elsewhere.
The native time charged to a region by these samples, kept across runs in the code cache, decides
when it is worth LLVM's optimizer; entry points crossed very often (a loop split across regions, a hot
call) get a region of their own holding the whole loop. Before the code cache is written, what ran
only on the interpreter is compiled too and regions close to their optimizing threshold are optimized,
so the next run starts in native code and compiles nothing.

ISA-neutral: it sees only IR blocks, guest memory and the runtime's buffers.
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field

from backends.llvm.dispatch import dispatcher_text
from backends.llvm.jcache import EMPTY_TAG, JCACHE_ENTRIES, JCACHE_WORDS
from backends.llvm.lower import LoweringError, Region, lower_region, module_text
from backends.llvm.objload import ObjectLoader, UnsupportedObject, function_sizes

from .codecache import CachedModule, CachedRegion, CodeCache, digest
from .exits import GuestFault
from .memory import PAGE_SHIFT

PERF_MAP = bool(os.environ.get("DBT_PERF_MAP"))  # write /tmp/perf-PID.map for profiling JIT code

SLICE = 30_000_000     # guest instructions of native execution between two looks at the profile
OPTIMIZE_SECONDS_PER_LINE = 4e-5  # cost of the optimizing compile per line of LLVM IR, measured here
OPTIMIZE_LINEAR_LINES = 6000      # up to this many lines; it grows with the square beyond (measured)
OPTIMIZE_AT_EXIT = 0.5  # at exit, optimize regions charged this share of their cost (see save_cache)
ENTRY_HOT = 20_000     # dispatcher entries per slice that make an entry point worth a region of its own
REFORM_PER_SLICE = 4
EXPLORE_BLOCKS = 256   # executed blocks looked at around a hot block when forming its region
MAX_REGION_BLOCKS = 64
MAX_REGION_OPS = 1500
WARM_FRACTION = 4  # a block joins a region when it ran at least 1/WARM_FRACTION as often as the root
MAX_LEFTOVER_BLOCKS = 4000  # interpreted blocks compiled for the code cache at exit

_DISPATCH = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


@dataclass(eq=False)
class NativeRegion:
    """Compiled code for some guest blocks: entered at any of them, valid while their bytes are."""

    name: str
    address: int
    blocks: list[tuple[int, int, str]]            # (guest pc, length, digest of the bytes)
    optimized: bool = False
    record: CachedRegion = field(default_factory=lambda: CachedRegion("", []))  # what the code cache keeps
    translated: list = field(default_factory=list)  # the TranslatedBlocks it came from (none if cached)
    valid: bool = True

    def optimize_cost(self) -> float:
        """Estimated seconds LLVM's optimizer needs for this region (from its size)."""
        lines = self.record.lines
        return lines * OPTIMIZE_SECONDS_PER_LINE * max(1.0, lines / OPTIMIZE_LINEAR_LINES)

    def pages(self):
        for pc, length, _ in self.blocks:
            yield from range(pc >> PAGE_SHIFT, ((pc + max(length, 1) - 1) >> PAGE_SHIFT) + 1)


class JIT:
    """Hot-code compilation, native dispatch and the code cache for one Engine."""

    def __init__(self, engine, eager: bool = False, threshold: int = 50) -> None:
        self.engine = engine
        self.eager = eager          # compile every block before it first runs (the jit tier)
        self.threshold = 0 if eager else threshold
        # LLVM (llvmlite) is imported when something needs compiling: a run whose code all comes from
        # the code cache loads it with the ObjectLoader and never needs it.
        self._fast = None
        self._optimizer = None
        self.loader = ObjectLoader()
        self._dispatch = self._first_dispatch
        self._dispatcher_obj: bytes | None = None  # the dispatcher's object code (kept in the cache)
        self.jcache = (ctypes.c_uint64 * (JCACHE_WORDS * JCACHE_ENTRIES))()
        for i in range(JCACHE_ENTRIES):
            self.jcache[JCACHE_WORDS * i] = EMPTY_TAG
        self._args = (engine.state.address, engine.memory.base_address, engine.memory.perm_address,
                      ctypes.addressof(self.jcache))
        self.native: dict[int, NativeRegion] = {}   # guest pc -> region entered there
        self.by_page: dict[int, set[NativeRegion]] = {}
        self.failed: set[int] = set()
        self._reformed: set[int] = set()  # entries already given a region of their own by profile()
        self._hot_entries: frozenset[int] = frozenset()  # profile(): where indirect jumps may go
        self.slice = SLICE
        self.next_look = 0      # guest instruction count at which the current slice ends
        self._slice_t0 = 0.0
        self.regions_compiled = 0
        self.regions_optimized = 0
        self.regions_from_cache = 0
        self._counter = 0
        self.cache: CodeCache | None = None
        self.modules: list[CachedModule] = []   # everything loaded or compiled, for the cache file
        self._cache_dirty = False
        engine.translator.listeners.append(self.on_invalidate)
        engine.translator.holders.append(self.holds)

    @property
    def fast(self):
        """The quick Compiler (each Compiler has its own MCJIT engine), created when first needed."""
        if self._fast is None:
            from backends.llvm.compiler import Compiler
            self._fast = Compiler("quick")
        return self._fast

    @property
    def optimizer(self):
        """The optimizing Compiler, created when first needed."""
        if self._optimizer is None:
            from backends.llvm.compiler import Compiler
            self._optimizer = Compiler("optimized")
        return self._optimizer

    @property
    def compile_seconds(self) -> float:
        return sum(c.compile_seconds for c in (self._fast, self._optimizer) if c is not None)

    # -- running ----------------------------------------------------------------------------------
    def run(self) -> int:
        """Run native code from state.pc until it needs Python; returns an ExitKind value."""
        return self._dispatch(*self._args)

    def _first_dispatch(self, *args) -> int:
        """The first run: make the native dispatcher (from the code cache's copy if there is one)."""
        addr = None
        if self._dispatcher_obj is not None:
            try:
                addr = self.loader.load(self._dispatcher_obj, ["dbt_dispatch"])["dbt_dispatch"]
            except UnsupportedObject:
                addr = None
        if addr is None:
            self._dispatcher_obj = self.fast.compile_object(module_text([], dispatcher_text()))
            addr = self.fast.load(self._dispatcher_obj, ["dbt_dispatch"])["dbt_dispatch"]
            self._cache_dirty = True
        self._dispatch = _DISPATCH(addr)
        return self._dispatch(*args)

    def _install_entry(self, pc: int, region: NativeRegion) -> None:
        at = JCACHE_WORDS * ((pc >> 1) & (JCACHE_ENTRIES - 1))
        self.jcache[at + 1] = region.address  # function first: native code reads tag, then function
        self.jcache[at + 2] = 0
        self.jcache[at] = pc
        self.native[pc] = region

    def _uninstall_entry(self, pc: int) -> None:
        at = JCACHE_WORDS * ((pc >> 1) & (JCACHE_ENTRIES - 1))
        if self.jcache[at] == pc:
            self.jcache[at] = EMPTY_TAG
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
        """The interpreter saw blk reach the threshold: compile a region rooted at it, quickly."""
        if blk.pc in self.failed or not blk.valid:
            return
        self.install(self.compile([self.form_region(blk)]))

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

    def _exits(self, blk) -> tuple[int, ...]:
        """Where control may go from blk: direct successors, the return site of a call, and the
        targets the interpreter saw an indirect jump take (or, for profile(), hot entry points)."""
        ir = blk.ir
        out = ir.successors()
        if ir.return_to is not None:
            out += (ir.return_to,)
        if blk.seen is not None:
            out += tuple(sorted(blk.seen | self._hot_entries))
        return out

    def form_region(self, root, static: bool = False, warm: int | None = None, duplicate: bool = False) -> list:
        """The region rooted at a hot block: first every block on a cycle through the root (the loop
        it heads, whatever each block's own count; with duplicate, even blocks compiled elsewhere
        already), then warm blocks it leads to that are not compiled yet (`warm` runs; by default a
        fraction of the root's). With static, every block reached directly, translating as needed
        (eager compilation)."""
        translator = self.engine.translator
        cache = translator.cache
        if warm is None:
            warm = 0 if static else max(1, root.hits // WARM_FRACTION)
        # Explore the executed code around the root.
        explored = {root.pc: root}
        order = [root]
        i = 0
        while i < len(order) and len(order) < EXPLORE_BLOCKS:
            blk = order[i]
            i += 1
            for pc in self._exits(blk):
                if pc in explored:
                    continue
                nxt = cache.get(pc)
                if nxt is None and static and pc not in self.native:
                    try:
                        nxt = translator.lookup(pc)
                    except GuestFault:
                        continue
                if nxt is None or not (nxt.hits or static) or not nxt.valid:
                    continue
                explored[pc] = nxt
                order.append(nxt)
        # Blocks that lead back to the root: the loop.
        preds: dict[int, list[int]] = {}
        for blk in order:
            for pc in self._exits(blk):
                if pc in explored:
                    preds.setdefault(pc, []).append(blk.pc)
        in_loop = {root.pc}
        work = [root.pc]
        while work:
            for p in preds.get(work.pop(), ()):
                if p not in in_loop:
                    in_loop.add(p)
                    work.append(p)
        chosen, ops = [], 0
        for blk in order:  # the loop first, then warm code it leads to that is not compiled yet
            fresh = blk.pc not in self.native
            looping = blk.pc in in_loop and (fresh or duplicate)
            if blk is root or (looping or (fresh and blk.hits >= warm)) and ops + len(blk.ir.ops) <= MAX_REGION_OPS \
                    and len(chosen) < MAX_REGION_BLOCKS:  # the root even when it alone is over the limit
                chosen.append(blk)
                ops += len(blk.ir.ops)
        return chosen

    def prepare(self, blocks: list, seen_extra: frozenset[int] = frozenset()) -> tuple | None:
        """Lower a region (blocks, the first its root) to LLVM IR; None if the backend cannot."""
        memory = self.engine.memory
        self._counter += 1
        name = f"r{self._counter}_{blocks[0].pc:x}"
        try:
            seen = {b.pc: sorted(b.seen | seen_extra) for b in blocks if b.seen is not None}
            function = lower_region(Region([b.ir for b in blocks], name, seen), memory.size,
                                    self.engine.frontend.regfile.size)
        except LoweringError as e:
            self.failed.add(blocks[0].pc)
            self.engine.notes.append(str(e))
            return None
        spans = [(b.pc, b.end - b.pc, digest(memory.peek(b.pc, b.end - b.pc))) for b in blocks]
        return name, list(blocks), function, spans

    def compile(self, batches: list[list], optimize: bool = False) -> list[NativeRegion]:
        """Compile regions (each a list of TranslatedBlocks, the first its root) in one LLVM module."""
        jobs = [j for j in (self.prepare(b, self._hot_entries) for b in batches) if j is not None]
        if not jobs:
            return []
        compiler = self.optimizer if optimize else self.fast
        obj = compiler.compile_object(module_text([function for _, _, function, _ in jobs]))
        addrs = compiler.load(obj, [name for name, _, _, _ in jobs])
        records = [CachedRegion(name, spans, function[0].count("\n")) for name, _, function, spans in jobs]
        regions = [NativeRegion(r.name, addrs[r.name], r.blocks, optimize, r, blocks)
                   for r, (_, blocks, _, _) in zip(records, jobs)]
        self.modules.append(CachedModule(obj, records, optimize))
        self._cache_dirty = True
        self.regions_compiled += len(regions)
        self.regions_optimized += len(regions) if optimize else 0
        if PERF_MAP:
            self._perf_map(regions, obj)
        return regions

    def install(self, regions: list[NativeRegion]) -> None:
        """Make compiled regions reachable from the dispatcher (each takes over its entry points)."""
        memory = self.engine.memory
        for region in regions:
            if region.translated and not all(b.valid for b in region.translated):
                region.valid = False  # guest code changed while it was being compiled
                continue
            for pc, length, _ in region.blocks:
                self._install_entry(pc, region)
                memory.mark_code(pc, max(length, 1))
            for page in region.pages():
                self.by_page.setdefault(page, set()).add(region)

    # -- between slices of native execution ---------------------------------------------------------
    def slice_end(self, icount: int) -> int:
        """The instruction count at which native code should next stop for profile()."""
        if icount >= self.next_look:
            self.next_look = icount + self.slice
            self._slice_t0 = self.engine.time_native
        return self.next_look

    def profile(self, pc: int, icount: int) -> None:
        """A slice ended at pc: charge its native time to the region there (a sample of where time goes) and
        look at region entry counts. A quickly compiled region gets the optimizer once the time charged
        to it reaches what optimizing it costs, so no program spends more than about twice the best."""
        now = self.engine.time_native
        spent, self._slice_t0, self.next_look = now - self._slice_t0, now, icount + self.slice
        region = self.native.get(pc)
        if region is not None and not region.optimized:
            region.record.seconds += spent
            self._cache_dirty = True
            if region.record.seconds >= region.optimize_cost():
                self._optimize(region)
        self._merge_hot_entries()

    def _optimize(self, region: NativeRegion) -> None:
        """Compile a quickly compiled region again with the optimizer."""
        blocks = region.translated
        if not blocks:  # loaded from the cache: translate its blocks again
            try:
                blocks = [self.engine.translator.lookup(pc) for pc, _, _ in region.blocks]
            except GuestFault:
                return
        region.optimized = True  # whatever happens, do not try again
        self.install(self.compile([blocks], optimize=True))

    def _merge_hot_entries(self) -> None:
        """Entry points the dispatcher crossed very often are a loop split across regions (or a hot
        call): compile a region holding the whole loop (quickly; profile() decides on optimizing it)."""
        jc = self.jcache
        busy = []
        for pc in self.native:
            at = JCACHE_WORDS * ((pc >> 1) & (JCACHE_ENTRIES - 1)) + 2
            count = jc[at]
            if count:
                jc[at] = 0
                if count >= ENTRY_HOT // 4:
                    busy.append((count, pc))
        busy.sort(reverse=True)
        candidates = [pc for count, pc in busy if count >= ENTRY_HOT and pc not in self._reformed]
        if not candidates:
            return
        # Indirect jumps taken in native code are not profiled: let them reach any busy entry point.
        self._hot_entries = frozenset(pc for _, pc in busy)
        batches: list[list] = []
        claimed: set[int] = set()
        for pc in candidates:
            if len(batches) == REFORM_PER_SLICE:
                break
            if pc in claimed:
                continue
            self._reformed.add(pc)
            try:
                root = self.engine.translator.lookup(pc)
            except GuestFault:
                continue
            blocks = self.form_region(root, warm=1 << 62, duplicate=True)  # the loop only
            if len(blocks) > 1:
                batches.append(blocks)
                claimed.update(b.pc for b in blocks)
        self._reformed |= claimed
        self._cache_dirty = True  # later runs need not look at these entries again
        if batches:
            self.install(self.compile(batches))
        self._hot_entries = frozenset()

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

    # -- the persistent code cache ------------------------------------------------------------------
    def use_cache(self, cache: CodeCache) -> None:
        """Load what earlier runs compiled for this program and install what still matches memory
        (quickly compiled modules first, so optimized code takes over their entry points)."""
        self.cache = cache
        memory = self.engine.memory
        modules = sorted(cache.load(), key=lambda m: m.optimized)
        self._reformed |= {int(pc) for pc in cache.extra.get("reformed", ())}
        dispatcher = cache.extra.get("dispatcher")
        if isinstance(dispatcher, str) and self._dispatch == self._first_dispatch:
            try:
                self._dispatcher_obj = bytes.fromhex(dispatcher)
            except ValueError:
                self._dispatcher_obj = None
        for module in modules:
            names = [r.name for r in module.regions]
            try:
                try:
                    addrs = self.loader.load(module.obj, names)
                except UnsupportedObject:
                    addrs = (self.optimizer if module.optimized else self.fast).load(module.obj, names)
            except (RuntimeError, ValueError) as e:
                cache.problem = f"cached code did not load: {e}"
                self._cache_dirty = True
                continue
            self.modules.append(module)
            regions = []
            for cr in module.regions:
                try:
                    ok = all(digest(memory.peek(pc, n)) == d for pc, n, d in cr.blocks)
                except ValueError:
                    ok = False
                if ok:
                    regions.append(NativeRegion(cr.name, addrs[cr.name], cr.blocks, module.optimized, cr))
            self.install(regions)
            self.regions_from_cache += len(regions)
            if PERF_MAP:
                self._perf_map(regions, module.obj)

    def save_cache(self) -> None:
        """Write this run's new code to the cache (with what was loaded from it), after compiling what
        ran only on the interpreter, so that the next run starts in native code."""
        if self.cache is None:
            return
        self._optimize_nearly_due()
        self._compile_leftovers()
        if not self._cache_dirty:
            return
        self._cache_dirty = False
        try:
            extra = {"reformed": sorted(self._reformed)}
            if self._dispatcher_obj is not None:
                extra["dispatcher"] = self._dispatcher_obj.hex()
            self.cache.save(self.modules, extra)
        except OSError as e:
            self.engine.notes.append(f"code cache not written: {e.strerror}")

    def _optimize_nearly_due(self) -> None:
        """Optimize the regions whose charged time has come close to what optimizing them costs: later
        runs would cross the threshold and pay LLVM mid-run; paying now leaves them compile-free. The
        most overdue go first, within an estimated cost of this run's own running time (so a first
        run at most doubles)."""
        costs = {r: r.optimize_cost() for r in set(self.native.values()) if r.valid and not r.optimized}
        budget = self.engine.time_native + self.engine.time_interp
        for region in sorted(costs, key=lambda r: r.record.seconds / max(costs[r], 1e-9), reverse=True):
            cost = costs[region]
            if region.record.seconds < OPTIMIZE_AT_EXIT * cost:
                break
            if cost <= budget:
                budget -= cost
                self._optimize(region)

    def _compile_leftovers(self) -> None:
        """Quickly compile the blocks this run interpreted but never compiled (startup code, code run
        fewer times than the hot threshold), in address order, a region per run of neighbours."""
        left = sorted((b for b in self.engine.translator.cache.values()
                       if b.hits and b.valid and b.pc not in self.native and b.pc not in self.failed),
                      key=lambda b: b.pc)[:MAX_LEFTOVER_BLOCKS]
        batches: list[list] = []
        ops = 0
        for blk in left:
            if not batches or len(batches[-1]) == MAX_REGION_BLOCKS or ops + len(blk.ir.ops) > MAX_REGION_OPS:
                batches.append([])
                ops = 0
            batches[-1].append(blk)
            ops += len(blk.ir.ops)
        if batches:
            self.install(self.compile(batches))

    # -- profiling ----------------------------------------------------------------------------------
    def _perf_map(self, regions: list[NativeRegion], obj: bytes) -> None:
        """Name compiled regions for `perf report` (/tmp/perf-PID.map, Linux perf's JIT convention),
        with their sizes from the object code's symbol table."""
        sizes = function_sizes(obj)
        with open(f"/tmp/perf-{os.getpid()}.map", "a") as f:
            for r in regions:
                level = ", optimized" if r.optimized else ""
                f.write(f"{r.address:x} {sizes.get(r.name, 1):x} dbt:{r.name} ({len(r.blocks)} blocks{level})\n")

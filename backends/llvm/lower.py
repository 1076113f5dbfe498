"""IR region -> LLVM IR text: one function per region of guest blocks.

    i32 @region(ptr %state, ptr %mem, ptr %perm)

The function is entered at any of its blocks (a switch on state.pc), runs the region's loops without
leaving native code, and returns an ExitKind with state.pc / state.icount exact. Guest registers live
in the CPU state, except inside loop nests (cycles of the region's control flow), which keep the
registers they use in SSA values: loaded when the loop is entered, stored back on every way out.

Memory: a guest address A is host address mem+A. Accesses of a block at constant offsets from one
base value form a group, checked once before its first access: the pages of the group's first and last
byte must lie in guest memory and permit every access of the group (a store also needs pages that hold
no translated code). When the check fails the region leaves before that instruction with
ExitKind.SLOW: the interpreter then runs from there (it raises the precise fault, performs a store to
code and drops stale translations, or reaches a device). Frontends put an instruction's memory accesses
before its register writes (the verifier checks), so an instruction that leaves this way has changed
nothing.

Floating point: native code runs with the host MXCSR in round-to-nearest with all exceptions masked;
the dispatcher clears its flags on entry and folds them into state.fflags on exit. Flags the hardware
cannot produce (NV of fmin/fmax, conversions) accrue in a local and are folded in at exits.
"""
from __future__ import annotations

from dbt.exits import ExitKind
from dbt.ir.block import Block, Const, Op, Value
from dbt.ir.ops import DYN, RNE, RTZ, RDN, RUP, RMM, FLAG_NV, FLAG_NX
from dbt.ir.types import F32, F64, I1, I8, I16, I32, I64, I128, Ty
from dbt.state import FFLAGS, FRM, ICOUNT, ILIMIT, PC, EXIT_ARG

from .jcache import enter_next

LLTYPE = {I1: "i1", I8: "i8", I16: "i16", I32: "i32", I64: "i64", I128: "i128", F32: "float", F64: "double"}
FSUF = {F32: "f32", F64: "f64"}
CANON_NAN = {F32: 0x7FC00000, F64: 0x7FF8000000000000}
ABS_MASK = {F32: 0x7FFFFFFF, F64: 0x7FFFFFFFFFFFFFFF}
INF_BITS = {F32: 0x7F800000, F64: 0x7FF0000000000000}
QUIET_BIT = {F32: 0x00400000, F64: 0x0008000000000000}
MXCSR_RC = {RNE: 0, RDN: 1, RUP: 2, RTZ: 3}
PAGE_SHIFT = 12

EXC = 'metadata !"fpexcept.strict"'
RND = 'metadata !"round.tonearest"'


class LoweringError(Exception):
    """IR the LLVM backend cannot compile; the region stays on the interpreter."""


def signed_literal(value: int, ty: Ty) -> str:
    v = value & ty.mask
    return str(v - (1 << ty.bits) if ty.bits > 1 and v >> (ty.bits - 1) else v)


class Region:
    """Guest blocks compiled together as one function; every block is an entry point."""

    def __init__(self, blocks: list[Block], name: str, seen: dict[int, list[int]] | None = None) -> None:
        self.blocks = blocks
        self.name = name
        self.index = {b.pc: i for i, b in enumerate(blocks)}
        # Where an indirect jump inside the region may stay inside it: the return sites of its calls,
        # and the targets the interpreter saw that jump take (calls through pointers, switch tables).
        self.return_sites = sorted({b.return_to for b in blocks if b.return_to in self.index})
        self.seen = {pc: [t for t in targets if t in self.index] for pc, targets in (seen or {}).items()}
        self.loop_of = _loops(self)

    def indirect_targets(self, pc: int) -> list[int]:
        """Region blocks an indirect jump ending the block at pc may reach without leaving."""
        return sorted(set(self.return_sites) | set(self.seen.get(pc, ())))

    def edges(self, j: int) -> list[int]:
        """Indices of the region blocks that block j can continue to."""
        block = self.blocks[j]
        term = block.terminator
        targets = list(block.successors())
        if term.opcode == "goto_ind":
            targets += self.indirect_targets(block.pc)
        return [self.index[t] for t in targets if t in self.index]


MAX_PROMOTED = 24


def _promotion(region: Region) -> tuple[dict, dict]:
    """For each loop nest: the registers kept in SSA values inside it (the most used ones), and
    those of them it writes, as (loop, register) pairs to store back when leaving it."""
    uses: dict[int, dict] = {}
    writes: dict[int, set] = {}
    for j, block in enumerate(region.blocks):
        loop = region.loop_of[j]
        if loop is None:
            continue
        counts = uses.setdefault(loop, {})
        for op in block.ops:
            if op.opcode in ("get", "put"):
                reg = op.attrs[0]
                counts[reg] = counts.get(reg, 0) + 1
                if op.opcode == "put":
                    writes.setdefault(loop, set()).add(reg)
    promoted, written = {}, {}
    for loop, counts in uses.items():
        regs = sorted(counts, key=lambda r: (-counts[r], r.offset))[:MAX_PROMOTED]
        promoted[loop] = regs
        written[loop] = [(loop, r) for r in regs if r in writes.get(loop, ())]
    return promoted, written


def _loops(region: Region) -> list[int | None]:
    """For each block, the id of the loop nest (a strongly connected component of the region's
    control flow with a cycle) it belongs to, or None. Tarjan's algorithm, iteratively."""
    n = len(region.blocks)
    succ = [region.edges(j) for j in range(n)]
    index, low, on_stack, stack, comps = [None] * n, [0] * n, [False] * n, [], []
    counter = 0
    for root in range(n):
        if index[root] is not None:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if i < len(succ[v]):
                work.append((v, i + 1))
                w = succ[v][i]
                if index[w] is None:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            for w in succ[v]:
                if on_stack[w] and index[w] > index[v]:
                    low[v] = min(low[v], low[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
    loop_of: list[int | None] = [None] * n
    for k, comp in enumerate(comps):
        if len(comp) > 1 or comp[0] in succ[comp[0]]:
            for j in comp:
                loop_of[j] = k
    return loop_of


class _Fn:
    """Lowers one region into one LLVM function."""

    def __init__(self, region: Region, memsize: int, state_size: int) -> None:
        self.region = region
        self.memsize = memsize
        self.state_size = state_size
        self.lines: list[str] = []
        self.tmp = 0
        self.decls: set[str] = set()
        self.exit_edges: list[tuple[str, str, str, str, list]] = []  # (stub, kind, pc, icount, writeback)
        self.names: dict[Op, str] = {}
        self.state_fields: set[int] = set()
        self.cur_label = "entry"
        self.loop: int | None = None  # the loop nest of the block being lowered
        self.promoted, self.written = _promotion(region)
        self.pads: list[tuple[str, str, int]] = []  # (label, target label, loop): loads on loop entry
        self.pad_of: dict[int, str] = {}
        self.links: list[tuple[str, str, list]] = []  # (label, target label, writeback): loop exits

    # -- small helpers ------------------------------------------------------------------------------
    def t(self, hint: str = "t") -> str:
        self.tmp += 1
        return f"%{hint}{self.tmp}"

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def label(self, name: str) -> None:
        self.lines.append(f"{name}:")
        self.cur_label = name

    def new_label(self, hint: str) -> str:
        self.tmp += 1
        return f"{hint}{self.tmp}"

    def val(self, v: Value) -> str:
        if isinstance(v, Const):
            if v.ty.is_float:
                it = I32 if v.ty is F32 else I64
                name = self.t("c")
                self.emit(f"{name} = bitcast {LLTYPE[it]} {signed_literal(v.value, it)} to {LLTYPE[v.ty]}")
                return name
            return signed_literal(v.value, v.ty)
        return self.names[v]

    def state_ptr(self, slot_offset: int) -> str:
        """A pointer to a CPU state field (each defined once, in the entry block)."""
        self.state_fields.add(slot_offset)
        return f"%st{slot_offset}"

    def intrinsic(self, decl: str) -> None:
        self.decls.add(decl)

    # -- exits --------------------------------------------------------------------------------------
    def exit_to(self, kind: int, pc: str, ic: str) -> str:
        """A label that leaves the region with this kind, pc and instruction count (storing the
        registers the current loop keeps in SSA values first)."""
        stub = self.new_label("x")
        self.exit_edges.append((stub, str(int(kind)), pc, ic, self.writeback()))
        return stub

    def writeback(self) -> list:
        return self.written.get(self.loop, []) if self.loop is not None else []

    def reg_slot(self, reg) -> str | None:
        """The alloca holding reg inside the current loop, or None when it lives in the CPU state."""
        if self.loop is not None and reg in self.promoted[self.loop]:
            return f"%L{self.loop}_r{reg.offset}"
        return None

    def block_label(self, j: int, from_loop: int | None) -> str:
        """The label to branch to for region block j from code in loop `from_loop` (None: no loop):
        entering a loop loads its registers, leaving one stores them."""
        to_loop = self.region.loop_of[j]
        target = f"b{j}"
        if to_loop is not None and to_loop != from_loop:
            pad = self.pad_of.get(j)
            if pad is None:
                pad = self.pad_of[j] = self.new_label("p")
                self.pads.append((pad, target, to_loop))
            target = pad
        if from_loop is not None and from_loop != to_loop and self.written.get(from_loop):
            link = self.new_label("w")
            self.links.append((link, target, self.written[from_loop]))
            target = link
        return target

    def raise_flags(self, cond: str | None, flags: int) -> None:
        """Accrue FP flags the hardware does not produce (cond: an i1, or None for always)."""
        p = self.state_ptr(FFLAGS * 8)
        old, new = self.t("xf"), self.t("xf")
        self.emit(f"{old} = load i64, ptr {p}")
        if cond is None:
            self.emit(f"{new} = or i64 {old}, {flags}")
        else:
            bits = self.t("xf")
            self.emit(f"{bits} = select i1 {cond}, i64 {flags}, i64 0")
            self.emit(f"{new} = or i64 {old}, {bits}")
        self.emit(f"store i64 {new}, ptr {p}")

    # -- driver -------------------------------------------------------------------------------------
    def lower(self) -> str:
        region = self.region
        body_start = len(self.lines)
        for j, block in enumerate(region.blocks):
            self.lower_block(j, block)
        body = self.lines[body_start:]
        self.lines = []
        self.prologue()
        self.lines += body
        self.epilogue()
        head = (f"define i32 @{region.name}(ptr noalias nocapture writable dereferenceable({self.state_size}) "
                f"%state, ptr noalias %mem, ptr noalias nocapture readonly %perm, ptr noalias %jc) #0 {{")
        return "\n".join([head, *self.lines, "}"])

    def prologue(self) -> None:
        self.loop = None
        self.label("entry")
        self.emit("%ic = alloca i64")
        self.emit(f"%pcp = getelementptr i8, ptr %state, i64 {PC * 8}")
        self.emit(f"%icp = getelementptr i8, ptr %state, i64 {ICOUNT * 8}")
        self.state_fields.add(ILIMIT * 8)
        for offset in sorted(self.state_fields | {o for loop in self.promoted.values() for o in
                                                   (r.offset for r in loop)}):
            self.emit(f"%st{offset} = getelementptr i8, ptr %state, i64 {offset}")
        self.emit("%pc0 = load i64, ptr %pcp")
        self.emit("%ic0 = load i64, ptr %icp")
        self.emit(f"%limit = load i64, ptr %st{ILIMIT * 8}")
        self.emit("store i64 %ic0, ptr %ic")
        for loop, regs in self.promoted.items():
            for reg in regs:
                self.emit(f"%L{loop}_r{reg.offset} = alloca {LLTYPE[reg.ty]}")
        cases = " ".join(f"i64 {signed_literal(b.pc, I64)}, label %{self.block_label(j, None)}"
                         for j, b in enumerate(self.region.blocks))
        self.emit(f"switch i64 %pc0, label %nowhere [ {cases} ]")
        self.label("nowhere")
        self.emit(f"br label %{self.exit_to(ExitKind.MISS, '%pc0', '%ic0')}")

    def epilogue(self) -> None:
        """Each exit stores its own pc and count and returns: no merge block, no phis to coalesce."""
        for pad, target, loop in self.pads:
            self.label(pad)
            for reg in self.promoted[loop]:
                v = self.t("r")
                self.emit(f"{v} = load {LLTYPE[reg.ty]}, ptr {self.state_ptr(reg.offset)}")
                self.emit(f"store {LLTYPE[reg.ty]} {v}, ptr %L{loop}_r{reg.offset}")
            self.emit(f"br label %{target}")
        for link, target, regs in self.links:
            self.label(link)
            self.store_back(regs)
            self.emit(f"br label %{target}")
        # Exits from a loop share one block per loop that stores its registers back; the exit's own
        # kind, pc and count reach it through phis (a store sequence per exit would bloat the code).
        shared: dict[int, list] = {}
        for n, (stub, kind, pc, ic, regs) in enumerate(self.exit_edges):
            self.label(stub)
            if regs:
                shared.setdefault(regs[0][0], []).append((stub, kind, pc, ic))
                self.emit(f"br label %loopexit{regs[0][0]}")
                continue
            self.emit(f"store i64 {pc}, ptr %pcp")
            self.emit(f"store i64 {ic}, ptr %icp")
            if kind == str(int(ExitKind.NEXT)):  # straight on to the next region
                self.lines += enter_next(pc, n)
            else:
                self.emit(f"ret i32 {kind}")
        for loop, edges in shared.items():
            self.label(f"loopexit{loop}")
            for k, (field, ty) in enumerate((("kind", "i32"), ("pc", "i64"), ("ic", "i64"))):
                incoming = ", ".join(f"[ {edge[k + 1]}, %{edge[0]} ]" for edge in edges)
                self.emit(f"%le{loop}_{field} = phi {ty} {incoming}")
            self.store_back(self.written[loop])
            self.emit(f"store i64 %le{loop}_pc, ptr %pcp")
            self.emit(f"store i64 %le{loop}_ic, ptr %icp")
            self.emit(f"%le{loop}_next = icmp eq i32 %le{loop}_kind, {int(ExitKind.NEXT)}")
            self.emit(f"br i1 %le{loop}_next, label %lenext{loop}, label %leret{loop}")
            self.label(f"leret{loop}")
            self.emit(f"ret i32 %le{loop}_kind")
            self.label(f"lenext{loop}")
            self.lines += enter_next(f"%le{loop}_pc", len(self.exit_edges) + loop)

    def store_back(self, regs: list) -> None:
        """Store loop-promoted registers to the CPU state (the allocas of the loop they belong to)."""
        for loop, reg in regs:
            v = self.t("w")
            self.emit(f"{v} = load {LLTYPE[reg.ty]}, ptr %L{loop}_r{reg.offset}")
            self.emit(f"store {LLTYPE[reg.ty]} {v}, ptr {self.state_ptr(reg.offset)}")

    def lower_block(self, j: int, block: Block) -> None:
        n = len(block.insns)
        self.loop = self.region.loop_of[j]
        self.label(f"b{j}")
        ic_in, ic = self.t("ic"), self.t("ic")
        self.emit(f"{ic_in} = load i64, ptr %ic")
        self.emit(f"{ic} = add i64 {ic_in}, {n}")
        over = self.t("over")
        self.emit(f"{over} = icmp ugt i64 {ic}, %limit")
        go = f"g{j}"
        budget = self.exit_to(ExitKind.BUDGET, signed_literal(block.pc, I64), ic_in)
        self.emit(f"br i1 {over}, label %{budget}, label %{go}, !prof !0")
        self.label(go)
        self.emit(f"store i64 {ic}, ptr %ic")
        self.block = block
        self.block_ic_in = ic_in
        self.access_groups = plan_accesses(block)
        self.insn_index = -1
        self.pending_round_check = False
        for op in block.ops:
            if op.opcode == "insn":
                self.end_insn(op.attrs[0])
                self.insn_index += 1
                self.insn_pc = op.attrs[0]
                continue
            rule = LOWER.get(op.opcode)
            if rule is None:
                raise LoweringError(f"llvm: no rule for IR op {op.opcode} in block {block.pc:#x}")
            rule(self, op)

    def ic_now(self, done: int) -> str:
        """The exact instruction count after `done` instructions of the current block."""
        v = self.t("icx")
        self.emit(f"{v} = add i64 {self.block_ic_in}, {done}")
        return v

    def end_insn(self, next_pc: int) -> None:
        """After an instruction that set the rounding mode: leave unless it is round-to-nearest again."""
        if not self.pending_round_check:
            return
        self.pending_round_check = False
        frm = self.t("frm")
        self.emit(f"{frm} = load i64, ptr {self.state_ptr(FRM * 8)}")
        bad = self.t("bad")
        self.emit(f"{bad} = icmp ne i64 {frm}, 0")
        cont = self.new_label("c")
        # SLOW, not NEXT: the dispatcher must not run more native code in this rounding mode.
        out = self.exit_to(ExitKind.SLOW, signed_literal(next_pc, I64), self.ic_now(self.insn_index + 1))
        self.emit(f"br i1 {bad}, label %{out}, label %{cont}, !prof !0")
        self.label(cont)

    def slow_exit(self, cond_ok: str) -> None:
        """Continue if cond_ok, else leave before the current instruction for the interpreter."""
        cont = self.new_label("c")
        out = self.exit_to(ExitKind.SLOW, signed_literal(self.insn_pc, I64), self.ic_now(self.insn_index))
        self.emit(f"br i1 {cond_ok}, label %{cont}, label %{out}, !prof !1")
        self.label(cont)

    def jump(self, target: int, done: int) -> str:
        """A branch target label for guest address target (inside the region, or an exit)."""
        j = self.region.index.get(target)
        if j is not None:
            return self.block_label(j, self.loop)
        return self.exit_to(ExitKind.NEXT, signed_literal(target, I64), self.ic_now(done))


# -- lowering rules --------------------------------------------------------------------------------

def _binary(f: _Fn, op: Op) -> None:
    a, b = f.val(op.args[0]), f.val(op.args[1])
    ty = LLTYPE[op.ty]
    r = f.t("v")
    code = op.opcode
    if code in ("add", "sub", "mul", "and", "or", "xor"):
        f.emit(f"{r} = {code} {ty} {a}, {b}")
    elif code in ("shl", "lshr", "ashr"):
        bits = op.ty.bits
        if isinstance(op.args[1], Const):
            amount = str(op.args[1].value % bits)
        else:
            amount = f.t("v")
            f.emit(f"{amount} = and {ty} {b}, {bits - 1}")
        f.emit(f"{r} = {code} {ty} {a}, {amount}")
    else:
        zero = f.t("v")
        f.emit(f"{zero} = icmp eq {ty} {b}, 0")
        guard = zero
        if code in ("sdiv", "srem"):
            mn, m1, ov = f.t("v"), f.t("v"), f.t("v")
            f.emit(f"{mn} = icmp eq {ty} {a}, {signed_literal(1 << (op.ty.bits - 1), op.ty)}")
            f.emit(f"{m1} = icmp eq {ty} {b}, -1")
            f.emit(f"{ov} = and i1 {mn}, {m1}")
            guard = f.t("v")
            f.emit(f"{guard} = or i1 {zero}, {ov}")
        d, q = f.t("v"), f.t("v")
        f.emit(f"{d} = select i1 {guard}, {ty} 1, {ty} {b}")
        f.emit(f"{q} = {code} {ty} {a}, {d}")
        if_zero = "0" if code in ("udiv", "sdiv") else a
        f.emit(f"{r} = select i1 {zero}, {ty} {if_zero}, {ty} {q}")
    f.names[op] = r


_UNARY_INTRINSIC = {"clz": "ctlz", "ctz": "cttz", "popcnt": "ctpop", "bswap": "bswap", "bitrev": "bitreverse"}


def _unary(f: _Fn, op: Op) -> None:
    ty = LLTYPE[op.ty]
    name = _UNARY_INTRINSIC[op.opcode]
    zero_poison = ", i1 false" if op.opcode in ("clz", "ctz") else ""
    f.intrinsic(f"declare {ty} @llvm.{name}.{ty}({ty}{', i1' if zero_poison else ''})")
    r = f.t("v")
    f.emit(f"{r} = call {ty} @llvm.{name}.{ty}({ty} {f.val(op.args[0])}{zero_poison})")
    f.names[op] = r


def _cmp(f: _Fn, op: Op) -> None:
    a, b = f.val(op.args[0]), f.val(op.args[1])
    r = f.t("v")
    f.emit(f"{r} = icmp {op.attrs[0]} {LLTYPE[op.args[0].ty]} {a}, {b}")
    f.names[op] = r


def _select(f: _Fn, op: Op) -> None:
    c, a, b = (f.val(v) for v in op.args)
    r = f.t("v")
    ty = LLTYPE[op.ty]
    f.emit(f"{r} = select i1 {c}, {ty} {a}, {ty} {b}")
    f.names[op] = r


def _cast(f: _Fn, op: Op) -> None:
    src = op.args[0]
    r = f.t("v")
    f.emit(f"{r} = {op.opcode} {LLTYPE[src.ty]} {f.val(src)} to {LLTYPE[op.ty]}")
    f.names[op] = r


def _get(f: _Fn, op: Op) -> None:
    reg = op.attrs[0]
    r = f.t("v")
    f.emit(f"{r} = load {LLTYPE[reg.ty]}, ptr {f.reg_slot(reg) or f.state_ptr(reg.offset)}")
    f.names[op] = r


def _put(f: _Fn, op: Op) -> None:
    reg = op.attrs[0]
    f.emit(f"store {LLTYPE[reg.ty]} {f.val(op.args[0])}, ptr {f.reg_slot(reg) or f.state_ptr(reg.offset)}")


def _address_parts(addr: Value) -> tuple[Value, int]:
    """An address as base + constant offset (the offset as a signed number)."""
    if isinstance(addr, Op) and addr.opcode == "add" and isinstance(addr.args[1], Const):
        off = addr.args[1].value
        return addr.args[0], off - (1 << 64) if off >> 63 else off
    return addr, 0


class _Group:
    """Memory accesses of one block at constant offsets from one base value: checked once, up front."""

    __slots__ = ("base", "lo", "hi", "write", "first")

    def __init__(self, base: Value, lo: int, hi: int, write: bool, first: Op) -> None:
        self.base, self.lo, self.hi, self.write, self.first = base, lo, hi, write, first


def plan_accesses(block: Block) -> dict:
    """Map each memory op of a block to its access group. A group spans at most one page worth of
    offsets, so two page lookups (its first and last byte) check all of its accesses."""
    groups: dict = {}
    by_base: dict = {}
    for op in block.ops:
        if op.opcode not in ("load", "store"):
            continue
        size = (op.args[1].ty if op.opcode == "store" else op.ty).bytes
        write = op.opcode == "store" or op.attrs[0]
        base, off = _address_parts(op.args[0])
        g = by_base.get(base)
        if g is not None and max(g.hi, off + size) - min(g.lo, off) <= 4096:
            g.lo, g.hi, g.write = min(g.lo, off), max(g.hi, off + size), g.write or write
        else:
            g = by_base[base] = _Group(base, off, off + size, write, op)
        groups[op] = g
    return groups


def _page_bits(f: _Fn, addr: str) -> str:
    npages = f.memsize >> PAGE_SHIFT
    page, idx, pp, pb = f.t("a"), f.t("a"), f.t("a"), f.t("a")
    f.emit(f"{page} = lshr i64 {addr}, {PAGE_SHIFT}")
    f.emit(f"{idx} = call i64 @llvm.umin.i64(i64 {page}, i64 {npages})")  # past the end: sentinel 0
    f.emit(f"{pp} = getelementptr i8, ptr %perm, i64 {idx}")
    f.emit(f"{pb} = load i8, ptr {pp}, !invariant.load !2")
    return pb


def _check_group(f: _Fn, g: _Group) -> None:
    """One check for a group: its first and last byte's pages allow every access in it."""
    f.intrinsic("declare i64 @llvm.umin.i64(i64, i64)")
    base = f.val(g.base)
    lo, hi = f.t("a"), f.t("a")
    f.emit(f"{lo} = add i64 {base}, {g.lo}")
    f.emit(f"{hi} = add i64 {base}, {g.hi - 1}")
    b1, b2 = _page_bits(f, lo), _page_bits(f, hi)
    both, either, ok = f.t("a"), f.t("a"), f.t("a")
    f.emit(f"{both} = and i8 {b1}, {b2}")
    if g.write:  # writable (2) on both pages, translated code (8) on neither
        f.emit(f"{either} = or i8 {b1}, {b2}")
        w, c, okw, okc = f.t("a"), f.t("a"), f.t("a"), f.t("a")
        f.emit(f"{w} = and i8 {both}, 2")
        f.emit(f"{c} = and i8 {either}, 8")
        f.emit(f"{okw} = icmp ne i8 {w}, 0")
        f.emit(f"{okc} = icmp eq i8 {c}, 0")
        f.emit(f"{ok} = and i1 {okw}, {okc}")
    else:
        r = f.t("a")
        f.emit(f"{r} = and i8 {both}, 1")
        f.emit(f"{ok} = icmp ne i8 {r}, 0")
    f.slow_exit(ok)


def _host_pointer(f: _Fn, op: Op) -> str:
    g = f.access_groups[op]
    if g.first is op:
        _check_group(f, g)
    hp = f.t("hp")
    f.emit(f"{hp} = getelementptr i8, ptr %mem, i64 {f.val(op.args[0])}")
    return hp


def _load(f: _Fn, op: Op) -> None:
    hp = _host_pointer(f, op)
    r = f.t("v")
    f.emit(f"{r} = load {LLTYPE[op.ty]}, ptr {hp}, align 1")
    f.names[op] = r


def _trap_if(f: _Fn, op: Op) -> None:
    out = f.exit_to(op.attrs[0], signed_literal(f.insn_pc, I64), f.ic_now(f.insn_index))
    cont = f.new_label("c")
    f.emit(f"br i1 {f.val(op.args[0])}, label %{out}, label %{cont}, !prof !0")
    f.label(cont)


def _store(f: _Fn, op: Op) -> None:
    value = op.args[1]
    hp = _host_pointer(f, op)
    f.emit(f"store {LLTYPE[value.ty]} {f.val(value)}, ptr {hp}, align 1")


# -- floating point -------------------------------------------------------------------------------

def _int_of(ty: Ty) -> Ty:
    return I32 if ty is F32 else I64


def _canonicalize(f: _Fn, v: str, ty: Ty) -> str:
    """The IR's rule: any NaN result is the default NaN."""
    it = LLTYPE[_int_of(ty)]
    bits, mag, isnan, fixed, r = f.t("n"), f.t("n"), f.t("n"), f.t("n"), f.t("n")
    f.emit(f"{bits} = bitcast {LLTYPE[ty]} {v} to {it}")
    f.emit(f"{mag} = and {it} {bits}, {ABS_MASK[ty]}")
    f.emit(f"{isnan} = icmp ugt {it} {mag}, {INF_BITS[ty]}")
    f.emit(f"{fixed} = select i1 {isnan}, {it} {CANON_NAN[ty]}, {it} {bits}")
    f.emit(f"{r} = bitcast {it} {fixed} to {LLTYPE[ty]}")
    return r


def _is_nan(f: _Fn, v: str, ty: Ty, signaling_only: bool = False) -> str:
    it = LLTYPE[_int_of(ty)]
    bits, mag, isnan = f.t("n"), f.t("n"), f.t("n")
    f.emit(f"{bits} = bitcast {LLTYPE[ty]} {v} to {it}")
    f.emit(f"{mag} = and {it} {bits}, {ABS_MASK[ty]}")
    f.emit(f"{isnan} = icmp ugt {it} {mag}, {INF_BITS[ty]}")
    if not signaling_only:
        return isnan
    q, quiet, snan = f.t("n"), f.t("n"), f.t("n")
    f.emit(f"{q} = and {it} {bits}, {QUIET_BIT[ty]}")
    f.emit(f"{quiet} = icmp ne {it} {q}, 0")
    notq = f.t("n")
    f.emit(f"{notq} = xor i1 {quiet}, true")
    f.emit(f"{snan} = and i1 {isnan}, {notq}")
    return snan


def _with_rounding(f: _Fn, rm: int, body) -> str:
    """Run body() under a static rounding mode (native code otherwise runs in round-to-nearest)."""
    if rm in (DYN, RNE):
        return body()
    if rm == RMM:
        f.slow_exit("false")  # x86 has no ties-to-away mode for arithmetic: the interpreter does it
        return body()
    f.intrinsic("declare void @llvm.x86.sse.stmxcsr(ptr)")
    f.intrinsic("declare void @llvm.x86.sse.ldmxcsr(ptr)")
    old, new, tmp = f.t("m"), f.t("m"), f.t("m")
    f.emit(f"call void @llvm.x86.sse.stmxcsr(ptr %mx) strictfp")
    f.emit(f"{old} = load i32, ptr %mx")
    f.emit(f"{tmp} = and i32 {old}, -24577")
    f.emit(f"{new} = or i32 {tmp}, {MXCSR_RC[rm] << 13}")
    f.emit(f"store i32 {new}, ptr %mx")
    f.emit(f"call void @llvm.x86.sse.ldmxcsr(ptr %mx) strictfp")
    r = body()
    after, keep = f.t("m"), f.t("m")
    f.emit(f"call void @llvm.x86.sse.stmxcsr(ptr %mx) strictfp")
    f.emit(f"{after} = load i32, ptr %mx")
    f.emit(f"{keep} = and i32 {after}, -24577")
    f.emit(f"store i32 {keep}, ptr %mx")
    f.emit(f"call void @llvm.x86.sse.ldmxcsr(ptr %mx) strictfp")
    return r


def _fbinary(f: _Fn, op: Op) -> None:
    ty = op.ty
    lt, s = LLTYPE[ty], FSUF[ty]
    name = {"fadd": "fadd", "fsub": "fsub", "fmul": "fmul", "fdiv": "fdiv"}[op.opcode]
    a, b = f.val(op.args[0]), f.val(op.args[1])
    f.intrinsic(f"declare {lt} @llvm.experimental.constrained.{name}.{s}({lt}, {lt}, metadata, metadata)")

    def body() -> str:
        r = f.t("f")
        f.emit(f"{r} = call {lt} @llvm.experimental.constrained.{name}.{s}({lt} {a}, {lt} {b}, "
               f"metadata !\"round.dynamic\", {EXC}) strictfp")
        return r
    f.names[op] = _canonicalize(f, _with_rounding(f, op.attrs[0], body), ty)


def _fsqrt(f: _Fn, op: Op) -> None:
    ty = op.ty
    lt, s = LLTYPE[ty], FSUF[ty]
    a = f.val(op.args[0])
    f.intrinsic(f"declare {lt} @llvm.experimental.constrained.sqrt.{s}({lt}, metadata, metadata)")

    def body() -> str:
        r = f.t("f")
        f.emit(f"{r} = call {lt} @llvm.experimental.constrained.sqrt.{s}({lt} {a}, "
               f"metadata !\"round.dynamic\", {EXC}) strictfp")
        return r
    f.names[op] = _canonicalize(f, _with_rounding(f, op.attrs[0], body), ty)


def _is_zero_or_inf(f: _Fn, v: str, ty: Ty) -> tuple[str, str]:
    it = LLTYPE[_int_of(ty)]
    bits, mag, zero, inf = f.t("n"), f.t("n"), f.t("n"), f.t("n")
    f.emit(f"{bits} = bitcast {LLTYPE[ty]} {v} to {it}")
    f.emit(f"{mag} = and {it} {bits}, {ABS_MASK[ty]}")
    f.emit(f"{zero} = icmp eq {it} {mag}, 0")
    f.emit(f"{inf} = icmp eq {it} {mag}, {INF_BITS[ty]}")
    return zero, inf


def _fma(f: _Fn, op: Op) -> None:
    ty = op.ty
    lt, s = LLTYPE[ty], FSUF[ty]
    a, b, c = (f.val(v) for v in op.args)
    f.intrinsic(f"declare {lt} @llvm.experimental.constrained.fma.{s}({lt}, {lt}, {lt}, metadata, metadata)")

    def body() -> str:
        r = f.t("f")
        f.emit(f"{r} = call {lt} @llvm.experimental.constrained.fma.{s}({lt} {a}, {lt} {b}, {lt} {c}, "
               f"metadata !\"round.dynamic\", {EXC}) strictfp")
        return r
    r = _with_rounding(f, op.attrs[0], body)
    # x86 does not raise invalid for inf*0 when the addend is a quiet NaN; the IR (and RISC-V) does.
    za, ia = _is_zero_or_inf(f, a, ty)
    zb, ib = _is_zero_or_inf(f, b, ty)
    x1, x2, inv = f.t("n"), f.t("n"), f.t("n")
    f.emit(f"{x1} = and i1 {za}, {ib}")
    f.emit(f"{x2} = and i1 {ia}, {zb}")
    f.emit(f"{inv} = or i1 {x1}, {x2}")
    f.raise_flags(inv, FLAG_NV)
    f.names[op] = _canonicalize(f, r, ty)


def _fminmax(f: _Fn, op: Op) -> None:
    """IEEE 754-2019 minimumNumber / maximumNumber with -0 < +0; NV for a signaling NaN operand."""
    ty = op.ty
    it = LLTYPE[_int_of(ty)]
    lt = LLTYPE[ty]
    a, b = f.val(op.args[0]), f.val(op.args[1])
    na, nb = _is_nan(f, a, ty), _is_nan(f, b, ty)
    sa, sb = _is_nan(f, a, ty, True), _is_nan(f, b, ty, True)
    anys = f.t("n")
    f.emit(f"{anys} = or i1 {sa}, {sb}")
    f.raise_flags(anys, FLAG_NV)
    ba, bb = f.t("n"), f.t("n")
    f.emit(f"{ba} = bitcast {lt} {a} to {it}")
    f.emit(f"{bb} = bitcast {lt} {b} to {it}")
    is_min = op.opcode == "fmin"
    # Ordered comparison on non-NaN values; equal values (+0/-0) are merged bitwise.
    less = f.t("n")
    f.emit(f"{less} = fcmp {'olt' if is_min else 'ogt'} {lt} {a}, {b}")
    pick = f.t("n")
    f.emit(f"{pick} = select i1 {less}, {it} {ba}, {it} {bb}")
    eq = f.t("n")
    f.emit(f"{eq} = fcmp oeq {lt} {a}, {b}")
    merged = f.t("n")
    f.emit(f"{merged} = {'or' if is_min else 'and'} {it} {ba}, {bb}")
    r1 = f.t("n")
    f.emit(f"{r1} = select i1 {eq}, {it} {merged}, {it} {pick}")
    r2, r3 = f.t("n"), f.t("n")
    f.emit(f"{r2} = select i1 {nb}, {it} {ba}, {it} {r1}")
    f.emit(f"{r3} = select i1 {na}, {it} {bb}, {it} {r2}")
    both = f.t("n")
    f.emit(f"{both} = and i1 {na}, {nb}")
    r4, r = f.t("n"), f.t("n")
    f.emit(f"{r4} = select i1 {both}, {it} {CANON_NAN[ty]}, {it} {r3}")
    f.emit(f"{r} = bitcast {it} {r4} to {lt}")
    f.names[op] = r


_FCMP_PRED = {"eq": "oeq", "lt": "olt", "le": "ole", "un": "uno"}


def _fcmp(f: _Fn, op: Op) -> None:
    cond, signaling = op.attrs
    ty = op.args[0].ty
    lt, s = LLTYPE[ty], FSUF[ty]
    kind = "fcmps" if signaling else "fcmp"
    f.intrinsic(f"declare i1 @llvm.experimental.constrained.{kind}.{s}({lt}, {lt}, metadata, metadata)")
    r = f.t("v")
    f.emit(f"{r} = call i1 @llvm.experimental.constrained.{kind}.{s}({lt} {f.val(op.args[0])}, "
           f"{lt} {f.val(op.args[1])}, metadata !\"{_FCMP_PRED[cond]}\", {EXC}) strictfp")
    f.names[op] = r


def _fcvt(f: _Fn, op: Op) -> None:
    src, dst = op.args[0].ty, op.ty
    a = f.val(op.args[0])
    ls, ld = LLTYPE[src], LLTYPE[dst]
    if dst.bits > src.bits:
        f.intrinsic(f"declare {ld} @llvm.experimental.constrained.fpext.{FSUF[dst]}.{FSUF[src]}({ls}, metadata)")
        r = f.t("f")
        f.emit(f"{r} = call {ld} @llvm.experimental.constrained.fpext.{FSUF[dst]}.{FSUF[src]}({ls} {a}, {EXC}) strictfp")
    else:
        f.intrinsic(f"declare {ld} @llvm.experimental.constrained.fptrunc.{FSUF[dst]}.{FSUF[src]}"
                    f"({ls}, metadata, metadata)")

        def body() -> str:
            r = f.t("f")
            f.emit(f"{r} = call {ld} @llvm.experimental.constrained.fptrunc.{FSUF[dst]}.{FSUF[src]}"
                   f"({ls} {a}, metadata !\"round.dynamic\", {EXC}) strictfp")
            return r
        r = _with_rounding(f, op.attrs[0], body)
    f.names[op] = _canonicalize(f, r, dst)


_ROUND_FN = {RNE: "roundeven", DYN: "roundeven", RTZ: "trunc", RDN: "floor", RUP: "ceil", RMM: "round"}


def _round_integral(f: _Fn, a: str, ty: Ty, rm: int) -> str:
    lt, s = LLTYPE[ty], FSUF[ty]
    fn = _ROUND_FN[rm]
    f.intrinsic(f"declare {lt} @llvm.experimental.constrained.{fn}.{s}({lt}, metadata)")
    r = f.t("f")
    f.emit(f"{r} = call {lt} @llvm.experimental.constrained.{fn}.{s}({lt} {a}, {EXC}) strictfp")
    return r


def _f2i(f: _Fn, op: Op) -> None:
    """Saturating float -> int with an explicit range check: NaN gives 0; NV out of range, NX inexact."""
    signed, rm = op.attrs
    src, dst = op.args[0].ty, op.ty
    lt, it = LLTYPE[src], LLTYPE[dst]
    a = f.val(op.args[0])
    bits = dst.bits
    lo = -(2.0 ** (bits - 1)) if signed else 0.0
    hi = 2.0 ** (bits - 1) if signed else 2.0 ** bits          # exclusive upper bound
    r = _round_integral(f, a, src, rm)
    isnan = _is_nan(f, a, src)
    c_lo, c_hi = f.t("c"), f.t("c")
    f.emit(f"{c_lo} = fcmp oge {lt} {r}, {_float_literal(lo, src)}")
    f.emit(f"{c_hi} = fcmp olt {lt} {r}, {_float_literal(hi, src)}")
    inrange = f.t("c")
    f.emit(f"{inrange} = and i1 {c_lo}, {c_hi}")
    # Convert a value that is certainly in range (the guard keeps fptosi/fptoui defined).
    safe = f.t("c")
    f.emit(f"{safe} = select i1 {inrange}, {lt} {r}, {lt} {_float_literal(0.0, src)}")
    conv = f.t("c")
    kind = "fptosi" if signed else "fptoui"  # constrained: no spurious flags from the u64 lowering
    f.intrinsic(f"declare {it} @llvm.experimental.constrained.{kind}.i{bits}.{FSUF[src]}({lt}, metadata)")
    f.emit(f"{conv} = call {it} @llvm.experimental.constrained.{kind}.i{bits}.{FSUF[src]}({lt} {safe}, "
           f"{EXC}) strictfp")
    neg = f.t("c")
    f.emit(f"{neg} = fcmp olt {lt} {a}, {_float_literal(0.0, src)}")
    mn = signed_literal(1 << (bits - 1), dst) if signed else "0"
    mx = signed_literal((1 << (bits - 1)) - 1, dst) if signed else signed_literal(dst.mask, dst)
    sat, sat2, res = f.t("c"), f.t("c"), f.t("c")
    f.emit(f"{sat} = select i1 {neg}, {it} {mn}, {it} {mx}")
    f.emit(f"{sat2} = select i1 {isnan}, {it} 0, {it} {sat}")
    f.emit(f"{res} = select i1 {inrange}, {it} {conv}, {it} {sat2}")
    bad, inexact, nx = f.t("c"), f.t("c"), f.t("c")
    f.emit(f"{bad} = xor i1 {inrange}, true")
    f.raise_flags(bad, FLAG_NV)
    f.emit(f"{inexact} = fcmp one {lt} {r}, {a}")
    f.emit(f"{nx} = and i1 {inexact}, {inrange}")
    f.raise_flags(nx, FLAG_NX)
    f.names[op] = res


def _float_literal(x: float, ty: Ty) -> str:
    """An LLVM float constant: LLVM writes both float and double constants as doubles in hex."""
    import struct
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", x))[0]


def _i2f(f: _Fn, op: Op) -> None:
    signed, rm = op.attrs
    src, dst = op.args[0].ty, op.ty
    ls, ld = LLTYPE[src], LLTYPE[dst]
    a = f.val(op.args[0])
    kind = "sitofp" if signed else "uitofp"
    f.intrinsic(f"declare {ld} @llvm.experimental.constrained.{kind}.{FSUF[dst]}.{'i' + str(src.bits)}"
                f"({ls}, metadata, metadata)")
    exact = src.bits == 32 and dst is F64

    def body() -> str:
        r = f.t("f")
        f.emit(f"{r} = call {ld} @llvm.experimental.constrained.{kind}.{FSUF[dst]}.i{src.bits}({ls} {a}, "
               f"metadata !\"round.dynamic\", {EXC}) strictfp")
        return r
    f.names[op] = body() if exact else _with_rounding(f, rm, body)


def _fround(f: _Fn, op: Op) -> None:
    rm, exact = op.attrs
    ty = op.ty
    lt = LLTYPE[ty]
    a = f.val(op.args[0])
    r = _round_integral(f, a, ty, rm)
    if exact:
        ne = f.t("c")
        f.emit(f"{ne} = fcmp one {lt} {r}, {a}")
        f.raise_flags(ne, FLAG_NX)
    f.names[op] = _canonicalize(f, r, ty)


# x86 MXCSR flag bits -> IR flags: IE->NV, ZE->DZ, OE->OF, UE->UF, PE->NX (DE has no IR flag).
_MXCSR_TO_IR = ((0, 16), (2, 8), (3, 4), (4, 2), (5, 1))


def _mxcsr_flags(f: _Fn) -> str:
    f.intrinsic("declare void @llvm.x86.sse.stmxcsr(ptr)")
    m = f.t("m")
    f.emit("call void @llvm.x86.sse.stmxcsr(ptr %mx) strictfp")
    f.emit(f"{m} = load i32, ptr %mx")
    acc = "0"
    for xbit, irbit in _MXCSR_TO_IR:
        sh, b, nacc = f.t("m"), f.t("m"), f.t("m")
        f.emit(f"{sh} = lshr i32 {m}, {xbit}")
        f.emit(f"{b} = and i32 {sh}, 1")
        mul = f.t("m")
        f.emit(f"{mul} = mul i32 {b}, {irbit}")
        f.emit(f"{nacc} = or i32 {acc}, {mul}")
        acc = nacc
    return acc


def _getflags(f: _Fn, op: Op) -> None:
    hw = _mxcsr_flags(f)
    st, st32, r = f.t("g"), f.t("g"), f.t("g")
    f.emit(f"{st} = load i64, ptr {f.state_ptr(FFLAGS * 8)}")
    f.emit(f"{st32} = trunc i64 {st} to i32")
    f.emit(f"{r} = or i32 {st32}, {hw}")
    f.names[op] = r


def _setflags(f: _Fn, op: Op) -> None:
    f.intrinsic("declare void @llvm.x86.sse.stmxcsr(ptr)")
    f.intrinsic("declare void @llvm.x86.sse.ldmxcsr(ptr)")
    v, v64 = f.t("s"), f.t("s")
    f.emit(f"{v} = and i32 {f.val(op.args[0])}, 31")
    f.emit(f"{v64} = zext i32 {v} to i64")
    f.emit(f"store i64 {v64}, ptr {f.state_ptr(FFLAGS * 8)}")
    m, cleared = f.t("m"), f.t("m")
    f.emit("call void @llvm.x86.sse.stmxcsr(ptr %mx) strictfp")
    f.emit(f"{m} = load i32, ptr %mx")
    f.emit(f"{cleared} = and i32 {m}, -64")
    f.emit(f"store i32 {cleared}, ptr %mx")
    f.emit("call void @llvm.x86.sse.ldmxcsr(ptr %mx) strictfp")


def _getround(f: _Fn, op: Op) -> None:
    if not f.pending_round_check:  # native code only runs in round-to-nearest (see dispatch.py)
        f.names[op] = "0"
        return
    v, r = f.t("g"), f.t("g")
    f.emit(f"{v} = load i64, ptr {f.state_ptr(FRM * 8)}")
    f.emit(f"{r} = trunc i64 {v} to i32")
    f.names[op] = r


def _setround(f: _Fn, op: Op) -> None:
    v = f.t("s")
    f.emit(f"{v} = zext i32 {f.val(op.args[0])} to i64")
    f.emit(f"store i64 {v}, ptr {f.state_ptr(FRM * 8)}")
    f.pending_round_check = True  # native code runs only in round-to-nearest: leave after this insn


def _icount(f: _Fn, op: Op) -> None:
    f.names[op] = f.ic_now(f.insn_index)


def _call(f: _Fn, op: Op) -> None:
    """Helpers live in Python: hand the instruction to the interpreter."""
    f.slow_exit("false")
    if op.ty is not None:
        f.names[op] = "undef"


def _goto(f: _Fn, op: Op) -> None:
    f.end_insn(op.attrs[0])
    f.emit(f"br label %{f.jump(op.attrs[0], len(f.block.insns))}")


def _br(f: _Fn, op: Op) -> None:
    if f.pending_round_check:
        raise LoweringError("llvm: rounding mode set by a branch instruction")
    t, e = op.attrs
    c = f.val(op.args[0])
    n = len(f.block.insns)
    f.emit(f"br i1 {c}, label %{f.jump(t, n)}, label %{f.jump(e, n)}")


def _goto_ind(f: _Fn, op: Op) -> None:
    target = f.val(op.args[0])
    n = len(f.block.insns)
    out = f.exit_to(ExitKind.NEXT, target, f.ic_now(n))
    sites = f.region.indirect_targets(f.block.pc)
    cases = " ".join(f"i64 {signed_literal(pc, I64)}, label %{f.block_label(f.region.index[pc], f.loop)}"
                     for pc in sites)
    f.emit(f"switch i64 {target}, label %{out} [ {cases} ]")


def _exit(f: _Fn, op: Op) -> None:
    kind, pc, next_pc = op.attrs
    n = len(f.block.insns)
    done = n if kind == ExitKind.SYSCALL else n - 1
    if kind == ExitKind.SYSCALL:  # the runtime continues at the next instruction after serving it
        f.emit(f"store i64 {signed_literal(next_pc, I64)}, ptr {f.state_ptr(EXIT_ARG * 8)}")
    f.emit(f"br label %{f.exit_to(kind, signed_literal(pc, I64), f.ic_now(done))}")


LOWER = {
    **{name: _binary for name in ("add", "sub", "mul", "and", "or", "xor", "shl", "lshr", "ashr",
                                  "udiv", "sdiv", "urem", "srem")},
    **{name: _unary for name in ("clz", "ctz", "popcnt", "bswap", "bitrev")},
    "cmp": _cmp, "select": _select,
    "zext": _cast, "sext": _cast, "trunc": _cast, "bitcast": _cast,
    "get": _get, "put": _put, "load": _load, "store": _store, "trap_if": _trap_if,
    "fadd": _fbinary, "fsub": _fbinary, "fmul": _fbinary, "fdiv": _fbinary, "fsqrt": _fsqrt, "fma": _fma,
    "fmin": _fminmax, "fmax": _fminmax, "fcmp": _fcmp, "fcvt": _fcvt, "f2i": _f2i, "i2f": _i2f,
    "fround": _fround, "getflags": _getflags, "setflags": _setflags, "getround": _getround,
    "setround": _setround, "icount": _icount, "call": _call,
    "goto": _goto, "br": _br, "goto_ind": _goto_ind, "exit": _exit,
}

ATTRIBUTES = 'attributes #0 = { nounwind strictfp "frame-pointer"="none" }'
METADATA = '!0 = !{!"branch_weights", i32 1, i32 2000}\n!1 = !{!"branch_weights", i32 2000, i32 1}\n!2 = !{}'


def lower_region(region: Region, memsize: int, state_size: int) -> tuple[str, set[str]]:
    """The LLVM function text of a region and the declarations it needs."""
    fn = _Fn(region, memsize, state_size)
    text = fn.lower()
    # %mx: a scratch slot for MXCSR reads and writes.
    text = text.replace("entry:\n", "entry:\n  %mx = alloca i32\n", 1)
    return text, fn.decls


def module_text(functions: list[tuple[str, set[str]]], extra: str = "") -> str:
    """A whole LLVM module: declarations, the functions, attributes and metadata."""
    decls = set()
    for _, d in functions:
        decls |= d
    parts = sorted(decls) + [text for text, _ in functions]
    if extra:
        parts.append(extra)
    parts += [ATTRIBUTES, METADATA]
    return "\n\n".join(parts) + "\n"

"""IR block -> Python source: each block is specialised once into a Python function.

The generated function reads and writes guest registers straight in the CPU state buffer (so the state
is exact wherever a guest fault stops the block), keeps SSA temporaries in locals or inlines them into
their single use, and returns the next guest PC. Each guest instruction starts a new source line, so a
fault raised inside the function names the faulting instruction through the traceback's line number.

Return value: the next PC (>= 0), or ~k when the block stopped early after k instructions because guest
code was written (self-modifying code).
"""
from __future__ import annotations

from dbt.ir.block import Block, Const, Op, Value
from dbt.ir.ops import DYN, PURE, info
from dbt.ir.types import I1, Ty

_LOAD_VIEW = {8: ("MB", 0), 16: ("MH", 1), 32: ("MI", 3), 64: ("MQ", 7)}


class Generated:
    """The source of one block's function, with its line -> instruction-index map. The function's
    parameters are the environment names it uses (bound as defaults, so they are fast locals)."""

    __slots__ = ("source", "line_insn", "names")

    def __init__(self, source: str, line_insn: list[int], names: set[str]) -> None:
        self.source = source
        self.line_insn = line_insn
        self.names = names


def _hex(v: int) -> str:
    return hex(v) if v > 9 else str(v)


class _Gen:
    def __init__(self, block: Block) -> None:
        self.block = block
        self.lines: list[str] = []
        self.line_insn: list[int] = []
        self.names: set[str] = set()
        self.expr: dict[Op, str] = {}
        self.insn_index = -1
        self.insn_has_store = False
        self.uses: dict[Op, int] = {}
        self.pos: dict[Op, int] = {}
        for i, op in enumerate(block.ops):
            self.pos[op] = i
            for a in op.args:
                if isinstance(a, Op):
                    self.uses[a] = self.uses.get(a, 0) + 1
        self.addr_ops = {op.args[0] for op in block.ops if op.opcode in ("load", "store")
                         and isinstance(op.args[0], Op)}
        self.inline_ok = self._find_inlinable()

    # -- helpers -----------------------------------------------------------------------------
    def need(self, name: str) -> str:
        self.names.add(name)
        return name

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)
        self.line_insn.append(self.insn_index)

    def val(self, v: Value) -> str:
        if isinstance(v, Const):
            return _hex(v.value)
        return self.expr[v]

    def _find_inlinable(self) -> set[Op]:
        """Single-use pure ops, and single-use register reads with no write of that register before the use."""
        users: dict[Op, Op] = {}
        for op in self.block.ops:
            for a in op.args:
                if isinstance(a, Op):
                    users[a] = op
        ok = set()
        ops = self.block.ops
        for op, n in self.uses.items():
            if n == 1 and op not in self.addr_ops and info(op.opcode).effect == PURE:
                ok.add(op)

        def evaluated_at(op: Op) -> int:
            """Where an inlined value is really computed: at its first non-inlined consumer."""
            while op in ok:
                op = users[op]
            return self.pos[op]

        for op, n in self.uses.items():
            if n == 1 and op.opcode == "get" and op.ty.bits <= 64 and op not in self.addr_ops:
                reg = op.attrs[0]
                between = ops[self.pos[op] + 1:evaluated_at(users[op])]
                if not any(o.opcode == "put" and o.attrs[0] == reg for o in between):
                    ok.add(op)
        return ok

    def define(self, op: Op, expr: str) -> None:
        """Give op's value an expression: inlined at its use, or assigned to a local now."""
        if op in self.inline_ok:
            self.expr[op] = f"({expr})"
        else:
            name = f"v{op.id}"
            self.emit(f"{name} = {expr}")
            self.expr[op] = name

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> Generated:
        ops = self.block.ops
        has_store = any(op.opcode == "store" for op in ops)
        if has_store:
            self.emit("smc = 0")
        for op in ops:
            if op.opcode == "insn":
                self.end_insn()
                self.insn_index += 1
                self.insn_has_store = False
                continue
            handler = LOWER.get(op.opcode)
            if handler is None:
                raise NotImplementedError(
                    f"interpreter: no rule for IR op {op.opcode}.{op.ty} in block {self.block.pc:#x}")
            handler(self, op)
        body = "\n".join(self.lines)
        params = ", ".join(sorted(self.names))
        source = f"def block_{self.block.pc:x}({params}):\n{body}\n"
        line_insn = [-1, -1] + self.line_insn  # line 1 is the def
        return Generated(source, line_insn, self.names)

    def end_insn(self) -> None:
        if self.insn_has_store:
            self.emit(f"if smc: return {~(self.insn_index + 1)}")


# -- lowering rules: one small function per op family ---------------------------------------------

def _binary(g: _Gen, op: Op) -> None:
    a, b = g.val(op.args[0]), g.val(op.args[1])
    ty = op.ty
    m = _hex(ty.mask)
    code = op.opcode
    if code in ("add", "sub", "mul"):
        sym = {"add": "+", "sub": "-", "mul": "*"}[code]
        g.define(op, f"({a} {sym} {b}) & {m}")
    elif code in ("and", "or", "xor"):
        sym = {"and": "&", "or": "|", "xor": "^"}[code]
        g.define(op, f"{a} {sym} {b}")
    elif code in ("shl", "lshr", "ashr"):
        cb = op.args[1]
        amount = _hex(cb.value % ty.bits) if isinstance(cb, Const) else f"({b} & {ty.bits - 1})"
        if code == "shl":
            g.define(op, f"({a} << {amount}) & {m}")
        elif code == "lshr":
            g.define(op, f"{a} >> {amount}")
        else:
            sb = _hex(1 << (ty.bits - 1))
            g.define(op, f"((({a} ^ {sb}) - {sb}) >> {amount}) & {m}")
    else:
        g.need("DIV")
        g.define(op, f"DIV[{code!r}]({a}, {b}, {ty.bits}) & {m}")


def _unary(g: _Gen, op: Op) -> None:
    g.need("UN")
    g.define(op, f"UN[{op.opcode!r}]({g.val(op.args[0])}, {op.ty.bits})")


_CMP_SYM = {"eq": "==", "ne": "!=", "ult": "<", "ule": "<=", "ugt": ">", "uge": ">=",
            "slt": "<", "sle": "<=", "sgt": ">", "sge": ">="}


def _cmp(g: _Gen, op: Op) -> None:
    cond = op.attrs[0]
    x, y = op.args
    sym = _CMP_SYM[cond]
    if cond[0] == "s":
        sb = 1 << (x.ty.bits - 1)
        a = _hex(x.value ^ sb) if isinstance(x, Const) else f"({g.val(x)} ^ {_hex(sb)})"
        b = _hex(y.value ^ sb) if isinstance(y, Const) else f"({g.val(y)} ^ {_hex(sb)})"
    else:
        a, b = g.val(x), g.val(y)
    g.define(op, f"{a} {sym} {b}")


def _select(g: _Gen, op: Op) -> None:
    c, a, b = (g.val(v) for v in op.args)
    g.define(op, f"{a} if {c} else {b}")


def _cast(g: _Gen, op: Op) -> None:
    src = op.args[0]
    v = g.val(src)
    code = op.opcode
    if code == "bitcast":
        g.define(op, v)
    elif code == "trunc":
        g.define(op, f"{v} & {_hex(op.ty.mask)}")
    elif src.ty is I1:
        g.define(op, f"({_hex(op.ty.mask) if code == 'sext' else '1'} if {v} else 0)")
    elif code == "zext":
        g.define(op, v)
    else:
        sb = _hex(1 << (src.ty.bits - 1))
        g.define(op, f"(({v} ^ {sb}) - {sb}) & {_hex(op.ty.mask)}")


def _get(g: _Gen, op: Op) -> None:
    reg = op.attrs[0]
    if reg.ty.bits > 64:
        g.define(op, f"{g.need('S')}[{reg.slot}] | {g.need('S')}[{reg.slot + 1}] << 64")
    else:
        g.define(op, f"{g.need('S')}[{reg.slot}]")


def _put(g: _Gen, op: Op) -> None:
    reg = op.attrs[0]
    v = g.val(op.args[0])
    g.need("S")
    if reg.ty.bits > 64:
        g.emit(f"_w = {v}")
        g.emit(f"S[{reg.slot}] = _w & 0xffffffffffffffff; S[{reg.slot + 1}] = _w >> 64")
    else:
        g.emit(f"S[{reg.slot}] = {v}")


def _mem_parts(g: _Gen, ty: Ty) -> tuple[str, int, int]:
    bits = ty.bits
    if bits not in _LOAD_VIEW:
        raise NotImplementedError(f"interpreter: memory access of {ty}")
    view, align = _LOAD_VIEW[bits]
    g.need(view), g.need("P"), g.need("LIM")
    return view, align, bits // 8


def _load(g: _Gen, op: Op) -> None:
    view, align, size = _mem_parts(g, op.ty)
    a = g.val(op.args[0])
    slow, need = ("LDW", 2) if op.attrs[0] else ("LD", 1)  # for_write: needs write permission
    g.need(slow)
    shift = {1: "", 2: " >> 1", 4: " >> 2", 8: " >> 3"}[size]
    aligned = f"not {a} & {align} and " if align else ""
    g.define(op, f"{view}[{a}{shift}] if {aligned}{a} < LIM and P[{a} >> 12] & {need} else {slow}({a}, {size})")


def _trap_if(g: _Gen, op: Op) -> None:
    g.need("TRAP")
    g.emit(f"if {g.val(op.args[0])}: raise TRAP({int(op.attrs[0])})")


def _store(g: _Gen, op: Op) -> None:
    view, align, size = _mem_parts(g, op.ty)
    a, v = g.val(op.args[0]), g.val(op.args[1])
    g.need("ST")
    shift = {1: "", 2: " >> 1", 4: " >> 2", 8: " >> 3"}[size]
    aligned = f"not {a} & {align} and " if align else ""
    if not isinstance(op.args[1], Const) and op.args[1] in g.inline_ok:
        g.emit(f"_w = {v}")
        v = "_w"
    g.emit(f"if {aligned}{a} < LIM and P[{a} >> 12] & 10 == 2: {view}[{a}{shift}] = {v}")
    g.emit(f"elif ST({a}, {size}, {v}): smc = 1")
    g.insn_has_store = True


def _rm(g: _Gen, rm: int) -> str:
    return f"{g.need('S')}[4]" if rm == DYN else str(rm)


def _fp_call(g: _Gen, op: Op, call: str) -> None:
    """An FP operation through softfloat: keep the result, accrue the flags."""
    g.need("SF"), g.need("S")
    name = f"v{op.id}"
    g.emit(f"{name}, _f = {call}")
    g.emit("if _f: S[3] |= _f")
    g.expr[op] = name


def _fbinary(g: _Gen, op: Op) -> None:
    a, b = g.val(op.args[0]), g.val(op.args[1])
    fn = op.opcode[1:]
    _fp_call(g, op, f"SF.{fn}({op.ty.bits}, {a}, {b}, {_rm(g, op.attrs[0])})")


def _fsqrt(g: _Gen, op: Op) -> None:
    _fp_call(g, op, f"SF.sqrt({op.ty.bits}, {g.val(op.args[0])}, {_rm(g, op.attrs[0])})")


def _fma(g: _Gen, op: Op) -> None:
    a, b, c = (g.val(v) for v in op.args)
    _fp_call(g, op, f"SF.fma({op.ty.bits}, {a}, {b}, {c}, {_rm(g, op.attrs[0])})")


def _fminmax(g: _Gen, op: Op) -> None:
    a, b = g.val(op.args[0]), g.val(op.args[1])
    _fp_call(g, op, f"SF.{op.opcode[1:]}({op.ty.bits}, {a}, {b})")


def _fcmp(g: _Gen, op: Op) -> None:
    cond, signaling = op.attrs
    a, b = g.val(op.args[0]), g.val(op.args[1])
    bits = op.args[0].ty.bits
    _fp_call(g, op, f"SF.compare({bits}, {a}, {b}, {cond!r}, {signaling})")


def _fcvt(g: _Gen, op: Op) -> None:
    a = g.val(op.args[0])
    _fp_call(g, op, f"SF.convert({op.args[0].ty.bits}, {op.ty.bits}, {a}, {_rm(g, op.attrs[0])})")


def _f2i(g: _Gen, op: Op) -> None:
    signed, rm = op.attrs
    a = g.val(op.args[0])
    _fp_call(g, op, f"SF.to_int({op.args[0].ty.bits}, {a}, {op.ty.bits}, {signed}, {_rm(g, rm)})")


def _i2f(g: _Gen, op: Op) -> None:
    signed, rm = op.attrs
    a = g.val(op.args[0])
    _fp_call(g, op, f"SF.from_int({op.ty.bits}, {a}, {op.args[0].ty.bits}, {signed}, {_rm(g, rm)})")


def _fround(g: _Gen, op: Op) -> None:
    rm, exact = op.attrs
    a = g.val(op.args[0])
    _fp_call(g, op, f"SF.round_to_integral({op.ty.bits}, {a}, {_rm(g, rm)}, {exact})")


def _getflags(g: _Gen, op: Op) -> None:
    g.define(op, f"{g.need('S')}[3]")


def _getround(g: _Gen, op: Op) -> None:
    g.define(op, f"{g.need('S')}[4]")


def _setflags(g: _Gen, op: Op) -> None:
    g.emit(f"{g.need('S')}[3] = {g.val(op.args[0])} & 31")


def _setround(g: _Gen, op: Op) -> None:
    g.emit(f"{g.need('S')}[4] = {g.val(op.args[0])}")


def _icount(g: _Gen, op: Op) -> None:
    g.define(op, f"{g.need('S')}[1] + {g.insn_index}")


def _call(g: _Gen, op: Op) -> None:
    helper = op.attrs[0]
    args = ", ".join(g.val(a) for a in op.args)
    fn = g.need(f"H_{helper}")
    if op.ty is None:
        g.emit(f"{fn}({args})")
    else:
        name = f"v{op.id}"
        g.emit(f"{name} = {fn}({args}) & {_hex(op.ty.mask)}")
        g.expr[op] = name


def _goto(g: _Gen, op: Op) -> None:
    g.end_insn()
    g.emit(f"return {_hex(op.attrs[0])}")


def _goto_ind(g: _Gen, op: Op) -> None:
    g.end_insn()
    g.emit(f"return {g.val(op.args[0])}")


def _br(g: _Gen, op: Op) -> None:
    g.end_insn()
    t, f = op.attrs
    g.emit(f"return {_hex(t)} if {g.val(op.args[0])} else {_hex(f)}")


def _exit(g: _Gen, op: Op) -> None:
    g.end_insn()
    g.emit(f"return {_hex(op.attrs[1])}")


LOWER = {
    **{name: _binary for name in ("add", "sub", "mul", "and", "or", "xor", "shl", "lshr", "ashr",
                                  "udiv", "sdiv", "urem", "srem")},
    **{name: _unary for name in ("clz", "ctz", "popcnt", "bswap", "bitrev")},
    "cmp": _cmp, "select": _select,
    "zext": _cast, "sext": _cast, "trunc": _cast, "bitcast": _cast,
    "get": _get, "put": _put, "load": _load, "store": _store, "trap_if": _trap_if,
    "fadd": _fbinary, "fsub": _fbinary, "fmul": _fbinary, "fdiv": _fbinary,
    "fsqrt": _fsqrt, "fma": _fma, "fmin": _fminmax, "fmax": _fminmax, "fcmp": _fcmp,
    "fcvt": _fcvt, "f2i": _f2i, "i2f": _i2f, "fround": _fround,
    "getflags": _getflags, "getround": _getround, "setflags": _setflags, "setround": _setround,
    "icount": _icount, "call": _call, "goto": _goto, "goto_ind": _goto_ind, "br": _br, "exit": _exit,
}


def generate(block: Block) -> Generated:
    """Python source for one block (see the module docstring for its contract)."""
    return _Gen(block).run()


__all__ = ["generate", "Generated", "LOWER"]

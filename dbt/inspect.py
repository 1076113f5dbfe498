"""Seeing every stage: guest bytes -> guest assembly -> IR (-> the interpreter's Python), for people
learning how binary translation works and for golden tests."""
from __future__ import annotations

from . import frontend as frontends
from .ir.block import Block
from .memory import PROT_EXEC, PROT_READ, GuestMemory


def translate(isa: str, code: bytes, addr: int = 0x10000, max_insns: int = 64) -> Block:
    """Lift raw guest code at addr into an IR block (the Python API's `dbt.translate`)."""
    fe = frontends.get(isa)

    def fetch(a: int, n: int) -> bytes:
        off = a - addr
        if not 0 <= off < len(code):
            from .exits import Access, GuestFault
            raise GuestFault(a, Access.EXEC, 1)
        return code[off:off + n]

    return fe.lift_block(fetch, addr, max_insns)


def python_source(block: Block) -> str:
    """The Python function the interpreter tier generates for a block."""
    from backends.interp.codegen import generate
    return generate(block).source


STAGES = ("asm", "ir", "python", "llvm", "opt", "host")


def llvm_stages(blocks: list[Block], memsize: int, state_size: int, stages: tuple[str, ...]) -> list[str]:
    """The LLVM IR the JIT generates for blocks compiled as one region, optimized, and as host code."""
    from backends.llvm.compiler import Compiler
    from backends.llvm.lower import Region, lower_region, module_text
    name = f"region_{blocks[0].pc:x}"
    text = module_text([lower_region(Region(blocks, name), memsize, state_size)])
    out = []
    if "llvm" in stages:
        out += [f"-- LLVM IR (region of {len(blocks)} blocks)", text.rstrip("\n")]
    compiler = Compiler() if ("opt" in stages or "host" in stages) else None
    if "opt" in stages:
        out += ["-- LLVM IR, optimized", compiler.optimized_ir(text).rstrip("\n")]
    if "host" in stages:
        out += ["-- host assembly (x86-64)", compiler.assembly(text).rstrip("\n")]
    return out


def show_block(block: Block, stages: tuple[str, ...] = ("asm", "ir", "python")) -> str:
    """A block's translation stages as readable text."""
    out = [f"== block {block.pc:#x}..{block.end:#x} ({len(block.insns)} guest instructions)"]
    if "asm" in stages:
        out.append("-- guest assembly")
        out += [f"  {i.pc:#x}:  {i.raw.hex():<10} {i.text}" for i in block.insns]
    if "ir" in stages:
        out.append("-- IR")
        out.append(str(block).rstrip("\n"))
    if "python" in stages:
        out.append("-- interpreter (generated Python)")
        out.append(python_source(block).rstrip("\n"))
    return "\n".join(out) + "\n"


def translate_file(path: str, at: int | None = None, isa: str | None = None, base: int = 0,
                   blocks: int = 1, stages: tuple[str, ...] = ("asm", "ir", "python", "llvm", "host"),
                   region: bool = False) -> str:
    """Show the translation of `blocks` consecutive blocks of an ELF program (or raw code file), or
    (region) of the region the JIT would compile from the block at `at` and what it reaches."""
    with open(path, "rb") as f:
        data = f.read()
    mem = GuestMemory()
    if data[:4] == b"\x7fELF":
        from .linux import elf
        from .linux.process import pick_frontend
        fe = pick_frontend(data, path, isa)
        image = elf.load(mem, data, path)
        pc = image.entry if at is None else at
    else:
        if isa is None:
            raise ValueError(f"{path}: not an ELF file; give --isa (and --base) for raw code")
        fe = frontends.get(isa)
        from .memory import page_ceil, page_floor
        start = page_floor(base)
        mem.map(start, page_ceil(base + len(data)) - start, PROT_READ | PROT_EXEC)
        mem.poke(base, data)
        pc = base if at is None else at
    from .translator import Translator
    from backends.interp import InterpEnv
    from .state import CPUState
    tr = Translator(fe, mem, InterpEnv(CPUState(fe.regfile), mem))
    lifted = []
    if region:
        from dbt.jit import MAX_REGION_BLOCKS
        limit = MAX_REGION_BLOCKS if blocks == 1 else blocks
        seen, todo = {pc}, [pc]
        while todo and len(lifted) < limit:
            block = tr.lift(todo.pop(0))
            lifted.append(block)
            for nxt in (*block.successors(), *((block.return_to,) if block.return_to else ())):
                if nxt not in seen and mem.prot_at(nxt) & PROT_EXEC:
                    seen.add(nxt)
                    todo.append(nxt)
    else:
        for _ in range(blocks):
            lifted.append(tr.lift(pc))
            pc = lifted[-1].end
    out = [show_block(b, tuple(s for s in stages if s in ("asm", "ir", "python"))) for b in lifted]
    llvm = [s for s in stages if s in ("llvm", "opt", "host")]
    if llvm:
        groups = [lifted] if region else [[b] for b in lifted]
        for group in groups:
            out.append("\n".join(llvm_stages(group, mem.size, fe.regfile.size, tuple(llvm))) + "\n")
    return "\n".join(out)

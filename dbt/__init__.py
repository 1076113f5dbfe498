"""dbt: a pluggable dynamic binary translator.

Guest machine code is decoded by a frontend (frontends/<isa>) into dbt's IR, run cold by a generated-
Python interpreter, and compiled hot by an LLVM JIT (backends/). The quick tour:

    import dbt
    proc = dbt.load("hello", ["hello", "world"])   # a static Linux ELF for a supported ISA
    status = proc.run()                              # or proc.run(max_insns=1000)
    proc.state["a0"], proc.memory.read(addr, 16)     # registers by name, guest memory
    print(dbt.translate("riscv64", bytes.fromhex("13051500"), 0x1000))   # IR of raw code
"""
from __future__ import annotations

__version__ = "0.1.0"


def load(path: str, argv: list[str] | None = None, env: dict[str, str] | None = None, **options):
    """Load a static Linux executable into a fresh guest process (dbt.linux.process.LinuxProcess)."""
    from .linux.process import LinuxProcess
    return LinuxProcess(path, argv, env, **options)


def translate(isa: str, code: bytes, addr: int = 0x10000, max_insns: int = 64):
    """The IR block for raw guest code placed at addr; print it to see the IR text."""
    from .inspect import translate as _translate
    return _translate(isa, code, addr, max_insns)


def engine(isa: str):
    """A bare guest CPU of an ISA with an empty address space, for running raw code."""
    from . import frontend
    from .engine import Engine
    return Engine(frontend.get(isa))

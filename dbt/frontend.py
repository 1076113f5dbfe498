"""The frontend contract and the registry of frontends.

A frontend turns guest bytes at a PC into an IR block that ends in an explicit exit, and declares its
register file. Built-in frontends and third-party ones (Python entry point group `dbt.frontends`) are
found by ISA name or by ELF machine number.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import import_module
from typing import Callable

from .ir.block import Block
from .state import RegisterFile

# fetch(addr, n) -> up to n executable guest bytes starting at addr (raises GuestFault if none).
Fetch = Callable[[int, int], bytes]

BUILTIN = {"riscv64": "frontends.riscv64:FRONTEND"}


@dataclass(frozen=True)
class LinuxABI:
    """How a Linux user-mode program of this ISA talks to the kernel."""

    syscall_numbers: dict[int, str]       # number -> syscall name (the generic names, e.g. "openat")
    syscall_nr_reg: str                   # register holding the syscall number
    arg_regs: tuple[str, ...]             # argument registers, in order
    ret_reg: str                          # result register
    sp_reg: str                           # stack pointer
    hwcap: int                            # AT_HWCAP value describing what the frontend implements
    platform: str                         # AT_PLATFORM string (may be empty)
    uname_machine: str                    # uname().machine
    tls_reg: str | None = None            # register set by clone(CLONE_SETTLS)
    extra_auxv: dict[int, int] = field(default_factory=dict)
    # Where the kernel ABI differs between ISAs (the defaults are riscv64's, mostly asm-generic):
    # clone's argument order (x86-64: ("flags", "stack", "parent_tid", "child_tid", "tls"))
    clone_args: tuple[str, ...] = ("flags", "stack", "parent_tid", "tls", "child_tid")
    sigaction_restorer: bool = False      # struct sigaction has sa_restorer (aarch64, x86-64: True)
    stat_layout: str = "generic"          # struct stat: "generic" (riscv64, aarch64) or "x86_64"
    # O_* values that differ from asm-generic (aarch64: {"O_DIRECTORY": 0o40000, "O_NOFOLLOW": 0o100000,
    # "O_DIRECT": 0o200000, "O_LARGEFILE": 0o400000})
    open_flags: dict[str, int] = field(default_factory=dict)


class Frontend(ABC):
    """One guest ISA: its registers and how to lift its instructions into IR."""

    name: str
    elf_machine: int
    regfile: RegisterFile
    linux: LinuxABI
    max_insn_size: int = 4
    insn_alignment: int = 2

    @abstractmethod
    def lift_block(self, fetch: Fetch, pc: int, max_insns: int = 64) -> Block:
        """IR for the basic block at pc: at most max_insns instructions, ending in an explicit exit."""

    @abstractmethod
    def disassemble(self, code: bytes, addr: int) -> list[tuple[int, int, str]]:
        """(address, size, assembly text) for each instruction Capstone can decode in code."""


_LOADED: dict[str, Frontend] = {}


def _load(spec: str) -> Frontend:
    module, _, attr = spec.partition(":")
    return getattr(import_module(module), attr)


def _plugins():
    """Installed frontend plugins (importlib.metadata is imported only when needed: it is slow)."""
    from importlib.metadata import entry_points
    return entry_points(group="dbt.frontends")


def available() -> list[str]:
    """Names of the ISAs with a frontend (built in or installed as a plugin)."""
    names = set(BUILTIN)
    names.update(ep.name for ep in _plugins())
    return sorted(names)


def get(name: str) -> Frontend:
    """The frontend for an ISA name such as "riscv64"."""
    if name in _LOADED:
        return _LOADED[name]
    spec = BUILTIN.get(name)
    if spec is None:
        for ep in _plugins():
            if ep.name == name:
                spec = ep.value
                break
    if spec is None:
        raise KeyError(f"no frontend for ISA {name!r} (available: {', '.join(available())})")
    fe = _LOADED[name] = _load(spec)
    return fe


def for_elf_machine(machine: int) -> Frontend | None:
    """The frontend whose ELF e_machine number is `machine`, if any (built-in ones are tried first:
    looking through installed plugins costs a tenth of a second)."""
    def names():
        yield from BUILTIN
        yield from (n for n in available() if n not in BUILTIN)

    for name in names():
        try:
            fe = get(name)
        except Exception:
            continue
        if fe.elf_machine == machine:
            return fe
    return None

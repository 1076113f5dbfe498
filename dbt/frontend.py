"""The frontend contract and the registry of frontends.

A frontend turns guest bytes at a PC into an IR block that ends in an explicit exit, and declares its
register file. Built-in frontends and third-party ones (Python entry point group `dbt.frontends`) are
found by ISA name or by ELF machine number.
"""
from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import import_module
from typing import Callable

from .ir.block import Block
from .state import RegisterFile

# fetch(addr, n) -> up to n executable guest bytes starting at addr (raises GuestFault if none).
Fetch = Callable[[int, int], bytes]

BUILTIN = {"riscv64": "frontends.riscv64:FRONTEND"}
BUILTIN_ELF_MACHINES = {243: "riscv64"}  # EM_RISCV: lets for_elf_machine skip importing what does not match
PLUGIN_GROUP = "dbt.frontends"


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


def _plugins(exhaustive: bool = False) -> dict[str, str]:
    """Installed frontend plugins, name -> "module:attribute". Read straight from the entry_points.txt
    of the distributions on sys.path (importlib.metadata costs a twentieth of a second to import and
    scan); exhaustive asks importlib.metadata, which also knows other ways of installing."""
    if exhaustive:
        from importlib.metadata import entry_points
        return {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = [e.name for e in os.scandir(entry or ".") if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            section = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("["):
                    section = line.strip("[]").strip()
                elif section == PLUGIN_GROUP and "=" in line:
                    key, _, value = line.partition("=")
                    found.setdefault(key.strip(), value.strip())
    return found


def available() -> list[str]:
    """Names of the ISAs with a frontend (built in or installed as a plugin)."""
    return sorted(set(BUILTIN) | set(_plugins(exhaustive=True)))


def get(name: str) -> Frontend:
    """The frontend for an ISA name such as "riscv64"."""
    if name in _LOADED:
        return _LOADED[name]
    spec = BUILTIN.get(name) or _plugins().get(name) or _plugins(exhaustive=True).get(name)
    if spec is None:
        raise KeyError(f"no frontend for ISA {name!r} (available: {', '.join(available())})")
    return _loaded(name, spec)


def _loaded(name: str, spec: str) -> Frontend:
    """The frontend `name`, imported from spec the first time."""
    if name not in _LOADED:
        _LOADED[name] = _load(spec)
    return _LOADED[name]


def for_elf_machine(machine: int) -> Frontend | None:
    """The frontend whose ELF e_machine number is `machine`, if any: a built-in one when it is theirs,
    else each installed plugin is loaded and asked."""
    builtin = BUILTIN_ELF_MACHINES.get(machine)
    if builtin is not None:
        return get(builtin)
    for exhaustive in (False, True):
        for name, spec in _plugins(exhaustive).items():
            if name in BUILTIN:
                continue
            try:
                fe = _loaded(name, spec)
            except Exception:
                continue
            if fe.elf_machine == machine:
                return fe
    return None

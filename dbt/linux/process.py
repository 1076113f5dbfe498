"""A Linux user-mode process: an ELF program loaded into a fresh guest address space, run by an Engine,
with its system calls served here."""
from __future__ import annotations

import errno
import os
import sys
from typing import TextIO

from .. import frontend as frontends
from ..engine import Engine, Exit
from ..exits import ExitKind, GuestFault
from ..memory import PAGE_MASK, PROT_READ, PROT_WRITE, page_ceil
from . import elf, stack
from .syscalls import SIGNATURES, SYSCALLS, signed
from .syscalls.basic import MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, ProcessExit, guest_prot

MMAP_BASE = 0x80000000
MMAP_END = stack.STACK_TOP - stack.STACK_SIZE - 0x100000

# Exit statuses of the CLI for guest events, as a shell reports them (128 + signal number).
STATUS_SIGILL, STATUS_SIGTRAP, STATUS_SIGSEGV = 132, 133, 139
STATUS_BUDGET = 124  # --max-insns reached (like timeout(1))


class LoadError(Exception):
    """The program could not be started: the message names the file and the reason."""


def read_program(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None
    except OSError as e:
        raise LoadError(f"{path}: {e.strerror}") from None


def pick_frontend(data: bytes, path: str, isa: str | None = None) -> frontends.Frontend:
    """The frontend for an ELF file, from its e_machine (or the ISA the caller names)."""
    hdr = elf.read_header(data, path)
    if isa is not None:
        fe = frontends.get(isa)
        if fe.elf_machine != hdr.machine:
            raise LoadError(f"{path}: built for {elf.MACHINE_NAMES.get(hdr.machine, hdr.machine)}, not {isa}")
        return fe
    fe = frontends.for_elf_machine(hdr.machine)
    if fe is None:
        name = elf.MACHINE_NAMES.get(hdr.machine, f"machine {hdr.machine}")
        raise LoadError(f"{path}: built for {name}; dbt has frontends for {', '.join(frontends.available())}")
    return fe


class LinuxProcess:
    """One guest program and its kernel-side state (program break, mappings, identity)."""

    def __init__(self, path: str, argv: list[str] | None = None, env: dict[str, str] | None = None, *,
                 isa: str | None = None, root: str | None = None, strace: bool = False,
                 stderr: TextIO | None = None, tier: str = "interp") -> None:
        data = read_program(path)
        try:
            self.frontend = pick_frontend(data, path, isa)
        except elf.ElfError as e:
            raise LoadError(str(e)) from None
        self.abi = self.frontend.linux
        self.engine = Engine(self.frontend, tier=tier)
        self.memory = self.engine.memory
        self.state = self.engine.state
        self.path = path
        self.exe_path = os.path.abspath(path)
        self.root = root
        self.strace = strace
        self.stderr = stderr if stderr is not None else sys.stderr
        self.clear_child_tid = 0
        self.reported_unsupported: set[int] = set()
        self.exit_status: int | None = None
        try:
            self.image = elf.load(self.memory, data, path)
        except elf.ElfError as e:
            raise LoadError(str(e)) from None
        self.brk_start = self.brk = self.image.end
        argv = [path] if argv is None else argv
        env = dict(os.environ) if env is None else env
        sp = stack.build(self.memory, self.image, [a.encode() for a in argv],
                         [f"{k}={v}".encode() for k, v in env.items()], self.abi,
                         path.encode())
        self.state[self.abi.sp_reg] = sp
        self.state.pc = self.image.entry

    # -- running ----------------------------------------------------------------------------------
    def run(self, max_insns: int | None = None) -> int:
        """Run until the guest exits (its status), faults, or uses up max_insns; returns the status."""
        limit = None if max_insns is None else self.state.icount + max_insns
        while True:
            budget = None if limit is None else max(0, limit - self.state.icount)
            ex = self.engine.run(budget)
            if ex.kind == ExitKind.SYSCALL:
                try:
                    self.syscall(ex)
                except ProcessExit as e:
                    self.exit_status = e.status
                    return e.status
                continue
            return self.report(ex)

    def report(self, ex: Exit) -> int:
        """Tell the user why the guest stopped; the status a shell would show for it."""
        kinds = {ExitKind.FAULT: ("segmentation fault", STATUS_SIGSEGV),
                 ExitKind.UNDEF: ("illegal instruction", STATUS_SIGILL),
                 ExitKind.BREAK: ("breakpoint trap", STATUS_SIGTRAP),
                 ExitKind.BUDGET: ("instruction budget used up", STATUS_BUDGET)}
        what, status = kinds.get(ex.kind, (ex.kind.name.lower(), 1))
        detail = ""
        if ex.kind == ExitKind.FAULT:
            detail = f": {ex.access.name.lower()} of unmapped or protected address {ex.addr:#x}"
        elif ex.kind == ExitKind.UNDEF:
            text = self.disassemble_at(ex.pc)
            detail = f": bytes {ex.raw.hex() if ex.raw else '?'}{' (' + text + ')' if text else ''}"
        elif ex.kind == ExitKind.BUDGET:
            detail = f" after {self.state.icount} instructions"
        self.stderr.write(f"dbt: {self.path}: {what} at pc {ex.pc:#x}{detail}\n")
        self.stderr.flush()
        self.exit_status = status
        return status

    def disassemble_at(self, pc: int) -> str:
        try:
            code = self.memory.peek(pc, self.frontend.max_insn_size)
        except ValueError:
            return ""
        insns = self.frontend.disassemble(code, pc)
        return insns[0][2] if insns else ""

    # -- system calls -------------------------------------------------------------------------------
    def syscall(self, ex: Exit) -> None:
        st = self.state
        abi = self.abi
        nr = st[abi.syscall_nr_reg]
        args = [st[r] for r in abi.arg_regs]
        name = abi.syscall_numbers.get(nr, f"syscall_{nr}")
        handler = SYSCALLS.get(name)
        st.pc = ex.next_pc
        if handler is None:
            if nr not in self.reported_unsupported:
                self.reported_unsupported.add(nr)
                self.stderr.write(f"dbt: unsupported system call {nr} ({name}) at pc {ex.pc:#x}: "
                                  f"returning -ENOSYS\n")
            result = -errno.ENOSYS
        else:
            try:
                result = handler(self, *args)
            except ProcessExit:
                if self.strace:
                    self._strace(name, args, None)
                raise
            except OSError as e:
                result = -(e.errno or errno.EIO)
            except GuestFault:
                result = -errno.EFAULT
        st[abi.ret_reg] = result & (2**64 - 1)
        if self.strace:
            self._strace(name, args, result)

    def _strace(self, name: str, args: list[int], result: int | None) -> None:
        sig = SIGNATURES.get(name, "")
        shown = []
        for i, kind in enumerate(sig):
            shown.append(self._format_arg(kind, args[i]))
        res = "?" if result is None else (f"{result} ({errno.errorcode.get(-result, '?')})"
                                          if -4096 < result < 0 else
                                          (hex(result) if result > 0xFFFF else str(result)))
        self.stderr.write(f"{os.getpid()} {name}({', '.join(shown)}) = {res}\n")

    def _format_arg(self, kind: str, v: int) -> str:
        if kind in "df":
            return str(signed(v))
        if kind == "o":
            return oct(v)
        if kind in "sp":
            try:
                s = self.memory.read_cstr(v, 256)
            except GuestFault:
                return hex(v)
            return '"' + s.decode(errors="backslashreplace") + '"'
        return hex(v)

    # -- memory management used by several syscalls ----------------------------------------------------
    def set_brk(self, addr: int) -> int:
        if addr < self.brk_start or addr >= MMAP_BASE:
            return self.brk
        old_top, new_top = page_ceil(self.brk), page_ceil(addr)
        if new_top > old_top:
            if self.memory.find_free(new_top - old_top, old_top, new_top) != old_top:
                return self.brk
            self.memory.map(old_top, new_top - old_top, PROT_READ | PROT_WRITE)
        elif new_top < old_top:
            self.memory.unmap(new_top, old_top - new_top)
        self.brk = addr
        return self.brk

    def mmap(self, addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
        mem = self.memory
        if length == 0 or offset & PAGE_MASK:
            return -errno.EINVAL
        size = page_ceil(length)
        if size > mem.size:
            return -errno.ENOMEM
        data = b""
        if not flags & MAP_ANONYMOUS:
            try:
                data = os.pread(fd, length, offset)
            except OSError as e:
                return -(e.errno or errno.EBADF)
        fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)
        if fixed:
            if addr & PAGE_MASK or addr + size > mem.size:
                return -errno.EINVAL
            if flags & MAP_FIXED_NOREPLACE and mem.find_free(size, addr, addr + size) != addr:
                return -errno.EEXIST
            where = addr
        else:
            where = None
            if addr and not addr & PAGE_MASK and addr + size <= mem.size:
                if mem.find_free(size, addr, addr + size) == addr:
                    where = addr
            if where is None:
                where = mem.find_free(size, MMAP_BASE, MMAP_END)
            if where is None:
                return -errno.ENOMEM
        mem.map(where, size, PROT_READ | PROT_WRITE)
        if data:
            mem.poke(where, data)
        mem.protect(where, size, guest_prot(prot))
        return where

"""A Linux user-mode process: an ELF program loaded into a fresh guest address space, run by an Engine,
with its system calls served here."""
from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import sys
from typing import TextIO

from .. import frontend as frontends
from ..engine import Engine, Exit
from ..exits import ExitKind, GuestFault
from ..memory import PAGE_SHIFT, PROT_READ, PROT_RWX, PROT_WRITE, page_ceil
from . import elf, fs, stack
from .syscalls import SYSCALLS, signed, strace
from .syscalls.basic import ProcessExit
from .syscalls.mm import MMAP_BASE, MMAP_END, do_mmap  # noqa: F401  (MMAP_*: part of this module's interface)
from .syscalls.signals import SignalState

# How an execve()ing dbt hands the new dbt what its command line cannot carry exactly (the guest's argv
# and envp as bytes, the execve file name, ignored signals, emulated resource limits): this environment
# variable names an inherited memfd holding a JSON object; the new dbt reads and closes it before the
# guest starts. (The host environment of the new dbt is the old dbt's, not the guest's: Python would
# otherwise act on the guest's PYTHON* variables and add LC_CTYPE to what the guest sees.)
EXEC_STATE_ENV = "DBT_EXEC_STATE"

# Exit statuses of the CLI for guest events, as a shell reports them (128 + signal number).
STATUS_SIGILL, STATUS_SIGTRAP, STATUS_SIGSEGV = 132, 133, 139
STATUS_BUDGET = 124  # --max-insns reached (like timeout(1))


class LoadError(Exception):
    """The program could not be started: the message names the file and the reason."""


def read_program(path: str, filesystem: fs.FileSystem | None = None) -> bytes:
    """The program file's bytes; under a root, a path inside the root is resolved as the guest would."""
    try:
        if filesystem is not None and filesystem.root is not None:
            guest = filesystem.guest_of_host(os.fsencode(os.path.abspath(path)))
            if guest is not None:
                fd = filesystem.open(fs.AT_FDCWD, guest, os.O_RDONLY | os.O_CLOEXEC)
                with open(fd, "rb") as f:
                    return f.read()
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
                 stderr: TextIO | None = None, tier: str = "interp",
                 exec_options: list[str] | None = None, code_cache: bool = True) -> None:
        """exec_options: the `dbt run` options (e.g. ["--tier", "jit", "--strace"]) a guest execve() starts
        the new program with; None derives them from tier, root and strace. Passing them also tells the
        process that it owns the host process (the dbt command), so host signal dispositions are set
        to what the guest expects (SIGINT, SIGPIPE and SIGXFSZ default rather than Python's)."""
        inherited = _take_exec_state(env)
        self.root = root
        host_path = os.path.abspath(path)  # before the file system view may chdir into the root
        self.fs = fs.FileSystem(root)
        data = read_program(host_path, self.fs)
        try:
            self.frontend = pick_frontend(data, path, isa)
        except elf.ElfError as e:
            raise LoadError(str(e)) from None
        self.abi = self.frontend.linux
        regs = self.frontend.regfile
        self._nr_slot = regs[self.abi.syscall_nr_reg].slot  # syscall registers, read on every call
        self._arg_slots = [regs[r].slot for r in self.abi.arg_regs]
        self._ret_slot = regs[self.abi.ret_reg].slot
        self._blocking = _Blocking(self)
        self.fs.flags = fs.OpenFlags(self.abi.open_flags)
        self.engine = Engine(self.frontend, tier=tier)
        self.memory = self.engine.memory
        self.state = self.engine.state
        self.path = path
        self.fs.set_exe(host_path)
        self.exe_path = self.fs.exe_host
        self.strace = strace
        self.stderr = stderr if stderr is not None else sys.stderr
        self.exec_options = _absolute_root(exec_options, self.fs.root) if exec_options is not None else \
            ["--tier", tier, *(["--root", self.fs.root] if root is not None else []), *(["--strace"] if strace else [])]
        self.owns_host = exec_options is not None
        self.forked = False  # this is a child dbt forked for the guest (clone/fork/vfork)
        self.clear_child_tid = 0
        self.robust_list = (0, 0)
        self.reported_unsupported: set[int] = set()
        self.reported: set[str] = set()
        self.reserved_fds: set[int] = set()  # host fds dbt holds that the guest must not touch
        self.vfork_fd: int | None = None      # write end of the pipe a vfork parent waits on
        self.exit_status: int | None = None
        self.in_blocking = False
        self.comm = os.path.basename(path).encode()[:15]
        self.rlimits: dict[int, tuple[int, int]] = {int(k): tuple(v) for k, v in inherited.get("rlimits", {}).items()}
        self.membarrier_registered = 0
        try:
            self.image = elf.load(self.memory, data, path)
        except elf.ElfError as e:
            raise LoadError(str(e)) from None
        self.brk_start = self.brk = self.image.end
        if code_cache and self.engine.jit is not None:
            self._use_code_cache(data)
        argv = [path] if argv is None else argv
        if env is None or env == dict(os.environ):
            envp = _initial_environment()
        else:
            envp = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
        args = [os.fsencode(a) for a in argv]
        execfn = os.fsencode(path)
        if inherited:
            args, envp, execfn = (_unpack(inherited["argv"]), _unpack(inherited["env"]),
                                  _unpack(inherited["execfn"])[0])
        sp = stack.build(self.memory, self.image, args, envp, self.abi, execfn)
        self.state[self.abi.sp_reg] = sp
        self.state.pc = self.image.entry
        # pages the guest has mapped (PROT_NONE ones included), one byte per page
        self.vm = bytearray(bytes(self.memory.perm).translate(_MAPPED))
        self.signals = SignalState(self, inherited.get("ignored", ()))

    def _use_code_cache(self, elf_data: bytes) -> None:
        """Load native code earlier runs of this very program compiled (see dbt.codecache)."""
        from backends.llvm.host import host_id

        from ..codecache import CodeCache, translator_version
        jit = self.engine.jit
        key = CodeCache.key(self.frontend.name, translator_version(), host_id(), f"tier-{self.engine.tier}",
                            f"mem{self.memory.size:x}", hashlib.sha256(elf_data).digest())
        cache = CodeCache(key)
        jit.use_cache(cache)
        if cache.problem:
            self.engine.notes.append(f"code cache: {cache.problem}")

    # -- running ----------------------------------------------------------------------------------
    def run(self, max_insns: int | None = None) -> int:
        """Run until the guest exits (its status), faults, or uses up max_insns; returns the status."""
        try:
            return self._run(max_insns)
        finally:
            self.persist()

    def persist(self) -> None:
        """Keep what this run compiled in the code cache (at exit, and before an execve)."""
        if self.engine.jit is not None:
            self.engine.jit.save_cache()

    def _run(self, max_insns: int | None) -> int:
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
        words = st.words
        nr = words[self._nr_slot]
        args = [words[s] for s in self._arg_slots]
        name = self.abi.syscall_numbers.get(nr, f"syscall_{nr}")
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
        words[self._ret_slot] = result & (2**64 - 1)
        if self.strace:
            self._strace(name, args, result)

    def _strace(self, name: str, args: list[int], result: int | None) -> None:
        self.stderr.write(strace.line(self, name, args, result) + "\n")
        self.stderr.flush()

    # -- helpers for the system call handlers ----------------------------------------------------------
    def fd(self, raw: int) -> int:
        """A guest fd argument as a host fd (guest fds are host fds; dbt's own are off limits)."""
        fd = signed(raw, 32)
        if fd in self.reserved_fds:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return fd

    def note(self, key: str, message: str) -> None:
        """Tell the user once about something dbt does not do (yet)."""
        if key not in self.reported:
            self.reported.add(key)
            self.stderr.write(f"dbt: {message}\n")
            self.stderr.flush()

    def flush_output(self) -> None:
        """Flush dbt's own buffered output (before fork, exec, or dying by a signal)."""
        for f in (self.stderr, sys.stdout, sys.stderr):
            try:
                f.flush()
            except (OSError, ValueError):
                pass

    def blocking(self) -> "_Blocking":
        """Around a host call that may block: a signal for a guest handler interrupts it (EINTR)."""
        return self._blocking

    def reserve_fd(self, fd: int) -> int:
        """Move a host fd dbt needs out of the guest's way (high number, close-on-exec) and guard it."""
        soft, _ = _nofile_limit()
        try:
            import fcntl
            high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, max(3, soft - 64))
            os.close(fd)
            fd = high
        except OSError:
            pass
        self.reserved_fds.add(fd)
        return fd

    def release_fd(self, fd: int) -> None:
        self.reserved_fds.discard(fd)
        try:
            os.close(fd)
        except OSError:
            pass

    def exec_state(self, argv: list[bytes], envp: list[bytes], execfn: bytes) -> int:
        """An inheritable memfd with what a new dbt started by execve needs (see EXEC_STATE_ENV)."""
        state = {"argv": _pack(argv), "env": _pack(envp), "execfn": _pack([execfn]),
                 "ignored": sorted(self.signals.ignored()),
                 "rlimits": {str(k): list(v) for k, v in self.rlimits.items()}}
        fd = os.memfd_create("dbt-exec-state", 0)
        os.set_inheritable(fd, True)
        os.write(fd, json.dumps(state).encode())
        return fd

    # -- memory management used by several syscalls ----------------------------------------------------
    def set_brk(self, addr: int) -> int:
        """Move the program break (the brk system call): the new break, or the old one on failure."""
        if addr < self.brk_start or addr >= MMAP_BASE:
            return self.brk
        old_top, new_top = page_ceil(self.brk), page_ceil(addr)
        if new_top > old_top:
            if not self.is_free(old_top, new_top - old_top):
                return self.brk
            self.map_pages(old_top, new_top - old_top, PROT_READ | PROT_WRITE)
        elif new_top < old_top:
            self.unmap_pages(new_top, old_top - new_top)
        self.brk = addr
        return self.brk

    def mmap(self, addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
        """Map memory for the guest (the mmap system call): the address, or a negative errno."""
        return do_mmap(self, addr, length, prot, flags, fd, offset)

    def is_free(self, addr: int, length: int) -> bool:
        """No page of the range is mapped (PROT_NONE mappings count as mapped)."""
        first, last = addr >> PAGE_SHIFT, page_ceil(addr + length) >> PAGE_SHIFT
        return last <= len(self.vm) and not any(self.vm[first:last])

    def is_mapped(self, addr: int, length: int) -> bool:
        first, last = addr >> PAGE_SHIFT, page_ceil(addr + length) >> PAGE_SHIFT
        return last <= len(self.vm) and all(self.vm[first:last])

    def find_free(self, length: int, start: int, end: int) -> int | None:
        need = page_ceil(length) >> PAGE_SHIFT
        at = self.vm.find(bytes(need), start >> PAGE_SHIFT, end >> PAGE_SHIFT)
        return None if at < 0 else at << PAGE_SHIFT

    def map_pages(self, addr: int, length: int, prot: int) -> None:
        """Map zero-filled pages with dbt permission bits (replacing whatever was there)."""
        self.memory.map(addr, length, prot)
        self.vm[addr >> PAGE_SHIFT:page_ceil(addr + length) >> PAGE_SHIFT] = \
            b"\1" * ((page_ceil(addr + length) - addr) >> PAGE_SHIFT)

    def unmap_pages(self, addr: int, length: int) -> None:
        self.memory.unmap(addr, length)
        first, last = addr >> PAGE_SHIFT, page_ceil(addr + length) >> PAGE_SHIFT
        self.vm[first:last] = bytes(last - first)


_MAPPED = bytes(1 if b & PROT_RWX else 0 for b in range(256))


def _absolute_root(options: list[str], root: str | None) -> list[str]:
    """exec options with --root made absolute (the guest may chdir before it calls execve)."""
    out = list(options)
    for i, opt in enumerate(out):
        if opt == "--root" and i + 1 < len(out) and root is not None:
            out[i + 1] = root
        elif opt.startswith("--root=") and root is not None:
            out[i] = "--root=" + root
    return out


def _nofile_limit() -> tuple[int, int]:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return (soft if soft > 0 else 1024), hard


def _initial_environment() -> list[bytes]:
    """This process's environment as it started, exactly (order, bytes, entries without "="), without
    what Python adds at start-up (LC_CTYPE from PEP 538 locale coercion) or dbt's own variables."""
    try:
        with open("/proc/self/environ", "rb") as f:
            entries = f.read().split(b"\0")[:-1]
    except OSError:
        entries = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in os.environ.items()]
    own = (EXEC_STATE_ENV + "=").encode()
    return [e for e in entries if not e.startswith(own)]


def _pack(items: list[bytes]) -> list[str]:
    return [base64.b64encode(item).decode() for item in items]


def _unpack(texts: list[str]) -> list[bytes]:
    return [base64.b64decode(t) for t in texts]


def _take_exec_state(env: dict[str, str] | None) -> dict:
    """The state an execve()ing dbt left for this one (the variable is removed from env and os.environ)."""
    name = os.environ.pop(EXEC_STATE_ENV, None)
    if env is not None:
        name = env.pop(EXEC_STATE_ENV, name)
    if not name or not name.isdigit():
        return {}
    fd = int(name)
    try:
        if not os.readlink(f"/proc/self/fd/{fd}").startswith("/memfd:dbt-exec-state"):
            return {}  # not ours: leave that fd alone
    except OSError:
        return {}
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        state = json.loads(b"".join(chunks))
    except (OSError, ValueError):
        return {}
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    return state if isinstance(state, dict) and {"argv", "env", "execfn"} <= state.keys() else {}


class _Blocking:
    """The context of LinuxProcess.blocking(): marks the process as inside a blocking host call."""

    __slots__ = ("process",)

    def __init__(self, process: LinuxProcess) -> None:
        self.process = process

    def __enter__(self) -> None:
        self.process.in_blocking = True

    def __exit__(self, *exc) -> None:
        self.process.in_blocking = False

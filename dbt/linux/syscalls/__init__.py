"""Linux system calls for user-mode guests: a registry of handlers keyed by the generic syscall name.

A handler takes the process and the six raw argument registers and returns the result (a negative
errno for failure); it may also raise OSError (turned into -errno) or GuestFault (-EFAULT). Importing
this package registers every handler module:

    basic     exit, the first calls every program makes
    fileio    descriptors: read/write and friends, dup, fcntl, ioctl, pipes, poll/select
    files     paths: open, stat, directories, links, permissions, cwd (through dbt.linux.fs)
    mm        brk, mmap, munmap, mprotect, mremap, madvise
    procs     clone (fork, vfork), execve, wait, identity, resource limits, process groups
    signals   dispositions, masks, kill
    misc      time, uname, sysinfo, getrandom, futex, scheduling, prctl
"""
from __future__ import annotations

import errno
import os
import struct
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..process import LinuxProcess

Handler = Callable[..., int]
SYSCALLS: dict[str, Handler] = {}
# How --strace prints each argument: a string of kinds, one per argument, e.g. "fbd", optionally
# followed by "=" and the kind of the result (default: signed decimal). The kinds are listed in
# dbt/linux/syscalls/strace.py (d: signed decimal, x: hex, s: C string, p: path, f: fd, o: octal, ...).
SIGNATURES: dict[str, str] = {}


def syscall(name: str, signature: str = "") -> Callable[[Handler], Handler]:
    """Register the handler of one system call."""
    def register(fn: Handler) -> Handler:
        if name in SYSCALLS:
            raise ValueError(f"syscall {name} registered twice")
        SYSCALLS[name] = fn
        if signature:
            SIGNATURES[name] = signature
        return fn
    return register


def signed(v: int, bits: int = 64) -> int:
    """A raw register value read as a signed integer (e.g. an fd of -100 = AT_FDCWD)."""
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def id_arg(v: int) -> int:
    """A uid_t/gid_t argument for Python's os calls: (u32)-1 means "unchanged"."""
    v &= 0xFFFFFFFF
    return -1 if v == 0xFFFFFFFF else v


def fail(err: int) -> OSError:
    """An OSError a handler can raise for -err."""
    return OSError(err, os.strerror(err))


# -- guest memory helpers for handlers ------------------------------------------------------------
def get(p: LinuxProcess, addr: int, fmt: str) -> tuple:
    """Unpack a little-endian struct from guest memory (GuestFault if unreadable)."""
    return struct.unpack("<" + fmt, p.memory.read(addr, struct.calcsize("<" + fmt)))


def put(p: LinuxProcess, addr: int, fmt: str, *values) -> None:
    """Pack a little-endian struct into guest memory (GuestFault if unwritable)."""
    p.memory.write(addr, struct.pack("<" + fmt, *values))


def get_u32(p: LinuxProcess, addr: int) -> int:
    return int.from_bytes(p.memory.read(addr, 4), "little")


def get_u64(p: LinuxProcess, addr: int) -> int:
    return int.from_bytes(p.memory.read(addr, 8), "little")


def cstr(p: LinuxProcess, addr: int) -> bytes:
    """A guest path or string argument (ENAMETOOLONG past PATH_MAX like the kernel)."""
    from ...exits import GuestFault
    try:
        return p.memory.read_cstr(addr, 4096)
    except GuestFault as f:
        if f.addr < addr + 4096:
            raise
        raise fail(errno.ENAMETOOLONG) from None  # no NUL within PATH_MAX bytes


def strv(p: LinuxProcess, addr: int, limit: int = 1 << 17) -> list[bytes]:
    """A NULL-terminated array of guest strings (argv, envp); NULL itself is an empty array."""
    out: list[bytes] = []
    if addr == 0:
        return out
    while True:
        ptr = get_u64(p, addr + 8 * len(out))
        if ptr == 0:
            return out
        if len(out) >= limit:
            raise fail(errno.E2BIG)
        out.append(p.memory.read_cstr(ptr, 1 << 17))


def writable_span(p: LinuxProcess, addr: int, length: int) -> int:
    """How many bytes from addr (at most length) the guest may write, EFAULT if none are."""
    return _span(p, addr, length, 2)


def readable_span(p: LinuxProcess, addr: int, length: int) -> int:
    return _span(p, addr, length, 1)


_HAS = {need: bytes(1 if b & need else 0 for b in range(256)) for need in (1, 2)}


def _span(p: LinuxProcess, addr: int, length: int, need: int) -> int:
    if length <= 0:
        return 0
    mem = p.memory
    end = min(addr + length, mem.size)
    if addr < 0 or addr >= end:
        raise fail(errno.EFAULT)
    first, last = addr >> 12, ((end - 1) >> 12) + 1
    ok = bytes(mem.perm[first:last]).translate(_HAS[need])
    bad = ok.find(0)
    n = (end if bad < 0 else (first + bad) << 12) - addr
    if n <= 0:
        raise fail(errno.EFAULT)
    return n


from . import basic, fileio, files, misc, mm, procs, signals  # noqa: E402,F401  (registers handlers)

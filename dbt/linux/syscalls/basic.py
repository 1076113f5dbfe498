"""The first system calls a static musl or glibc program makes: output, exit, memory, identity."""
from __future__ import annotations

import errno
import os

from ...memory import PROT_EXEC, PROT_READ, PROT_WRITE, page_ceil
from . import signed, syscall


class ProcessExit(Exception):
    """The guest asked to end the process with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@syscall("exit", "d")
def sys_exit(p, status, *_):
    raise ProcessExit(status & 0xFF)


@syscall("exit_group", "d")
def sys_exit_group(p, status, *_):
    raise ProcessExit(status & 0xFF)


@syscall("write", "fxd")
def sys_write(p, fd, buf, count, *_):
    return os.write(signed(fd, 32), p.memory.read(buf, count))


@syscall("read", "fxd")
def sys_read(p, fd, buf, count, *_):
    p.memory.read(buf, 0)
    data = os.read(signed(fd, 32), count)
    p.memory.write(buf, data)
    return len(data)


def _iovecs(p, iov, iovcnt):
    if iovcnt > 1024:
        raise OSError(errno.EINVAL, "iovcnt")
    raw = p.memory.read(iov, 16 * iovcnt)
    return [(int.from_bytes(raw[16 * i:16 * i + 8], "little"), int.from_bytes(raw[16 * i + 8:16 * i + 16], "little"))
            for i in range(iovcnt)]


@syscall("writev", "fxd")
def sys_writev(p, fd, iov, iovcnt, *_):
    data = b"".join(p.memory.read(base, length) for base, length in _iovecs(p, iov, iovcnt))
    return os.write(signed(fd, 32), data)


@syscall("set_tid_address", "x")
def sys_set_tid_address(p, tidptr, *_):
    p.clear_child_tid = tidptr
    return os.getpid()


@syscall("brk", "x")
def sys_brk(p, addr, *_):
    return p.set_brk(addr)


_PROT = {1: PROT_READ, 2: PROT_WRITE, 4: PROT_EXEC}


def guest_prot(prot: int) -> int:
    """Linux PROT_* bits to dbt page permissions (PROT_WRITE implies read on every ISA we run)."""
    out = 0
    for bit, perm in _PROT.items():
        if prot & bit:
            out |= perm
    if out & PROT_WRITE:
        out |= PROT_READ
    return out


MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 0x01, 0x02, 0x10, 0x20
MAP_FIXED_NOREPLACE = 0x100000


@syscall("mmap", "xxxxfx")
def sys_mmap(p, addr, length, prot, flags, fd, offset):
    return p.mmap(addr, length, prot, flags, signed(fd, 32), offset)


@syscall("munmap", "xx")
def sys_munmap(p, addr, length, *_):
    if addr & 0xFFF or length == 0:
        return -errno.EINVAL
    p.memory.unmap(addr, min(page_ceil(length), p.memory.size - addr))
    return 0


@syscall("mprotect", "xxx")
def sys_mprotect(p, addr, length, prot, *_):
    if addr & 0xFFF:
        return -errno.EINVAL
    length = page_ceil(length)
    if not p.memory.is_mapped(addr, length):
        return -errno.ENOMEM
    p.memory.protect(addr, length, guest_prot(prot))
    return 0


@syscall("getpid")
def sys_getpid(p, *_):
    return os.getpid()


@syscall("gettid")
def sys_gettid(p, *_):
    return os.getpid()


@syscall("getuid")
def sys_getuid(p, *_):
    return os.getuid()


@syscall("geteuid")
def sys_geteuid(p, *_):
    return os.geteuid()


@syscall("getgid")
def sys_getgid(p, *_):
    return os.getgid()


@syscall("getegid")
def sys_getegid(p, *_):
    return os.getegid()

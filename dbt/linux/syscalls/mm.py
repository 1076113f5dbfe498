"""Guest address space: brk, mmap, munmap, mprotect, mremap, madvise, msync, mincore, mlock.

Guest memory is one arena with a page permission table (dbt/memory.py); the process keeps a second
table, `vm`, of pages the guest has mapped, so PROT_NONE reservations are not handed out twice.
File mappings are copies of the file's bytes: MAP_PRIVATE is exact; MAP_SHARED is emulated by copying
too, so writes through a shared mapping do not reach the file and later writes to the file do not show
in the mapping (nor are MAP_SHARED|MAP_ANONYMOUS pages shared with forked children).
"""
from __future__ import annotations

import errno
import fcntl
import os
import stat

from ...memory import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_RWX, PROT_WRITE, page_ceil
from .. import stack
from . import signed, syscall

MMAP_BASE = 0x80000000
MMAP_END = stack.STACK_TOP - stack.STACK_SIZE - 0x100000

MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE = 0x01, 0x02, 0x03
MAP_FIXED, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE = 0x10, 0x20, 0x100000
MAP_KNOWN = 0x3 | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 \
    | 0x40000 | 0x80000 | 0x100000 | (0x3F << 26)  # the last: huge page size bits
PROT_KNOWN = 1 | 2 | 4 | 8 | 0x01000000 | 0x02000000

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


def do_mmap(p, addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    mem = p.memory
    kind = flags & 3
    if length == 0 or offset & PAGE_MASK or kind == 0 or prot & ~PROT_KNOWN:
        return -errno.EINVAL
    if kind == MAP_SHARED_VALIDATE and flags & ~MAP_KNOWN:
        return -errno.EOPNOTSUPP
    size = page_ceil(length)
    if size > mem.size or size < length:
        return -errno.ENOMEM
    data = b""
    if not flags & MAP_ANONYMOUS:
        fd = signed(fd, 32)
        if fd in p.reserved_fds:
            return -errno.EBADF
        try:
            st = os.fstat(fd)
            mode = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError as e:
            return -(e.errno or errno.EBADF)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
            return -errno.ENODEV
        if mode & os.O_ACCMODE == os.O_WRONLY or mode & os.O_PATH == os.O_PATH:
            return -errno.EACCES
        if kind != MAP_PRIVATE and prot & 2 and (mode & os.O_ACCMODE != os.O_RDWR or mode & os.O_APPEND):
            return -errno.EACCES
        try:
            data = os.pread(fd, length, offset)
        except OSError as e:
            return -(e.errno or errno.EACCES)
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
        if addr & PAGE_MASK:
            return -errno.EINVAL
        if addr + size > mem.size or addr < PAGE_SIZE:
            return -errno.ENOMEM if addr else -errno.EPERM
        if flags & MAP_FIXED_NOREPLACE and not p.is_free(addr, size):
            return -errno.EEXIST
        where = addr
    else:
        where = None
        if addr and not addr & PAGE_MASK and PAGE_SIZE <= addr and addr + size <= mem.size \
                and p.is_free(addr, size):
            where = addr
        if where is None:
            where = p.find_free(size, MMAP_BASE, MMAP_END)
        if where is None:
            where = p.find_free(size, page_ceil(p.brk) + (64 << 20), MMAP_BASE)
        if where is None:
            return -errno.ENOMEM
    p.map_pages(where, size, PROT_READ | PROT_WRITE)
    if data:
        mem.poke(where, data)
    mem.protect(where, size, guest_prot(prot))
    return where


@syscall("mmap", "xdPMfy=x")
def sys_mmap(p, addr, length, prot, flags, fd, offset):
    return p.mmap(addr, length, prot & 0xFFFFFFFF, flags & 0xFFFFFFFF, fd, offset)


def _range(p, addr: int, length: int) -> int:
    """The page-rounded length of [addr, addr+length), or a negative errno if it is malformed."""
    if addr & PAGE_MASK:
        return -errno.EINVAL
    size = page_ceil(length)
    if size < length or addr + size > p.memory.size:
        return -errno.ENOMEM
    return size


@syscall("munmap", "xd")
def sys_munmap(p, addr, length, *_):
    if addr & PAGE_MASK or length == 0:
        return -errno.EINVAL
    size = page_ceil(length)
    if addr + size > p.memory.size or size < length:
        return -errno.EINVAL
    p.unmap_pages(addr, size)
    return 0


@syscall("mprotect", "xdP")
def sys_mprotect(p, addr, length, prot, *_):
    prot &= 0xFFFFFFFF
    if prot & ~PROT_KNOWN:
        return -errno.EINVAL
    size = _range(p, addr, length)
    if size < 0:
        return size
    if not p.is_mapped(addr, size):
        return -errno.ENOMEM
    p.memory.protect(addr, size, guest_prot(prot))
    return 0


MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4


def _move(p, old: int, old_size: int, new: int, new_size: int, keep_old: bool) -> None:
    """Copy a mapping's bytes and page permissions to a new place, then unmap the old one."""
    mem = p.memory
    n = min(old_size, new_size)
    data = mem.peek(old, n)
    perms = [mem.perm[i] & PROT_RWX for i in range(old >> PAGE_SHIFT, (old + old_size) >> PAGE_SHIFT)]
    if not keep_old:
        p.unmap_pages(old, old_size)
    else:
        p.unmap_pages(old, old_size)  # MREMAP_DONTUNMAP: the old range stays mapped, empty
        p.map_pages(old, old_size, PROT_READ)
        for i, perm in enumerate(perms):
            mem.protect(old + (i << PAGE_SHIFT), PAGE_SIZE, perm)
    p.map_pages(new, new_size, PROT_READ | PROT_WRITE)
    mem.poke(new, data)
    for i in range(new_size >> PAGE_SHIFT):
        mem.protect(new + (i << PAGE_SHIFT), PAGE_SIZE, perms[min(i, len(perms) - 1)])


@syscall("mremap", "xddyx=x")
def sys_mremap(p, old, old_len, new_len, flags, new_addr, *_):
    mem = p.memory
    flags &= 0xFFFFFFFF
    if old & PAGE_MASK or flags & ~7 or (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) and not flags & MREMAP_MAYMOVE):
        return -errno.EINVAL
    old_size, new_size = page_ceil(old_len), page_ceil(new_len)
    if new_size == 0 or old_size < old_len or new_size < new_len:
        return -errno.EINVAL
    if old_size == 0:
        return -errno.EINVAL  # duplicating a shared mapping: dbt has none to duplicate
    if old + old_size > mem.size or not p.is_mapped(old, old_size):
        return -errno.EFAULT
    if flags & MREMAP_DONTUNMAP and old_size != new_size:
        return -errno.EINVAL
    if flags & MREMAP_FIXED:
        if new_addr & PAGE_MASK or new_addr + new_size > mem.size:
            return -errno.EINVAL
        if new_addr < old + old_size and old < new_addr + new_size:
            return -errno.EINVAL
        p.unmap_pages(new_addr, new_size)
        _move(p, old, old_size, new_addr, new_size, bool(flags & MREMAP_DONTUNMAP))
        return new_addr
    if flags & MREMAP_DONTUNMAP:
        where = p.find_free(new_size, MMAP_BASE, MMAP_END)
        if where is None:
            return -errno.ENOMEM
        _move(p, old, old_size, where, new_size, True)
        return where
    if new_size <= old_size:
        if new_size < old_size:
            p.unmap_pages(old + new_size, old_size - new_size)
        return old
    grow = new_size - old_size
    if old + new_size <= mem.size and p.is_free(old + old_size, grow):
        last_perm = mem.perm[(old + old_size - 1) >> PAGE_SHIFT] & PROT_RWX
        p.map_pages(old + old_size, grow, PROT_READ | PROT_WRITE)
        mem.protect(old + old_size, grow, last_perm)
        return old
    if not flags & MREMAP_MAYMOVE:
        return -errno.ENOMEM
    where = p.find_free(new_size, MMAP_BASE, MMAP_END)
    if where is None:
        return -errno.ENOMEM
    _move(p, old, old_size, where, new_size, False)
    return where


MADV_DONTNEED, MADV_FREE, MADV_REMOVE = 4, 8, 9
MADV_VALID = {0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}


@syscall("madvise", "xdm")
def sys_madvise(p, addr, length, advice, *_):
    advice &= 0xFFFFFFFF
    if advice not in MADV_VALID:
        return -errno.EINVAL
    size = _range(p, addr, length)
    if size < 0:
        return size
    if size and not p.is_mapped(addr, size):
        return -errno.ENOMEM
    if advice == MADV_REMOVE:
        return -errno.EINVAL  # only for shared mappings, which dbt copies
    if advice in (MADV_DONTNEED, MADV_FREE) and size:
        # private pages read back as zero afterwards (file-backed ones too: dbt keeps no file behind them)
        mem = p.memory
        first = addr >> PAGE_SHIFT
        perms = bytes(mem.perm[first:first + (size >> PAGE_SHIFT)])
        mem.unmap(addr, size)
        for i, perm in enumerate(perms):
            mem.protect(addr + (i << PAGE_SHIFT), PAGE_SIZE, perm & PROT_RWX)
    return 0


@syscall("msync", "xdy")
def sys_msync(p, addr, length, flags, *_):
    if flags & ~7 or (flags & 1 and flags & 4):
        return -errno.EINVAL
    size = _range(p, addr, length)
    if size < 0:
        return size
    return 0 if p.is_mapped(addr, size) else -errno.ENOMEM


@syscall("mincore", "xdx")
def sys_mincore(p, addr, length, vec, *_):
    size = _range(p, addr, length)
    if size < 0:
        return size
    if not p.is_mapped(addr, size):
        return -errno.ENOMEM
    p.memory.write(vec, b"\1" * (size >> PAGE_SHIFT))
    return 0


def _lock(p, addr: int, length: int) -> int:
    start = addr & ~PAGE_MASK
    size = page_ceil(addr + length) - start
    return 0 if p.is_mapped(start, size) else -errno.ENOMEM


@syscall("mlock", "xd")
def sys_mlock(p, addr, length, *_):
    return _lock(p, addr, length)


@syscall("mlock2", "xdy")
def sys_mlock2(p, addr, length, flags, *_):
    return -errno.EINVAL if flags & ~1 else _lock(p, addr, length)


@syscall("munlock", "xd")
def sys_munlock(p, addr, length, *_):
    return _lock(p, addr, length)


@syscall("mlockall", "y")
def sys_mlockall(p, flags, *_):
    return 0 if flags and not flags & ~7 else -errno.EINVAL


@syscall("munlockall")
def sys_munlockall(p, *_):
    return 0


@syscall("brk", "x=x")
def sys_brk(p, addr, *_):
    return p.set_brk(addr)

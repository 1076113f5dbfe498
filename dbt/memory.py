"""Guest memory: one native arena holding the guest address space, and a page permission table.

Guest address A lives at arena offset A. Both the arena and the table are native memory that Python,
the interpreter and JIT code share. Every access is checked against the table: a page can be readable,
writable, executable, and can hold translated code (a write to such a page drops the translations whose
bytes change). An access the table does not allow is a GuestFault, never a host crash.
"""
from __future__ import annotations

import ctypes
import mmap
from typing import Callable

from .exits import Access, GuestFault

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = PAGE_SIZE - 1

# Page permission bits, shared with the backends.
PROT_READ, PROT_WRITE, PROT_EXEC, CODE = 1, 2, 4, 8
PROT_RWX = PROT_READ | PROT_WRITE | PROT_EXEC

_MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)


def page_floor(addr: int) -> int:
    return addr & ~PAGE_MASK


def page_ceil(addr: int) -> int:
    return (addr + PAGE_MASK) & ~PAGE_MASK


class GuestMemory:
    """A guest address space of `size` bytes (a power of two) starting at guest address 0."""

    def __init__(self, size: int = 1 << 32) -> None:
        if size & (size - 1) or size < PAGE_SIZE:
            raise ValueError(f"guest memory size must be a power of two >= {PAGE_SIZE}, not {size:#x}")
        self.size = size
        self.arena = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE)
        self.npages = size >> PAGE_SHIFT
        # One entry per page, plus a sentinel that is always 0: native code clamps page numbers to
        # npages, so an address past the end of guest memory reads the sentinel and fails its check.
        self._perm = (ctypes.c_uint8 * (self.npages + 1))()
        self.perm = memoryview(self._perm).cast("B")[:self.npages]
        view = memoryview(self.arena)
        self.view8 = view
        self.view16 = view.cast("H")
        self.view32 = view.cast("I")
        self.view64 = view.cast("Q")
        self.base_address = ctypes.addressof(ctypes.c_char.from_buffer(self.arena))
        self.perm_address = ctypes.addressof(self._perm)
        # Called with (addr, size) after a write to a page holding translated code.
        self.code_write_hook: Callable[[int, int], None] | None = None

    # -- mapping --------------------------------------------------------------------------------
    def _pages(self, addr: int, length: int) -> range:
        if addr < 0 or addr + length > self.size:
            raise ValueError(f"range {addr:#x}+{length:#x} is outside guest memory (size {self.size:#x})")
        return range(addr >> PAGE_SHIFT, page_ceil(addr + length) >> PAGE_SHIFT)

    def map(self, addr: int, length: int, prot: int = PROT_READ | PROT_WRITE) -> None:
        """Make [addr, addr+length) accessible with `prot`, zero-filled; addr must be page aligned."""
        if addr & PAGE_MASK:
            raise ValueError(f"map address {addr:#x} is not page aligned")
        self.unmap(addr, length)
        self.protect(addr, length, prot)

    def unmap(self, addr: int, length: int) -> None:
        """Make a page-aligned range inaccessible and release its contents (it reads as zero when remapped)."""
        pages = self._pages(addr, length)
        if not len(pages):
            return
        self._drop_code(pages)
        start, stop = pages.start << PAGE_SHIFT, pages.stop << PAGE_SHIFT
        self.arena.madvise(mmap.MADV_DONTNEED, start, stop - start)
        self.perm[pages.start:pages.stop] = bytes(len(pages))

    def protect(self, addr: int, length: int, prot: int) -> None:
        """Set the permission of every page in the range (keeping the marks of translated code)."""
        prot &= PROT_RWX
        perm = self.perm
        for p in self._pages(addr, length):
            perm[p] = prot | (perm[p] & CODE)

    def is_mapped(self, addr: int, length: int = 1) -> bool:
        if addr < 0 or addr + length > self.size:
            return False
        return all(self.perm[p] & PROT_RWX for p in self._pages(addr, length))

    def prot_at(self, addr: int) -> int:
        """The permission bits of the page holding addr (0 when outside guest memory)."""
        if 0 <= addr < self.size:
            return self.perm[addr >> PAGE_SHIFT] & PROT_RWX
        return 0

    def find_free(self, length: int, start: int, end: int | None = None) -> int | None:
        """The lowest page-aligned address >= start where `length` bytes are all unmapped."""
        end = self.size if end is None else end
        need = page_ceil(length) >> PAGE_SHIFT
        perm = self.perm
        p, run = page_ceil(start) >> PAGE_SHIFT, 0
        last = end >> PAGE_SHIFT
        while p < last:
            if perm[p] & PROT_RWX:
                run = 0
            else:
                run += 1
                if run == need:
                    return (p - need + 1) << PAGE_SHIFT
            p += 1
        return None

    # -- translated code marks ---------------------------------------------------------------------
    def mark_code(self, addr: int, length: int) -> None:
        """Note that translations were made from these bytes, so writes to them are noticed."""
        perm = self.perm
        for p in self._pages(addr, length):
            perm[p] |= CODE

    def unmark_code(self, page: int) -> None:
        self.perm[page] &= ~CODE & 0xFF

    def _drop_code(self, pages: range) -> None:
        hook = self.code_write_hook
        perm = self.perm
        for p in pages:
            if perm[p] & CODE:
                if hook is not None:
                    hook(p << PAGE_SHIFT, PAGE_SIZE)
                perm[p] &= ~CODE & 0xFF

    # -- checked access (used by the interpreter's slow paths, the syscall layer, the Python API) ----
    def _check(self, addr: int, size: int, need: int, access: Access) -> bool:
        """Raise GuestFault unless every page of the access has `need`; True if one holds code."""
        if addr < 0 or addr + size > self.size or size < 0:
            raise GuestFault(addr & (2**64 - 1), access, size)
        perm = self.perm
        code = False
        for p in range(addr >> PAGE_SHIFT, ((addr + size - 1) >> PAGE_SHIFT) + 1) if size else ():
            bits = perm[p]
            if not bits & need:
                raise GuestFault(max(addr, p << PAGE_SHIFT), access, size)
            code = code or bool(bits & CODE)
        return code

    def load(self, addr: int, size: int) -> int:
        """A little-endian guest load of 1, 2, 4, 8 or 16 bytes, checked."""
        self._check(addr, size, PROT_READ, Access.READ)
        return int.from_bytes(self.arena[addr:addr + size], "little")

    def load_for_write(self, addr: int, size: int) -> int:
        """The load of a read-modify-write access: checked for write permission, faults as a write."""
        self._check(addr, size, PROT_WRITE, Access.WRITE)
        return int.from_bytes(self.arena[addr:addr + size], "little")

    def store(self, addr: int, size: int, value: int) -> bool:
        """A little-endian guest store, checked; True if it wrote bytes that had been translated."""
        code = self._check(addr, size, PROT_WRITE, Access.WRITE)
        self.arena[addr:addr + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if code:
            self._code_written(addr, size)
        return code

    def _code_written(self, addr: int, size: int) -> None:
        if self.code_write_hook is not None:
            self.code_write_hook(addr, size)

    def read(self, addr: int, length: int, access: Access = Access.READ) -> bytes:
        """Guest bytes, checked for read permission (or exec permission when fetching code)."""
        need = PROT_EXEC if access == Access.EXEC else PROT_READ
        if 0 <= addr and ((addr & PAGE_MASK) + length <= PAGE_SIZE) and addr + length <= self.size \
                and self.perm[addr >> PAGE_SHIFT] & need:
            return self.arena[addr:addr + length]  # the common case: within one readable page
        self._check(addr, length, need, access)
        return self.arena[addr:addr + length]

    def write(self, addr: int, data: bytes) -> None:
        """Store bytes, checked for write permission; translations of overwritten code are dropped."""
        if self._check(addr, len(data), PROT_WRITE, Access.WRITE):
            self.arena[addr:addr + len(data)] = data
            self._code_written(addr, len(data))
        else:
            self.arena[addr:addr + len(data)] = data

    def poke(self, addr: int, data: bytes) -> None:
        """Store bytes whatever the page permissions say (loaders, debuggers); still drops stale code."""
        self._pages(addr, len(data))
        self.arena[addr:addr + len(data)] = data
        pages = range(addr >> PAGE_SHIFT, page_ceil(addr + len(data)) >> PAGE_SHIFT)
        if any(self.perm[p] & CODE for p in pages):
            self._code_written(addr, len(data))

    def peek(self, addr: int, length: int) -> bytes:
        """Guest bytes whatever the page permissions say (only the bounds are checked)."""
        self._pages(addr, length)
        return self.arena[addr:addr + length]

    def read_cstr(self, addr: int, limit: int = 1 << 16) -> bytes:
        """A NUL-terminated guest string (without the NUL), checked page by page."""
        out = bytearray()
        while len(out) < limit:
            chunk_end = min(page_floor(addr) + PAGE_SIZE, addr + limit - len(out))
            data = self.read(addr, chunk_end - addr)
            nul = data.find(b"\0")
            if nul >= 0:
                out += data[:nul]
                return bytes(out)
            out += data
            addr = chunk_end
        raise GuestFault(addr, Access.READ, 1)

"""Guest-physical memory: RAM pages in the shared arena, device regions dispatched to Python handlers.

RAM is ordinary accessible pages, so translated code reaches it directly. Device pages stay unmapped:
an access to them fails the inline permission check of every tier and lands in the slow path below,
which hands it to the device that owns the address. An address that is neither RAM nor a device is a
GuestFault, which the monitor turns into an access fault in the guest. Pages can also be write-watched
(readable RAM whose stores reach a Python callback after they land, as HTIF's tohost needs).

An MMU (Sv39) fits here later: translation happens before these checks, not in the frontends.
"""
from __future__ import annotations

import bisect
from typing import Callable, Protocol

from ..exits import Access, GuestFault
from ..memory import PAGE_SHIFT, PROT_EXEC, PROT_READ, PROT_RWX, GuestMemory

WatchFn = Callable[[int, int, int], None]  # (addr, size, value) after a store to a watched page


class Device(Protocol):
    """A memory-mapped device: register reads and writes at offsets inside its region."""

    def read(self, offset: int, size: int) -> int: ...

    def write(self, offset: int, size: int, value: int) -> None: ...


class PhysicalMemory(GuestMemory):
    """A 4 GiB guest-physical address space with RAM at ram_base and MMIO device regions."""

    def __init__(self, ram_base: int, ram_size: int) -> None:
        super().__init__()
        if ram_base & 0xFFF or ram_size & 0xFFF or ram_size <= 0 or ram_base + ram_size > self.size:
            raise ValueError(f"RAM {ram_base:#x}+{ram_size:#x} must be page aligned and below 4 GiB")
        self.ram_base, self.ram_size = ram_base, ram_size
        self.ram_end = ram_base + ram_size
        self.map(ram_base, ram_size, PROT_RWX)
        self._starts: list[int] = []
        self._regions: list[tuple[int, int, Device]] = []  # (base, end, device), sorted by base
        self._watch: dict[int, WatchFn] = {}  # page number -> callback

    # -- layout -----------------------------------------------------------------------------------
    def add_device(self, base: int, size: int, device: Device) -> None:
        """Attach a device to [base, base+size); the range must not overlap RAM or another device."""
        end = base + size
        if base < self.ram_end and end > self.ram_base:
            raise ValueError(f"device at {base:#x} overlaps RAM")
        i = bisect.bisect(self._starts, base)
        if (i and self._regions[i - 1][1] > base) or (i < len(self._starts) and self._starts[i] < end):
            raise ValueError(f"device at {base:#x}+{size:#x} overlaps another device")
        self._starts.insert(i, base)
        self._regions.insert(i, (base, end, device))

    def device_at(self, addr: int) -> tuple[Device, int] | None:
        """The device owning addr and the offset inside its region, or None."""
        i = bisect.bisect(self._starts, addr) - 1
        if i >= 0:
            base, end, dev = self._regions[i]
            if addr < end:
                return dev, addr - base
        return None

    def watch_writes(self, addr: int, callback: WatchFn) -> None:
        """Call callback(addr, size, value) after every guest store to the RAM page holding addr."""
        page = addr >> PAGE_SHIFT
        self._watch[page] = callback
        self.protect(page << PAGE_SHIFT, 1 << PAGE_SHIFT, PROT_READ | PROT_EXEC)

    def is_ram(self, addr: int, length: int) -> bool:
        """True if [addr, addr+length) lies inside RAM (what DMA may touch)."""
        return self.ram_base <= addr and length >= 0 and addr + length <= self.ram_end

    # -- slow paths of guest accesses ---------------------------------------------------------------
    def _mmio(self, addr: int, size: int, access: Access) -> tuple[Device, int]:
        hit = self.device_at(addr)
        if hit is None or self.device_at(addr + size - 1) != (hit[0], hit[1] + size - 1):
            raise GuestFault(addr & (2**64 - 1), access, size)
        return hit

    def load(self, addr: int, size: int) -> int:
        if self.is_ram(addr, size):
            return super().load(addr, size)
        dev, off = self._mmio(addr, size, Access.READ)
        return dev.read(off, size) & ((1 << (8 * size)) - 1)

    def load_for_write(self, addr: int, size: int) -> int:
        if self.is_ram(addr, size):
            if self._watched(addr, size):
                return int.from_bytes(self.arena[addr:addr + size], "little")
            return super().load_for_write(addr, size)
        dev, off = self._mmio(addr, size, Access.WRITE)
        return dev.read(off, size) & ((1 << (8 * size)) - 1)

    def store(self, addr: int, size: int, value: int) -> bool:
        if self.is_ram(addr, size):
            callback = self._watched(addr, size)
            if callback is None:
                return super().store(addr, size, value)
            self.poke(addr, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            callback(addr, size, value)
            return False
        dev, off = self._mmio(addr, size, Access.WRITE)
        dev.write(off, size, value & ((1 << (8 * size)) - 1))
        return False

    def _watched(self, addr: int, size: int) -> WatchFn | None:
        if not self._watch:
            return None
        return self._watch.get(addr >> PAGE_SHIFT) or self._watch.get((addr + size - 1) >> PAGE_SHIFT)

    # -- device DMA -----------------------------------------------------------------------------------
    def dma_read(self, addr: int, length: int) -> bytes:
        """Bytes of RAM for a device (the caller has checked the range with is_ram)."""
        return self.arena[addr:addr + length]

    def dma_write(self, addr: int, data: bytes) -> None:
        """Store bytes into RAM for a device; translations of overwritten code are dropped."""
        self.poke(addr, data)

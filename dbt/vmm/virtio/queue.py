"""Split virtqueues (VIRTIO 1.x, 2.7): descriptor table, available ring, used ring.

Everything the driver wrote is checked before it is used: ring and buffer addresses must lie in RAM,
chains must end (no loops, at most `num` descriptors directly, one level of indirection), device-readable
descriptors come before device-writable ones, and a chain's total length is bounded. A violation is a
QueueError, which the transport turns into DEVICE_NEEDS_RESET; it never becomes a host exception.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

DESC_NEXT, DESC_WRITE, DESC_INDIRECT = 1, 2, 4
AVAIL_NO_INTERRUPT = 1
DESC_SIZE = 16
MAX_CHAIN_BYTES = 16 << 20


class QueueError(Exception):
    """The driver broke the virtqueue rules; the device must be reset."""


@dataclass
class Chain:
    """One descriptor chain: its head index and its device-readable and device-writable buffers."""

    head: int
    readable: list[tuple[int, int]] = field(default_factory=list)
    writable: list[tuple[int, int]] = field(default_factory=list)

    @property
    def readable_len(self) -> int:
        return sum(n for _, n in self.readable)

    @property
    def writable_len(self) -> int:
        return sum(n for _, n in self.writable)

    def read(self, mem, limit: int | None = None) -> bytes:
        """The device-readable bytes, in order (at most limit of them)."""
        out = bytearray()
        for addr, n in self.readable:
            if limit is not None:
                n = min(n, limit - len(out))
            out += mem.dma_read(addr, n)
            if limit is not None and len(out) >= limit:
                break
        return bytes(out)

    def write(self, mem, data: bytes, skip: int = 0) -> int:
        """Scatter data into the device-writable buffers from byte `skip` on; returns bytes written."""
        done = 0
        for addr, n in self.writable:
            if skip >= n:
                skip -= n
                continue
            addr, n = addr + skip, n - skip
            skip = 0
            part = data[done:done + n]
            if not part:
                break
            mem.dma_write(addr, part)
            done += len(part)
        return done


class Virtqueue:
    """One split virtqueue as the driver configured it through the transport."""

    def __init__(self, num_max: int = 256) -> None:
        self.num_max = num_max
        self.reset()

    def reset(self) -> None:
        self.num = self.num_max
        self.ready = False
        self.desc = self.avail = self.used = 0
        self.last_avail = 0
        self.used_idx = 0

    def check(self, mem) -> None:
        """Validate the configuration when the driver makes the queue ready."""
        n = self.num
        if n == 0 or n > self.num_max or n & (n - 1):
            raise QueueError(f"queue size {n} is not a power of two up to {self.num_max}")
        for name, addr, size, align in (("descriptor table", self.desc, DESC_SIZE * n, 16),
                                        ("available ring", self.avail, 6 + 2 * n, 2),
                                        ("used ring", self.used, 6 + 8 * n, 4)):
            if addr % align or not mem.is_ram(addr, size):
                raise QueueError(f"{name} at {addr:#x} is misaligned or not in RAM")

    def _u16(self, mem, addr: int) -> int:
        return int.from_bytes(mem.dma_read(addr, 2), "little")

    def pending(self, mem) -> int:
        """How many chains the driver made available that the device has not taken."""
        return (self._u16(mem, self.avail + 2) - self.last_avail) & 0xFFFF

    def pop(self, mem) -> Chain | None:
        """The next available chain, walked and validated; None when the ring is empty."""
        if not self.ready:
            return None
        avail_idx = self._u16(mem, self.avail + 2)
        if (avail_idx - self.last_avail) & 0xFFFF > self.num:
            raise QueueError(f"available index {avail_idx} is more than {self.num} ahead")
        if avail_idx == self.last_avail:
            return None
        head = self._u16(mem, self.avail + 4 + 2 * (self.last_avail % self.num))
        self.last_avail = (self.last_avail + 1) & 0xFFFF
        return self._walk(mem, head)

    def _walk(self, mem, head: int) -> Chain:
        if head >= self.num:
            raise QueueError(f"chain head {head} is outside the queue of {self.num}")
        chain = Chain(head)
        table, size, i, seen, total = self.desc, self.num, head, 0, 0
        indirect = False
        while True:
            seen += 1
            if seen > size:
                raise QueueError(f"descriptor chain from {head} loops or is longer than {size}")
            addr, length, flags, nxt = struct.unpack("<QIHH", mem.dma_read(table + DESC_SIZE * i, DESC_SIZE))
            if flags & DESC_INDIRECT:
                if indirect or flags & DESC_NEXT:
                    raise QueueError("nested or chained indirect descriptor")
                if length == 0 or length % DESC_SIZE or not mem.is_ram(addr, length):
                    raise QueueError(f"indirect table at {addr:#x}+{length:#x} is malformed or not in RAM")
                table, size, i, seen, indirect = addr, length // DESC_SIZE, 0, 0, True
                continue
            if not mem.is_ram(addr, length):
                raise QueueError(f"buffer at {addr:#x}+{length:#x} is not in RAM")
            total += length
            if total > MAX_CHAIN_BYTES:
                raise QueueError(f"descriptor chain from {head} is longer than {MAX_CHAIN_BYTES} bytes")
            if flags & DESC_WRITE:
                chain.writable.append((addr, length))
            elif chain.writable:
                raise QueueError(f"device-readable descriptor after a device-writable one in chain {head}")
            else:
                chain.readable.append((addr, length))
            if not flags & DESC_NEXT:
                return chain
            if nxt >= size:
                raise QueueError(f"next descriptor {nxt} is outside the table of {size}")
            i = nxt

    def push(self, mem, chain: Chain, written: int) -> bool:
        """Return a chain through the used ring; True if the driver wants an interrupt for it."""
        slot = self.used + 4 + 8 * (self.used_idx % self.num)
        mem.dma_write(slot, struct.pack("<II", chain.head, written))
        self.used_idx = (self.used_idx + 1) & 0xFFFF
        mem.dma_write(self.used + 2, struct.pack("<H", self.used_idx))
        return not self._u16(mem, self.avail) & AVAIL_NO_INTERRUPT

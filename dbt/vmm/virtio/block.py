"""virtio-blk (device 2) backed by a raw image file (sparse or preallocated): IN, OUT, FLUSH (fsync),
GET_ID; read-only option;
the capacity (in 512-byte sectors) in the configuration space. A request past the end of the disk,
a data length that is not whole sectors, or a write to a read-only disk gets IOERR and touches nothing."""
from __future__ import annotations

import os
import struct

from .mmio import VirtioDevice
from .queue import Chain

SECTOR = 512
F_RO, F_BLK_SIZE, F_FLUSH = 1 << 5, 1 << 6, 1 << 9
T_IN, T_OUT, T_FLUSH, T_GET_ID = 0, 1, 4, 8
S_OK, S_IOERR, S_UNSUPP = 0, 1, 2
ID_BYTES = 20
HEADER = 16


class DiskError(Exception):
    """The disk image cannot be used (reported before the guest starts)."""


class Block(VirtioDevice):
    """A block device on a raw image file."""

    device_id = 2
    queue_sizes = (128,)

    def __init__(self, path: str, readonly: bool = False, serial: str | None = None,
                 size: int | None = None, prealloc: bool = False) -> None:
        """With `size`, the image is created or extended to that many bytes: sparse (disk blocks are
        allocated as the guest writes them) or, with prealloc, allocated up front."""
        super().__init__()
        if size is not None and (readonly or size % SECTOR or size <= 0):
            raise DiskError(f"disk image {path}: a size needs a writable disk and whole sectors")
        flags = os.O_RDONLY if readonly else os.O_RDWR | (os.O_CREAT if size is not None else 0)
        try:
            self.fd = os.open(path, flags, 0o644)
            if size is not None and os.fstat(self.fd).st_size < size:
                if prealloc:
                    os.posix_fallocate(self.fd, 0, size)
                else:
                    os.ftruncate(self.fd, size)
        except OSError as e:
            if getattr(self, "fd", -1) >= 0:
                os.close(self.fd)
            raise DiskError(f"disk image {path}: {e.strerror}") from None
        size = os.fstat(self.fd).st_size
        if size < SECTOR:
            os.close(self.fd)
            raise DiskError(f"disk image {path}: smaller than one sector ({size} bytes)")
        self.path = path
        self.readonly = readonly
        self.sectors = size // SECTOR
        self.serial = (serial or os.path.basename(path)).encode()[:ID_BYTES]
        self.features |= F_FLUSH | F_BLK_SIZE | (F_RO if readonly else 0)
        self.requests = {T_IN: self._read, T_OUT: self._write, T_FLUSH: self._flush, T_GET_ID: self._get_id}
        self.stats = {"read_bytes": 0, "written_bytes": 0, "requests": 0, "errors": 0}

    def config(self) -> bytes:
        # capacity, size_max, seg_max, geometry (c, h, s), blk_size
        return struct.pack("<QIIHBBI", self.sectors, 0, 0, 0, 0, 0, SECTOR)

    def queue_notify(self, index: int) -> None:
        for chain in self.chains(0):
            self.complete(0, chain, self._serve(chain))

    def _serve(self, chain: Chain) -> int:
        """Carry out one request; returns the bytes written into the chain (data and status)."""
        mem = self.memory
        self.stats["requests"] += 1
        room = chain.writable_len
        if room == 0:
            self.transport.needs_reset(f"block request {chain.head} has no status byte")
            return 0
        header = chain.read(mem, HEADER)
        if len(header) < HEADER:
            return self._status(chain, S_IOERR, 0)
        kind, _reserved, sector = struct.unpack("<IIQ", header)
        fn = self.requests.get(kind)
        if fn is None:
            return self._status(chain, S_UNSUPP, 0)
        status, written = fn(chain, sector)
        return self._status(chain, status, written)

    def _status(self, chain: Chain, status: int, written: int) -> int:
        if status != S_OK:
            self.stats["errors"] += 1
        chain.write(self.memory, bytes([status]), skip=chain.writable_len - 1)
        return written + 1

    def _in_range(self, sector: int, length: int) -> bool:
        return length % SECTOR == 0 and sector + length // SECTOR <= self.sectors

    def _read(self, chain: Chain, sector: int) -> tuple[int, int]:
        length = chain.writable_len - 1
        if not self._in_range(sector, length) or chain.readable_len != HEADER:
            return S_IOERR, 0
        data = os.pread(self.fd, length, sector * SECTOR)
        self.stats["read_bytes"] += length
        return S_OK, chain.write(self.memory, data.ljust(length, b"\0"))

    def _write(self, chain: Chain, sector: int) -> tuple[int, int]:
        length = chain.readable_len - HEADER
        if self.readonly or not self._in_range(sector, length) or chain.writable_len != 1:
            return S_IOERR, 0
        data = chain.read(self.memory)[HEADER:]
        os.pwrite(self.fd, data, sector * SECTOR)
        self.stats["written_bytes"] += length
        return S_OK, 0

    def _flush(self, chain: Chain, sector: int) -> tuple[int, int]:
        if not self.readonly:
            os.fsync(self.fd)
        return S_OK, 0

    def _get_id(self, chain: Chain, sector: int) -> tuple[int, int]:
        room = chain.writable_len - 1
        if room < ID_BYTES:
            return S_IOERR, 0
        return S_OK, chain.write(self.memory, self.serial.ljust(ID_BYTES, b"\0"))

    def flush(self) -> None:
        if not self.readonly and self.fd >= 0:
            os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            self.flush()
            os.close(self.fd)
            self.fd = -1

"""The virtio-mmio transport, version 2 (VIRTIO 1.x, 4.2.2): a register map per slot, the status
handshake, feature negotiation, queue setup, notifications and interrupts; and the device base class.

An empty slot answers with device ID 0, as QEMU's do. A driver that breaks the rules (bad queue setup,
malformed chains) gets DEVICE_NEEDS_RESET and a configuration-change interrupt, never a host exception.
"""
from __future__ import annotations

from typing import Callable

from ..regs import lanes_write
from .queue import Chain, QueueError, Virtqueue

MAGIC = 0x74726976  # "virt"
VERSION = 2
VENDOR = 0x00746264  # "dbt"
F_VERSION_1 = 1 << 32
# status bits
ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK, NEEDS_RESET, FAILED = 1, 2, 4, 8, 64, 128
# interrupt status bits
USED_BUFFER, CONFIG_CHANGE = 1, 2
CONFIG = 0x100


class VirtioDevice:
    """A virtio device: its ID, features, queues and configuration space; subclasses serve queues."""

    device_id = 0
    features = F_VERSION_1
    queue_sizes: tuple[int, ...] = ()

    def __init__(self) -> None:
        self.queues = [Virtqueue(n) for n in self.queue_sizes]
        self.transport: VirtioMMIO | None = None
        self.machine = None

    def config(self) -> bytes:
        """The device-specific configuration space (little-endian fields)."""
        return b""

    def config_write(self, offset: int, size: int, value: int) -> None:
        """A driver write to the configuration space (ignored unless a device has writable fields)."""

    def queue_notify(self, index: int) -> None:
        """The driver made buffers available in queue `index`."""

    def attached(self) -> None:
        """The device now belongs to self.machine (start backend threads here)."""

    def reset(self) -> None:
        """Back to the initial state (the transport already reset the queues)."""

    def flush(self) -> None:
        """Write back anything held in host buffers."""

    def close(self) -> None:
        """Release host resources."""

    # -- helpers for subclasses ------------------------------------------------------------------------
    @property
    def memory(self):
        return self.transport.memory

    @property
    def negotiated(self) -> int:
        return self.transport.driver_features if self.transport else 0

    def chains(self, index: int):
        """Yield the available chains of a queue until it is empty or the device needs a reset."""
        t = self.transport
        q = self.queues[index]
        while t.live():
            try:
                chain = q.pop(t.memory)
            except QueueError as e:
                t.needs_reset(str(e))
                return
            if chain is None:
                return
            yield chain

    def one_way(self, index: int, readable: bool):
        """Like chains(), for queues whose buffers all go one way (device-readable when readable is True,
        device-writable otherwise); a chain with a buffer the other way makes the device need a reset."""
        for chain in self.chains(index):
            if chain.writable if readable else chain.readable:
                wrong = "writable" if readable else "readable"
                self.transport.needs_reset(f"{type(self).__name__} queue {index}: chain {chain.head} has "
                                           f"device-{wrong} buffers")
                return
            yield chain

    def take(self, index: int) -> Chain | None:
        """The next device-writable chain the driver offered in queue index, if any (for data the device
        produces on its own: received frames, console input)."""
        q = self.queues[index]
        if self.transport is None or not self.transport.live() or not q.ready or not q.pending(self.memory):
            return None
        return next(self.one_way(index, readable=False), None)

    def complete(self, index: int, chain: Chain, written: int) -> None:
        """Put a chain on the used ring and interrupt the driver if it wants that."""
        t = self.transport
        if t.live() and self.queues[index].push(t.memory, chain, written):
            t.interrupt(USED_BUFFER)


class VirtioMMIO:
    """One virtio-mmio slot (0x1000 bytes of registers and configuration space)."""

    def __init__(self, memory, irq: Callable[[bool], None], device: VirtioDevice | None = None) -> None:
        self.memory = memory
        self.irq = irq
        self.device: VirtioDevice | None = None
        self.errors: list[str] = []  # why the device asked for a reset, for reports and tests
        self._reset_state()
        if device is not None:
            self.attach(device)
        self.reads: dict[int, Callable[[], int]] = {
            0x000: lambda: MAGIC, 0x004: lambda: VERSION,
            0x008: lambda: self.device.device_id if self.device else 0,
            0x00C: lambda: VENDOR,
            0x010: self._device_features,
            0x034: lambda: self._queue().num_max if self._queue() else 0,
            0x044: lambda: int(self._queue().ready) if self._queue() else 0,
            0x060: lambda: self.interrupt_status,
            0x070: lambda: self.status,
            0x0B0: lambda: 0xFFFFFFFF, 0x0B4: lambda: 0xFFFFFFFF,  # no shared memory regions
            0x0FC: lambda: self.config_generation,
        }
        self.writes: dict[int, Callable[[int], None]] = {
            0x014: lambda v: setattr(self, "device_features_sel", v),
            0x020: self._driver_features,
            0x024: lambda v: setattr(self, "driver_features_sel", v),
            0x030: lambda v: setattr(self, "queue_sel", v),
            0x038: lambda v: self._queue_field("num", v),
            0x044: self._queue_ready,
            0x050: self._notify,
            0x064: self._ack,
            0x070: self._status,
            0x080: lambda v: self._queue_addr("desc", 0, v), 0x084: lambda v: self._queue_addr("desc", 32, v),
            0x090: lambda v: self._queue_addr("avail", 0, v), 0x094: lambda v: self._queue_addr("avail", 32, v),
            0x0A0: lambda v: self._queue_addr("used", 0, v), 0x0A4: lambda v: self._queue_addr("used", 32, v),
        }

    def _reset_state(self) -> None:
        self.status = 0
        self.interrupt_status = 0
        self.device_features_sel = self.driver_features_sel = 0
        self.driver_features = 0
        self.queue_sel = 0
        self.config_generation = 0

    def attach(self, device: VirtioDevice) -> None:
        self.device = device
        device.transport = self

    # -- registers ----------------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if offset >= CONFIG:
            cfg = self.device.config() if self.device else b""
            return int.from_bytes(cfg[offset - CONFIG: offset - CONFIG + size].ljust(size, b"\0"), "little")
        if size != 4 or offset & 3:
            return 0
        fn = self.reads.get(offset)
        return fn() & 0xFFFFFFFF if fn is not None else 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset >= CONFIG:
            if self.device is not None:
                self.device.config_write(offset - CONFIG, size, value)
            return
        if size != 4 or offset & 3 or self.device is None:
            return
        fn = self.writes.get(offset)
        if fn is not None:
            fn(value & 0xFFFFFFFF)

    def _device_features(self) -> int:
        return (self.device.features >> (32 * self.device_features_sel)) & 0xFFFFFFFF \
            if self.device_features_sel < 2 else 0

    def _driver_features(self, v: int) -> None:
        if self.status & FEATURES_OK or self.driver_features_sel > 1:
            return
        shift = 32 * self.driver_features_sel
        self.driver_features = lanes_write(self.driver_features, shift // 8, 4, v)

    def _queue(self) -> Virtqueue | None:
        qs = self.device.queues if self.device else []
        return qs[self.queue_sel] if self.queue_sel < len(qs) else None

    def _queue_field(self, name: str, v: int) -> None:
        q = self._queue()
        if q is not None and not q.ready:
            setattr(q, name, v)

    def _queue_addr(self, name: str, shift: int, v: int) -> None:
        q = self._queue()
        if q is not None and not q.ready:
            setattr(q, name, lanes_write(getattr(q, name), shift // 8, 4, v))

    def _queue_ready(self, v: int) -> None:
        q = self._queue()
        if q is None:
            return
        if not v:
            q.ready = False
            return
        try:
            q.check(self.memory)
        except QueueError as e:
            self.needs_reset(str(e))
            return
        q.ready = True

    def _notify(self, v: int) -> None:
        qs = self.device.queues
        if v < len(qs) and qs[v].ready and self.live():
            self.device.queue_notify(v)

    def _ack(self, v: int) -> None:
        self.interrupt_status &= ~v
        self.irq(self.interrupt_status != 0)

    def _status(self, v: int) -> None:
        if v == 0:
            self.reset()
            return
        v &= 0xFF
        if v & FEATURES_OK and not self.status & FEATURES_OK:
            offered = self.device.features
            if self.driver_features & ~offered or not self.driver_features & F_VERSION_1:
                v &= ~FEATURES_OK  # the device does not accept these features
        if v & DRIVER_OK and not v & FEATURES_OK:
            self.status = v & ~DRIVER_OK
            self.needs_reset("DRIVER_OK without FEATURES_OK")
            return
        self.status = v | (self.status & NEEDS_RESET)

    # -- device side -------------------------------------------------------------------------------------
    def live(self) -> bool:
        """True if the device may use its queues (driver ready, no reset pending)."""
        return self.status & DRIVER_OK and not self.status & (NEEDS_RESET | FAILED)

    def needs_reset(self, why: str) -> None:
        """The driver broke the rules: set DEVICE_NEEDS_RESET and tell it through a config interrupt."""
        self.errors.append(why)
        self.status |= NEEDS_RESET
        self.interrupt(CONFIG_CHANGE)

    def interrupt(self, bits: int) -> None:
        self.interrupt_status |= bits
        self.irq(True)

    def reset(self) -> None:
        """Writing 0 to Status: everything back to its initial state."""
        self._reset_state()
        if self.device is not None:
            for q in self.device.queues:
                q.reset()
            self.device.reset()
        self.irq(False)


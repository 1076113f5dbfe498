"""virtio-net (device 1): Ethernet frames behind a 12-byte virtio_net_hdr; receiveq 0, transmitq 1.

Frames go to a backend (netdev.py): an in-process switch or a UDP socket. Frames that arrive while the
driver has no receive buffer wait in a bounded queue (the oldest are dropped)."""
from __future__ import annotations

import struct
from collections import deque

from .mmio import VirtioDevice

RX, TX = 0, 1
F_MAC, F_STATUS = 1 << 5, 1 << 16
HEADER = 12
MAX_FRAME = 1514 + 4      # an Ethernet frame with a VLAN tag, without FCS
MAX_PENDING = 256
LINK_UP = 1


class Net(VirtioDevice):
    device_id = 1
    queue_sizes = (256, 256)

    def __init__(self, backend, mac: bytes = bytes.fromhex("525400123456")) -> None:
        super().__init__()
        if len(mac) != 6:
            raise ValueError("a MAC address has 6 bytes")
        self.mac = mac
        self.backend = backend
        self.features |= F_MAC | F_STATUS
        self.pending: deque[bytes] = deque(maxlen=MAX_PENDING)
        self.stats = {"tx_frames": 0, "rx_frames": 0, "dropped": 0}
        backend.connect(self)

    def config(self) -> bytes:
        return self.mac + struct.pack("<HH", LINK_UP, 1)

    def queue_notify(self, index: int) -> None:
        if index == TX:
            for chain in self.one_way(TX, readable=True):
                data = chain.read(self.memory, HEADER + MAX_FRAME + 1)
                if HEADER < len(data) <= HEADER + MAX_FRAME:
                    self.stats["tx_frames"] += 1
                    self.backend.send(data[HEADER:])
                else:
                    self.stats["dropped"] += 1
                self.complete(TX, chain, 0)
        else:
            self.deliver()

    def receive(self, frame: bytes) -> None:
        """A frame from the backend (on the monitor thread)."""
        if len(self.pending) == MAX_PENDING:
            self.stats["dropped"] += 1
        self.pending.append(frame[:MAX_FRAME])
        self.deliver()

    def deliver(self) -> None:
        while self.pending and (chain := self.take(RX)) is not None:
            frame = self.pending.popleft()
            if chain.writable_len < HEADER + len(frame):
                self.stats["dropped"] += 1
                self.complete(RX, chain, 0)
                continue
            header = struct.pack("<BBHHHHH", 0, 0, 0, 0, 0, 0, 1)
            self.stats["rx_frames"] += 1
            self.complete(RX, chain, chain.write(self.memory, header + frame))

    def attached(self) -> None:
        self.machine.async_sources += 1  # frames may arrive at any time: wfi waits for them
        start = getattr(self.backend, "start", None)
        if start is not None:
            start()

    def reset(self) -> None:
        self.pending.clear()

    def close(self) -> None:
        self.backend.close()

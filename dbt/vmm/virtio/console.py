"""virtio-console (device 3): receiveq 0 gets host input, transmitq 1 goes to the host's output."""
from __future__ import annotations

from collections import deque

from .mmio import VirtioDevice

RX, TX = 0, 1


class Console(VirtioDevice):
    device_id = 3
    queue_sizes = (64, 64)

    def __init__(self) -> None:
        super().__init__()
        self.pending: deque[bytes] = deque()

    def queue_notify(self, index: int) -> None:
        if index == TX:
            for chain in self.one_way(TX, readable=True):
                self.machine.console_write(chain.read(self.memory))
                self.complete(TX, chain, 0)
        else:
            self.deliver()

    def receive(self, data: bytes) -> None:
        """Host input for the guest (called on the monitor thread)."""
        self.pending.append(data)
        self.deliver()

    def deliver(self) -> None:
        """Fill the driver's receive buffers with pending input."""
        while self.pending and (chain := self.take(RX)) is not None:
            data = self.pending.popleft()
            n = chain.write(self.memory, data)
            if n < len(data):
                self.pending.appendleft(data[n:])
            self.complete(RX, chain, n)

    def reset(self) -> None:
        """Host input that has not reached the guest stays queued: a driver reset does not lose typing."""

    def attached(self) -> None:
        if self.machine.console_input:
            self.machine.async_sources += 1

"""virtio-rng (device 4): device-writable buffers filled from the host's random source."""
from __future__ import annotations

import os
from typing import Callable

from .mmio import VirtioDevice

MAX_BYTES = 64 << 10  # per request


class Entropy(VirtioDevice):
    device_id = 4
    queue_sizes = (64,)

    def __init__(self, source: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__()
        self.source = source
        self.bytes_given = 0

    def queue_notify(self, index: int) -> None:
        for chain in self.one_way(0, readable=False):
            n = min(chain.writable_len, MAX_BYTES)
            written = chain.write(self.memory, self.source(n))
            self.bytes_given += written
            self.complete(0, chain, written)

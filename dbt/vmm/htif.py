"""HTIF, the host-target interface of Spike and TinyEMU: the guest writes commands to its `tohost`
word and reads replies from `fromhost`. Device 0 command 0 with bit 0 set ends the VM with status
payload >> 1 (an even payload is a proxied system call: write and exit are served); device 1
command 1 prints a character."""
from __future__ import annotations

from typing import Callable

from ..exits import Access, GuestFault

SYS_WRITE, SYS_EXIT = 64, 93


class MachineExit(Exception):
    """The guest asked to end the VM with this status."""

    def __init__(self, status: int, why: str = "") -> None:
        super().__init__(why or f"exit status {status}")
        self.status = status


class Htif:
    """tohost/fromhost words in guest RAM, watched for writes."""

    def __init__(self, memory, tohost: int, fromhost: int | None, output: Callable[[bytes], None]) -> None:
        self.memory = memory
        self.tohost, self.fromhost = tohost, fromhost
        self.output = output
        self.exit_request: MachineExit | None = None
        memory.watch_writes(tohost, self._written)
        self.commands: dict[tuple[int, int], Callable[[int], int | None]] = {
            (0, 0): self._syscall, (1, 1): self._putchar,
        }

    def _written(self, addr: int, size: int, value: int) -> None:
        try:
            self._command(addr, size)
        except MachineExit as e:
            # Leave translated code through the fault path, which records the exact pc and count;
            # the monitor sees exit_request and ends the VM.
            self.exit_request = e
            raise GuestFault(addr, Access.WRITE, size) from None

    def _command(self, addr: int, size: int) -> None:
        if not (self.tohost <= addr < self.tohost + 8) or addr + size < self.tohost + 4:
            return  # another word of the watched page, or the low half of a two-part write
        mem = self.memory
        cmd = int.from_bytes(mem.peek(self.tohost, 8), "little")
        if cmd == 0:
            return
        device, command, payload = cmd >> 56, (cmd >> 48) & 0xFF, cmd & ((1 << 48) - 1)
        handler = self.commands.get((device, command))
        mem.poke(self.tohost, bytes(8))
        reply = handler(payload) if handler is not None else None
        if reply is not None and self.fromhost is not None:
            mem.poke(self.fromhost, (((device << 56) | (command << 48) | reply) & (2**64 - 1)).to_bytes(8, "little"))

    def _putchar(self, payload: int) -> int:
        self.output(bytes([payload & 0xFF]))
        return 0

    def _syscall(self, payload: int) -> int | None:
        if payload & 1:
            raise MachineExit(payload >> 1, f"HTIF exit with status {payload >> 1}")
        mem = self.memory
        if not mem.is_ram(payload, 64):
            return 1
        which, a0, a1, a2 = (int.from_bytes(mem.peek(payload + 8 * i, 8), "little") for i in range(4))
        if which == SYS_EXIT:
            raise MachineExit(a0 & 0xFF, f"HTIF exit with status {a0 & 0xFF}")
        result = -38 & (2**64 - 1)  # ENOSYS
        if which == SYS_WRITE and a0 in (1, 2) and mem.is_ram(a1, a2):
            self.output(mem.peek(a1, a2))
            result = a2
        mem.poke(payload, result.to_bytes(8, "little"))
        return 1

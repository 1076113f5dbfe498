"""Why translated code returned to the runtime.

Every tier reports exits with these codes; the runtime hands them to the Linux layer or the VMM shell.
"""
from __future__ import annotations

from enum import IntEnum


class ExitKind(IntEnum):
    NEXT = 0      # continue at state.pc (a region ended; nothing to do)
    SYSCALL = 1   # system call instruction at state.pc (already counted as executed)
    BREAK = 2     # breakpoint instruction at state.pc
    UNDEF = 3     # undefined or unimplemented instruction at state.pc
    FAULT = 4     # guest memory fault: state.exit_arg is the address, state.exit_info the access
    SMC = 5       # guest code was written: state.pc is the next instruction; translations were dropped
    BUDGET = 6    # the instruction budget (state.ilimit) is used up; state.pc is the next instruction
    PRIV = 7      # privileged instruction or CSR for the system monitor at state.pc
    HALT = 8      # the guest waits for an interrupt (wfi) at state.pc
    MISS = 9      # native dispatch found no translation for state.pc
    SLOW = 10     # native code handed the instruction at state.pc to the interpreter (rare cases)


class Access(IntEnum):
    """The access kind of a guest memory fault."""

    READ = 1
    WRITE = 2
    EXEC = 3


class GuestFault(Exception):
    """A guest memory access that its memory does not allow."""

    def __init__(self, addr: int, access: Access, size: int = 0) -> None:
        super().__init__(f"{access.name.lower()} of {size} bytes at {addr:#x}")
        self.addr = addr
        self.access = access
        self.size = size


class GuestTrap(Exception):
    """The current guest instruction traps (an IR trap_if fired) with this exit kind."""

    def __init__(self, kind: ExitKind) -> None:
        super().__init__(kind.name)
        self.kind = kind

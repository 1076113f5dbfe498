"""Linux system calls for user-mode guests: a registry of handlers keyed by the generic syscall name.

A handler takes the process and the six raw argument registers and returns the result (a negative
errno for failure); it may also raise OSError (turned into -errno) or GuestFault (-EFAULT). Importing
this package registers every handler module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..process import LinuxProcess

Handler = Callable[..., int]
SYSCALLS: dict[str, Handler] = {}
# How --strace prints each argument: a string of kinds, one per argument, e.g. "dsx"
# (d: signed decimal, x: hex, s: guest C string, p: path, o: octal, f: fd); default all hex.
SIGNATURES: dict[str, str] = {}


def syscall(name: str, signature: str = "") -> Callable[[Handler], Handler]:
    """Register the handler of one system call."""
    def register(fn: Handler) -> Handler:
        if name in SYSCALLS:
            raise ValueError(f"syscall {name} registered twice")
        SYSCALLS[name] = fn
        if signature:
            SIGNATURES[name] = signature
        return fn
    return register


def signed(v: int, bits: int = 64) -> int:
    """A raw register value read as a signed integer (e.g. an fd of -100 = AT_FDCWD)."""
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


from . import basic  # noqa: E402,F401  (registers handlers)

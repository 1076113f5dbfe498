"""Signals: dispositions, masks, the alternate stack, kill.

The guest's dispositions and mask are recorded exactly (rt_sigaction and rt_sigprocmask return the old
ones) and mirrored onto the host process, because the host process *is* the guest process to the rest
of the system: SIG_IGN and SIG_DFL become the host's (so ignored signals stay ignored across fork and
execve, a default SIGTERM ends the process, SIGCHLD ignored reaps children), and the mask becomes the
host thread's mask (blocked signals stay pending). Delivering a signal to a guest handler is not
implemented yet: such a signal is noted on stderr and dropped, and a blocking call it arrives in returns
EINTR unless the handler was installed with SA_RESTART.

Python ignores SIGPIPE and SIGXFSZ and catches SIGINT; where the guest expects the default, the
syscall layer raises SIGPIPE on EPIPE and SIGXFSZ on EFBIG itself, and a process that owns the host
process (the dbt command) resets all three to the default at start.
"""
from __future__ import annotations

import errno
import os
import resource
import signal
import struct
from typing import TYPE_CHECKING

from . import get, put, signed, syscall
from .strace import signal_name

if TYPE_CHECKING:
    from ..process import LinuxProcess

SIGINT, SIGKILL, SIGPIPE, SIGCHLD, SIGSTOP, SIGXFSZ = 2, 9, 13, 17, 19, 25
NSIG = 64
SIG_DFL, SIG_IGN = 0, 1
SA_RESTART = 0x10000000
SS_ONSTACK, SS_DISABLE, SS_AUTODISARM = 1, 2, 1 << 31
MINSIGSTKSZ = 2048
UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))

DEFAULT_IGNORE = {SIGCHLD, 18, 23, 28}           # SIGCHLD, SIGCONT, SIGURG, SIGWINCH
DEFAULT_STOP = {SIGSTOP, 20, 21, 22}             # SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU
_HOST_SIGNALS = set(int(s) for s in signal.valid_signals())


class GuestInterrupted(InterruptedError):
    """A signal for a guest handler interrupted a blocking host call (the guest sees EINTR)."""

    def __init__(self) -> None:
        super().__init__(errno.EINTR, "interrupted by a signal for a guest handler")


class SignalState:
    """One process's signal dispositions, mask and alternate stack."""

    def __init__(self, p: LinuxProcess, ignored=()) -> None:
        self.p = p
        # sig -> (handler, flags, mask, restorer); absent means SIG_DFL with no flags
        self.actions: dict[int, tuple[int, int, int, int]] = {}
        self.altstack = (0, SS_DISABLE, 0)
        self.mask = 0
        for sig in signal.pthread_sigmask(signal.SIG_BLOCK, []):
            self.mask |= 1 << (int(sig) - 1)   # inherited through execve like Linux does
        for sig in _HOST_SIGNALS:
            # signals ignored when this process started stay ignored (Python itself ignores these two)
            if sig not in (SIGPIPE, SIGXFSZ) and signal.getsignal(sig) == signal.SIG_IGN:
                self.actions[sig] = (SIG_IGN, 0, 0, 0)
        for sig in ignored:
            self.set_action(int(sig), SIG_IGN, 0, 0, 0)
        if p.owns_host:
            for sig in (SIGINT, SIGPIPE, SIGXFSZ):
                if self.handler(sig) == SIG_DFL:
                    _host_signal(sig, signal.SIG_DFL)

    def handler(self, sig: int) -> int:
        return self.actions.get(sig, (SIG_DFL, 0, 0, 0))[0]

    def ignored(self) -> list[int]:
        return [s for s, a in self.actions.items() if a[0] == SIG_IGN]

    def set_action(self, sig: int, handler: int, flags: int, mask: int, restorer: int) -> None:
        self.actions[sig] = (handler, flags, mask, restorer)
        if handler == SIG_DFL:
            _host_signal(sig, signal.SIG_DFL)
        elif handler == SIG_IGN:
            _host_signal(sig, signal.SIG_IGN)
        else:
            _host_signal(sig, self._caught)

    def set_mask(self, mask: int) -> None:
        self.mask = mask & ~UNBLOCKABLE & (2**64 - 1)
        signal.pthread_sigmask(signal.SIG_SETMASK,
                               [s for s in _HOST_SIGNALS if self.mask >> (s - 1) & 1])

    def _caught(self, signum: int, _frame) -> None:
        """Host handler for signals the guest catches (delivery to guest code is not implemented)."""
        p = self.p
        p.note(f"signal {signum}", f"{signal_name(signum)} arrived for a guest signal handler; delivering "
               f"signals to guest handlers is not implemented yet, so it is dropped")
        if p.in_blocking and not self.actions.get(signum, (0, 0))[1] & SA_RESTART:
            p.in_blocking = False
            raise GuestInterrupted()

    def ensure_host_default(self, sig: int) -> None:
        """Before a signal reaches this process: make the host do what the guest's SIG_DFL says."""
        if sig and self.handler(sig) == SIG_DFL and sig in _HOST_SIGNALS:
            if sig not in DEFAULT_IGNORE and sig not in DEFAULT_STOP:
                self.p.flush_output()
                _no_core_file()
            _host_signal(sig, signal.SIG_DFL)

    def raise_from_kernel(self, sig: int) -> None:
        """A signal the kernel would send this thread itself (SIGPIPE on EPIPE, SIGXFSZ on EFBIG)."""
        self.ensure_host_default(sig)
        if self.handler(sig) != SIG_IGN:
            os.kill(os.getpid(), sig)   # ends the process if default and unblocked, as on Linux


def _host_signal(sig: int, action) -> None:
    if sig in (SIGKILL, SIGSTOP) or sig not in _HOST_SIGNALS:
        return
    try:
        signal.signal(sig, action)
    except (OSError, ValueError, RuntimeError):
        pass  # e.g. signals the host libc reserves for itself


def _no_core_file() -> None:
    """A guest dying of SIGABRT or SIGSEGV should not leave a core of the 4 GiB dbt process."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (OSError, ValueError):
        pass


def _valid(sig: int) -> bool:
    return 1 <= sig <= NSIG


@syscall("rt_sigaction", "Sxxd")
def sys_rt_sigaction(p, sig, act, oact, sigsetsize, *_):
    sig = signed(sig, 32)
    if sigsetsize != 8 or not _valid(sig):
        return -errno.EINVAL
    if act and sig in (SIGKILL, SIGSTOP):
        return -errno.EINVAL
    sigs = p.signals
    restorer = p.abi.sigaction_restorer
    new = None
    if act:
        if restorer:
            handler, flags, rest, mask = get(p, act, "QQQQ")
        else:
            handler, flags, mask = get(p, act, "QQQ")
            rest = 0
        new = (handler, flags, mask & ~UNBLOCKABLE, rest)
    if oact:
        handler, flags, mask, rest = sigs.actions.get(sig, (SIG_DFL, 0, 0, 0))
        if restorer:
            put(p, oact, "QQQQ", handler, flags, rest, mask)
        else:
            put(p, oact, "QQQ", handler, flags, mask)
    if new is not None:
        sigs.set_action(sig, *new)
    return 0


SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2


@syscall("rt_sigprocmask", "Hxxd")
def sys_rt_sigprocmask(p, how, set_ptr, oset, sigsetsize, *_):
    if sigsetsize != 8:
        return -errno.EINVAL
    sigs = p.signals
    old = sigs.mask
    if set_ptr:
        how = signed(how, 32)
        if how not in (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK):
            return -errno.EINVAL
        value = get(p, set_ptr, "Q")[0]
        new = {SIG_BLOCK: old | value, SIG_UNBLOCK: old & ~value, SIG_SETMASK: value}[how]
    if oset:
        put(p, oset, "Q", old)
    if set_ptr:
        sigs.set_mask(new)
    return 0


@syscall("rt_sigpending", "xd")
def sys_rt_sigpending(p, set_ptr, sigsetsize, *_):
    if sigsetsize > 8:
        return -errno.EINVAL
    bits = 0
    for sig in signal.sigpending():
        bits |= 1 << (int(sig) - 1)
    p.memory.write(set_ptr, bits.to_bytes(8, "little")[:sigsetsize])
    return 0


@syscall("rt_sigsuspend", "xd")
def sys_rt_sigsuspend(p, mask_ptr, sigsetsize, *_):
    if sigsetsize != 8:
        return -errno.EINVAL
    mask = get(p, mask_ptr, "Q")[0]
    return _suspend(p, mask)


def _suspend(p, mask: int) -> int:
    sigs = p.signals
    old = sigs.mask
    sigs.set_mask(mask)
    try:
        with p.blocking():
            signal.pause()   # returns (or raises) once a handled signal arrives; default ones end us
    except GuestInterrupted:
        pass
    finally:
        sigs.set_mask(old)
    return -errno.EINTR


@syscall("pause")
def sys_pause(p, *_):  # x86-64
    return _suspend(p, p.signals.mask)


def pack_siginfo(info) -> bytes:
    """struct siginfo (128 bytes) for a kill or SIGCHLD source, from a signal.struct_siginfo or an
    os.waitid_result (same field names)."""
    body = struct.pack("<iiiiiiI", info.si_signo, 0, info.si_code, 0, info.si_pid, info.si_uid,
                       info.si_status & 0xFFFFFFFF)
    return body.ljust(128, b"\0")


@syscall("rt_sigtimedwait", "xxxd")
def sys_rt_sigtimedwait(p, set_ptr, info_ptr, tmo, sigsetsize, *_):
    from .fileio import read_timespec
    if sigsetsize != 8:
        return -errno.EINVAL
    bits = get(p, set_ptr, "Q")[0] & ~UNBLOCKABLE
    wanted = [s for s in _HOST_SIGNALS if bits >> (s - 1) & 1]
    timeout = read_timespec(p, tmo)
    with p.blocking():
        info = signal.sigtimedwait(wanted, timeout) if timeout is not None else signal.sigwaitinfo(wanted)
    if info is None:
        return -errno.EAGAIN
    if info_ptr:
        p.memory.write(info_ptr, pack_siginfo(info))
    return info.si_signo


@syscall("sigaltstack", "xx")
def sys_sigaltstack(p, ss, old_ss, *_):
    sigs = p.signals
    new = None
    if ss:
        sp, flags, size = get(p, ss, "Qi4xQ")
        flags &= 0xFFFFFFFF
        if flags & ~(SS_DISABLE | SS_AUTODISARM | SS_ONSTACK) or flags & SS_ONSTACK:
            return -errno.EINVAL
        if not flags & SS_DISABLE and size < MINSIGSTKSZ:
            return -errno.ENOMEM
        new = (sp, flags, size) if not flags & SS_DISABLE else (0, SS_DISABLE, 0)
    if old_ss:
        sp, flags, size = sigs.altstack
        put(p, old_ss, "QI4xQ", sp, flags & 0xFFFFFFFF, size)
    if new is not None:
        sigs.altstack = new
    return 0


def _targets_self(pid: int) -> bool:
    me = os.getpid()
    return pid in (me, 0, -1) or pid == -os.getpgrp()


@syscall("kill", "dS")
def sys_kill(p, pid, sig, *_):
    pid, sig = signed(pid, 32), signed(sig, 32)
    if not 0 <= sig <= NSIG:
        return -errno.EINVAL
    if pid == -(2**31):
        return -errno.ESRCH
    if _targets_self(pid):
        p.signals.ensure_host_default(sig)
    os.kill(pid, sig)
    return 0


@syscall("tkill", "dS")
def sys_tkill(p, tid, sig, *_):
    return sys_tgkill(p, tid, tid, sig)


@syscall("tgkill", "ddS")
def sys_tgkill(p, tgid, tid, sig, *_):
    tgid, tid, sig = signed(tgid, 32), signed(tid, 32), signed(sig, 32)
    if tgid <= 0 or tid <= 0 or not 0 <= sig <= NSIG:
        return -errno.EINVAL
    if tid != tgid:
        return -errno.ESRCH  # every guest process has one thread, whose tid is its pid
    if tid == os.getpid():
        p.signals.ensure_host_default(sig)
    os.kill(tid, sig)
    return 0


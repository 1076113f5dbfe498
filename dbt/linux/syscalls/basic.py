"""Ending the process, and calls with nothing to emulate (single-threaded, no rseq, no hwprobe)."""
from __future__ import annotations

import errno

from . import syscall


class ProcessExit(Exception):
    """The guest asked to end the process with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@syscall("exit", "d")
def sys_exit(p, status, *_):
    # one thread: the thread's exit is the process's (clear_child_tid would only wake other threads)
    return _exit(p, "exit", status)


@syscall("exit_group", "d")
def sys_exit_group(p, status, *_):
    return _exit(p, "exit_group", status)


def _exit(p, name: str, status: int) -> int:
    if p.forked and not p.owns_host:
        # a child that dbt forked inside someone else's Python process (dbt.load(...).run() in a test,
        # say) must not return into that program's code: end the host process here
        import os
        if p.strace:
            p._strace(name, [status], None)
        p.flush_output()
        os._exit(status & 0xFF)
    raise ProcessExit(status & 0xFF)


@syscall("set_tid_address", "x")
def sys_set_tid_address(p, tidptr, *_):
    import os
    p.clear_child_tid = tidptr
    return os.getpid()


@syscall("set_robust_list", "xd")
def sys_set_robust_list(p, head, length, *_):
    if length != 24:  # sizeof(struct robust_list_head) on 64-bit
        return -errno.EINVAL
    p.robust_list = (head, length)
    return 0


@syscall("get_robust_list", "dxx")
def sys_get_robust_list(p, pid, head_ptr, len_ptr, *_):
    import os
    from . import put
    if pid not in (0, os.getpid()):
        return -errno.EPERM
    put(p, head_ptr, "Q", p.robust_list[0])
    put(p, len_ptr, "Q", p.robust_list[1] or 24)
    return 0


# Calls a libc probes and copes without: -ENOSYS, quietly (they are not missing features of dbt).
@syscall("rseq", "xdyy")
def sys_rseq(p, *_):
    return -errno.ENOSYS  # restartable sequences: glibc falls back to plain getcpu


@syscall("clone3", "xd")
def sys_clone3(p, *_):
    return -errno.ENOSYS  # musl and glibc fall back to clone


@syscall("riscv_hwprobe", "xdxxy")
def sys_riscv_hwprobe(p, *_):
    return -errno.ENOSYS  # callers fall back to AT_HWCAP


@syscall("riscv_flush_icache", "xxy")
def sys_riscv_flush_icache(p, *_):
    return 0  # dbt notices writes to translated code by itself

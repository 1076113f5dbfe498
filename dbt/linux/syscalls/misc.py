"""Time, system information, randomness, futexes for one thread, scheduling."""
from __future__ import annotations

import ctypes
import errno
import os
import time

from ..fs import libc
from . import get, get_u32, put, signed, syscall
from .fileio import read_timespec, write_timespec
from .signals import GuestInterrupted

# -- clocks and sleeping ---------------------------------------------------------------------------------
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID = 0, 1, 2, 3
TIMER_ABSTIME = 1


@syscall("clock_gettime", "kx")
def sys_clock_gettime(p, clk, tp, *_):
    ns = time.clock_gettime_ns(signed(clk, 32))   # the host's clock ids are Linux's (dynamic CPU clocks too)
    put(p, tp, "qq", ns // 1_000_000_000, ns % 1_000_000_000)
    return 0


@syscall("clock_getres", "kx")
def sys_clock_getres(p, clk, res, *_):
    r = time.clock_getres(signed(clk, 32))
    if res:
        ns = max(1, round(r * 1e9))
        put(p, res, "qq", ns // 1_000_000_000, ns % 1_000_000_000)
    return 0


@syscall("clock_settime", "kx")
def sys_clock_settime(p, clk, tp, *_):
    sec, nsec = get(p, tp, "qq")
    if not 0 <= nsec < 1_000_000_000:
        return -errno.EINVAL
    time.clock_settime_ns(signed(clk, 32), sec * 1_000_000_000 + nsec)
    return 0


@syscall("gettimeofday", "xx")
def sys_gettimeofday(p, tv, tz, *_):
    ns = time.time_ns()
    if tv:
        put(p, tv, "qq", ns // 1_000_000_000, ns % 1_000_000_000 // 1000)
    if tz:
        put(p, tz, "ii", 0, 0)  # struct timezone is obsolete; the kernel reports UTC unless told otherwise
    return 0


@syscall("time", "x")
def sys_time(p, tloc, *_):  # x86-64
    now = time.time_ns() // 1_000_000_000
    if tloc:
        put(p, tloc, "q", now)
    return now


def _sleep(p, seconds: float, rem: int) -> int:
    deadline = time.monotonic() + seconds
    try:
        with p.blocking():
            time.sleep(seconds)   # Python resumes after signals it does not interrupt for
    except GuestInterrupted:
        if rem:
            write_timespec(p, rem, deadline - time.monotonic())
        return -errno.EINTR
    return 0


@syscall("nanosleep", "xx")
def sys_nanosleep(p, req, rem, *_):
    return _sleep(p, read_timespec(p, req), rem)


@syscall("clock_nanosleep", "kdxx")
def sys_clock_nanosleep(p, clk, flags, req, rem, *_):
    clk = signed(clk, 32)
    if clk == CLOCK_THREAD_CPUTIME_ID:
        return -errno.EINVAL
    if clk == CLOCK_PROCESS_CPUTIME_ID:
        return -errno.ENOTSUP
    seconds = read_timespec(p, req)
    now = time.clock_gettime(clk)   # EINVAL for a bad clock
    if flags & TIMER_ABSTIME:
        return _sleep(p, max(0.0, seconds - now), 0)
    return _sleep(p, seconds, rem)


ITIMER_WHICH = {0: "ITIMER_REAL", 1: "ITIMER_VIRTUAL", 2: "ITIMER_PROF"}


@syscall("setitimer", "dxx")
def sys_setitimer(p, which, new, old, *_):
    import signal
    which = signed(which, 32)
    if which not in ITIMER_WHICH:
        return -errno.EINVAL
    isec, iusec, vsec, vusec = get(p, new, "qqqq") if new else (0, 0, 0, 0)
    # the host process's timer: its SIGALRM / SIGVTALRM / SIGPROF reach the guest's dispositions
    before = signal.setitimer(which, vsec + vusec / 1e6, isec + iusec / 1e6)
    if old:
        _put_itimerval(p, old, before)
    return 0


@syscall("getitimer", "dx")
def sys_getitimer(p, which, cur, *_):
    import signal
    which = signed(which, 32)
    if which not in ITIMER_WHICH:
        return -errno.EINVAL
    _put_itimerval(p, cur, signal.getitimer(which))
    return 0


def _put_itimerval(p, addr: int, value: tuple[float, float]) -> None:
    delay, interval = value

    def tv(t: float) -> tuple[int, int]:
        return int(t), int(round((t - int(t)) * 1e6))
    put(p, addr, "qqqq", *tv(interval), *tv(delay))


@syscall("alarm", "u")
def sys_alarm(p, seconds, *_):  # x86-64
    import signal
    return signal.alarm(seconds & 0xFFFFFFFF)


# -- system information --------------------------------------------------------------------------------------
def _field(text: str) -> bytes:
    return text.encode()[:64].ljust(65, b"\0")


@syscall("uname", "x")
def sys_uname(p, buf, *_):
    u = os.uname()
    try:
        with open("/proc/sys/kernel/domainname") as f:
            domain = f.read().strip()
    except OSError:
        domain = "(none)"
    data = b"".join(_field(x) for x in (u.sysname, u.nodename, u.release, u.version, p.abi.uname_machine, domain))
    p.memory.write(buf, data)
    return 0


SYSINFO_SIZE = 112  # struct sysinfo: the same for the asm-generic 64-bit ABI and x86-64


@syscall("sysinfo", "x")
def sys_sysinfo(p, info, *_):
    out = ctypes.create_string_buffer(SYSINFO_SIZE)
    if libc.sysinfo(out):
        return -ctypes.get_errno()
    p.memory.write(info, out.raw)
    return 0


GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE = 1, 2, 4


@syscall("getrandom", "xdy")
def sys_getrandom(p, buf, length, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~7 or (flags & GRND_RANDOM and flags & GRND_INSECURE):
        return -errno.EINVAL
    length = min(length, 0x1FFFFFF)  # the kernel returns at most 32 MiB - 1 per call
    p.memory.read(buf, 0)
    from . import writable_span
    n = writable_span(p, buf, length) if length else 0
    with p.blocking():
        data = os.getrandom(n, flags)
    p.memory.write(buf, data)
    return len(data)


# -- futex (one thread: nobody else can wake a waiter) -----------------------------------------------------------
FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = 0, 1, 3, 4, 5
FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 6, 7, 8, 9, 10
FUTEX_LOCK_PI2 = 13
FUTEX_PRIVATE, FUTEX_CLOCK_REALTIME = 128, 256
FUTEX_TID_MASK, FUTEX_WAITERS = 0x3FFFFFFF, 0x80000000


@syscall("futex", "xXdxxy")
def sys_futex(p, uaddr, op, val, timeout, uaddr2, val3):
    cmd = op & 127
    val, val3 = val & 0xFFFFFFFF, val3 & 0xFFFFFFFF
    if uaddr & 3:
        return -errno.EINVAL
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        if cmd == FUTEX_WAIT_BITSET and val3 == 0:
            return -errno.EINVAL
        if get_u32(p, uaddr) != val:
            return -errno.EAGAIN
        # the value is what the caller expected: only a timeout or a signal can end the wait
        if timeout:
            seconds = read_timespec(p, timeout)
            if cmd == FUTEX_WAIT_BITSET:  # absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME
                clk = time.CLOCK_REALTIME if op & FUTEX_CLOCK_REALTIME else time.CLOCK_MONOTONIC
                seconds = max(0.0, seconds - time.clock_gettime(clk))
            r = _sleep(p, seconds, 0)
            return r if r else -errno.ETIMEDOUT
        import signal
        try:
            with p.blocking():
                while True:
                    signal.pause()
        except GuestInterrupted:
            return -errno.EINTR
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        if cmd == FUTEX_WAKE_BITSET and val3 == 0:
            return -errno.EINVAL
        p.memory.read(uaddr, 4)
        return 0  # no other thread waits
    if cmd == FUTEX_REQUEUE:
        return 0
    if cmd == FUTEX_CMP_REQUEUE:
        return -errno.EAGAIN if get_u32(p, uaddr) != val3 else 0
    if cmd == FUTEX_WAKE_OP:
        _wake_op(p, uaddr2, val3)
        return 0
    me = os.getpid()
    if cmd in (FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI):
        word = get_u32(p, uaddr)
        owner = word & FUTEX_TID_MASK
        if owner == me:
            return -errno.EDEADLK
        if owner == 0:
            put(p, uaddr, "I", me | (word & ~FUTEX_TID_MASK & ~FUTEX_WAITERS & 0xFFFFFFFF))
            return 0
        return -errno.EAGAIN if cmd == FUTEX_TRYLOCK_PI else -errno.ESRCH  # owned by a thread that is not here
    if cmd == FUTEX_UNLOCK_PI:
        if get_u32(p, uaddr) & FUTEX_TID_MASK != me:
            return -errno.EPERM
        put(p, uaddr, "I", 0)
        return 0
    return -errno.ENOSYS


def _wake_op(p, uaddr2: int, encoded: int) -> None:
    op, cmp_unused = (encoded >> 28) & 0xF, (encoded >> 24) & 0xF
    oparg = (encoded >> 12) & 0xFFF
    if op & 8:
        oparg = 1 << (oparg & 31)
        op &= 7
    old = get_u32(p, uaddr2)
    new = {0: oparg, 1: old + oparg, 2: old | oparg, 3: old & ~oparg, 4: old ^ oparg}.get(op)
    if new is None:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))
    put(p, uaddr2, "I", new & 0xFFFFFFFF)
    del cmp_unused  # the comparison only decides whether waiters on uaddr2 are woken: there are none


MEMBARRIER_QUERY, MEMBARRIER_GLOBAL, MEMBARRIER_GLOBAL_EXPEDITED = 0, 1, 2
MEMBARRIER_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_PRIVATE_EXPEDITED = 4, 8
MEMBARRIER_REGISTER_PRIVATE_EXPEDITED, MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE = 16, 32
MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64
MEMBARRIER_SUPPORTED = 127


@syscall("membarrier", "yyd")
def sys_membarrier(p, cmd, flags, cpu_id, *_):
    cmd &= 0xFFFFFFFF
    if flags & ~1:
        return -errno.EINVAL
    if cmd == MEMBARRIER_QUERY:
        return MEMBARRIER_SUPPORTED
    if cmd not in (1, 2, 4, 8, 16, 32, 64):
        return -errno.EINVAL
    if cmd in (MEMBARRIER_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_REGISTER_PRIVATE_EXPEDITED,
               MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE):
        p.membarrier_registered |= cmd
        return 0
    if cmd == MEMBARRIER_PRIVATE_EXPEDITED and not p.membarrier_registered & 16 or \
            cmd == MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE and not p.membarrier_registered & 64:
        return -errno.EPERM
    return 0  # one thread: every barrier is already in place


# -- scheduling: one CPU ---------------------------------------------------------------------------------------
@syscall("sched_yield")
def sys_sched_yield(p, *_):
    os.sched_yield()
    return 0


@syscall("sched_getaffinity", "ddx")
def sys_sched_getaffinity(p, pid, size, mask, *_):
    size &= 0xFFFFFFFF
    if size < 8 or size & 7:
        return -errno.EINVAL
    if signed(pid, 32) not in (0, os.getpid()):
        os.sched_getaffinity(signed(pid, 32))  # ESRCH for a process that does not exist
    p.memory.write(mask, (1).to_bytes(8, "little"))
    return 8  # the kernel returns the size of its cpumask: one word


@syscall("sched_setaffinity", "ddx")
def sys_sched_setaffinity(p, pid, size, mask, *_):
    data = p.memory.read(mask, min(size & 0xFFFFFFFF, 1024))
    return 0 if data and data[0] & 1 else -errno.EINVAL  # CPU 0 is the only one


@syscall("getcpu", "xxx")
def sys_getcpu(p, cpu, node, _cache, *_):
    if cpu:
        put(p, cpu, "I", 0)
    if node:
        put(p, node, "I", 0)
    return 0


@syscall("sched_getscheduler", "d")
def sys_sched_getscheduler(p, pid, *_):
    return os.sched_getscheduler(signed(pid, 32))


@syscall("sched_getparam", "dx")
def sys_sched_getparam(p, pid, param, *_):
    put(p, param, "i", os.sched_getparam(signed(pid, 32)).sched_priority)
    return 0


@syscall("sched_setscheduler", "ddx")
def sys_sched_setscheduler(p, pid, policy, param, *_):
    prio = get(p, param, "i")[0]
    os.sched_setscheduler(signed(pid, 32), policy & 0xFFFFFFFF, os.sched_param(prio))
    return 0


@syscall("sched_setparam", "dx")
def sys_sched_setparam(p, pid, param, *_):
    os.sched_setparam(signed(pid, 32), os.sched_param(get(p, param, "i")[0]))
    return 0


@syscall("sched_get_priority_max", "d")
def sys_sched_get_priority_max(p, policy, *_):
    return os.sched_get_priority_max(policy & 0xFFFFFFFF)


@syscall("sched_get_priority_min", "d")
def sys_sched_get_priority_min(p, policy, *_):
    return os.sched_get_priority_min(policy & 0xFFFFFFFF)


@syscall("getpriority", "dd")
def sys_getpriority(p, which, who, *_):
    return 20 - os.getpriority(which & 0xFFFFFFFF, signed(who, 32))  # the syscall reports 20 - nice


@syscall("setpriority", "ddd")
def sys_setpriority(p, which, who, prio, *_):
    os.setpriority(which & 0xFFFFFFFF, signed(who, 32), signed(prio, 32))
    return 0

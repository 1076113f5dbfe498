"""File descriptors: read and write, dup, fcntl, ioctl, pipes, poll and select, sendfile.

Guest fd numbers are host fd numbers (as in qemu-user): pipes, dup and inheritance across fork and
execve are the host kernel's own. Data moves between the host call and guest memory; a buffer is
checked first, so a bad pointer is EFAULT before anything is consumed.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import select
import struct

from ..fs import libc
from . import fail, get, put, readable_span, signed, syscall, writable_span
from .signals import SIGPIPE, SIGXFSZ

MAX_RW = 0x7FFFF000  # the kernel's MAX_RW_COUNT
IOV_MAX = 1024


def _write_result(p, fn) -> int:
    """Run a host write; EPIPE and EFBIG raise SIGPIPE / SIGXFSZ as the kernel would."""
    try:
        with p.blocking():
            return fn()
    except BrokenPipeError:
        p.signals.raise_from_kernel(SIGPIPE)
        return -errno.EPIPE
    except OSError as e:
        if e.errno == errno.EFBIG:
            p.signals.raise_from_kernel(SIGXFSZ)
        raise


@syscall("read", "fBd")
def sys_read(p, fd, buf, count, *_):
    fd = p.fd(fd)
    n = writable_span(p, buf, min(count, MAX_RW)) if count else 0
    with p.blocking():
        data = os.read(fd, n)
    p.memory.write(buf, data)
    return len(data)


@syscall("write", "fbd")
def sys_write(p, fd, buf, count, *_):
    fd = p.fd(fd)
    n = readable_span(p, buf, min(count, MAX_RW)) if count else 0
    data = p.memory.read(buf, n)
    return _write_result(p, lambda: os.write(fd, data))


@syscall("pread64", "fBdd")
def sys_pread64(p, fd, buf, count, offset, *_):
    fd = p.fd(fd)
    if signed(offset) < 0:
        return -errno.EINVAL
    n = writable_span(p, buf, min(count, MAX_RW)) if count else 0
    with p.blocking():
        data = os.pread(fd, n, offset)
    p.memory.write(buf, data)
    return len(data)


@syscall("pwrite64", "fbdd")
def sys_pwrite64(p, fd, buf, count, offset, *_):
    fd = p.fd(fd)
    if signed(offset) < 0:
        return -errno.EINVAL
    n = readable_span(p, buf, min(count, MAX_RW)) if count else 0
    data = p.memory.read(buf, n)
    return _write_result(p, lambda: os.pwrite(fd, data, offset))


def iovecs(p, iov: int, iovcnt: int) -> list[tuple[int, int]]:
    iovcnt = signed(iovcnt)
    if iovcnt < 0 or iovcnt > IOV_MAX:
        raise fail(errno.EINVAL)
    raw = p.memory.read(iov, 16 * iovcnt)
    vecs = list(struct.iter_unpack("<QQ", raw))
    total = 0
    for _, length in vecs:
        total += length
        if length > MAX_RW or total > 2**63 - 1:
            raise fail(errno.EINVAL)
    return vecs


def _gather(p, vecs) -> bytes:
    return b"".join(p.memory.read(base, length) for base, length in vecs)


def _scatter_buffers(p, vecs) -> list[bytearray]:
    for base, length in vecs:
        if length:
            p.memory.read(base, 0)
            if writable_span(p, base, length) < length:
                raise fail(errno.EFAULT)
    return [bytearray(length) for _, length in vecs]


def _scatter(p, vecs, bufs, n: int) -> int:
    left = n
    for (base, _), b in zip(vecs, bufs):
        if left <= 0:
            break
        chunk = bytes(b[:left])
        p.memory.write(base, chunk)
        left -= len(chunk)
    return n


@syscall("readv", "fxd")
def sys_readv(p, fd, iov, iovcnt, *_):
    fd = p.fd(fd)
    vecs = iovecs(p, iov, iovcnt)
    bufs = _scatter_buffers(p, vecs)
    with p.blocking():
        if not bufs:
            os.fstat(fd)
            return 0
        n = os.readv(fd, bufs)
    return _scatter(p, vecs, bufs, n)


@syscall("writev", "fxd")
def sys_writev(p, fd, iov, iovcnt, *_):
    fd = p.fd(fd)
    data = _gather(p, iovecs(p, iov, iovcnt))
    return _write_result(p, lambda: os.write(fd, data))


def _pos(offset: int) -> int:
    off = signed(offset)
    if off < 0:
        raise fail(errno.EINVAL)
    return off


@syscall("preadv", "fxdd")
def sys_preadv(p, fd, iov, iovcnt, offset, *_):
    return _preadv(p, fd, iov, iovcnt, offset, 0)


@syscall("preadv2", "fxddyy")
def sys_preadv2(p, fd, iov, iovcnt, offset, _high, flags):
    return _preadv(p, fd, iov, iovcnt, offset, flags)


def _preadv(p, fd, iov, iovcnt, offset, flags):
    fd = p.fd(fd)
    vecs = iovecs(p, iov, iovcnt)
    bufs = _scatter_buffers(p, vecs)
    with p.blocking():
        if signed(offset) == -1:
            n = os.readv(fd, bufs)
        else:
            n = os.preadv(fd, bufs, _pos(offset), flags)
    return _scatter(p, vecs, bufs, n)


@syscall("pwritev", "fxdd")
def sys_pwritev(p, fd, iov, iovcnt, offset, *_):
    return _pwritev(p, fd, iov, iovcnt, offset, 0)


@syscall("pwritev2", "fxddyy")
def sys_pwritev2(p, fd, iov, iovcnt, offset, _high, flags):
    return _pwritev(p, fd, iov, iovcnt, offset, flags)


def _pwritev(p, fd, iov, iovcnt, offset, flags):
    fd = p.fd(fd)
    data = _gather(p, iovecs(p, iov, iovcnt))
    if signed(offset) == -1:
        return _write_result(p, lambda: os.write(fd, data))
    pos = _pos(offset)
    return _write_result(p, lambda: os.pwritev(fd, [data], pos, flags))


@syscall("lseek", "fdh")
def sys_lseek(p, fd, offset, whence, *_):
    return os.lseek(p.fd(fd), signed(offset), whence & 0xFFFFFFFF)


@syscall("close", "f")
def sys_close(p, fd, *_):
    os.close(p.fd(fd))
    return 0


def host_syscall(nr: int, *args: int) -> int:
    """A raw host system call for what Python's os module lacks; OSError on failure."""
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if r < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return r


SYS_CLOSE_RANGE = 436  # the same number on every architecture


@syscall("close_range", "uuy")
def sys_close_range(p, first, last, flags, *_):
    first, last = first & 0xFFFFFFFF, last & 0xFFFFFFFF
    if first > last or flags & ~6:
        return -errno.EINVAL
    # dbt's own fds stay open: close the ranges between them
    start = first
    for fd in sorted(f for f in p.reserved_fds if first <= f <= last) + [last + 1]:
        if start <= fd - 1:
            host_syscall(SYS_CLOSE_RANGE, start, fd - 1, flags & 4)  # CLOSE_RANGE_CLOEXEC; no UNSHARE
        start = fd + 1
    return 0


@syscall("dup", "f")
def sys_dup(p, fd, *_):
    return fcntl.fcntl(p.fd(fd), fcntl.F_DUPFD, 0)  # inheritable, unlike os.dup


@syscall("dup3", "ffG")
def sys_dup3(p, old, new, flags, *_):
    old, new = p.fd(old), p.fd(new)
    cloexec = p.fs.flags.guest["O_CLOEXEC"]
    if old == new or flags & ~cloexec:
        return -errno.EINVAL
    if new < 0:
        return -errno.EBADF
    return os.dup2(old, new, inheritable=not flags & cloexec)


@syscall("dup2", "ff")
def sys_dup2(p, old, new, *_):  # x86-64
    old, new = p.fd(old), p.fd(new)
    if old == new:
        os.fstat(old)
        return new
    if new < 0:
        return -errno.EBADF
    return os.dup2(old, new, inheritable=True)


@syscall("pipe2", "xG")
def sys_pipe2(p, fds, flags, *_):
    flags &= 0xFFFFFFFF
    g = p.fs.flags.guest
    if flags & ~(g["O_CLOEXEC"] | g["O_NONBLOCK"] | g["O_DIRECT"] | 0x80):  # 0x80: O_NOTIFICATION_PIPE
        return -errno.EINVAL
    p.memory.read(fds, 0)
    if writable_span(p, fds, 8) < 8:
        return -errno.EFAULT
    r, w = os.pipe2(p.fs.flags.to_host(flags))
    put(p, fds, "ii", r, w)
    return 0


@syscall("pipe", "x")
def sys_pipe(p, fds, *_):  # x86-64
    return sys_pipe2(p, fds, 0)


# -- fcntl ---------------------------------------------------------------------------------------------
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW = range(8)
F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG, F_SETOWN_EX, F_GETOWN_EX = 8, 9, 10, 11, 15, 16
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 36, 37, 38
F_DUPFD_CLOEXEC = 1030
INT_ARG_CMDS = {F_SETFD, F_SETOWN, F_SETSIG, 1024, 1026, 1031, 1033}   # SETLEASE, NOTIFY, SETPIPE_SZ, ADD_SEALS
NO_ARG_CMDS = {F_GETFD, F_GETOWN, F_GETSIG, 1025, 1032, 1034}          # GETLEASE, GETPIPE_SZ, GET_SEALS
FLOCK_SIZE = 32  # struct flock: short type, short whence, (pad), off_t start, off_t len, pid_t pid, (pad)


@syscall("fcntl", "fFy")
def sys_fcntl(p, fd, cmd, arg, *_):
    fd = p.fd(fd)
    cmd &= 0xFFFFFFFF
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        if signed(arg, 32) < 0:
            return -errno.EINVAL
        return fcntl.fcntl(fd, fcntl.F_DUPFD if cmd == F_DUPFD else fcntl.F_DUPFD_CLOEXEC, arg & 0x7FFFFFFF)
    if cmd == F_GETFL:
        return p.fs.flags.to_guest(fcntl.fcntl(fd, fcntl.F_GETFL))
    if cmd == F_SETFL:
        return fcntl.fcntl(fd, fcntl.F_SETFL, p.fs.flags.to_host(arg & 0xFFFFFFFF))
    if cmd in NO_ARG_CMDS:
        return fcntl.fcntl(fd, cmd)
    if cmd in INT_ARG_CMDS:
        return fcntl.fcntl(fd, cmd, signed(arg, 32))
    if cmd in (F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW):
        lock = p.memory.read(arg, FLOCK_SIZE)
        with p.blocking():
            out = fcntl.fcntl(fd, cmd, lock)
        if cmd in (F_GETLK, F_OFD_GETLK):
            p.memory.write(arg, out)
        return 0
    if cmd in (F_SETOWN_EX, F_GETOWN_EX):
        owner = p.memory.read(arg, 8)
        out = fcntl.fcntl(fd, cmd, owner)
        if cmd == F_GETOWN_EX:
            p.memory.write(arg, out)
        return 0
    return -errno.EINVAL


@syscall("flock", "fd")
def sys_flock(p, fd, op, *_):
    with p.blocking():
        fcntl.flock(p.fd(fd), op & 0xFFFFFFFF)
    return 0


# -- ioctl ---------------------------------------------------------------------------------------------
# request -> how its argument travels: ("none"), ("int"), ("in", size), ("out", size), ("inout", size).
# Terminal requests are answered by the host for the same fd, so a pipe gives ENOTTY as on Linux.
# The numbers and struct layouts (termios, winsize) are the same for riscv64, aarch64 and x86-64.
TERMIOS, TERMIOS2, WINSIZE = 36, 44, 8
IOCTLS: dict[int, tuple] = {
    0x5401: ("out", TERMIOS), 0x5402: ("in", TERMIOS), 0x5403: ("in", TERMIOS), 0x5404: ("in", TERMIOS),
    0x802C542A: ("out", TERMIOS2), 0x402C542B: ("in", TERMIOS2), 0x402C542C: ("in", TERMIOS2),
    0x402C542D: ("in", TERMIOS2),
    0x5409: ("int",), 0x540A: ("int",), 0x540B: ("int",), 0x5425: ("int",), 0x5427: ("none",), 0x5428: ("none",),
    0x540C: ("none",), 0x540D: ("none",), 0x540E: ("int",), 0x5422: ("none",),
    0x540F: ("out", 4), 0x5410: ("in", 4), 0x5411: ("out", 4), 0x5412: ("in", 1),
    0x5413: ("out", WINSIZE), 0x5414: ("in", WINSIZE), 0x5415: ("out", 4), 0x5416: ("in", 4),
    0x5417: ("in", 4), 0x5418: ("in", 4), 0x541B: ("out", 4), 0x5423: ("in", 4), 0x5424: ("out", 4),
    0x5429: ("out", 4), 0x80045430: ("out", 4), 0x40045431: ("in", 4), 0x80045440: ("out", 4),
    0x5441: ("int",), 0x5450: ("none",), 0x5451: ("none",), 0x5452: ("in", 4), 0x5421: ("in", 4),
    0x2: ("out", 4),            # FIGETBSZ
    0x80086601: ("out", 4),     # FS_IOC_GETFLAGS (the kernel copies an int)
    0x40086602: ("in", 4),      # FS_IOC_SETFLAGS
    0x80081272: ("out", 8),     # BLKGETSIZE64
    0x1260: ("out", 8),         # BLKGETSIZE
}


@syscall("ioctl", "fIx")
def sys_ioctl(p, fd, request, arg, *_):
    fd = p.fd(fd)
    request &= 0xFFFFFFFF
    how = IOCTLS.get(request)
    if how is None:
        os.fstat(fd)  # EBADF first, as the kernel checks the fd before the request
        p.note(f"ioctl {request:#x}", f"unsupported ioctl request {request:#x} on fd {fd}: returning -ENOTTY")
        return -errno.ENOTTY
    kind = how[0]
    if kind == "none":
        return fcntl.ioctl(fd, request, 0)
    if kind == "int":
        return fcntl.ioctl(fd, request, signed(arg, 32))
    size = how[1]
    if kind == "in":
        return _ioctl_buffer(fd, request, bytearray(p.memory.read(arg, size)))[0]
    if writable_span(p, arg, size) < size:
        return -errno.EFAULT
    buf = bytearray(p.memory.read(arg, size)) if kind == "inout" else bytearray(size)
    r, buf = _ioctl_buffer(fd, request, buf)
    p.memory.write(arg, bytes(buf))
    return r


def _ioctl_buffer(fd: int, request: int, buf: bytearray) -> tuple[int, bytearray]:
    r = fcntl.ioctl(fd, request, buf, True)
    return r, buf


# -- poll and select -----------------------------------------------------------------------------------
def read_timespec(p, addr: int) -> float | None:
    """A struct timespec as seconds (None for NULL); EINVAL if malformed."""
    if addr == 0:
        return None
    sec, nsec = get(p, addr, "qq")
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise fail(errno.EINVAL)
    return sec + nsec / 1e9


def write_timespec(p, addr: int, seconds: float) -> None:
    seconds = max(0.0, seconds)
    sec = int(seconds)
    put(p, addr, "qq", sec, int((seconds - sec) * 1e9))


class _TempMask:
    """Swap in the guest's signal mask argument of ppoll/pselect6 for the duration of the call."""

    def __init__(self, p, mask_addr: int, size: int) -> None:
        self.p, self.mask = p, None
        if mask_addr:
            if size != 8:
                raise fail(errno.EINVAL)
            self.mask = get(p, mask_addr, "Q")[0]

    def __enter__(self):
        if self.mask is not None:
            self.old = self.p.signals.mask
            self.p.signals.set_mask(self.mask)

    def __exit__(self, *exc):
        if self.mask is not None:
            self.p.signals.set_mask(self.old)


def _deadline_wait(p, timeout: float | None, fn):
    import time
    start = time.monotonic()
    with p.blocking():
        result = fn()
    return result, (None if timeout is None else timeout - (time.monotonic() - start))


def do_poll(p, entries: list[tuple[int, int]], timeout: float | None) -> tuple[list[int], float | None]:
    """Host poll on (fd, events) pairs; the revents of each and the time left."""
    poller = select.poll()
    wanted: dict[int, int] = {}
    for fd, events in entries:
        if fd >= 0:
            wanted[fd] = wanted.get(fd, 0) | events
    for fd, events in wanted.items():
        if fd in p.reserved_fds:
            continue
        poller.register(fd, events)
    ms = None if timeout is None else -(-int(timeout * 1e6) // 1000)  # round up to whole milliseconds
    ready, left = _deadline_wait(p, timeout, lambda: poller.poll(ms))
    got = dict(ready)
    revents = []
    for fd, events in entries:
        if fd < 0:
            revents.append(0)
        elif fd in p.reserved_fds:
            revents.append(select.POLLNVAL)
        else:
            revents.append(got.get(fd, 0) & (events | select.POLLERR | select.POLLHUP | select.POLLNVAL))
    return revents, left


@syscall("ppoll", "xdxxd")
def sys_ppoll(p, fds, nfds, tmo, sigmask, sigsetsize, *_):
    if nfds > 1 << 20:
        return -errno.EINVAL
    raw = p.memory.read(fds, 8 * nfds)
    entries = [(fd, ev & 0xFFFF) for fd, ev, _ in struct.iter_unpack("<ihh", raw)]
    timeout = read_timespec(p, tmo)
    with _TempMask(p, sigmask, sigsetsize):
        revents, left = do_poll(p, entries, timeout)
    out = b"".join(struct.pack("<ihH", fd, ev, rev) for (fd, ev), rev in zip(entries, revents))
    p.memory.write(fds, out)
    if tmo and left is not None:
        write_timespec(p, tmo, left)
    return sum(1 for r in revents if r)


@syscall("poll", "xdd")
def sys_poll(p, fds, nfds, timeout_ms, *_):  # x86-64
    raw = p.memory.read(fds, 8 * nfds)
    entries = [(fd, ev & 0xFFFF) for fd, ev, _ in struct.iter_unpack("<ihh", raw)]
    ms = signed(timeout_ms, 32)
    revents, _ = do_poll(p, entries, None if ms < 0 else ms / 1000)
    p.memory.write(fds, b"".join(struct.pack("<ihH", fd, ev, rev) for (fd, ev), rev in zip(entries, revents)))
    return sum(1 for r in revents if r)


def _fdset(p, addr: int, n: int) -> list[int]:
    if not addr:
        return []
    words = (n + 63) // 64
    bits = int.from_bytes(p.memory.read(addr, 8 * words), "little")
    return [i for i in range(n) if bits >> i & 1]


def _put_fdset(p, addr: int, n: int, fds) -> None:
    if addr:
        bits = 0
        for fd in fds:
            bits |= 1 << fd
        p.memory.write(addr, bits.to_bytes(8 * ((n + 63) // 64), "little"))


def do_select(p, n, inp, outp, exp, timeout):
    n = signed(n, 32)
    if n < 0 or n > 1 << 20:
        raise fail(errno.EINVAL)
    r, w, x = _fdset(p, inp, n), _fdset(p, outp, n), _fdset(p, exp, n)
    for fd in r + w + x:
        if fd in p.reserved_fds:
            raise fail(errno.EBADF)
    entries = [(fd, select.POLLIN) for fd in r] + [(fd, select.POLLOUT) for fd in w] + \
              [(fd, select.POLLPRI) for fd in x]
    revents, left = do_poll(p, entries, timeout)
    if any(rev & select.POLLNVAL for rev in revents):
        raise fail(errno.EBADF)
    rr = [fd for (fd, _), rev in zip(entries[:len(r)], revents) if rev & (select.POLLIN | select.POLLHUP | select.POLLERR)]
    ww = [fd for (fd, _), rev in zip(entries[len(r):len(r) + len(w)], revents[len(r):])
          if rev & (select.POLLOUT | select.POLLERR)]
    xx = [fd for (fd, _), rev in zip(entries[len(r) + len(w):], revents[len(r) + len(w):]) if rev & select.POLLPRI]
    _put_fdset(p, inp, n, rr)
    _put_fdset(p, outp, n, ww)
    _put_fdset(p, exp, n, xx)
    return len(rr) + len(ww) + len(xx), left


@syscall("pselect6", "dxxxxx")
def sys_pselect6(p, n, inp, outp, exp, tsp, sig):
    timeout = read_timespec(p, tsp)
    mask_addr, size = get(p, sig, "QQ") if sig else (0, 8)
    with _TempMask(p, mask_addr, size):
        count, left = do_select(p, n, inp, outp, exp, timeout)
    if tsp and left is not None:
        write_timespec(p, tsp, left)
    return count


@syscall("select", "dxxxx")
def sys_select(p, n, inp, outp, exp, tvp, *_):  # x86-64
    timeout = None
    if tvp:
        sec, usec = get(p, tvp, "qq")
        if sec < 0 or not 0 <= usec < 1_000_000:
            return -errno.EINVAL
        timeout = sec + usec / 1e6
    count, left = do_select(p, n, inp, outp, exp, timeout)
    if tvp and left is not None:
        left = max(0.0, left)
        put(p, tvp, "qq", int(left), int((left - int(left)) * 1e6))
    return count


# -- copying between descriptors --------------------------------------------------------------------------
@syscall("sendfile", "ffxd")
def sys_sendfile(p, out_fd, in_fd, offset_ptr, count, *_):
    out_fd, in_fd = p.fd(out_fd), p.fd(in_fd)
    count = min(count, MAX_RW)
    if offset_ptr:
        off = get(p, offset_ptr, "q")[0]
        if off < 0:
            return -errno.EINVAL
        n = _write_result(p, lambda: os.sendfile(out_fd, in_fd, off, count))
        if n >= 0:
            put(p, offset_ptr, "q", off + n)
        return n
    return _write_result(p, lambda: os.sendfile(out_fd, in_fd, None, count))


@syscall("copy_file_range", "fxfxdy")
def sys_copy_file_range(p, fd_in, off_in, fd_out, off_out, length, flags):
    fd_in, fd_out = p.fd(fd_in), p.fd(fd_out)
    if flags:
        return -errno.EINVAL
    src = get(p, off_in, "q")[0] if off_in else None
    dst = get(p, off_out, "q")[0] if off_out else None
    n = os.copy_file_range(fd_in, fd_out, min(length, MAX_RW), src, dst)
    if off_in:
        put(p, off_in, "q", src + n)
    if off_out:
        put(p, off_out, "q", dst + n)
    return n


# -- syncing and sizes ------------------------------------------------------------------------------------
@syscall("fsync", "f")
def sys_fsync(p, fd, *_):
    os.fsync(p.fd(fd))
    return 0


@syscall("fdatasync", "f")
def sys_fdatasync(p, fd, *_):
    os.fdatasync(p.fd(fd))
    return 0


@syscall("sync")
def sys_sync(p, *_):
    os.sync()
    return 0


@syscall("syncfs", "f")
def sys_syncfs(p, fd, *_):
    os.fstat(p.fd(fd))
    os.sync()
    return 0


@syscall("ftruncate", "fd")
def sys_ftruncate(p, fd, length, *_):
    if signed(length) < 0:
        return -errno.EINVAL
    fd = p.fd(fd)
    return _write_result(p, lambda: os.ftruncate(fd, length) or 0)


@syscall("fallocate", "fydd")
def sys_fallocate(p, fd, mode, offset, length, *_):
    r = libc.fallocate(ctypes.c_int(p.fd(fd)), ctypes.c_int(mode & 0xFFFFFFFF), ctypes.c_long(signed(offset)),
                        ctypes.c_long(signed(length)))
    return -ctypes.get_errno() if r else 0


@syscall("fadvise64", "fddd")
def sys_fadvise64(p, fd, offset, length, advice, *_):
    os.posix_fadvise(p.fd(fd), signed(offset), signed(length), advice & 0xFFFFFFFF)
    return 0


@syscall("readahead", "fdd")
def sys_readahead(p, fd, offset, count, *_):
    os.fstat(p.fd(fd))
    return 0


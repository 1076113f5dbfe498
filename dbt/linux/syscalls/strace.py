"""--strace: one line per system call with decoded arguments and the result, in strace's style.

    1234 openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
    1234 read(3, "root:x:0:0:root:/root:/bin/sh\\n"..., 4096) = 1042
    1234 openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)

A signature (see SIGNATURES in the package) has one character per argument:

    d signed decimal    u unsigned decimal   x pointer (NULL)  y hex number       o octal
    f fd (AT_FDCWD)     G O_* flags without the access mode (pipe2, dup3)
    s string            p path               b buffer, length in the next argument
    B buffer, length = the result (read)     a argv array      e envp array ("0x... /* N vars */")
    O open flags        P mmap prot          M mmap flags      C clone flags      A AT_* flags
    W wait options      F fcntl command      S signal          I ioctl request    k clock id
    R rlimit resource   X futex op           m madvise advice  h lseek whence     t access mode
    H sigprocmask how

and optionally "=" and the kind of the result (x for addresses; default signed decimal).
"""
from __future__ import annotations

import errno
import os
import signal
from typing import TYPE_CHECKING

from ...exits import GuestFault
from . import SIGNATURES, signed

if TYPE_CHECKING:
    from ..process import LinuxProcess

STRING_LIMIT = 32  # bytes of a buffer shown, like strace -s 32

SIGNAL_NAMES = {int(s): s.name for s in signal.Signals if not s.name.startswith("SIG_")}
SIGNAL_NAMES.update({6: "SIGABRT", 17: "SIGCHLD", 29: "SIGIO"})
for _n in range(34, 65):
    SIGNAL_NAMES.setdefault(_n, f"SIGRT_{_n - 32}")


def signal_name(sig: int) -> str:
    return SIGNAL_NAMES.get(sig, str(sig))


def _flags(value: int, table: list[tuple[int, str]], zero: str = "0") -> str:
    names = []
    for bit, name in table:
        if bit and value & bit == bit:
            names.append(name)
            value &= ~bit
    if value:
        names.append(hex(value))
    return "|".join(names) if names else zero


PROT = [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"), (8, "PROT_SEM"),
        (0x01000000, "PROT_GROWSDOWN"), (0x02000000, "PROT_GROWSUP")]
MAP = [(0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"), (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"),
       (0x1000, "MAP_EXECUTABLE"), (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"),
       (0x8000, "MAP_POPULATE"), (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"),
       (0x40000, "MAP_HUGETLB"), (0x80000, "MAP_SYNC"), (0x100000, "MAP_FIXED_NOREPLACE")]
CLONE = [(0x100, "CLONE_VM"), (0x200, "CLONE_FS"), (0x400, "CLONE_FILES"), (0x800, "CLONE_SIGHAND"),
         (0x1000, "CLONE_PIDFD"), (0x2000, "CLONE_PTRACE"), (0x4000, "CLONE_VFORK"),
         (0x8000, "CLONE_PARENT"), (0x10000, "CLONE_THREAD"), (0x20000, "CLONE_NEWNS"),
         (0x40000, "CLONE_SYSVSEM"), (0x80000, "CLONE_SETTLS"), (0x100000, "CLONE_PARENT_SETTID"),
         (0x200000, "CLONE_CHILD_CLEARTID"), (0x800000, "CLONE_UNTRACED"),
         (0x1000000, "CLONE_CHILD_SETTID")]
AT = [(0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_REMOVEDIR"), (0x400, "AT_SYMLINK_FOLLOW"),
      (0x800, "AT_NO_AUTOMOUNT"), (0x1000, "AT_EMPTY_PATH"), (0x2000, "AT_STATX_FORCE_SYNC"),
      (0x4000, "AT_STATX_DONT_SYNC")]
WAIT = [(1, "WNOHANG"), (2, "WUNTRACED"), (4, "WEXITED"), (8, "WCONTINUED"), (0x01000000, "WNOWAIT"),
        (0x20000000, "__WNOTHREAD"), (0x40000000, "__WALL"), (0x80000000, "__WCLONE")]
FCNTL = {0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK", 6: "F_SETLK",
         7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX",
         16: "F_GETOWN_EX", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW", 1024: "F_SETLEASE",
         1025: "F_GETLEASE", 1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ",
         1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS"}
IOCTL = {0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF", 0x5409: "TCSBRK",
         0x540A: "TCXONC", 0x540B: "TCFLSH", 0x540E: "TIOCSCTTY", 0x540F: "TIOCGPGRP", 0x5410: "TIOCSPGRP",
         0x5411: "TIOCOUTQ", 0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ", 0x541B: "FIONREAD",
         0x5421: "FIONBIO", 0x5422: "TIOCNOTTY", 0x5429: "TIOCGSID", 0x5450: "FIONCLEX", 0x5451: "FIOCLEX",
         0x5452: "FIOASYNC", 0x80045430: "TIOCGPTN", 0x40045431: "TIOCSPTLCK", 0x5441: "TIOCGPTPEER",
         0x802C542A: "TCGETS2", 0x402C542B: "TCSETS2", 0x402C542C: "TCSETSW2", 0x402C542D: "TCSETSF2"}
CLOCKS = {0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
          3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW", 5: "CLOCK_REALTIME_COARSE",
          6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME", 8: "CLOCK_REALTIME_ALARM",
          9: "CLOCK_BOOTTIME_ALARM", 11: "CLOCK_TAI"}
RLIMITS = {0: "RLIMIT_CPU", 1: "RLIMIT_FSIZE", 2: "RLIMIT_DATA", 3: "RLIMIT_STACK", 4: "RLIMIT_CORE",
           5: "RLIMIT_RSS", 6: "RLIMIT_NPROC", 7: "RLIMIT_NOFILE", 8: "RLIMIT_MEMLOCK", 9: "RLIMIT_AS",
           10: "RLIMIT_LOCKS", 11: "RLIMIT_SIGPENDING", 12: "RLIMIT_MSGQUEUE", 13: "RLIMIT_NICE",
           14: "RLIMIT_RTPRIO", 15: "RLIMIT_RTTIME"}
FUTEX = {0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 2: "FUTEX_FD", 3: "FUTEX_REQUEUE", 4: "FUTEX_CMP_REQUEUE",
         5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI", 8: "FUTEX_TRYLOCK_PI",
         9: "FUTEX_WAIT_BITSET", 10: "FUTEX_WAKE_BITSET", 11: "FUTEX_WAIT_REQUEUE_PI",
         12: "FUTEX_CMP_REQUEUE_PI", 13: "FUTEX_LOCK_PI2"}
MADVISE = {0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED", 4: "MADV_DONTNEED",
           8: "MADV_FREE", 9: "MADV_REMOVE", 10: "MADV_DONTFORK", 11: "MADV_DOFORK", 14: "MADV_HUGEPAGE",
           15: "MADV_NOHUGEPAGE"}
WHENCE = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}
HOW = {0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"}


def open_flags(p: LinuxProcess, v: int) -> str:
    g = p.fs.flags.guest
    acc = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR"}.get(v & 3, "O_ACCMODE")
    table = [(g[n], n.lstrip("_")) for n in g if n not in ("O_WRONLY", "O_RDWR")]
    rest = _flags(v & ~3, table, "")
    return acc + ("|" + rest if rest else "")


def _quote(data: bytes, limit: int | None) -> str:
    shown = data if limit is None else data[:limit]
    out = []
    for i, c in enumerate(shown):
        ch = chr(c)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif 32 <= c < 127:
            out.append(ch)
        else:
            nxt = shown[i + 1] if i + 1 < len(shown) else 0
            out.append(f"\\{c:03o}" if 0x30 <= nxt <= 0x37 else f"\\{c:o}")
    return '"' + "".join(out) + '"' + ("..." if limit is not None and len(data) > limit else "")


def _table(table: dict[int, str], v: int) -> str:
    return table.get(v, hex(v) if v > 9 else str(v))


def format_arg(p: LinuxProcess, kind: str, v: int, nxt: int, result: int | None) -> str:
    mem = p.memory
    try:
        if kind == "d":
            return str(signed(v))
        if kind == "u":
            return str(v)
        if kind == "f":
            fd = signed(v, 32)
            return "AT_FDCWD" if fd == -100 else str(fd)
        if kind == "o":
            return "0" + format(v, "o") if v else "0"
        if kind in "sp":
            if v == 0:
                return "NULL"
            return _quote(mem.read_cstr(v, 4096), None)
        if kind in "bB":
            n = nxt if kind == "b" else (result if result is not None else -1)
            if v == 0:
                return "NULL"
            if n < 0:
                return hex(v)
            return _quote(mem.read(v, min(n, STRING_LIMIT + 1)), STRING_LIMIT)
        if kind == "a":
            if v == 0:
                return "NULL"
            items, i = [], 0
            while i < 64:
                ptr = int.from_bytes(mem.read(v + 8 * i, 8), "little")
                if not ptr:
                    break
                items.append(_quote(mem.read_cstr(ptr, 1 << 16), STRING_LIMIT))
                i += 1
            return "[" + ", ".join(items) + ("..." if i == 64 else "") + "]"
        if kind == "e":
            if v == 0:
                return "NULL"
            n = 0
            while int.from_bytes(mem.read(v + 8 * n, 8), "little"):
                n += 1
            return f"{v:#x} /* {n} var{'s' if n != 1 else ''} */"
    except GuestFault:
        return hex(v)
    if kind == "O":
        return open_flags(p, v)
    if kind == "G":
        return open_flags(p, v).partition("|")[2] or "0"
    if kind == "x":
        return hex(v) if v else "NULL"
    if kind == "P":
        return _flags(v, PROT, "PROT_NONE")
    if kind == "M":
        kind_of = {1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}.get(v & 3, hex(v & 3))
        rest = _flags(v & ~3, MAP, "")
        return kind_of + ("|" + rest if rest else "")
    if kind == "C":
        sig = v & 0xFF
        rest = _flags(v & ~0xFF, CLONE, "")
        parts = [rest] if rest else []
        if sig:
            parts.append(signal_name(sig))
        return "|".join(parts) or "0"
    if kind == "A":
        return _flags(v, AT)
    if kind == "W":
        return _flags(v, WAIT)
    if kind == "F":
        return _table(FCNTL, v)
    if kind == "S":
        return signal_name(signed(v, 32)) if v else "0"
    if kind == "I":
        return IOCTL.get(v & 0xFFFFFFFF, hex(v))
    if kind == "k":
        return _table(CLOCKS, signed(v, 32))
    if kind == "R":
        return _table(RLIMITS, v)
    if kind == "X":
        name = FUTEX.get(v & 127, hex(v & 127))
        return name + ("_PRIVATE" if v & 128 else "") + ("|FUTEX_CLOCK_REALTIME" if v & 256 else "")
    if kind == "m":
        return _table(MADVISE, v)
    if kind == "h":
        return _table(WHENCE, v)
    if kind == "t":
        return _flags(v, [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], "F_OK")
    if kind == "H":
        return _table(HOW, v)
    return hex(v) if v else "0"


def format_result(kind: str, result: int | None) -> str:
    if result is None:
        return "?"
    if -4096 < result < 0:
        err = -result
        return f"-1 {errno.errorcode.get(err, f'E{err}')} ({os.strerror(err)})"
    if kind == "x":
        return hex(result & (2**64 - 1))
    if kind == "o":
        return "0" + format(result, "o") if result else "0"
    return str(result)


def _open_args(p: LinuxProcess, flags: int, sig: str) -> str:
    """open's mode argument only means something with O_CREAT or O_TMPFILE: strace leaves it out."""
    g = p.fs.flags.guest
    return sig if flags & (g["O_CREAT"] | g["__O_TMPFILE"]) else sig[:-1]


def line(p: LinuxProcess, name: str, args: list[int], result: int | None) -> str:
    """The --strace line (without the newline) for one call."""
    sig = SIGNATURES.get(name, "")
    sig, _, res_kind = sig.partition("=")
    if name in ("openat", "open"):
        sig = _open_args(p, args[sig.index("O")], sig)
    shown = [format_arg(p, kind, args[i], args[i + 1] if i + 1 < len(args) else 0, result)
             for i, kind in enumerate(sig)]
    return f"{os.getpid()} {name}({', '.join(shown)}) = {format_result(res_kind, result)}"

"""Processes as a shell uses them: clone (fork, vfork), execve, wait, identity, groups, limits, usage.

A guest process is a host process: fork is the host's fork (the child keeps running the guest under
dbt, with a copy of guest memory), execve starts a new dbt for the new program in the same host process
(same pid, same fds minus O_CLOEXEC ones, same signal mask and ignored signals), and wait4 waits for
host children, whose exit statuses are the guests' because dbt exits (or dies by a signal) the way its
guest did. Threads (clone with CLONE_VM but not CLONE_VFORK) are not supported yet.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import stat
import struct
import sys

from ...exits import GuestFault
from .. import elf
from ..fs import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, libc
from . import cstr, fail, get, id_arg, put, signed, strv, syscall
from .signals import pack_siginfo

CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_PIDFD = 0x100, 0x200, 0x400, 0x800, 0x1000
CLONE_PTRACE, CLONE_VFORK, CLONE_PARENT, CLONE_THREAD = 0x2000, 0x4000, 0x8000, 0x10000
CLONE_SYSVSEM, CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID = 0x40000, 0x80000, 0x100000, 0x200000
CLONE_DETACHED, CLONE_UNTRACED, CLONE_CHILD_SETTID, CLONE_IO = 0x400000, 0x800000, 0x1000000, 0x80000000
CLONE_NAMESPACES = 0x20000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
SIGCHLD = 17

# execve starts `python -I -c BOOT run OPTIONS -- PROGRAM ARGS...` in this dbt's host environment (the
# guest's argv and envp travel exactly, as bytes, in the exec state: see dbt.linux.process.EXEC_STATE_ENV);
# BOOT restores this Python's import path (as it was at start-up, before the guest could change the cwd),
# so dbt is found wherever the guest is, and -I keeps PYTHON* variables from changing it.
_SYS_PATH = [os.path.abspath(p) for p in sys.path]
BOOT = f"import sys; sys.path[:0] = {_SYS_PATH!r}; from dbt.cli import main; main()"
MAX_INTERPRETER_DEPTH = 4  # nested #! scripts, as Linux allows


# -- clone ------------------------------------------------------------------------------------------------
@syscall("clone", "Cxxxx")
def sys_clone(p, *args):
    a = dict(zip(p.abi.clone_args, args))
    return do_clone(p, a["flags"] & 0xFFFFFFFF, a.get("stack", 0), a.get("parent_tid", 0),
                    a.get("child_tid", 0), a.get("tls", 0))


@syscall("fork")
def sys_fork(p, *_):  # x86-64
    return do_clone(p, SIGCHLD, 0, 0, 0, 0)


@syscall("vfork")
def sys_vfork(p, *_):  # x86-64
    return do_clone(p, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0)


def do_clone(p, flags: int, child_stack: int, parent_tid: int, child_tid: int, tls: int) -> int:
    vfork = flags & CLONE_VFORK and flags & CLONE_VM
    if flags & CLONE_VM and not flags & CLONE_VFORK or flags & (CLONE_THREAD | CLONE_SIGHAND):
        p.note("threads", "clone() of a thread (CLONE_VM without CLONE_VFORK) is not supported yet: "
               "returning -ENOSYS")
        return -errno.ENOSYS
    if flags & (CLONE_NAMESPACES | CLONE_PARENT):
        p.note("clone namespaces", f"clone() flags {flags:#x} (namespaces, CLONE_PARENT) are not supported: "
               "returning -ENOSYS")
        return -errno.ENOSYS
    if flags & CLONE_PIDFD and flags & CLONE_PARENT_SETTID:
        return -errno.EINVAL
    # CLONE_FS, CLONE_FILES, CLONE_SYSVSEM, CLONE_IO: the child gets copies instead of shared ones, which
    # is what a vfork child that only calls execve or _exit can tell apart from sharing.
    if vfork:
        r, w = os.pipe()  # close-on-exec: the child's execve or exit closes w and releases the parent
    p.flush_output()
    pid = os.fork()
    if pid == 0:
        p.forked = True
        if p.vfork_fd is not None:  # a parent of ours waits for *our* exec, not for our children's
            p.release_fd(p.vfork_fd)
            p.vfork_fd = None
        if vfork:
            os.close(r)
            p.vfork_fd = p.reserve_fd(w)
        me = os.getpid()
        if child_stack:
            p.state[p.abi.sp_reg] = child_stack
        if flags & CLONE_SETTLS and p.abi.tls_reg:
            p.state[p.abi.tls_reg] = tls
        if flags & CLONE_CHILD_SETTID:
            put(p, child_tid, "I", me)
        if flags & CLONE_PARENT_SETTID:
            put(p, parent_tid, "I", me)
        if flags & CLONE_CHILD_CLEARTID:
            p.clear_child_tid = child_tid
        return 0
    if flags & CLONE_PARENT_SETTID:
        put(p, parent_tid, "I", pid)
    if flags & CLONE_PIDFD:
        put(p, parent_tid, "i", os.pidfd_open(pid))
    if vfork:
        os.close(w)
        while True:  # like Linux, the vfork parent sleeps until the child execs or exits
            try:
                if not os.read(r, 1):
                    break
            except InterruptedError:
                continue
        os.close(r)
    return pid


# -- execve ----------------------------------------------------------------------------------------------
@syscall("execve", "pae")
def sys_execve(p, path, argv, envp, *_):
    return do_execve(p, AT_FDCWD, cstr(p, path), strv(p, argv), strv(p, envp), 0, "execve", [path, argv, envp])


@syscall("execveat", "fpaeA")
def sys_execveat(p, dirfd, path, argv, envp, flags, *_):
    fd = signed(dirfd, 32)
    if fd != AT_FDCWD:
        fd = p.fd(dirfd)
    return do_execve(p, fd, cstr(p, path), strv(p, argv), strv(p, envp), flags & 0xFFFFFFFF, "execveat",
                     [dirfd, path, argv, envp, flags])


def do_execve(p, dirfd: int, path: bytes, argv: list[bytes], envp: list[bytes], flags: int, name: str,
              raw_args: list[int]) -> int:
    if flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW):
        return -errno.EINVAL
    if not path and flags & AT_EMPTY_PATH:
        if dirfd == AT_FDCWD:
            return -errno.ENOENT
        host = os.fsdecode(os.readlink(b"/proc/self/fd/%d" % dirfd))
        if p.fs.root is not None and p.fs.guest_of_host(os.fsencode(host)) is None:
            return -errno.EACCES
        fd = os.open(b"/proc/self/fd/%d" % dirfd, os.O_RDONLY | os.O_CLOEXEC)
        filename = b"/dev/fd/%d" % dirfd
    else:
        host, fd = p.fs.exec_open(dirfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW)
        filename = path
    program, argv = find_program(p, host, fd, filename, argv)
    from ..process import EXEC_STATE_ENV
    cmd = [os.fsencode(sys.executable), b"-I", b"-c", BOOT.encode(), b"run",
           *[os.fsencode(o) for o in p.exec_options], b"--", os.fsencode(program), *argv[1:]]
    if p.strace:
        p._strace(name, raw_args, 0)
    p.flush_output()
    state = p.exec_state(argv, envp, path)
    p.persist()
    env = {**os.environb, EXEC_STATE_ENV.encode(): str(state).encode()}
    try:
        os.execve(sys.executable, cmd, env)
    finally:
        os.close(state)
    raise AssertionError("unreachable")  # os.execve raises OSError on failure


def find_program(p, host: str, fd: int, filename: bytes, argv: list[bytes]) -> tuple[str, list[bytes]]:
    """The guest ELF to run for an execve of `host` (open as fd, which this closes) and its argv,
    following #! interpreters."""
    try:
        for _ in range(MAX_INTERPRETER_DEPTH + 1):
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not os.access(f"/proc/self/fd/{fd}", os.X_OK, effective_ids=True):
                raise fail(errno.EACCES)
            head = os.pread(fd, 256, 0)
            if head[:2] == b"#!":
                text = head[2:].split(b"\n", 1)[0].replace(b"\t", b" ").strip(b" ")
                if not text or (b"\n" not in head and len(head) == 256 and b" " not in text):
                    raise fail(errno.ENOEXEC)
                interp, _, arg = text.partition(b" ")
                arg = arg.strip(b" ")
                argv = [interp, *([arg] if arg else []), filename, *argv[1:]]
                filename = interp
                os.close(fd)
                fd = -1
                host, fd = p.fs.exec_open(AT_FDCWD, interp, True)
                continue
            if head[:4] != b"\x7fELF":
                raise fail(errno.ENOEXEC)
            check_elf(p, host, os.pread(fd, min(st.st_size, 1 << 20), 0))
            return host, argv
        raise fail(errno.ELOOP)
    finally:
        if fd >= 0:
            os.close(fd)


def check_elf(p, host: str, data: bytes) -> None:
    """ENOEXEC (with a note) for an ELF dbt cannot run, so the caller of execve gets the error."""
    from ... import frontend as frontends
    try:
        hdr = elf.read_header(data, host)
    except elf.ElfError as e:
        p.note(f"exec {host}", f"execve: {e}: returning -ENOEXEC")
        raise fail(errno.ENOEXEC) from None
    fe = frontends.for_elf_machine(hdr.machine)
    if fe is None:
        machine = elf.MACHINE_NAMES.get(hdr.machine, f"machine {hdr.machine}")
        p.note(f"exec {host}", f"execve: {host} is built for {machine}, which dbt has no frontend for: "
               f"returning -ENOEXEC")
        raise fail(errno.ENOEXEC)
    try:
        interp = elf.interpreter(data, elf.segments(data, hdr))
    except struct.error:
        interp = None
    if interp is not None:
        p.note(f"exec {host}", f"execve: {host} is dynamically linked ({interp}); dbt runs static programs: "
               f"returning -ENOEXEC")
        raise fail(errno.ENOEXEC)


# -- waiting -----------------------------------------------------------------------------------------------
WNOHANG, WUNTRACED, WEXITED, WCONTINUED, WNOWAIT = 1, 2, 4, 8, 0x01000000
W_EXTRA = 0x20000000 | 0x40000000 | 0x80000000  # __WNOTHREAD, __WALL, __WCLONE


def pack_rusage(ru) -> bytes:
    """struct rusage (two timevals and 14 longs) from a resource.struct_rusage."""
    def tv(t: float) -> tuple[int, int]:
        sec = int(t)
        return sec, int(round((t - sec) * 1e6))
    return struct.pack("<qqqq14q", *tv(ru.ru_utime), *tv(ru.ru_stime), ru.ru_maxrss, ru.ru_ixrss, ru.ru_idrss,
                       ru.ru_isrss, ru.ru_minflt, ru.ru_majflt, ru.ru_nswap, ru.ru_inblock, ru.ru_oublock,
                       ru.ru_msgsnd, ru.ru_msgrcv, ru.ru_nsignals, ru.ru_nvcsw, ru.ru_nivcsw)


@syscall("wait4", "dxWx")
def sys_wait4(p, pid, status_ptr, options, rusage_ptr, *_):
    pid, options = signed(pid, 32), options & 0xFFFFFFFF
    if options & ~(WNOHANG | WUNTRACED | WCONTINUED | W_EXTRA):
        return -errno.EINVAL
    if pid == -(2**31):
        return -errno.ESRCH
    with p.blocking():
        rpid, status, ru = os.wait4(pid, options)
    if rpid and status_ptr:
        put(p, status_ptr, "i", status)
    if rusage_ptr:
        p.memory.write(rusage_ptr, pack_rusage(ru))
    return rpid


P_ALL, P_PID, P_PGID, P_PIDFD = 0, 1, 2, 3


@syscall("waitid", "ddxWx")
def sys_waitid(p, idtype, ident, infop, options, rusage_ptr, *_):
    idtype, ident, options = idtype & 0xFFFFFFFF, signed(ident, 32), options & 0xFFFFFFFF
    if options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | W_EXTRA) or \
            not options & (WEXITED | WUNTRACED | WCONTINUED) or idtype > P_PIDFD:
        return -errno.EINVAL
    with p.blocking():
        res = os.waitid(idtype, ident, options)
    if infop:
        p.memory.write(infop, bytes(128) if res is None else pack_siginfo(res))
    if rusage_ptr:
        # os.waitid does not report the child's usage; zeros rather than someone else's numbers
        p.memory.write(rusage_ptr, bytes(144))
    return 0


# -- identity ----------------------------------------------------------------------------------------------
@syscall("getpid")
def sys_getpid(p, *_):
    return os.getpid()


@syscall("gettid")
def sys_gettid(p, *_):
    return os.getpid()  # one thread per process: its tid is the pid


@syscall("getppid")
def sys_getppid(p, *_):
    return os.getppid()


@syscall("getuid")
def sys_getuid(p, *_):
    return os.getuid()


@syscall("geteuid")
def sys_geteuid(p, *_):
    return os.geteuid()


@syscall("getgid")
def sys_getgid(p, *_):
    return os.getgid()


@syscall("getegid")
def sys_getegid(p, *_):
    return os.getegid()


@syscall("getresuid", "xxx")
def sys_getresuid(p, r, e, s, *_):
    for addr, v in zip((r, e, s), os.getresuid()):
        put(p, addr, "I", v)
    return 0


@syscall("getresgid", "xxx")
def sys_getresgid(p, r, e, s, *_):
    for addr, v in zip((r, e, s), os.getresgid()):
        put(p, addr, "I", v)
    return 0


@syscall("setuid", "d")
def sys_setuid(p, uid, *_):
    os.setuid(uid & 0xFFFFFFFF)
    return 0


@syscall("setgid", "d")
def sys_setgid(p, gid, *_):
    os.setgid(gid & 0xFFFFFFFF)
    return 0


@syscall("setreuid", "dd")
def sys_setreuid(p, r, e, *_):
    os.setreuid(id_arg(r), id_arg(e))
    return 0


@syscall("setregid", "dd")
def sys_setregid(p, r, e, *_):
    os.setregid(id_arg(r), id_arg(e))
    return 0


@syscall("setresuid", "ddd")
def sys_setresuid(p, r, e, s, *_):
    os.setresuid(id_arg(r), id_arg(e), id_arg(s))
    return 0


@syscall("setresgid", "ddd")
def sys_setresgid(p, r, e, s, *_):
    os.setresgid(id_arg(r), id_arg(e), id_arg(s))
    return 0


@syscall("setfsuid", "d")
def sys_setfsuid(p, uid, *_):
    return libc.setfsuid(ctypes.c_uint(uid & 0xFFFFFFFF))  # returns the previous fsuid, never fails


@syscall("setfsgid", "d")
def sys_setfsgid(p, gid, *_):
    return libc.setfsgid(ctypes.c_uint(gid & 0xFFFFFFFF))


@syscall("getgroups", "dx")
def sys_getgroups(p, size, lst, *_):
    size = signed(size, 32)
    groups = os.getgroups()
    if size < 0:
        return -errno.EINVAL
    if size == 0:
        return len(groups)
    if size < len(groups):
        return -errno.EINVAL
    p.memory.write(lst, struct.pack(f"<{len(groups)}I", *groups))
    return len(groups)


@syscall("setgroups", "dx")
def sys_setgroups(p, size, lst, *_):
    size = signed(size, 32)
    if size < 0 or size > 65536:
        return -errno.EINVAL
    os.setgroups(list(get(p, lst, f"{size}I")) if size else [])
    return 0


# -- process groups and sessions --------------------------------------------------------------------------------
@syscall("setpgid", "dd")
def sys_setpgid(p, pid, pgid, *_):
    os.setpgid(signed(pid, 32), signed(pgid, 32))
    return 0


@syscall("getpgid", "d")
def sys_getpgid(p, pid, *_):
    return os.getpgid(signed(pid, 32))


@syscall("getpgrp")
def sys_getpgrp(p, *_):  # x86-64
    return os.getpgrp()


@syscall("setsid")
def sys_setsid(p, *_):
    os.setsid()
    return os.getsid(0)


@syscall("getsid", "d")
def sys_getsid(p, pid, *_):
    return os.getsid(signed(pid, 32))


# -- resource limits and usage ----------------------------------------------------------------------------------
RLIM_INFINITY = 2**64 - 1
RLIMIT_STACK, RLIMIT_DATA, RLIMIT_AS = 3, 2, 9
# Limits that would constrain dbt's own (4 GiB-reserving) Python rather than the guest: kept for the guest only.
VIRTUAL_RLIMITS = {RLIMIT_STACK, RLIMIT_DATA, RLIMIT_AS}
NLIMITS = 16


def _from_host(v: int) -> int:
    return RLIM_INFINITY if v == resource.RLIM_INFINITY or v < 0 else v


def _to_host(v: int) -> int:
    return resource.RLIM_INFINITY if v == RLIM_INFINITY else v


def get_rlimit(p, res: int) -> tuple[int, int]:
    if res in p.rlimits:
        return p.rlimits[res]
    soft, hard = resource.getrlimit(res)
    return _from_host(soft), _from_host(hard)


def set_rlimit(p, res: int, soft: int, hard: int) -> None:
    if soft > hard:
        raise fail(errno.EINVAL)
    if res in VIRTUAL_RLIMITS:
        _, old_hard = get_rlimit(p, res)
        if hard > old_hard and os.geteuid() != 0:
            raise fail(errno.EPERM)
        p.rlimits[res] = (soft, hard)
        return
    resource.setrlimit(res, (_to_host(soft), _to_host(hard)))


@syscall("prlimit64", "dRxx")
def sys_prlimit64(p, pid, res, new, old, *_):
    pid, res = signed(pid, 32), res & 0xFFFFFFFF
    if res >= NLIMITS:
        return -errno.EINVAL
    new_limits = get(p, new, "QQ") if new else None
    if pid not in (0, os.getpid()):
        old_soft, old_hard = resource.prlimit(pid, res, tuple(map(_to_host, new_limits))) if new_limits \
            else resource.prlimit(pid, res)
        if old:
            put(p, old, "QQ", _from_host(old_soft), _from_host(old_hard))
        return 0
    before = get_rlimit(p, res)
    if new_limits:
        set_rlimit(p, res, *new_limits)
    if old:
        put(p, old, "QQ", *before)
    return 0


@syscall("getrlimit", "Rx")
def sys_getrlimit(p, res, rlim, *_):
    res &= 0xFFFFFFFF
    if res >= NLIMITS:
        return -errno.EINVAL
    put(p, rlim, "QQ", *get_rlimit(p, res))
    return 0


@syscall("setrlimit", "Rx")
def sys_setrlimit(p, res, rlim, *_):
    res &= 0xFFFFFFFF
    if res >= NLIMITS:
        return -errno.EINVAL
    set_rlimit(p, res, *get(p, rlim, "QQ"))
    return 0


RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD = 0, -1, 1


@syscall("getrusage", "dx")
def sys_getrusage(p, who, usage, *_):
    who = signed(who, 32)
    if who not in (RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD):
        return -errno.EINVAL
    ru = resource.getrusage(resource.RUSAGE_CHILDREN if who == RUSAGE_CHILDREN else resource.RUSAGE_SELF)
    p.memory.write(usage, pack_rusage(ru))
    return 0


@syscall("times", "x")
def sys_times(p, buf, *_):
    t = os.times()
    hz = os.sysconf("SC_CLK_TCK")
    if buf:
        put(p, buf, "qqqq", *(int(v * hz) for v in (t.user, t.system, t.children_user, t.children_system)))
    return int(t.elapsed * hz)


# -- prctl --------------------------------------------------------------------------------------------------
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE = 1, 2, 3, 4
PR_SET_NAME, PR_GET_NAME = 15, 16
PR_CAPBSET_READ, PR_GET_SECUREBITS, PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 23, 27, 29, 30
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 36, 37, 38, 39
_PRCTL_VALUE = {PR_SET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_CAPBSET_READ, PR_GET_SECUREBITS,
                PR_SET_TIMERSLACK, PR_GET_TIMERSLACK, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS,
                PR_GET_NO_NEW_PRIVS}
_PRCTL_INT_OUT = {PR_GET_PDEATHSIG, PR_GET_CHILD_SUBREAPER}


def _host_prctl(option: int, *args) -> int:
    r = libc.prctl(ctypes.c_int(option), *[a if not isinstance(a, int) else ctypes.c_ulong(a) for a in args])
    if r < 0:
        raise fail(ctypes.get_errno())
    return r


@syscall("prctl", "dyyyy")
def sys_prctl(p, option, a2, a3, a4, a5, *_):
    option = option & 0xFFFFFFFF
    if option == PR_SET_NAME:
        try:
            name = p.memory.read_cstr(a2, 16)[:15]
        except GuestFault as f:
            if f.addr < a2 + 16:
                raise
            name = p.memory.read(a2, 15)  # no NUL in 16 bytes: the first 15 (the kernel's TASK_COMM_LEN)
        p.comm = name
        _host_prctl(PR_SET_NAME, ctypes.c_char_p(name))
        return 0
    if option == PR_GET_NAME:
        p.memory.write(a2, p.comm.ljust(16, b"\0"))
        return 0
    if option in _PRCTL_VALUE:
        return _host_prctl(option, a2, a3, a4, a5)
    if option in _PRCTL_INT_OUT:
        out = ctypes.c_int(0)
        _host_prctl(option, ctypes.byref(out), 0, 0, 0)
        put(p, a2, "i", out.value)
        return 0
    return -errno.EINVAL

"""Guest paths to host files: passed through as qemu-user does, or confined to a root directory (--root).

Without a root, a guest path names the host file of the same name, except /proc/self/exe (and
/proc/<own pid>/exe), which names the guest program rather than the Python running dbt.

With a root, the guest sees DIR as "/": no path, `..`, absolute path or symbolic link (absolute or
relative, in any component) reaches outside it. Resolution uses the kernel's openat2(RESOLVE_IN_ROOT)
on the root directory, which clamps `..` and absolute symlink targets to the root atomically; where the
kernel lacks openat2, a userspace walker does the same one component at a time (it opens every
component with O_NOFOLLOW, splices symlink targets in itself and never takes `..` above the root).
Calls that work on a final component (mkdirat, unlinkat, renameat, symlinkat, linkat, readlinkat,
fstatat with AT_SYMLINK_NOFOLLOW, ...) resolve the parent directory that way and pass the host kernel
a directory fd plus a single name that contains no slash and is never "." or "..". Calls that follow the
final component resolve it completely to an O_PATH fd and name it as /proc/self/fd/N, a magic link the
kernel follows to exactly that inode.

Guest relative paths are made absolute from the guest's cwd (the host process's cwd, which is kept
inside the root) or from the directory a dirfd refers to, then resolved from the root, so `..` from a
subdirectory works as in a chroot. dbt holds no file descriptor of its own for this: the root directory
is opened for each resolution and closed again, so guest fd numbers stay exactly the host's.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
from typing import Iterator

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EACCESS = 0x100, 0x200, 0x400, 0x200
AT_NO_AUTOMOUNT, AT_EMPTY_PATH = 0x800, 0x1000
RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH, RESOLVE_IN_ROOT = 1, 2, 4, 8, 0x10
SYS_OPENAT2 = 437  # the same number on every architecture
MAX_SYMLINKS = 40

# Open flags as the asm-generic ABI (riscv64, x86-64, ...) numbers them; a frontend whose ISA differs
# (aarch64: O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE) lists its values in LinuxABI.open_flags.
GENERIC_OPEN_FLAGS = {
    "O_WRONLY": 0o1, "O_RDWR": 0o2, "O_CREAT": 0o100, "O_EXCL": 0o200, "O_NOCTTY": 0o400,
    "O_TRUNC": 0o1000, "O_APPEND": 0o2000, "O_NONBLOCK": 0o4000, "O_DSYNC": 0o10000,
    "O_ASYNC": 0o20000, "O_DIRECT": 0o40000, "O_LARGEFILE": 0o100000, "O_DIRECTORY": 0o200000,
    "O_NOFOLLOW": 0o400000, "O_NOATIME": 0o1000000, "O_CLOEXEC": 0o2000000, "__O_SYNC": 0o4000000,
    "O_PATH": 0o10000000, "__O_TMPFILE": 0o20000000,
}


_HOST_LARGEFILE = {"x86_64": 0o100000, "riscv64": 0o100000, "aarch64": 0o400000}


def _host_open_flags() -> dict[str, int]:
    out = {}
    for name in GENERIC_OPEN_FLAGS:
        if name == "__O_SYNC":
            value = os.O_SYNC & ~os.O_DSYNC
        elif name == "__O_TMPFILE":
            value = getattr(os, "O_TMPFILE", 0) & ~os.O_DIRECTORY
        elif name == "O_LARGEFILE":  # 0 in Python on 64-bit hosts, though F_GETFL reports the kernel's bit
            value = getattr(os, "O_LARGEFILE", 0) or _HOST_LARGEFILE.get(os.uname().machine, 0)
        else:
            value = getattr(os, name, 0)
        if value:
            out[name] = value
    return out


HOST_OPEN_FLAGS = _host_open_flags()


class OpenFlags:
    """Translation of O_* bits between one guest ABI and the host (identity for generic guests on x86-64)."""

    def __init__(self, overrides: dict[str, int] | None = None) -> None:
        guest = dict(GENERIC_OPEN_FLAGS, **(overrides or {}))
        self.guest = guest
        self.pairs = [(guest[n], HOST_OPEN_FLAGS[n]) for n in guest if n in HOST_OPEN_FLAGS]
        self.guest_known = 0
        for g, _ in self.pairs:
            self.guest_known |= g

    def to_host(self, flags: int) -> int:
        out = 0
        for g, h in self.pairs:
            if flags & g:
                out |= h
        return out

    def to_guest(self, flags: int) -> int:
        out = 0
        for g, h in self.pairs:
            if flags & h:
                out |= g
        return out


libc = ctypes.CDLL(None, use_errno=True)  # the host C library, for calls Python's os module lacks
libc.syscall.restype = ctypes.c_long


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def _oserror(err: int, path: bytes | str | None = None) -> OSError:
    return OSError(err, os.strerror(err), path)


def openat2(dirfd: int, path: bytes, flags: int, mode: int, resolve: int) -> int:
    """The openat2 system call; OSError on failure (ENOSYS where the kernel lacks it)."""
    how = _OpenHow(flags, mode if flags & (os.O_CREAT | getattr(os, "O_TMPFILE", 0)) else 0, resolve)
    for _ in range(16):  # EAGAIN: a concurrent rename raced the resolution; the kernel asks for a retry
        fd = libc.syscall(ctypes.c_long(SYS_OPENAT2), ctypes.c_long(dirfd), ctypes.c_char_p(path),
                           ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err != errno.EAGAIN:
            raise _oserror(err, path)
    raise _oserror(errno.EAGAIN, path)


def split_last(path: bytes) -> tuple[bytes, bytes, bool]:
    """(parent, last component, had a trailing slash) of a non-empty path."""
    trailing = path.endswith(b"/")
    stripped = path.rstrip(b"/")
    if not stripped:  # "/" or "///"
        return b"/", b".", trailing
    head, _, last = stripped.rpartition(b"/")
    if stripped.startswith(b"/") and not head.strip(b"/"):
        head = b"/"
    elif not head and b"/" not in stripped:
        head = b"."
    return head, last, trailing


class FileSystem:
    """The guest's view of the host file system (see the module docstring)."""

    def __init__(self, root: str | None = None, open_flags: OpenFlags | None = None) -> None:
        self.root = os.path.realpath(root) if root is not None else None
        self.root_b = os.fsencode(self.root) if self.root is not None else None
        self.flags = open_flags or OpenFlags()
        # DBT_NO_OPENAT2=1 forces the userspace resolver (for tests, and kernels whose openat2 misbehaves)
        self.use_openat2 = not os.environ.get("DBT_NO_OPENAT2")
        self.exe_host = ""   # host path of the guest program
        self.exe_guest = b""  # what /proc/self/exe shows the guest
        if self.root is not None and self.guest_of_host(os.fsencode(_getcwd())) is None:
            os.chdir(self.root)  # like chroot(1): a cwd outside the root would be a way out

    # -- the guest's names for host paths --------------------------------------------------------
    def guest_of_host(self, host: bytes) -> bytes | None:
        """The guest path of an absolute host path, or None if it lies outside the root."""
        if self.root_b is None:
            return host
        if self.root_b == b"/":
            return host
        if host == self.root_b:
            return b"/"
        if host.startswith(self.root_b + b"/"):
            return host[len(self.root_b):]
        return None

    def set_exe(self, host_path: str) -> None:
        self.exe_host = os.path.realpath(host_path)
        guest = self.guest_of_host(os.fsencode(self.exe_host))
        self.exe_guest = guest if guest is not None else os.fsencode(self.exe_host)

    def getcwd(self) -> bytes:
        host = os.fsencode(_getcwd())
        guest = self.guest_of_host(host)
        if guest is None:
            raise _oserror(errno.ENOENT)  # unreachable from inside the root, like Linux's "(unreachable)"
        return guest

    def fd_path(self, fd: int) -> bytes:
        """What readlink("/proc/self/fd/N") shows the guest."""
        host = os.readlink(b"/proc/self/fd/%d" % fd)
        guest = self.guest_of_host(host) if host.startswith(b"/") else host
        return guest if guest is not None else host

    # -- special names --------------------------------------------------------------------------------
    def _proc_self(self, path: bytes) -> bytes | None:
        """The rest of a /proc/self/... (or /proc/<own pid>/...) path, else None."""
        if not path.startswith(b"/proc/"):
            return None
        parts = [p for p in path.split(b"/") if p]
        if len(parts) < 2 or parts[0] != b"proc":
            return None
        if parts[1] not in (b"self", b"thread-self", str(os.getpid()).encode()):
            return None
        return b"/".join(parts[2:])

    def special(self, path: bytes) -> tuple[str, bytes] | None:
        """("exe"|"fd"|"cwd"|"host", ...) for /proc/self names handled outside normal resolution."""
        rest = self._proc_self(path)
        if rest is None:
            return None
        if rest == b"exe":
            return ("exe", os.fsencode(self.exe_host))
        if self.root is None:
            return None
        # Under a root only these /proc/self names reach the host: each names something the guest holds.
        if rest == b"fd" or (rest.startswith(b"fd/") and rest[3:].isdigit()):
            return ("host", b"/proc/self/" + rest)
        if rest == b"cwd":
            return ("cwd", b"/proc/self/cwd")
        return None

    # -- resolution ---------------------------------------------------------------------------------
    def _base(self, dirfd: int) -> bytes | None:
        """The guest path of a directory fd (of the cwd for AT_FDCWD), None if outside the root."""
        if dirfd == AT_FDCWD:
            return self.getcwd()
        dst = os.fstat(dirfd)  # EBADF for a bad fd
        if not stat.S_ISDIR(dst.st_mode):
            raise _oserror(errno.ENOTDIR)
        host = os.readlink(b"/proc/self/fd/%d" % dirfd)
        guest = self.guest_of_host(host) if host.startswith(b"/") else None
        if guest is None:
            return None
        try:
            if not os.path.samestat(os.stat(host), dst):
                return None  # deleted or replaced since: its name no longer leads to it
        except OSError:
            return None
        return guest

    def _open_in_root(self, dirfd: int, path: bytes, flags: int, mode: int) -> int:
        """Open a guest path under the root with host open flags."""
        if path.startswith(b"/"):
            full, anchor = path, None
        else:
            base = self._base(dirfd)
            if base is None:  # a directory outside the root (inherited): it serves as its own root
                full, anchor = path, dirfd
            else:
                full, anchor = base.rstrip(b"/") + b"/" + path, None
        if anchor is not None:
            return self._resolve(anchor, full, flags, mode)
        root = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return self._resolve(root, full, flags, mode)
        finally:
            os.close(root)

    def _resolve(self, root: int, path: bytes, flags: int, mode: int) -> int:
        if self.use_openat2:
            try:
                return openat2(root, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
            except OSError as e:
                if e.errno != errno.ENOSYS:
                    raise
                self.use_openat2 = False
        return walk(root, path, flags, mode)

    def open(self, dirfd: int, path: bytes, flags: int, mode: int = 0) -> int:
        """Open a guest path with host open flags; the fd is inheritable unless O_CLOEXEC is set."""
        if not path:
            raise _oserror(errno.ENOENT, path)
        sp = self.special(path)
        if sp is not None:
            kind, host = sp
            if kind == "exe" and flags & (os.O_CREAT | os.O_TRUNC | os.O_WRONLY | os.O_RDWR):
                raise _oserror(errno.ETXTBSY, path)
            return _host_open(host, flags, mode, None)
        if self.root is None:
            return _host_open(path, flags, mode, None if dirfd == AT_FDCWD else dirfd)
        return self._open_in_root(dirfd, path, flags, mode)

    def opath(self, dirfd: int, path: bytes, follow: bool = True, directory: bool = False) -> int:
        """An O_PATH fd (close-on-exec) for a guest path; the caller closes it."""
        flags = os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW) | (os.O_DIRECTORY if directory else 0)
        return self.open(dirfd, path, flags)

    @contextlib.contextmanager
    def at(self, dirfd: int, path: bytes, follow: bool) -> Iterator[tuple[int | None, bytes]]:
        """(dir_fd or None, name) that name the guest path for a host *at call.

        With follow=False the name is a single component (the host call must not follow it); with
        follow=True under a root it is /proc/self/fd/N of the fully resolved file."""
        if not path:
            raise _oserror(errno.ENOENT, path)
        sp = self.special(path)
        if sp is not None:
            yield None, sp[1]
            return
        if self.root is None:
            yield (None if dirfd == AT_FDCWD else dirfd), path
            return
        if follow:
            fd = self.opath(dirfd, path, True)
            try:
                yield None, b"/proc/self/fd/%d" % fd
            finally:
                os.close(fd)
            return
        parent, last, trailing = split_last(path)
        if trailing or last in (b".", b".."):
            # "name/" must be a directory and is followed; "." and ".." are the directories themselves
            fd = self.opath(dirfd, path, True, directory=True)
            try:
                yield fd, b"."
            finally:
                os.close(fd)
            return
        pfd = self.opath(dirfd, parent, True, directory=True)
        try:
            yield pfd, last
        finally:
            os.close(pfd)

    @contextlib.contextmanager
    def parent(self, dirfd: int, path: bytes, creating: bool = False) -> Iterator[tuple[int | None, bytes]]:
        """(dir_fd or None, name) for calls that create or remove a final component (mkdir, unlink...).

        Under a root the name loses its trailing slash (an existing non-directory with one is ENOTDIR,
        unless `creating`, where the host call reports EEXIST itself); "." and ".." become "." in the
        directory they name (the host call then fails the way Linux does), never above the root."""
        if not path:
            raise _oserror(errno.ENOENT, path)
        if self.root is None:
            yield (None if dirfd == AT_FDCWD else dirfd), path
            return
        parent, last, trailing = split_last(path)
        if last in (b".", b".."):
            fd = self.opath(dirfd, path, True, directory=True)
            try:
                yield fd, b"."
            finally:
                os.close(fd)
            return
        pfd = self.opath(dirfd, parent, True, directory=True)
        try:
            if trailing and not creating:
                try:
                    st = os.lstat(last, dir_fd=pfd)
                except FileNotFoundError:
                    pass
                else:
                    if not stat.S_ISDIR(st.st_mode):
                        raise _oserror(errno.ENOTDIR, path)
            yield pfd, last
        finally:
            os.close(pfd)

    def readlink(self, dirfd: int, path: bytes) -> bytes:
        sp = self.special(path)
        if sp is not None:
            kind, host = sp
            if kind == "exe":
                return self.exe_guest
            if kind == "cwd":
                return self.getcwd()
            rest = self._proc_self(path) or b""
            if rest.startswith(b"fd/"):
                return self.fd_path(int(rest[3:]))
            return os.readlink(host)
        if self.root is None:
            return os.readlink(path, dir_fd=None if dirfd == AT_FDCWD else dirfd)
        with self.at(dirfd, path, follow=False) as (dfd, name):
            if name == b".":
                raise _oserror(errno.EINVAL, path)
            return os.readlink(name, dir_fd=dfd)

    def chdir(self, path: bytes) -> None:
        if self.root is None and self.special(path) is None:
            os.chdir(path)
            return
        fd = self.opath(AT_FDCWD, path, True, directory=True)
        try:
            os.fchdir(fd)
        finally:
            os.close(fd)

    def fchdir(self, fd: int) -> None:
        if self.root is not None:
            host = os.readlink(b"/proc/self/fd/%d" % fd)
            if self.guest_of_host(host) is None:
                raise _oserror(errno.EACCES)  # the classic chroot escape: refuse it
        os.fchdir(fd)

    def exec_open(self, dirfd: int, path: bytes, follow: bool = True) -> tuple[str, int]:
        """A file the guest wants to execute: its host path and a read-only fd (close-on-exec) to
        check it through, so what is checked is what was resolved (inside the root)."""
        if not path:
            raise _oserror(errno.ENOENT, path)
        fd = self.open(dirfd, path, os.O_RDONLY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
        return os.fsdecode(os.readlink(b"/proc/self/fd/%d" % fd)), fd


def _getcwd() -> str:
    return os.getcwd()


def _host_open(path: bytes, flags: int, mode: int, dirfd: int | None) -> int:
    fd = os.open(path, flags, mode, dir_fd=dirfd)
    if not flags & os.O_CLOEXEC:
        os.set_inheritable(fd, True)  # Python opens everything close-on-exec; the guest asked otherwise
    return fd


def walk(root: int, path: bytes, flags: int, mode: int) -> int:
    """Userspace RESOLVE_IN_ROOT: open `path` as if `root` were "/", never leaving it.

    Every component is opened with O_PATH|O_NOFOLLOW relative to the directory before it; symlinks
    are read and spliced into the remaining path (absolute targets restart at root); `..` pops the
    stack of directories this walk opened and stays at root when there is nothing to pop."""
    comps = [c for c in path.split(b"/") if c]
    must_dir = path.endswith(b"/") or bool(flags & os.O_DIRECTORY)
    follow_last = not flags & os.O_NOFOLLOW
    stack: list[int] = []   # directories below root, innermost last (root itself is not owned)
    links = 0
    pending = comps[::-1]    # components still to walk, next one last
    try:
        while True:
            cur = stack[-1] if stack else root
            if not pending:   # the path ended at a directory (e.g. "/", "a/..")
                return _reopen_dir(cur, flags, mode, path)
            comp = pending.pop()
            if comp == b".":
                continue
            if comp == b"..":
                if stack:
                    os.close(stack.pop())
                continue
            last = not pending
            try:
                fd = os.open(comp, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
            except FileNotFoundError:
                if last and flags & os.O_CREAT:
                    return _host_open(comp, flags | os.O_NOFOLLOW, mode, cur)
                raise
            st = os.fstat(fd)
            if stat.S_ISLNK(st.st_mode) and (not last or follow_last or must_dir):
                os.close(fd)
                links += 1
                if links > MAX_SYMLINKS:
                    raise _oserror(errno.ELOOP, path)
                target = os.readlink(comp, dir_fd=cur)
                if target.startswith(b"/"):
                    while stack:
                        os.close(stack.pop())
                pending.extend([c for c in target.split(b"/") if c][::-1])
                continue
            if last:
                try:
                    if flags & os.O_CREAT and flags & os.O_EXCL:
                        raise _oserror(errno.EEXIST, path)
                    if must_dir and not stat.S_ISDIR(st.st_mode):
                        raise _oserror(errno.ENOTDIR, path)
                    if flags & os.O_PATH:
                        if not flags & os.O_CLOEXEC:
                            os.set_inheritable(fd, True)
                        fd, keep = -1, fd
                        return keep
                    # it is not a symlink (or the caller asked not to follow): open it by name, no following
                    return _host_open(comp, flags | os.O_NOFOLLOW, mode, cur)
                finally:
                    if fd >= 0:
                        os.close(fd)
            if not stat.S_ISDIR(st.st_mode):
                os.close(fd)
                raise _oserror(errno.ENOTDIR, path)
            stack.append(fd)
    finally:
        for fd in stack:
            os.close(fd)


def _reopen_dir(fd: int, flags: int, mode: int, path: bytes) -> int:
    if flags & os.O_CREAT and flags & os.O_EXCL:
        raise _oserror(errno.EEXIST, path)
    if flags & (os.O_WRONLY | os.O_RDWR):
        raise _oserror(errno.EISDIR, path)
    return _host_open(b".", flags & ~os.O_CREAT, mode, fd)

"""Paths: open, stat, directories, links, permissions, times, the cwd.

Every guest path goes through the process's FileSystem (dbt/linux/fs.py), which passes it to the host
unchanged or confines it to --root. Calls that act on a final component get a parent directory fd and
one name from it; calls that follow the final component get a name that is already resolved.
"""
from __future__ import annotations

import ctypes
import errno
import os
import stat as st_mod
import struct

from ..fs import AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, libc
from . import cstr, fail, get, id_arg, signed, syscall, writable_span
from .fileio import host_syscall

def dirfd_arg(p, raw: int) -> int:
    fd = signed(raw, 32)
    if fd != AT_FDCWD:
        fd = p.fd(raw)
    return fd


def path_arg(p, addr: int) -> bytes:
    return cstr(p, addr)


# -- open -----------------------------------------------------------------------------------------------
@syscall("openat", "fpOo")
def sys_openat(p, dirfd, path, flags, mode, *_):
    return _open(p, dirfd_arg(p, dirfd), path_arg(p, path), flags & 0xFFFFFFFF, mode & 0o7777)


def _open(p, dirfd: int, path: bytes, flags: int, mode: int) -> int:
    host = p.fs.flags.to_host(flags)
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if host & tmpfile == tmpfile and tmpfile and not host & (os.O_WRONLY | os.O_RDWR):
        return -errno.EINVAL
    return p.fs.open(dirfd, path, host, mode)


@syscall("openat2", "fpxd")
def sys_openat2(p, dirfd, path, how, size, *_):
    if size < 24:
        return -errno.EINVAL
    flags, mode, resolve = get(p, how, "QQQ")
    if resolve:
        return -errno.ENOSYS  # RESOLVE_* for the guest's own use: not yet (libcs do not depend on it)
    return _open(p, dirfd_arg(p, dirfd), path_arg(p, path), flags & 0xFFFFFFFF, mode & 0o7777)


@syscall("open", "pOo")
def sys_open(p, path, flags, mode, *_):  # x86-64
    return _open(p, AT_FDCWD, path_arg(p, path), flags & 0xFFFFFFFF, mode & 0o7777)


@syscall("creat", "po")
def sys_creat(p, path, mode, *_):  # x86-64
    g = p.fs.flags.guest
    return _open(p, AT_FDCWD, path_arg(p, path), g["O_CREAT"] | g["O_WRONLY"] | g["O_TRUNC"], mode & 0o7777)


# -- stat -------------------------------------------------------------------------------------------------
def _ts(ns: int) -> tuple[int, int]:
    return ns // 1_000_000_000, ns % 1_000_000_000


def pack_stat(layout: str, s: os.stat_result) -> bytes:
    """struct stat of the guest ABI: asm-generic (riscv64, aarch64) or x86-64."""
    a, m, c = _ts(s.st_atime_ns), _ts(s.st_mtime_ns), _ts(s.st_ctime_ns)
    if layout == "x86_64":
        return struct.pack("<QQQIIIiQqqqqQqQqQ24x", s.st_dev, s.st_ino, s.st_nlink, s.st_mode, s.st_uid,
                           s.st_gid, 0, s.st_rdev, s.st_size, s.st_blksize, s.st_blocks, *a, *m, *c)
    return struct.pack("<QQIIIIQQqiiqqQqQqQII", s.st_dev, s.st_ino, s.st_mode, min(s.st_nlink, 0xFFFFFFFF),
                       s.st_uid, s.st_gid, s.st_rdev, 0, s.st_size, s.st_blksize, 0, s.st_blocks,
                       *a, *m, *c, 0, 0)


def _stat_out(p, buf: int, s: os.stat_result) -> int:
    p.memory.write(buf, pack_stat(p.abi.stat_layout, s))
    return 0


def _check_out(p, buf: int, size: int) -> None:
    if writable_span(p, buf, size) < size:
        raise fail(errno.EFAULT)


@syscall("fstat", "fx")
def sys_fstat(p, fd, buf, *_):
    _check_out(p, buf, 128)
    return _stat_out(p, buf, os.fstat(p.fd(fd)))


def do_fstatat(p, dirfd: int, path: bytes, flags: int) -> os.stat_result:
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | 0x6000):
        raise fail(errno.EINVAL)
    if not path and flags & AT_EMPTY_PATH:
        return os.fstat(dirfd) if dirfd != AT_FDCWD else os.stat(".")
    follow = not flags & AT_SYMLINK_NOFOLLOW
    with p.fs.at(dirfd, path, follow) as (dfd, name):
        return os.stat(name, dir_fd=dfd, follow_symlinks=follow)


@syscall("newfstatat", "fpxA")
def sys_newfstatat(p, dirfd, path, buf, flags, *_):
    _check_out(p, buf, 128)
    s = do_fstatat(p, dirfd_arg(p, dirfd), path_arg(p, path), flags & 0xFFFFFFFF)
    return _stat_out(p, buf, s)


@syscall("stat", "px")
def sys_stat(p, path, buf, *_):  # x86-64
    return sys_newfstatat(p, AT_FDCWD, path, buf, 0)


@syscall("lstat", "px")
def sys_lstat(p, path, buf, *_):  # x86-64
    return sys_newfstatat(p, AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW)


@syscall("fstatat", "fpxA")  # the name some tables use for newfstatat
def sys_fstatat(p, dirfd, path, buf, flags, *_):
    return sys_newfstatat(p, dirfd, path, buf, flags)


STATX_SIZE = 256  # struct statx has the same layout on every architecture
_NR = {"x86_64": {"statx": 332, "getdents64": 217, "renameat2": 316, "faccessat2": 439},
       "aarch64": {"statx": 291, "getdents64": 61, "renameat2": 276, "faccessat2": 439},
       "riscv64": {"statx": 291, "getdents64": 61, "renameat2": 276, "faccessat2": 439}}
HOST_NR = _NR.get(os.uname().machine, _NR["x86_64"])


@syscall("statx", "fpAyx")
def sys_statx(p, dirfd, path, flags, mask, buf, *_):
    dirfd, flags, mask = dirfd_arg(p, dirfd), flags & 0xFFFFFFFF, mask & 0xFFFFFFFF
    path = path_arg(p, path) if path else b""
    _check_out(p, buf, STATX_SIZE)
    out = ctypes.create_string_buffer(STATX_SIZE)
    if not path and flags & AT_EMPTY_PATH:
        host_syscall(HOST_NR["statx"], dirfd, b"", flags, mask, out)
    else:
        follow = not flags & AT_SYMLINK_NOFOLLOW
        with p.fs.at(dirfd, path, follow) as (dfd, name):
            host_syscall(HOST_NR["statx"], AT_FDCWD if dfd is None else dfd, name, flags, mask, out)
    p.memory.write(buf, out.raw)
    return 0


# -- directories --------------------------------------------------------------------------------------
@syscall("getdents64", "fxd")
def sys_getdents64(p, fd, buf, count, *_):
    fd = p.fd(fd)
    count = min(count & 0xFFFFFFFF, 1 << 20)
    if count:
        _check_out(p, buf, count)
    out = ctypes.create_string_buffer(max(count, 1))
    # struct linux_dirent64 is the same everywhere: the host's records are the guest's
    n = host_syscall(HOST_NR["getdents64"], fd, out, count)
    p.memory.write(buf, out.raw[:n])
    return n


@syscall("mkdirat", "fpo")
def sys_mkdirat(p, dirfd, path, mode, *_):
    with p.fs.parent(dirfd_arg(p, dirfd), path_arg(p, path), creating=True) as (dfd, name):
        os.mkdir(name, mode & 0o7777, dir_fd=dfd)
    return 0


@syscall("mkdir", "po")
def sys_mkdir(p, path, mode, *_):  # x86-64
    return sys_mkdirat(p, AT_FDCWD, path, mode)


@syscall("mknodat", "fpoy")
def sys_mknodat(p, dirfd, path, mode, dev, *_):
    with p.fs.parent(dirfd_arg(p, dirfd), path_arg(p, path), creating=True) as (dfd, name):
        os.mknod(name, mode & 0xFFFFFFFF, dev & 0xFFFFFFFF, dir_fd=dfd)
    return 0


@syscall("unlinkat", "fpA")
def sys_unlinkat(p, dirfd, path, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~AT_REMOVEDIR:
        return -errno.EINVAL
    path = path_arg(p, path)
    with p.fs.parent(dirfd_arg(p, dirfd), path) as (dfd, name):
        if flags & AT_REMOVEDIR:
            if path.rstrip(b"/").rsplit(b"/", 1)[-1] == b"..":
                return -errno.ENOTEMPTY  # as Linux says for "..", which under a root is looked up as "."
            os.rmdir(name, dir_fd=dfd)
        else:
            os.unlink(name, dir_fd=dfd)
    return 0


@syscall("unlink", "p")
def sys_unlink(p, path, *_):  # x86-64
    return sys_unlinkat(p, AT_FDCWD, path, 0)


@syscall("rmdir", "p")
def sys_rmdir(p, path, *_):  # x86-64
    return sys_unlinkat(p, AT_FDCWD, path, AT_REMOVEDIR)


RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4


@syscall("renameat2", "fpfpy")
def sys_renameat2(p, olddirfd, oldpath, newdirfd, newpath, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~7:
        return -errno.EINVAL
    old, new = path_arg(p, oldpath), path_arg(p, newpath)
    with p.fs.parent(dirfd_arg(p, olddirfd), old) as (ofd, oname), \
            p.fs.parent(dirfd_arg(p, newdirfd), new, creating=True) as (nfd, nname):
        if flags:
            host_syscall(HOST_NR["renameat2"], AT_FDCWD if ofd is None else ofd, oname,
                         AT_FDCWD if nfd is None else nfd, nname, flags)
        else:
            os.rename(oname, nname, src_dir_fd=ofd, dst_dir_fd=nfd)
    return 0


@syscall("renameat", "fpfp")
def sys_renameat(p, olddirfd, oldpath, newdirfd, newpath, *_):
    return sys_renameat2(p, olddirfd, oldpath, newdirfd, newpath, 0)


@syscall("rename", "pp")
def sys_rename(p, oldpath, newpath, *_):  # x86-64
    return sys_renameat2(p, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


# -- links --------------------------------------------------------------------------------------------
@syscall("symlinkat", "pfp")
def sys_symlinkat(p, target, newdirfd, linkpath, *_):
    target = path_arg(p, target)  # stored as it is: it is resolved (inside the root) when used
    if not target:
        return -errno.ENOENT
    with p.fs.parent(dirfd_arg(p, newdirfd), path_arg(p, linkpath), creating=True) as (dfd, name):
        os.symlink(target, name, dir_fd=dfd)
    return 0


@syscall("symlink", "pp")
def sys_symlink(p, target, linkpath, *_):  # x86-64
    return sys_symlinkat(p, target, AT_FDCWD, linkpath)


@syscall("linkat", "fpfpA")
def sys_linkat(p, olddirfd, oldpath, newdirfd, newpath, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    odir, old = dirfd_arg(p, olddirfd), path_arg(p, oldpath)
    follow = bool(flags & AT_SYMLINK_FOLLOW)
    with p.fs.parent(dirfd_arg(p, newdirfd), path_arg(p, newpath), creating=True) as (nfd, nname):
        if not old and flags & AT_EMPTY_PATH:
            return _linkat(None, b"/proc/self/fd/%d" % odir, nfd, nname, AT_SYMLINK_FOLLOW)
        if follow:
            with p.fs.at(odir, old, True) as (ofd, oname):
                return _linkat(ofd, oname, nfd, nname, AT_SYMLINK_FOLLOW)
        with p.fs.parent(odir, old) as (ofd, oname):
            return _linkat(ofd, oname, nfd, nname, 0)


def _linkat(ofd: int | None, oname: bytes, nfd: int | None, nname: bytes, flags: int) -> int:
    # (os.link without dir fds calls link(), which never follows a symlink: call linkat itself)
    r = libc.linkat(ctypes.c_int(AT_FDCWD if ofd is None else ofd), ctypes.c_char_p(oname),
                     ctypes.c_int(AT_FDCWD if nfd is None else nfd), ctypes.c_char_p(nname), ctypes.c_int(flags))
    return -ctypes.get_errno() if r else 0


@syscall("link", "pp")
def sys_link(p, oldpath, newpath, *_):  # x86-64
    return sys_linkat(p, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


@syscall("readlinkat", "fpBd")
def sys_readlinkat(p, dirfd, path, buf, size, *_):
    size = signed(size, 32)
    if size <= 0:
        return -errno.EINVAL
    dirfd, path = dirfd_arg(p, dirfd), path_arg(p, path)
    if not path:  # the symlink an O_PATH|O_NOFOLLOW fd refers to
        out = ctypes.create_string_buffer(size)
        n = libc.readlinkat(ctypes.c_int(dirfd), b"", out, ctypes.c_size_t(size))
        if n < 0:
            return -ctypes.get_errno()
        target = out.raw[:n]
    else:
        target = p.fs.readlink(dirfd, path)
    data = target[:size]
    if data:
        _check_out(p, buf, len(data))
    p.memory.write(buf, data)
    return len(data)


@syscall("readlink", "pBd")
def sys_readlink(p, path, buf, size, *_):  # x86-64
    return sys_readlinkat(p, AT_FDCWD, path, buf, size)


# -- permissions, owners, times -------------------------------------------------------------------------
@syscall("faccessat2", "fptA")
def sys_faccessat2(p, dirfd, path, mode, flags, *_):
    mode, flags = mode & 0xFFFFFFFF, flags & 0xFFFFFFFF
    if mode & ~7 or flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    dirfd, path = dirfd_arg(p, dirfd), path_arg(p, path)
    if not path and flags & AT_EMPTY_PATH:
        name, dfd = b"/proc/self/fd/%d" % dirfd if dirfd != AT_FDCWD else b".", None
        return _faccess(dfd, name, mode, flags & AT_EACCESS)
    follow = not flags & AT_SYMLINK_NOFOLLOW
    with p.fs.at(dirfd, path, follow) as (dfd, name):
        return _faccess(dfd, name, mode, flags & ~AT_EMPTY_PATH)


def _faccess(dfd: int | None, name: bytes, mode: int, flags: int) -> int:
    r = libc.faccessat(ctypes.c_int(AT_FDCWD if dfd is None else dfd), ctypes.c_char_p(name),
                        ctypes.c_int(mode), ctypes.c_int(flags))
    return -ctypes.get_errno() if r else 0


@syscall("faccessat", "fpt")
def sys_faccessat(p, dirfd, path, mode, *_):
    return sys_faccessat2(p, dirfd, path, mode, 0)


@syscall("access", "pt")
def sys_access(p, path, mode, *_):  # x86-64
    return sys_faccessat2(p, AT_FDCWD, path, mode, 0)


@syscall("fchmod", "fo")
def sys_fchmod(p, fd, mode, *_):
    os.fchmod(p.fd(fd), mode & 0o7777)
    return 0


@syscall("fchmodat", "fpo")
def sys_fchmodat(p, dirfd, path, mode, *_):
    with p.fs.at(dirfd_arg(p, dirfd), path_arg(p, path), True) as (dfd, name):
        os.chmod(name, mode & 0o7777, dir_fd=dfd)
    return 0


@syscall("fchmodat2", "fpoA")
def sys_fchmodat2(p, dirfd, path, mode, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    dirfd, path = dirfd_arg(p, dirfd), path_arg(p, path)
    if not path and flags & AT_EMPTY_PATH:
        os.fchmod(dirfd, mode & 0o7777)
        return 0
    follow = not flags & AT_SYMLINK_NOFOLLOW
    with p.fs.at(dirfd, path, follow) as (dfd, name):
        if not follow and st_mod.S_ISLNK(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode):
            return -errno.EOPNOTSUPP
        os.chmod(name, mode & 0o7777, dir_fd=dfd)
    return 0


@syscall("chmod", "po")
def sys_chmod(p, path, mode, *_):  # x86-64
    return sys_fchmodat(p, AT_FDCWD, path, mode)


@syscall("fchown", "fdd")
def sys_fchown(p, fd, uid, gid, *_):
    os.fchown(p.fd(fd), id_arg(uid), id_arg(gid))
    return 0


@syscall("fchownat", "fpddA")
def sys_fchownat(p, dirfd, path, uid, gid, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    dirfd, path = dirfd_arg(p, dirfd), path_arg(p, path)
    if not path and flags & AT_EMPTY_PATH:
        os.fchown(dirfd, id_arg(uid), id_arg(gid)) if dirfd != AT_FDCWD else os.chown(".", id_arg(uid), id_arg(gid))
        return 0
    follow = not flags & AT_SYMLINK_NOFOLLOW
    with p.fs.at(dirfd, path, follow) as (dfd, name):
        os.chown(name, id_arg(uid), id_arg(gid), dir_fd=dfd, follow_symlinks=follow)
    return 0


@syscall("chown", "pdd")
def sys_chown(p, path, uid, gid, *_):  # x86-64
    return sys_fchownat(p, AT_FDCWD, path, uid, gid, 0)


@syscall("lchown", "pdd")
def sys_lchown(p, path, uid, gid, *_):  # x86-64
    return sys_fchownat(p, AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW)


UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2


@syscall("utimensat", "fpxA")
def sys_utimensat(p, dirfd, path, times, flags, *_):
    flags &= 0xFFFFFFFF
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        return -errno.EINVAL
    dirfd = dirfd_arg(p, dirfd)
    tbuf = None
    if times:
        raw = p.memory.read(times, 32)
        for sec, nsec in struct.iter_unpack("<qq", raw):
            if nsec not in (UTIME_NOW, UTIME_OMIT) and not 0 <= nsec < 1_000_000_000:
                return -errno.EINVAL
        tbuf = ctypes.create_string_buffer(raw, 32)
    if path == 0:  # futimens: the file dirfd refers to
        if dirfd == AT_FDCWD:
            return -errno.EFAULT
        return _utimensat(dirfd, None, tbuf, 0)
    path = path_arg(p, path)
    if not path and flags & AT_EMPTY_PATH:
        return _utimensat(dirfd, None, tbuf, 0)
    follow = not flags & AT_SYMLINK_NOFOLLOW
    with p.fs.at(dirfd, path, follow) as (dfd, name):
        return _utimensat(AT_FDCWD if dfd is None else dfd, name, tbuf, flags & AT_SYMLINK_NOFOLLOW)


def _utimensat(dfd: int, name: bytes | None, tbuf, flags: int) -> int:
    if name is None:
        r = libc.futimens(ctypes.c_int(dfd), tbuf)
    else:
        r = libc.utimensat(ctypes.c_int(dfd), ctypes.c_char_p(name), tbuf, ctypes.c_int(flags))
    return -ctypes.get_errno() if r else 0


# -- the working directory --------------------------------------------------------------------------------
@syscall("getcwd", "Bd")
def sys_getcwd(p, buf, size, *_):
    cwd = p.fs.getcwd() + b"\0"
    if size < len(cwd):
        return -errno.ERANGE
    p.memory.write(buf, cwd)
    return len(cwd)


@syscall("chdir", "p")
def sys_chdir(p, path, *_):
    path = path_arg(p, path)
    if not path:
        return -errno.ENOENT
    p.fs.chdir(path)
    return 0


@syscall("fchdir", "f")
def sys_fchdir(p, fd, *_):
    p.fs.fchdir(p.fd(fd))
    return 0


# -- sizes and file systems --------------------------------------------------------------------------------
@syscall("truncate", "pd")
def sys_truncate(p, path, length, *_):
    if signed(length) < 0:
        return -errno.EINVAL
    with p.fs.at(AT_FDCWD, path_arg(p, path), True) as (dfd, name):
        if dfd is not None:
            fd = os.open(name, os.O_WRONLY | os.O_CLOEXEC, dir_fd=dfd)
            try:
                os.ftruncate(fd, length)
            finally:
                os.close(fd)
        else:
            os.truncate(name, length)
    return 0


STATFS_SIZE = 120  # struct statfs: the same for the asm-generic 64-bit ABI and x86-64


@syscall("statfs", "px")
def sys_statfs(p, path, buf, *_):
    _check_out(p, buf, STATFS_SIZE)
    out = ctypes.create_string_buffer(STATFS_SIZE)
    with p.fs.at(AT_FDCWD, path_arg(p, path), True) as (dfd, name):
        if dfd is not None:
            fd = os.open(name, os.O_PATH | os.O_CLOEXEC, dir_fd=dfd)
            try:
                r = libc.fstatfs(ctypes.c_int(fd), out)
            finally:
                os.close(fd)
        else:
            r = libc.statfs(ctypes.c_char_p(name), out)
    if r:
        return -ctypes.get_errno()
    p.memory.write(buf, out.raw)
    return 0


@syscall("fstatfs", "fx")
def sys_fstatfs(p, fd, buf, *_):
    _check_out(p, buf, STATFS_SIZE)
    out = ctypes.create_string_buffer(STATFS_SIZE)
    if libc.fstatfs(ctypes.c_int(p.fd(fd)), out):
        return -ctypes.get_errno()
    p.memory.write(buf, out.raw)
    return 0


@syscall("umask", "o=o")
def sys_umask(p, mask, *_):
    return os.umask(mask & 0o777)


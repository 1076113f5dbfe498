"""Reference runs of guest binaries under qemu-user (the test oracle).

Plain functions, no pytest dependency (the repository root on sys.path):

    from tests.oracle import run_qemu
    r = run_qemu("samples/build/riscv64/hello", ["3"])
    r.stdout, r.stderr, r.status

Guest programs that execve() other guest binaries (samples/shell.c runs
itself again) need the kernel to hand foreign ELF files to qemu, i.e. a
binfmt_misc registration.  Hosts often have none, so when the guest ISA
differs from the host's, run_qemu starts qemu in a private user + mount
namespace with its own binfmt_misc instance (Linux >= 6.7) in which qemu is
registered for that ISA only; nothing outside the namespace changes.  Where
that is impossible, qemu runs as is and a guest execve() fails with ENOEXEC.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
import platform
import shutil
import subprocess
from typing import Mapping, Sequence

# ELF e_machine -> ISA name used by qemu-<isa> and samples/build.py
E_MACHINE = {243: "riscv64", 183: "aarch64", 62: "x86_64"}

# the environment guest programs see unless the caller passes one
DEFAULT_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C", "LC_ALL": "C", "TZ": "UTC"}


@dataclasses.dataclass(frozen=True)
class Result:
    """Outcome of one run; status is what a shell reports (exit code, or 128+signal)."""
    stdout: bytes
    stderr: bytes
    status: int


def elf_isa(binary: str | os.PathLike) -> str:
    """The ISA of a 64-bit little-endian ELF file, from its e_machine field."""
    with open(binary, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise ValueError(f"{binary}: not an ELF file")
    if head[4] != 2 or head[5] != 1:
        raise ValueError(f"{binary}: not a 64-bit little-endian ELF file")
    machine = int.from_bytes(head[18:20], "little")
    try:
        return E_MACHINE[machine]
    except KeyError:
        raise ValueError(f"{binary}: unsupported e_machine {machine}") from None


def qemu_path(isa: str) -> str:
    """Absolute path of qemu-<isa>; raises FileNotFoundError when it is not installed."""
    path = shutil.which(f"qemu-{isa}")
    if path is None:
        raise FileNotFoundError(f"qemu-{isa} not found on PATH")
    return path


def binfmt_rule(isa: str) -> str:
    """The binfmt_misc registration line that sends <isa> ELF executables to qemu."""
    machine = {v: k for k, v in E_MACHINE.items()}[isa]
    # ELF64, little endian, version 1, any OS/ABI; e_type 2 or 3 (EXEC or DYN)
    magic = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00" + machine.to_bytes(2, "little")
    mask = b"\xff" * 7 + b"\x00" + b"\xff" * 8 + b"\xfe\xff\xff\xff"
    esc = lambda b: "".join(f"\\x{c:02x}" for c in b)  # noqa: E731
    # Debian's qemu-user ships wrappers that keep the caller's argv[0] (flag P)
    wrapper = f"/usr/libexec/qemu-binfmt/{isa}-binfmt-P"
    interp, flags = (wrapper, "P") if os.access(wrapper, os.X_OK) else (qemu_path(isa), "")
    return f":dbt-qemu-{isa}:M::{esc(magic)}:{esc(mask)}:{interp}:{flags}"


def _enter_binfmt_namespace(rule: str) -> None:
    """In the forked child, before exec: a new user + mount namespace (uid and
    gid mapped to themselves) with a private binfmt_misc holding `rule`."""
    CLONE_NEWNS, CLONE_NEWUSER, MS_REC, MS_PRIVATE = 0x00020000, 0x10000000, 0x4000, 0x40000
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()

    def check(ret: int, what: str) -> None:
        if ret != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    mnt = b"/proc/sys/fs/binfmt_misc"
    check(libc.mount(b"binfmt_misc", mnt, b"binfmt_misc", 0, None), "mount binfmt_misc")
    with open(mnt + b"/register", "w") as f:
        f.write(rule)


@functools.lru_cache(maxsize=None)
def binfmt_available(isa: str) -> bool:
    """Whether run_qemu can give guests of this ISA a working execve() of guest binaries."""
    try:
        rule = binfmt_rule(isa)
        subprocess.run(["true"], check=True, preexec_fn=lambda: _enter_binfmt_namespace(rule))
        return True
    except (OSError, subprocess.SubprocessError):
        return False


def host_isa() -> str:
    """The host machine's ISA name (x86_64, aarch64, riscv64, ...)."""
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def run_qemu(binary: str | os.PathLike, args: Sequence[str] = (), stdin: bytes = b"",
             env: Mapping[str, str] | None = None, isa: str | None = None,
             cwd: str | os.PathLike | None = None, timeout: float | None = 60,
             binfmt: bool | None = None) -> Result:
    """Run `binary args...` under qemu-<isa>, feeding `stdin`, and capture the outcome.

    env is passed to the guest exactly (default DEFAULT_ENV, never os.environ);
    isa defaults to the ELF's e_machine; binfmt=None uses the private
    binfmt_misc namespace when the ISA is foreign and the kernel allows it.
    Raises subprocess.TimeoutExpired after `timeout` seconds.
    """
    isa = isa or elf_isa(binary)
    if binfmt is None:
        binfmt = isa != host_isa() and binfmt_available(isa)
    preexec = None
    if binfmt:
        rule = binfmt_rule(isa)
        preexec = lambda: _enter_binfmt_namespace(rule)  # noqa: E731
    proc = subprocess.run([qemu_path(isa), os.fspath(binary), *args], input=stdin,
                          capture_output=True, env=dict(DEFAULT_ENV if env is None else env),
                          cwd=cwd, timeout=timeout, preexec_fn=preexec)
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return Result(proc.stdout, proc.stderr, status)


def run_dbt(binary: str | os.PathLike, args: Sequence[str] = (), stdin: bytes = b"",
            env: Mapping[str, str] | None = None, tier: str = "interp", options: Sequence[str] = (),
            cwd: str | os.PathLike | None = None, timeout: float = 600) -> Result:
    """Run a guest binary under `dbt run --tier TIER` (same Result as run_qemu); the guest gets env
    exactly, as under run_qemu (this checkout's dbt is imported without touching the environment)."""
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    launcher = f"import sys; sys.path.insert(0, {root!r}); from dbt.cli import main; main()"
    cache = ["--cache-dir", os.environ["DBT_CACHE_DIR"]] if os.environ.get("DBT_CACHE_DIR") else []
    cmd = [sys.executable, "-c", launcher, "run", "--tier", tier, *cache, *options, os.fspath(binary), *args]
    p = subprocess.run(cmd, input=stdin, capture_output=True, env=dict(DEFAULT_ENV if env is None else env),
                       cwd=cwd, timeout=timeout)
    status = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return Result(p.stdout, p.stderr, status)

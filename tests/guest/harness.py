"""Build and run the C test programs in this directory.

build() compiles the way samples/build.py builds samples (the same zig cc command: static musl, -O2),
cached under tests/guest/build/<isa>/ and rebuilt when the source, the shared header check.h, the flags
or the zig version change. run_dbt() runs a guest under `python -m dbt run` in a subprocess (guests
fork and exec, which must not happen inside pytest's own process).

    from tests.guest.harness import build, run_dbt
    result = run_dbt(build("files"), cwd=tmp_path)
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile

from samples import build as samples
from tests import oracle

ROOT = pathlib.Path(__file__).resolve().parents[2]

GUEST_DIR = pathlib.Path(__file__).resolve().parent
BUILD_DIR = GUEST_DIR / "build"


def build(name: str, isa: str = "riscv64") -> pathlib.Path:
    src = GUEST_DIR / f"{name}.c"
    out = BUILD_DIR / isa / name
    flags = ["-target", f"{isa}-linux-musl", *samples.COMMON_FLAGS]
    h = hashlib.sha256()
    for part in (src.read_bytes(), (GUEST_DIR / "check.h").read_bytes(), " ".join(flags).encode(),
                 samples.zig_version().encode()):
        h.update(part)
    stamp, stamp_file = h.hexdigest(), out.with_name(name + ".stamp")

    def fresh() -> bool:
        try:
            return out.is_file() and stamp_file.read_text() == stamp
        except OSError:
            return False

    if fresh():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(f".{name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if fresh():
            return out
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        try:
            proc = subprocess.run([sys.executable, "-m", "ziglang", "cc", *flags, str(src), "-o", tmp],
                                  capture_output=True, text=True)
            if proc.returncode:
                raise samples.BuildError(f"building {src} failed:\n{proc.stderr}")
            os.chmod(tmp, 0o755)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        stamp_file.write_text(stamp)
    return out


def run_dbt(binary, args=(), *, options=("--tier", "interp"), env=None, cwd=None, stdin=b"",
            timeout: float = 120) -> oracle.Result:
    """`dbt run OPTIONS binary args...` with the oracle's fixed environment (exactly, like run_qemu)."""
    boot = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dbt.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", boot, "run", *options, "--", os.fspath(binary), *args],
                          input=stdin, capture_output=True, env=dict(oracle.DEFAULT_ENV if env is None else env),
                          cwd=cwd, timeout=timeout)
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return oracle.Result(proc.stdout, proc.stderr, status)

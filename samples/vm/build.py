"""Build the bare-metal guest samples of the VMM with zig cc (freestanding RV64GC, linked at 0x80000000).

    python samples/vm/build.py [names...]

Outputs go to samples/vm/build/<name>.elf; a build is skipped when its stamp records the same hash of
the sources, flags and zig version. Concurrent builds are serialised with a lock file.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile

VM_DIR = pathlib.Path(__file__).resolve().parent
BUILD_DIR = VM_DIR / "build"
LIBRARY = ("start.S", "vm.c", "vm.h", "link.ld")
FLAGS = ["-target", "riscv64-freestanding-none", "-mcpu=generic_rv64+m+a+f+d+c", "-mcmodel=medany",
         "-mno-relax", "-nostdlib", "-ffreestanding", "-fno-builtin", "-O2", "-fno-unwind-tables",
         "-fno-asynchronous-unwind-tables", "-T", str(VM_DIR / "link.ld")]


class BuildError(RuntimeError):
    """The compiler failed; the message includes its stderr."""


def available() -> list[str]:
    """Names of the guest samples."""
    return sorted(p.stem for p in VM_DIR.glob("*.c") if p.name != "vm.c")


def _command(name: str, out: pathlib.Path) -> list[str]:
    return [sys.executable, "-m", "ziglang", "cc", *FLAGS, str(VM_DIR / "start.S"), str(VM_DIR / "vm.c"),
            str(VM_DIR / f"{name}.c"), "-o", str(out)]


def _stamp(name: str) -> str:
    h = hashlib.sha256()
    for f in (*LIBRARY, f"{name}.c"):
        h.update((VM_DIR / f).read_bytes())
    h.update("\0".join(FLAGS).encode())
    try:
        from importlib.metadata import version
        h.update(version("ziglang").encode())
    except Exception:
        pass
    return h.hexdigest()


def build(name: str) -> pathlib.Path:
    """Build guest sample `name` (cached) and return the ELF's path."""
    if name not in available():
        raise ValueError(f"unknown VM sample {name!r}; available: {', '.join(available())}")
    BUILD_DIR.mkdir(exist_ok=True)
    out = BUILD_DIR / f"{name}.elf"
    stamp_file = BUILD_DIR / f"{name}.stamp"
    stamp = _stamp(name)

    def fresh() -> bool:
        return out.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp

    if fresh():
        return out
    with open(BUILD_DIR / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if fresh():
            return out
        fd, tmp = tempfile.mkstemp(dir=BUILD_DIR, prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        try:
            proc = subprocess.run(_command(name, pathlib.Path(tmp)), capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"building VM sample {name} failed (exit {proc.returncode}):\n{proc.stderr}")
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        stamp_file.write_text(stamp)
    return out


def main(argv: list[str]) -> int:
    try:
        for name in argv or available():
            print(build(name))
    except (ValueError, BuildError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

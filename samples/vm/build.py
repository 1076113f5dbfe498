"""Build the bare-metal guest samples of the VMM with zig cc (freestanding RV64GC, linked at 0x80000000).

    python samples/vm/build.py [names...]

Outputs go to samples/vm/build/<name>.elf; a build is skipped when its stamp records the same hash of
the sources, flags and zig version (samples/build.py's cached build).
"""
from __future__ import annotations

import hashlib
import pathlib
import sys

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from samples.build import BuildError, build_cached, zig_version  # noqa: E402

VM_DIR = pathlib.Path(__file__).resolve().parent
BUILD_DIR = VM_DIR / "build"
LIBRARY = ("start.S", "vm.c", "vm.h", "link.ld")
FLAGS = ["-target", "riscv64-freestanding-none", "-mcpu=generic_rv64+m+a+f+d+c", "-mcmodel=medany",
         "-mno-relax", "-nostdlib", "-ffreestanding", "-fno-builtin", "-O2", "-fno-unwind-tables",
         "-fno-asynchronous-unwind-tables", "-T", str(VM_DIR / "link.ld")]


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
    h.update(zig_version().encode())
    return h.hexdigest()


def build(name: str) -> pathlib.Path:
    """Build guest sample `name` (cached) and return the ELF's path."""
    if name not in available():
        raise ValueError(f"unknown VM sample {name!r}; available: {', '.join(available())}")
    return build_cached(BUILD_DIR / f"{name}.elf", _stamp(name), lambda tmp: _command(name, tmp),
                        f"VM sample {name}")


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

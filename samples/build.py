"""Build the guest sample programs with zig cc (static musl).

    python samples/build.py [--isa riscv64|aarch64|x86_64] [--pie] [names...]

Outputs go to samples/build/<isa>/<name> (<name>-pie for static-PIE builds).
A build is skipped when the output exists and its stamp file records the same
hash of source, flags and zig version.  Concurrent builds of one sample (e.g.
two pytest workers) are serialised with a lock file and outputs are written
to a temporary file and renamed into place.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import hashlib
import importlib.metadata
import os
import pathlib
import subprocess
import sys
import tempfile

SAMPLES_DIR = pathlib.Path(__file__).resolve().parent
BUILD_DIR = SAMPLES_DIR / "build"
ISAS = ("riscv64", "aarch64", "x86_64")

NEEDS_LIBM = {"float", "matmul"}
ONLY_ISAS = {"smc": {"riscv64"}}  # samples that only build for some ISAs

COMMON_FLAGS = ["-static", "-O2", "-s"]
# zig cc ignores -static-pie; -static with -fPIE -pie links a static PIE
# (ET_DYN with a PT_DYNAMIC but no PT_INTERP; the startup code relocates itself).
PIE_FLAGS = ["-fPIE", "-pie"]


class BuildError(RuntimeError):
    """The compiler failed; the message includes its stderr."""


def available(isa: str | None = None) -> list[str]:
    """Names of all samples (those that build for `isa` when given), sorted."""
    names = sorted(p.stem for p in SAMPLES_DIR.glob("*.c"))
    if isa is not None:
        names = [n for n in names if isa in ONLY_ISAS.get(n, ISAS)]
    return names


def output_path(name: str, isa: str = "riscv64", pie: bool = False) -> pathlib.Path:
    """Where build() puts the binary (whether or not it exists yet)."""
    return BUILD_DIR / isa / (name + ("-pie" if pie else ""))


@functools.lru_cache(maxsize=None)
def zig_version() -> str:
    """The ziglang package version (cheap: no subprocess)."""
    try:
        return importlib.metadata.version("ziglang")
    except importlib.metadata.PackageNotFoundError:
        out = subprocess.run([sys.executable, "-m", "ziglang", "version"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()


def compile_command(name: str, isa: str, pie: bool, out: pathlib.Path) -> list[str]:
    """The full compiler command line for one sample."""
    src = SAMPLES_DIR / f"{name}.c"
    flags = ["-target", f"{isa}-linux-musl", *COMMON_FLAGS, *(PIE_FLAGS if pie else [])]
    libs = ["-lm"] if name in NEEDS_LIBM else []
    return [sys.executable, "-m", "ziglang", "cc", *flags, str(src), "-o", str(out), *libs]


def _stamp(name: str, isa: str, pie: bool) -> str:
    h = hashlib.sha256()
    h.update((SAMPLES_DIR / f"{name}.c").read_bytes())
    cmd = compile_command(name, isa, pie, pathlib.Path("OUT"))[3:]  # without the python path
    h.update("\0".join(cmd).encode())
    h.update(zig_version().encode())
    return h.hexdigest()


def _write_atomic(path: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def build(name: str, isa: str = "riscv64", pie: bool = False) -> pathlib.Path:
    """Build sample `name` for `isa` (cached) and return the binary's path."""
    if isa not in ISAS:
        raise ValueError(f"unknown ISA {isa!r}; choose one of {', '.join(ISAS)}")
    if not (SAMPLES_DIR / f"{name}.c").is_file():
        raise ValueError(f"unknown sample {name!r}; available: {', '.join(available())}")
    if isa not in ONLY_ISAS.get(name, ISAS):
        raise ValueError(f"sample {name!r} only builds for {', '.join(sorted(ONLY_ISAS[name]))}")

    out = output_path(name, isa, pie)
    return build_cached(out, _stamp(name, isa, pie), lambda tmp: compile_command(name, isa, pie, tmp),
                        f"{name} for {isa}")


def build_cached(out: pathlib.Path, stamp: str, command, what: str) -> pathlib.Path:
    """Run command(tmp_path) to build `out` unless its stamp file already records `stamp`; builds of one
    output are serialised with a lock file and land in place with a rename."""
    stamp_file = out.with_name(out.name + ".stamp")

    def up_to_date() -> bool:
        try:
            return out.is_file() and stamp_file.read_text() == stamp
        except OSError:
            return False

    if up_to_date():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(f".{out.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if up_to_date():  # another process built it while we waited
            return out
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        try:
            proc = subprocess.run(command(pathlib.Path(tmp)), capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"building {what} failed "
                                 f"(exit {proc.returncode}):\n{proc.stderr}")
            os.chmod(tmp, 0o755)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _write_atomic(stamp_file, stamp.encode())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Build the dbt guest sample programs.")
    p.add_argument("--isa", default="riscv64", choices=ISAS)
    p.add_argument("--pie", action="store_true", help="build static-PIE executables")
    p.add_argument("names", nargs="*", help="samples to build (default: all for the ISA)")
    args = p.parse_args(argv)
    try:
        for name in args.names or available(args.isa):
            print(build(name, args.isa, args.pie))
    except (ValueError, BuildError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

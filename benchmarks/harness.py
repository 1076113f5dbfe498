"""The benchmark harness behind `dbt bench`: runs the benchmark samples under dbt (cold and warm code
cache), under qemu-user and natively (the x86-64 build of the same program), and prints median wall
times, ratios, guest MIPS and compile time. Results can be saved and compared with a later run.

Wall times are end to end (process start to exit), medians of --runs runs, measured side by side in
one run of the harness; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samples import build as samples  # noqa: E402

# Benchmark sizes: each runs 0.5-3 s under qemu-riscv64 on the development machine (samples/README.md).
BENCHMARKS = {
    "fib": ["37"], "sieve": ["80000000"], "sort": ["600000"], "sha256": ["15000"],
    "float": ["500000"], "interp": ["70000"], "matmul": ["400"], "hello": ["500000"],
}
# Sizes for measuring the interpreter tier alone (it is hundreds of times slower).
INTERP_SIZES = {
    "fib": ["24"], "sieve": ["400000"], "sort": ["4000"], "sha256": ["10"], "float": ["300"],
    "interp": ["400"], "matmul": ["30"], "hello": ["300"],
}
REGRESSION = 1.10  # a ratio 10% worse than the saved run is flagged


@dataclass
class Row:
    name: str
    args: list[str]
    qemu: float | None = None
    native: float | None = None
    cold: float | None = None
    warm: float | None = None
    guest_instructions: int | None = None
    seconds_llvm: float | None = None
    extra: dict = field(default_factory=dict)

    def ratio(self, which: str, to: str = "qemu") -> float | None:
        a, b = getattr(self, which), getattr(self, to)
        return a / b if a and b else None


def _timed(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[-400:]}")
    return dt


def _median(cmd: list[str], runs: int, env: dict | None = None) -> float:
    return statistics.median(_timed(cmd, env) for _ in range(runs))


def _dbt(*args: str) -> list[str]:
    launcher = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dbt.cli import main; main()"
    return [sys.executable, "-c", launcher, *args]


def measure(name: str, args: list[str], isa: str, runs: int, cache_dir: str, qemu: bool, native: bool,
            tier: str) -> Row:
    binary = str(samples.build(name, isa))
    row = Row(name, args)
    env = {**os.environ, "DBT_CACHE_DIR": cache_dir}
    stats = os.path.join(cache_dir, f"{name}.stats.json")
    shutil.rmtree(os.path.join(cache_dir, "code"), ignore_errors=True)
    cold = []
    for _ in range(runs):
        cold.append(_timed(_dbt("run", "--tier", tier, "--no-cache", "--stats-json", stats, binary, *args), env))
    row.cold = statistics.median(cold)
    info = json.loads(Path(stats).read_text())
    row.guest_instructions = info["guest_instructions"]
    row.seconds_llvm = info.get("seconds_llvm")
    _timed(_dbt("run", "--tier", tier, binary, *args), env)  # fills the code cache
    row.warm = _median(_dbt("run", "--tier", tier, binary, *args), runs, env)
    if qemu and shutil.which(f"qemu-{isa}"):
        row.qemu = _median([f"qemu-{isa}", binary, *args], runs)
    if native:
        row.native = _median([str(samples.build(name, "x86_64")), *args], runs)
    return row


def measure_interp(name: str, args: list[str], isa: str, runs: int) -> Row:
    binary = str(samples.build(name, isa))
    row = Row(name, args)
    with tempfile.TemporaryDirectory() as tmp:
        stats = os.path.join(tmp, "stats.json")
        times = []
        for _ in range(runs):
            _timed(_dbt("run", "--tier", "interp", "--stats-json", stats, binary, *args))
            info = json.loads(Path(stats).read_text())
            times.append(info["seconds_interpreter"])
        row.cold = statistics.median(times)
        row.guest_instructions = info["guest_instructions"]
    return row


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _f(v: float | None, fmt: str = "{:.3f}") -> str:
    return fmt.format(v) if v is not None else "-"


def table(rows: list[Row]) -> str:
    head = (f"{'sample':<8} {'args':>10} {'qemu s':>8} {'native s':>8} {'cold s':>8} {'warm s':>8} "
            f"{'cold/q':>7} {'warm/q':>7} {'warm/nat':>8} {'guest M':>8} {'MIPS':>7} {'llvm s':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        mips = r.guest_instructions / r.warm / 1e6 if r.guest_instructions and r.warm else None
        lines.append(f"{r.name:<8} {' '.join(r.args):>10} {_f(r.qemu):>8} {_f(r.native):>8} {_f(r.cold):>8} "
                     f"{_f(r.warm):>8} {_f(r.ratio('cold'), '{:.2f}'):>7} {_f(r.ratio('warm'), '{:.2f}'):>7} "
                     f"{_f(r.ratio('warm', 'native'), '{:.2f}'):>8} "
                     f"{_f(r.guest_instructions / 1e6 if r.guest_instructions else None, '{:.1f}'):>8} "
                     f"{_f(mips, '{:.0f}'):>7} {_f(r.seconds_llvm, '{:.2f}'):>7}")
    lines.append("-" * len(head))
    lines.append(f"geomean  cold/qemu {_f(geomean([r.ratio('cold') for r in rows]), '{:.2f}')}   "
                 f"warm/qemu {_f(geomean([r.ratio('warm') for r in rows]), '{:.2f}')}   "
                 f"warm/native {_f(geomean([r.ratio('warm', 'native') for r in rows]), '{:.2f}')}")
    return "\n".join(lines)


def interp_table(rows: list[Row]) -> str:
    lines = [f"{'sample':<8} {'args':>10} {'guest insns':>12} {'seconds':>8} {'M insns/s':>10}"]
    for r in rows:
        lines.append(f"{r.name:<8} {' '.join(r.args):>10} {r.guest_instructions:>12} {r.cold:>8.3f} "
                     f"{r.guest_instructions / r.cold / 1e6:>10.2f}")
    rates = [r.guest_instructions / r.cold / 1e6 for r in rows]
    lines.append(f"geomean interpreter speed: {geomean(rates):.2f} M guest instructions/s")
    return "\n".join(lines)


def compare(rows: list[Row], saved_path: str) -> str:
    saved = {r["name"]: r for r in json.loads(Path(saved_path).read_text())["rows"]}
    out = [f"compared with {saved_path}:"]
    for r in rows:
        old = saved.get(r.name)
        if old is None:
            continue
        for which in ("cold", "warm"):
            new_v, old_v = getattr(r, which), old.get(which)
            if new_v and old_v:
                change = new_v / old_v
                flag = "  REGRESSION" if change > REGRESSION else ""
                out.append(f"  {r.name:<8} {which}: {old_v:.3f} s -> {new_v:.3f} s ({change:.2f}x){flag}")
        if r.guest_instructions and old.get("guest_instructions") not in (None, r.guest_instructions):
            out.append(f"  {r.name:<8} guest instructions changed: {old['guest_instructions']} -> "
                       f"{r.guest_instructions}  REGRESSION")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dbt bench", description=__doc__.split("\n\n")[0])
    p.add_argument("samples", nargs="*", help=f"benchmarks to run (default: {' '.join(BENCHMARKS)})")
    p.add_argument("--isa", default="riscv64", choices=("riscv64", "aarch64"),
                   help="guest ISA of the samples (compared with qemu-<isa>)")
    p.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is shown)")
    p.add_argument("--tier", default="auto", choices=("auto", "jit"))
    p.add_argument("--interp", action="store_true", help="measure the interpreter tier's speed instead")
    p.add_argument("--no-qemu", action="store_true")
    p.add_argument("--no-native", action="store_true")
    p.add_argument("--save", metavar="FILE", help="write the results as JSON")
    p.add_argument("--compare", metavar="FILE", help="compare with results saved earlier")
    args = p.parse_args(argv)
    names = args.samples or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark {unknown[0]!r} (choose from {', '.join(BENCHMARKS)})")
    rows = []
    with tempfile.TemporaryDirectory(prefix="dbt-bench-") as cache_dir:
        for name in names:
            if args.interp:
                rows.append(measure_interp(name, INTERP_SIZES[name], args.isa, args.runs))
            else:
                rows.append(measure(name, BENCHMARKS[name], args.isa, args.runs, cache_dir, not args.no_qemu,
                                    not args.no_native, args.tier))
            print(f"  measured {name}", file=sys.stderr)
    print(interp_table(rows) if args.interp else table(rows))
    if args.compare:
        print(compare(rows, args.compare))
    if args.save:
        Path(args.save).write_text(json.dumps({"isa": args.isa, "interp": args.interp,
                                               "rows": [asdict(r) for r in rows]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

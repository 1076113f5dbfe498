"""The JIT tier from outside: faults inside compiled code, code compiled mid-run, the persistent code
cache (warm runs, corrupt files), and exact instruction counts on every tier."""
import json
import os
from pathlib import Path

import pytest

from samples import build as samples
from tests.guest.harness import build
from tests.oracle import run_dbt, run_qemu

TIERS = ("interp", "jit", "auto")


def _stats(tmp_path: Path, tier: str, binary, args, options=()) -> tuple:
    out = tmp_path / f"{tier}.json"
    r = run_dbt(binary, args, tier=tier, options=["--stats-json", str(out), *options])
    return r, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.parametrize("mode,access", [("load", "read"), ("store", "write")])
def test_fault_inside_compiled_code_is_reported_exactly(mode, access, tmp_path):
    binary = build("hotfault")
    args = [mode, "20000"]
    expected = run_qemu(binary, args)
    assert expected.status == 139
    reports = {}
    for tier in TIERS:
        r = run_dbt(binary, args, tier=tier)
        assert r.status == 139, (tier, r.stderr)
        assert r.stdout == expected.stdout
        line = r.stderr.decode().strip().splitlines()[-1]
        assert f"segmentation fault at pc 0x" in line and f"{access} of unmapped or protected address 0x18" in line
        reports[tier] = line
    assert len(set(reports.values())) == 1, reports


def test_hot_loop_is_compiled_mid_run_and_counts_stay_exact(tmp_path):
    binary = build("hotfault")
    args = ["ok", "200000"]
    expected = run_qemu(binary, args)
    counts = {}
    for tier in TIERS:
        r, stats = _stats(tmp_path, tier, binary, args, ["--no-cache"])
        assert (r.stdout, r.status) == (expected.stdout, expected.status)
        counts[tier] = stats["guest_instructions"]
        if tier == "auto":
            assert stats["regions_compiled"] > 0 and stats["seconds_native"] > 0
    assert len(set(counts.values())) == 1, counts


def test_warm_code_cache_skips_compilation(tmp_path):
    binary = samples.build("fib", "riscv64")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    first, s1 = _stats(tmp_path, "auto", binary, ["27"], cache)
    second, s2 = _stats(tmp_path, "auto", binary, ["27"], cache)
    assert first.stdout == second.stdout and first.status == second.status == 0
    assert s1["regions_compiled"] > 0 and s1["regions_from_cache"] == 0
    assert s2["regions_from_cache"] > 0
    assert s1["guest_instructions"] == s2["guest_instructions"]
    assert s1["registers"] == s2["registers"]


def test_warm_runs_settle_to_translating_nothing(tmp_path):
    """The cache keeps what the JIT decided (optimized regions, entry points already merged into loops):
    within a few runs, a syscall-heavy program neither translates nor compiles a block. (Which run
    settles depends on where the profile's samples fall, so it is not fixed.)"""
    binary = samples.build("hello", "aarch64")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    runs = []
    while len(runs) < 6 and (not runs or (runs[-1]["blocks_translated"], runs[-1]["regions_compiled"]) != (0, 0)):
        runs.append(_stats(tmp_path, "auto", binary, ["500000"], cache)[1])
    assert runs[0]["blocks_translated"] > 0
    assert (runs[-1]["blocks_translated"], runs[-1]["regions_compiled"]) == (0, 0), runs
    assert len({r["guest_instructions"] for r in runs}) == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "foreign"])
def test_damaged_cache_file_is_ignored_and_rebuilt(damage, tmp_path):
    binary = samples.build("fib", "riscv64")
    cache_dir = tmp_path / "cache"
    cache = ["--cache-dir", str(cache_dir)]
    good, s1 = _stats(tmp_path, "auto", binary, ["25"], cache)
    (path,) = (cache_dir / "code").glob("*.dbtc")
    data = path.read_bytes()
    damaged = {"truncate": data[: len(data) // 2],
               "flip": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
               "garbage": os.urandom(len(data)),
               "empty": b"",
               "foreign": b"DBTCACHE" + (99).to_bytes(4, "little") + data[12:]}[damage]
    path.write_bytes(damaged)
    again, s2 = _stats(tmp_path, "auto", binary, ["25"], cache)
    assert (again.stdout, again.status) == (good.stdout, good.status)
    assert s2["regions_from_cache"] == 0 and s2["regions_compiled"] > 0
    assert s2["guest_instructions"] == s1["guest_instructions"]
    third, s3 = _stats(tmp_path, "auto", binary, ["25"], cache)
    assert s3["regions_from_cache"] > 0  # rebuilt and usable again


def test_cache_info_and_clear(tmp_path):
    binary = samples.build("hello", "riscv64")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    run_dbt(binary, ["1"], tier="jit", options=cache)
    dbt = _dbt_cli
    info = dbt("cache", "info", *cache)
    assert info.returncode == 0 and "files: 1," in info.stdout and "regions" in info.stdout
    cleared = dbt("cache", "clear", *cache)
    assert cleared.returncode == 0 and cleared.stdout.startswith("removed 1 file from ")
    assert "files: 0," in dbt("cache", "info", *cache).stdout


def _dbt_cli(*args):
    import subprocess
    import sys
    launcher = "import sys; sys.path.insert(0, sys.argv.pop(1)); from dbt.cli import main; main()"
    root = str(Path(__file__).resolve().parent.parent)
    return subprocess.run([sys.executable, "-c", launcher, root, *args], capture_output=True, text=True)


def test_translate_shows_every_stage_of_a_region():
    binary = str(samples.build("fib", "riscv64"))
    r = _dbt_cli("translate", binary, "--region", "--stages", "asm,ir,llvm,opt,host")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for header in ("-- guest assembly", "-- IR", "-- LLVM IR (region of", "-- LLVM IR, optimized",
                   "-- host assembly (x86-64)"):
        assert header in out, header
    assert out.index("-- IR") < out.index("-- LLVM IR (region of") < out.index("-- host assembly")
    assert "define i32 @region_" in out and "ret i32" in out


def test_translate_reports_bad_input():
    binary = str(samples.build("fib", "riscv64"))
    r = _dbt_cli("translate", binary, "--at", "0x10")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == f"dbt: {binary}: no executable guest code at 0x10\n"
    r = _dbt_cli("translate", binary, "--stages", "ir,bogus")
    assert r.returncode == 2 and r.stderr.startswith("dbt: unknown stage 'bogus' (choose from asm, ir,")
    r = _dbt_cli("translate", "/nonexistent/prog")
    assert r.returncode == 1 and r.stderr == "dbt: /nonexistent/prog: No such file or directory\n"


@pytest.mark.parametrize("tier", ("jit", "auto"))
def test_block_over_the_region_size_limit_is_still_compiled(tier, monkeypatch, capfd):
    """A root block larger than a region may be is compiled alone, not dropped (and not a crash)."""
    import dbt
    import dbt.jit
    monkeypatch.setattr(dbt.jit, "MAX_REGION_OPS", 1)
    proc = dbt.load(str(samples.build("fib", "riscv64")), ["fib", "20"], tier=tier, code_cache=False)
    assert proc.run() == 0
    assert capfd.readouterr().out == "0 1 1 2 3 5 8 13 21 34 55\nfib(20) = 6765 (21891 calls)\n"
    assert proc.engine.jit.regions_compiled > 0
    assert all(len(r.blocks) == 1 for r in proc.engine.jit.native.values())

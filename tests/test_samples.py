"""Every sample, built for each guest ISA, on every tier prints exactly what qemu-<isa> prints and exits
the same way, and the tiers agree bit for bit on the final registers and the exact guest instruction count."""
import json

import pytest

from samples import build as samples
from tests.oracle import run_dbt, run_qemu

TIERS = ("interp", "jit", "auto")

# Arguments small enough for the interpreter (the defaults are sized for native speed).
CASES = {
    "hello": [["3"]],
    "echo_args": [["one", "two words", "--env", "HOME", "NOPE"]],
    "exitcode": [[], ["7"]],
    "fileio": [[]],
    "fib": [["21"]],
    "sieve": [["300000"]],
    "sort": [["3000"]],
    "sha256": [["6"], ["-"]],
    "float": [["200"]],
    "interp": [["300"]],
    "matmul": [["24"]],
    "shell": [["3"]],
    "smc": [["3000"]],
}
STDIN = {"sha256": b"abc\n" * 100}
# How many instructions `shell` runs depends on how the host schedules its processes (the number of
# read() calls that drain a pipe), so only its output is compared between tiers.
SCHEDULING_DEPENDENT = {"shell"}
ISAS = ("riscv64", "aarch64")
PARAMS = [(isa, name, args) for isa in ISAS for name in samples.available(isa) for args in CASES[name]]
IDS = [f"{'' if isa == 'riscv64' else isa + '-'}{n}-{'-'.join(a) or 'default'}" for isa, n, a in PARAMS]


def test_every_sample_has_a_case():
    for isa in ISAS:
        assert set(samples.available(isa)) <= set(CASES)
    assert set(CASES) == set(samples.available())


def _strip_notes(stderr: bytes) -> bytes:
    """dbt's one-line notes about unsupported system calls are allowed; nothing else may differ."""
    return b"".join(line for line in stderr.splitlines(keepends=True)
                    if not line.startswith(b"dbt: unsupported system call"))


@pytest.mark.parametrize("isa,name,args", PARAMS, ids=IDS)
def test_sample_matches_qemu_on_every_tier(isa, name, args, tmp_path):
    binary = samples.build(name, isa)
    stdin = STDIN.get(name, b"") if args != ["-"] or name == "sha256" else b""
    expected = run_qemu(binary, args, stdin=stdin)
    finals = {}
    for tier in TIERS:
        stats = tmp_path / f"{tier}.json"
        got = run_dbt(binary, args, stdin=stdin, tier=tier, options=["--stats-json", str(stats)])
        assert got.stdout == expected.stdout, f"{tier}: stdout differs"
        assert _strip_notes(got.stderr) == expected.stderr, f"{tier}: stderr differs"
        assert got.status == expected.status, f"{tier}: status {got.status}, qemu {expected.status}"
        finals[tier] = json.loads(stats.read_text())
    if name in SCHEDULING_DEPENDENT:
        return
    counts = {t: f["guest_instructions"] for t, f in finals.items()}
    assert len(set(counts.values())) == 1, f"instruction counts differ between tiers: {counts}"
    regs = {t: f["registers"] for t, f in finals.items()}
    assert regs["jit"] == regs["interp"] and regs["auto"] == regs["interp"], "final registers differ"

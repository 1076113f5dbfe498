"""The guest samples under qemu-user: they build, exit as expected, and are
deterministic (two riscv64 runs give identical output; aarch64 and x86_64
builds print exactly what the riscv64 build prints).  The translator is later
compared against the same oracle (tests/oracle.py)."""

import concurrent.futures
import dataclasses
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from samples import build as samples  # noqa: E402
from tests import oracle  # noqa: E402

OTHER_ISAS = ("aarch64", "x86_64")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    args: tuple = ()
    stdin: bytes = b""
    env: dict | None = None
    status: int = 0
    expect: tuple = ()  # substrings of stdout + stderr
    needs_exec: bool = False  # the guest execve()s a guest binary

    @property
    def id(self):
        return " ".join((self.name,) + self.args) if self.args else self.name


ECHO_ENV = dict(oracle.DEFAULT_ENV, DBT_SAMPLE="x  y=z")
CASES = [
    Case("hello", expect=("Hello, world!",)),
    Case("hello", ("3",), expect=("(3/3)",)),
    Case("echo_args"),
    Case("echo_args", ("a", "b c", "", "--env", "HOME", "DBT_SAMPLE", "NOT_SET"), env=ECHO_ENV,
         expect=("argc=8", "argv[2]=[b c]", "env DBT_SAMPLE=x  y=z", "env NOT_SET=(unset)")),
    Case("exitcode", status=42, expect=("status 42",)),
    Case("exitcode", ("3",), status=3),
    Case("fileio", expect=("readlink link: 11", "rmdir dir: 0")),
    Case("fib", expect=("fib(27) = 196418",)),
    Case("sieve", expect=("primes below 2000000: 148933",)),
    Case("sort", expect=("agree: yes",)),
    Case("sha256", expect=("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)),
    Case("sha256", ("3", "-"), stdin=b"abc",
         expect=("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  stdin (3 bytes)",)),
    Case("float", expect=("0.1+0.2 = 0.30000000000000004",)),
    Case("interp", expect=("r2 = 430",)),
    Case("matmul", expect=("trace=",)),
    Case("shell", needs_exec=True,
         expect=("pipe child: exited with status 3", "exec child: argc=3 word=plain",
                 "exec child: exited with status 7", "captured from the pipe: exec child: argc=3 word=piped",
                 "vfork child: exited with status 5", "killed by signal 15")),
    Case("smc", expect=("ok", "21 rounds, 21 ok")),
]


@pytest.fixture(scope="session")
def binaries():
    """Build every sample for every ISA once (in parallel; cached on disk)."""
    jobs = [(n, isa) for isa in ("riscv64",) + OTHER_ISAS for n in samples.available(isa)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda job: samples.build(*job), jobs))
    return dict(zip(jobs, paths))


def run(binaries, case, isa):
    if case.needs_exec and isa != oracle.host_isa() and not oracle.binfmt_available(isa):
        pytest.skip(f"guest execve() cannot work here: no private binfmt_misc for {isa}")
    return oracle.run_qemu(binaries[case.name, isa], case.args, stdin=case.stdin, env=case.env)


_REFERENCE = {}


def reference(binaries, case):
    """The riscv64 run of a case (computed once per session)."""
    if case.id not in _REFERENCE:
        _REFERENCE[case.id] = run(binaries, case, "riscv64")
    return _REFERENCE[case.id]


def test_every_sample_has_a_case():
    assert {c.name for c in CASES} == set(samples.available("riscv64"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_riscv64_deterministic(binaries, case):
    first = reference(binaries, case)
    output = (first.stdout + first.stderr).decode(errors="replace")
    assert first.status == case.status, output
    assert output.strip(), "no output"
    for text in case.expect:
        assert text in output
    assert "MISMATCH" not in output
    second = run(binaries, case, "riscv64")
    assert second == first, "two runs differ"


@pytest.mark.parametrize("isa", OTHER_ISAS)
@pytest.mark.parametrize("case", [c for c in CASES if c.name != "smc"], ids=lambda c: c.id)
def test_other_isas_match_riscv64(binaries, case, isa):
    ref = reference(binaries, case)
    got = run(binaries, case, isa)
    assert got.status == ref.status
    assert got.stdout.decode(errors="replace") == ref.stdout.decode(errors="replace")
    assert got.stderr == ref.stderr


def test_build_is_cached(binaries):
    path = samples.build("hello")
    stamp = path.with_name(path.name + ".stamp")
    before = (path.stat().st_mtime_ns, stamp.stat().st_mtime_ns)
    assert samples.build("hello") == path
    assert (path.stat().st_mtime_ns, stamp.stat().st_mtime_ns) == before


def test_build_rejects_bad_names():
    with pytest.raises(ValueError, match="available: .*hello"):
        samples.build("no_such_sample")
    with pytest.raises(ValueError, match="riscv64"):
        samples.build("smc", "x86_64")
    with pytest.raises(ValueError, match="ISA"):
        samples.build("hello", "mips")


def test_build_reports_compiler_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "SAMPLES_DIR", tmp_path)
    monkeypatch.setattr(samples, "BUILD_DIR", tmp_path / "build")
    (tmp_path / "broken.c").write_text("int main(void) { return undeclared_thing; }\n")
    with pytest.raises(samples.BuildError, match="undeclared_thing"):
        samples.build("broken")
    assert not samples.output_path("broken").exists()


@pytest.mark.parametrize("isa", ("riscv64",) + OTHER_ISAS)
def test_static_pie(isa):
    path = samples.build("hello", isa, pie=True)
    assert path.name == "hello-pie"
    elf = path.read_bytes()
    e_type, = struct.unpack_from("<H", elf, 16)
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    p_types = {struct.unpack_from("<I", elf, phoff + i * phentsize)[0] for i in range(phnum)}
    assert e_type == 3  # ET_DYN
    assert 3 not in p_types  # no PT_INTERP
    assert 2 in p_types  # PT_DYNAMIC (self-relocation)
    result = oracle.run_qemu(path, ["2"])
    assert (result.status, result.stdout) == (0, b"Hello, world! (1/2)\nHello, world! (2/2)\n")

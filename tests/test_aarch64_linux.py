"""The Linux system call layer for aarch64 guests: the guest test programs (tests/guest/*.c) built for
aarch64 print under dbt what they print under qemu-aarch64 (with Linux's answers where qemu departs from
Linux), and static-PIE startup relocates itself."""
import pytest

from samples import build as samples
from tests import oracle
from tests.guest.harness import build, run_dbt
from tests.test_linux_syscalls import linux_expectation

ISA = "aarch64"


@pytest.mark.parametrize("name", ["files", "mm", "procs"])
def test_guest_matches_qemu(name, tmp_path):
    if name == "procs" and not oracle.binfmt_available(ISA):
        pytest.skip("qemu cannot execve() aarch64 programs here (no private binfmt_misc)")
    binary = build(name, ISA)
    (tmp_path / "qemu").mkdir()
    (tmp_path / "dbt").mkdir()
    want = oracle.run_qemu(binary, cwd=tmp_path / "qemu")
    got = run_dbt(binary, cwd=tmp_path / "dbt")
    err = got.stderr.decode(errors="replace")
    assert "Traceback" not in err, err
    assert got.stdout.decode() == linux_expectation(name, want.stdout).decode(), err
    assert got.status == want.status == 0
    assert not list((tmp_path / "dbt").iterdir()), "the guest cleans up after itself"


def test_static_pie_hello(tmp_path):
    binary = samples.build("hello", ISA, pie=True)
    want = oracle.run_qemu(binary, ["2"], cwd=tmp_path)
    got = oracle.run_dbt(binary, ["2"], cwd=tmp_path)
    assert (got.stdout, got.status) == (want.stdout, want.status) == (b"Hello, world! (1/2)\nHello, world! (2/2)\n", 0)


def test_strace_lines(tmp_path):
    """The strace guest's calls print exactly as for riscv64 (the same generic system calls)."""
    import re
    from tests.test_linux_strace import EXPECTED
    got = run_dbt(build("strace", ISA), options=("--tier", "interp", "--strace"), cwd=tmp_path)
    assert got.status == 0
    text = got.stderr.decode()
    parent = text.split()[0]
    child = re.search(rf"^{parent} clone\(.*\) = (\d+)$", text, re.M).group(1)
    text = re.sub(r"0x[0-9a-f]+", "ADDR", text)
    text = re.sub(rf"\b{parent}\b", "P", text)
    text = re.sub(rf"\b{child}\b", "C", text)
    for who in ("P", "C"):
        want = [line for line in EXPECTED.splitlines() if line.startswith(who + " ")]
        assert [line for line in text.splitlines() if line.startswith(who + " ")] == want


def test_guest_cannot_escape_the_root(tmp_path):
    """--root confinement holds for an aarch64 guest (its O_DIRECTORY and O_NOFOLLOW values differ)."""
    from tests.test_linux_root import EXPECTED, make_tree, snapshot
    top = tmp_path.resolve()
    root = make_tree(top, build("escape", ISA))
    before = snapshot(top)
    got = run_dbt(root / "bin" / "escape", [str(top / "secret"), str(top / "victim")],
                  options=("--tier", "interp", "--root", str(root)), env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
                  cwd=root)
    assert got.stderr == b""
    assert got.stdout.decode().replace(str(top), "T") == EXPECTED
    assert got.status == 0
    assert snapshot(top) == before, "something outside the root changed"

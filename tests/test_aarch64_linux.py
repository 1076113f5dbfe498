"""The Linux user-mode layer for aarch64 guests, beyond what test_linux_syscalls and test_linux_strace
run for both ISAs: static-PIE startup relocates itself, and --root confinement holds (aarch64's
O_DIRECTORY and O_NOFOLLOW values differ from riscv64's)."""
from samples import build as samples
from tests import oracle
from tests.guest.harness import build, run_dbt

ISA = "aarch64"


def test_static_pie_hello(tmp_path):
    binary = samples.build("hello", ISA, pie=True)
    want = oracle.run_qemu(binary, ["2"], cwd=tmp_path)
    got = oracle.run_dbt(binary, ["2"], cwd=tmp_path)
    assert (got.stdout, got.status) == (want.stdout, want.status) == (b"Hello, world! (1/2)\nHello, world! (2/2)\n", 0)


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

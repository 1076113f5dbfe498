"""dbt run --strace: one strace-style line per system call on stderr, exact text for a few calls."""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.guest.harness import build, run_dbt  # noqa: E402

EXPECTED = """\
P set_tid_address(ADDR) = P
P openat(AT_FDCWD, "/nonexistent/file", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
P write(1, "hi\\n", 3) = 3
P write(1, "01234567890123456789012345678901"..., 41) = 41
P close(-1) = -1 EBADF (Bad file descriptor)
P umask(022) = 022
P mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR
P mkdirat(AT_FDCWD, "/nonexistent/dir", 0755) = -1 ENOENT (No such file or directory)
P faccessat(AT_FDCWD, "/", R_OK|X_OK) = 0
P lseek(0, 0, SEEK_CUR) = -1 ESPIPE (Illegal seek)
P kill(0, 0) = 0
P rt_sigaction(SIGKILL, NULL, NULL, 8) = 0
P clone(SIGCHLD, NULL, NULL, NULL, NULL) = C
C clone(SIGCHLD, NULL, NULL, NULL, NULL) = 0
C execve("/proc/self/exe", ["strace", "child"], ADDR /* 1 var */) = 0
C set_tid_address(ADDR) = C
C write(1, "child\\n", 6) = 6
C exit_group(5) = ?
P wait4(C, NULL, 0, NULL) = C
P exit_group(0) = ?
"""


@pytest.mark.parametrize("isa", ["riscv64", "aarch64"])
def test_strace_lines(isa, tmp_path):
    got = run_dbt(build("strace", isa), options=("--tier", "interp", "--strace"), cwd=tmp_path)
    assert got.status == 0
    assert got.stdout == b"hi\n0123456789012345678901234567890123456789\nchild\n"
    text = got.stderr.decode()
    parent = text.split()[0]
    child = re.search(rf"^{parent} clone\(.*\) = (\d+)$", text, re.M).group(1)
    text = re.sub(r"0x[0-9a-f]+", "ADDR", text)
    text = re.sub(rf"\b{parent}\b", "P", text)
    text = re.sub(rf"\b{child}\b", "C", text)
    # the child's and the parent's lines interleave as the two processes run: compare each one's lines
    for who in ("P", "C"):
        want = [line for line in EXPECTED.splitlines() if line.startswith(who + " ")]
        assert [line for line in text.splitlines() if line.startswith(who + " ")] == want


def test_strace_without_the_option_is_silent(tmp_path):
    got = run_dbt(build("strace"), cwd=tmp_path)
    assert got.stderr == b""

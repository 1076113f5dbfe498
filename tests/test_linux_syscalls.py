"""The Linux system call layer against qemu-user: guest programs (tests/guest/*.c and the shell-like
samples) print one line per step, and dbt must print what qemu-<isa> prints and exit the same way.

Where qemu-user itself departs from Linux, the expected text is Linux's (QEMU_DEVIATIONS)."""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from samples import build as samples  # noqa: E402
from tests import oracle  # noqa: E402
from tests.guest.harness import build, run_dbt  # noqa: E402

# qemu-user line -> what Linux (and dbt) prints
QEMU_DEVIATIONS = {
    "mm": {
        "MAP_FIXED_NOREPLACE over a mapping: mapped": "MAP_FIXED_NOREPLACE over a mapping: EEXIST",
        "madvise bad advice: 0": "madvise bad advice: -1 EINVAL",   # qemu ignores madvise entirely
        "madvise unmapped: 0": "madvise unmapped: -1 ENOMEM",
    },
    "procs": {
        # qemu accepts but does not apply RLIMIT_AS; dbt keeps it for the guest
        "  RLIMIT_AS soft now 1 GiB: 0": "  RLIMIT_AS soft now 1 GiB: 1",
    },
}
CPUS = re.compile(rb"^cpus: \d+$", re.M)  # qemu shows the host's CPUs; dbt's guest has one


def linux_expectation(name: str, out: bytes) -> bytes:
    fixes = QEMU_DEVIATIONS.get(name, {})
    lines = [fixes.get(line, line) for line in out.decode().split("\n")]
    return CPUS.sub(b"cpus: 1", "\n".join(lines).encode())


def needs_exec(isa: str = "riscv64"):
    if not oracle.binfmt_available(isa):
        pytest.skip(f"qemu cannot execve() {isa} programs here (no private binfmt_misc): "
                    "the oracle needs it for guests that exec; a host limit, not a dbt gap, so no issue waits on it")


@pytest.mark.parametrize("isa", ["riscv64", "aarch64"])
@pytest.mark.parametrize("name", ["files", "mm", "procs"])
def test_guest_matches_qemu(name, isa, tmp_path):
    if name == "procs":
        needs_exec(isa)
    binary = build(name, isa)
    (tmp_path / "qemu").mkdir()
    (tmp_path / "dbt").mkdir()
    want = oracle.run_qemu(binary, cwd=tmp_path / "qemu")
    got = run_dbt(binary, cwd=tmp_path / "dbt")
    err = got.stderr.decode(errors="replace")
    assert "Traceback" not in err, err
    assert got.stdout.decode() == linux_expectation(name, want.stdout).decode(), err
    assert got.status == want.status == 0
    assert not list((tmp_path / "dbt").iterdir()), "the guest cleans up after itself"


def test_files_notes_the_unknown_ioctl_once(tmp_path):
    got = run_dbt(build("files"), cwd=tmp_path)
    assert got.stderr.decode().count("unsupported ioctl request 0x7fff") == 1


def test_mm_faults_are_reported_and_kill_only_the_child(tmp_path):
    got = run_dbt(build("mm"), cwd=tmp_path)
    assert got.status == 0
    assert b"write to the read-only page: killed by signal 11" in got.stdout
    assert got.stderr.count(b"segmentation fault") == got.stdout.count(b"killed by signal 11") == 6


@pytest.mark.parametrize("case", [("fileio", ()), ("shell", ("3",))], ids=lambda c: c[0])
def test_samples_match_qemu(case, tmp_path):
    name, args = case
    if name == "shell":
        needs_exec()
    binary = samples.build(name)
    want = oracle.run_qemu(binary, args, cwd=tmp_path)
    got = run_dbt(binary, args, cwd=tmp_path)
    assert (got.stdout.decode(), got.status) == (want.stdout.decode(), want.status), got.stderr.decode()


def test_exec_keeps_argv_and_envp_exact(tmp_path):
    """The new program's argv and envp are byte for byte what execve got (no LC_CTYPE from Python, no
    PYTHONPATH, arguments that look like dbt options stay the guest's)."""
    binary = build("procs")
    env = {"PATH": "/usr/bin:/bin", "ODD": "x=y=z", "EMPTY": ""}
    got = run_dbt(binary, ["--child", "args", "--strace", "--", "", "-"], env=env, cwd=tmp_path)
    assert got.status == 11, got.stderr.decode()
    assert got.stdout.decode() == (
        "child argc=7 [path] [--child] [args] [--strace] [--] [] [-]\n"
        "child env [EMPTY=]\nchild env [ODD=x=y=z]\nchild env [PATH=/usr/bin:/bin]\n")


def test_missing_program_and_foreign_elf(tmp_path):
    """execve of a missing file is ENOENT; of an ELF for an ISA without a frontend, ENOEXEC with a note."""
    binary = build("procs")
    script = tmp_path / "run.sh"
    # a #! line naming a host (x86-64) executable: dbt has no frontend for it
    script.write_text(f"#!{sys.executable}\n")
    script.chmod(0o755)
    got = run_dbt(binary, ["--child", "x"], cwd=tmp_path)
    assert got.status == 13
    c_prog = tmp_path / "t.c"
    c_prog.write_text('#include <stdio.h>\n#include <unistd.h>\n#include <errno.h>\n#include <string.h>\n'
                      'int main(int c, char **v) { char *a[] = {v[1], 0};\n'
                      '  execv(v[1], a); printf("%s: %s\\n", v[1], strerror(errno)); return 0; }\n')
    exe = tmp_path / "t"
    import subprocess
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-linux-musl", "-static", "-O2",
                    str(c_prog), "-o", str(exe)], check=True, capture_output=True)
    got = run_dbt(exe, [str(script)], cwd=tmp_path)
    assert got.stdout.decode() == f"{script}: Exec format error\n"
    assert "x86-64, which dbt has no frontend for: returning -ENOEXEC" in got.stderr.decode()
    got = run_dbt(exe, [str(tmp_path / "missing")], cwd=tmp_path)
    assert got.stdout.decode() == f"{tmp_path / 'missing'}: No such file or directory\n"


def test_forking_guest_inside_this_python(capfd, tmp_path, monkeypatch):
    """dbt.load(...).run() in a program's own process: forked guest children end where the guest ends
    them and never return into the caller (here: pytest)."""
    import dbt
    needs_exec()
    monkeypatch.chdir(tmp_path)
    me = __import__("os").getpid()
    proc = dbt.load(str(samples.build("shell")), ["shell", "2"], dict(oracle.DEFAULT_ENV))
    assert proc.run() == 0
    assert __import__("os").getpid() == me
    out = capfd.readouterr().out
    assert "pipe child: exited with status 3" in out and "killed by signal 15" in out
    assert "exec child: argc=3 word=plain" in out

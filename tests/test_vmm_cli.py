"""`dbt vm`: guests run from options or a machine file; bad disks, busy ports and bad machine files are
reported before the guest starts, with a non-zero status and no traceback."""
from __future__ import annotations

import random
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from samples.vm import build as vm_build

ROOT = Path(__file__).resolve().parent.parent


def dbt_vm(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dbt", "vm", *args], capture_output=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def guests() -> dict[str, str]:
    return {n: str(vm_build.build(n)) for n in ("hello", "disk", "timer")}


def test_hello(guests):
    r = dbt_vm("--ram", "32M", guests["hello"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"hello from the SBI debug console\n") and r.stderr == b""


def test_machine_file_with_disk(guests, tmp_path):
    image = tmp_path / "disk.img"
    content = random.Random(9).randbytes(32 * 512)
    image.write_bytes(content)
    (tmp_path / "m.toml").write_text(
        f'guest = "{guests["disk"]}"\nram = "16M"\ntier = "interp"\n[[disk]]\npath = "disk.img"\n')
    r = dbt_vm("--machine", str(tmp_path / "m.toml"))
    assert r.returncode == 0, r.stderr
    assert b"capacity 32\n" in r.stdout
    assert image.read_bytes()[16 * 512:16 * 512 + 8] == b"dbt-sum\0"


def test_options_override_machine_file(guests, tmp_path):
    (tmp_path / "m.toml").write_text(f'guest = "{guests["disk"]}"\nram = "16M"\n')
    r = dbt_vm("--machine", str(tmp_path / "m.toml"), guests["hello"])
    assert r.returncode == 0 and b"hello from M-mode" in r.stdout


@pytest.mark.parametrize("prealloc", [False, True])
def test_disk_created_sparse_or_preallocated(guests, tmp_path, prealloc):
    image = tmp_path / "new.img"
    opts = ",size=1M" + (",prealloc" if prealloc else "")
    r = dbt_vm("--tier", "interp", "--disk", str(image) + opts, guests["disk"])
    assert r.returncode == 0, r.stderr
    assert b"capacity 2048\n" in r.stdout and image.stat().st_size == 1 << 20
    data = image.read_bytes()
    assert data[16 * 512:16 * 512 + 8] == b"dbt-sum\0"
    assert data[:16 * 512] == bytes(16 * 512) and data[16 * 512 + 16:] == bytes(len(data) - 16 * 512 - 16)
    allocated = image.stat().st_blocks * 512
    assert allocated >= 1 << 20 if prealloc else allocated < 1 << 19


def test_console_on_stdin_and_stdout():
    r = subprocess.run([sys.executable, "-m", "dbt", "vm", "--console", str(vm_build.build("vconsole"))],
                       input=b"keys\n", capture_output=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and r.stdout == b"hello from virtio-console\ngot: keys\n", r.stderr


def test_smp(tmp_path):
    r = dbt_vm("--smp", "2", str(vm_build.build("smp")))
    assert r.returncode == 0 and r.stdout == b"hart 1 got 1 IPI, counter 3000\n", r.stderr


def test_instruction_budget(guests):
    r = dbt_vm("--max-insns", "2000", "--tier", "interp", guests["timer"])
    assert r.returncode == 124
    assert r.stderr.startswith(b"dbt vm: instruction budget of 2000 used up at pc 0x8")


@pytest.mark.parametrize("args,message", [
    (["--disk", "/nonexistent/disk.img"], b"dbt vm: disk image /nonexistent/disk.img: No such file or directory"),
    (["--disk", "x.img,fast"], b"dbt vm: unknown disk option 'fast' in 'x.img,fast' (known: readonly, size=SIZE, prealloc)"),
    (["--net", "tcp:1:2"], b"dbt vm: bad network backend 'tcp:1:2'"),
    (["--ram", "lots"], b"dbt vm: not a size: 'lots'"),
    (["--ram", "8G"], b"dbt vm: ram must be a multiple of 4 KiB"),
    (["--smp", "9"], b"dbt vm: smp must be between 1 and 8"),
])
def test_bad_options(guests, args, message):
    r = dbt_vm(*args, guests["hello"])
    assert r.returncode == 2 and r.stderr.startswith(message), r.stderr
    assert b"Traceback" not in r.stderr and r.stdout == b""


def test_busy_udp_port(guests):
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        port = busy.getsockname()[1]
        r = dbt_vm("--net", f"udp:{port}:127.0.0.1:9", guests["hello"])
    finally:
        busy.close()
    assert r.returncode == 2
    assert r.stderr == f"dbt vm: udp backend: cannot use local port {port}: Address already in use\n".encode()
    assert r.stdout == b""


@pytest.mark.parametrize("text,message", [
    ('ram = [1', b"machine file"),
    ('rams = "1M"', b"unknown keys rams"),
    ('smp = "one"', b"smp must be a int"),
    ('[[disk]]\nreadonly = true', b"a [[disk]] needs path"),
    ('guest = "missing.elf"', b"no such file"),
])
def test_bad_machine_file(tmp_path, text, message):
    (tmp_path / "m.toml").write_text(text)
    r = dbt_vm("--machine", str(tmp_path / "m.toml"))
    assert r.returncode == 2 and message in r.stderr and b"Traceback" not in r.stderr, r.stderr


def test_not_an_elf(tmp_path):
    (tmp_path / "junk").write_bytes(b"not an elf at all" * 10)
    r = dbt_vm(str(tmp_path / "junk"))
    assert r.returncode == 2 and r.stderr == f"dbt vm: {tmp_path / 'junk'}: not an ELF file\n".encode()


def test_ctrl_c_ends_the_vm_cleanly(tmp_path):
    import signal
    import time
    image = tmp_path / "d.img"
    image.write_bytes(bytes(4096))
    guest = str(vm_build.build("netecho"))
    proc = subprocess.Popen([sys.executable, "-m", "dbt", "vm", "--net", "switch:alone", "--disk", str(image),
                             guest], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout.readline() == b"listening\n"  # the guest now polls for frames forever
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err == b"dbt vm: interrupted\n"


def tiny_elf(code: bytes, entry: int = 0x80000000) -> bytes:
    """A minimal RISC-V ELF64 executable: one PT_LOAD segment holding code at entry."""
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 2, 243, 1, entry, 64, 0, 0,
                       64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 120, entry, entry, len(code), len(code), 0x1000)
    return ehdr + phdr + code


def test_guest_fault_without_handler_is_reported(tmp_path):
    guest = tmp_path / "fault.elf"
    guest.write_bytes(tiny_elf(struct.pack("<II", 0x00100093, 0x0000A023)))  # li ra, 1; sw zero, 0(ra)
    r = dbt_vm("--tier", "interp", str(guest))
    assert r.returncode == 125
    assert r.stderr == (b"dbt vm: store/AMO access fault at pc 0x80000004, tval 0x1, in M-mode: "
                        b"no M-mode trap handler (mtvec is 0)\n")

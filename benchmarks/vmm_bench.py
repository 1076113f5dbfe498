"""VMM benchmark: disk throughput, network packet rate, and system mode versus user mode on one loop.

    python benchmarks/vmm_bench.py [--tier jit|auto] [--disk-mb 32] [--packets 300]

- disk: the diskbench guest reads a whole raw image in 64 KiB virtio-blk requests; MB/s of guest reads.
- net: a host UDP socket and the netecho guest play ping-pong through the udp backend; round trips/s.
- compute: samples/vm/compute.c run bare metal in the VM and, built with -DUSER for Linux, under `dbt run`
  (both in-process, same tier); the guest instruction rates are compared (same loop, same compiler).
Nothing here asserts a time: it prints what it measures.
"""
from __future__ import annotations

import argparse
import io
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dbt  # noqa: E402
from dbt.vmm import Machine  # noqa: E402
from dbt.vmm.netdev import UdpBackend  # noqa: E402
from dbt.vmm.virtio.block import Block  # noqa: E402
from dbt.vmm.virtio.net import Net  # noqa: E402
from samples.vm import build as vm_build  # noqa: E402


def bench_disk(tier: str, megabytes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "bench.img"
        image.write_bytes(os.urandom(megabytes << 20))
        out = io.BytesIO()
        m = Machine(ram=32 << 20, tier=tier, output=out)
        m.attach(Block(str(image)))
        m.load(str(vm_build.build("diskbench")))
        t0 = time.perf_counter()
        status = m.run()
        seconds = time.perf_counter() - t0
        m.close()
    assert status == 0 and out.getvalue().startswith(f"read {megabytes << 20} bytes".encode()), out.getvalue()
    return {"disk_read_MB_per_s": round(megabytes / seconds, 1), "disk_seconds": round(seconds, 3)}


def _udp(dst: bytes, src: bytes, payload: bytes) -> bytes:
    udp = struct.pack(">HHHH", 1234, 7, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([10, 0, 2, 2]),
                     bytes([10, 0, 2, 15]))
    s = sum(struct.unpack(">10H", ip))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    ip = ip[:10] + struct.pack(">H", ~s & 0xFFFF) + ip[12:]
    return dst + src + b"\x08\x00" + ip + udp


def bench_net(tier: str, packets: int) -> dict:
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.bind(("127.0.0.1", 0))
    host.settimeout(10)
    backend = UdpBackend(0, "127.0.0.1", host.getsockname()[1])
    vm_mac, me = bytes.fromhex("525400123456"), bytes.fromhex("020000000001")
    m = Machine(ram=16 << 20, tier=tier, output=io.BytesIO())
    m.attach(Net(backend, vm_mac))
    m.load(str(vm_build.build("netecho")))
    t = threading.Thread(target=m.run, daemon=True)
    t.start()
    addr = ("127.0.0.1", backend.port)
    frame = _udp(vm_mac, me, b"x" * 64)
    host.sendto(frame, addr)
    host.recv(2048)  # warm up: the echo path is translated and compiled
    t0 = time.perf_counter()
    for _ in range(packets):
        host.sendto(frame, addr)
        host.recv(2048)
    seconds = time.perf_counter() - t0
    host.sendto(_udp(vm_mac, me, b"quit"), addr)
    host.recv(2048)
    t.join(10)
    m.close()
    host.close()
    return {"net_round_trips_per_s": round(packets / seconds), "net_packets_per_s": round(2 * packets / seconds)}


def _user_binary() -> Path:
    out = vm_build.BUILD_DIR / "compute-user"
    src = vm_build.VM_DIR / "compute.c"
    if not out.is_file() or out.stat().st_mtime < src.stat().st_mtime:
        vm_build.BUILD_DIR.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-linux-musl", "-static", "-O2",
                        "-DUSER", str(src), "-o", str(out)], check=True)
    return out


def bench_compute(tier: str) -> dict:
    out = io.BytesIO()
    m = Machine(ram=16 << 20, tier=tier, output=out)
    m.load(str(vm_build.build("compute")))
    t0 = time.perf_counter()
    assert m.run() == 0 and out.getvalue().startswith(b"result 0x")
    sys_seconds = time.perf_counter() - t0
    sys_insns = m.state.icount
    proc = dbt.load(str(_user_binary()), ["compute"], tier=tier, code_cache=False)
    t0 = time.perf_counter()
    proc.run()
    user_seconds = time.perf_counter() - t0
    user_insns = proc.state.icount
    return {"system_mode_MIPS": round(sys_insns / sys_seconds / 1e6, 1),
            "user_mode_MIPS": round(user_insns / user_seconds / 1e6, 1),
            "system_over_user_time": round(sys_seconds / user_seconds, 2),
            "system_insns": sys_insns, "user_insns": user_insns}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tier", default="jit", choices=("interp", "jit", "auto"))
    p.add_argument("--disk-mb", type=int, default=32)
    p.add_argument("--packets", type=int, default=300)
    args = p.parse_args(argv)
    results = {"tier": args.tier}
    results.update(bench_disk(args.tier, args.disk_mb))
    results.update(bench_net(args.tier, args.packets))
    results.update(bench_compute(args.tier))
    width = max(map(len, results))
    for k, v in results.items():
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Boot each bare-metal guest sample on the VMM and check what it does from outside: console bytes,
exit status, the checksum sector in the disk image, interrupt counts, UDP datagrams through the udp
backend, two VMs over the in-process switch. Every guest runs on the interpreter and on the JIT tiers."""
from __future__ import annotations

import io
import random
import socket
import struct
import threading
import time

import pytest

from dbt.vmm import Machine
from dbt.vmm.netdev import SwitchPort, UdpBackend
from dbt.vmm.virtio.block import Block
from dbt.vmm.virtio.console import Console
from dbt.vmm.virtio.entropy import Entropy
from dbt.vmm.virtio.net import Net
from samples.vm import build as vm_build

TIERS = ("interp", "auto", "jit")
BUDGET = 50_000_000


def boot(name: str, tier: str, *devices, ram: int = 16 << 20) -> tuple[Machine, io.BytesIO]:
    out = io.BytesIO()
    m = Machine(ram=ram, tier=tier, output=out)
    for d in devices:
        m.attach(d)
    m.load(str(vm_build.build(name)))
    return m, out


@pytest.mark.parametrize("tier", TIERS)
def test_hello_htif_then_sbi(tier):
    m, out = boot("hello", tier)
    assert m.run(BUDGET) == 0
    assert out.getvalue() == (b"hello from M-mode, hart 0, devicetree magic 0x00000000d00dfeed\n"
                              b"hello from S-mode, SBI spec version 0x0000000002000000\n"
                              b"hello from the SBI debug console\n")
    assert m.stop_reason == "SBI system reset (type 0, reason 0)"
    assert m.hart.mode == 1  # it ended in S-mode


@pytest.mark.parametrize("tier", TIERS)
def test_timer_interrupts_counted_by_guest_handlers(tier):
    m, out = boot("timer", tier)
    assert m.run(BUDGET) == 0
    assert out.getvalue() == b"M-mode timer interrupts: 5\nS-mode timer interrupts: 3\n"
    assert m.hart.traps == 8  # exactly the interrupts: no exception on the way
    assert m.hart.scause == (1 << 63) | 5


@pytest.mark.parametrize("tier", TIERS)
def test_exceptions_caught_by_guest_handler(tier):
    m, out = boot("illegal", tier)
    assert m.run(BUDGET) == 0
    assert out.getvalue().decode().splitlines() == [
        "trap cause 2 tval 0x00000000ffffffff mpp 3",    # not an instruction
        "trap cause 2 tval 0x00000000c0001073 mpp 3",    # csrw cycle: read-only CSR
        "trap cause 5 tval 0x0000000000001000 mpp 3",    # load from an unmapped address
        "trap cause 2 tval 0x0000000030002573 mpp 0",    # csrr mstatus in U-mode
        "trap cause 8 tval 0x0000000000000000 mpp 0",    # ecall from U-mode
        "traps handled: 5",
    ]


@pytest.mark.parametrize("tier", TIERS)
def test_two_harts_ipi_and_atomics(tier):
    out = io.BytesIO()
    m = Machine(ram=16 << 20, harts=2, tier=tier, output=out)
    m.load(str(vm_build.build("smp")))
    assert m.run(BUDGET) == 0
    assert out.getvalue() == b"hart 1 got 1 IPI, counter 3000\n"
    assert m.harts[1].mcause == (1 << 63) | 3 and m.harts[0].traps == 0
    assert m.harts[1].state["sp"] < m.harts[0].state["sp"]  # each hart on its own stack


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & (2**64 - 1)
    return h


@pytest.mark.parametrize("tier", TIERS)
def test_disk_checksum_written_to_image(tier, tmp_path):
    image = tmp_path / "disk.img"
    content = random.Random(5).randbytes(64 * 512)
    image.write_bytes(content)
    blk = Block(str(image))
    m, out = boot("disk", tier, blk)
    assert m.run(BUDGET) == 0
    m.close()
    h = fnv1a(content[:16 * 512])
    assert out.getvalue().decode().splitlines() == [
        "capacity 64", f"checksum {h:#018x}", "id disk.img", "read past the end: status 1", "interrupts 5"]
    data = image.read_bytes()
    assert data[16 * 512:16 * 512 + 16] == b"dbt-sum\0" + h.to_bytes(8, "little")
    assert data[16 * 512 + 16:17 * 512] == bytes(512 - 16)  # the rest of the result sector
    assert data[:16 * 512] == content[:16 * 512] and data[17 * 512:] == content[17 * 512:]
    assert blk.stats["errors"] == 1 and blk.stats["written_bytes"] == 512


def test_readonly_disk_refuses_writes(tmp_path):
    image = tmp_path / "ro.img"
    content = random.Random(6).randbytes(32 * 512)
    image.write_bytes(content)
    m, out = boot("disk", "interp", Block(str(image), readonly=True))
    assert m.run(BUDGET) == 5  # the guest's "write failed" status
    assert out.getvalue().endswith(b"write failed\n")
    assert image.read_bytes() == content


@pytest.mark.parametrize("tier", ("interp", "jit"))
def test_entropy_reader(tier):
    source = bytes(range(0x40, 0x60))
    rng = Entropy(source=lambda n: source[:n])
    m, out = boot("entropy", tier, rng)
    assert m.run(BUDGET) == 0
    assert out.getvalue() == b"entropy 32:" + source.hex().encode() + b"\n"
    assert rng.bytes_given == 32


@pytest.mark.parametrize("tier", ("interp", "jit"))
def test_virtio_console_hello_and_input(tier):
    m, out = boot("vconsole", tier, Console())
    m.post(lambda: m.feed_input(b"typed\n"))  # arrives once the guest runs
    assert m.run(BUDGET) == 0
    assert out.getvalue() == b"hello from virtio-console\ngot: typed\n"


def _ipsum(header: bytes) -> int:
    s = sum(struct.unpack(">10H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _udp_frame(dst_mac: bytes, src_mac: bytes, payload: bytes) -> bytes:
    udp = struct.pack(">HHHH", 1234, 7, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([10, 0, 2, 2]),
                     bytes([10, 0, 2, 15]))
    ip = ip[:10] + struct.pack(">H", _ipsum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


@pytest.mark.parametrize("tier", ("interp", "auto"))
def test_udp_echo_through_udp_backend(tier):
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.bind(("127.0.0.1", 0))
    host.settimeout(20)
    backend = UdpBackend(0, "127.0.0.1", host.getsockname()[1])
    vm_mac = bytes.fromhex("525400123456")
    m, out = boot("netecho", tier, Net(backend, vm_mac))
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("status", m.run(500_000_000)))
    t.start()
    try:
        me = bytes.fromhex("020000000001")
        arp = (b"\xff" * 6 + me + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + me
               + bytes([10, 0, 2, 2]) + bytes(6) + bytes([10, 0, 2, 15]))
        vm_addr = ("127.0.0.1", backend.port)
        host.sendto(arp, vm_addr)
        reply = host.recv(2048)
        assert reply == (me + vm_mac + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + vm_mac
                         + bytes([10, 0, 2, 15]) + me + bytes([10, 0, 2, 2]))
        frame = _udp_frame(vm_mac, me, b"hello, vm")
        host.sendto(frame, vm_addr)
        echo = host.recv(2048)
        ip, udp = frame[14:34], frame[34:]
        expect_ip = ip[:12] + ip[16:20] + ip[12:16]
        assert echo == me + vm_mac + b"\x08\x00" + expect_ip + udp[2:4] + udp[0:2] + udp[4:]
        assert _ipsum(echo[14:34]) == 0  # still a valid IPv4 header
        host.sendto(_udp_frame(vm_mac, me, b"quit"), vm_addr)
        assert host.recv(2048)[-4:] == b"quit"
    finally:
        t.join(30)
        m.close()
        host.close()
    assert result == {"status": 0}
    assert out.getvalue() == b"listening\narp reply\nudp echo 9\nudp echo 4\n"


def test_two_vms_over_switch():
    server, sout = boot("netecho", "auto", Net(SwitchPort("test-two-vms"), bytes.fromhex("525400000015")))
    client, cout = boot("netping", "auto", Net(SwitchPort("test-two-vms"), bytes.fromhex("525400000016")))
    status = {}
    ts = threading.Thread(target=lambda: status.setdefault("server", server.run(500_000_000)))
    ts.start()
    deadline = time.monotonic() + 20
    while b"listening" not in sout.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    tc = threading.Thread(target=lambda: status.setdefault("client", client.run(500_000_000)))
    tc.start()
    tc.join(60)
    ts.join(60)
    server.close()
    client.close()
    assert status == {"server": 0, "client": 0}
    assert cout.getvalue() == b"peer mac 52:54:00:00:00:15\necho: ping 1\n"
    assert sout.getvalue() == b"listening\narp reply\nudp echo 6\nudp echo 4\n"

"""VMM devices and the monitor without guest programs: a Python virtio driver feeds well-formed and
malformed queues (the monitor survives, status bits as the VIRTIO spec says), the PLIC, the CLINT, the
devicetree; short code snippets check traps, delegation, interrupt priority, MMIO from JIT code and the
reports of guests that cannot go on."""
from __future__ import annotations

import io
import struct

import pytest

from dbt.vmm import STATUS_BUDGET, STATUS_STOPPED, Machine
from dbt.vmm import fdt
from dbt.vmm.machine import RAM_BASE
from dbt.vmm.plic import Plic
from dbt.vmm.priv import MSI, MTI, S
from dbt.vmm.virtio.block import Block
from dbt.vmm.virtio.entropy import Entropy
from dbt.vmm.virtio.mmio import NEEDS_RESET
from tests import riscv_asm as asm

SLOT0 = 0x10001000
QUEUES = RAM_BASE + 0x10000
BUF = RAM_BASE + 0x100000
NEXT, WRITE, INDIRECT = 1, 2, 4
VERSION_1 = 1 << 32


class Driver:
    """A virtio-mmio driver in Python, writing guest RAM and device registers like a guest would."""

    def __init__(self, m: Machine, slot: int = 0, size: int = 8) -> None:
        self.m, self.base, self.size = m, SLOT0 + slot * 0x1000, size
        self.avail_idx = 0

    def r(self, off: int) -> int:
        return self.m.memory.load(self.base + off, 4)

    def w(self, off: int, v: int) -> None:
        self.m.memory.store(self.base + off, 4, v)

    def negotiate(self, features: int) -> int:
        self.w(0x70, 0)
        self.w(0x70, 1)
        self.w(0x70, 3)
        for sel in (0, 1):
            self.w(0x24, sel)
            self.w(0x20, features >> (32 * sel) & 0xFFFFFFFF)
        self.w(0x70, 3 | 8)
        return self.r(0x70)

    def queue(self, q: int = 0) -> tuple[int, int, int]:
        base = QUEUES + 0x4000 * q
        return base, base + 0x1000, base + 0x2000

    def init(self, features: int = VERSION_1, queues: int = 1) -> None:
        assert self.negotiate(features) & 8
        for q in range(queues):
            self.setup_queue(q)
        self.w(0x70, 1 | 2 | 8 | 4)

    def setup_queue(self, q: int, size: int | None = None, desc: int | None = None) -> None:
        d, a, u = self.queue(q)
        self.w(0x30, q)
        self.w(0x38, size or self.size)
        for off, addr in ((0x80, desc if desc is not None else d), (0x90, a), (0xA0, u)):
            self.w(off, addr & 0xFFFFFFFF)
            self.w(off + 4, addr >> 32)
        self.w(0x44, 1)

    def desc(self, i: int, addr: int, length: int, flags: int = 0, nxt: int = 0, q: int = 0,
             table: int | None = None) -> None:
        table = self.queue(q)[0] if table is None else table
        self.m.write(table + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def offer(self, head: int, q: int = 0, idx: int | None = None) -> None:
        _, a, _ = self.queue(q)
        self.m.write(a + 4 + 2 * (self.avail_idx % self.size), struct.pack("<H", head))
        self.avail_idx += 1
        self.m.write(a + 2, struct.pack("<H", self.avail_idx if idx is None else idx))
        self.w(0x50, q)

    def used(self, q: int = 0) -> list[tuple[int, int]]:
        _, _, u = self.queue(q)
        n = struct.unpack("<H", self.m.read(u + 2, 2))[0]
        return [struct.unpack("<II", self.m.read(u + 4 + 8 * i, 8)) for i in range(n)]


@pytest.fixture
def disk(tmp_path):
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(i % 251 for i in range(8 * 512)))
    return image


def block_machine(path, readonly=False) -> tuple[Machine, Driver, Block]:
    m = Machine(ram=8 << 20, tier="interp", output=io.BytesIO())
    dev = Block(str(path), readonly=readonly)
    m.attach(dev)
    return m, Driver(m), dev


def block_request(drv: Driver, kind: int, sector: int, data_len: int, data_flags: int = WRITE,
                  data: bytes = b"") -> tuple[int, list]:
    """Submit header, data and status descriptors; returns (status byte, used entries)."""
    m = drv.m
    m.write(BUF, struct.pack("<IIQ", kind, 0, sector))
    m.write(BUF + 0x1000, data.ljust(data_len, b"\0"))
    m.write(BUF + 0x3000, b"\xee")
    drv.desc(0, BUF, 16, NEXT, 1)
    drv.desc(1, BUF + 0x1000, data_len, data_flags | NEXT, 2)
    drv.desc(2, BUF + 0x3000, 1, WRITE)
    drv.offer(0)
    return m.read(BUF + 0x3000, 1)[0], drv.used()


# -- transport ---------------------------------------------------------------------------------------------
def test_mmio_identity_and_config(disk):
    m, drv, _ = block_machine(disk)
    assert [drv.r(o) for o in (0x000, 0x004, 0x008, 0x00C)] == [0x74726976, 2, 2, 0x00746264]
    assert Driver(m, slot=1).r(0x008) == 0  # an empty slot
    drv.w(0x30, 0)
    assert drv.r(0x034) == 128
    assert m.memory.load(SLOT0 + 0x100, 8) == 8  # capacity in sectors
    assert m.memory.load(SLOT0 + 0x114, 4) == 512  # blk_size


def test_feature_negotiation(disk):
    _, drv, _ = block_machine(disk)
    assert drv.negotiate(0) & 8 == 0                      # without VERSION_1: refused
    assert drv.negotiate(VERSION_1 | 1) & 8 == 0          # a feature the device does not offer
    assert drv.negotiate(VERSION_1 | 1 << 9) == 1 | 2 | 8  # VERSION_1 and FLUSH: accepted


def test_block_read_sets_used_ring_and_interrupt(disk):
    m, drv, _ = block_machine(disk)
    drv.init()
    status, used = block_request(drv, 0, 2, 1024)
    assert status == 0 and used == [(0, 1025)]
    assert m.read(BUF + 0x1000, 1024) == disk.read_bytes()[1024:2048]
    assert drv.r(0x060) == 1 and m.plic.level[1] and m.plic.pending >> 1 & 1
    drv.w(0x064, 1)
    assert drv.r(0x060) == 0 and not m.plic.level[1]


def test_block_write_and_flush(disk):
    _, drv, dev = block_machine(disk)
    drv.init(VERSION_1 | 1 << 9)
    status, used = block_request(drv, 1, 3, 512, data_flags=0, data=b"\x5a" * 512)
    assert status == 0 and used == [(0, 1)]
    dev.flush()
    assert disk.read_bytes()[3 * 512:4 * 512] == b"\x5a" * 512


@pytest.mark.parametrize("kind,sector,length,flags,expect", [
    (0, 7, 1024, WRITE, 1),      # read past the end
    (0, 8, 512, WRITE, 1),       # starts at the end
    (0, 0, 100, WRITE, 1),       # not whole sectors
    (1, 7, 1024, 0, 1),          # write past the end
    (1, 2**63, 512, 0, 1),       # absurd sector
    (8, 0, 8, WRITE, 1),         # GET_ID with less than 20 bytes
    (99, 0, 512, WRITE, 2),      # unknown request: UNSUPP
])
def test_block_bad_requests_get_status_and_touch_nothing(disk, kind, sector, length, flags, expect):
    _, drv, dev = block_machine(disk)
    before = disk.read_bytes()
    drv.init()
    status, used = block_request(drv, kind, sector, length, data_flags=flags, data=b"\x77" * length)
    assert status == expect and len(used) == 1
    dev.flush()
    assert disk.read_bytes() == before
    assert drv.r(0x070) & NEEDS_RESET == 0


def test_readonly_disk_write_is_ioerr(disk):
    _, drv, _ = block_machine(disk, readonly=True)
    before = disk.read_bytes()
    drv.init(VERSION_1 | 1 << 5)
    assert block_request(drv, 1, 0, 512, data_flags=0, data=b"x" * 512)[0] == 1
    assert disk.read_bytes() == before


MALFORMED = {  # case -> (how to build it, what the device reports)
    "loop": (lambda d: (d.desc(0, BUF, 16, NEXT, 1), d.desc(1, BUF + 0x1000, 512, NEXT, 0)), "loops"),
    "next out of range": (lambda d: d.desc(0, BUF, 16, NEXT, 200), "next descriptor 200 is outside"),
    "buffer outside RAM": (lambda d: (d.desc(0, 0x1000, 16, NEXT, 1), d.desc(1, BUF, 1, WRITE)),
                           "buffer at 0x1000+0x10 is not in RAM"),
    "buffer past RAM end": (lambda d: (d.desc(0, BUF, 16, NEXT, 1),
                                       d.desc(1, RAM_BASE + (8 << 20) - 8, 512, WRITE)), "is not in RAM"),
    "readable after writable": (lambda d: (d.desc(0, BUF, 16, WRITE | NEXT, 1), d.desc(1, BUF + 0x1000, 16)),
                                "device-readable descriptor after a device-writable one"),
    "oversized length": (lambda d: (d.desc(0, BUF, 16, NEXT, 1), d.desc(1, BUF, 0xFFFFFFFF, WRITE)),
                         "+0xffffffff is not in RAM"),
    "indirect not 16-byte entries": (lambda d: d.desc(0, BUF + 0x2000, 24, INDIRECT), "indirect table"),
    "nested indirect": (lambda d: (d.desc(0, BUF + 0x2000, 16, INDIRECT),
                                   d.desc(0, BUF + 0x2000, 16, INDIRECT, table=BUF + 0x2000)),
                        "nested or chained indirect"),
    "indirect loop": (lambda d: (d.desc(0, BUF + 0x2000, 32, INDIRECT),
                                 d.desc(0, BUF, 16, NEXT, 1, table=BUF + 0x2000),
                                 d.desc(1, BUF, 1, NEXT, 0, table=BUF + 0x2000)), "loops"),
    "no status byte": (lambda d: d.desc(0, BUF, 16), "has no status byte"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_chain_needs_reset(disk, case):
    m, drv, dev = block_machine(disk)
    before = disk.read_bytes()
    drv.init()
    m.write(BUF, struct.pack("<IIQ", 1, 0, 0))  # a write request, if anything were carried out
    build, report = MALFORMED[case]
    build(drv)
    drv.offer(0)
    assert drv.r(0x070) & NEEDS_RESET
    assert drv.r(0x060) & 2  # configuration change interrupt
    assert drv.used() == []
    assert len(m.device_errors()) == 1 and m.device_errors()[0].startswith("virtio slot 0 (block): ")
    assert report in m.device_errors()[0]
    dev.flush()
    assert disk.read_bytes() == before
    # a reset brings the device back, and a good request works again
    drv.w(0x070, 0)
    assert drv.r(0x070) == 0 and drv.r(0x060) == 0
    drv.avail_idx = 0
    m.write(drv.queue()[1], bytes(4))
    m.write(drv.queue()[2], bytes(4))
    drv.init()
    assert block_request(drv, 0, 0, 512) == (0, [(0, 513)])


def test_indirect_chain_is_served(disk):
    m, drv, _ = block_machine(disk)
    drv.init()
    table = BUF + 0x2000
    m.write(BUF, struct.pack("<IIQ", 0, 0, 1))
    drv.desc(0, BUF, 16, NEXT, 1, table=table)
    drv.desc(1, BUF + 0x1000, 512, WRITE | NEXT, 2, table=table)
    drv.desc(2, BUF + 0x3000, 1, WRITE, table=table)
    drv.desc(5, table, 48, INDIRECT)
    drv.offer(5)
    assert drv.used() == [(5, 513)]
    assert m.read(BUF + 0x1000, 512) == disk.read_bytes()[512:1024] and m.read(BUF + 0x3000, 1) == b"\0"


def test_avail_index_too_far_ahead(disk):
    _, drv, _ = block_machine(disk)
    drv.init()
    drv.desc(0, BUF, 16)
    drv.offer(0, idx=100)
    assert drv.r(0x070) & NEEDS_RESET and drv.used() == []


@pytest.mark.parametrize("size,desc", [(6, None), (256, None), (8, 0x1000), (8, RAM_BASE + 8)])
def test_bad_queue_setup_needs_reset(disk, size, desc):
    _, drv, _ = block_machine(disk)
    assert drv.negotiate(VERSION_1) & 8
    drv.setup_queue(0, size=size, desc=desc)
    assert drv.r(0x070) & NEEDS_RESET
    drv.w(0x30, 0)
    assert drv.r(0x044) == 0  # the queue did not become ready


def test_notify_before_driver_ok_is_ignored(disk):
    _, drv, _ = block_machine(disk)
    assert drv.negotiate(VERSION_1) & 8
    drv.setup_queue(0)
    drv.desc(0, BUF, 16)
    drv.offer(0)
    assert drv.used() == [] and drv.r(0x070) == 1 | 2 | 8


def test_driver_ok_without_features_ok_needs_reset(disk):
    _, drv, _ = block_machine(disk)
    drv.w(0x70, 1 | 2 | 4)
    assert drv.r(0x070) & NEEDS_RESET and not drv.r(0x070) & 4


def test_entropy_rejects_readable_buffers():
    m = Machine(ram=8 << 20, tier="interp", output=io.BytesIO())
    rng = Entropy(source=lambda n: b"\xab" * n)
    m.attach(rng)
    drv = Driver(m)
    drv.init()
    drv.desc(0, BUF, 16, WRITE)
    drv.offer(0)
    assert drv.used() == [(0, 16)] and m.read(BUF, 16) == b"\xab" * 16
    drv.desc(1, BUF, 16, NEXT, 2)
    drv.desc(2, BUF + 16, 16, WRITE)
    drv.offer(1)
    assert drv.r(0x070) & NEEDS_RESET and len(drv.used()) == 1


def test_register_misuse_is_harmless(disk):
    m, drv, _ = block_machine(disk)
    for off in range(0, 0x100, 4):
        drv.w(off, 0xFFFFFFFF)      # every register, nonsense values
    for off in (0x0, 0x10, 0x60, 0x70):
        m.memory.store(SLOT0 + off + 1, 1, 0xFF)  # byte writes are ignored
    drv.w(0x50, 12345)              # notify a queue that does not exist
    assert drv.r(0x000) == 0x74726976


# -- interrupt controller, timer, devicetree ------------------------------------------------------------
def test_plic_priority_threshold_claim_complete():
    p = Plic()
    p.write(4 * 3, 4, 2)     # source 3 priority 2
    p.write(4 * 5, 4, 5)     # source 5 priority 5
    p.write(0x2000, 4, (1 << 3) | (1 << 5))  # context 0 enables 3 and 5
    p.set_level(3, True)
    p.set_level(5, True)
    assert p.read(0x1000, 4) == (1 << 3) | (1 << 5)
    assert p.irq(0) and not p.irq(1)  # context 1 (S) enables nothing
    p.write(0x200000, 4, 5)  # threshold 5: nothing above it
    assert not p.irq(0) and p.read(0x200004, 4) == 0
    p.write(0x200000, 4, 1)
    assert p.read(0x200004, 4) == 5  # the higher priority first
    assert p.read(0x200004, 4) == 3
    assert p.read(0x200004, 4) == 0 and not p.irq(0)
    p.set_level(3, False)
    p.write(0x200004, 4, 3)  # complete 3: its line is low, it stays quiet
    p.write(0x200004, 4, 5)  # complete 5: still high, pends again
    assert p.pending == 1 << 5 and p.read(0x200004, 4) == 5


def test_clint_registers():
    m = Machine(ram=8 << 20, tier="interp")
    mem = m.memory
    mem.store(0x2004000, 4, 0x1234)
    mem.store(0x2004004, 4, 0x1)
    assert mem.load(0x2004000, 8) == 0x100001234
    t1 = mem.load(0x200BFF8, 8)
    t2 = mem.load(0x200BFF8, 8)
    assert 0 < t1 <= t2
    mem.store(0x2000000, 4, 3)
    assert mem.load(0x2000000, 4) == 1 and m.hart.mip() >> MSI & 1


def test_devicetree_describes_the_machine():
    m = Machine(ram=32 << 20, tier="interp")
    m.boot(RAM_BASE)
    blob = m.read(m.dtb_address, 4096)
    assert m.state["a1"] == m.dtb_address and m.state["a0"] == 0
    root = fdt.parse(blob)
    assert root.find("memory@80000000").props["reg"] == struct.pack(">4I", 0, RAM_BASE, 0, 32 << 20)
    assert root.find("cpus").props["timebase-frequency"] == struct.pack(">I", 10_000_000)
    assert root.find("cpus/cpu@0").props["riscv,isa"] == b"rv64imafdc\0"
    virtio = [c for c in root.find("soc").children if c.name.startswith("virtio_mmio@")]
    assert [c.props["interrupts"] for c in virtio] == [struct.pack(">I", n) for n in range(1, 9)]
    assert virtio[0].props["reg"] == struct.pack(">4I", 0, 0x10001000, 0, 0x1000)


# -- the monitor on code snippets ----------------------------------------------------------------------
def snippet(words: list[int], tier: str = "interp", at: int = RAM_BASE) -> Machine:
    m = Machine(ram=8 << 20, tier=tier, output=io.BytesIO())
    m.write(at, asm.to_bytes(*words))
    m.boot(RAM_BASE)
    return m


def li(rd: int, v: int) -> list[int]:
    return asm.li_sequence(rd, v)


MRET, WFI, SELF_LOOP = 0x30200073, 0x10500073, 0x0000006F  # jal x0, 0


def csrw(csr: int, rs: int) -> int:
    return asm.csrrw(0, csr, rs)


@pytest.mark.parametrize("tier", ("interp", "jit"))
def test_unmapped_store_without_handler_stops_with_report(tier):
    m = snippet([*li(5, 0x40), asm.sw(0, 8, 5)], tier)
    assert m.run(10_000) == STATUS_STOPPED
    pc = RAM_BASE + 4 * len(li(5, 0x40))
    assert m.stop_reason == (f"store/AMO access fault at pc {pc:#x}, tval 0x48, in M-mode: "
                             "no M-mode trap handler (mtvec is 0)")


def test_trap_loop_is_reported():
    m = snippet([*li(5, 0x1000), csrw(0x305, 5), 0xFFFFFFFF])  # mtvec -> nothing mapped
    assert m.run(10_000) == STATUS_STOPPED
    assert "instruction access fault at pc 0x1000" in m.stop_reason and "trap loop" in m.stop_reason


def test_wfi_with_nothing_to_wake_it_is_reported():
    m = snippet([WFI])
    assert m.run(10_000) == STATUS_STOPPED
    assert m.stop_reason.startswith("wfi at pc 0x80000000 with no interrupt that can wake it")


@pytest.mark.parametrize("tier", ("interp", "jit"))
def test_mmio_from_translated_loop(tier):
    # 300 times: mtimecmp = a0; a1 = mtimecmp + a1 (8-byte MMIO store and load in a hot loop)
    body = [*li(5, 0x2004000), *li(6, 300), asm.addi(10, 0, 7), asm.addi(11, 0, 0),
            asm.sd(10, 0, 5), asm.ld(12, 0, 5), asm.add(11, 11, 12), asm.addi(10, 10, 1),
            asm.addi(6, 6, -1), asm.bne(6, 0, -20), SELF_LOOP]
    m = snippet(body, tier)
    assert m.run(5_000) == STATUS_BUDGET
    assert m.state["a1"] == sum(range(7, 307)) and m.clint.mtimecmp[0] == 306


def test_delegated_illegal_instruction_from_u_mode_goes_to_s_mode():
    u_code, s_handler = RAM_BASE + 0x100, RAM_BASE + 0x200
    words = [*li(5, 1 << 2), csrw(0x302, 5),         # medeleg: illegal instruction
             *li(5, s_handler), csrw(0x105, 5),      # stvec
             *li(5, u_code), csrw(0x341, 5),         # mepc
             *li(5, 3 << 11), asm.csrrc(0, 0x300, 5),  # mstatus.MPP = U
             MRET]
    m = snippet(words)
    m.write(u_code, asm.to_bytes(0xFFFFFFFF))
    m.write(s_handler, asm.to_bytes(SELF_LOOP))
    assert m.run(1_000) == STATUS_BUDGET
    h = m.hart
    assert (h.mode, h.scause, h.sepc, h.stval, m.state.pc) == (S, 2, u_code, 0xFFFFFFFF, s_handler)
    assert h.mstatus >> 8 & 1 == 0 and h.mcause == 0  # SPP = U; M-mode saw nothing


def test_interrupt_priority_msi_before_mti():
    handler = RAM_BASE + 0x400
    words = [*li(5, handler), csrw(0x305, 5),
             *li(5, 0x2000000), asm.addi(6, 0, 1), asm.sw(6, 0, 5),     # msip = 1
             *li(5, 0x2004000), asm.sd(0, 0, 5),                         # mtimecmp = 0: MTIP
             *li(5, (1 << MSI) | (1 << MTI)), csrw(0x304, 5),            # mie
             asm.csrrsi(0, 0x300, 8),                                    # mstatus.MIE
             SELF_LOOP]
    m = snippet(words)
    m.write(handler, asm.to_bytes(SELF_LOOP))
    assert m.run(1_000) == STATUS_BUDGET
    assert m.hart.mcause == (1 << 63) | MSI and m.state.pc == handler
    assert m.hart.mstatus >> 7 & 1  # MPIE kept the old MIE


def test_htif_proxied_write_and_exit_from_guest_code():
    from dbt.vmm.htif import Htif
    tohost, magic1, magic2, text = RAM_BASE + 0x1000, RAM_BASE + 0x2000, RAM_BASE + 0x2040, RAM_BASE + 0x2100
    m = snippet([*li(5, tohost), *li(6, magic1), asm.sd(6, 0, 5), *li(6, magic2), asm.sd(6, 0, 5), SELF_LOOP])
    m.htif = Htif(m.memory, tohost, tohost + 8, m.console_write)
    m.write(text, b"hi there\n")
    m.write(magic1, struct.pack("<4Q", 64, 1, text, 9))   # write(1, text, 9)
    m.write(magic2, struct.pack("<4Q", 93, 7, 0, 0))      # exit(7)
    assert m.run(10_000) == 7
    assert m.output.getvalue() == b"hi there\n" and m.stop_reason == "HTIF exit with status 7"
    assert m.read(magic1, 8) == struct.pack("<Q", 9)      # write's result
    assert m.read(tohost + 8, 8) == struct.pack("<Q", 1)  # fromhost: the reply to device 0
    exiting_sd = len(li(5, tohost)) + len(li(6, magic1)) + 1 + len(li(6, magic2))
    assert m.state.pc == RAM_BASE + 4 * exiting_sd and m.state.icount == exiting_sd


def test_wfi_with_all_interrupts_masked_stops_even_with_network():
    from dbt.vmm.netdev import SwitchPort
    from dbt.vmm.virtio.net import Net
    m = snippet([WFI])
    m.attach(Net(SwitchPort("test-wfi-masked")))
    assert m.run(10_000) == STATUS_STOPPED and "wfi at pc 0x80000000" in m.stop_reason


def test_sbi_calls():
    m = Machine(ram=8 << 20, harts=3, tier="interp", output=io.BytesIO())
    h = m.hart
    h.mode = S

    def call(ext, fid, *args):
        for reg, v in zip(("a0", "a1", "a2"), args):
            h.state[reg] = v
        h.state["a7"], h.state["a6"] = ext, fid
        assert m.sbi_call(h)
        return h.state["a0"], h.state["a1"]

    assert call(0x10, 3, 0x735049) == (0, 1)                 # probe IPI: present
    assert call(0x10, 3, 0x12345) == (0, 0)                  # probe: absent
    assert call(0x12345, 0) == (2**64 - 2, 0)                # unknown extension: ERR_NOT_SUPPORTED
    assert call(0x735049, 0, 0b101, 0) == (0, 0)             # IPI to harts 0 and 2
    assert [x.mip_sw >> 1 & 1 for x in m.harts] == [1, 0, 1]
    assert call(0x735049, 0, 0b1, 5)[0] == 2**64 - 3         # no hart 5: ERR_INVALID_PARAM
    assert call(0x48534D, 2, 2) == (0, 0) and call(0x48534D, 2, 3)[0] == 2**64 - 3
    m.write(RAM_BASE + 0x100, b"dbcn!")
    assert call(0x4442434E, 0, 5, RAM_BASE + 0x100, 0) == (0, 5) and m.output.getvalue() == b"dbcn!"
    assert call(0x4442434E, 0, 5, 0x1000, 0)[0] == 2**64 - 3  # not RAM
    m.feed_input(b"k")
    assert call(2, 0) == (ord("k"), 0) and call(2, 0)[0] == 2**64 - 1  # legacy getchar, then none
    assert call(0x54494D45, 0, 12345) == (0, 0) and m.stimecmp[0] == 12345
    h.mtvec = 0x80000000
    assert not m.sbi_call(h)  # with an M-mode handler installed, "auto" leaves ecalls to the guest


def test_console_input_reaches_receive_buffers():
    from dbt.vmm.virtio.console import Console
    m = Machine(ram=8 << 20, tier="interp", output=io.BytesIO())
    m.attach(Console())
    drv = Driver(m)
    drv.init(queues=2)
    m.feed_input(b"early")                  # no buffer yet: it waits
    drv.desc(0, BUF, 3, WRITE)
    drv.offer(0)                            # a 3-byte buffer takes "ear"
    assert drv.used() == [(0, 3)] and m.read(BUF, 3) == b"ear"
    drv.desc(1, BUF + 0x100, 16, WRITE)
    drv.offer(1)
    assert drv.used() == [(0, 3), (1, 2)] and m.read(BUF + 0x100, 2) == b"ly"
    drv.desc(2, BUF + 0x200, 16)            # device-readable in the receive queue
    drv.offer(2)
    m.feed_input(b"x")
    assert drv.r(0x070) & NEEDS_RESET and len(drv.used()) == 2


def test_net_frames_both_ways_and_bad_chains():
    from dbt.vmm.netdev import SwitchPort
    from dbt.vmm.virtio.net import Net
    m = Machine(ram=8 << 20, tier="interp", output=io.BytesIO())
    other = SwitchPort("test-net-dev")
    heard = []
    other.deliver = heard.append
    net = Net(SwitchPort("test-net-dev"), bytes.fromhex("525400aabbcc"))
    m.attach(net)
    drv = Driver(m)
    drv.init(VERSION_1 | 1 << 5, queues=2)
    assert m.memory.load(SLOT0 + 0x100, 4) == 0xAA005452  # the MAC in the configuration space
    frame = bytes.fromhex("ffffffffffff525400aabbcc0800") + b"payload"
    m.write(BUF, bytes(12) + frame)
    drv.desc(0, BUF, 12 + len(frame), q=1)
    drv.offer(0, q=1)
    assert heard == [frame] and drv.used(1) == [(0, 0)]
    m.write(BUF, bytes(12 + 1600))
    drv.desc(1, BUF, 12 + 1600, q=1)          # an oversized frame is dropped, the chain returned
    drv.offer(1, q=1)
    assert len(heard) == 1 and net.stats["dropped"] == 1 and len(drv.used(1)) == 2
    drv.desc(0, BUF + 0x1000, 1526, WRITE)
    drv.offer(0)
    net.receive(b"\x52\x54\x00\xaa\xbb\xcc" + b"\x02" * 6 + b"\x08\x00hello")
    assert drv.used() == [(0, 12 + 19)]
    assert m.read(BUF + 0x1000, 12) == struct.pack("<BBHHHHH", 0, 0, 0, 0, 0, 0, 1)
    assert m.read(BUF + 0x1000 + 12 + 14, 5) == b"hello"
    drv.desc(1, BUF + 0x2000, 16, WRITE, q=1)  # writable buffer in the transmit queue
    drv.offer(1, q=1)
    assert drv.r(0x070) & NEEDS_RESET


@pytest.mark.parametrize("insn,size,cause,tval_is_pc", [
    (0x00100073, 4, 3, True),     # ebreak
    (0x9002, 2, 3, True),         # c.ebreak
    (0x00000073, 4, 11, False),   # ecall from M-mode
    (0x10200073, 4, 1, False),    # sret in M-mode: back to U-mode at sepc = 0, where fetching faults
])
def test_breakpoints_and_ecall_in_m_mode(insn, size, cause, tval_is_pc):
    handler = RAM_BASE + 0x400
    setup = [*li(5, handler), csrw(0x305, 5)]
    at = RAM_BASE + 4 * len(setup)
    m = snippet(setup)
    m.write(at, struct.pack("<I" if size == 4 else "<H", insn))
    m.write(handler, asm.to_bytes(SELF_LOOP))
    assert m.run(100) == STATUS_BUDGET
    h = m.hart
    if insn == 0x10200073:  # sret from M-mode: to U-mode at sepc (0), where fetching faults
        assert (h.mcause, h.mepc, h.mtval, h.mstatus >> 11 & 3) == (1, 0, 0, 0)
        return
    assert (h.mcause, h.mepc, h.mtval) == (cause, at, at if tval_is_pc else 0)
    assert m.state.pc == handler and h.mode == 3

"""A RISC-V virtual machine laid out like QEMU's `virt`: RAM at 0x80000000, CLINT, PLIC, eight
virtio-mmio slots, a devicetree in RAM, and the monitor loop that runs translated guest code in bounded
slices, delivers interrupts at block boundaries and emulates what the translated code hands back."""
from __future__ import annotations

import os
import queue
import sys
import threading
from time import perf_counter
from typing import BinaryIO, Callable

from frontends.riscv64.sysmode import FRONTEND

from ..engine import Engine, Exit
from ..exits import Access, ExitKind
from . import clint as clint_mod
from . import fdt
from . import plic as plic_mod
from .bus import PhysicalMemory
from .emulate import emulate
from .htif import Htif, MachineExit
from .loader import EM_RISCV, Image, LoadError, load_elf
from .priv import (ILLEGAL_INSN, INSN_ACCESS, LOAD_ACCESS, MEI, MSI, MTI, SEI, STI, STORE_ACCESS, GuestStopped,
                   Hart)
from .sbi import Sbi
from .virtio.mmio import VirtioMMIO

RAM_BASE = 0x80000000
DEFAULT_RAM = 128 << 20
VIRTIO_BASE, VIRTIO_STRIDE, VIRTIO_SLOTS, VIRTIO_FIRST_IRQ = 0x10001000, 0x1000, 8, 1
SLICE = 20_000           # guest instructions between interrupt checks
MIN_SLICE = 200          # the shortest slice run to meet a timer deadline
MAX_IDLE = 0.05          # seconds a wfi sleeps before looking again
STATUS_BUDGET = 124      # the instruction budget ran out
STATUS_STOPPED = 125     # the guest could not go on (fault with no handler, trap loop, dead wfi)
FAULT_CAUSE = {Access.READ: LOAD_ACCESS, Access.WRITE: STORE_ACCESS, Access.EXEC: INSN_ACCESS}
NEVER = (1 << 64) - 1
MAX_HARTS = 8
INTC_PHANDLE, PLIC_PHANDLE = 1, 100  # hart i's interrupt controller is INTC_PHANDLE + i


class Machine:
    """One RISC-V machine: memory, devices, harts, and the monitor that runs them.

    Harts take turns in slices of guest instructions on the monitor thread (one engine each, sharing
    guest memory); a hart in wfi sits out until an interrupt for it is pending."""

    def __init__(self, ram: int = DEFAULT_RAM, harts: int = 1, tier: str = "auto",
                 output: BinaryIO | None = None, sbi: str = "auto", slice_insns: int = SLICE) -> None:
        if not 1 <= harts <= MAX_HARTS:
            raise ValueError(f"harts must be between 1 and {MAX_HARTS}")
        if sbi not in ("auto", "on", "off"):
            raise ValueError(f"sbi must be auto, on or off, not {sbi!r}")
        self.memory = PhysicalMemory(RAM_BASE, ram)
        self.output = output if output is not None else sys.stdout.buffer
        self.input: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.console_input = False  # True once host input is read (start_console_input)
        self.events: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.wake = threading.Event()
        self.async_sources = 0   # backends that can raise interrupts on their own (net, console input)
        self.clint = clint_mod.Clint(harts)
        self.plic = plic_mod.Plic(harts)
        self.memory.add_device(clint_mod.BASE, clint_mod.SIZE, self.clint)
        self.memory.add_device(plic_mod.BASE, plic_mod.SIZE, self.plic)
        self.slots: list[VirtioMMIO] = []
        for n in range(VIRTIO_SLOTS):
            slot = VirtioMMIO(self.memory, self._irq_line(VIRTIO_FIRST_IRQ + n))
            self.slots.append(slot)
            self.memory.add_device(VIRTIO_BASE + n * VIRTIO_STRIDE, VIRTIO_STRIDE, slot)
        self.stimecmp = [NEVER] * harts   # SBI set_timer deadlines
        self.engines = [Engine(FRONTEND, self.memory, tier) for _ in range(harts)]
        self._share_code_pages()
        self.harts = [Hart(i, e.state, self._lines_of(i), self.clint.mtime) for i, e in enumerate(self.engines)]
        self.engine, self.hart = self.engines[0], self.harts[0]
        self.sbi_mode = sbi
        self.sbi = Sbi(self)
        self.htif: Htif | None = None
        self.image: Image | None = None
        self.dtb_address = 0
        self.slice = slice_insns
        self.insns_per_tick = 1.0  # measured guest speed, for slices that end at timer deadlines
        self.stop_reason = ""
        self.waiting = [False] * harts   # harts sitting in wfi
        self.stop_request: tuple[int, str] | None = None  # (status, reason) asked for by request_stop
        self.exit_handlers: dict[ExitKind, Callable[[Hart, Exit], None]] = {
            ExitKind.PRIV: self._on_priv, ExitKind.FAULT: self._on_fault, ExitKind.UNDEF: self._on_undef,
            ExitKind.SYSCALL: self._on_priv, ExitKind.BREAK: self._on_priv, ExitKind.HALT: self._on_priv,
        }

    def _share_code_pages(self) -> None:
        """Every engine hears about writes to guest code, and no engine stops watching a page another
        engine still holds translations of."""
        translators = [e.translator for e in self.engines]
        if len(translators) == 1:
            return
        hooks = [t.invalidate for t in translators]

        def written(addr: int, size: int) -> None:
            for hook in hooks:
                hook(addr, size)
        self.memory.code_write_hook = written
        for t in translators:
            for other in translators:
                if other is not t:
                    t.holders.append(lambda page, o=other: page in o.by_page)

    # -- building the machine ------------------------------------------------------------------------
    def attach(self, device) -> int:
        """Put a virtio device in the first free slot; returns its interrupt number."""
        for n, slot in enumerate(self.slots):
            if slot.device is None:
                slot.attach(device)
                device.machine = self
                device.attached()
                return VIRTIO_FIRST_IRQ + n
        raise ValueError(f"all {VIRTIO_SLOTS} virtio slots are taken")

    def load(self, path: str) -> Image:
        """Load a bare-metal guest ELF, write the devicetree, and set the boot registers."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise LoadError(f"{path}: {e.strerror}") from None
        image = load_elf(self.memory, data, path)
        if image.machine != EM_RISCV:
            raise LoadError(f"{path}: not a RISC-V ELF (e_machine {image.machine})")
        self.image = image
        tohost = image.symbols.get("tohost")
        if tohost is not None:
            self.htif = Htif(self.memory, tohost, image.symbols.get("fromhost"), self.console_write)
        self.boot(image.entry)
        return image

    def boot(self, entry: int) -> None:
        """Start every hart in M-mode at entry with a0 = its hart id and a1 = the devicetree address."""
        blob = fdt.build(self.devicetree())
        self.dtb_address = (self.memory.ram_end - len(blob) - 0x1000) & ~0xFFF
        self.memory.poke(self.dtb_address, blob)
        for hart in self.harts:
            st = hart.state
            st.pc = entry
            st["a0"], st["a1"] = hart.hartid, self.dtb_address

    def devicetree(self) -> fdt.Node:
        """The machine described as a devicetree."""
        mem = self.memory
        root = fdt.Node("", {"#address-cells": 2, "#size-cells": 2, "compatible": "riscv-virtio",
                             "model": "dbt,virt"})
        root.child("chosen", {"bootargs": "", "stdout-path": "/soc"})
        root.child(f"memory@{RAM_BASE:x}", {"device_type": "memory", "reg": fdt.cells64(RAM_BASE, mem.ram_size)})
        cpus = root.child("cpus", {"#address-cells": 1, "#size-cells": 0, "timebase-frequency": self.clint.hz})
        intc = []  # interrupts-extended cells per hart: (phandle of its controller, irq)
        for hart in self.harts:
            phandle = INTC_PHANDLE + hart.hartid
            cpu = cpus.child(f"cpu@{hart.hartid}", {"device_type": "cpu", "reg": hart.hartid, "status": "okay",
                                                    "compatible": "riscv", "riscv,isa": "rv64imafdc",
                                                    "mmu-type": "riscv,none"})
            cpu.child("interrupt-controller", {"#interrupt-cells": 1, "interrupt-controller": None,
                                               "compatible": "riscv,cpu-intc", "phandle": phandle})
            intc.append(phandle)
        soc = root.child("soc", {"#address-cells": 2, "#size-cells": 2, "compatible": "simple-bus",
                                 "ranges": None})
        soc.child(f"clint@{clint_mod.BASE:x}", {"compatible": "riscv,clint0",
                                                 "reg": fdt.cells64(clint_mod.BASE, clint_mod.SIZE),
                                                 "interrupts-extended": [c for p in intc for c in (p, MSI, p, MTI)]})
        soc.child(f"plic@{plic_mod.BASE:x}", {"compatible": "riscv,plic0", "#interrupt-cells": 1,
                                               "interrupt-controller": None, "phandle": PLIC_PHANDLE,
                                               "reg": fdt.cells64(plic_mod.BASE, plic_mod.SIZE),
                                               "riscv,ndev": plic_mod.NSOURCES - 1,
                                               "interrupts-extended": [c for p in intc for c in (p, MEI, p, SEI)]})
        for n in range(VIRTIO_SLOTS):
            base = VIRTIO_BASE + n * VIRTIO_STRIDE
            soc.child(f"virtio_mmio@{base:x}", {"compatible": "virtio,mmio", "interrupt-parent": PLIC_PHANDLE,
                                                 "interrupts": VIRTIO_FIRST_IRQ + n,
                                                 "reg": fdt.cells64(base, VIRTIO_STRIDE)})
        if self.htif is not None:
            root.child("htif", {"compatible": "ucb,htif0"})
        return root

    # -- interrupts and time -----------------------------------------------------------------------------
    def _irq_line(self, source: int) -> Callable[[bool], None]:
        return lambda high: self.plic.set_level(source, high)

    def _lines_of(self, i: int) -> Callable[[], int]:
        """The interrupt bits hardware drives into mip of hart i."""
        clint, plic, stimecmp = self.clint, self.plic, self.stimecmp

        def lines() -> int:
            now = clint.mtime()
            bits = (clint.msip[i] << MSI) | ((now >= clint.mtimecmp[i]) << MTI) | ((now >= stimecmp[i]) << STI)
            if plic.pending:
                bits |= (plic.irq(2 * i) << MEI) | (plic.irq(2 * i + 1) << SEI)
            return bits
        return lines

    def set_supervisor_timer(self, hart: int, when: int) -> None:
        """SBI set_timer: STIP rises when mtime reaches `when` (and is cleared until then)."""
        self.stimecmp[hart] = when

    def _slice_for(self, hart: Hart) -> int:
        """Guest instructions to run before the next interrupt check: a whole slice, or fewer when an
        enabled timer of the hart fires sooner (at the instruction rate measured so far)."""
        mie, i = hart.mie, hart.hartid
        deadline = min(self.clint.mtimecmp[i] if mie >> MTI & 1 else NEVER,
                       self.stimecmp[i] if mie >> STI & 1 else NEVER)
        if deadline == NEVER:
            return self.slice
        ticks = deadline - self.clint.mtime()
        if ticks <= 0:  # already pending: taken at this check if it can be
            return self.slice
        return max(MIN_SLICE, min(self.slice, int(ticks * self.insns_per_tick)))

    def _measure(self, insns: int, seconds: float) -> None:
        if insns > MIN_SLICE and seconds > 0:
            rate = insns / (seconds * self.clint.hz)
            self.insns_per_tick += (rate - self.insns_per_tick) * 0.3

    def request_stop(self, status: int, reason: str) -> None:
        """End run() at the next slice boundary with this status (safe from signal handlers and threads)."""
        self.stop_request = (status, reason)
        self.wake.set()

    def post(self, event: Callable[[], None]) -> None:
        """Run `event` on the monitor thread at the next block boundary (for backend threads)."""
        self.events.put(event)
        self.wake.set()

    def _drain_events(self) -> None:
        events = self.events
        while not events.empty():
            events.get()()

    def wait_for_interrupt(self, hart: Hart) -> None:
        """wfi: the hart sits out until an interrupt is pending and enabled in its mie."""
        self.waiting[hart.hartid] = True

    def _idle(self) -> None:
        """Every hart waits: sleep until the next timer deadline or device event."""
        self._drain_events()
        waiting = [h for h in self.harts if self.waiting[h.hartid]]
        if any(h.wakes() for h in waiting):
            return
        deadlines = [d for h in waiting for irq, d in ((MTI, self.clint.mtimecmp[h.hartid]),
                                                        (STI, self.stimecmp[h.hartid]))
                     if h.mie >> irq & 1 and d != NEVER]
        deadline = min(deadlines, default=None)
        if deadline is None and not (self.async_sources and any(h.mie for h in waiting)):
            h = waiting[0]
            raise GuestStopped(f"wfi at pc {h.state.pc - 4:#x} with no interrupt that can wake it "
                               f"(mie {h.mie:#x})" + (f", nor any of {len(waiting)} harts" if len(waiting) > 1 else ""))
        wait = MAX_IDLE if deadline is None else min(MAX_IDLE, max(0, deadline - self.clint.mtime()) / self.clint.hz)
        if wait > 0:
            self.wake.wait(wait)
            self.wake.clear()

    # -- consoles -------------------------------------------------------------------------------------
    def console_write(self, data: bytes) -> None:
        self.output.write(data)
        self.output.flush()

    def start_console_input(self, fd: int = 0) -> None:
        """Read host input from fd on a thread and give it to the guest's console."""
        self.console_input = True
        self.async_sources += 1

        def reader() -> None:
            while True:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                if not data:
                    return
                self.post(lambda d=data: self.feed_input(d))
        threading.Thread(target=reader, name="dbt-vm-console", daemon=True).start()

    def feed_input(self, data: bytes) -> None:
        """Console input for the guest: to a virtio console if there is one, else for SBI getchar."""
        for slot in self.slots:
            if slot.device is not None and slot.device.device_id == 3:
                slot.device.receive(data)
                return
        self.input.put(data)

    def console_read(self, n: int) -> bytes:
        """Up to n bytes of console input that have arrived (none if nothing has)."""
        out = bytearray()
        while len(out) < n and not self.input.empty():
            out += self.input.get()
        return bytes(out)

    def console_getchar(self) -> int:
        data = self.console_read(1)
        return data[0] if data else -1 & (2**64 - 1)

    # -- the monitor loop -------------------------------------------------------------------------------
    def sbi_call(self, hart: Hart) -> bool:
        if self.sbi_mode == "off" or (self.sbi_mode == "auto" and hart.mtvec):
            return False
        return self.sbi.call(hart)

    def _fetch_word(self, pc: int) -> tuple[int, int]:
        mem = self.memory
        if not mem.is_ram(pc, 2):
            return 0, 4
        low = int.from_bytes(mem.peek(pc, 2), "little")
        if low & 3 != 3:
            return low, 2
        return (int.from_bytes(mem.peek(pc, 4), "little"), 4) if mem.is_ram(pc, 4) else (0, 4)

    def _on_priv(self, hart: Hart, ex: Exit) -> None:
        word, size = self._fetch_word(hart.state.pc)
        emulate(hart, self, word, size)

    def _on_fault(self, hart: Hart, ex: Exit) -> None:
        if self.htif is not None and self.htif.exit_request is not None:
            raise self.htif.exit_request
        hart.trap(FAULT_CAUSE[ex.access], ex.addr)

    def _on_undef(self, hart: Hart, ex: Exit) -> None:
        hart.trap(ILLEGAL_INSN, int.from_bytes(ex.raw or b"", "little"))

    def run(self, max_insns: int | None = None) -> int:
        """Run until the guest ends the VM (its exit status), stops (STATUS_STOPPED, see stop_reason)
        or, with max_insns, after that many guest instructions (STATUS_BUDGET)."""
        handlers, waiting = self.exit_handlers, self.waiting
        pairs = list(zip(self.harts, self.engines))
        done = self.icount
        limit = None if max_insns is None else done + max_insns
        try:
            while True:
                if not self.events.empty():
                    self._drain_events()
                if self.stop_request is not None:
                    status, self.stop_reason = self.stop_request
                    return status
                ran = False
                for hart, engine in pairs:
                    if waiting[hart.hartid]:
                        if not hart.wakes():
                            continue
                        waiting[hart.hartid] = False
                    irq = hart.pending_interrupt()
                    if irq is not None:
                        hart.trap(irq, 0, interrupt=True)
                    budget = self._slice_for(hart)
                    if limit is not None:
                        budget = min(budget, limit - self.icount)
                        if budget <= 0:
                            self.stop_reason = f"instruction budget of {max_insns} used up at pc {hart.state.pc:#x}"
                            return STATUS_BUDGET
                    t0, i0 = perf_counter(), engine.state.icount
                    ex = engine.run(budget)
                    self._measure(engine.state.icount - i0, perf_counter() - t0)
                    ran = True
                    handler = handlers.get(ex.kind)
                    if handler is not None:
                        handler(hart, ex)
                if not ran:
                    self._idle()
        except MachineExit as e:
            self.stop_reason = str(e)
            return e.status
        except GuestStopped as e:
            self.stop_reason = str(e)
            return STATUS_STOPPED
        finally:
            self.flush()

    def flush(self) -> None:
        """Write back everything devices hold (disk images reach the disk)."""
        for slot in self.slots:
            if slot.device is not None:
                slot.device.flush()
        try:
            self.output.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Flush and release devices and backends."""
        self.flush()
        for slot in self.slots:
            if slot.device is not None:
                slot.device.close()

    # -- inspection (Python API) -------------------------------------------------------------------
    def device_errors(self) -> list[str]:
        """What drivers did wrong, per virtio slot (why a device asked for a reset), oldest first."""
        return [f"virtio slot {n} ({type(slot.device).__name__.lower()}): {why}"
                for n, slot in enumerate(self.slots) for why in slot.errors]

    def read(self, addr: int, length: int) -> bytes:
        """Guest-physical RAM bytes."""
        return self.memory.peek(addr, length)

    def write(self, addr: int, data: bytes) -> None:
        self.memory.poke(addr, data)

    @property
    def icount(self) -> int:
        """Guest instructions executed by all harts."""
        return sum(e.state.icount for e in self.engines)

    @property
    def state(self):
        """The hart's registers (by name or ABI alias, plus pc and icount)."""
        return self.engine.state

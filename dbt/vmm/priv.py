"""The RISC-V privileged architecture, trap and emulate: M/S/U modes, the machine and supervisor CSRs,
trap delivery (priority, delegation, vectoring), and the privileged instructions the system-mode
frontend hands to the monitor (ecall, ebreak, mret, sret, wfi, sfence.vma, CSR accesses).

CSRs are a table of small (read, write) functions keyed by CSR number; the CSR number itself says which
mode may access it and whether it is read-only, as the specification defines.
"""
from __future__ import annotations

from typing import Callable

from ..state import CPUState

U, S, M = 0, 1, 3
MODE_NAMES = {U: "U", S: "S", M: "M"}

# mstatus fields
SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
MPP_SHIFT = 11
MPP = 3 << MPP_SHIFT
FS = 3 << 13
MPRV, SUM, MXR, TVM, TW, TSR = 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22
UXL, SXL = 2 << 32, 2 << 34  # 64-bit U and S modes, read-only
SD = 1 << 63
MSTATUS_WRITABLE = SIE | MIE | SPIE | MPIE | SPP | MPP | FS | MPRV | SUM | MXR | TVM | TW | TSR
SSTATUS_WRITABLE = SIE | SPIE | SPP | FS | SUM | MXR
SSTATUS_VISIBLE = SSTATUS_WRITABLE | UXL | SD

# interrupt numbers (bits of mip/mie) and the order in which simultaneous ones are taken
SSI, MSI, STI, MTI, SEI, MEI = 1, 3, 5, 7, 9, 11
INTERRUPT_ORDER = (MEI, MSI, MTI, SEI, SSI, STI)
S_INTERRUPTS = (1 << SSI) | (1 << STI) | (1 << SEI)
ALL_INTERRUPTS = S_INTERRUPTS | (1 << MSI) | (1 << MTI) | (1 << MEI)

# exception causes
INSN_MISALIGNED, INSN_ACCESS, ILLEGAL_INSN, BREAKPOINT = 0, 1, 2, 3
LOAD_MISALIGNED, LOAD_ACCESS, STORE_MISALIGNED, STORE_ACCESS = 4, 5, 6, 7
ECALL_FROM = {U: 8, S: 9, M: 11}
MEDELEG_WRITABLE = 0xB3FF & ~(1 << 11)  # every standard exception but ecall from M
INTERRUPT_BIT = 1 << 63

CAUSE_NAMES = {0: "instruction address misaligned", 1: "instruction access fault", 2: "illegal instruction",
               3: "breakpoint", 4: "load address misaligned", 5: "load access fault",
               6: "store/AMO address misaligned", 7: "store/AMO access fault", 8: "ecall from U-mode",
               9: "ecall from S-mode", 11: "ecall from M-mode", 12: "instruction page fault",
               13: "load page fault", 15: "store/AMO page fault"}

MISA = (2 << 62) | sum(1 << (ord(c) - ord("A")) for c in "IMAFDCSU")
MASK64 = (1 << 64) - 1
TRAP_LOOP = 4  # exceptions in a row without an instruction retiring that count as a trap loop


class GuestStopped(Exception):
    """The guest cannot go on (a fault with no handler, a trap loop): the message is the report."""


class Hart:
    """One hart's privileged state, next to its CPUState (the unprivileged registers)."""

    def __init__(self, hartid: int, state: CPUState, lines: Callable[[], int] = lambda: 0,
                 time: Callable[[], int] = lambda: 0) -> None:
        self.hartid = hartid
        self.state = state
        self.lines = lines      # interrupt bits driven by hardware (MTIP, MSIP, MEIP, SEIP, STIP)
        self.time = time        # the mtime clock
        self.mode = M
        self.mstatus = 0
        self.mtvec = self.stvec = 0
        self.mepc = self.sepc = 0
        self.mcause = self.scause = 0
        self.mtval = self.stval = 0
        self.mscratch = self.sscratch = 0
        self.mie = 0
        self.mip_sw = 0         # the software-writable pending bits (SSIP, STIP, SEIP)
        self.medeleg = self.mideleg = 0
        self.mcounteren = self.scounteren = 0
        self.satp = 0
        self.plain: dict[int, int] = {}  # WARL storage for CSRs with no effect here (pmp, envcfg, ...)
        self.traps = 0
        self._loop = (-1, 0)    # (icount of the last exception, how many in a row there)

    # -- status and pending bits --------------------------------------------------------------------
    def read_mstatus(self) -> int:
        v = self.mstatus | UXL | SXL
        return v | SD if v & FS == FS else v

    def write_mstatus(self, v: int) -> None:
        if (v & MPP) >> MPP_SHIFT == 2:  # reserved mode: keep the old MPP
            v = (v & ~MPP) | (self.mstatus & MPP)
        self.mstatus = v & MSTATUS_WRITABLE

    def mip(self) -> int:
        return self.mip_sw | self.lines()

    def pending_interrupt(self) -> int | None:
        """The interrupt to take now (its number), by the specification's priority and enable rules."""
        pending = self.mip() & self.mie
        if not pending:
            return None
        m_enabled = self.mode < M or self.mstatus & MIE
        s_enabled = self.mode < S or (self.mode == S and self.mstatus & SIE)
        for irq in INTERRUPT_ORDER:
            if pending >> irq & 1:
                if (self.mideleg >> irq & 1 and s_enabled) or (not self.mideleg >> irq & 1 and m_enabled):
                    return irq
        return None

    def wakes(self) -> bool:
        """True if wfi ends: some interrupt is pending and enabled in mie, whatever the global enables."""
        return bool(self.mip() & self.mie)

    # -- trap delivery -------------------------------------------------------------------------------
    def trap(self, cause: int, tval: int = 0, interrupt: bool = False) -> None:
        """Enter the trap handler for an exception or interrupt at state.pc, as the privileged spec says."""
        st = self.state
        epc = st.pc
        deleg = self.mideleg if interrupt else self.medeleg
        to_s = self.mode <= S and deleg >> cause & 1
        vector = self.stvec if to_s else self.mtvec
        target = (vector & ~3) + (4 * cause if interrupt and vector & 1 else 0)
        if not interrupt:
            self._check_progress(cause, tval, epc, vector, target, "S" if to_s else "M")
        code = (cause | INTERRUPT_BIT) if interrupt else cause
        if to_s:
            self.scause, self.sepc, self.stval = code, epc, tval & MASK64
            spp = SPP if self.mode == S else 0
            spie = SPIE if self.mstatus & SIE else 0
            self.mstatus = (self.mstatus & ~(SPP | SPIE | SIE)) | spp | spie
            self.mode = S
        else:
            self.mcause, self.mepc, self.mtval = code, epc, tval & MASK64
            mpie = MPIE if self.mstatus & MIE else 0
            self.mstatus = (self.mstatus & ~(MPP | MPIE | MIE)) | (self.mode << MPP_SHIFT) | mpie
            self.mode = M
        self.traps += 1
        st.pc = target

    def _check_progress(self, cause: int, tval: int, epc: int, vector: int, target: int, to: str) -> None:
        what = f"{CAUSE_NAMES.get(cause, f'cause {cause}')} at pc {epc:#x}, tval {tval & MASK64:#x}, " \
               f"in {MODE_NAMES[self.mode]}-mode"
        if vector & ~3 == 0:
            raise GuestStopped(f"{what}: no {to}-mode trap handler ({to.lower()}tvec is 0)")
        icount = self.state.icount
        last, run = self._loop
        run = run + 1 if icount == last else 1
        self._loop = (icount, run)
        if epc == target or run >= TRAP_LOOP:
            raise GuestStopped(f"{what}: trap loop (the {to}-mode handler at {target:#x} faults)")

    def mret(self) -> None:
        mpp = (self.mstatus & MPP) >> MPP_SHIFT
        mie = MIE if self.mstatus & MPIE else 0
        self.mstatus = (self.mstatus & ~(MIE | MPP)) | mie | MPIE
        if mpp != M:
            self.mstatus &= ~MPRV
        self.mode = mpp
        self.state.pc = self.mepc

    def sret(self) -> None:
        spp = S if self.mstatus & SPP else U
        sie = SIE if self.mstatus & SPIE else 0
        self.mstatus = (self.mstatus & ~(SIE | SPP | MPRV)) | sie | SPIE
        self.mode = spp
        self.state.pc = self.sepc


# -- the CSR table ----------------------------------------------------------------------------------------
Read = Callable[[Hart], int]
Write = Callable[[Hart, int], None]


def _attr(name: str, mask: int = MASK64) -> tuple[Read, Write]:
    return (lambda h: getattr(h, name)), (lambda h, v: setattr(h, name, v & mask))


def _const(value: int) -> tuple[Read, Write]:
    return (lambda h: value), (lambda h, v: None)


def _plain(number: int) -> tuple[Read, Write]:
    return (lambda h: h.plain.get(number, 0)), (lambda h, v: h.plain.__setitem__(number, v))


def _set_sstatus(h: Hart, v: int) -> None:
    h.mstatus = (h.mstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE)


def _set_sie(h: Hart, v: int) -> None:
    h.mie = (h.mie & ~h.mideleg) | (v & h.mideleg & S_INTERRUPTS)


def _set_sip(h: Hart, v: int) -> None:
    ssip = h.mideleg & (1 << SSI)
    h.mip_sw = (h.mip_sw & ~ssip) | (v & ssip)


def _set_satp(h: Hart, v: int) -> None:
    if v >> 60 == 0:  # only Bare translation: other modes are WARL-ignored
        h.satp = 0


def _counter(h: Hart) -> int:
    return h.state.icount


CSRS: dict[int, tuple[Read, Write]] = {
    # supervisor
    0x100: ((lambda h: h.read_mstatus() & SSTATUS_VISIBLE), _set_sstatus),
    0x104: ((lambda h: h.mie & h.mideleg), _set_sie),
    0x105: _attr("stvec", ~2 & MASK64),
    0x106: _attr("scounteren", 0xFFFFFFFF),
    0x10A: _plain(0x10A),                           # senvcfg
    0x140: _attr("sscratch"),
    0x141: _attr("sepc", ~1 & MASK64),
    0x142: _attr("scause"),
    0x143: _attr("stval"),
    0x144: ((lambda h: h.mip() & h.mideleg), _set_sip),
    0x180: ((lambda h: h.satp), _set_satp),
    # machine
    0x300: (Hart.read_mstatus, Hart.write_mstatus),
    0x301: _const(MISA),
    0x302: _attr("medeleg", MEDELEG_WRITABLE),
    0x303: _attr("mideleg", S_INTERRUPTS),
    0x304: _attr("mie", ALL_INTERRUPTS),
    0x305: _attr("mtvec", ~2 & MASK64),
    0x306: _attr("mcounteren", 0xFFFFFFFF),
    0x30A: _plain(0x30A),                           # menvcfg
    0x320: _plain(0x320),                           # mcountinhibit
    0x340: _attr("mscratch"),
    0x341: _attr("mepc", ~1 & MASK64),
    0x342: _attr("mcause"),
    0x343: _attr("mtval"),
    0x344: (Hart.mip, lambda h, v: setattr(h, "mip_sw", (h.mip_sw & ~S_INTERRUPTS) | (v & S_INTERRUPTS))),
    0x747: _plain(0x747),                           # mseccfg
    0xB00: (_counter, lambda h, v: None),           # mcycle
    0xB02: (_counter, lambda h, v: None),           # minstret
    0xF11: _const(0), 0xF12: _const(0), 0xF13: _const(0),
    0xF14: ((lambda h: h.hartid), lambda h, v: None),
    0xF15: _const(0),
    # unprivileged counters that reach the monitor
    0xC00: (_counter, None), 0xC02: (_counter, None),
    0xC01: ((lambda h: h.time()), None),
    **{n: _const(0) for n in range(0xB03, 0xB20)},  # mhpmcounter3..31
    **{n: _const(0) for n in range(0x323, 0x340)},  # mhpmevent3..31
    **{n: (lambda h: 0, None) for n in range(0xC03, 0xC20)},  # hpmcounter3..31
    **{n: _plain(n) for n in range(0x3A0, 0x3B0)},  # pmpcfg
    **{n: _plain(n) for n in range(0x3B0, 0x3F0)},  # pmpaddr
}
COUNTER_CSRS = range(0xC00, 0xC20)


def csr_allowed(h: Hart, csr: int, writes: bool) -> bool:
    """The specification's access rule: the mode in bits 9:8, read-only when bits 11:10 are 3,
    counters gated by mcounteren/scounteren below M-mode."""
    entry = CSRS.get(csr)
    if entry is None or h.mode < (csr >> 8) & 3:
        return False
    if writes and (csr >> 10 == 3 or entry[1] is None):
        return False
    if csr in COUNTER_CSRS and h.mode < M:
        bit = 1 << (csr - 0xC00)
        if not h.mcounteren & bit or (h.mode == U and not h.scounteren & bit):
            return False
    if csr == 0x180 and h.mode == S and h.mstatus & TVM:
        return False
    return True

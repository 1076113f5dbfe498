"""CPU state: one flat native buffer with a fixed layout per ISA, shared by Python, the interpreter and JIT code.

The buffer starts with a header that every ISA shares (program counter, instruction counter and budget,
FP environment, exit details), followed by the registers the frontend declares, each in an 8-byte slot
(16 bytes for 128-bit registers).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from .ir.types import Ty

# Header slots (index of a 64-bit word); HEADER_BYTES is where ISA registers begin.
PC, ICOUNT, ILIMIT, FFLAGS, FRM, EXIT_ARG, EXIT_INFO, SCRATCH = range(8)
HEADER_SLOTS = ("pc", "icount", "ilimit", "fflags", "frm", "exit_arg", "exit_info", "scratch")
HEADER_BYTES = 64


@dataclass(frozen=True)
class Register:
    """One guest register as a frontend declares it: name, IR type, alternative names."""

    name: str
    ty: Ty
    aliases: tuple[str, ...] = ()
    offset: int = field(default=-1, compare=False)

    @property
    def slot(self) -> int:
        """Index of the register's first 64-bit word in the state buffer."""
        return self.offset // 8

    def __str__(self) -> str:
        return self.name


class RegisterFile:
    """An ISA's registers with their offsets in the CPU state, found by name or alias."""

    def __init__(self, registers: list[Register]) -> None:
        offset = HEADER_BYTES
        placed = []
        for r in registers:
            width = 16 if r.ty.bits > 64 else 8
            offset = (offset + width - 1) // width * width
            placed.append(Register(r.name, r.ty, r.aliases, offset))
            offset += width
        self.registers: tuple[Register, ...] = tuple(placed)
        self.size = (offset + 15) // 16 * 16
        self._by_name: dict[str, Register] = {}
        for r in placed:
            for n in (r.name, *r.aliases):
                if n in self._by_name or n in HEADER_SLOTS:
                    raise ValueError(f"register name {n!r} declared twice")
                self._by_name[n] = r

    def __getitem__(self, name: str) -> Register:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no register named {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self.registers)

    def names(self) -> list[str]:
        return [r.name for r in self.registers]


class CPUState:
    """The native state buffer of one guest CPU, with by-name access for Python users."""

    def __init__(self, regfile: RegisterFile) -> None:
        self.regfile = regfile
        self._buf = (ctypes.c_uint64 * (regfile.size // 8))()
        self.words = memoryview(self._buf).cast("B").cast("Q")
        self.address = ctypes.addressof(self._buf)

    def __getitem__(self, name: str) -> int:
        if name in HEADER_SLOTS:
            return self.words[HEADER_SLOTS.index(name)]
        r = self.regfile[name]
        if r.ty.bits > 64:
            return self.words[r.slot] | self.words[r.slot + 1] << 64
        return self.words[r.slot] & r.ty.mask

    def __setitem__(self, name: str, value: int) -> None:
        if name in HEADER_SLOTS:
            self.words[HEADER_SLOTS.index(name)] = value & (2**64 - 1)
            return
        r = self.regfile[name]
        value &= r.ty.mask
        self.words[r.slot] = value & (2**64 - 1)
        if r.ty.bits > 64:
            self.words[r.slot + 1] = value >> 64

    @property
    def pc(self) -> int:
        return self.words[PC]

    @pc.setter
    def pc(self, value: int) -> None:
        self.words[PC] = value & (2**64 - 1)

    @property
    def icount(self) -> int:
        return self.words[ICOUNT]

    def snapshot(self) -> dict[str, int]:
        """Every register's value by name (the header's pc and icount included)."""
        out = {"pc": self.pc, "icount": self.icount}
        for r in self.regfile:
            out[r.name] = self[r.name]
        return out

    def raw(self) -> bytes:
        return bytes(self.words.cast("B"))

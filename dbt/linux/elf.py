"""ELF64 loading for static executables and static-PIE, with clear errors for everything else."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from ..memory import PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, GuestMemory, page_ceil, page_floor

ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_INTERP, PT_PHDR, PT_TLS, PT_GNU_STACK = 1, 3, 6, 7, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
PIE_BASE = 0x40000000

MACHINE_NAMES = {3: "x86 (32-bit)", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 40: "ARM (32-bit)",
                 62: "x86-64", 183: "AArch64", 243: "RISC-V", 258: "LoongArch"}


class ElfError(Exception):
    """The file cannot be run: the message says why and what would be needed."""


@dataclass
class ElfHeader:
    e_type: int
    machine: int
    entry: int
    phoff: int
    phentsize: int
    phnum: int


@dataclass
class Segment:
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


@dataclass
class LoadedImage:
    """Where the program landed in guest memory: what the initial stack's auxv describes."""

    path: str
    entry: int
    base: int          # load bias (0 for ET_EXEC)
    phdr: int          # guest address of the program headers
    phent: int
    phnum: int
    start: int         # lowest mapped address
    end: int           # highest mapped address (page aligned): the initial program break


def read_header(data: bytes, path: str) -> ElfHeader:
    """Parse and check the ELF identification and header; ElfError if this is not a 64-bit LE ELF."""
    if len(data) < 4 or data[:4] != b"\x7fELF":
        raise ElfError(f"{path}: not an ELF file")
    if len(data) < 64:
        raise ElfError(f"{path}: truncated ELF header ({len(data)} bytes)")
    if data[4] != 2:
        raise ElfError(f"{path}: {'32-bit' if data[4] == 1 else 'unknown-class'} ELF; dbt runs 64-bit programs")
    if data[5] != 1:
        raise ElfError(f"{path}: big-endian ELF; dbt runs little-endian programs")
    e_type, machine, _version, entry, phoff = struct.unpack_from("<HHIQQ", data, 16)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if e_type not in (ET_EXEC, ET_DYN):
        kind = {1: "a relocatable object file", 4: "a core dump"}.get(e_type, f"of ELF type {e_type}")
        raise ElfError(f"{path}: {kind}, not an executable")
    if phentsize != 56 and phnum:
        raise ElfError(f"{path}: corrupt ELF header (program header size {phentsize})")
    if phoff + phnum * 56 > len(data):
        raise ElfError(f"{path}: truncated ELF file (program headers at {phoff:#x} past the end, "
                       f"{len(data)} bytes)")
    return ElfHeader(e_type, machine, entry, phoff, phentsize, phnum)


def segments(data: bytes, hdr: ElfHeader) -> list[Segment]:
    out = []
    for i in range(hdr.phnum):
        p_type, p_flags, off, vaddr, _paddr, filesz, memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, hdr.phoff + 56 * i)
        out.append(Segment(p_type, p_flags, off, vaddr, filesz, memsz))
    return out


def interpreter(data: bytes, segs: list[Segment]) -> str | None:
    for s in segs:
        if s.type == PT_INTERP:
            return data[s.offset:s.offset + s.filesz].split(b"\0")[0].decode(errors="replace")
    return None


def load(memory: GuestMemory, data: bytes, path: str) -> LoadedImage:
    """Map the PT_LOAD segments of a static executable or static-PIE into guest memory."""
    hdr = read_header(data, path)
    segs = segments(data, hdr)
    interp = interpreter(data, segs)
    if interp is not None:
        raise ElfError(f"{path}: dynamically linked (program interpreter {interp}); dbt runs static "
                       f"executables: relink with -static (e.g. zig cc -target <isa>-linux-musl -static), "
                       f"or run it with the guest's dynamic loader and libraries under --root")
    loads = [s for s in segs if s.type == PT_LOAD and s.memsz]
    if not loads:
        raise ElfError(f"{path}: no loadable segments")
    for s in loads:
        if s.offset + s.filesz > len(data):
            raise ElfError(f"{path}: truncated ELF file (segment at file offset {s.offset:#x}+{s.filesz:#x} "
                           f"past the end, {len(data)} bytes)")
        if s.filesz > s.memsz:
            raise ElfError(f"{path}: corrupt segment (file size {s.filesz:#x} > memory size {s.memsz:#x})")
    base = PIE_BASE if hdr.e_type == ET_DYN else 0
    lo = page_floor(min(s.vaddr for s in loads)) + base
    hi = page_ceil(max(s.vaddr + s.memsz for s in loads)) + base
    if hi > memory.size or lo < 0x1000:
        raise ElfError(f"{path}: segments at {lo:#x}-{hi:#x} do not fit the guest address space "
                       f"(0x1000-{memory.size:#x})")
    for s in loads:
        start = page_floor(s.vaddr + base)
        stop = page_ceil(s.vaddr + base + s.memsz)
        memory.map(start, stop - start, PROT_READ | PROT_WRITE)
        memory.poke(s.vaddr + base, data[s.offset:s.offset + s.filesz])
    page_prot: dict[int, int] = {}  # permissions last, as a union where segments share a page
    for s in loads:
        prot = (PROT_READ if s.flags & PF_R else 0) | (PROT_WRITE if s.flags & PF_W else 0) \
            | (PROT_EXEC if s.flags & PF_X else 0)
        for page in range(page_floor(s.vaddr + base), page_ceil(s.vaddr + base + s.memsz), PAGE_SIZE):
            page_prot[page] = page_prot.get(page, 0) | prot
    for page, prot in page_prot.items():
        memory.protect(page, PAGE_SIZE, prot)
    phdr = _phdr_address(hdr, segs, base)
    return LoadedImage(path, hdr.entry + base, base, phdr, 56, hdr.phnum, lo, hi)


def _phdr_address(hdr: ElfHeader, segs: list[Segment], base: int) -> int:
    for s in segs:
        if s.type == PT_PHDR:
            return s.vaddr + base
    for s in segs:
        if s.type == PT_LOAD and s.offset <= hdr.phoff < s.offset + s.filesz:
            return s.vaddr + base + hdr.phoff - s.offset
    return 0

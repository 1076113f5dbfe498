"""Loading a bare-metal ELF64 guest into guest-physical RAM, and finding its symbols (tohost, fromhost)."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

PT_LOAD = 1
SHT_SYMTAB = 2
EM_RISCV = 243


class LoadError(Exception):
    """The guest image cannot be loaded: the message says why."""


@dataclass
class Image:
    """What loading produced: the entry point, the loaded ranges and the symbol table."""

    entry: int
    machine: int
    ranges: list[tuple[int, int]] = field(default_factory=list)
    symbols: dict[str, int] = field(default_factory=dict)


def _symbols(data: bytes, shoff: int, shentsize: int, shnum: int) -> dict[str, int]:
    out: dict[str, int] = {}
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    for sh in sections:
        if sh[1] != SHT_SYMTAB:
            continue
        off, size, link, entsize = sh[4], sh[5], sh[6], sh[9] or 24
        stroff = sections[link][4]
        for i in range(size // entsize):
            name, _info, _other, _shndx, value, _size = struct.unpack_from("<IBBHQQ", data, off + i * entsize)
            if name:
                end = data.index(b"\0", stroff + name)
                out.setdefault(data[stroff + name:end].decode(errors="replace"), value)
    return out


def load_elf(memory, data: bytes, path: str = "guest") -> Image:
    """Copy the PT_LOAD segments into RAM (they must fit in it) and read the symbols."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise LoadError(f"{path}: not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise LoadError(f"{path}: only little-endian ELF64 guests are supported")
    (_type, machine, _version, entry, phoff, shoff, _flags, _ehsize, phentsize, phnum, shentsize, shnum,
     _shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    image = Image(entry, machine)
    try:
        for i in range(phnum):
            p_type, _pflags, off, vaddr, paddr, filesz, memsz, _align = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize)
            if p_type != PT_LOAD or memsz == 0:
                continue
            if not memory.is_ram(paddr, memsz) or filesz > memsz or off + filesz > len(data):
                raise LoadError(f"{path}: segment at {paddr:#x}+{memsz:#x} does not fit in RAM "
                                f"({memory.ram_base:#x}+{memory.ram_size:#x})")
            memory.poke(paddr, data[off:off + filesz] + bytes(memsz - filesz))
            image.ranges.append((paddr, memsz))
        if shoff and shnum:
            image.symbols = _symbols(data, shoff, shentsize, shnum)
    except struct.error:
        raise LoadError(f"{path}: truncated ELF file") from None
    if not image.ranges:
        raise LoadError(f"{path}: no loadable segments")
    if not memory.is_ram(entry, 2):
        raise LoadError(f"{path}: entry point {entry:#x} is not in RAM")
    return image

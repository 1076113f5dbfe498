"""Object code from the code cache, loaded without LLVM: a run whose native code all comes from the cache
need not import llvmlite (a twentieth of a second of every run).

Loads the x86-64 ELF relocatable objects the Compiler emits (large code model: absolute 64-bit
relocations, plus PC-relative ones) into fresh memory, resolves external symbols in this process,
and makes the code executable. Anything it does not know raises UnsupportedObject, and the caller
hands the object to LLVM's loader instead.
"""
from __future__ import annotations

import ctypes
import mmap
import struct

SHF_WRITE, SHF_ALLOC = 1, 2
SHT_SYMTAB, SHT_RELA, SHT_NOBITS = 2, 4, 8
SHN_UNDEF, SHN_ABS = 0, 0xFFF1
R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32 = 1, 2, 4
SKIPPED = (b".eh_frame",)  # unwind tables: nothing unwinds through region code

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_LOADED: list[mmap.mmap] = []  # loaded code stays mapped for the life of the process (as MCJIT's does)


class UnsupportedObject(ValueError):
    """An object this loader cannot place (LLVM's loader can)."""


def _cstr(data: bytes, at: int) -> bytes:
    return data[at:data.index(b"\0", at)]


def section_headers(obj: bytes) -> list[tuple]:
    """An ELF64 object's section headers, as (name, type, flags, addr, offset, size, link, info,
    addralign, entsize) tuples."""
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    return [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize) for i in range(shnum)]


def symbols(obj: bytes, sections: list[tuple]) -> list[tuple[str, int, int, int, int]]:
    """The symbol table as (name, info, section index, value, size) tuples."""
    symtab = next((s for s in sections if s[1] == SHT_SYMTAB), None)
    if symtab is None:
        raise UnsupportedObject("no symbol table")
    strtab = sections[symtab[6]][4]
    out = []
    for at in range(symtab[4], symtab[4] + symtab[5], symtab[9]):
        st_name, info, _, shndx, value, size = struct.unpack_from("<IBBHQQ", obj, at)
        out.append((_cstr(obj, strtab + st_name).decode(), info, shndx, value, size))
    return out


def function_sizes(obj: bytes) -> dict[str, int]:
    """Function symbol sizes of an object (for naming compiled code in profiles)."""
    return {name: size for name, info, _, _, size in symbols(obj, section_headers(obj)) if info & 0xF == 2}


class ObjectLoader:
    """Places objects in memory that stays mapped for the life of the process."""

    def __init__(self) -> None:
        self._process = ctypes.CDLL(None)

    def load(self, obj: bytes, names: list[str]) -> dict[str, int]:
        """Load an object; the addresses of the named functions."""
        if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
            raise UnsupportedObject("not a 64-bit little-endian ELF object")
        e_type, e_machine = struct.unpack_from("<HH", obj, 16)
        if (e_type, e_machine) != (1, 62):
            raise UnsupportedObject("not an x86-64 relocatable object")
        sections = section_headers(obj)
        names_at = sections[struct.unpack_from("<H", obj, 0x3E)[0]][4]
        # Lay the allocated sections out one after another, each at its alignment.
        place: dict[int, int] = {}
        size = 0
        for i, (name, kind, flags, _, _, sh_size, _, _, align, _) in enumerate(sections):
            if not flags & SHF_ALLOC or not sh_size or _cstr(obj, names_at + name) in SKIPPED:
                continue
            if flags & SHF_WRITE:
                raise UnsupportedObject("writable data section")
            align = max(align, 1)
            size = (size + align - 1) // align * align
            place[i] = size
            size += sh_size
        if not place:
            raise UnsupportedObject("no code")
        memory = mmap.mmap(-1, (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE)
        base = ctypes.addressof(ctypes.c_char.from_buffer(memory))
        for i, offset in place.items():
            _, kind, _, _, at, sh_size, _, _, _, _ = sections[i]
            if kind != SHT_NOBITS:
                memory[offset:offset + sh_size] = obj[at:at + sh_size]
        placed = []  # (name, address or None)
        for name, _, shndx, value, _ in symbols(obj, sections):
            if shndx == SHN_UNDEF:
                placed.append((name, self._external(name) if name else 0))
            elif shndx == SHN_ABS:
                placed.append((name, value))
            else:
                placed.append((name, base + place[shndx] + value if shndx in place else None))
        for _, kind, _, _, at, sh_size, _, target, _, entsize in sections:
            if kind != SHT_RELA or target not in place:
                continue
            for r in range(at, at + sh_size, entsize):
                r_offset, r_info, addend = struct.unpack_from("<QQq", obj, r)
                name, s = placed[r_info >> 32]
                if s is None:
                    raise UnsupportedObject(f"relocation against unplaced symbol {name!r}")
                where = place[target] + r_offset
                kind_ = r_info & 0xFFFFFFFF
                if kind_ == R_X86_64_64:
                    struct.pack_into("<Q", memory, where, (s + addend) & (2**64 - 1))
                elif kind_ in (R_X86_64_PC32, R_X86_64_PLT32):
                    delta = s + addend - (base + where)
                    if not -2**31 <= delta < 2**31:
                        raise UnsupportedObject(f"PC-relative relocation to {name!r} out of range")
                    struct.pack_into("<i", memory, where, delta)
                else:
                    raise UnsupportedObject(f"relocation type {kind_}")
        if _libc.mprotect(base, len(memory), mmap.PROT_READ | mmap.PROT_EXEC):
            raise OSError(ctypes.get_errno(), "mprotect of loaded code failed")
        _LOADED.append(memory)
        found = {name: addr for name, addr in placed if name in names and addr}
        missing = [n for n in names if n not in found]
        if missing:
            raise UnsupportedObject(f"object code lacks function {missing[0]}")
        return found

    def _external(self, name: str) -> int:
        try:
            return ctypes.cast(getattr(self._process, name), ctypes.c_void_p).value
        except AttributeError:
            raise UnsupportedObject(f"external symbol {name!r} not found in this process") from None

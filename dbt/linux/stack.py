"""The initial process stack as the Linux kernel builds it: argc, argv, envp, the auxiliary vector,
and the strings and random bytes they point to."""
from __future__ import annotations

import os
import struct

from ..frontend import LinuxABI
from ..memory import PROT_READ, PROT_WRITE, GuestMemory
from .elf import LoadedImage

STACK_TOP = 0xFFFF0000
STACK_SIZE = 8 << 20

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN = 23, 25, 26, 31


def build(memory: GuestMemory, image: LoadedImage, argv: list[bytes], envp: list[bytes], abi: LinuxABI,
          execfn: bytes, random_bytes: bytes | None = None) -> int:
    """Map the stack and lay out the process's start-up data; returns the initial stack pointer."""
    memory.map(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE)
    sp = STACK_TOP

    def push_bytes(data: bytes) -> int:
        nonlocal sp
        sp -= len(data)
        memory.poke(sp, data)
        return sp

    execfn_addr = push_bytes(execfn + b"\0")
    env_addrs = [push_bytes(e + b"\0") for e in reversed(envp)][::-1]
    arg_addrs = [push_bytes(a + b"\0") for a in reversed(argv)][::-1]
    platform_addr = push_bytes(abi.platform.encode() + b"\0") if abi.platform else 0
    sp &= ~15
    random_addr = push_bytes(random_bytes if random_bytes is not None else os.urandom(16))

    auxv = [
        (AT_PHDR, image.phdr), (AT_PHENT, image.phent), (AT_PHNUM, image.phnum), (AT_PAGESZ, 4096),
        (AT_BASE, 0), (AT_FLAGS, 0), (AT_ENTRY, image.entry),
        (AT_UID, os.getuid()), (AT_EUID, os.geteuid()), (AT_GID, os.getgid()), (AT_EGID, os.getegid()),
        (AT_HWCAP, abi.hwcap), (AT_HWCAP2, 0), (AT_CLKTCK, 100), (AT_SECURE, 0),
        (AT_RANDOM, random_addr), (AT_EXECFN, execfn_addr),
        *((AT_PLATFORM, platform_addr),)[: 1 if platform_addr else 0],
        *abi.extra_auxv.items(),
        (AT_NULL, 0),
    ]
    words = [len(argv), *arg_addrs, 0, *env_addrs, 0]
    for key, value in auxv:
        words += [key, value]
    table = struct.pack(f"<{len(words)}Q", *words)
    sp = (sp - len(table)) & ~15
    memory.poke(sp, table)
    return sp

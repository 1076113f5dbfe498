"""Helpers for device registers: byte lanes of wide registers, and register tables keyed by offset."""
from __future__ import annotations

from typing import Callable

Reader = Callable[[], int]
Writer = Callable[[int], None]


def lanes_read(reg: int, offset: int, size: int) -> int:
    """The `size` bytes at byte `offset` of a register value."""
    return (reg >> (8 * offset)) & ((1 << (8 * size)) - 1)


def lanes_write(reg: int, offset: int, size: int, value: int, width: int = 8) -> int:
    """A register value with `size` bytes at byte `offset` replaced by value."""
    mask = ((1 << (8 * size)) - 1) << (8 * offset)
    return ((reg & ~mask) | ((value << (8 * offset)) & mask)) & ((1 << (8 * width)) - 1)

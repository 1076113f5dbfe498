"""RISC-V semantic functions, one module per instruction family; importing this registers them all."""
from . import atomic, compressed, control, fp, integer, memory, system  # noqa: F401

"""AArch64 semantic functions, one module per instruction family; importing this registers them all.

The first matching row of the encoding table wins, so order matters where encodings overlap:
simd_move's modified immediates (immh = 0) come before simd_arith's shifts by immediate."""
from . import atomic, control, fp, integer, memory, simd_move, simd_arith, simd_memory, system  # noqa: F401

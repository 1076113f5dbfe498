"""AArch64 semantic functions, one module per instruction family; importing this registers them all.

Order matters only where encodings overlap: earlier modules' rows are tried first."""
from . import atomic, control, fp, integer, memory, simd, system  # noqa: F401

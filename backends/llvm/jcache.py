"""The jump cache shared by the native dispatcher and compiled regions: a direct-mapped table from
guest pc to compiled code, so that going from one region to the next never passes through Python.

Each entry is {i64 guest pc, ptr function, i64 count}; the slot of pc is (pc >> 1) & (entries - 1).
The count says how often code there was entered from another region or the dispatcher: a region
entered very often is a hot transition the JIT can remove by compiling a larger region.
"""
from __future__ import annotations

JCACHE_BITS = 14
JCACHE_ENTRIES = 1 << JCACHE_BITS
JCACHE_WORDS = 3  # 64-bit words per entry: guest pc, function, entry count
EMPTY_TAG = (1 << 64) - 1

# The arguments of every call of a compiled region (by the dispatcher, or by another region leaving by
# a tail call into it: `musttail`, so no stack growth and no return to the dispatcher loop).
REGION_ARGS = "ptr %state, ptr %mem, ptr %perm, ptr %jc"


def enter_next(pc: str, n: int) -> list[str]:
    """LLVM IR that continues at guest pc (already stored in the CPU state): a tail call into the
    region the jump cache holds for pc, or a return to the dispatcher (0, NEXT) when it holds none.
    n makes the value and label names unique within the function."""
    return [
        f"  %jh{n} = lshr i64 {pc}, 1",
        f"  %ji{n} = and i64 %jh{n}, {JCACHE_ENTRIES - 1}",
        f"  %je{n} = getelementptr [{JCACHE_WORDS} x i64], ptr %jc, i64 %ji{n}",
        f"  %jt{n} = load i64, ptr %je{n}",
        f"  %jm{n} = icmp eq i64 %jt{n}, {pc}",
        f"  br i1 %jm{n}, label %jchain{n}, label %jret{n}",
        f"jchain{n}:",
        f"  %jfp{n} = getelementptr i64, ptr %je{n}, i64 1",
        f"  %jf{n} = load ptr, ptr %jfp{n}",
        f"  %jcp{n} = getelementptr i64, ptr %je{n}, i64 2",
        f"  %jn{n} = load i64, ptr %jcp{n}",
        f"  %jk{n} = add i64 %jn{n}, 1",
        f"  store i64 %jk{n}, ptr %jcp{n}",
        f"  %jr{n} = musttail call i32 %jf{n}({REGION_ARGS})",
        f"  ret i32 %jr{n}",
        f"jret{n}:",
        "  ret i32 0",
    ]

"""The native dispatcher: a loop compiled to native code that goes from one translated region to the
next through a direct-mapped jump cache, so hot code never passes through Python.

    i32 @dbt_dispatch(ptr %state, ptr %mem, ptr %perm, ptr %jcache)

The jump cache is described in jcache.py; regions also use it to go straight to the next region, so
the loop here runs when one has no successor in the cache yet. The loop returns to Python with the ExitKind of a region that did not just continue (system call,
slow instruction, budget, ...) or with MISS when the next pc has no entry. It switches the MXCSR to
round-to-nearest with clear flags on entry and folds the flags into state.fflags on the way out.
"""
from __future__ import annotations

from dbt.exits import ExitKind
from dbt.state import FFLAGS, FRM, PC

from .lower import _MXCSR_TO_IR

from .jcache import JCACHE_ENTRIES, JCACHE_WORDS, REGION_ARGS
GUEST_MXCSR = 0x1F80  # all exceptions masked, round to nearest, flags clear, no FTZ/DAZ


def dispatcher_text() -> str:
    mask = JCACHE_ENTRIES - 1
    flag_bits = []
    acc = "0"
    for k, (xbit, irbit) in enumerate(_MXCSR_TO_IR):
        flag_bits += [f"  %s{k} = lshr i32 %m, {xbit}", f"  %b{k} = and i32 %s{k}, 1",
                      f"  %v{k} = mul i32 %b{k}, {irbit}", f"  %a{k} = or i32 {acc}, %v{k}"]
        acc = f"%a{k}"
    flags = "\n".join(flag_bits)
    return f"""
declare void @llvm.x86.sse.stmxcsr(ptr)
declare void @llvm.x86.sse.ldmxcsr(ptr)

define i32 @dbt_dispatch(ptr noalias %state, ptr noalias %mem, ptr noalias %perm, ptr noalias %jc) #1 {{
entry:
  %mx = alloca i32
  %hostmx = alloca i32
  %frmp = getelementptr i8, ptr %state, i64 {FRM * 8}
  %frm = load i64, ptr %frmp
  %rne = icmp eq i64 %frm, 0
  br i1 %rne, label %start, label %notrne
notrne:
  ret i32 {int(ExitKind.SLOW)}
start:
  call void @llvm.x86.sse.stmxcsr(ptr %hostmx)
  store i32 {GUEST_MXCSR}, ptr %mx
  call void @llvm.x86.sse.ldmxcsr(ptr %mx)
  %pcp = getelementptr i8, ptr %state, i64 {PC * 8}
  br label %loop
loop:
  %pc = load i64, ptr %pcp
  %h = lshr i64 %pc, 1
  %idx = and i64 %h, {mask}
  %e = getelementptr [{JCACHE_WORDS} x i64], ptr %jc, i64 %idx
  %tag = load i64, ptr %e
  %hit = icmp eq i64 %tag, %pc
  br i1 %hit, label %run, label %out
run:
  %fp = getelementptr i64, ptr %e, i64 1
  %fn = load ptr, ptr %fp
  %cp = getelementptr i64, ptr %e, i64 2
  %c = load i64, ptr %cp
  %c1 = add i64 %c, 1
  store i64 %c1, ptr %cp
  %r = call i32 %fn({REGION_ARGS})
  %next = icmp eq i32 %r, 0
  br i1 %next, label %loop, label %out
out:
  %rv = phi i32 [ {int(ExitKind.MISS)}, %loop ], [ %r, %run ]
  call void @llvm.x86.sse.stmxcsr(ptr %mx)
  %m = load i32, ptr %mx
{flags}
  %ffp = getelementptr i8, ptr %state, i64 {FFLAGS * 8}
  %ff = load i64, ptr %ffp
  %hw = zext i32 {acc} to i64
  %nf = or i64 %ff, %hw
  store i64 %nf, ptr %ffp
  call void @llvm.x86.sse.ldmxcsr(ptr %hostmx)
  ret i32 %rv
}}

attributes #1 = {{ nounwind "frame-pointer"="none" }}
"""

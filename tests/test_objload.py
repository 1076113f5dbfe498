"""The object loader that lets warm runs skip llvmlite, against LLVM's own loader: same results from the
same object code (constant pools, jump tables, calls into libm and between functions), and clear
refusals of what it does not place."""
import ctypes
import subprocess
import sys

import pytest

from backends.llvm.compiler import Compiler
from backends.llvm.objload import ObjectLoader, UnsupportedObject

IR = r"""
declare double @fmod(double, double)

define double @scaled(double %x, i64 %n) {
  %a = fmul double %x, 1.2345678901234567
  %b = call double @fmod(double %a, double 7.25)
  %c = sitofp i64 %n to double
  %d = fadd double %b, %c
  ret double %d
}

define i64 @pick(i64 %k) {
entry:
  switch i64 %k, label %other [ i64 0, label %a  i64 1, label %b  i64 2, label %c  i64 3, label %d
                                i64 4, label %e  i64 5, label %f  i64 6, label %g ]
a:
  ret i64 11
b:
  ret i64 -22
c:
  ret i64 333
d:
  ret i64 4444
e:
  ret i64 55555
f:
  ret i64 666666
g:
  ret i64 7777777
other:
  %r = call double @scaled(double 2.5, i64 %k)
  %i = fptosi double %r to i64
  ret i64 %i
}
"""

SCALED = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double, ctypes.c_int64)
PICK = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)


@pytest.mark.parametrize("level", ["quick", "optimized"])
def test_loaded_code_computes_what_llvm_loaded_code_computes(level):
    compiler = Compiler(level)
    obj = compiler.compile_object(IR)
    ours = ObjectLoader().load(obj, ["scaled", "pick"])
    llvms = compiler.load(obj, ["scaled", "pick"])
    assert ours["scaled"] != llvms["scaled"]
    for x, n in [(0.0, 0), (3.75, 2), (-1e6, -5), (123.456, 1 << 40)]:
        assert SCALED(ours["scaled"])(x, n) == SCALED(llvms["scaled"])(x, n)
    for k in range(-2, 10):
        assert PICK(ours["pick"])(k) == PICK(llvms["pick"])(k)
    assert [PICK(ours["pick"])(k) for k in range(7)] == [11, -22, 333, 4444, 55555, 666666, 7777777]


def test_what_it_cannot_place_is_refused_with_a_reason():
    loader = ObjectLoader()
    with pytest.raises(UnsupportedObject, match="not a 64-bit little-endian ELF object"):
        loader.load(b"garbage" * 20, ["f"])
    compiler = Compiler("quick")
    with pytest.raises(UnsupportedObject, match="writable data section"):
        loader.load(compiler.compile_object("@counter = global i64 0\ndefine i64 @f() {\n"
                                            "  %v = load i64, ptr @counter\n  ret i64 %v\n}\n"), ["f"])
    with pytest.raises(UnsupportedObject, match="external symbol 'no_such_function_anywhere' not found"):
        loader.load(compiler.compile_object("declare i64 @no_such_function_anywhere()\ndefine i64 @f() {\n"
                                            "  %v = call i64 @no_such_function_anywhere()\n  ret i64 %v\n}\n"),
                    ["f"])
    with pytest.raises(UnsupportedObject, match="object code lacks function g"):
        loader.load(compiler.compile_object("define i64 @f() {\n  ret i64 1\n}\n"), ["f", "g"])


def test_a_run_from_a_warm_cache_does_not_import_llvmlite(tmp_path):
    from samples import build as samples
    binary = str(samples.build("hello", "riscv64"))
    run = [sys.executable, "-X", "importtime", "-m", "dbt.cli", "run", "--cache-dir", str(tmp_path), binary, "2"]
    first = subprocess.run(run, capture_output=True)
    second = subprocess.run(run, capture_output=True)
    assert first.stdout == second.stdout == b"Hello, world! (1/2)\nHello, world! (2/2)\n"
    assert b"llvmlite" in first.stderr
    assert b"llvmlite" not in second.stderr and b"capstone" not in second.stderr

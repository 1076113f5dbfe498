"""The IR: golden text of lifted RISC-V code, folding in the builder, and the verifier's rules."""
import pytest

import dbt
from dbt.exits import ExitKind
from dbt.ir.block import Block, Const
from dbt.ir.builder import IRBuilder, IRError
from dbt.ir.types import I1, I32, I64
from dbt.ir.verify import verify
from frontends.riscv64.registers import X


def rv(*words: int) -> bytes:
    return b"".join(w.to_bytes(4, "little") for w in words)


ADDI_A0_1 = 0x00150513        # addi a0, a0, 1
LD_A1_8_SP = 0x00813583       # ld a1, 8(sp)
BNE_A0_A1_M8 = 0xFEB51CE3     # bne a0, a1, -8
ECALL = 0x00000073


def test_golden_text_of_a_loop_block():
    block = dbt.translate("riscv64", rv(ADDI_A0_1, LD_A1_8_SP, BNE_A0_A1_M8), 0x1000)
    assert str(block) == """block riscv64 0x1000
  insn 0x1000, 4                  ; addi a0, a0, 1
  %0 = get.i64 a0
  %1 = add.i64 %0, 1
  put a0, %1
  insn 0x1004, 4                  ; ld a1, 8(sp)
  %2 = get.i64 sp
  %3 = add.i64 %2, 8
  %4 = load.i64 %3
  put a1, %4
  insn 0x1008, 4                  ; bne a0, a1, -8
  %5 = cmp.ne %1, %4
  br %5, 0x1000, 0x100c
"""
    verify(block)


def test_constants_fold_and_x0_reads_as_zero():
    # li a0, 5 (addi a0, zero, 5); addi a0, a0, 3; ecall
    block = dbt.translate("riscv64", rv(0x00500513, 0x00350513, ECALL), 0x2000)
    text = str(block)
    assert "put a0, 8\n" in text          # 5 + 3 folded, the first put is dead and dropped
    assert "put a0, 5" not in text
    assert text.endswith("exit syscall, 0x2008, 0x200c\n")


def test_undefined_instruction_ends_the_block_with_an_exit():
    block = dbt.translate("riscv64", rv(ADDI_A0_1, 0xFFFFFFFF), 0x3000)
    term = block.terminator
    assert term.opcode == "exit" and term.attrs == (ExitKind.UNDEF, 0x3004, 0x3004)
    assert [i.pc for i in block.insns] == [0x3000, 0x3004]


def test_builder_checks_widths():
    b = IRBuilder(Block("riscv64", 0))
    b.insn(0, 4, b"\0" * 4, "test")
    a = b.get(X[10])
    with pytest.raises(IRError, match="operand types i64 and i32"):
        b.add(a, b.trunc(a, I32))
    with pytest.raises(IRError, match="condition is i64, not i1"):
        b.select(a, a, a)
    with pytest.raises(IRError, match="zext i64 to i32: wrong direction"):
        b.zext(a, I32)


def test_builder_identities():
    b = IRBuilder(Block("riscv64", 0))
    b.insn(0, 4, b"\0" * 4, "test")
    a = b.get(X[10])
    assert b.add(a, Const(I64, 0)) is a
    assert b.and_(a, Const(I64, 2**64 - 1)) is a
    assert b.mul(a, Const(I64, 0)).value == 0
    assert b.select(Const(I1, 1), a, Const(I64, 7)) is a
    assert b.trunc(b.zext(b.trunc(a, I32), I64), I32).opcode == "trunc"


def test_builder_computes_a_pure_operation_once():
    block = Block("riscv64", 0)
    b = IRBuilder(block)
    b.insn(0, 4, b"\0" * 4, "test")
    a, c = b.get(X[10]), b.get(X[11])
    masked = b.and_(a, Const(I64, 0x7FF))
    assert b.and_(a, Const(I64, 0x7FF)) is masked           # same operands, constants by value
    assert b.and_(a, Const(I64, 0x7FE)) is not masked
    assert b.add(a, c) is not b.add(c, a)                  # operand order is kept as written
    assert b.cmp("ult", a, c) is b.cmp("ult", a, c) and b.cmp("ult", a, c) is not b.cmp("slt", a, c)
    b.store(c, a)
    assert b.load(I64, c) is not b.load(I64, c)            # memory operations are never merged
    assert [op.opcode for op in block.ops].count("and") == 2


def test_verifier_rejects_memory_access_after_register_write():
    b = IRBuilder(Block("riscv64", 0))
    b.insn(0, 4, b"\0" * 4, "bad")
    a = b.get(X[10])
    b.put(X[11], a)
    b.load(I64, a)
    b.emit("goto", None, (), (4,))
    with pytest.raises(IRError, match="memory access after a register write"):
        verify(b.block)


def test_verifier_rejects_use_before_definition():
    b = IRBuilder(Block("riscv64", 0))
    b.insn(0, 4, b"\0" * 4, "bad")
    a = b.get(X[10])
    s = b.add(a, Const(I64, 1))
    b.put(X[10], s)
    b.goto(4)
    ops = b.block.ops
    ops.insert(1, ops.pop(ops.index(s)))  # move the add before the get it uses
    with pytest.raises(IRError, match="used before it is defined"):
        verify(b.block)


@pytest.mark.parametrize("opcode", ["clz", "ctz", "popcnt", "bswap", "bitrev"])
def test_unary_bit_operations_agree_between_tiers(opcode):
    """The reference semantics of the bit-manipulation ops, and the JIT's lowering of them."""
    import random

    from backends.interp.semantics import eval_unary
    from dbt.engine import Engine
    from dbt.frontend import get
    from dbt.ir.types import I16
    rng = random.Random(7)
    fe = get("riscv64")
    cases = [0, 1, 0x80, 0xFFFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000] + [rng.getrandbits(64) for _ in range(40)]
    assert eval_unary("clz", I64, 1) == 63 and eval_unary("ctz", I64, 0) == 64
    assert eval_unary("bswap", I16, 0x1234) == 0x3412 and eval_unary("bitrev", I32, 1) == 0x8000_0000
    for tier in ("interp", "jit"):
        for ty in (I64, I32):
            e = Engine(fe, tier=tier)
            block = Block("riscv64", 0x1000)
            b = IRBuilder(block)
            b.insn(0x1000, 4, b"\0" * 4, "test")
            v = b.trunc(b.get(X[10]), ty) if ty is I32 else b.get(X[10])
            b.put(X[11], b.zext(b.unop(opcode, v), I64))
            b.exit(ExitKind.BREAK, 0x1004, 0x1004)
            from backends.interp import compile_block
            from backends.llvm.lower import Region, lower_region, module_text
            for a in cases:
                e.state["a0"] = a
                expected = eval_unary(opcode, ty, a & ty.mask)
                if tier == "interp":
                    e.env.bind(compile_block(block))()
                else:
                    text = module_text([lower_region(Region([block], "t"), e.memory.size, fe.regfile.size)])
                    fn = e.jit.fast.compile(text, ["t"])["t"]
                    import ctypes
                    e.state.pc, e.state["ilimit"] = 0x1000, 2**64 - 1
                    ctypes.CFUNCTYPE(ctypes.c_uint32, *[ctypes.c_void_p] * 4)(fn)(
                        e.state.address, e.memory.base_address, e.memory.perm_address,
                        ctypes.addressof(e.jit.jcache))
                assert e.state["a1"] == expected, (tier, opcode, ty, hex(a))

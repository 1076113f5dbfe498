"""RV64I and RV64M: integer register-register and register-immediate operations."""
from __future__ import annotations

from dbt.ir.block import Const
from dbt.ir.types import I32, I64, I128

from .. import fields as f
from ..lifter import Ctx, family, insn


def _rhs(ctx: Ctx, a: f.Args, imm: bool):
    return Const(I64, a.imm) if imm else ctx.x(a.rs2)


def alu(opcode: str, imm: bool):
    """rd = rs1 <op> rs2 (or the immediate), on 64 bits."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        ctx.set_x(a.rd, ctx.b.binop(opcode, ctx.x(a.rs1), _rhs(ctx, a, imm)))
    return lift


def alu_word(opcode: str, imm: bool):
    """rd = sext32(rs1[31:0] <op> rs2[31:0]): the RV64 *W instructions."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        r = b.binop(opcode, b.trunc(ctx.x(a.rs1), I32), b.trunc(_rhs(ctx, a, imm), I32))
        ctx.set_x(a.rd, b.sext(r, I64))
    return lift


def set_less(cond: str, imm: bool):
    """rd = 1 if rs1 < rs2 (signed or unsigned) else 0."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        ctx.set_x(a.rd, ctx.b.zext(ctx.b.cmp(cond, ctx.x(a.rs1), _rhs(ctx, a, imm)), I64))
    return lift


def mul_high(sign_a: bool, sign_b: bool):
    """The upper 64 bits of the 128-bit product."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        x = (b.sext if sign_a else b.zext)(ctx.x(a.rs1), I128)
        y = (b.sext if sign_b else b.zext)(ctx.x(a.rs2), I128)
        ctx.set_x(a.rd, b.trunc(b.lshr(b.mul(x, y), Const(I128, 64)), I64))
    return lift


def divide(opcode: str, ty):
    """RISC-V division: x/0 is all ones and x%0 is x; the IR already gives MIN/-1 = MIN, MIN%-1 = 0."""
    def lift(ctx: Ctx, a: f.Args) -> None:
        b = ctx.b
        x, y = ctx.x(a.rs1), ctx.x(a.rs2)
        if ty is I32:
            x, y = b.trunc(x, I32), b.trunc(y, I32)
        q = b.binop(opcode, x, y)
        if opcode in ("udiv", "sdiv"):
            q = b.select(b.cmp("eq", y, Const(ty, 0)), Const(ty, ty.mask), q)
        ctx.set_x(a.rd, b.sext(q, I64))
    return lift


family(f.r_type, alu, {"add": ("add", False), "sub": ("sub", False), "and": ("and", False),
                       "or": ("or", False), "xor": ("xor", False), "sll": ("shl", False),
                       "srl": ("lshr", False), "sra": ("ashr", False), "mul": ("mul", False)})
family(f.i_type, alu, {"addi": ("add", True), "andi": ("and", True), "ori": ("or", True),
                       "xori": ("xor", True)})
family(f.shift64, alu, {"slli": ("shl", True), "srli": ("lshr", True), "srai": ("ashr", True)})
family(f.r_type, alu_word, {"addw": ("add", False), "subw": ("sub", False), "sllw": ("shl", False),
                            "srlw": ("lshr", False), "sraw": ("ashr", False), "mulw": ("mul", False)})
family(f.i_type, alu_word, {"addiw": ("add", True)})
family(f.shift32, alu_word, {"slliw": ("shl", True), "srliw": ("lshr", True), "sraiw": ("ashr", True)})
family(f.r_type, set_less, {"slt": ("slt", False), "sltu": ("ult", False)})
family(f.i_type, set_less, {"slti": ("slt", True), "sltiu": ("ult", True)})
family(f.r_type, mul_high, {"mulh": (True, True), "mulhsu": (True, False), "mulhu": (False, False)})
family(f.r_type, divide, {"div": ("sdiv", I64), "divu": ("udiv", I64), "rem": ("srem", I64),
                          "remu": ("urem", I64), "divw": ("sdiv", I32), "divuw": ("udiv", I32),
                          "remw": ("srem", I32), "remuw": ("urem", I32)})


@insn("lui", fields=f.u_type)
def lui(ctx: Ctx, a: f.Args) -> None:
    ctx.set_x(a.rd, Const(I64, a.imm))


@insn("auipc", fields=f.u_type)
def auipc(ctx: Ctx, a: f.Args) -> None:
    ctx.set_x(a.rd, Const(I64, ctx.pc + a.imm))

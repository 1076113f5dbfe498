"""llvmlite plumbing: LLVM IR text -> optimized module -> x86-64 object code -> loaded into this process.

Compiling yields object code (bytes), which the code cache can keep; loading an object (fresh or from
the cache) hands back function addresses. One target machine and one MCJIT engine per Compiler; the
engine keeps every object it loaded, so their code stays valid.
"""
from __future__ import annotations

import time

import llvmlite.binding as llvm

_initialized = False


def _initialize() -> None:
    global _initialized
    if not _initialized:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _initialized = True


class Compiler:
    """Compiles LLVM IR text to native code in this process.

    Two levels, chosen by measurement on translated guest code: "quick" (no IR passes, fast instruction
    selection and register allocation) compiles about 6x faster than "optimized"; "optimized" promotes
    loop-carried guest registers to SSA values (SROA), simplifies, and uses the full code generator,
    which gives code as fast as LLVM's whole -O2 pipeline at a fifth of its cost.
    """

    LEVELS = {"quick": ((), 0), "optimized": (("sroa", "instruction_combine", "simplify_cfg"), 2)}

    def __init__(self, level: str = "optimized") -> None:
        _initialize()
        self.level = level
        self.passes, codegen_opt = self.LEVELS[level]
        target = llvm.Target.from_default_triple()
        self.target_machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
            opt=codegen_opt, reloc="default", codemodel="jitdefault")
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target_machine)
        self._pto = llvm.create_pipeline_tuning_options(speed_level=2)
        self.compile_seconds = 0.0
        self.functions_compiled = 0

    def _module(self, text: str):
        mod = llvm.parse_assembly(text)
        mod.verify()
        if self.passes:
            pb = llvm.create_pass_builder(self.target_machine, self._pto)
            fpm = llvm.create_new_function_pass_manager()
            for name in self.passes:
                getattr(fpm, f"add_{name}_pass")()
            for fn in mod.functions:
                if not fn.is_declaration:
                    fpm.run(fn, pb)
        return mod

    def compile_object(self, text: str) -> bytes:
        """Parse, verify and optimize a module; its object code."""
        t0 = time.perf_counter()
        obj = self.target_machine.emit_object(self._module(text))
        self.compile_seconds += time.perf_counter() - t0
        return obj

    def load(self, obj: bytes, names: list[str]) -> dict[str, int]:
        """Load object code into this process; the addresses of the named functions."""
        self.engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        self.engine.finalize_object()
        addrs = {n: self.engine.get_function_address(n) for n in names}
        missing = [n for n, a in addrs.items() if not a]
        if missing:
            raise ValueError(f"object code lacks function {missing[0]}")
        self.functions_compiled += len(names)
        return addrs

    def compile(self, text: str, names: list[str]) -> dict[str, int]:
        """Compile and load in one step."""
        return self.load(self.compile_object(text), names)

    def optimized_ir(self, text: str) -> str:
        """The module after optimization, as text (for `dbt translate`)."""
        return str(self._module(text))

    def assembly(self, text: str) -> str:
        """Host assembly for a module (for `dbt translate`)."""
        return self.target_machine.emit_assembly(self._module(text))

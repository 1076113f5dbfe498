"""llvmlite plumbing: one target machine and one MCJIT engine per compiler, modules compiled at O2,
function addresses handed back. Each engine keeps its modules (and so their code) alive."""
from __future__ import annotations

import threading
import time

import llvmlite.binding as llvm

_init_lock = threading.Lock()
_initialized = False


def _initialize() -> None:
    global _initialized
    with _init_lock:
        if not _initialized:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            _initialized = True


def host_id() -> str:
    """The host CPU name and features: compiled code is only valid on a matching CPU."""
    _initialize()
    return f"{llvm.get_process_triple()}/{llvm.get_host_cpu_name()}/{llvm.get_host_cpu_features().flatten()}"


class Compiler:
    """Compiles LLVM IR text to native code in this process."""

    def __init__(self, opt: int = 2, codegen_opt: int | None = None) -> None:
        _initialize()
        self.opt = opt
        target = llvm.Target.from_default_triple()
        self.target_machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
            opt=opt if codegen_opt is None else codegen_opt, reloc="default", codemodel="jitdefault")
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target_machine)
        self._pto = llvm.create_pipeline_tuning_options(speed_level=opt)
        self._lock = threading.Lock()
        self.modules = []
        self.compile_seconds = 0.0
        self.functions_compiled = 0

    def _optimize(self, mod) -> None:
        if self.opt == 0:
            return
        pb = llvm.create_pass_builder(self.target_machine, self._pto)
        mpm = pb.getModulePassManager()
        mpm.run(mod, pb)

    def compile(self, text: str, names: list[str]) -> dict[str, int]:
        """Parse, verify, optimize and load a module; the addresses of the named functions."""
        t0 = time.perf_counter()
        with self._lock:
            mod = llvm.parse_assembly(text)
            mod.verify()
            self._optimize(mod)
            self.engine.add_module(mod)
            self.engine.finalize_object()
            self.modules.append(mod)
            addrs = {n: self.engine.get_function_address(n) for n in names}
        self.compile_seconds += time.perf_counter() - t0
        self.functions_compiled += len(names)
        return addrs

    def optimized_ir(self, text: str) -> str:
        """The module after optimization, as text (for `dbt translate`)."""
        mod = llvm.parse_assembly(text)
        mod.verify()
        self._optimize(mod)
        return str(mod)

    def assembly(self, text: str) -> str:
        """Host assembly for a module (for `dbt translate`)."""
        mod = llvm.parse_assembly(text)
        mod.verify()
        self._optimize(mod)
        return self.target_machine.emit_assembly(mod)

"""What compiled code depends on in the host, told without importing llvmlite (see objload.py)."""
from __future__ import annotations

import platform


def host_id() -> str:
    """The host CPU as compiled code depends on it: its model and feature flags. Read from /proc/cpuinfo
    (what CPUID says, as LLVM's host detection sees it) so that a run from the code cache need not
    import llvmlite; LLVM is asked where /proc/cpuinfo is missing."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            first = f.read().split("\n\n", 1)[0]
    except OSError:
        first = ""
    fields = {k.strip(): v for k, _, v in (line.partition(":") for line in first.splitlines())}
    wanted = [fields.get(k, "").strip() for k in ("vendor_id", "model name", "flags")]
    if not wanted[2]:
        import llvmlite.binding as llvm
        llvm.initialize_native_target()
        return f"{llvm.get_process_triple()}/{llvm.get_host_cpu_name()}/{llvm.get_host_cpu_features().flatten()}"
    return f"{platform.machine()}/" + "/".join(wanted)

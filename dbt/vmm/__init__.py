"""The VMM shell: whole-system guests (RISC-V first) with trap-and-emulate privileged code and virtio devices.

    from dbt.vmm import Machine
    m = Machine(ram=64 << 20, tier="auto")
    m.attach(Block("disk.img"))
    m.load("samples/vm/build/disk.elf")
    status = m.run()
"""

__all__ = ["Machine", "STATUS_BUDGET", "STATUS_STOPPED"]


def __getattr__(name: str):
    """Import the machine on first use: `dbt run` loads this package for its CLI only."""
    if name in __all__:
        from . import machine
        return getattr(machine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

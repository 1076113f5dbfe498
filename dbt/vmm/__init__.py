"""The VMM shell: whole-system guests (RISC-V first) with trap-and-emulate privileged code and virtio devices.

    from dbt.vmm import Machine
    m = Machine(ram=64 << 20, tier="auto")
    m.attach(Block("disk.img"))
    m.load("samples/vm/build/disk.elf")
    status = m.run()
"""
from .machine import Machine, STATUS_BUDGET, STATUS_STOPPED  # noqa: F401

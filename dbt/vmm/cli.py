"""`dbt vm`: run a bare-metal guest on a virtual machine.

    dbt vm [--ram SIZE] [--disk PATH[,readonly][,size=SIZE][,prealloc]]... [--net switch:NAME|udp:LPORT:RHOST:RPORT]...
           [--smp N] [--tier interp|jit|auto] [--console] [--entropy] [--max-insns N] [GUEST.elf]
    dbt vm --machine FILE.toml [options that override the file]

The exit status is the guest's (HTIF exit, SBI reset); 125 when the guest stops on a fault it cannot
handle (the report goes to stderr), 124 when --max-insns runs out, 130 on Ctrl-C. Disk images are
flushed in every case.
"""
from __future__ import annotations

import argparse
import signal
import sys

from ..engine import TIERS

STATUS_INTERRUPTED = 130


def register(sub) -> None:
    """Add the `vm` subcommand to the dbt command line's subparsers."""
    p = sub.add_parser("vm", help="run a bare-metal guest on a virtual machine (RISC-V virt layout)")
    p.add_argument("--machine", metavar="FILE.toml", help="a machine file describing the machine")
    p.add_argument("--ram", metavar="SIZE", help="RAM size, e.g. 128M (default 128M)")
    p.add_argument("--disk", action="append", default=[], metavar="PATH[,readonly][,size=SIZE][,prealloc]",
                   help="a virtio block device on a raw image file (repeatable); size= creates or extends "
                        "the image, sparse unless prealloc")
    p.add_argument("--net", action="append", default=[], metavar="BACKEND",
                   help="a virtio network device: switch:NAME or udp:LOCAL_PORT:REMOTE_HOST:REMOTE_PORT")
    p.add_argument("--smp", type=int, metavar="N", help="number of harts (default 1, at most 8)")
    p.add_argument("--tier", choices=TIERS, help="execution tier (default auto)")
    p.add_argument("--console", action="store_true", help="a virtio console on stdin/stdout")
    p.add_argument("--entropy", action="store_true", help="a virtio entropy device")
    p.add_argument("--max-insns", type=int, metavar="N", help="stop after N guest instructions (status 124)")
    p.add_argument("guest", nargs="?", help="the guest ELF (linked for RAM at 0x80000000)")
    p.set_defaults(func=cmd_vm)


def spec_from_args(args: argparse.Namespace):
    """The MachineSpec the options describe (a machine file first, options on top)."""
    from .config import MachineSpec, load_toml, parse_disk, parse_size, NetSpec
    spec = load_toml(args.machine) if args.machine else MachineSpec()
    if args.guest:
        spec.guest = args.guest
    if args.ram:
        spec.ram = parse_size(args.ram)
    if args.smp is not None:
        spec.smp = args.smp
    if args.tier:
        spec.tier = args.tier
    spec.console = spec.console or args.console
    spec.entropy = spec.entropy or args.entropy
    spec.disks += [parse_disk(d) for d in args.disk]
    spec.nets += [NetSpec(n) for n in args.net]
    return spec


def cmd_vm(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .loader import LoadError
    from .machine import STATUS_STOPPED
    try:
        spec = spec_from_args(args)
        machine = spec.build()
    except (ConfigError, LoadError, ValueError) as e:
        print(f"dbt vm: {e}", file=sys.stderr)
        return 2
    if spec.console:
        machine.start_console_input()
    def interrupt(signum, frame) -> None:
        if machine.stop_request is not None:  # a second Ctrl-C: stop wherever it is
            raise KeyboardInterrupt
        machine.request_stop(STATUS_INTERRUPTED, "interrupted")

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        status = machine.run(args.max_insns)
    except KeyboardInterrupt:
        status, machine.stop_reason = STATUS_INTERRUPTED, "interrupted"
    finally:
        signal.signal(signal.SIGINT, previous)
        machine.close()
    for error in machine.device_errors():
        print(f"dbt vm: {error}", file=sys.stderr)
    if status in (STATUS_STOPPED, STATUS_INTERRUPTED) or args.max_insns is not None and status == 124:
        print(f"dbt vm: {machine.stop_reason}", file=sys.stderr)
    return status

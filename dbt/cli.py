"""The `dbt` command line: run guest programs, show translations, manage the code cache."""
from __future__ import annotations

import argparse
import os
import resource
import signal
import sys

SIGNAL_OF_STATUS = {132: signal.SIGILL, 133: signal.SIGTRAP, 139: signal.SIGSEGV}


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dbt", description="Run and inspect programs built for another processor.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a guest Linux program")
    run.add_argument("--tier", choices=("interp", "jit", "auto"), default="auto",
                     help="execution tier: the interpreter only, the LLVM JIT only, or both (default)")
    run.add_argument("--root", metavar="DIR", help="confine the guest's file system view to DIR")
    run.add_argument("--strace", action="store_true", help="print every system call on stderr")
    run.add_argument("--trace", action="store_true", help="print every executed block on stderr")
    run.add_argument("--stats", action="store_true", help="print execution statistics on stderr at exit")
    run.add_argument("--stats-json", metavar="FILE",
                     help="write the statistics and the final registers as JSON to FILE at exit")
    run.add_argument("--max-insns", type=_int, metavar="N", help="stop after N guest instructions")
    run.add_argument("--isa", help="the guest ISA (default: from the ELF header)")
    run.add_argument("--no-cache", action="store_true", help="neither read nor write the code cache")
    run.add_argument("--cache-dir", metavar="DIR",
                     help="where the code cache lives (default: $DBT_CACHE_DIR or ~/.cache/dbt)")
    run.add_argument("program", help="the guest executable")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the guest")

    cache = sub.add_parser("cache", help="inspect or empty the code cache")
    cache.add_argument("action", choices=("info", "clear"))
    cache.add_argument("--cache-dir", metavar="DIR", help="the cache directory (default: as for run)")

    sub.add_parser("bench", help="benchmark dbt against qemu-user and native runs", add_help=False)

    from .vmm.cli import register as register_vm
    register_vm(sub)

    tr = sub.add_parser("translate", help="show how guest code is translated, stage by stage")
    tr.add_argument("program", help="a guest executable, or a raw code file with --isa and --base")
    tr.add_argument("--at", type=_int, metavar="ADDR", help="guest address of the block (default: entry)")
    tr.add_argument("--isa", help="the guest ISA (needed for raw code)")
    tr.add_argument("--base", type=_int, default=0, help="load address of raw code")
    tr.add_argument("--blocks", type=_int, default=1, help="how many consecutive blocks to show")
    tr.add_argument("--region", action="store_true",
                    help="compile the blocks reachable from ADDR as one region, as the JIT does")
    tr.add_argument("--stages", default="asm,ir,python,llvm,host",
                    help="comma-separated stages to show: asm, ir, python, llvm, opt, host")
    return p


def _die_like(status: int) -> None:
    """End this process the way the guest ended: by the same signal where there is one."""
    sys.stdout.flush()
    sys.stderr.flush()
    sig = SIGNAL_OF_STATUS.get(status)
    if sig is not None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(status)


def cmd_run(args: argparse.Namespace) -> int:
    from .linux.process import LinuxProcess, LoadError
    if args.cache_dir:
        os.environ["DBT_CACHE_DIR"] = os.path.abspath(args.cache_dir)
    if args.root is not None and not os.path.isdir(args.root):
        print(f"dbt: --root {args.root}: not a directory", file=sys.stderr)
        return 2
    argv = [args.program, *args.args]
    exec_options = ["--tier", args.tier, *(["--root", args.root] if args.root else []),
                    *(["--strace"] if args.strace else []), *(["--no-cache"] if args.no_cache else []),
                    *(["--cache-dir", os.environ["DBT_CACHE_DIR"]] if args.cache_dir else [])]
    try:
        proc = LinuxProcess(args.program, argv, None, isa=args.isa, root=args.root, strace=args.strace,
                            tier=args.tier, exec_options=exec_options, code_cache=not args.no_cache)
    except LoadError as e:
        print(f"dbt: {e}", file=sys.stderr)
        return 127 if "no such file" in str(e) else 126
    except KeyError as e:
        print(f"dbt: {e.args[0]}", file=sys.stderr)
        return 2
    if args.trace:
        proc.engine.trace = lambda blk: sys.stderr.write(f"block {blk.pc:#x} ({blk.n} insns)\n")
    started_as = os.getpid()
    status = proc.run(args.max_insns)
    if os.getpid() != started_as:  # a forked guest child ends here too: its parent reports
        return status
    if args.stats:
        sys.stderr.write(proc.engine.stats_text())
    if args.stats_json:
        import json
        with open(args.stats_json, "w") as f:
            json.dump({**proc.engine.stats(), "status": status, "registers": proc.state.snapshot()}, f, indent=1)
    return status


def cmd_translate(args: argparse.Namespace) -> int:
    from .exits import GuestFault
    from .inspect import STAGES, translate_file
    try:
        stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            print(f"dbt: unknown stage {unknown[0]!r} (choose from {', '.join(STAGES)})", file=sys.stderr)
            return 2
        sys.stdout.write(translate_file(args.program, at=args.at, isa=args.isa, base=args.base,
                                        blocks=args.blocks, stages=stages, region=args.region))
    except GuestFault as e:
        print(f"dbt: {args.program}: no executable guest code at {e.addr:#x}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"dbt: {args.program}: {e.strerror or e}", file=sys.stderr)
        return 1
    except (ValueError, KeyError) as e:
        print(f"dbt: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from . import codecache
    if args.cache_dir:
        os.environ["DBT_CACHE_DIR"] = os.path.abspath(args.cache_dir)
    if args.action == "info":
        sys.stdout.write(codecache.info())
    else:
        n = codecache.clear()
        print(f"removed {n} file{'s' if n != 1 else ''} from {codecache.cache_root() / 'code'}")
    return 0


def cmd_bench(argv: list[str]) -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from benchmarks.harness import main as bench_main
    except ImportError:
        print("dbt: `dbt bench` runs from a source checkout (it needs samples/ and benchmarks/)",
              file=sys.stderr)
        return 2
    return bench_main(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        sys.exit(cmd_bench(argv[1:]))
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            status = cmd_run(args)
            _die_like(status)
        if args.command == "vm":
            status = args.func(args)
        else:
            status = cmd_cache(args) if args.command == "cache" else cmd_translate(args)
    except KeyboardInterrupt:
        status = 130
    except BrokenPipeError:
        status = 141
    sys.stdout.flush()
    sys.exit(status)


if __name__ == "__main__":
    main()

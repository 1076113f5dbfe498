"""Machine descriptions: from command-line options or a TOML machine file, checked before anything runs.

A machine file (paths in it are relative to the file):

    guest = "samples/vm/build/disk.elf"
    ram = "64M"
    smp = 1
    tier = "auto"
    console = false        # a virtio console on the host's stdin/stdout
    entropy = true         # a virtio entropy device
    [[disk]]
    path = "disk.img"
    readonly = false
    size = "64M"           # create or extend the image: sparse, or allocated with prealloc = true
    [[net]]
    backend = "udp:5555:127.0.0.1:5556"   # or "switch:NAME"
    mac = "52:54:00:12:34:56"
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field

from ..engine import TIERS
from .machine import DEFAULT_RAM, MAX_HARTS, Machine
from .netdev import NetError, parse as parse_net
from .virtio.block import Block, DiskError
from .virtio.console import Console
from .virtio.entropy import Entropy
from .virtio.net import Net

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
KEYS = {"guest", "ram", "smp", "tier", "console", "entropy", "disk", "net", "sbi"}
MAX_RAM = 1 << 30  # RAM at 0x80000000 must end below 4 GiB; keep a margin for the arena


class ConfigError(Exception):
    """The machine description is wrong: the message says where and why."""


@dataclass
class DiskSpec:
    path: str
    readonly: bool = False
    size: int | None = None      # create or extend the image to this size
    prealloc: bool = False       # allocate it up front instead of sparse


@dataclass
class NetSpec:
    backend: str
    mac: str | None = None


@dataclass
class MachineSpec:
    """Everything needed to build a machine."""

    guest: str | None = None
    ram: int = DEFAULT_RAM
    smp: int = 1
    tier: str = "auto"
    console: bool = False
    entropy: bool = False
    sbi: str = "auto"
    disks: list[DiskSpec] = field(default_factory=list)
    nets: list[NetSpec] = field(default_factory=list)

    def check(self) -> None:
        """Raise ConfigError for values no machine can have."""
        if self.ram < 1 << 20 or self.ram > MAX_RAM or self.ram & 0xFFF:
            raise ConfigError(f"ram must be a multiple of 4 KiB between 1 MiB and {MAX_RAM >> 20} MiB")
        if not 1 <= self.smp <= MAX_HARTS:
            raise ConfigError(f"smp must be between 1 and {MAX_HARTS}")
        if self.tier not in TIERS:
            raise ConfigError(f"tier must be one of {', '.join(TIERS)}")
        if self.sbi not in ("auto", "on", "off"):
            raise ConfigError("sbi must be auto, on or off")
        if self.guest is None:
            raise ConfigError("no guest program given")
        if not os.path.isfile(self.guest):
            raise ConfigError(f"guest {self.guest}: no such file")

    def build(self, output=None) -> Machine:
        """The machine with its devices attached and the guest loaded (backends opened first)."""
        self.check()
        devices = []
        try:
            for d in self.disks:
                devices.append(Block(d.path, readonly=d.readonly, size=d.size, prealloc=d.prealloc))
            for n in self.nets:
                mac = parse_mac(n.mac) if n.mac else bytes.fromhex("525400123456")
                devices.append(Net(parse_net(n.backend), mac))
        except (DiskError, NetError) as e:
            for dev in devices:
                dev.close()
            raise ConfigError(str(e)) from None
        if self.entropy:
            devices.append(Entropy())
        if self.console:
            devices.append(Console())
        m = Machine(ram=self.ram, harts=self.smp, tier=self.tier, output=output, sbi=self.sbi)
        for dev in devices:
            m.attach(dev)
        m.load(self.guest)
        return m


def parse_size(text: str | int) -> int:
    """A size such as 134217728, "64M", "1G" or "512KiB"."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(i?B)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ConfigError(f"not a size: {text!r} (use e.g. 64M or 1G)")
    return int(m.group(1)) * UNITS[m.group(2).upper()]


def parse_mac(text: str) -> bytes:
    parts = text.split(":")
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9a-fA-F]{2}", p) for p in parts):
        raise ConfigError(f"not a MAC address: {text!r}")
    return bytes(int(p, 16) for p in parts)


def parse_disk(text: str) -> DiskSpec:
    """PATH[,readonly][,size=SIZE][,prealloc]"""
    path, *opts = text.split(",")
    spec = DiskSpec(path)
    for o in opts:
        if o in ("readonly", "ro"):
            spec.readonly = True
        elif o == "prealloc":
            spec.prealloc = True
        elif o.startswith("size="):
            spec.size = parse_size(o[5:])
        else:
            raise ConfigError(f"unknown disk option {o!r} in {text!r} (known: readonly, size=SIZE, prealloc)")
    return spec


def load_toml(path: str) -> MachineSpec:
    """A MachineSpec from a TOML machine file."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"machine file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"machine file {path}: {e}") from None
    unknown = set(data) - KEYS
    if unknown:
        raise ConfigError(f"machine file {path}: unknown keys {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(KEYS))})")
    here = os.path.dirname(os.path.abspath(path))

    def rel(p: object, what: str) -> str:
        if not isinstance(p, str):
            raise ConfigError(f"machine file {path}: {what} must be a string")
        return os.path.join(here, p)

    def typed(key: str, ty: type, default):
        v = data.get(key, default)
        if not isinstance(v, ty) or (ty is int and isinstance(v, bool)):
            raise ConfigError(f"machine file {path}: {key} must be a {ty.__name__}")
        return v

    spec = MachineSpec()
    try:
        if "guest" in data:
            spec.guest = rel(data["guest"], "guest")
        spec.ram = parse_size(data.get("ram", DEFAULT_RAM))
        spec.smp = typed("smp", int, 1)
        spec.tier = typed("tier", str, "auto")
        spec.console = typed("console", bool, False)
        spec.entropy = typed("entropy", bool, False)
        spec.sbi = typed("sbi", str, "auto")
        for d in _tables(data, "disk", path):
            if set(d) - {"path", "readonly", "size", "prealloc"} or "path" not in d:
                raise ConfigError(f"machine file {path}: a [[disk]] needs path "
                                  "(and optionally readonly, size, prealloc)")
            spec.disks.append(DiskSpec(rel(d["path"], "disk path"), bool(d.get("readonly", False)),
                                       parse_size(d["size"]) if "size" in d else None,
                                       bool(d.get("prealloc", False))))
        for n in _tables(data, "net", path):
            if set(n) - {"backend", "mac"} or "backend" not in n:
                raise ConfigError(f"machine file {path}: a [[net]] needs backend (and optionally mac)")
            spec.nets.append(NetSpec(str(n["backend"]), n.get("mac")))
    except ConfigError as e:
        raise ConfigError(str(e) if str(e).startswith("machine file") else f"machine file {path}: {e}") from None
    return spec


def _tables(data: dict, key: str, path: str) -> list[dict]:
    v = data.get(key, [])
    if isinstance(v, dict):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
        raise ConfigError(f"machine file {path}: {key} must be a table or an array of tables")
    return v

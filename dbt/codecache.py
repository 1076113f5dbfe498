"""The persistent code cache: native code compiled in one run, loaded by the next so it skips LLVM.

One file per (program, ISA, translator version, host CPU, compiler settings) under the user's cache
directory (`$DBT_CACHE_DIR`, else `$XDG_CACHE_HOME/dbt`, else `~/.cache/dbt`). A file holds object-code
modules and, for each compiled region, its entry points and the guest bytes it was built from (as
digests): a region is used only when the guest bytes in memory still match. A file that is truncated,
corrupt or written by another version is ignored and replaced, never trusted.

File layout: b"DBTCACHE" + u32 format + 32-byte SHA-256 of the rest + rest, where rest is a u32 header
length, a JSON header, and the object files it describes.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"DBTCACHE"
FORMAT = 3
MAX_FILE_BYTES = 64 << 20

# Source files whose contents define what translated code means: any change makes old code stale.
_SOURCES = ("dbt/ir", "dbt/state.py", "dbt/exits.py", "dbt/memory.py", "dbt/jit.py", "backends/llvm", "frontends")


def cache_root() -> Path:
    env = os.environ.get("DBT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dbt"


_version: str | None = None


def translator_version() -> str:
    """A digest of the translator's own source: the cache is only valid for the code that wrote it."""
    global _version
    if _version is None:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for entry in _SOURCES:
            path = root / entry
            files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            for f in files:
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
        _version = h.hexdigest()[:24]
    return _version


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class CachedRegion:
    name: str
    blocks: list[tuple[int, int, str]]  # (guest pc, byte length, digest of those bytes); entries
    lines: int = 0                      # size of its LLVM IR
    seconds: float = 0.0                # native time charged to it over all runs (JIT.profile)


@dataclass
class CachedModule:
    obj: bytes
    regions: list[CachedRegion]
    optimized: bool = False


class CodeCache:
    """The cache file of one program."""

    def __init__(self, key: str, directory: Path | None = None) -> None:
        self.directory = (directory or cache_root()) / "code"
        self.path = self.directory / f"{key}.dbtc"
        self.problem: str | None = None  # why an existing file was not used
        self.extra: dict = {}  # what the JIT keeps besides code (JIT.use_cache, save_cache), from load()

    @staticmethod
    def key(*parts: str | bytes) -> str:
        h = hashlib.sha256()
        for p in parts:
            h.update(p if isinstance(p, bytes) else p.encode())
            h.update(b"\0")
        return h.hexdigest()[:32]

    def load(self) -> list[CachedModule]:
        """The modules in the file; [] (with self.problem set) if it is missing or unusable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as e:
            self.problem = f"unreadable: {e.strerror}"
            return []
        try:
            header, blobs = _split(data)
            modules = _modules(header, blobs)
            extra = header.get("extra", {})
            self.extra = extra if isinstance(extra, dict) else {}
            return modules
        except (ValueError, KeyError, TypeError, struct.error, json.JSONDecodeError) as e:
            self.problem = f"ignored {self.path.name}: {e}"
            try:
                self.path.unlink()
            except OSError:
                pass
            return []

    def save(self, modules: list[CachedModule], extra: dict | None = None) -> None:
        """Write the file atomically (another run may be reading it)."""
        header: dict = {"modules": [], "extra": extra or {}}
        blobs = []
        offset = 0
        for m in modules:
            header["modules"].append({"offset": offset, "size": len(m.obj), "optimized": m.optimized,
                                      "regions": [{"name": r.name, "blocks": r.blocks, "lines": r.lines,
                                                   "seconds": r.seconds} for r in m.regions]})
            blobs.append(m.obj)
            offset += len(m.obj)
        head = json.dumps(header, separators=(",", ":")).encode()
        rest = struct.pack("<I", len(head)) + head + b"".join(blobs)
        if len(rest) > MAX_FILE_BYTES:
            return
        data = MAGIC + struct.pack("<I", FORMAT) + hashlib.sha256(rest).digest() + rest
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _split(data: bytes) -> tuple[dict, bytes]:
    """A cache file's JSON header and its object code, after checking the file is whole and of this
    format."""
    if len(data) < 44 or data[:8] != MAGIC:
        raise ValueError("not a dbt cache file")
    (fmt,) = struct.unpack_from("<I", data, 8)
    if fmt != FORMAT:
        raise ValueError(f"cache format {fmt}, this dbt writes {FORMAT}")
    rest = data[44:]
    if hashlib.sha256(rest).digest() != data[12:44]:
        raise ValueError("checksum mismatch (truncated or corrupt)")
    (hlen,) = struct.unpack_from("<I", rest, 0)
    header = json.loads(rest[4:4 + hlen])
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    return header, rest[4 + hlen:]


def _parse(data: bytes) -> list[CachedModule]:
    return _modules(*_split(data))


def _modules(header: dict, blobs: bytes) -> list[CachedModule]:
    modules = []
    for m in header["modules"]:
        start, size = int(m["offset"]), int(m["size"])
        if start < 0 or size <= 0 or start + size > len(blobs):
            raise ValueError("module outside the file")
        regions = [CachedRegion(str(r["name"]), [(int(pc), int(n), str(d)) for pc, n, d in r["blocks"]],
                                int(r["lines"]), float(r["seconds"])) for r in m["regions"]]
        modules.append(CachedModule(blobs[start:start + size], regions, bool(m["optimized"])))
    return modules


def info(directory: Path | None = None) -> str:
    """What `dbt cache info` prints."""
    d = (directory or cache_root()) / "code"
    files = sorted(d.glob("*.dbtc")) if d.is_dir() else []
    total = sum(f.stat().st_size for f in files)
    lines = [f"code cache: {d}", f"files: {len(files)}, {total / 1024:.1f} KiB"]
    for f in files:
        try:
            mods = _parse(f.read_bytes())
            regions = sum(len(m.regions) for m in mods)
            lines.append(f"  {f.name}: {len(mods)} modules, {regions} regions, {f.stat().st_size / 1024:.1f} KiB")
        except (ValueError, KeyError, TypeError, struct.error, json.JSONDecodeError) as e:
            lines.append(f"  {f.name}: unusable ({e})")
    return "\n".join(lines) + "\n"


def clear(directory: Path | None = None) -> int:
    """Delete every cache file; how many were removed."""
    d = (directory or cache_root()) / "code"
    n = 0
    if d.is_dir():
        for f in list(d.glob("*.dbtc")) + list(d.glob(".tmp-*")):
            f.unlink()
            n += 1
    return n

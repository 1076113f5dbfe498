"""A flattened devicetree (DTB, version 17) writer: nodes with properties, serialised big-endian."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAGIC = 0xD00DFEED
BEGIN_NODE, END_NODE, PROP, END = 1, 2, 3, 9
HEADER_SIZE = 40

Value = int | str | bytes | list[int] | tuple[int, ...] | list[str] | None


def encode(value: Value) -> bytes:
    """A property value: an int is one u32 cell, a list of ints is cells, a list of str a string list."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode() + b"\0"
    if isinstance(value, int):
        return struct.pack(">I", value)
    if all(isinstance(v, str) for v in value):
        return b"".join(v.encode() + b"\0" for v in value)
    return b"".join(struct.pack(">I", v & 0xFFFFFFFF) for v in value)


def cells64(*values: int) -> list[int]:
    """64-bit numbers as pairs of u32 cells (for #address-cells = #size-cells = 2)."""
    return [c for v in values for c in (v >> 32, v & 0xFFFFFFFF)]


@dataclass
class Node:
    """A devicetree node: a name (with unit address), properties in order, children."""

    name: str
    props: dict[str, Value] = field(default_factory=dict)
    children: list["Node"] = field(default_factory=list)

    def child(self, name: str, props: dict[str, Value] | None = None) -> "Node":
        """Add and return a child node."""
        node = Node(name, dict(props or {}))
        self.children.append(node)
        return node

    def find(self, path: str) -> "Node | None":
        """The descendant at a /-separated path of node names."""
        node: Node | None = self
        for part in filter(None, path.split("/")):
            node = next((c for c in node.children if c.name == part), None) if node else None
        return node


def build(root: Node, boot_cpuid: int = 0) -> bytes:
    """The DTB bytes for a tree."""
    strings = bytearray()
    offsets: dict[str, int] = {}
    struct_block = bytearray()

    def name_offset(name: str) -> int:
        if name not in offsets:
            offsets[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return offsets[name]

    def pad() -> None:
        struct_block.extend(b"\0" * (-len(struct_block) % 4))

    def emit(node: Node) -> None:
        struct_block.extend(struct.pack(">I", BEGIN_NODE) + node.name.encode() + b"\0")
        pad()
        for key, value in node.props.items():
            data = encode(value)
            struct_block.extend(struct.pack(">III", PROP, len(data), name_offset(key)) + data)
            pad()
        for c in node.children:
            emit(c)
        struct_block.extend(struct.pack(">I", END_NODE))

    emit(root)
    struct_block.extend(struct.pack(">I", END))
    rsvmap = HEADER_SIZE
    off_struct = rsvmap + 16
    off_strings = off_struct + len(struct_block)
    total = off_strings + len(strings)
    header = struct.pack(">10I", MAGIC, total, off_struct, off_strings, rsvmap, 17, 16, boot_cpuid,
                         len(strings), len(struct_block))
    return header + bytes(16) + bytes(struct_block) + bytes(strings)


def parse(blob: bytes) -> Node:
    """Read a DTB back into nodes (property values stay raw bytes): for tests and tools."""
    magic, total, off_struct, off_strings = struct.unpack_from(">4I", blob)
    if magic != MAGIC:
        raise ValueError("not a devicetree blob")
    pos = off_struct
    stack: list[Node] = []
    root = None
    while True:
        (token,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if token == BEGIN_NODE:
            end = blob.index(b"\0", pos)
            node = Node(blob[pos:end].decode())
            pos = (end + 4) & ~3
            if stack:
                stack[-1].children.append(node)
            else:
                root = node
            stack.append(node)
        elif token == PROP:
            length, nameoff = struct.unpack_from(">II", blob, pos)
            pos += 8
            name = blob[off_strings + nameoff: blob.index(b"\0", off_strings + nameoff)].decode()
            stack[-1].props[name] = blob[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif token == END_NODE:
            stack.pop()
        elif token == END:
            assert root is not None
            return root
        elif token != 4:
            raise ValueError(f"bad devicetree token {token} at {pos - 4}")

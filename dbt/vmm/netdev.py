"""Network backends for virtio-net: an in-process switch joining the VMs of one process by name, and
a UDP socket carrying one Ethernet frame per datagram (the framing of QEMU's `-netdev dgram`)."""
from __future__ import annotations

import socket
import threading

SWITCHES: dict[str, "Switch"] = {}
_LOCK = threading.Lock()
MAX_DATAGRAM = 65536


class NetError(Exception):
    """A backend cannot be set up (reported before the guest starts)."""


class Switch:
    """A learning Ethernet switch: frames go to the port that owns the destination MAC, else to all."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ports: list[SwitchPort] = []
        self.table: dict[bytes, SwitchPort] = {}
        self.lock = threading.Lock()

    @staticmethod
    def named(name: str) -> "Switch":
        with _LOCK:
            if name not in SWITCHES:
                SWITCHES[name] = Switch(name)
            return SWITCHES[name]

    def forward(self, src: "SwitchPort", frame: bytes) -> None:
        with self.lock:
            if len(frame) >= 12 and not frame[6] & 1:
                self.table[frame[6:12]] = src
            dst = self.table.get(frame[:6]) if not frame[0] & 1 else None
            targets = [dst] if dst is not None else [p for p in self.ports if p is not src]
        for port in targets:
            if port is not src:
                port.deliver(frame)


class SwitchPort:
    """A VM's connection to a named switch."""

    def __init__(self, name: str) -> None:
        self.switch = Switch.named(name)
        self.device = None
        with self.switch.lock:
            self.switch.ports.append(self)

    def connect(self, device) -> None:
        self.device = device

    def send(self, frame: bytes) -> None:
        self.switch.forward(self, frame)

    def deliver(self, frame: bytes) -> None:
        dev = self.device
        if dev is not None and dev.machine is not None:
            dev.machine.post(lambda: dev.receive(frame))

    def close(self) -> None:
        with self.switch.lock:
            if self in self.switch.ports:
                self.switch.ports.remove(self)
            self.switch.table = {m: p for m, p in self.switch.table.items() if p is not self}


class UdpBackend:
    """Frames as UDP datagrams: sent to (remote_host, remote_port), received on local_port."""

    def __init__(self, local_port: int, remote_host: str, remote_port: int) -> None:
        try:
            self.remote = (socket.gethostbyname(remote_host), remote_port)
        except OSError as e:
            raise NetError(f"udp backend: cannot resolve {remote_host!r}: {e}") from None
        bind_host = "127.0.0.1" if self.remote[0].startswith("127.") else ""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((bind_host, local_port))
        except OSError as e:
            self.sock.close()
            raise NetError(f"udp backend: cannot use local port {local_port}: {e.strerror}") from None
        self.port = self.sock.getsockname()[1]  # the local port (useful with local_port 0)
        self.device = None
        self.thread: threading.Thread | None = None

    def connect(self, device) -> None:
        self.device = device

    def start(self) -> None:
        """Start receiving (once the device belongs to a machine)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._receive, name="dbt-vm-udp", daemon=True)
            self.thread.start()

    def _receive(self) -> None:
        while True:
            try:
                frame = self.sock.recv(MAX_DATAGRAM)
            except OSError:
                return
            dev = self.device
            if dev is not None and dev.machine is not None:
                dev.machine.post(lambda f=frame: dev.receive(f))

    def send(self, frame: bytes) -> None:
        try:
            self.sock.sendto(frame, self.remote)
        except OSError:
            pass  # like a cable with nobody at the other end

    def close(self) -> None:
        self.sock.close()


def parse(spec: str):
    """A backend from `switch:NAME` or `udp:LOCAL_PORT:REMOTE_HOST:REMOTE_PORT`."""
    kind, _, rest = spec.partition(":")
    if kind == "switch" and rest:
        return SwitchPort(rest)
    if kind == "udp":
        parts = rest.split(":")
        if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit():
            lport, rport = int(parts[0]), int(parts[2])
            if 0 <= lport < 65536 and 0 < rport < 65536:
                return UdpBackend(lport, parts[1], rport)
    raise NetError(f"bad network backend {spec!r} (use switch:NAME or udp:LOCAL_PORT:REMOTE_HOST:REMOTE_PORT)")

"""The runtime socket's transport: connect with retries, JSON Lines in and out.

Blocking I/O on purpose: the runtime handles one batch at a time, in order, so a buffered reader
on a blocking socket is all it needs (and is faster than an event loop per message).
"""
from __future__ import annotations

import json
import socket
import threading
import time

__all__ = ["ProtocolError", "ConnectError", "parse_address", "connect", "Connection", "MAX_LINE"]

MAX_LINE = 64 * 1024 * 1024  # a longer line is a protocol error


class ProtocolError(Exception):
    """The peer broke aerogrid.runtime.v1; ``code`` goes into the error message we send."""

    def __init__(self, message: str, code: str = "protocol"):
        super().__init__(message)
        self.code = code


class ConnectError(Exception):
    pass


def parse_address(addr: str):
    """'tcp://127.0.0.1:PORT' -> (AF_INET, (host, port)); 'unix:///path' -> (AF_UNIX, path)."""
    if not addr:
        raise ConnectError("AEROGRID_RUNTIME_ADDR is not set (expected tcp://127.0.0.1:PORT or unix:///path)")
    if addr.startswith("unix://"):
        path = addr[len("unix://"):]
        if not path:
            raise ConnectError("bad runtime address %r: no socket path" % addr)
        if not hasattr(socket, "AF_UNIX"):
            raise ConnectError("unix sockets are not available on this platform")
        return socket.AF_UNIX, path
    if addr.startswith("tcp://"):
        hostport = addr[len("tcp://"):]
        host, sep, port = hostport.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConnectError("bad runtime address %r: expected tcp://HOST:PORT" % addr)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return family, (host, int(port))
    raise ConnectError("bad runtime address %r: expected tcp://127.0.0.1:PORT or unix:///path" % addr)


def connect(addr: str, timeout_s: float) -> socket.socket:
    """Connect, retrying every 100 ms doubling to 2 s, for up to timeout_s seconds."""
    family, target = parse_address(addr)
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(1.0, min(5.0, timeout_s)))
            sock.connect(target)
            sock.settimeout(None)
            if family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as e:
            sock.close()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectError("cannot connect to %s: %s (gave up after %g s)" % (addr, e.strerror or e, timeout_s)) from None
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 2.0)


_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


class Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._reader = sock.makefile("rb", buffering=1 << 20)
        # The batch-deadline watchdog sends from its own thread: one message at a time on the socket.
        self._send_lock = threading.Lock()

    def read(self):
        """The next message as a dict, or None at end of stream."""
        try:
            line = self._reader.readline(MAX_LINE + 1)
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not line:
            return None
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise ProtocolError("message longer than 64 MiB")
            # The peer closed mid-line: treat as end of stream, the half message is not ours.
            return None
        try:
            msg = json.loads(line)
        except ValueError as e:
            raise ProtocolError("message is not JSON: %s" % e) from None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise ProtocolError("message is not a JSON object with a \"type\"")
        return msg

    def send(self, msg: dict, lock_timeout: float = -1) -> bool:
        """Sends one message; False when another thread held the socket past ``lock_timeout`` s."""
        data = _dumps(msg).encode("utf-8") + b"\n"
        if not self._send_lock.acquire(timeout=lock_timeout):
            return False
        try:
            self.sock.sendall(data)
        finally:
            self._send_lock.release()
        return True

    def close(self) -> None:
        try:
            self._reader.close()
        finally:
            self.sock.close()

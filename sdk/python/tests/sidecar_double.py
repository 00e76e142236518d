"""A test double of the sidecar's end of the runtime socket: it listens, starts
``python -m aerogrid run`` against itself and speaks JSON Lines with it."""
import json
import os
import socket
import subprocess
import sys

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Sidecar:
    def __init__(self, unix_path=None, timeout=10.0):
        self.timeout = timeout
        if unix_path:
            self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.server.bind(unix_path)
            self.addr = "unix://" + unix_path
        else:
            self.server = socket.socket()
            self.server.bind(("127.0.0.1", 0))
            self.addr = "tcp://127.0.0.1:%d" % self.server.getsockname()[1]
        self.server.listen(1)
        self.server.settimeout(timeout)
        self.conn = None
        self.reader = None
        self.proc = None

    def start_runtime(self, app_path, env=None):
        full_env = dict(os.environ, AEROGRID_RUNTIME_ADDR=self.addr, AEROGRID_CONNECT_TIMEOUT="5",
                        PYTHONPATH=os.pathsep.join(filter(None, [SDK, os.environ.get("PYTHONPATH")])))
        full_env.update(env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", "aerogrid", "run", app_path], env=full_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self

    def accept(self):
        self.conn, _ = self.server.accept()
        self.conn.settimeout(self.timeout)
        self.reader = self.conn.makefile("rb")
        return self

    def send(self, msg):
        self.send_raw(json.dumps(msg).encode() + b"\n")

    def send_raw(self, data: bytes):
        self.conn.sendall(data)

    def recv(self):
        line = self.reader.readline()
        assert line.endswith(b"\n"), "runtime closed the socket (got %r)" % line
        return json.loads(line)

    def at_eof(self) -> bool:
        return self.reader.readline() == b""

    def wait(self, timeout=10):
        """Wait for the runtime to exit; returns (exit code, stdout, stderr)."""
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        for s in (self.reader, self.conn, self.server):
            if s is not None:
                s.close()


def batch(batch_id, records):
    return {"type": "batch", "id": batch_id, "records": records}


def order(offset, value, key=None, partition=0, topic="orders"):
    """A wire record; a dict value is JSON-encoded, a str is sent as the raw text."""
    return {"topic": topic, "partition": partition, "offset": str(offset), "timestamp": 1732300000000 + offset,
            "key": key if key is not None else "order-%d" % offset,
            "value": json.dumps(value) if isinstance(value, dict) else value}

"""``python -m aerogrid run app.py``: one session of aerogrid.runtime.v1 with the sidecar.

hello -> welcome (snapshot) -> batch/ack ... -> shutdown (or end of stream). See docs/protocol.md.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from .engine import Engine
from .loader import UserCodeError, load
from .version import PROTOCOL
from .wire import ConnectError, Connection, ProtocolError, connect

__all__ = ["run", "EXIT_OK", "EXIT_FAILURE", "EXIT_USER_CODE", "EXIT_CONNECT", "EXIT_DEADLINE"]

EXIT_OK = 0  # shutdown or end of stream
EXIT_FAILURE = 1  # protocol error, or an error sent by the sidecar
EXIT_USER_CODE = 2  # the connector file failed to load
EXIT_CONNECT = 3  # no sidecar to talk to
EXIT_DEADLINE = 4  # a batch ran past the sidecar's batch deadline (user code hung)


def _err(text: str) -> None:
    print("aerogrid: " + text, file=sys.stderr, flush=True)


def run(path: str, addr: str = None, connect_timeout: float = None) -> int:
    addr = addr if addr is not None else os.environ.get("AEROGRID_RUNTIME_ADDR", "")
    if connect_timeout is None:
        try:
            connect_timeout = float(os.environ.get("AEROGRID_CONNECT_TIMEOUT") or 30)
        except ValueError:
            _err("AEROGRID_CONNECT_TIMEOUT must be a number of seconds")
            return EXIT_CONNECT
    try:
        loaded = load(path)
    except UserCodeError as e:
        _err(e.report())
        _tell_sidecar(addr, e)
        return EXIT_USER_CODE
    try:
        sock = connect(addr, connect_timeout)
    except ConnectError as e:
        _err(str(e))
        return EXIT_CONNECT
    conn = Connection(sock)
    engine = Engine(loaded.app)
    try:
        return Session(conn, engine).run()
    finally:
        engine.close()
        conn.close()


def _tell_sidecar(addr: str, err: UserCodeError) -> None:
    """Best effort: one quick connection to say why this runtime will not start, so the sidecar
    can show it in the app's status instead of only seeing a runtime that never connects."""
    if not addr:
        return
    try:
        conn = Connection(connect(addr, 0))
    except ConnectError:
        return
    try:
        conn.send({"type": "error", "code": "user_code", "message": err.report()})
    except OSError:
        pass
    finally:
        conn.close()


class Session:
    def __init__(self, conn: Connection, engine: Engine):
        self.conn = conn
        self.engine = engine
        self._batch_started = None  # monotonic time the batch in hand started, or None
        self._batch_id = None
        app = engine.app
        app._log_sink = self._log

    def _log(self, level: str, message: str) -> None:
        self.conn.send({"type": "log", "level": level, "message": message})

    def run(self) -> int:
        try:
            return self._run()
        except ProtocolError as e:
            _err("protocol error: %s" % e)
            try:
                self.conn.send({"type": "error", "code": e.code, "message": str(e)})
            except OSError:
                pass
            return EXIT_FAILURE
        except SidecarError:
            return EXIT_FAILURE
        except (BrokenPipeError, ConnectionResetError):
            return EXIT_OK  # the sidecar went away; it resends unacked batches to the next runtime
        except Exception as e:  # a bug of ours: say so to both sides, exit non-zero
            import traceback  # here, not at the top: only an internal error needs it

            _err("internal error:\n" + traceback.format_exc())
            try:
                self.conn.send({"type": "error", "code": "internal", "message": "%s: %s" % (type(e).__name__, e)})
            except OSError:
                pass
            return EXIT_FAILURE

    def _run(self) -> int:
        conn = self.conn
        engine = self.engine
        hello = {"type": "hello", "protocol": PROTOCOL, "app": engine.app.name, "pid": os.getpid()}
        hello.update(engine.app.describe())
        conn.send(hello)

        msg = conn.read()
        if msg is None:
            return EXIT_OK
        self._check_common(msg)
        if msg["type"] != "welcome":
            raise ProtocolError("expected welcome, got %s" % msg["type"])
        try:
            engine.load_snapshot(msg.get("snapshot"))
        except TypeError as e:
            raise ProtocolError("bad snapshot: %s" % e) from None
        limit = msg.get("max_row_bytes")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            engine.set_max_row_bytes(limit)
        deadline = msg.get("batch_deadline_ms")
        if isinstance(deadline, (int, float)) and not isinstance(deadline, bool) and deadline > 0:
            self._start_watchdog(deadline / 1000.0)

        while True:
            msg = conn.read()
            if msg is None:
                return EXIT_OK
            kind = msg["type"]
            if kind == "batch":
                records = msg.get("records")
                if not isinstance(records, list) or not all(type(r) is dict for r in records):
                    raise ProtocolError("batch %r: records must be a list of objects" % (msg.get("id"),))
                self._batch_id = msg.get("id")
                self._batch_started = time.monotonic()
                try:
                    result = engine.run_batch(records)
                finally:
                    self._batch_started = None
                conn.send({"type": "ack", "id": msg.get("id"), "processed": result["processed"],
                           "deltas": result["deltas"], "rejected": result["rejected"]})
            elif kind == "rows":
                try:
                    engine.apply_rows(msg.get("deltas"))
                except TypeError as e:
                    raise ProtocolError("bad rows: %s" % e) from None
            elif kind == "shutdown":
                return EXIT_OK
            else:
                self._check_common(msg)
                raise ProtocolError("unexpected message type %r" % kind)

    def _start_watchdog(self, deadline: float) -> None:
        """User code that hangs (a blocking call, an endless loop) cannot be interrupted from the
        event loop; past the sidecar's batch deadline this thread tells the sidecar (an `error` of
        code `deadline`, so that it can find and dead-letter the record that hangs) and ends the
        process, so that a new runtime goes on from the sidecar's last acked state."""

        def watch() -> None:
            while True:
                time.sleep(min(0.5, deadline / 4))
                started = self._batch_started
                if started is not None and time.monotonic() - started > deadline:
                    text = "batch %s ran longer than the batch deadline (%.1f s): user code seems stuck" % (self._batch_id, deadline)
                    _err(text + "; exiting")
                    try:
                        # Never wait long for the socket: exiting is what matters.
                        self.conn.sock.settimeout(1.0)
                        self.conn.send({"type": "error", "code": "deadline", "message": text}, lock_timeout=1.0)
                    except OSError:
                        pass
                    os._exit(EXIT_DEADLINE)

        threading.Thread(target=watch, name="aerogrid-batch-deadline", daemon=True).start()

    def _check_common(self, msg: dict) -> None:
        if msg["type"] == "error":
            _err("the sidecar reported an error (%s): %s" % (msg.get("code"), msg.get("message")))
            raise SidecarError()
        protocol = msg.get("protocol")
        if protocol is not None and protocol != PROTOCOL:
            raise ProtocolError("unsupported protocol %r; this runtime speaks %s" % (protocol, PROTOCOL))


class SidecarError(Exception):
    pass

"""Offline tests for connectors: no Kafka, no sidecar, the runtime's own code path.

    from aerogrid.testing import load_app

    def test_sums():
        with load_app('app.py') as h:
            h.send('orders', {'product': 'x', 'quantity': 3}, key='o1')
            h.run()
            assert h.grid('product_sum') == {'x': {'units_sold': 3}}

Records are encoded as the sidecar would put them on the wire (UTF-8 text) and go through the
same decode, validation, handler and delta code as ``python -m aerogrid run``.
"""
from __future__ import annotations

import copy
import json

from .engine import Engine
from .loader import UserCodeError, load
from .record import Record, to_json

__all__ = ["load_app", "Harness", "UserCodeError"]


def load_app(path: str, broker: str = None, snapshot: dict = None) -> "Harness":
    """Load a connector file (BROKER_URI = broker, or $AEROGRID_BROKER, or 127.0.0.1:19092).

    ``snapshot`` ({grid: {key: row}}) starts the grids as a restarted app would. A file that does
    not load raises UserCodeError naming file:line.
    """
    return Harness(load(path, broker=broker), snapshot)


def _text(value, what: str):
    """A Python value as wire text: str is sent as is, bytes as UTF-8, None as null, else JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            # Text is all the wire carries; bytes that are not UTF-8 never reach a runtime.
            raise ValueError("cannot send %s %r: not UTF-8" % (what, bytes(value))) from None
    if isinstance(value, Record):
        value = value.to_dict()
    try:
        return json.dumps(to_json(value), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError("cannot send %s %r: %s" % (what, value, e)) from None


class Harness:
    def __init__(self, loaded, snapshot=None):
        self._loaded = loaded
        self.app = loaded.app
        self.module = loaded.module  # the connector's globals, e.g. h.module.Order
        self.logs: list = []  # (level, message) from app.log(...)
        self.app._log_sink = lambda level, message: self.logs.append((level, message))
        self._engine = Engine(loaded.app)
        self._engine.load_snapshot(snapshot or {})
        self._queue: list = []
        self._offsets: dict = {}
        self.rejected: list = []  # every rejected record so far: {topic, partition, offset, kind, reason}
        self.deltas: list = []  # the deltas of the last run()
        self.processed = 0  # records processed by the last run()

    def send(self, topic: str, value, key=None, partition: int = 0, timestamp: int = 0) -> str:
        """Queue one record. value: dict/list/number (sent as JSON), str (raw text, e.g. bad
        JSON), bytes (UTF-8), None (a tombstone), a Record. key: str, int, bytes, a Record or
        dict (JSON), None. Returns the record's offset (a decimal string, as on the wire)."""
        if topic not in self.app.topics:
            raise KeyError("topic %r is not declared by app %r; its topics: %s"
                           % (topic, self.app.name, ", ".join(self.app.topics) or "none"))
        slot = (topic, partition)
        offset = self._offsets.get(slot, 0)
        self._offsets[slot] = offset + 1
        k = str(key) if isinstance(key, int) and not isinstance(key, bool) else _text(key, "key")
        self._queue.append({"topic": topic, "partition": partition, "offset": str(offset),
                            "timestamp": timestamp, "key": k, "value": _text(value, "value")})
        return str(offset)

    def send_many(self, topic: str, pairs) -> None:
        """Queue (key, value) pairs."""
        for key, value in pairs:
            self.send(topic, value, key=key)

    def run(self) -> "Harness":
        """Process everything queued as one batch, in order."""
        records, self._queue = self._queue, []
        result = self._engine.run_batch(records)
        self.processed = result["processed"]
        self.deltas = copy.deepcopy(result["deltas"])
        self.rejected.extend(copy.deepcopy(result["rejected"]))
        return self

    def grid(self, name: str) -> dict:
        """A deep copy of a grid: {key: row}."""
        try:
            return self.app.grids[name].to_dict()
        except KeyError:
            raise KeyError("grid %r is not declared by app %r; its grids: %s"
                           % (name, self.app.name, ", ".join(self.app.grids) or "none")) from None

    def close(self) -> None:
        self._engine.close()
        self._loaded.unload()

    def __enter__(self) -> "Harness":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

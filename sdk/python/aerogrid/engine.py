"""Processing batches of records through an app: decode, validate, run handlers, collect deltas.

This is the one code path shared by the socket runtime and the offline test harness. A record is
a dict as on the wire: topic, partition, offset, key (text or None), value (text or None).

No error of one record stops the batch: a record that cannot be decoded or validated, whatever
the failure (RecursionError included), is rejected ('decode' / 'validation'); when a handler
raises anything, sys.exit() included (only KeyboardInterrupt passes), the record is rejected
(kind 'handler') and the handler restarts on the next record. Grid writes it made for that record
before raising are kept, not rolled back: they are in the batch's deltas like any other write
(undoing them would need a copy of every touched row per record, which the hot path cannot
afford).
"""
from __future__ import annotations

import sys
import weakref

from .app import App
from .codec import Reject
from .stream import Handler

__all__ = ["Engine"]

class Engine:
    def __init__(self, app: App, on_handler_error=None):
        self.app = app
        self._loop = None
        self.handlers = [Handler(fn, topic, self._event_loop) for fn, topic in app.handlers]
        # topic name -> (key decoder or None, value decoder or None, handlers)
        self._routes = {}
        for topic in app.topics.values():
            hs = tuple(h for h in self.handlers if h.topic is topic)
            if hs:
                self._routes[topic.name] = topic.decoders() + (hs,)
        self._grids = tuple(app.grids.values())
        self._on_handler_error = on_handler_error or _print_handler_error

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        # Only handlers that really await need a loop; one is made on first use and kept.
        if self._loop is None:
            # Imported here, not at the top: asyncio (and the ssl module it loads) is about 8 MB
            # of every idle app's runtime, and most handlers never await anything real.
            import asyncio

            self._loop = asyncio.new_event_loop()
            # Closed with the engine even if close() is never called (e.g. a harness left open in
            # a test): a loop collected as cyclic garbage fails in its own __del__.
            self._close_loop = weakref.finalize(self, self._loop.close)
        return self._loop

    def load_snapshot(self, snapshot) -> None:
        """Start from the sidecar's grids; grids the app no longer declares are ignored."""
        if not snapshot:
            snapshot = {}
        if not isinstance(snapshot, dict):
            raise TypeError("snapshot must be an object of grid name -> rows")
        for grid in self._grids:
            grid._load(snapshot.get(grid.name))

    def set_max_row_bytes(self, limit) -> None:
        for grid in self._grids:
            grid._max_row_bytes = limit

    def apply_rows(self, deltas) -> None:
        """Rows another instance committed (a standby following it): applied without deltas."""
        if not isinstance(deltas, list):
            raise TypeError("rows: deltas must be a list")
        by_name = {g.name: g for g in self._grids}
        for d in deltas:
            if not isinstance(d, dict) or not isinstance(d.get("key"), str):
                raise TypeError("rows: each delta must be an object with a str key")
            grid = by_name.get(d.get("grid"))
            if grid is not None:
                grid._apply_committed(d["key"], None if d.get("deleted") is True else d.get("row"))

    def process(self, records) -> tuple:
        """Run records in order; returns (processed count, rejected list)."""
        routes = self._routes
        rejected = []
        processed = 0
        for rec in records:
            try:
                route = routes[rec["topic"]]
                key = rec["key"]
                value = rec["value"]
            except (KeyError, TypeError):  # an unknown topic, or a field left out
                topic = rec.get("topic")
                route = routes.get(topic) if isinstance(topic, str) else None
                if route is None:
                    rejected.append(_rejected(rec, "validation", "topic %r is not streamed by this app" % (topic,)))
                    continue
                key = rec.get("key")
                value = rec.get("value")
            decode_key, decode_value, handlers = route
            try:
                if decode_key is not None:
                    key = decode_key(key)
                if decode_value is not None:
                    value = decode_value(value)
            except Reject as r:
                rejected.append(_rejected(rec, r.kind, r.reason))
                continue
            except Exception as e:  # a decoder's own failure: still this record's problem only
                rejected.append(_rejected(rec, "validation", "cannot decode the record: %s" % _describe(e)))
                continue
            if len(handlers) == 1:  # the common case, without the bookkeeping below
                try:
                    handlers[0].feed(key, value)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:  # the handler's own error (or sys.exit): reject the record, keep going
                    rejected.append(self._handler_failed(rec, [(handlers[0], e)]))
                else:
                    processed += 1
                continue
            failures = []
            for h in handlers:
                try:
                    h.feed(key, value)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:
                    failures.append((h, e))
            if failures:
                rejected.append(self._handler_failed(rec, failures))
            else:
                processed += 1
        return processed, rejected

    def _handler_failed(self, rec: dict, failures: list) -> dict:
        """Log every failure; reject the record once, with the first handler's exception."""
        first = None
        for h, e in failures:
            try:
                tb = format_user_traceback(e, h.fn)
            except Exception:  # an exception whose str() raises, say
                tb = "%s (its traceback could not be formatted)\n" % type(e).__name__
            self._on_handler_error(h, rec, tb)
            if first is None:
                first = _rejected(rec, "handler", _describe(e))
                first["traceback"] = tb
        return first

    def take_deltas(self) -> list:
        """The net changes since the last call: last value per key, one entry per changed key."""
        deltas = []
        for grid in self._grids:
            if grid._changes:
                name = grid.name
                for key, row in grid._take_changes().items():
                    if row is None:
                        deltas.append({"grid": name, "key": key, "deleted": True})
                    else:
                        deltas.append({"grid": name, "key": key, "row": row})
        return deltas

    def run_batch(self, records) -> dict:
        processed, rejected = self.process(records)
        return {"processed": processed, "deltas": self.take_deltas(), "rejected": rejected}

    def close(self) -> None:
        for h in self.handlers:
            h.close()
        if self._loop is not None:
            self._close_loop()
            self._loop = None


def _describe(e: BaseException) -> str:
    """'ValueError: text' for a reject's reason; an exception that cannot say what it is still gets one."""
    name = type(e).__name__
    if isinstance(e, SystemExit):
        return "SystemExit: the handler called sys.exit(%r); a handler cannot stop the runtime" % (e.code,)
    try:
        text = str(e)
    except Exception:
        text = "(its message could not be shown)"
    return "%s: %s" % (name, text) if text else name


def _rejected(rec: dict, kind: str, reason: str) -> dict:
    return {"topic": rec.get("topic"), "partition": rec.get("partition"), "offset": rec.get("offset"),
            "kind": kind, "reason": reason}


def format_user_traceback(exc: BaseException, fn) -> str:
    """The traceback from the handler's own frame down (the SDK and asyncio frames above it are
    noise to the user); the whole traceback if the handler's frame is not in it."""
    code = getattr(fn, "__code__", None)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    if tb is None:
        tb = exc.__traceback__
    import traceback  # here, not at the top: only a failing handler needs it

    return "".join(traceback.format_exception(type(exc), exc, tb))


def _print_handler_error(handler: Handler, rec: dict, tb: str) -> None:
    print("aerogrid: handler %s() raised on %s[%s]@%s; the record is rejected and the handler restarts:\n%s"
          % (handler.name, rec.get("topic"), rec.get("partition"), rec.get("offset"), tb),
          file=sys.stderr, end="")

"""The App: what a connector declares (topics, grids, stream handlers).

Declaring does nothing else: no connection is made here. The runtime (``python -m aerogrid run``)
or the test harness loads the file, finds the App it created and drives it.
"""
from __future__ import annotations

import functools
import sys
import typing

from . import codec, names
from .grid import Grid
from .record import records_in, type_name
from .version import PROTOCOL, __version__

__all__ = ["App", "Topic"]

# inspect.CO_COROUTINE. The inspect module itself (with ast, dis and tokenize) is about 0.9 MB of
# every idle app's runtime, for two checks: this one and record.py's is_routine.
_CO_COROUTINE = 0x80


def _is_async_def(fn) -> bool:
    """inspect.iscoroutinefunction: an ``async def`` function, also through partial() or a method."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return code is not None and bool(code.co_flags & _CO_COROUTINE)

# While the loader runs a connector file this is a list collecting the Apps it creates; None
# otherwise (an App made anywhere else, e.g. in a unit test, is not tracked).
_created = None

_LOG_LEVELS = ("debug", "info", "warning", "error")


class Topic:
    """A Kafka topic an app reads, with the types of its keys and values."""

    def __init__(self, app: "App", name: str, key_type, value_type):
        self.app = app
        self.name = names.topic_name(name)
        self.key_type = key_type
        self.value_type = value_type
        codec.check_key_type(key_type)
        codec.check_value_type(value_type)
        self.handlers: list = []
        try:  # the user's line that called app.topic(), for load-time errors
            frame = sys._getframe(2)
            self.declared_at = (frame.f_code.co_filename, frame.f_lineno)
        except ValueError:
            self.declared_at = (None, None)

    def decoders(self) -> tuple:
        """(key decoder, value decoder), each None when the raw text is the value. Built when
        the app runs, once every Record class of the file exists."""
        return codec.key_decoder(self.key_type), codec.value_decoder(self.value_type)

    def records(self) -> list:
        """The Record classes this topic decodes (key and value), for load-time checks."""
        return records_in(self.key_type) + records_in(self.value_type)

    def describe(self) -> dict:
        return {"name": self.name, "key_type": type_name(self.key_type),
                "value_type": type_name(self.value_type), "streamed": bool(self.handlers)}

    def __repr__(self):
        return "<Topic %r key_type=%s value_type=%s>" % (self.name, type_name(self.key_type), type_name(self.value_type))


class App:
    """A connector: ``app = aerogrid.App('ordersapp', broker=BROKER_URI)``."""

    def __init__(self, name: str, broker: typing.Optional[str] = None, tenant: typing.Optional[str] = None):
        self.name = names.dns_label("app", name)
        self.broker = broker
        self.tenant = None if tenant is None else names.dns_label("tenant", tenant)
        self.topics: dict = {}
        self.grids: dict = {}
        self.handlers: list = []  # (function, topic) in declaration order
        self._log_sink = _stderr_log
        if _created is not None:
            _created.append(self)

    def topic(self, name: str, key_type=str, value_type=dict) -> Topic:
        """Declare a topic. key_type: str, int, bytes or a Record; value_type: a Record, dict,
        list, str (raw text), bytes, Any, Optional[...]."""
        if name in self.topics:
            raise ValueError("topic %r is already declared in app %r" % (name, self.name))
        t = Topic(self, name, key_type, value_type)
        self.topics[name] = t
        return t

    def Grid(self, name: str, columns, default=None) -> Grid:  # noqa: N802 (the API's spelling)
        """Declare a grid: a keyed table with the given columns."""
        if name in self.grids:
            raise ValueError("grid %r is already declared in app %r" % (name, self.name))
        g = Grid(name, columns, default)
        self.grids[name] = g
        return g

    def stream(self, topic):
        """Decorator: run an ``async def handler(stream)`` over every record of ``topic``."""
        if isinstance(topic, str):
            if topic not in self.topics:
                raise ValueError("topic %r is not declared; declare it with app.topic(%r, ...)" % (topic, topic))
            topic = self.topics[topic]
        if not isinstance(topic, Topic) or topic.app is not self:
            raise TypeError("app.stream() takes a topic declared with this app's app.topic(...), got %r" % (topic,))

        def register(fn):
            if not _is_async_def(fn):
                raise TypeError("stream handler %s must be declared with 'async def' and loop with "
                                "'async for ... in stream'" % getattr(fn, "__name__", fn))
            topic.handlers.append(fn)
            self.handlers.append((fn, topic))
            return fn
        return register

    def log(self, message: str, level: str = "info") -> None:
        """Send a line to the platform's log (the sidecar's log; stderr when run offline)."""
        if level not in _LOG_LEVELS:
            raise ValueError("log level must be one of %s" % ", ".join(_LOG_LEVELS))
        self._log_sink(level, str(message))

    def describe(self) -> dict:
        """Topics and grids as the runtime declares them in its hello."""
        return {
            "app": self.name,
            "sdk": __version__,
            "protocol": PROTOCOL,
            "topics": [t.describe() for t in self.topics.values()],
            "grids": [{"name": g.name, "columns": list(g.columns)} for g in self.grids.values()],
        }

    def __repr__(self):
        return "<App %r topics=%s grids=%s>" % (self.name, list(self.topics), list(self.grids))


def _stderr_log(level: str, message: str) -> None:
    print("[%s] %s" % (level, message), file=sys.stderr)

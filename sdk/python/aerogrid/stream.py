"""Streams and the driver that runs a handler coroutine one record at a time.

A handler is ``async def h(stream): async for ... in stream: ...``. Rather than scheduling every
record on an event loop, the driver puts the record in the stream's one-record slot and resumes
the coroutine with ``send(None)``; the coroutine runs the loop body and stops again when it
awaits the next record, which yields the private ``_WAIT`` marker. That is one generator resume
per record.

If the body awaits something real (``await asyncio.sleep(...)``, a future), the coroutine yields
that instead; the driver then hands the coroutine to an asyncio event loop until it is back at
``_WAIT``, so ordinary async code still works, at event-loop speed.
"""
from __future__ import annotations

import types

__all__ = ["Stream", "Handler", "HandlerReturned"]


class _Wait:
    __slots__ = ()

    def __repr__(self):
        return "<waiting for the next record>"


_WAIT = _Wait()


class Stream:
    """The records of one topic as one handler sees them: ``async for value in stream``."""

    __slots__ = ("topic", "_item")

    def __init__(self, topic):
        self.topic = topic
        self._item = (None, None)  # (key, value) of the record being delivered

    def __aiter__(self):
        return self

    @types.coroutine
    def __anext__(self):
        yield _WAIT
        return self._item[1]

    def items(self) -> "_Items":
        """Iterate ``(key, value)`` pairs: ``async for key, value in stream.items()``."""
        return _Items(self)

    def __repr__(self):
        return "<Stream of topic %r>" % getattr(self.topic, "name", self.topic)


class _Items:
    __slots__ = ("_stream",)

    def __init__(self, stream: Stream):
        self._stream = stream

    def __aiter__(self):
        return self

    @types.coroutine
    def __anext__(self):
        yield _WAIT
        return self._stream._item


class HandlerReturned(RuntimeError):
    """The handler returned before it ever read its stream."""


class _Delegate:
    """Awaitable that passes a half-run coroutine's yields to an asyncio Task until _WAIT."""

    __slots__ = ("coro", "first")

    def __init__(self, coro, first):
        self.coro = coro
        self.first = first

    def __await__(self):
        coro = self.coro
        y = self.first
        while y is not _WAIT:
            try:
                sent = yield y
            except BaseException as exc:  # e.g. cancellation thrown in by the Task
                try:
                    y = coro.throw(exc)
                except StopIteration:
                    return False
            else:
                try:
                    y = coro.send(sent)
                except StopIteration:
                    return False
        return True


async def _resume(coro, first) -> bool:
    return await _Delegate(coro, first)


class Handler:
    """Runs one ``@app.stream`` function over its topic, one record per ``feed``."""

    def __init__(self, fn, topic, loop_factory):
        self.fn = fn
        self.topic = topic
        self.name = getattr(fn, "__qualname__", repr(fn))
        self.stream = Stream(topic)
        self._coro = None
        self._loop_factory = loop_factory
        self.starts = 0  # how many coroutines were started (1 + restarts)

    def feed(self, key, value) -> None:
        """Deliver one record; the handler's exception, if any, propagates."""
        coro = self._coro
        if coro is None:
            coro = self._start()
        self.stream._item = (key, value)
        try:
            y = coro.send(None)
        except StopIteration:
            self._coro = None  # it left its loop: start a fresh one for the next record
            return
        except BaseException:
            self._coro = None  # a raising coroutine is finished; restart on the next record
            raise
        if y is not _WAIT:
            try:
                waiting = self._run_on_loop(coro, y)
            except BaseException:
                self._coro = None
                raise
            if not waiting:
                self._coro = None

    def _start(self):
        # Started lazily, right before a record is delivered, so whatever the handler does before
        # its loop (and any error there) belongs to that record.
        self.starts += 1
        coro = self.fn(self.stream)
        try:
            y = coro.send(None)
        except StopIteration:
            raise HandlerReturned("handler %s() returned without reading its stream" % self.name) from None
        if y is not _WAIT and not self._run_on_loop(coro, y):
            raise HandlerReturned("handler %s() returned without reading its stream" % self.name)
        self._coro = coro
        return coro

    def _run_on_loop(self, coro, first) -> bool:
        """Let asyncio finish a real await; True when the coroutine waits for a record again."""
        try:
            return self._loop_factory().run_until_complete(_resume(coro, first))
        except BaseException:
            coro.close()
            raise

    def close(self) -> None:
        if self._coro is not None:
            coro, self._coro = self._coro, None
            try:
                coro.close()  # runs the handler's finally blocks
            except Exception:
                pass

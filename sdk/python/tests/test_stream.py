import asyncio
import functools
import json
from typing import Optional

import pytest

from aerogrid import App, Record
from aerogrid.engine import Engine


class Item(Record):
    name: str
    n: int


def records(topic, values, start=0):
    return [{"topic": topic, "partition": 0, "offset": str(start + i), "key": "k%d" % (start + i),
             "value": json.dumps(v)} for i, v in enumerate(values)]


def quiet(handler, rec, tb):
    pass


def test_records_reach_the_handler_in_order_across_batches():
    app = App("order")
    t = app.topic("t", value_type=Item)
    seen = []

    @app.stream(t)
    async def h(stream):
        async for key, item in stream.items():
            seen.append((key, item.n))

    e = Engine(app)
    assert e.run_batch(records("t", [{"name": "a", "n": i} for i in range(5)]))["processed"] == 5
    assert e.run_batch(records("t", [{"name": "a", "n": i} for i in range(5, 8)], start=5))["processed"] == 3
    assert seen == [("k%d" % i, i) for i in range(8)]
    assert e.handlers[0].starts == 1  # one coroutine served every record


def test_plain_iteration_yields_values():
    app = App("values")
    t = app.topic("t", value_type=Item)
    seen = []

    @app.stream(t)
    async def h(stream):
        async for item in stream:
            seen.append(item)

    Engine(app).run_batch(records("t", [{"name": "a", "n": 1}]))
    assert seen == [Item(name="a", n=1)]


def test_a_raising_handler_rejects_that_record_restarts_and_keeps_the_grids():
    app = App("boom")
    t = app.topic("t", value_type=Item)
    g = app.Grid("g", ["n"], default=lambda: {"n": 0})
    runs = []

    @app.stream(t)
    async def h(stream):
        runs.append("start")
        async for item in stream:
            g[item.name] = {"n": g[item.name]["n"] + item.n}
            if item.n < 0:
                raise ValueError("negative n: %d" % item.n)

    logged = []
    e = Engine(app, on_handler_error=lambda handler, rec, tb: logged.append((handler.name, rec["offset"], tb)))
    out = e.run_batch(records("t", [{"name": "a", "n": 1}, {"name": "a", "n": -5}, {"name": "a", "n": 10}]))
    assert out["processed"] == 2
    [rej] = out["rejected"]
    assert {k: rej[k] for k in ("topic", "partition", "offset", "kind", "reason")} == {
        "topic": "t", "partition": 0, "offset": "1", "kind": "handler", "reason": "ValueError: negative n: -5"}
    assert rej["traceback"].startswith("Traceback (most recent call last):")
    assert 'raise ValueError("negative n: %d" % item.n)' in rej["traceback"]
    assert "aerogrid/stream.py" not in rej["traceback"]  # starts at the handler's frame
    assert rej["traceback"].rstrip().endswith("ValueError: negative n: -5")
    # The write made before the exception stays (documented); the handler restarted once.
    assert out["deltas"] == [{"grid": "g", "key": "a", "row": {"n": 6}}]
    assert runs == ["start", "start"] and e.handlers[0].starts == 2
    assert logged == [("test_a_raising_handler_rejects_that_record_restarts_and_keeps_the_grids.<locals>.h",
                       "1", rej["traceback"])]


def test_handler_errors_are_logged_to_stderr_by_default(capsys):
    app = App("stderr")
    t = app.topic("t", value_type=str)

    @app.stream(t)
    async def h(stream):
        async for v in stream:
            raise KeyError(v)

    Engine(app).run_batch([{"topic": "t", "partition": 2, "offset": "9", "key": None, "value": "x"}])
    err = capsys.readouterr().err
    assert "handler" in err and "t[2]@9" in err and "KeyError: 'x'" in err


def test_handler_with_real_awaits_keeps_order_and_results():
    app = App("awaits")
    t = app.topic("t", value_type=Item)
    seen = []

    @app.stream(t)
    async def h(stream):
        await asyncio.sleep(0)  # before the loop, too
        async for item in stream:
            await asyncio.sleep(0)
            if item.n % 2:
                await asyncio.sleep(0.001)
            fut = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(fut.set_result, item.n * 10)
            seen.append(await fut)

    e = Engine(app)
    out = e.run_batch(records("t", [{"name": "a", "n": i} for i in range(6)]))
    assert out["processed"] == 6 and out["rejected"] == []
    assert seen == [0, 10, 20, 30, 40, 50]
    assert e.handlers[0].starts == 1
    e.close()


def test_exception_after_a_real_await_is_a_handler_reject():
    app = App("awaitraise")
    t = app.topic("t", value_type=Item)
    seen = []

    @app.stream(t)
    async def h(stream):
        async for item in stream:
            await asyncio.sleep(0)
            if item.n == 1:
                raise RuntimeError("after await")
            seen.append(item.n)

    e = Engine(app, on_handler_error=quiet)
    out = e.run_batch(records("t", [{"name": "a", "n": i} for i in range(3)]))
    assert [r["reason"] for r in out["rejected"]] == ["RuntimeError: after await"]
    assert seen == [0, 2] and out["processed"] == 2


def test_a_handler_that_leaves_its_loop_is_started_again():
    app = App("leaver")
    t = app.topic("t", value_type=Item)
    seen = []

    @app.stream(t)
    async def h(stream):
        async for item in stream:
            seen.append(item.n)
            break

    e = Engine(app)
    out = e.run_batch(records("t", [{"name": "a", "n": i} for i in range(3)]))
    assert seen == [0, 1, 2] and out["processed"] == 3 and e.handlers[0].starts == 3


def test_a_handler_that_never_reads_rejects_the_record():
    app = App("noread")
    t = app.topic("t", value_type=Item)

    @app.stream(t)
    async def h(stream):
        return None

    out = Engine(app, on_handler_error=quiet).run_batch(records("t", [{"name": "a", "n": 1}]))
    assert out["processed"] == 0
    assert out["rejected"][0]["reason"] == (
        "HandlerReturned: handler test_a_handler_that_never_reads_rejects_the_record.<locals>.h() "
        "returned without reading its stream")


def test_two_handlers_on_one_topic_each_see_every_record():
    app = App("two")
    t = app.topic("t", value_type=Item)
    a, b = [], []

    @app.stream(t)
    async def first(stream):
        async for item in stream:
            a.append(item.n)

    @app.stream(t)
    async def second(stream):
        async for item in stream:
            if item.n == 1:
                raise ValueError("second fails on 1")
            b.append(item.n)

    out = Engine(app, on_handler_error=quiet).run_batch(records("t", [{"name": "a", "n": i} for i in range(3)]))
    assert a == [0, 1, 2] and b == [0, 2]
    assert out["processed"] == 2 and [r["offset"] for r in out["rejected"]] == ["1"]


def test_handlers_of_different_topics_get_their_own_records():
    app = App("topics")
    t1 = app.topic("one", value_type=Item)
    t2 = app.topic("two", value_type=str)
    got = []

    @app.stream(t1)
    async def h1(stream):
        async for item in stream:
            got.append(("one", item.n))

    @app.stream("two")  # a declared topic may be named by its name
    async def h2(stream):
        async for text in stream:
            got.append(("two", text))

    batch = records("one", [{"name": "a", "n": 1}]) + [
        {"topic": "two", "partition": 0, "offset": "0", "key": None, "value": "raw"}] + records("one", [{"name": "a", "n": 2}], 1)
    assert Engine(app).run_batch(batch)["processed"] == 3
    assert got == [("one", 1), ("two", "raw"), ("one", 2)]


def test_closing_runs_the_handlers_finally_blocks():
    app = App("closing")
    t = app.topic("t", value_type=str)
    events = []

    @app.stream(t)
    async def h(stream):
        try:
            async for v in stream:
                events.append(v)
        finally:
            events.append("closed")

    e = Engine(app)
    e.run_batch([{"topic": "t", "partition": 0, "offset": "0", "key": None, "value": "x"}])
    e.close()
    assert events == ["x", "closed"]


def test_stream_decorator_checks():
    app = App("checks")
    t = app.topic("t")
    with pytest.raises(TypeError, match="must be declared with 'async def'"):
        @app.stream(t)
        def not_async(stream):
            pass
    with pytest.raises(TypeError, match="must be declared with 'async def'"):
        @app.stream(t)
        async def a_generator(stream):  # async def with yield: not a coroutine function
            yield stream

    async def handler(stream, tag):
        async for _ in stream:
            pass
    assert app.stream(t)(functools.partial(handler, tag="x")).func is handler  # through partial()

    class Handlers:
        async def on_t(self, stream):
            async for _ in stream:
                pass
    bound = Handlers().on_t
    assert app.stream(t)(bound) == bound  # a bound method
    with pytest.raises(ValueError, match="topic 'nope' is not declared"):
        app.stream("nope")
    other = App("other").topic("t")
    with pytest.raises(TypeError, match="takes a topic declared with this app"):
        app.stream(other)


def test_exception_without_a_message_is_named_by_its_type():
    app = App("bare")
    t = app.topic("t", value_type=str)

    @app.stream(t)
    async def h(stream):
        async for v in stream:
            raise RuntimeError

    out = Engine(app, on_handler_error=quiet).run_batch(
        [{"topic": "t", "partition": 0, "offset": "0", "key": None, "value": "x"}])
    assert out["rejected"][0]["reason"] == "RuntimeError"


def test_records_of_unknown_topics_are_rejected_and_left_out_fields_are_null():
    app = App("lenient")
    t = app.topic("t", value_type=Optional[Item])
    app.topic("declared-only", value_type=str)
    seen = []

    @app.stream(t)
    async def h(stream):
        async for key, item in stream.items():
            seen.append((key, item))

    out = Engine(app).run_batch([
        {"topic": "t", "partition": 0, "offset": "0"},  # no key, no value: both null
        {"topic": "declared-only", "partition": 0, "offset": "1", "key": None, "value": "x"},
        {"topic": ["t"], "partition": 0, "offset": "2", "key": None, "value": None},
        {"topic": "t", "partition": 0, "offset": "3", "key": "k", "value": '{"name": "a", "n": 1}'},
    ])
    assert seen == [(None, None), ("k", Item(name="a", n=1))]
    assert [(r["offset"], r["kind"], r["reason"]) for r in out["rejected"]] == [
        ("1", "validation", "topic 'declared-only' is not streamed by this app"),
        ("2", "validation", "topic ['t'] is not streamed by this app"),
    ]

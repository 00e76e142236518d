"""The runtime over a real local socket, with a test double playing the sidecar."""
import json
import os
import socket
import subprocess
import sys

import pytest

from sidecar_double import SDK, Sidecar, batch, order

# The seed logic plus a way to make the handler raise (negative quantity), delete a row
# (quantity 0) and log.
RUNTIME_APP = """
import aerogrid

app = aerogrid.App('ordersapp', broker=BROKER_URI)

class Order(aerogrid.Record):
    product: str
    quantity: int

orders_topic = app.topic('orders', key_type=str, value_type=Order)
product_sum = app.Grid('product_sum', columns=['units_sold'], default=lambda: {'units_sold': 0})

@app.stream(orders_topic)
async def sum_orders(orders):
    async for order_id, order in orders.items():
        if order.quantity < 0:
            raise ValueError('negative quantity in ' + order_id)
        if order.quantity == 0:
            del product_sum[order.product]
            app.log('deleted ' + order.product)
            continue
        units_sold = product_sum[order.product]['units_sold'] + order.quantity
        product_sum[order.product] = {'units_sold': units_sold}
"""


@pytest.fixture
def sidecar():
    s = Sidecar()
    yield s
    s.close()


def start(sidecar, app_path, snapshot=None):
    sidecar.start_runtime(app_path).accept()
    hello = sidecar.recv()
    sidecar.send({"type": "welcome", "protocol": "aerogrid.runtime.v1", "max_in_flight": 4,
                  "snapshot": snapshot or {}})
    return hello


def test_full_session(sidecar, make_app):
    path = make_app(RUNTIME_APP)
    hello = start(sidecar, path, snapshot={"product_sum": {"a": {"units_sold": 10}, "kept": {"units_sold": 1}},
                                           "no_longer_declared": {"x": {"y": 1}}})
    assert hello == {"type": "hello", "protocol": "aerogrid.runtime.v1", "app": "ordersapp",
                     "pid": sidecar.proc.pid, "sdk": "0.1.0",
                     "topics": [{"name": "orders", "key_type": "str", "value_type": "Order", "streamed": True}],
                     "grids": [{"name": "product_sum", "columns": ["units_sold"]}]}

    sidecar.send(batch(1, [
        order(100, {"product": "a", "quantity": 5}),
        order(101, "{bad json"),
        order(102, {"product": "b", "quantity": "ten"}),
        order(103, {"product": "b", "quantity": 2}, partition=1),
        order(104, {"product": "b", "quantity": -1}),
        order(105, {"product": "a", "quantity": 1}),
        order(106, {"product": "c", "quantity": 3}),
        order(107, {"product": "c", "quantity": 0}),  # written then deleted in one batch
    ]))
    assert sidecar.recv() == {"type": "log", "level": "info", "message": "deleted c"}  # app.log, sent at once
    ack = sidecar.recv()
    handler_reject = ack["rejected"][2]
    tb = handler_reject.pop("traceback")
    assert "raise ValueError('negative quantity in ' + order_id)" in tb
    assert tb.rstrip().endswith("ValueError: negative quantity in order-104")
    assert ack == {
        "type": "ack", "id": 1, "processed": 5,
        "deltas": [
            {"grid": "product_sum", "key": "a", "row": {"units_sold": 16}},  # 10 from the snapshot
            {"grid": "product_sum", "key": "b", "row": {"units_sold": 2}},
            {"grid": "product_sum", "key": "c", "deleted": True},
        ],
        "rejected": [
            {"topic": "orders", "partition": 0, "offset": "101", "kind": "decode",
             "reason": "value: invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
            {"topic": "orders", "partition": 0, "offset": "102", "kind": "validation",
             "reason": "field 'quantity': expected int, got str 'ten'"},
            {"topic": "orders", "partition": 0, "offset": "104", "kind": "handler",
             "reason": "ValueError: negative quantity in order-104"},
        ],
    }

    # Pipelined batches (several in flight) are acked in order; the handler restarted after the
    # exception still sums exactly.
    sidecar.send(batch(2, [order(108, {"product": "b", "quantity": 3})]))
    sidecar.send(batch(3, [order(109, {"product": "kept", "quantity": 0}), order(110, {"product": "b", "quantity": 5})]))
    sidecar.send(batch(4, []))
    ack2 = sidecar.recv()
    assert ack2 == {"type": "ack", "id": 2, "processed": 1, "rejected": [],
                    "deltas": [{"grid": "product_sum", "key": "b", "row": {"units_sold": 5}}]}
    log = sidecar.recv()
    assert log == {"type": "log", "level": "info", "message": "deleted kept"}
    ack3 = sidecar.recv()
    assert ack3 == {"type": "ack", "id": 3, "processed": 2, "rejected": [],
                    "deltas": [{"grid": "product_sum", "key": "kept", "deleted": True},
                               {"grid": "product_sum", "key": "b", "row": {"units_sold": 10}}]}
    assert sidecar.recv() == {"type": "ack", "id": 4, "processed": 0, "deltas": [], "rejected": []}

    sidecar.send({"type": "shutdown"})
    assert sidecar.at_eof()
    code, out, err = sidecar.wait()
    assert code == 0, err
    assert "negative quantity in order-104" in err  # the traceback is logged to stderr


def test_seed_app_over_unix_socket_and_exit_on_eof(tmp_path, seed_app):
    s = Sidecar(unix_path=str(tmp_path / "rt.sock"))
    try:
        start(s, seed_app)
        s.send(batch(1, [order(i, {"product": "p%d" % (i % 3), "quantity": i}) for i in range(30)]))
        ack = s.recv()
        assert ack["processed"] == 30 and ack["rejected"] == []
        assert {d["key"]: d["row"]["units_sold"] for d in ack["deltas"]} == {
            "p0": sum(range(0, 30, 3)), "p1": sum(range(1, 30, 3)), "p2": sum(range(2, 30, 3))}
        s.conn.shutdown(socket.SHUT_WR)  # the sidecar goes away: end of stream
        code, _, err = s.wait()
        assert code == 0, err
    finally:
        s.close()


def _mapped_extensions(pid):
    with open("/proc/%d/maps" % pid) as maps:
        return {line.rsplit("/", 1)[-1].split(".")[0] for line in maps if ".cpython-" in line}


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads the runtime's memory map from /proc (Linux)")
def test_a_runtime_whose_handlers_never_await_loads_no_asyncio_or_ssl(sidecar, make_app):
    # asyncio and the ssl module it loads are about 8 MB of every idle app; only a handler that
    # really awaits needs them, and then they load at its first await.
    start(sidecar, make_app(RUNTIME_APP))
    sidecar.send(batch(1, [order(1, {"product": "a", "quantity": 2})]))
    assert sidecar.recv()["processed"] == 1
    loaded = _mapped_extensions(sidecar.proc.pid)
    assert "_json" in loaded  # the map is the runtime's, with its extension modules
    assert "_asyncio" not in loaded and "_ssl" not in loaded

    awaiting = RUNTIME_APP.replace("async for order_id, order in orders.items():",
                                   "async for order_id, order in orders.items():\n        await asyncio.sleep(0)")
    sidecar.close()
    other = Sidecar()
    try:
        start(other, make_app("import asyncio\n" + awaiting))
        other.send(batch(1, [order(1, {"product": "a", "quantity": 2})]))
        ack = other.recv()
        assert ack["processed"] == 1 and ack["deltas"] == [{"grid": "product_sum", "key": "a", "row": {"units_sold": 2}}]
        assert "_asyncio" in _mapped_extensions(other.proc.pid)
    finally:
        other.close()


def test_non_utf8_and_escaped_text_round_trips(sidecar, make_app):
    path = make_app("""
        import aerogrid
        app = aerogrid.App('echo')
        t = app.topic('t', key_type=str, value_type=str)
        g = app.Grid('g', ['v'])

        @app.stream(t)
        async def h(stream):
            async for k, v in stream.items():
                g[k] = {'v': v}
    """)
    start(sidecar, path)
    # A lone surrogate (what a sidecar might forward for broken bytes) must not break the ack.
    sidecar.send_raw(b'{"type":"batch","id":1,"records":[{"topic":"t","partition":0,"offset":"0",'
                     b'"key":"k\\u00e9\\n","value":"x\\udc80y"}]}\n')
    ack = sidecar.recv()
    assert ack["deltas"] == [{"grid": "g", "key": "k\u00e9\n", "row": {"v": "x\udc80y"}}]


def test_batch_before_welcome_is_a_protocol_error(sidecar, seed_app):
    sidecar.start_runtime(seed_app).accept()
    assert sidecar.recv()["type"] == "hello"
    sidecar.send(batch(1, []))
    assert sidecar.recv() == {"type": "error", "code": "protocol", "message": "expected welcome, got batch"}
    code, _, err = sidecar.wait()
    assert code == 1 and "expected welcome, got batch" in err


@pytest.mark.parametrize("message, error", [
    ({"type": "launch"}, "unexpected message type 'launch'"),
    ({"type": "batch", "id": 1, "records": "nope"}, "batch 1: records must be a list of objects"),
])
def test_unknown_or_malformed_messages_are_protocol_errors(sidecar, seed_app, message, error):
    start(sidecar, seed_app)
    sidecar.send(message)
    assert sidecar.recv() == {"type": "error", "code": "protocol", "message": error}
    assert sidecar.wait()[0] == 1


def test_non_json_line_is_a_protocol_error(sidecar, seed_app):
    start(sidecar, seed_app)
    sidecar.send_raw(b"hello there\n")
    reply = sidecar.recv()
    assert reply["type"] == "error" and reply["message"].startswith("message is not JSON")
    assert sidecar.wait()[0] == 1


def test_other_protocol_version_is_refused(sidecar, seed_app):
    sidecar.start_runtime(seed_app).accept()
    sidecar.recv()
    sidecar.send({"type": "welcome", "protocol": "aerogrid.runtime.v2", "snapshot": {}})
    assert sidecar.recv() == {"type": "error", "code": "protocol",
                              "message": "unsupported protocol 'aerogrid.runtime.v2'; this runtime speaks aerogrid.runtime.v1"}
    assert sidecar.wait()[0] == 1


def test_error_from_the_sidecar_ends_the_runtime(sidecar, seed_app):
    start(sidecar, seed_app)
    sidecar.send({"type": "error", "code": "protocol", "message": "you are late"})
    code, _, err = sidecar.wait()
    assert code == 1 and "you are late" in err


def test_syntax_error_exits_2_naming_file_and_line(sidecar, make_app):
    path = make_app("import aerogrid\napp = aerogrid.App('x')\nif True\n    pass\n")
    sidecar.start_runtime(path).accept()
    # Before exiting, the runtime tells the sidecar why, so the app's status can show it.
    msg = sidecar.recv()
    assert msg["type"] == "error" and msg["code"] == "user_code"
    assert msg["message"].startswith(path + ":3: SyntaxError:")
    code, _, err = sidecar.wait()
    assert code == 2
    assert path + ":3: SyntaxError: " in err and "if True" in err


def test_module_level_exception_exits_2_without_a_sidecar(make_app):
    path = make_app("import aerogrid\n\nboom = 1 / 0\n")
    env = dict(os.environ, PYTHONPATH=SDK)
    env.pop("AEROGRID_RUNTIME_ADDR", None)
    r = subprocess.run([sys.executable, "-m", "aerogrid", "run", path], env=env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 2
    assert path + ":3: ZeroDivisionError: division by zero" in r.stderr
    assert "Traceback" in r.stderr


def test_cannot_connect_exits_3(seed_app):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    env = dict(os.environ, PYTHONPATH=SDK, AEROGRID_RUNTIME_ADDR="tcp://127.0.0.1:%d" % port,
               AEROGRID_CONNECT_TIMEOUT="0.5")
    r = subprocess.run([sys.executable, "-m", "aerogrid", "run", seed_app], env=env, capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 3
    assert "cannot connect to tcp://127.0.0.1:%d" % port in r.stderr and "gave up after 0.5 s" in r.stderr


@pytest.mark.parametrize("addr, message", [
    ("", "AEROGRID_RUNTIME_ADDR is not set"),
    ("http://x", "expected tcp://127.0.0.1:PORT or unix:///path"),
    ("tcp://127.0.0.1", "expected tcp://HOST:PORT"),
])
def test_bad_address_exits_3(seed_app, addr, message):
    env = dict(os.environ, PYTHONPATH=SDK, AEROGRID_RUNTIME_ADDR=addr)
    r = subprocess.run([sys.executable, "-m", "aerogrid", "run", seed_app], env=env, capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 3 and message in r.stderr


def test_runtime_retries_until_the_sidecar_listens(tmp_path, seed_app):
    path = str(tmp_path / "late.sock")
    env = dict(os.environ, PYTHONPATH=SDK, AEROGRID_RUNTIME_ADDR="unix://" + path, AEROGRID_CONNECT_TIMEOUT="10")
    proc = subprocess.Popen([sys.executable, "-m", "aerogrid", "run", seed_app], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        import time
        time.sleep(0.5)  # the runtime is retrying by now
        s = Sidecar(unix_path=path)
        s.proc = proc
        s.accept()
        assert s.recv()["type"] == "hello"
        s.send({"type": "welcome", "snapshot": {}})  # protocol may be left out
        s.send({"type": "shutdown"})
        assert s.wait()[0] == 0
        s.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_a_hung_batch_past_the_deadline_tells_the_sidecar_deadline_and_exits_4(sidecar, make_app):
    path = make_app("""
        import time
        import aerogrid
        app = aerogrid.App('hangs')
        t = app.topic('t', value_type=str)

        @app.stream(t)
        async def h(stream):
            async for v in stream:
                if v == 'hang':
                    time.sleep(60)  # blocks the whole runtime, event loop included
    """)
    sidecar.start_runtime(path).accept()
    sidecar.recv()
    sidecar.send({"type": "welcome", "snapshot": {}, "batch_deadline_ms": 400})
    sidecar.send(batch(1, [order(0, "fine", topic="t")]))
    assert sidecar.recv()["processed"] == 1  # a quick batch is not affected
    sidecar.send(batch(2, [order(1, "hang", topic="t")]))
    msg = sidecar.recv()
    assert msg["type"] == "error" and msg["code"] == "deadline"
    assert "batch 2 ran longer than the batch deadline" in msg["message"]
    code, _, err = sidecar.wait(timeout=20)
    assert code == 4 and "batch deadline" in err


def test_help_and_describe(seed_app):
    env = dict(os.environ, PYTHONPATH=SDK)
    r = subprocess.run([sys.executable, "-m", "aerogrid", "--help"], env=env, capture_output=True, text=True)
    assert r.returncode == 0
    for text in ("run APP.py", "describe APP.py", "AEROGRID_RUNTIME_ADDR", "exit codes", "  4  a batch ran past"):
        assert text in r.stdout
    r = subprocess.run([sys.executable, "-m", "aerogrid", "describe", seed_app], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "app": "ordersapp", "sdk": "0.1.0", "protocol": "aerogrid.runtime.v1", "tenant": None,
        "topics": [{"name": "orders", "key_type": "str", "value_type": "Order", "streamed": True}],
        "grids": [{"name": "product_sum", "columns": ["units_sold"]}]}


def test_long_lines_are_a_protocol_error(monkeypatch):
    from aerogrid import wire

    a, b = socket.socketpair()
    try:
        monkeypatch.setattr(wire, "MAX_LINE", 16)
        conn = wire.Connection(a)
        b.sendall(b'{"type":"x"}\n' + b"x" * 20 + b"\n")
        assert conn.read() == {"type": "x"}
        with pytest.raises(wire.ProtocolError, match="longer than 64 MiB"):
            conn.read()
    finally:
        a.close()
        b.close()


WIDE_APP = """
import aerogrid

app = aerogrid.App('ordersapp', broker=BROKER_URI)

class Order(aerogrid.Record):
    product: str
    quantity: int

orders_topic = app.topic('orders', key_type=str, value_type=Order)
product_sum = app.Grid('product_sum', columns=['units_sold', 'note'], default=lambda: {'units_sold': 0, 'note': ''})

@app.stream(orders_topic)
async def sum_orders(orders):
    async for order_id, order in orders.items():
        units_sold = product_sum[order.product]['units_sold'] + order.quantity
        product_sum[order.product] = {'units_sold': units_sold, 'note': 'x' * order.quantity}
"""


def test_a_row_over_max_row_bytes_rejects_its_record_and_the_batch_goes_on(sidecar, make_app):
    sidecar.start_runtime(make_app(WIDE_APP)).accept()
    sidecar.recv()
    sidecar.send({"type": "welcome", "protocol": "aerogrid.runtime.v1", "max_in_flight": 4,
                  "max_row_bytes": 2000, "snapshot": {}})
    sidecar.send(batch(1, [order(1, {"product": "a", "quantity": 5}),
                           order(2, {"product": "b", "quantity": 5000}),
                           order(3, {"product": "a", "quantity": 1})]))
    ack = sidecar.recv()
    assert ack["processed"] == 2
    assert [r["offset"] for r in ack["rejected"]] == ["2"]
    assert ack["rejected"][0]["kind"] == "handler"
    assert "more than the 2000 bytes a row may have" in ack["rejected"][0]["reason"]
    assert ack["deltas"] == [{"grid": "product_sum", "key": "a", "row": {"units_sold": 6, "note": "x"}}]


def test_rows_from_the_writer_update_a_standby_runtime_without_deltas(sidecar, make_app):
    start(sidecar, make_app(RUNTIME_APP), snapshot={"product_sum": {"a": {"units_sold": 10}, "gone": {"units_sold": 1}}})
    sidecar.send({"type": "rows", "deltas": [{"grid": "product_sum", "key": "a", "row": {"units_sold": 40}},
                                             {"grid": "product_sum", "key": "gone", "deleted": True},
                                             {"grid": "not_declared", "key": "x", "row": {"y": 1}}]})
    sidecar.send(batch(1, [order(1, {"product": "a", "quantity": 2}), order(2, {"product": "gone", "quantity": 3})]))
    ack = sidecar.recv()
    assert ack["deltas"] == [{"grid": "product_sum", "key": "a", "row": {"units_sold": 42}},
                             {"grid": "product_sum", "key": "gone", "row": {"units_sold": 3}}]


def test_an_integer_beyond_2_53_in_a_row_rejects_its_record_and_the_batch_goes_on(sidecar, make_app):
    start(sidecar, make_app(RUNTIME_APP))
    sidecar.send(batch(1, [order(1, {"product": "a", "quantity": 5}),
                           order(2, {"product": "b", "quantity": 2 ** 70}),
                           order(3, {"product": "a", "quantity": 1})]))
    ack = sidecar.recv()
    assert ack["processed"] == 2
    assert [r["offset"] for r in ack["rejected"]] == ["2"]
    assert ack["rejected"][0]["kind"] == "handler"
    assert "the integer %d is beyond what JSON readers keep exact" % 2 ** 70 in ack["rejected"][0]["reason"]
    assert ack["deltas"] == [{"grid": "product_sum", "key": "a", "row": {"units_sold": 6}}]


HOSTILE_APP = """
import asyncio
import sys
from typing import Any, List, Optional

import aerogrid

app = aerogrid.App('hostile', broker=BROKER_URI)

class Node(aerogrid.Record):
    children: List['Node'] = []

class Order(aerogrid.Record):
    product: str
    quantity: int
    note: Optional[Any] = None

class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError('no')

orders_topic = app.topic('orders', key_type=str, value_type=Order)
trees_topic = app.topic('trees', key_type=str, value_type=Node)
product_sum = app.Grid('product_sum', columns=['units_sold', 'note'], default=lambda: {'units_sold': 0, 'note': None})

@app.stream(orders_topic)
async def sum_orders(orders):
    async for order_id, order in orders.items():
        if order.product == 'exit':
            sys.exit(3)
        if order.product == 'exit-later':
            await asyncio.sleep(0)
            raise SystemExit('bye')
        if order.product == 'unprintable':
            raise Unprintable()
        units_sold = product_sum[order.product]['units_sold'] + order.quantity
        product_sum[order.product] = {'units_sold': units_sold, 'note': order.note}

@app.stream(trees_topic)
async def count_trees(trees):
    async for key, tree in trees.items():
        pass
"""


def test_no_record_can_stop_the_runtime_deep_json_sys_exit_deep_cells_and_unprintable_errors(sidecar, make_app):
    start(sidecar, make_app(HOSTILE_APP))
    deep_json = "[" * 100_000 + "]" * 100_000  # 200 KB: deeper than the JSON reader can go
    deep_note = 1
    for _ in range(100):
        deep_note = [deep_note]  # JSON can carry it, a grid cell may not
    deep_tree = '{"children": [' * 3000 + '{}' + ']}' * 3000
    sidecar.send(batch(1, [
        order(1, {"product": "a", "quantity": 1}),
        order(2, deep_json),
        order(3, '{"product": "a", "quantity": 1, "note": %s}' % deep_json),
        order(4, {"product": "exit", "quantity": 1}),
        order(5, {"product": "exit-later", "quantity": 1}),
        order(6, {"product": "b", "quantity": 1, "note": deep_note}),
        order(7, {"product": "unprintable", "quantity": 1}),
        order(8, deep_tree, topic="trees"),
        order(9, {"product": "a", "quantity": 5, "note": [1, {"x": 2}]}),
    ]))
    ack = sidecar.recv()
    reasons = {r["offset"]: (r["kind"], r["reason"]) for r in ack["rejected"]}
    assert reasons["2"] == ("decode", "value: invalid JSON: nested too deeply for the JSON reader")
    assert reasons["3"][0] == "decode"
    assert reasons["4"] == ("handler", "SystemExit: the handler called sys.exit(3); a handler cannot stop the runtime")
    assert reasons["5"][0] == "handler" and "sys.exit('bye')" in reasons["5"][1]
    assert reasons["6"][0] == "handler" and "nested more than 32 levels deep" in reasons["6"][1]
    assert reasons["7"] == ("handler", "Unprintable: (its message could not be shown)")
    assert reasons["8"][0] in ("decode", "validation") and "nested too deeply" in reasons["8"][1]
    assert sorted(reasons) == ["2", "3", "4", "5", "6", "7", "8"]
    assert ack["processed"] == 2
    assert ack["deltas"] == [{"grid": "product_sum", "key": "a", "row": {"units_sold": 6, "note": [1, {"x": 2}]}}]
    # The runtime is still there, and its handler restarted.
    sidecar.send(batch(2, [order(10, {"product": "a", "quantity": 1})]))
    assert sidecar.recv()["deltas"] == [{"grid": "product_sum", "key": "a", "row": {"units_sold": 7, "note": None}}]



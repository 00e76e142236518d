import random
import sys

import pytest

from aerogrid.testing import UserCodeError, load_app


def test_seed_app_sums_exactly(seed_app):
    rnd = random.Random(42)
    expected = {}
    pairs = []
    for i in range(3000):
        product = "book %d" % rnd.randrange(25)
        qty = rnd.randrange(1, 1000)
        expected[product] = expected.get(product, 0) + qty
        pairs.append(("order-%d" % i, {"product": product, "quantity": qty}))
    with load_app(seed_app) as h:
        h.send_many("orders", pairs[:1000])
        h.run()
        h.send_many("orders", pairs[1000:])
        h.run()
        assert h.grid("product_sum") == {p: {"units_sold": n} for p, n in expected.items()}
        assert h.rejected == [] and h.processed == 2000


def test_the_example_from_the_docs(seed_app):
    h = load_app(seed_app)
    h.send("orders", {"product": "x", "quantity": 3}, key="o1")
    h.run()
    assert h.grid("product_sum") == {"x": {"units_sold": 3}}
    assert h.deltas == [{"grid": "product_sum", "key": "x", "row": {"units_sold": 3}}]
    h.close()


def test_bad_input_is_rejected_with_its_kind_and_the_app_keeps_going(seed_app):
    with load_app(seed_app) as h:
        h.send("orders", {"product": "a", "quantity": 1}, key="o0")
        h.send("orders", "{not json", key="o1")
        h.send("orders", {"product": "a", "quantity": "ten"}, key="o2")
        h.send("orders", {"product": "a"}, key="o3")
        h.send("orders", [1, 2], key="o4")
        h.send("orders", None, key="o5")
        h.send("orders", "NaN", key="o6")
        h.send("orders", b'{"product": "a", "quantity": 2}', key="o7")
        h.run()
        assert h.grid("product_sum") == {"a": {"units_sold": 3}}
        assert h.processed == 2
        assert [(r["offset"], r["kind"], r["reason"]) for r in h.rejected] == [
            ("1", "decode", "value: invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
            ("2", "validation", "field 'quantity': expected int, got str 'ten'"),
            ("3", "validation", "field 'quantity': required field is missing"),
            ("4", "validation", "value: expected object (Order), got list [1, 2]"),
            ("5", "validation", "value: null (a tombstone), but value_type Order does not allow it; "
                                "use Optional[Order] to receive tombstones as None"),
            ("6", "decode", "value: invalid JSON: NaN is not valid JSON"),
        ]
        assert all(r["topic"] == "orders" and r["partition"] == 0 for r in h.rejected)


def test_deltas_are_those_of_the_last_run_and_rejects_accumulate(seed_app):
    with load_app(seed_app) as h:
        h.send("orders", {"product": "a", "quantity": 1})
        h.send("orders", "bad")
        h.run()
        h.send("orders", {"product": "b", "quantity": 2})
        h.run()
        assert h.deltas == [{"grid": "product_sum", "key": "b", "row": {"units_sold": 2}}]
        assert len(h.rejected) == 1
        h.run()
        assert h.deltas == [] and h.processed == 0


def test_snapshot_starts_the_grids_without_deltas(seed_app):
    with load_app(seed_app, snapshot={"product_sum": {"a": {"units_sold": 10}}}) as h:
        assert h.grid("product_sum") == {"a": {"units_sold": 10}}
        h.send("orders", {"product": "b", "quantity": 1})
        h.run()
        assert h.grid("product_sum") == {"a": {"units_sold": 10}, "b": {"units_sold": 1}}
        assert h.deltas == [{"grid": "product_sum", "key": "b", "row": {"units_sold": 1}}]


def test_harness_results_are_copies(seed_app):
    with load_app(seed_app) as h:
        h.send("orders", {"product": "a", "quantity": 1})
        h.run()
        h.deltas[0]["row"]["units_sold"] = 1000
        h.grid("product_sum")["a"]["units_sold"] = 1000
        assert h.grid("product_sum") == {"a": {"units_sold": 1}}


def test_broker_uri_is_injected_into_the_module_globals(make_app, monkeypatch):
    path = make_app("""
        import aerogrid
        seen = BROKER_URI
        app = aerogrid.App('brokerapp', broker=BROKER_URI)
    """)
    with load_app(path, broker="kafka:9092") as h:
        assert h.module.seen == "kafka:9092" and h.app.broker == "kafka:9092"
    monkeypatch.setenv("AEROGRID_BROKER", "from-env:1")
    with load_app(path) as h:
        assert h.app.broker == "from-env:1"
    monkeypatch.delenv("AEROGRID_BROKER")
    with load_app(path) as h:
        assert h.app.broker == "127.0.0.1:19092"
    import builtins
    assert not hasattr(builtins, "BROKER_URI")


def test_main_guard_is_skipped_and_sibling_modules_import(make_app):
    make_app("FACTOR = 10\n", name="helpers.py")
    path = make_app("""
        import aerogrid
        from helpers import FACTOR
        app = aerogrid.App('guard')
        ran_main = False
        if __name__ == '__main__':
            ran_main = True
    """)
    with load_app(path) as h:
        assert h.module.FACTOR == 10 and h.module.ran_main is False
        name = h.module.__name__
        assert sys.modules[name] is h.module
    assert name not in sys.modules


def test_future_annotations_and_forward_references(make_app):
    path = make_app("""
        from __future__ import annotations
        from typing import Optional
        import aerogrid

        app = aerogrid.App('futureapp')

        class Order(aerogrid.Record):
            customer: Customer
            lines: list[Line]
            note: Optional[str]

        class Customer(aerogrid.Record):
            name: str

        class Line(aerogrid.Record):
            sku: str
            qty: int = 1

        orders = app.topic('orders', value_type=Order)
        totals = app.Grid('totals', columns=['qty'], default=lambda: {'qty': 0})

        @app.stream(orders)
        async def total(stream):
            async for order in stream:
                for line in order.lines:
                    totals[order.customer.name] = {'qty': totals[order.customer.name]['qty'] + line.qty}
    """)
    with load_app(path) as h:
        h.send("orders", {"customer": {"name": "ann"}, "lines": [{"sku": "a"}, {"sku": "b", "qty": 4}]})
        h.send("orders", {"customer": {"name": "ann"}, "lines": [{"sku": "a", "qty": "2"}]})
        h.run()
        assert h.grid("totals") == {"ann": {"qty": 5}}
        assert h.rejected[0]["reason"] == "field 'lines[0].qty': expected int, got str '2'"


def test_key_types(make_app):
    path = make_app("""
        import aerogrid
        app = aerogrid.App('keys')

        class K(aerogrid.Record):
            region: str
            id: int

        seen = []
        for name, kt in [('ints', int), ('raw', bytes), ('recs', K), ('text', str)]:
            t = app.topic(name, key_type=kt, value_type=str)

            @app.stream(t)
            async def h(stream):
                async for key, value in stream.items():
                    seen.append(key)
    """)
    with load_app(path) as h:
        h.send("ints", "v", key=42)
        h.send("ints", "v", key="-7")
        h.send("ints", "v", key=None)
        h.send("ints", "v", key="4.5")
        h.send("ints", "v", key=" 1")
        h.send("raw", "v", key=b"\x00\xc3\xa9")
        h.send("recs", "v", key={"region": "eu", "id": 1})
        h.send("recs", "v", key="not json")
        h.send("recs", "v", key={"region": "eu", "id": "1"})
        h.send("text", "v", key="plain")
        h.run()
        K = h.module.K
        assert h.module.seen == [42, -7, None, b"\x00\xc3\xa9", K(region="eu", id=1), "plain"]
        assert [r["reason"] for r in h.rejected] == [
            "key: expected a decimal integer, got str '4.5'",
            "key: expected a decimal integer, got str ' 1'",
            "key: invalid JSON: Expecting value: line 1 column 1 (char 0)",
            "key field 'id': expected int, got str '1'",
        ]
        assert {r["kind"] for r in h.rejected} == {"validation"}


def test_value_types(make_app):
    path = make_app("""
        from typing import Any, Optional
        import aerogrid
        app = aerogrid.App('values')

        class V(aerogrid.Record):
            x: int

        seen = []
        for name, vt in [('text', str), ('raw', bytes), ('obj', dict), ('any', Any), ('ints', list[int]),
                         ('maybe', Optional[V])]:
            t = app.topic(name, value_type=vt)

            @app.stream(t)
            async def h(stream, name=name):
                async for value in stream:
                    seen.append((name, value))
    """)
    with load_app(path) as h:
        h.send("text", "not json at all")
        h.send("text", None)
        h.send("raw", "é")
        h.send("obj", {"a": [1]})
        h.send("obj", [1])
        h.send("any", 5)
        h.send("any", None)
        h.send("ints", [1, 2])
        h.send("ints", [1, "2"])
        h.send("maybe", None)
        h.send("maybe", {"x": 1})
        h.send("maybe", "null")
        h.run()
        V = h.module.V
        assert h.module.seen == [
            ("text", "not json at all"), ("text", None), ("raw", "é".encode()), ("obj", {"a": [1]}),
            ("any", 5), ("any", None), ("ints", [1, 2]), ("maybe", None), ("maybe", V(x=1)), ("maybe", None)]
        assert [r["reason"] for r in h.rejected] == [
            "value: expected object, got list [1]",
            "value[1]: expected int, got str '2'",
        ]


def test_send_encodes_records_and_rejects_unknown_topics(seed_app):
    with load_app(seed_app) as h:
        h.send("orders", h.module.Order(product="p", quantity=2))
        h.run()
        assert h.grid("product_sum") == {"p": {"units_sold": 2}}
        with pytest.raises(KeyError, match="topic 'nope' is not declared by app 'ordersapp'"):
            h.send("nope", {})
        with pytest.raises(KeyError, match="grid 'nope' is not declared"):
            h.grid("nope")
        with pytest.raises(ValueError, match="not UTF-8"):
            h.send("orders", b"\xff")


def test_app_log_is_captured(make_app):
    path = make_app("""
        import aerogrid
        app = aerogrid.App('logger')
        t = app.topic('t', value_type=str)

        @app.stream(t)
        async def h(stream):
            async for v in stream:
                app.log('got ' + v, level='warning')
    """)
    with load_app(path) as h:
        h.send("t", "x")
        h.run()
        assert h.logs == [("warning", "got x")]
        with pytest.raises(ValueError, match="log level must be one of"):
            h.app.log("x", level="loud")


@pytest.mark.parametrize("source, message", [
    ("import aerogrid\nx = = 1\n", r"app\.py:2: SyntaxError: "),
    ("import aerogrid\n\napp = aerogrid.App('x', broker=BROKER_URI)\nprint(undefined_name)\n",
     r"app\.py:4: NameError: name 'undefined_name' is not defined"),
    ("import aerogrid\napp = aerogrid.App('Orders_App')\n",
     r"app\.py:2: ValueError: invalid app name 'Orders_App': use lowercase letters"),
    ("import aerogrid\napp = aerogrid.App('a')\napp.topic('t', key_type=float)\n",
     r"app\.py:3: TypeError: unsupported key_type float"),
    ("import aerogrid\napp = aerogrid.App('a')\nclass R(aerogrid.Record):\n    x: set\n\napp.topic('t', value_type=R)\n",
     r"app\.py:6: TypeError: record R, field 'x': unsupported type set"),
    ("import aerogrid\napp = aerogrid.App('a')\ng = app.Grid('g', ['a'])\ng2 = app.Grid('g', ['b'])\n",
     r"app\.py:4: ValueError: grid 'g' is already declared"),
    ("import sys\nsys.exit(3)\n", r"app\.py:2: SystemExit\(3\) while loading the connector"),
    ("x = 1\n", r"app\.py: no aerogrid\.App is created"),
    ("import aerogrid\na = aerogrid.App('a')\nb = aerogrid.App('b')\n", r"app\.py: 2 aerogrid\.App objects are created"),
])
def test_load_errors_name_file_and_line(make_app, source, message):
    path = make_app(source)
    with pytest.raises(UserCodeError, match=message) as info:
        load_app(path)
    assert info.value.filename == path


def test_syntax_error_report_shows_the_line(make_app):
    path = make_app("import aerogrid\napp = aerogrid.App('x')\nif True\n    pass\n")
    with pytest.raises(UserCodeError) as info:
        load_app(path)
    assert info.value.lineno == 3
    assert "if True" in info.value.report() and "^" in info.value.report()


def test_missing_file(tmp_path):
    with pytest.raises(UserCodeError, match="cannot read the connector file"):
        load_app(str(tmp_path / "nope.py"))

import datetime as dt
import decimal

import pytest

from aerogrid import App, Grid, GridError, Record
from aerogrid.engine import Engine


def make(default=None, columns=("units", "price")):
    return Grid("g", list(columns), default=default)


def test_read_returns_a_copy():
    g = make()
    g["a"] = {"units": 1, "price": 2.5}
    row = g["a"]
    row["units"] = 99
    assert g["a"] == {"units": 1, "price": 2.5}
    g.get("a")["units"] = 98
    g.values()[0]["units"] = 97
    g.items()[0][1]["units"] = 96
    assert g["a"]["units"] == 1


def test_write_stores_a_copy():
    g = make()
    row = {"units": 1, "price": 2.0}
    g["a"] = row
    row["units"] = 5
    assert g["a"]["units"] == 1


def test_nested_cells_are_deep_copied_both_ways():
    g = Grid("g", ["tags"])
    tags = ["x"]
    g["a"] = {"tags": tags}
    tags.append("written-after")
    g["a"]["tags"].append("read-then-changed")
    assert g["a"] == {"tags": ["x"]}


def test_absent_key_returns_default_without_inserting():
    calls = []

    def default():
        calls.append(1)
        return {"units": 0, "price": 0.0}

    g = make(default)
    assert g["nope"] == {"units": 0, "price": 0.0}
    assert "nope" not in g and len(g) == 0 and g._take_changes() == {}
    assert len(calls) == 1


def test_default_row_is_completed_and_not_shared():
    shared = {"units": 0}
    g = make(lambda: shared)
    row = g["x"]
    assert row == {"units": 0, "price": None}
    row["units"] = 5
    assert g["y"] == {"units": 0, "price": None} and shared == {"units": 0}


def test_absent_key_without_default_raises_key_error():
    g = make()
    with pytest.raises(KeyError):
        g["nope"]
    assert g.get("nope") is None and g.get("nope", 7) == 7


def test_undeclared_column_is_an_error_at_the_write_naming_it():
    g = make()
    with pytest.raises(GridError, match="grid 'g' has no column 'unit'; its columns are units, price"):
        g["a"] = {"unit": 1, "price": 2.0}
    with pytest.raises(GridError, match="no column 'extra'"):
        g["a"] = {"units": 1, "price": 2.0, "extra": 3}
    assert "a" not in g and g._take_changes() == {}


def test_missing_columns_are_filled_from_default_or_none():
    g = make(lambda: {"units": 0, "price": 9.5})
    g["a"] = {"units": 3}
    assert g["a"] == {"units": 3, "price": 9.5}
    h = make()
    h["a"] = {"price": 1.0}
    assert h["a"] == {"units": None, "price": 1.0}


def test_rows_keep_declared_column_order():
    g = make()
    g["a"] = {"price": 1.0, "units": 2}
    assert list(g["a"]) == ["units", "price"]


def test_row_must_be_a_dict():
    g = make()
    with pytest.raises(GridError, match="a row must be a dict of column -> value, got int"):
        g["a"] = 5


def test_del_in_len_get_iteration():
    g = make()
    for k in "abc":
        g[k] = {"units": ord(k), "price": 1.0}
    assert len(g) == 3 and "b" in g and "z" not in g
    del g["b"]
    assert "b" not in g and len(g) == 2
    with pytest.raises(KeyError):
        del g["b"]
    assert list(g) == ["a", "c"] and g.keys() == ["a", "c"]
    assert g.values() == [{"units": 97, "price": 1.0}, {"units": 99, "price": 1.0}]
    assert g.items() == [("a", {"units": 97, "price": 1.0}), ("c", {"units": 99, "price": 1.0})]
    assert g.get("a") == {"units": 97, "price": 1.0}
    assert dict(g.items()) == g.to_dict()


def test_writing_while_iterating_is_allowed():
    g = make()
    g["a"] = {"units": 1}
    g["b"] = {"units": 2}
    for k in g:
        g[k + "2"] = g[k]
        del g[k]
    assert sorted(g) == ["a2", "b2"]


def test_keys_are_strings():
    g = make()
    g[5] = {"units": 1}
    assert "5" in g and 5 in g and g[5] == g["5"]
    assert g.keys() == ["5"]
    with pytest.raises(TypeError, match="grid key must be a str"):
        g[None] = {"units": 1}
    with pytest.raises(TypeError, match="grid key must be a str"):
        g[b"x"]


def test_pop_and_clear_record_deletes():
    g = make()
    g["a"] = {"units": 1}
    g["b"] = {"units": 2}
    g._take_changes()
    assert g.pop("a") == {"units": 1, "price": None}
    assert g.pop("zz", None) is None
    with pytest.raises(KeyError):
        g.pop("zz")
    g.clear()
    assert len(g) == 0 and g._take_changes() == {"a": None, "b": None}


@pytest.mark.parametrize("value, stored", [
    (True, True), (None, None), ("s", "s"), (3, 3), (2.5, 2.5),
    (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
    ([1, "a", None], [1, "a", None]), ((1, 2), [1, 2]), ({"k": [1.5]}, {"k": [1.5]}),
])
def test_cells_hold_json_values(value, stored):
    g = Grid("g", ["v"])
    g["a"] = {"v": value}
    assert g["a"]["v"] == stored and type(g["a"]["v"]) is type(stored)


def test_records_in_cells_are_stored_as_dicts():
    class Point(Record):
        x: int
        y: int

    g = Grid("g", ["p"])
    g["a"] = {"p": Point(x=1, y=2)}
    assert g["a"] == {"p": {"x": 1, "y": 2}}


@pytest.mark.parametrize("value, message", [
    (float("nan"), "column 'v': nan cannot be sent to Excel"),
    (float("inf"), "column 'v': inf cannot be sent to Excel"),
    (decimal.Decimal("1.5"), "column 'v': cannot store a Decimal"),
    ({1: "x"}, "column 'v': dict keys must be str"),
    ([object()], "column 'v': cannot store a object"),
])
def test_cells_that_cannot_reach_excel_are_errors_at_the_write(value, message):
    g = Grid("g", ["v"])
    with pytest.raises(GridError, match=message):
        g["a"] = {"v": value}
    assert "a" not in g


@pytest.mark.parametrize("args, error, message", [
    (("bad name", ["a"]), ValueError, "invalid grid name 'bad name'"),
    (("g", []), ValueError, "declare at least one column"),
    (("g", "units"), TypeError, "columns must be a list"),
    (("g", ["a", "a"]), ValueError, "duplicate column names"),
    (("g", ["a", ""]), TypeError, "column names must be non-empty str"),
    (("g", ["a"], {"a": 0}), TypeError, "default must be a callable"),
])
def test_bad_declarations(args, error, message):
    with pytest.raises(error, match=message):
        Grid(*args)


def test_net_deltas_per_flush():
    app = App("deltas")
    g = app.Grid("g", ["v"])
    other = app.Grid("other", ["v"])
    engine = Engine(app)
    g["a"] = {"v": 1}
    g["a"] = {"v": 2}
    g["b"] = {"v": 1}
    del g["b"]  # written then deleted: one 'deleted' delta
    g["c"] = {"v": 1}
    other["x"] = {"v": 0}
    assert engine.take_deltas() == [
        {"grid": "g", "key": "a", "row": {"v": 2}},
        {"grid": "g", "key": "b", "deleted": True},
        {"grid": "g", "key": "c", "row": {"v": 1}},
        {"grid": "other", "key": "x", "row": {"v": 0}},
    ]
    assert engine.take_deltas() == []
    del g["c"]
    g["c"] = {"v": 3}  # deleted then written again: the last value wins
    assert engine.take_deltas() == [{"grid": "g", "key": "c", "row": {"v": 3}}]


def test_snapshot_load_records_no_changes_and_follows_declared_columns():
    app = App("snap")
    g = app.Grid("g", ["units", "added"], default=lambda: {"units": 0, "added": "new"})
    engine = Engine(app)
    engine.load_snapshot({"g": {"a": {"units": 5, "dropped": 1}}, "gone": {"x": {"y": 1}}})
    assert g.to_dict() == {"a": {"units": 5, "added": "new"}}
    assert engine.take_deltas() == []


def test_an_integer_beyond_2_53_is_refused_at_the_write_naming_the_limit():
    # Clients and the sidecar read JSON numbers as doubles: 2**70 would come back as 1.18e+21.
    g = Grid("g", columns=["quantity", "note"])
    for big in (2 ** 53, -(2 ** 53), 2 ** 70):
        with pytest.raises(GridError, match=r"grid 'g' column 'quantity': the integer %d is beyond what JSON "
                                            r"readers keep exact \(-\(2\*\*53 - 1\) to 2\*\*53 - 1\)" % big):
            g["k"] = {"quantity": big, "note": ""}
    with pytest.raises(GridError, match="beyond what JSON readers keep exact"):
        g["k"] = {"quantity": [1, 2 ** 60], "note": ""}
    with pytest.raises(GridError, match="beyond what JSON readers keep exact"):
        g["k"] = {"quantity": 1, "note": {"deep": 2 ** 60}}
    assert "k" not in g
    g["k"] = {"quantity": 2 ** 53 - 1, "note": -(2 ** 53 - 1)}
    assert g["k"] == {"quantity": 2 ** 53 - 1, "note": -(2 ** 53 - 1)}


def test_cells_nested_deeper_than_max_cell_depth_are_refused_at_the_write():
    from aerogrid.grid import MAX_CELL_DEPTH
    g = Grid('g', columns=['v'])
    ok = []
    for _ in range(MAX_CELL_DEPTH - 1):
        ok = [ok]
    g['ok'] = {'v': ok}
    too_deep = {'x': 1}
    for _ in range(MAX_CELL_DEPTH):
        too_deep = {'a': too_deep}
    with pytest.raises(GridError, match="nested more than %d levels" % MAX_CELL_DEPTH):
        g['deep'] = {'v': too_deep}
    loop = []
    loop.append(loop)  # a list that contains itself never ends
    with pytest.raises(GridError, match="nested more than"):
        g['loop'] = {'v': loop}
    assert list(g) == ['ok']

import copy
import datetime as dt
import functools
from typing import Any, ClassVar, Dict, List, Optional, Union

import pytest

from aerogrid import Record, ValidationError


class Address(Record):
    street: str
    zip: str


class Customer(Record):
    name: str
    address: Address
    vip: bool = False


class Everything(Record):
    s: str
    i: int
    f: float
    b: bool
    when: dt.datetime
    maybe: Optional[int]
    tags: list[str]
    scores: List[int]
    attrs: dict[str, float]
    meta: Dict[str, Any]
    customer: Customer
    customers: list[Customer] = []
    note: str = "n/a"
    counts: dict[str, int] = {}


GOOD = {
    "s": "hello", "i": 3, "f": 1.5, "b": True, "when": "2024-11-22T10:30:00Z", "maybe": None,
    "tags": ["a", "b"], "scores": [1, 2], "attrs": {"x": 0.5}, "meta": {"any": [1, "two", None]},
    "customer": {"name": "Ann", "address": {"street": "Main St", "zip": "12345"}},
}


def good(**changes):
    data = copy.deepcopy(GOOD)
    for k, v in changes.items():
        if v is KeyError:
            del data[k]
        else:
            data[k] = v
    return data


def test_every_supported_type_decodes():
    e = Everything.from_dict(good())
    assert e.s == "hello" and e.i == 3 and e.f == 1.5 and e.b is True
    assert e.when == dt.datetime(2024, 11, 22, 10, 30, tzinfo=dt.timezone.utc)
    assert e.maybe is None
    assert e.tags == ["a", "b"] and e.scores == [1, 2]
    assert e.attrs == {"x": 0.5} and e.meta == {"any": [1, "two", None]}
    assert isinstance(e.customer, Customer) and isinstance(e.customer.address, Address)
    assert e.customer.address.zip == "12345" and e.customer.vip is False
    assert e.customers == [] and e.note == "n/a" and e.counts == {}


def test_int_is_accepted_for_float_and_becomes_float():
    e = Everything.from_dict(good(f=2, attrs={"x": 1}))
    assert e.f == 2.0 and type(e.f) is float
    assert type(e.attrs["x"]) is float


@pytest.mark.parametrize("changes, message", [
    ({"i": "ten"}, "field 'i': expected int, got str 'ten'"),
    ({"i": "3"}, "field 'i': expected int, got str '3'"),
    ({"i": True}, "field 'i': expected int, got bool True"),
    ({"i": 3.0}, "field 'i': expected int, got float 3.0"),
    ({"i": None}, "field 'i': expected int, got null"),
    ({"f": "1.5"}, "field 'f': expected float, got str '1.5'"),
    ({"f": False}, "field 'f': expected float, got bool False"),
    ({"f": 10 ** 400}, "field 'f': int too large for float"),
    ({"b": 1}, "field 'b': expected bool, got int 1"),
    ({"b": "true"}, "field 'b': expected bool, got str 'true'"),
    ({"s": 5}, "field 's': expected str, got int 5"),
    ({"s": None}, "field 's': expected str, got null"),
    ({"when": "yesterday"}, "field 'when': expected ISO-8601 datetime, got str 'yesterday'"),
    ({"when": 1732300000}, "field 'when': expected ISO-8601 datetime string, got int 1732300000"),
    ({"when": "2024-02-30T00:00:00"}, "field 'when': invalid datetime '2024-02-30T00:00:00': day is out of range for month"),
    ({"maybe": "x"}, "field 'maybe': expected int, got str 'x'"),
    ({"tags": "abc"}, "field 'tags': expected list, got str 'abc'"),
    ({"tags": ["a", 2]}, "field 'tags[1]': expected str, got int 2"),
    ({"scores": [1, True]}, "field 'scores[1]': expected int, got bool True"),
    ({"attrs": ["x"]}, "field 'attrs': expected object, got list ['x']"),
    ({"attrs": {"x": "y"}}, "field 'attrs[x]': expected float, got str 'y'"),
    ({"customer": "bob"}, "field 'customer': expected object (Customer), got str 'bob'"),
    ({"customer": {"name": "n", "address": {"street": "s", "zip": 12345}}},
     "field 'customer.address.zip': expected str, got int 12345"),
    ({"customer": {"name": "n", "address": {"zip": "1"}}},
     "field 'customer.address.street': required field is missing"),
    ({"customers": [{"name": "n", "address": {"street": "s", "zip": "1"}, "vip": "yes"}]},
     "field 'customers[0].vip': expected bool, got str 'yes'"),
    ({"i": KeyError}, "field 'i': required field is missing"),
    ({"customer": KeyError}, "field 'customer': required field is missing"),
])
def test_records_that_do_not_fit_are_rejected_naming_the_field(changes, message):
    with pytest.raises(ValidationError) as info:
        Everything.from_dict(good(**changes))
    assert str(info.value).startswith(message)
    if "too large" not in message:
        assert str(info.value) == message


def test_validation_error_carries_the_path():
    with pytest.raises(ValidationError) as info:
        Everything.from_dict(good(customer={"name": "n", "address": {"street": "s", "zip": 1}}))
    assert info.value.path == ["customer", "address", "zip"]
    assert info.value.message == "expected str, got int 1"


def test_long_values_are_shortened_in_messages():
    with pytest.raises(ValidationError) as info:
        Everything.from_dict(good(i="x" * 500))
    assert str(info.value).endswith("...") and len(str(info.value)) < 100


@pytest.mark.parametrize("text, expected", [
    ("2024-11-22T10:30:00Z", dt.datetime(2024, 11, 22, 10, 30, tzinfo=dt.timezone.utc)),
    ("2024-11-22T10:30:00+02:00", dt.datetime(2024, 11, 22, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
    ("2024-11-22T10:30:00-0530", dt.datetime(2024, 11, 22, 10, 30, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30)))),
    ("2024-11-22T10:30:00.123456789Z", dt.datetime(2024, 11, 22, 10, 30, 0, 123456, tzinfo=dt.timezone.utc)),
    ("2024-11-22 10:30", dt.datetime(2024, 11, 22, 10, 30)),
    ("2024-11-22", dt.datetime(2024, 11, 22)),
])
def test_datetime_accepts_iso_8601(text, expected):
    assert Everything.from_dict(good(when=text)).when == expected


@pytest.mark.parametrize("text", ["2024-11-22Z", "22/11/2024", "2024-11-22T10", "2024-11-22T10:30:00+2"])
def test_datetime_rejects_non_iso_strings(text):
    with pytest.raises(ValidationError, match="field 'when': expected ISO-8601 datetime"):
        Everything.from_dict(good(when=text))


def test_optional_fields_accept_null_and_may_be_left_out():
    assert Everything.from_dict(good(maybe=7)).maybe == 7
    assert Everything.from_dict(good(maybe=KeyError)).maybe is None


def test_unknown_json_keys_are_ignored():
    e = Everything.from_dict(good(extra="whatever", another={"x": 1}))
    assert not hasattr(e, "extra")
    assert "extra" not in e.to_dict()


def test_mutable_defaults_are_copied_per_instance():
    a = Everything.from_dict(good())
    b = Everything.from_dict(good())
    a.customers.append("x")
    a.counts["k"] = 1
    assert b.customers == [] and b.counts == {}
    assert Everything.customers == [] and Everything.counts == {}


def test_a_method_sharing_a_fields_name_is_not_its_default():
    class Shared(Record):
        a: int
        b: int
        c: int
        d: int = 4

        def a(self):
            return "method"

        @classmethod
        def b(cls):
            return "classmethod"

        @functools.cached_property
        def c(self):
            return "cached"

    with pytest.raises(ValidationError, match="'a'"):
        Shared.from_dict({"b": 2, "c": 3})
    with pytest.raises(ValidationError, match="'b'"):
        Shared.from_dict({"a": 1, "c": 3})
    with pytest.raises(ValidationError, match="'c'"):
        Shared.from_dict({"a": 1, "b": 2})
    s = Shared.from_dict({"a": 1, "b": 2, "c": 3})
    assert (s.a, s.b, s.c, s.d) == (1, 2, 3, 4)


def test_to_dict_is_json_ready_and_round_trips():
    e = Everything.from_dict(good())
    d = e.to_dict()
    assert d["when"] == "2024-11-22T10:30:00+00:00"
    assert d["customer"] == {"name": "Ann", "address": {"street": "Main St", "zip": "12345"}, "vip": False}
    assert Everything.from_dict(d) == e


def test_equality_and_repr():
    a = Address(street="Main", zip="1")
    assert a == Address.from_dict({"street": "Main", "zip": "1"})
    assert a != Address(street="Main", zip="2")
    assert a != {"street": "Main", "zip": "1"}
    assert repr(a) == "Address(street='Main', zip='1')"
    with pytest.raises(TypeError):
        hash(a)


def test_constructor_validates_like_json():
    assert Address("Main", zip="1").street == "Main"
    c = Customer(name="n", address={"street": "s", "zip": "1"})
    assert isinstance(c.address, Address)
    assert Customer(name="n", address=c.address).address is c.address
    when = dt.datetime(2020, 1, 1)
    assert Everything.from_dict(good(when=when)).when is when
    with pytest.raises(ValidationError, match="field 'zip': expected str, got int 1"):
        Address(street="s", zip=1)
    with pytest.raises(ValidationError, match="field 'zip': required field is missing"):
        Address(street="s")
    with pytest.raises(TypeError, match="unexpected field 'city'"):
        Address(street="s", zip="1", city="x")
    with pytest.raises(TypeError, match="multiple values for field 'street'"):
        Address("s", street="t", zip="1")
    with pytest.raises(TypeError, match="at most 2 positional"):
        Address("s", "1", "x")


def test_from_dict_rejects_non_objects():
    with pytest.raises(ValidationError, match=r"expected object \(Address\), got list \[1\]"):
        Address.from_dict([1])


def test_inherited_fields_come_first_and_classvars_are_not_fields():
    class Base(Record):
        id: str
        kind: ClassVar[str] = "base"

    class Child(Base):
        size: int = 1

    c = Child.from_dict({"id": "x", "kind": "ignored"})
    assert c.to_dict() == {"id": "x", "size": 1}
    assert Child.kind == "base"


def test_methods_and_properties_on_records_work():
    class Line(Record):
        price: float
        qty: int

        @property
        def total(self):
            return self.price * self.qty

        def describe(self):
            return "%d x %.2f" % (self.qty, self.price)

    line = Line.from_dict({"price": 2, "qty": 3})
    assert line.total == 6.0 and line.describe() == "3 x 2.00"
    assert line.to_dict() == {"price": 2.0, "qty": 3}


class Node(Record):
    name: str
    children: "list[Node]" = []


def test_recursive_records():
    tree = Node.from_dict({"name": "a", "children": [{"name": "b"}]})
    assert tree.children[0].name == "b" and tree.children[0].children == []
    with pytest.raises(ValidationError, match=r"field 'children\[0\].children\[0\].name': expected str, got int 3"):
        Node.from_dict({"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]})


def test_unsupported_annotations_fail_with_the_field_named():
    class Bad(Record):
        ok: int
        nope: set

    with pytest.raises(TypeError, match="record Bad, field 'nope': unsupported type set"):
        Bad.from_dict({"ok": 1, "nope": []})

    class BadKeys(Record):
        d: dict[int, str]

    with pytest.raises(TypeError, match="dict keys must be str"):
        BadKeys.from_dict({"d": {}})

    class BadUnion(Record):
        u: Union[int, str]

    with pytest.raises(TypeError, match=r"only Optional\[X\] unions are supported"):
        BadUnion.from_dict({"u": 1})


def test_unresolvable_annotation_is_a_clear_name_error():
    class Dangling(Record):
        x: "NoSuchRecord"

    with pytest.raises(NameError, match="record Dangling: cannot resolve a field type"):
        Dangling.from_dict({"x": {}})

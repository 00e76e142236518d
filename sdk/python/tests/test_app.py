from typing import Any, Optional

import pytest

from aerogrid import App, Record


class Order(Record):
    product: str


@pytest.mark.parametrize("name", ["ordersapp", "orders-app", "a", "a1", "x" * 63])
def test_valid_app_names(name):
    assert App(name).name == name


@pytest.mark.parametrize("name", ["Orders", "orders_app", "-orders", "orders-", "", "x" * 64, "ord ers", "órders"])
def test_invalid_app_names_are_refused_with_the_rule(name):
    with pytest.raises(ValueError, match="invalid app name .*DNS-1123 label"):
        App(name)


def test_app_name_must_be_a_string():
    with pytest.raises(TypeError, match="app name must be a str"):
        App(None)


def test_tenant_is_validated_too():
    assert App("a", tenant="team-1").tenant == "team-1"
    with pytest.raises(ValueError, match="invalid tenant name 'Team'"):
        App("a", tenant="Team")


@pytest.mark.parametrize("name", ["bad topic", "", ".", "..", "x" * 250, "a/b"])
def test_invalid_topic_names(name):
    with pytest.raises(ValueError, match="invalid topic name"):
        App("a").topic(name)


def test_duplicate_topic_is_refused():
    app = App("a")
    app.topic("orders")
    with pytest.raises(ValueError, match="topic 'orders' is already declared"):
        app.topic("orders")


def test_unsupported_key_and_value_types_fail_at_the_declaration():
    app = App("a")
    with pytest.raises(TypeError, match="unsupported key_type float"):
        app.topic("t1", key_type=float)
    with pytest.raises(TypeError, match="unsupported type set"):
        app.topic("t2", value_type=set)


def test_describe_lists_topics_with_types_and_whether_they_are_streamed():
    app = App("describe")
    streamed = app.topic("orders", key_type=int, value_type=Order)
    app.topic("audit", key_type=bytes, value_type=Optional[Order])
    app.topic("raw", value_type=list[int])
    app.topic("anything", value_type=Any)
    app.Grid("totals", ["units", "value"])

    @app.stream(streamed)
    async def h(stream):
        async for _ in stream:
            pass

    assert app.describe() == {
        "app": "describe", "sdk": "0.1.0", "protocol": "aerogrid.runtime.v1",
        "topics": [
            {"name": "orders", "key_type": "int", "value_type": "Order", "streamed": True},
            {"name": "audit", "key_type": "bytes", "value_type": "Optional[Order]", "streamed": False},
            {"name": "raw", "key_type": "str", "value_type": "list[int]", "streamed": False},
            {"name": "anything", "key_type": "str", "value_type": "any", "streamed": False},
        ],
        "grids": [{"name": "totals", "columns": ["units", "value"]}],
    }

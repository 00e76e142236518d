"""The SDK's name rules against the fixtures the TypeScript rules are tested with
(protocol/fixtures/names.json): both must accept and refuse the same names."""
import json
import os

import pytest

from aerogrid import names

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "protocol", "fixtures", "names.json")
with open(FIXTURES, encoding="utf-8") as f:
    CASES = json.load(f)

CHECKS = {
    "dns1123Label": [lambda n: names.dns_label("tenant", n), lambda n: names.dns_label("app", n)],
    "topic": [names.topic_name],
    "grid": [names.grid_name],
}


def cases(outcome):
    return [(kind, name) for kind in CHECKS for name in CASES[kind][outcome]]


@pytest.mark.parametrize("kind,name", cases("valid"))
def test_valid_names_are_accepted(kind, name):
    for check in CHECKS[kind]:
        assert check(name) == name


@pytest.mark.parametrize("kind,name", cases("invalid"))
def test_invalid_names_are_refused(kind, name):
    for check in CHECKS[kind]:
        with pytest.raises(ValueError, match="invalid (tenant|app|topic|grid) name"):
            check(name)

import os
import sys
import textwrap

import pytest

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SDK not in sys.path:
    sys.path.insert(0, SDK)

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
SEED_APP = os.path.join(APPS, "ordersapp.py")  # the seed connector, verbatim


@pytest.fixture
def make_app(tmp_path):
    """Write a connector file from (dedented) source; returns its path."""
    def make(source: str, name: str = "app.py") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        return str(path)
    return make


@pytest.fixture
def seed_app() -> str:
    return SEED_APP

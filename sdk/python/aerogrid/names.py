"""Name rules, checked when a name is declared so that a bad one fails at its line.

App and tenant names become Kubernetes names and Kafka group/topic prefixes (DNS-1123 labels);
topic names follow Kafka's rules; grid names appear in URLs and Excel formulas.

The same rules as the contract package's (protocol/src/names.ts), kept here in the standard
library only; tests/test_names.py checks both against the same fixtures (protocol/fixtures/).
"""
from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_GRID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")


def dns_label(kind: str, name) -> str:
    if not isinstance(name, str):
        raise TypeError("%s name must be a str, got %s" % (kind, type(name).__name__))
    if not _DNS_LABEL.fullmatch(name):
        raise ValueError(
            "invalid %s name %r: use lowercase letters, digits and '-', start and end with a "
            "letter or digit, at most 63 characters (a DNS-1123 label, e.g. 'orders-app')" % (kind, name))
    return name


def topic_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError("topic name must be a str, got %s" % type(name).__name__)
    if not _TOPIC.fullmatch(name) or name in (".", ".."):
        raise ValueError(
            "invalid topic name %r: use letters, digits, '.', '_' and '-', at most 249 characters" % name)
    return name


def grid_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError("grid name must be a str, got %s" % type(name).__name__)
    if not _GRID.fullmatch(name):
        raise ValueError(
            "invalid grid name %r: start with a letter, then letters, digits, '_' or '-', "
            "at most 63 characters" % name)
    return name

"""Decoding a Kafka record's key and value (UTF-8 text or null on the wire) into Python values.

Each topic gets one key decoder and one value decoder, built once when the app starts running
(after the whole file is loaded, so Records may refer to classes defined further down). A decoder
raises Reject(kind, reason); kind is 'decode' (not JSON) or 'validation' (does not fit the type).

value_type:  str -> the raw text    bytes -> the raw UTF-8 bytes
             anything else (a Record, dict, list[X], int, Any, Optional[X], ...) -> JSON, validated
             A null value (tombstone) is delivered as None for str, bytes, Any and Optional[...]
             and rejected for the others.
key_type:    str (raw) | int (decimal text) | bytes (raw) | a Record (JSON); a null key -> None
"""
from __future__ import annotations

import json
import re
import typing

from .record import _UNION_TYPES, Record, ValidationError, compile_type, describe, format_path, type_name

__all__ = ["Reject", "key_decoder", "value_decoder", "json_loads"]


class Reject(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _no_constants(name):
    raise ValueError("%s is not valid JSON" % name)


# NaN/Infinity are not JSON; accepting them would later make acks the sidecar cannot parse.
_decoder = json.JSONDecoder(parse_constant=_no_constants)
json_loads = _decoder.decode
# The C scanner alone is twice as fast as decode() on small values; decode() is only needed for
# leading/trailing whitespace and for its error messages.
_scan = _decoder.scan_once

_DECIMAL = re.compile(r"-?[0-9]+")


def _reason(where: str, err: ValidationError) -> str:
    # "field 'a.b': ..." for a Record's fields (as users read them), "value[2]: ..." for items of
    # a list/dict value, "key field 'id': ..." for a Record key.
    if not err.path:
        return "%s: %s" % (where, err.message)
    if err.path[0].startswith("["):
        return "%s%s: %s" % (where, format_path(err.path), err.message)
    return str(err) if where == "value" else "%s %s" % (where, err)


def _json_decoder(tp, where: str, bad_json_kind: str, tombstone: typing.Optional[str]):
    """text -> validated value; Records get the fused fast path (scan, then the class builder).

    A null (tombstone) gives None, or a validation reject with the ``tombstone`` reason if given.
    """
    if isinstance(tp, type) and issubclass(tp, Record):
        build = tp._ag_builder()
        name = tp.__name__

        def convert(obj):
            if type(obj) is dict:
                return build(obj)
            raise ValidationError("expected object (%s), got %s" % (name, describe(obj)))
    else:
        build = None
        convert, _ = compile_type(tp)

    def decode(text):
        if text is None:
            if tombstone is None:
                return None
            raise Reject("validation", tombstone)
        try:
            try:
                obj, end = _scan(text, 0)
                if end != len(text):
                    obj = json_loads(text)
            except StopIteration:
                obj = json_loads(text)
        except (ValueError, TypeError) as e:
            raise Reject(bad_json_kind, "%s: invalid JSON: %s" % (where, e)) from None
        except RecursionError:
            raise Reject(bad_json_kind, "%s: invalid JSON: nested too deeply for the JSON reader" % where) from None
        try:
            if build is not None and type(obj) is dict:
                return build(obj)
            return convert(obj)
        except ValidationError as e:
            raise Reject("validation", _reason(where, e)) from None
        except RecursionError:
            raise Reject("validation", "%s: nested too deeply to validate" % where) from None
    return decode


def _utf8(where: str):
    def encode(text):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            raise Reject("decode", "%s is not valid UTF-8" % where) from None
    return encode


def _allows_null(tp) -> bool:
    return tp in (typing.Any, object) or (
        typing.get_origin(tp) in _UNION_TYPES and type(None) in typing.get_args(tp))


def value_decoder(tp) -> typing.Optional[typing.Callable]:
    """A text -> value function, or None when the raw text is the value (value_type=str)."""
    if tp is str:
        return None
    if tp is bytes:
        enc = _utf8("value")
        return lambda text: None if text is None else enc(text)
    if _allows_null(tp):
        return _json_decoder(tp, "value", "decode", None)
    return _json_decoder(tp, "value", "decode",
                         "value: null (a tombstone), but value_type %s does not allow it; "
                         "use Optional[%s] to receive tombstones as None" % (type_name(tp), type_name(tp)))


def key_decoder(tp) -> typing.Optional[typing.Callable]:
    """A text -> key function, or None when the raw text is the key (key_type=str)."""
    if tp is str:
        return None
    if tp is bytes:
        enc = _utf8("key")
        return lambda text: None if text is None else enc(text)
    if tp is int:
        def decode_int(text):
            if text is None:
                return None
            if _DECIMAL.fullmatch(text):
                try:
                    return int(text)
                except ValueError:  # more digits than int() accepts
                    pass
            raise Reject("validation", "key: expected a decimal integer, got %s" % describe(text))
        return decode_int
    if isinstance(tp, type) and issubclass(tp, Record):
        return _json_decoder(tp, "key", "validation", None)
    raise TypeError("unsupported key_type %s: use str, int, bytes or a Record subclass" % type_name(tp))


def check_value_type(tp) -> None:
    """Raise TypeError now for a value_type that can never decode anything. (Records are
    compiled when the whole file is loaded: their annotations may name classes defined later.)"""
    if tp in (str, bytes) or isinstance(tp, type) and issubclass(tp, Record):
        return
    compile_type(tp)  # Records inside (list[Order]...) are compiled lazily, like fields


def check_key_type(tp) -> None:
    if tp in (str, int, bytes) or isinstance(tp, type) and issubclass(tp, Record):
        return
    raise TypeError("unsupported key_type %s: use str, int, bytes or a Record subclass" % type_name(tp))

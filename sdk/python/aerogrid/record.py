"""Typed records decoded from JSON.

A Record subclass declares its fields with class annotations. The first time a class is used its
annotations are compiled into a *field plan* (one converter per field) which is cached on the
class, so decoding a record is a loop over a tuple, not a walk over typing objects.

Converters accept the JSON form of a value and also its Python form (a datetime object, an
instance of a nested Record), so the same code serves JSON decoding and ``Record(...)`` calls.
They never coerce: "3" is not an int, True is not an int, an int is accepted for a float.
"""
from __future__ import annotations

import copy
import datetime as _dt
import re
import sys
import types
import typing

__all__ = ["Record", "ValidationError", "compile_type", "type_name"]

_MISSING = object()
_NONE_TYPE = type(None)


class ValidationError(ValueError):
    """A value does not fit its declared type. ``path`` lists the fields leading to it."""

    def __init__(self, message: str, path: typing.Optional[list] = None):
        super().__init__(message)
        self.message = message
        self.path = path if path is not None else []

    def __str__(self) -> str:
        if self.path:
            return "field '%s': %s" % (format_path(self.path), self.message)
        return self.message


def format_path(parts: list) -> str:
    # Field names are joined with dots; list indexes and dict keys are bracketed: a.b[2].c
    out = ""
    for part in parts:
        if part.startswith("["):
            out += part
        else:
            out += ("." + part) if out else part
    return out


def describe(value) -> str:
    """'str 'ten'' -- the type and a short repr, for error messages."""
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s %s" % (type(value).__name__, text)


def _prefix(err: ValidationError, part: str) -> ValidationError:
    err.path.insert(0, part)
    return err


# ---------------------------------------------------------------- scalar converters


def _conv_str(v):
    if isinstance(v, str):
        return str(v)
    raise ValidationError("expected str, got " + describe(v))


def _conv_int(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return int(v)
    raise ValidationError("expected int, got " + describe(v))


def _conv_float(v):
    if isinstance(v, float):
        return float(v)
    if isinstance(v, int) and not isinstance(v, bool):
        try:
            return float(v)
        except OverflowError:
            raise ValidationError("int too large for float: " + describe(v)) from None
    raise ValidationError("expected float, got " + describe(v))


def _conv_bool(v):
    if v is True or v is False:
        return v
    raise ValidationError("expected bool, got " + describe(v))


def _conv_any(v):
    return v


# ISO-8601 parsed by hand so that every supported Python version accepts the same strings
# (datetime.fromisoformat only learned 'Z' and most ISO forms in 3.11).
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def parse_datetime(text: str) -> _dt.datetime:
    m = _ISO.fullmatch(text)
    if m is None:
        raise ValidationError("expected ISO-8601 datetime, got " + describe(text))
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    if (h is None) and (z or sign):
        raise ValidationError("expected ISO-8601 datetime, got " + describe(text))
    tz = None
    if z:
        tz = _dt.timezone.utc
    elif sign:
        offset = _dt.timedelta(hours=int(oh), minutes=int(om))
        tz = _dt.timezone(-offset if sign == "-" else offset)
    try:
        return _dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                            int((frac or "0")[:6].ljust(6, "0")), tzinfo=tz)
    except ValueError as e:
        raise ValidationError("invalid datetime %r: %s" % (text, e)) from None


def _conv_datetime(v):
    if isinstance(v, _dt.datetime):
        return v
    if isinstance(v, str):
        return parse_datetime(v)
    raise ValidationError("expected ISO-8601 datetime string, got " + describe(v))


_SCALARS = {
    str: (_conv_str, str),
    int: (_conv_int, int),
    float: (_conv_float, float),
    bool: (_conv_bool, bool),
    _dt.datetime: (_conv_datetime, None),
    typing.Any: (_conv_any, None),
    object: (_conv_any, None),
}

_UNION_TYPES: tuple = (typing.Union,)
if sys.version_info >= (3, 10):
    _UNION_TYPES = (typing.Union, types.UnionType)


def _is_routine(obj) -> bool:
    """inspect.isroutine without importing inspect (see app.py): a function, a method, or a
    method descriptor (an object whose type has __get__ but not __set__, other than a class)."""
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return True
    kind = type(obj)
    return not isinstance(obj, type) and hasattr(kind, "__get__") and not hasattr(kind, "__set__")


# ---------------------------------------------------------------- type compilation


def compile_type(tp) -> typing.Tuple[typing.Callable, typing.Optional[type]]:
    """Return (converter, fast_type) for an annotation.

    ``fast_type`` is the exact Python type that JSON decoding produces for values that need no
    conversion (str for str, ...), so the hot loop can skip the converter call; None if any value
    must go through the converter.
    """
    if tp in _SCALARS:
        return _SCALARS[tp]
    if isinstance(tp, type) and issubclass(tp, Record):
        return tp._ag_convert, None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in _UNION_TYPES:
        inner = [a for a in args if a is not _NONE_TYPE]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError("unsupported type %s: only Optional[X] unions are supported" % type_name(tp))
        conv, fast = compile_type(inner[0])
        return _optional(conv), fast
    if tp is list or origin is list:
        item = args[0] if args else typing.Any
        conv, _ = compile_type(item)
        return _list(conv), None
    if tp is dict or origin is dict:
        if args and args[0] is not str:
            raise TypeError("unsupported type %s: dict keys must be str (JSON object keys)" % type_name(tp))
        value = args[1] if args else typing.Any
        conv, _ = compile_type(value)
        return _dict(conv), None
    raise TypeError(
        "unsupported type %s; supported: str, int, float, bool, datetime, Optional[X], "
        "list[X], dict[str, X], a Record subclass, Any" % type_name(tp))


def _optional(conv):
    def convert(v):
        return None if v is None else conv(v)
    return convert


def _list(conv):
    def convert(v):
        if not isinstance(v, (list, tuple)):
            raise ValidationError("expected list, got " + describe(v))
        out = []
        for i, item in enumerate(v):
            try:
                out.append(conv(item))
            except ValidationError as e:
                raise _prefix(e, "[%d]" % i)
        return out
    return convert


def _dict(conv):
    def convert(v):
        if not isinstance(v, dict):
            raise ValidationError("expected object, got " + describe(v))
        out = {}
        for k, item in v.items():
            if not isinstance(k, str):
                raise ValidationError("expected str keys, got key " + describe(k))
            try:
                out[k] = conv(item)
            except ValidationError as e:
                raise _prefix(e, "[%s]" % k)
        return out
    return convert


def type_name(tp) -> str:
    """A short readable name for an annotation: 'int', 'Optional[Order]', 'list[str]'."""
    if tp is typing.Any or tp is object:
        return "any"
    if tp is _dt.datetime:
        return "datetime"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in _UNION_TYPES:
        inner = [a for a in args if a is not _NONE_TYPE]
        if len(inner) == 1 and len(args) == 2:
            return "Optional[%s]" % type_name(inner[0])
        return "Union[%s]" % ", ".join(type_name(a) for a in args)
    if origin is not None:
        base = getattr(origin, "__name__", str(origin))
        return "%s[%s]" % (base, ", ".join(type_name(a) for a in args)) if args else base
    if isinstance(tp, type):
        return tp.__name__
    return str(tp)


# ---------------------------------------------------------------- Record


def _is_mutable_default(value) -> bool:
    return isinstance(value, (list, dict, set, bytearray, Record))


class Record:
    """Base class of typed records. Declare fields as class annotations::

        class Order(aerogrid.Record):
            product: str
            quantity: int = 1
            tags: list[str] = []          # copied per instance
    """

    # The compiled plan lives in each class's own __dict__ (never inherited): a tuple of
    # (name, fast_type, converter, default, copy_default).
    @classmethod
    def _ag_plan(cls) -> tuple:
        plan = cls.__dict__.get("_ag_compiled")
        if plan is None:
            plan = cls._ag_compile()
        return plan

    @classmethod
    def _ag_compile(cls) -> tuple:
        if cls is Record:
            raise TypeError("aerogrid.Record itself has no fields; subclass it")
        try:
            hints = typing.get_type_hints(cls)
        except NameError as e:
            raise NameError("record %s: cannot resolve a field type: %s" % (cls.__name__, e)) from None
        plan = []
        nested = []
        for name, tp in hints.items():
            if typing.get_origin(tp) is typing.ClassVar or tp is typing.ClassVar:
                continue
            try:
                conv, fast = compile_type(tp)
            except TypeError as e:
                raise TypeError("record %s, field '%s': %s" % (cls.__name__, name, e)) from None
            default = getattr(cls, name, _MISSING)
            if _is_routine(default) or isinstance(default, property):
                default = _MISSING  # a method that shares the name is not a default
            if default is _MISSING and _is_optional(tp):
                default = None  # an Optional field may be left out of the JSON
            plan.append((name, fast, conv, default, _is_mutable_default(default)))
            nested.extend(records_in(tp))
        plan_t = tuple(plan)
        type.__setattr__(cls, "_ag_build_fn", _make_builder(cls, plan_t))
        type.__setattr__(cls, "_ag_compiled", plan_t)
        type.__setattr__(cls, "_ag_nested", tuple(nested))
        return plan_t

    @classmethod
    def _ag_check(cls, _seen=None) -> None:
        """Compile this class and every Record it nests, so type errors show at load time."""
        seen = _seen if _seen is not None else set()
        if cls in seen:
            return
        seen.add(cls)
        cls._ag_plan()
        for sub in cls.__dict__["_ag_nested"]:
            sub._ag_check(seen)

    @classmethod
    def _ag_builder(cls) -> typing.Callable:
        """The compiled dict -> record function of this class (see _make_builder)."""
        builder = cls.__dict__.get("_ag_build_fn")
        if builder is None:
            cls._ag_compile()
            builder = cls.__dict__["_ag_build_fn"]
        return builder

    @classmethod
    def _ag_build(cls, data: dict) -> "Record":
        # ``data`` is a dict (e.g. from json.loads); unknown keys are ignored.
        builder = cls.__dict__.get("_ag_build_fn") or cls._ag_builder()
        return builder(data)

    @classmethod
    def _ag_convert(cls, v) -> "Record":
        if type(v) is dict:
            return cls._ag_build(v)
        if isinstance(v, cls):
            return v
        if isinstance(v, dict):
            return cls._ag_build(dict(v))
        raise ValidationError("expected object (%s), got %s" % (cls.__name__, describe(v)))

    def __init__(self, *args, **kwargs):
        plan = type(self)._ag_plan()
        if len(args) > len(plan):
            raise TypeError("%s() takes at most %d positional arguments (%d given)"
                            % (type(self).__name__, len(plan), len(args)))
        for (name, *_), value in zip(plan, args):
            if name in kwargs:
                raise TypeError("%s() got multiple values for field '%s'" % (type(self).__name__, name))
            kwargs[name] = value
        known = {p[0] for p in plan}
        for name in kwargs:
            if name not in known:
                raise TypeError("%s() got an unexpected field '%s'" % (type(self).__name__, name))
        self.__dict__.update(type(self)._ag_build(kwargs).__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> "Record":
        """Validate a dict (e.g. parsed JSON) into a record; raises ValidationError."""
        if not isinstance(data, dict):
            raise ValidationError("expected object (%s), got %s" % (cls.__name__, describe(data)))
        return cls._ag_build(data)

    def to_dict(self) -> dict:
        """The record as JSON-ready data (nested records as dicts, datetimes as ISO strings)."""
        return {name: to_json(self.__dict__.get(name)) for name, *_ in type(self)._ag_plan()}

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # records are mutable

    def __repr__(self) -> str:
        fields = ", ".join("%s=%r" % (name, self.__dict__.get(name)) for name, *_ in type(self)._ag_plan())
        return "%s(%s)" % (type(self).__name__, fields)


def _slow_field(entry: tuple, v):
    """A field value that is not of its fast type: missing (default?), or to be converted."""
    name, _fast, conv, default, copy_default = entry
    if v is _MISSING:
        if default is _MISSING:
            raise ValidationError("required field is missing", [name])
        return copy.deepcopy(default) if copy_default else default
    try:
        return conv(v)
    except ValidationError as e:
        raise _prefix(e, name)


def _make_builder(cls, plan: tuple) -> typing.Callable:
    """Generate straight-line code for one class: decoding a record is the hot path.

    For ``product: str; quantity: int`` it reads:

        def build(data):
            try:
                v0 = data['product']
            except KeyError:
                v0 = MISSING
            if type(v0) is not fast0: v0 = slow(e0, v0)
            ...  (the same for v1, 'quantity')
            obj = new(cls)
            obj.product = v0
            obj.quantity = v1
            return obj

    (A subscript in try/except is cheaper than dict.get; plain attribute stores are the fastest
    way to fill an instance, and a class with its own __setattr__ or a descriptor named like a
    field gets its __dict__ filled instead.)
    """
    ns = {"MISSING": _MISSING, "slow": _slow_field, "new": object.__new__, "cls": cls}
    plain = cls.__setattr__ is object.__setattr__ and not any(
        hasattr(getattr(cls, e[0], None), "__set__") for e in plan)
    body = ["def build(data):"]
    for i, entry in enumerate(plan):
        ns["e%d" % i] = entry
        ns["fast%d" % i] = entry[1]
        body.append("    try:")
        body.append("        v%d = data[%r]" % (i, entry[0]))
        body.append("    except KeyError:")
        body.append("        v%d = MISSING" % i)
        body.append("    if type(v%d) is not fast%d: v%d = slow(e%d, v%d)" % (i, i, i, i, i))
    body.append("    obj = new(cls)")
    if not plain:
        body.append("    d = obj.__dict__")
    for i, entry in enumerate(plan):
        body.append(("    obj.%s = v%d" if plain else "    d[%r] = v%d") % (entry[0], i))
    body.append("    return obj")
    exec(compile("\n".join(body), "<aerogrid record %s>" % cls.__qualname__, "exec"), ns)
    return ns["build"]


def _is_optional(tp) -> bool:
    return typing.get_origin(tp) in _UNION_TYPES and _NONE_TYPE in typing.get_args(tp)


def records_in(tp) -> list:
    if isinstance(tp, type) and issubclass(tp, Record):
        return [tp]
    out = []
    for arg in typing.get_args(tp):
        out.extend(records_in(arg))
    return out


def to_json(v):
    """Python values to JSON-ready data: Records to dicts, datetimes to ISO strings."""
    if isinstance(v, Record):
        return v.to_dict()
    if isinstance(v, _dt.datetime):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    return v

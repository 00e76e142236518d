"""Grids: keyed tables with declared columns, the state a connector keeps and Excel shows.

Rows are stored as complete dicts (every declared column) and are never mutated in place: a write
stores a new dict. That makes reads safe to hand out as shallow copies and lets the runtime put
stored rows straight into an ack. Every write or delete is remembered per key until the runtime
takes the changes after a batch, which gives the batch's net deltas (last value per key).
"""
from __future__ import annotations

import copy
import datetime as _dt
import json
from collections.abc import Mapping

from . import names
from .record import Record, to_json

__all__ = ["Grid", "GridError", "MAX_CELL_DEPTH"]

_MISSING = object()
_SCALARS = frozenset((str, int, bool, type(None)))
# JSON readers on the way to clients (the sidecar, browsers, Excel) hold numbers as doubles: an
# integer beyond this comes back rounded (2**70 as 1.18e+21), so it is refused at the write.
_MAX_EXACT_INT = 2 ** 53 - 1
# Lists and dicts in a cell nest at most this deep: every reader on the way (the ack's encoder, the
# sidecar, the restore, Excel) must handle the value, and a self-containing list never ends.
MAX_CELL_DEPTH = 32


class GridError(ValueError):
    """A write that a grid cannot store (undeclared column, a value Excel cannot show...)."""


def _key(key) -> str:
    # Keys are strings on the wire; None or bytes would become 'None' / "b'..'" rows, so refuse them.
    if key is None or isinstance(key, (bytes, bytearray)):
        raise TypeError("grid key must be a str (or anything with a meaningful str()), got %r" % (key,))
    return str(key)


class Grid:
    """A keyed table: ``grid[key]`` reads a copy of a row, ``grid[key] = {...}`` upserts it."""

    def __init__(self, name: str, columns, default=None):
        self.name = names.grid_name(name)
        if isinstance(columns, str) or not isinstance(columns, (list, tuple)):
            raise TypeError("grid '%s': columns must be a list of column names" % name)
        if not columns:
            raise ValueError("grid '%s': declare at least one column" % name)
        for c in columns:
            if not isinstance(c, str) or not c:
                raise TypeError("grid '%s': column names must be non-empty str, got %r" % (name, c))
        if len(set(columns)) != len(columns):
            raise ValueError("grid '%s': duplicate column names in %r" % (name, list(columns)))
        if default is not None and not callable(default):
            raise TypeError("grid '%s': default must be a callable returning a row (e.g. lambda: {...})" % name)
        self.columns = tuple(columns)
        self._colset = frozenset(columns)
        self._ncols = len(self.columns)
        self._default = default
        self._rows: dict = {}
        self._changes: dict = {}  # key -> stored row, or None for a delete
        self._nested = False  # True once a cell holds a list/dict: reads must deep-copy
        # The largest row the sidecar can commit (bytes of its changelog record), from its welcome.
        self._max_row_bytes = None

    # ------------------------------------------------------------ reading

    def __getitem__(self, key) -> dict:
        row = self._rows.get(key if type(key) is str else _key(key))
        if row is None:
            if self._default is None:
                raise KeyError(key)
            return self._default_row()
        return copy.deepcopy(row) if self._nested else row.copy()

    def get(self, key, default=None):
        row = self._rows.get(key if type(key) is str else _key(key))
        if row is None:
            return default
        return copy.deepcopy(row) if self._nested else row.copy()

    def __contains__(self, key) -> bool:
        return (key if type(key) is str else _key(key)) in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self):
        # Over a snapshot of the keys, so a handler may write while it iterates.
        return iter(list(self._rows))

    def keys(self) -> list:
        return list(self._rows)

    def values(self) -> list:
        return [self._copy(row) for row in self._rows.values()]

    def items(self) -> list:
        return [(k, self._copy(row)) for k, row in self._rows.items()]

    def _copy(self, row: dict) -> dict:
        return copy.deepcopy(row) if self._nested else row.copy()

    def _default_row(self) -> dict:
        made = self._default()
        if type(made) is dict and len(made) == self._ncols:
            # The usual default: a dict of scalars with every column. Copied, in case it is shared.
            row = {}
            for c in self.columns:
                v = made.get(c, _MISSING)
                if type(v) not in _SCALARS:
                    break
                row[c] = v
            else:
                return row
        if not isinstance(made, Mapping):
            raise TypeError("grid '%s': default() must return a dict, got %s" % (self.name, type(made).__name__))
        return self._complete(made, None)

    # ------------------------------------------------------------ writing

    def __setitem__(self, key, row) -> None:
        k = key if type(key) is str else _key(key)
        if type(row) is dict and len(row) == self._ncols:
            # Fast path: exactly the declared columns, values JSON has natively.
            stored = {}
            text = len(k)  # characters of text in the row: only text can make a row large
            for c in self.columns:
                v = row.get(c, _MISSING)
                t = type(v)
                if t is str:
                    text += len(v)
                    stored[c] = v
                elif (t is int and -_MAX_EXACT_INT <= v <= _MAX_EXACT_INT) or v is None or t is bool or (t is float and v - v == 0):
                    stored[c] = v
                else:
                    break
            else:
                cap = self._max_row_bytes
                # A character takes at most 6 bytes in JSON; the exact size only for rows near the cap.
                if cap is not None and 6 * text + 32 * self._ncols > cap:
                    self._check_size(k, stored)
                self._rows[k] = stored
                self._changes[k] = stored
                return
        stored = self._checked_row(row)
        if self._max_row_bytes is not None:
            self._check_size(k, stored)
        self._rows[k] = stored
        self._changes[k] = stored

    def _check_size(self, key: str, row: dict) -> None:
        """Refuses a row the sidecar could not commit: the record that wrote it is dead-lettered."""
        size = (len(json.dumps([self.name, key], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
                + len(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + 32)
        if size > self._max_row_bytes:
            raise GridError("grid '%s': the row for key %r is %d bytes, more than the %d bytes a row may "
                            "have (the changelog topic's max.message.bytes); store less in one row, or "
                            "split it over several keys" % (self.name, key[:80], size, self._max_row_bytes))

    def _checked_row(self, row) -> dict:
        if not isinstance(row, Mapping):
            raise GridError("grid '%s': a row must be a dict of column -> value, got %s"
                            % (self.name, type(row).__name__))
        given = {}
        for c, v in row.items():
            if c not in self._colset:
                raise GridError("grid '%s' has no column %r; its columns are %s"
                                % (self.name, c, ", ".join(self.columns)))
            given[c] = self._cell(c, v)
        if len(given) == self._ncols:
            return {c: given[c] for c in self.columns}
        return self._complete(given, self._default() if self._default else None)

    def __delitem__(self, key) -> None:
        k = key if type(key) is str else _key(key)
        try:
            del self._rows[k]
        except KeyError:
            raise KeyError(key) from None
        self._changes[k] = None

    def pop(self, key, *default):
        k = key if type(key) is str else _key(key)
        if k not in self._rows:
            if default:
                return default[0]
            raise KeyError(key)
        row = self._rows.pop(k)
        self._changes[k] = None
        return row  # stored rows are never mutated, so the removed one can be handed out

    def clear(self) -> None:
        for k in self._rows:
            self._changes[k] = None
        self._rows.clear()

    def _complete(self, row, fill) -> dict:
        """Every declared column in declared order; missing ones from ``fill`` (default()) or None."""
        for c in row:
            if c not in self._colset:
                raise GridError("grid '%s' has no column %r; its columns are %s"
                                % (self.name, c, ", ".join(self.columns)))
        if fill is not None and not isinstance(fill, Mapping):
            raise TypeError("grid '%s': default() must return a dict, got %s" % (self.name, type(fill).__name__))
        out = {}
        for c in self.columns:
            if c in row:
                v = row[c]
            elif fill is not None and c in fill:
                v = fill[c]
            else:
                v = None
            out[c] = self._cell(c, v)
        return out

    def _cell(self, column: str, v, depth: int = 0):
        """A value as it will travel to Excel: JSON data only, with a clear error otherwise."""
        t = type(v)
        if v is None or t is str or t is bool:
            return v
        if t is int:
            if -_MAX_EXACT_INT <= v <= _MAX_EXACT_INT:
                return v
            raise GridError("grid '%s' column '%s': the integer %d is beyond what JSON readers keep exact "
                            "(-(2**53 - 1) to 2**53 - 1); store it as a str, or as a float if rounding is fine"
                            % (self.name, column, v))
        if t is float:
            if v - v == 0:
                return v
            raise GridError("grid '%s' column '%s': %r cannot be sent to Excel (JSON has no NaN or "
                            "Infinity); store None or a number" % (self.name, column, v))
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, int):
            return self._cell(column, int(v))
        if isinstance(v, float):
            return self._cell(column, float(v))
        if isinstance(v, str):
            return str(v)
        if isinstance(v, _dt.datetime):
            return v.isoformat()
        if isinstance(v, Record):
            v = to_json(v)
        if isinstance(v, (list, tuple, Mapping)) and depth >= MAX_CELL_DEPTH:
            raise GridError("grid '%s' column '%s': lists and dicts nested more than %d levels deep cannot be "
                            "stored; flatten the value or store it as a str" % (self.name, column, MAX_CELL_DEPTH))
        if isinstance(v, (list, tuple)):
            self._nested = True
            return [self._cell(column, x, depth + 1) for x in v]
        if isinstance(v, Mapping):
            self._nested = True
            out = {}
            for k, x in v.items():
                if not isinstance(k, str):
                    raise GridError("grid '%s' column '%s': dict keys must be str, got %r" % (self.name, column, k))
                out[k] = self._cell(column, x, depth + 1)
            return out
        raise GridError("grid '%s' column '%s': cannot store a %s; use str, int, float, bool, None, "
                        "datetime, a list or a dict of those" % (self.name, column, t.__name__))

    # ------------------------------------------------------------ runtime side

    def _load(self, rows) -> None:
        """Replace the content with a snapshot, recording no changes.

        Columns the app no longer declares are dropped; newly declared ones are filled from
        default() (or None), so a restarted app with an edited column list keeps working.
        """
        self._rows = {}
        self._changes = {}
        if not rows:
            return
        if not isinstance(rows, Mapping):
            raise TypeError("snapshot of grid '%s' must be an object of key -> row" % self.name)
        fill = self._default() if self._default else None
        for k, row in rows.items():
            if not isinstance(row, Mapping):
                raise TypeError("snapshot of grid '%s', key %r: row must be an object" % (self.name, k))
            kept = {c: v for c, v in row.items() if c in self._colset}
            self._rows[_key(k)] = self._complete(kept, fill)

    def _apply_committed(self, key: str, row) -> None:
        """A row another instance committed (or None: deleted), recording no change."""
        if row is None:
            self._rows.pop(key, None)
            return
        if not isinstance(row, Mapping):
            raise TypeError("rows of grid '%s', key %r: row must be an object" % (self.name, key))
        kept = {c: v for c, v in row.items() if c in self._colset}
        self._rows[key] = self._complete(kept, self._default() if self._default else None)

    def _take_changes(self) -> dict:
        changes = self._changes
        self._changes = {}
        return changes

    def to_dict(self) -> dict:
        """A deep copy of the whole grid: key -> row."""
        return {k: copy.deepcopy(row) for k, row in self._rows.items()}

    def __repr__(self) -> str:
        return "<Grid %r columns=%r rows=%d>" % (self.name, list(self.columns), len(self._rows))

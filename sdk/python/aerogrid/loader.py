"""Loading a connector file: run it as a fresh module with BROKER_URI in its globals.

The file runs like a script, with two differences: ``BROKER_URI`` is predefined in its globals,
and ``__name__`` is ``'__aerogrid_app__'`` (not ``'__main__'``), so an
``if __name__ == '__main__':`` block meant for running the file by hand is skipped. The module is
registered in sys.modules so that ``typing.get_type_hints`` resolves string annotations
(``from __future__ import annotations``) against the file's globals.
"""
from __future__ import annotations

import itertools
import os
import sys
import types

from . import app as _app

__all__ = ["UserCodeError", "load", "DEFAULT_BROKER"]

DEFAULT_BROKER = "127.0.0.1:19092"
_counter = itertools.count(1)


class UserCodeError(Exception):
    """The connector file cannot be loaded (syntax error, exception at module level, no App...).

    ``str(err)`` is a message for the user that starts with ``file:line:`` when a line is known.
    """

    def __init__(self, message: str, filename: str = None, lineno: int = None, details: str = ""):
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.details = details  # a traceback or source excerpt, for the long form

    def __str__(self):
        return self.message

    def report(self) -> str:
        return self.message + ("\n" + self.details.rstrip("\n") if self.details else "")


def default_broker() -> str:
    return os.environ.get("AEROGRID_BROKER") or DEFAULT_BROKER


class LoadedApp:
    def __init__(self, app, module, path, sys_path_entry):
        self.app = app
        self.module = module
        self.path = path
        self._sys_path_entry = sys_path_entry

    def unload(self) -> None:
        """Forget the module (the harness loads many apps in one process)."""
        sys.modules.pop(self.module.__name__, None)
        try:
            sys.path.remove(self._sys_path_entry)
        except ValueError:
            pass


def load(path: str, broker: str = None) -> LoadedApp:
    shown = path  # messages name the file as the user gave it
    real = os.path.abspath(path)
    try:
        with open(real, "rb") as f:
            source = f.read()
    except OSError as e:
        raise UserCodeError("%s: cannot read the connector file: %s" % (shown, e.strerror or e), shown) from None
    try:
        code = compile(source, real, "exec", dont_inherit=True)
    except SyntaxError as e:
        line = (e.text or "").rstrip("\n")
        excerpt = ""
        if line.strip():
            indent = len(line) - len(line.lstrip())
            excerpt = "    %s\n    %s^" % (line.strip(), " " * max((e.offset or 1) - 1 - indent, 0))
        raise UserCodeError("%s:%s: %s: %s" % (shown, e.lineno, type(e).__name__, e.msg),
                            shown, e.lineno, excerpt) from None
    except ValueError as e:  # e.g. null bytes in the source
        raise UserCodeError("%s: %s" % (shown, e), shown) from None

    n = next(_counter)
    name = "__aerogrid_app__" if n == 1 else "__aerogrid_app_%d__" % n
    module = types.ModuleType(name)
    module.__file__ = real
    module.__dict__["BROKER_URI"] = broker if broker is not None else default_broker()
    folder = os.path.dirname(real)
    sys.path.insert(0, folder)  # the file may import modules next to it, as a script could
    sys.modules[name] = module
    loaded = LoadedApp(None, module, real, folder)
    outer, _app._created = _app._created, []
    try:
        try:
            exec(code, module.__dict__)
        except (Exception, SystemExit) as e:
            raise _module_error(e, shown, real) from None
        finally:
            apps, _app._created = _app._created, outer
        if not apps:
            raise UserCodeError("%s: no aerogrid.App is created; add e.g. app = aerogrid.App('myapp', broker=BROKER_URI)"
                                % shown, shown)
        if len(apps) > 1:
            raise UserCodeError("%s: %d aerogrid.App objects are created; a connector file holds exactly one"
                                % (shown, len(apps)), shown)
        loaded.app = apps[0]
        _check_types(loaded.app, shown, real)
    except BaseException:
        loaded.unload()
        raise
    return loaded


def _module_error(e: BaseException, shown: str, real: str) -> UserCodeError:
    # Point at the deepest line of the user's file in the traceback (an error raised inside the
    # SDK, e.g. a bad app name, is reported at the user's line that called it).
    lineno = None
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == real:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(e, SystemExit):
        what = "SystemExit(%r) while loading the connector" % (e.code,)
    else:
        what = "%s: %s" % (type(e).__name__, e)
    import traceback  # here, not at the top: only a failing load needs it

    details = "".join(traceback.format_exception(type(e), e, e.__traceback__.tb_next if e.__traceback__ else None))
    where = "%s:%s" % (shown, lineno) if lineno else shown
    return UserCodeError("%s: %s" % (where, what), shown, lineno, details)


def _check_types(app, shown: str, real: str) -> None:
    """Compile every Record a topic uses now, so a bad annotation fails the load, not a batch."""
    for topic in app.topics.values():
        for rec in topic.records():
            try:
                rec._ag_check()
            except (TypeError, NameError) as e:
                filename, lineno = topic.declared_at
                where = "%s:%s" % (shown, lineno) if filename == real else shown
                raise UserCodeError("%s: %s: %s" % (where, type(e).__name__, e), shown,
                                    lineno if filename == real else None) from None

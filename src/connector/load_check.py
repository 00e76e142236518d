"""Loads a connector file as the testing harness does and says, as JSON, why it does not load.

Usage: python3 load_check.py <file>   (with the aerogrid SDK on PYTHONPATH)

Output: {"ok": true} or {"ok": false, "message": "app.py:8: NameError: ...", "line": 8,
         "source": "    price: flaot", "hint": "did you mean 'float'? ..." | null}
`aerogrid test` runs it before pytest: when the app itself cannot load, every test would fail
with the same traceback through the SDK's loader, so the cause, with its file and line, is said
once instead. What the app prints while loading goes to stderr; nothing is written.
"""
import ast
import builtins
import json
import re
import sys

sys.dont_write_bytecode = True

from inspect_app import bound_names, inspect, suggestion_for  # noqa: E402  (this folder)


def hint_for(path, error):
    """A did-you-mean for the error: the static check's for a Record field, else the closest name."""
    for problem in inspect(path)["typeProblems"]:
        if problem["line"] == error.lineno:
            return problem["hint"]
    m = re.search(r"NameError: name '(\w+)' is not defined", error.message)
    if not m:
        return None
    try:
        with open(path, "rb") as f:
            known = (bound_names(ast.parse(f.read())) or set()) | set(dir(builtins))
    except (OSError, SyntaxError, ValueError):
        return None
    guess = suggestion_for(m.group(1), known)
    return "did you mean '%s'?" % guess if guess else None


def main(path):
    from aerogrid.loader import UserCodeError, load
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        load(path).unload()
        result = {"ok": True}
    except UserCodeError as e:
        source = None
        if e.lineno:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    source = f.read().splitlines()[e.lineno - 1]
            except (OSError, IndexError):
                source = None
        result = {"ok": False, "message": e.message, "line": e.lineno, "source": source, "hint": hint_for(path, e)}
    finally:
        sys.stdout = real_stdout
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])

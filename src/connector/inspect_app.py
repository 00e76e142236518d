"""Reads a connector's Python file without running it and prints what it declares, as JSON.

Usage: python3 inspect_app.py <file>

Output: {"syntaxError": null | {line, column, message},
         "apps":   [{name, line, column}],
         "topics": [{name, line, column}],
         "grids":  [{name, columns, line, column}],
         "streams": [{line, column}],
         "importsAerogrid": bool,
         "typeProblems": [{line, column, endColumn, message, hint}]}
A name (or columns) that is not a literal the reader can resolve is null. typeProblems are the
annotations of Record fields that name nothing the module defines, imports or Python has built in
(the SDK would fail at load with a NameError), each with a did-you-mean. Nothing is executed and
nothing is written (compile() only; no bytecode cache).
"""
import ast
import builtins
import difflib
import json
import sys

# What people from other languages write for a Python type, and the type they mean.
TYPE_ALIASES = {
    "string": "str", "String": "str", "text": "str", "integer": "int", "long": "int", "Integer": "int",
    "double": "float", "number": "float", "decimal": "float", "Float": "float", "boolean": "bool",
    "Boolean": "bool", "Bool": "bool", "array": "list", "List": "list", "map": "dict", "object": "dict",
    "Dict": "dict", "timestamp": "datetime", "date": "datetime",
}
# The field types a Record takes (docs/spec.md): the first candidates for a did-you-mean.
RECORD_TYPES = ["str", "int", "float", "bool", "list", "dict", "datetime", "Optional"]


def literal_str(node, constants):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(constants.get(node.id), str):
        return constants[node.id]
    return None


def literal_str_list(node, constants):
    if isinstance(node, ast.Name) and node.id in constants and isinstance(constants[node.id], list):
        return constants[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        out = []
        for elt in node.elts:
            s = literal_str(elt, constants)
            if s is None:
                return None
            out.append(s)
        return out
    return None


def first_arg(call, keyword):
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return None


def keyword_arg(call, keyword):
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return None


def where(call, arg):
    """The name argument's position when there is one (else the call's), 1-based columns."""
    node = arg if arg is not None else call
    loc = {"line": node.lineno, "column": node.col_offset + 1}
    if getattr(node, "end_lineno", None) == node.lineno and getattr(node, "end_col_offset", None) is not None:
        loc["endColumn"] = node.end_col_offset + 1
    return loc


def bound_names(tree):
    """Every name the module binds anywhere (imports, classes, functions, assignments); None after `import *`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def suggestion_for(name, known):
    if name in TYPE_ALIASES:
        return TYPE_ALIASES[name]
    for pool in (RECORD_TYPES, sorted(known)):
        found = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        if found:
            return found[0]
    return None


def unknown_names(annotation, known):
    """(name, node) for each name in an annotation that resolves to nothing; string annotations too."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            inner = ast.parse(annotation.value.strip(), mode="eval").body
        except SyntaxError:
            return []
        # Positions inside the string are relative to it: report at the string itself.
        return [(name, annotation) for name, _ in unknown_names(inner, known)]
    if isinstance(annotation, ast.Name):
        return [] if annotation.id in known else [(annotation.id, annotation)]
    if isinstance(annotation, ast.Attribute):
        return unknown_names(annotation.value, known)
    out = []
    for child in ast.iter_child_nodes(annotation):
        if isinstance(child, ast.expr):
            out.extend(unknown_names(child, known))
    return out


def record_type_problems(tree, module_aliases, record_names):
    """Record fields whose annotation names an undefined type, e.g. `price: flaot`."""
    bound = bound_names(tree)
    if bound is None:
        return []
    known = bound | set(dir(builtins))
    records = set()
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        def is_record(base):
            if isinstance(base, ast.Attribute) and base.attr == "Record" and isinstance(base.value, ast.Name):
                return base.value.id in module_aliases
            return isinstance(base, ast.Name) and (base.id in record_names or base.id in records)
        if not any(is_record(b) for b in node.bases):
            continue
        records.add(node.name)
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            for name, at in unknown_names(stmt.annotation, known):
                guess = suggestion_for(name, known - set(dir(builtins)) | {"str", "int", "float", "bool", "list", "dict"})
                if guess == "datetime" and "datetime" not in known:
                    hint = "did you mean 'datetime'? Import it first: `from datetime import datetime`"
                elif guess:
                    hint = "did you mean '%s'? Write `%s: %s`" % (guess, stmt.target.id, ast.unparse(stmt.annotation).replace(name, guess, 1).strip("'\""))
                else:
                    hint = "use a type Python knows (str, int, float, bool, datetime, Optional[...], list, dict, or a Record class of this file), or import it"
                loc = {"line": at.lineno, "column": at.col_offset + 1}
                if getattr(at, "end_lineno", None) == at.lineno:
                    loc["endColumn"] = at.end_col_offset + 1
                problems.append(dict(loc, message="field '%s' of Record %s has type '%s', which is not defined (loading the app would fail with NameError)" % (stmt.target.id, node.name, name), hint=hint))
    return problems


def inspect(path):
    out = {"syntaxError": None, "apps": [], "topics": [], "grids": [], "streams": [], "importsAerogrid": False, "typeProblems": []}
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        out["syntaxError"] = {"line": 1, "column": 1, "message": "cannot read the file: %s" % e.strerror}
        return out
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as e:
        line = source[: e.start].count(b"\n") + 1
        out["syntaxError"] = {"line": line, "column": 1, "message": "the file is not UTF-8 text (byte 0x%02x)" % source[e.start]}
        return out
    try:
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        compile(tree, path, "exec", dont_inherit=True)  # the checks that only code generation makes
    except SyntaxError as e:
        message = e.msg
        text = (e.text or "").rstrip("\n")
        column = e.offset or 1
        if isinstance(e, IndentationError):
            if "indent" not in message:
                message = "indentation error: " + message
            if text.strip():
                # Point at the first character of the line (Python's offset varies by version).
                column = len(text) - len(text.lstrip()) + 1
        out["syntaxError"] = {"line": e.lineno or 1, "column": column, "message": message, "text": text}
        return out
    except ValueError as e:  # e.g. NUL bytes on older Pythons
        out["syntaxError"] = {"line": 1, "column": 1, "message": str(e)}
        return out

    # Module-level constants (NAME = 'x' / NAME = ['a', 'b']) so that names given through them resolve.
    constants = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            value = stmt.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                constants[stmt.targets[0].id] = value.value
            elif isinstance(value, (ast.List, ast.Tuple)):
                items = literal_str_list(value, {})
                if items is not None:
                    constants[stmt.targets[0].id] = items

    module_aliases = set()   # names bound to the aerogrid module
    app_class_names = set()  # names bound to aerogrid.App
    record_names = set()     # names bound to aerogrid.Record
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "aerogrid":
                    module_aliases.add(alias.asname or "aerogrid")
                    out["importsAerogrid"] = True
        elif isinstance(node, ast.ImportFrom) and node.module == "aerogrid":
            out["importsAerogrid"] = True
            for alias in node.names:
                if alias.name == "App":
                    app_class_names.add(alias.asname or "App")
                elif alias.name == "Record":
                    record_names.add(alias.asname or "Record")

    def is_app_ctor(func):
        if isinstance(func, ast.Attribute) and func.attr == "App" and isinstance(func.value, ast.Name):
            return func.value.id in module_aliases
        return isinstance(func, ast.Name) and func.id in app_class_names

    app_vars = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and is_app_ctor(node.func):
            arg = first_arg(node, "name")
            out["apps"].append(dict(name=literal_str(arg, constants) if arg is not None else None, **where(node, arg)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and is_app_ctor(node.value.func):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    app_vars.add(target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call) and is_app_ctor(node.value.func) and isinstance(node.target, ast.Name):
            app_vars.add(node.target.id)

    def app_method(func, names):
        return (isinstance(func, ast.Attribute) and func.attr in names and isinstance(func.value, ast.Name)
                and func.value.id in app_vars)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if app_method(node.func, ("topic",)):
            arg = first_arg(node, "name")
            out["topics"].append(dict(name=literal_str(arg, constants) if arg is not None else None, **where(node, arg)))
        elif app_method(node.func, ("Grid",)):
            arg = first_arg(node, "name")
            cols = keyword_arg(node, "columns")
            if cols is None and len(node.args) > 1:
                cols = node.args[1]
            out["grids"].append(dict(name=literal_str(arg, constants) if arg is not None else None,
                                     columns=literal_str_list(cols, constants) if cols is not None else None,
                                     **where(node, arg)))
        elif app_method(node.func, ("stream",)):
            out["streams"].append(where(node, None))
    out["typeProblems"] = record_type_problems(tree, module_aliases, record_names)
    out["columnProblems"] = undeclared_column_writes(tree, app_method, constants)
    return out


def undeclared_column_writes(tree, app_method, constants):
    """`grid[key] = {'col': ...}` with a literal column that the grid (a module-level
    `grid = app.Grid('name', columns=[...])` with literal columns) does not declare: the SDK
    refuses that write when it runs; this finds it at its line beforehand."""
    grids = {}
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call) and app_method(stmt.value.func, ("Grid",))):
            call = stmt.value
            name = first_arg(call, "name")
            cols = keyword_arg(call, "columns")
            if cols is None and len(call.args) > 1:
                cols = call.args[1]
            columns = literal_str_list(cols, constants) if cols is not None else None
            if columns is not None:
                grids[stmt.targets[0].id] = (literal_str(name, constants) if name is not None else None, columns)
    # A name bound more than once may hold something else where it is written to: not checked.
    stores = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Dict):
            continue
        for target in node.targets:
            if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                    and target.value.id in grids and stores.get(target.value.id) == 1):
                continue
            grid, columns = grids[target.value.id]
            for key in node.value.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value not in columns:
                    guess = difflib.get_close_matches(key.value, columns, n=1, cutoff=0.6)
                    problems.append(dict(grid=grid or target.value.id, name=key.value, columns=columns,
                                         suggestion=guess[0] if guess else None, **where(key, key)))
    return problems


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    json.dump(inspect(sys.argv[1]), sys.stdout)
    sys.stdout.write("\n")

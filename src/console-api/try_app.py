"""Runs a connector on sample records offline, with the SDK's test harness, and prints the outcome.

Usage: python3 try_app.py APP.py   (the aerogrid SDK on PYTHONPATH; the records as JSON on stdin:
       {"topic": "orders", "records": [{"key": "o-1" | null, "value": "<the record's text>"}]})

Output (stdout, one JSON object): {"ok": true, "processed": 3, "grids": {grid: {"columns": [...], "rows": {key: row}}},
"rejected": [{topic, partition, offset, kind, reason}], "logs": [[level, message]]}, or
{"ok": false, "error": {"code": "load_failed" | "bad_input", "message": ..., "line": ..., "column": ...}}
(line and column, 1-based, in APP.py: where the SyntaxError is, or the deepest line of APP.py in
the traceback of an exception raised while it loads).
What the app prints goes to stderr. The directory runs this inside the same sandbox as a deployed
app (src/console-api/try-run.ts): nothing here reaches Kafka, a sidecar or the server's files.
"""
import json
import sys

sys.dont_write_bytecode = True


def main(path):
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        result = run(path, json.load(sys.stdin))
    finally:
        sys.stdout = real_stdout
    json.dump(result, sys.stdout, default=str)
    sys.stdout.write("\n")


def run(path, request):
    from aerogrid.testing import UserCodeError, load_app
    try:
        harness = load_app(path)
    except UserCodeError as e:
        error = {"code": "load_failed", "message": e.message, "line": e.lineno}
        if e.lineno:
            error["column"] = _column(e, path)
        return {"ok": False, "error": error}
    with harness as h:
        topic = request.get("topic") or (next(iter(h.app.topics)) if h.app.topics else None)
        if topic not in h.app.topics:
            return {"ok": False, "error": {"code": "bad_input", "message": "topic %r is not one app %r reads; it reads: %s"
                                           % (topic, h.app.name, ", ".join(h.app.topics) or "nothing")}}
        for record in request["records"]:
            h.send(topic, record["value"], key=record.get("key"))
        h.run()
        return {
            "ok": True,
            "topic": topic,
            "processed": h.processed,
            "grids": {name: {"columns": list(grid.columns), "rows": h.grid(name)} for name, grid in h.app.grids.items()},
            "rejected": h.rejected,
            "logs": h.logs,
        }


def _column(error, path):
    """The 1-based column of a load failure at error.lineno: the SyntaxError's offset, or the start
    of the failing expression (Python 3.11+ knows it) in the deepest frame of the app's file."""
    import os
    import traceback
    cause = error.__context__  # the SDK raises UserCodeError "from None": the context is kept
    if isinstance(cause, SyntaxError):
        return cause.offset or 1
    if cause is not None and cause.__traceback__ is not None:
        real = os.path.abspath(path)
        column = None
        for frame in traceback.extract_tb(cause.__traceback__):
            if frame.filename == real and frame.lineno == error.lineno:
                column = getattr(frame, "colno", None)
        if column is not None:
            return column + 1
    return 1


if __name__ == "__main__":
    main(sys.argv[1])

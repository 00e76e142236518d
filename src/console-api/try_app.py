"""Runs a connector on sample records offline, with the SDK's test harness, and prints the outcome.

Usage: python3 try_app.py APP.py   (the aerogrid SDK on PYTHONPATH; the records as JSON on stdin:
       {"topic": "orders", "records": [{"key": "o-1" | null, "value": "<the record's text>"}]})

Output (stdout, one JSON object): {"ok": true, "processed": 3, "grids": {grid: {"columns": [...], "rows": {key: row}}},
"rejected": [{topic, partition, offset, kind, reason}], "logs": [[level, message]]}, or
{"ok": false, "error": {"code": "load_failed" | "bad_input", "message": ..., "line": ...}}.
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
        return {"ok": False, "error": {"code": "load_failed", "message": e.message, "line": e.lineno}}
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


if __name__ == "__main__":
    main(sys.argv[1])

"""Runtime throughput: a local TCP server plays the sidecar and feeds the seed app.

    python bench_runtime.py [--batches 400] [--batch-size 500] [--in-flight 4]

Starts ``python -m aerogrid run`` on the seed connector, sends pre-encoded batches (at most
``--in-flight`` unacked, like the sidecar), checks the final sums from the acks' deltas and
prints {"records_per_s": ...} as JSON. Time runs from the first batch sent to the last ack;
records_per_runtime_cpu_s divides by the runtime process's own CPU time instead.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The seed connector, verbatim (the same file the SDK's tests run).
SEED_APP_PATH = os.path.join(HERE, 'tests', 'apps', 'ordersapp.py')


def make_batches(n_batches: int, size: int, products: int, seed: int = 7):
    rnd = random.Random(seed)
    names = ["Product %d: a book with a longish title" % i for i in range(products)]
    expected = {}
    lines = []
    offset = 0
    for b in range(n_batches):
        records = []
        for _ in range(size):
            product = names[rnd.randrange(products)]
            qty = rnd.randrange(1, 500)
            expected[product] = expected.get(product, 0) + qty
            records.append({"topic": "orders", "partition": offset % 3, "offset": str(offset),
                            "timestamp": 1732300000000 + offset, "key": "order-%d" % offset,
                            "value": json.dumps({"product": product, "quantity": qty})})
            offset += 1
        lines.append((json.dumps({"type": "batch", "id": b + 1, "records": records}) + "\n").encode())
    return lines, expected


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--in-flight", type=int, default=4)
    ap.add_argument("--products", type=int, default=200)
    args = ap.parse_args()

    lines, expected = make_batches(args.batches, args.batch_size, args.products)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    env = dict(os.environ, AEROGRID_RUNTIME_ADDR="tcp://127.0.0.1:%d" % port,
               PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "aerogrid", "run", SEED_APP_PATH], env=env)
    try:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        hello = json.loads(reader.readline())
        assert hello["type"] == "hello", hello
        conn.sendall((json.dumps({"type": "welcome", "protocol": "aerogrid.runtime.v1",
                                  "max_in_flight": args.in_flight, "snapshot": {}}) + "\n").encode())
        grid = {}
        processed = 0
        sent = acked = 0
        start = time.perf_counter()
        while acked < len(lines):
            while sent < len(lines) and sent - acked < args.in_flight:
                conn.sendall(lines[sent])
                sent += 1
            ack = json.loads(reader.readline())
            assert ack["type"] == "ack" and ack["id"] == acked + 1, ack
            acked += 1
            processed += ack["processed"]
            for d in ack["deltas"]:
                grid[d["key"]] = d["row"]["units_sold"]
        elapsed = time.perf_counter() - start
        conn.sendall(b'{"type":"shutdown"}\n')
        # The runtime's own CPU time (startup and import included) tells its cost per record
        # even when other processes compete for the cores.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
    finally:
        if proc.poll() is None:
            proc.kill()
    records = args.batches * args.batch_size
    ok = grid == expected and processed == records and code == 0
    print(json.dumps({"records_per_s": round(records / elapsed), "records": records,
                      "batch_size": args.batch_size, "seconds": round(elapsed, 3),
                      "runtime_cpu_s": round(cpu, 3), "records_per_runtime_cpu_s": round(records / cpu),
                      "sums_exact": grid == expected, "exit_code": code}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

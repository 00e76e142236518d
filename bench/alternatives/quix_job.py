"""The seed's job (units sold per product) on quixstreams, for bench/alternatives.mjs.

Reads BENCH_ORDERS orders from the topic `orders` (3 partitions, keys are order ids, values
{"product": ..., "quantity": ...}), regroups them by product (quixstreams' `group_by`, through a
repartition topic) and keeps the sums in its state store (RocksDB, with a changelog topic), with
exactly-once processing. Then writes one JSON line to stdout:
{"first": t, "last": t, "count": n, "sums": {product: units}} and exits.

The sums and counts reported are the values the state store returned for each product's latest
update, so a batch that is aborted and processed again cannot count twice.
"""
import json
import os
import time

from quixstreams import Application

N = int(os.environ['BENCH_ORDERS'])

app = Application(
    broker_address=os.environ['BENCH_BROKER'],
    consumer_group=os.environ['BENCH_APP_ID'],
    auto_offset_reset='earliest',
    processing_guarantee='exactly-once',
    state_dir=os.environ['BENCH_STATE_DIR'],
    loglevel='WARNING',
)
orders = app.topic('orders', key_deserializer='str', value_deserializer='json')
latest = {}  # product -> (units, count) as the state store last returned them
progress = {'first': None}


def add(order, state):
    if progress['first'] is None:
        progress['first'] = time.time()
    units = state.get('units', 0) + order['quantity']
    count = state.get('count', 0) + 1
    state.set('units', units)
    state.set('count', count)
    latest[order['product']] = (units, count)
    if sum(c for _, c in latest.values()) == N:
        result = {'first': progress['first'], 'last': time.time(), 'count': N,
                  'sums': {p: u for p, (u, _) in latest.items()}}
        os.write(1, (json.dumps(result) + '\n').encode())
        app.stop()


sdf = app.dataframe(orders)
sdf = sdf.group_by('product')
sdf = sdf.update(add, stateful=True)

if __name__ == '__main__':
    app.run()

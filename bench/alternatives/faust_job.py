"""The seed's job (units sold per product) on faust-streaming, for bench/alternatives.mjs.

Reads BENCH_ORDERS orders from the topic `orders` (3 partitions, keys are order ids, values
{"product": ..., "quantity": ...}) into a table of sums per product, then writes one JSON line to
stdout: {"first": t, "last": t, "count": n, "sums": {product: units}} and exits.

Faust's own way to key a table by product is `stream.group_by(Order.product)`, which repartitions
through an extra topic. At faust's at-least-once guarantee that gave inexact sums here in two runs
of three (20,000 orders: "Kafka for Accountants: 34911 (expected 36002)", some products above
their sum and some below: records read twice, and the count reached before others), so this job
keeps the table in one worker, unrepartitioned, which is exact as long as that worker owns every
partition (it does: it is the only one). The table lives in memory (faust's `memory://` store) with a
changelog topic as faust keeps by default.
"""
import json
import os
import time

import faust

N = int(os.environ['BENCH_ORDERS'])

app = faust.App(
    os.environ['BENCH_APP_ID'],
    broker=f"kafka://{os.environ['BENCH_BROKER']}",
    store='memory://',
    topic_partitions=3,
    web_enabled=False,
)


class Order(faust.Record, serializer='json'):
    product: str
    quantity: int


orders = app.topic('orders', key_type=bytes, key_serializer='raw', value_type=Order)
product_sum = app.Table('product_sum', default=int, partitions=3)
progress = {'count': 0, 'first': None}


@app.agent(orders)
async def sum_orders(stream):
    async for order in stream:
        if progress['first'] is None:
            progress['first'] = time.time()
        product_sum[order.product] += order.quantity
        progress['count'] += 1
        if progress['count'] == N:
            result = {'first': progress['first'], 'last': time.time(), 'count': N,
                      'sums': {k: v for k, v in product_sum.items()}}
            # Faust replaces sys.stdout with its logger; the result goes to the real stdout.
            os.write(1, (json.dumps(result) + '\n').encode())
            os._exit(0)


if __name__ == '__main__':
    app.main()

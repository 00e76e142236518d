# Benchmark connector: keeps the latest send time per key, so a client can measure
# produce-to-screen latency from the values it receives.
import os

import aerogrid

app = aerogrid.App('latest', broker=BROKER_URI)


class Tick(aerogrid.Record):
    key: str
    sent: float


ticks = app.topic(os.environ['BENCH_TOPIC'], key_type=str, value_type=Tick)
latest = app.Grid('latest', columns=['sent'])


@app.stream(ticks)
async def track(stream):
    async for _, tick in stream.items():
        latest[tick.key] = {'sent': tick.sent}

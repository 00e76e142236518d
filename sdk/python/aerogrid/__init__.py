"""AeroGrid connectors: typed Kafka records in, live grids out.

    import aerogrid
    app = aerogrid.App('ordersapp', broker=BROKER_URI)
    class Order(aerogrid.Record):
        product: str
        quantity: int
    orders = app.topic('orders', key_type=str, value_type=Order)
    totals = app.Grid('totals', columns=['units'], default=lambda: {'units': 0})

    @app.stream(orders)
    async def count(stream):
        async for key, order in stream.items():
            totals[order.product] = {'units': totals[order.product]['units'] + order.quantity}

Run it with ``python -m aerogrid run app.py``; test it offline with ``aerogrid.testing``.
"""
from .app import App, Topic
from .grid import Grid, GridError
from .record import Record, ValidationError
from .stream import Stream
from .version import PROTOCOL, __version__

__all__ = ["App", "Topic", "Grid", "GridError", "Record", "ValidationError", "Stream",
           "PROTOCOL", "__version__"]

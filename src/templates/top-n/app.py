"""{{name}}: a live leaderboard of the best-selling products on topic '{{topic}}'."""
import aerogrid

app = aerogrid.App('{{name}}', broker=BROKER_URI)

TOP = 10                    # how many products the leaderboard shows
WIDTH = len(str(TOP))       # ranks are zero-padded ('01'..'10') so that they sort as text


class Order(aerogrid.Record):          # {"product": "widget", "quantity": 3}
    product: str
    quantity: int


orders = app.topic('{{topic}}', key_type=str, value_type=Order)   # key is the order id

totals = app.Grid('totals', columns=['units_sold'], default=lambda: {'units_sold': 0})
top = app.Grid('top', columns=['product', 'units_sold'])


def rank_key(product):
    """Most units first; ties by product name, so the order is always the same."""
    return (-totals[product]['units_sold'], product)


def rebuild(candidates):
    """Writes the leaderboard from the best TOP of `candidates`."""
    board = sorted(candidates, key=rank_key)[:TOP]
    for i, product in enumerate(board, start=1):
        top[str(i).zfill(WIDTH)] = {'product': product, 'units_sold': totals[product]['units_sold']}
    for i in range(len(board) + 1, TOP + 1):
        top.pop(str(i).zfill(WIDTH), None)


@app.stream(orders)
async def rank(stream):
    async for order_id, order in stream.items():
        units_sold = totals[order.product]['units_sold'] + order.quantity
        totals[order.product] = {'units_sold': units_sold}

        on_board = [row['product'] for row in top.values()]
        if order.quantity < 0:
            # A return can drop a product behind one that is not on the board: rank them all.
            rebuild(list(totals))
        elif (order.product in on_board or len(on_board) < TOP
              or rank_key(order.product) < max(rank_key(p) for p in on_board)):
            # Totals only grew: only this product can have moved, or entered the board.
            rebuild(set(on_board) | {order.product})

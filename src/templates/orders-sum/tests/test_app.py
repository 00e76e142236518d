"""Offline tests of app.py: no Kafka needed. Run them with `aerogrid test`."""
from pathlib import Path

from aerogrid.testing import load_app

APP = str(Path(__file__).resolve().parent.parent / 'app.py')
TOPIC = '{{topic}}'


def test_sums_units_per_product():
    with load_app(APP) as h:
        h.send(TOPIC, {'product': 'widget', 'quantity': 3}, key='o1')
        h.send(TOPIC, {'product': 'gadget', 'quantity': 5}, key='o2')
        h.send(TOPIC, {'product': 'widget', 'quantity': 4}, key='o3')
        h.run()
        assert h.grid('product_sum') == {'widget': {'units_sold': 7}, 'gadget': {'units_sold': 5}}
        assert h.rejected == []


def test_sums_carry_over_between_batches():
    with load_app(APP) as h:
        h.send_many(TOPIC, [('o1', {'product': 'widget', 'quantity': 2})])
        h.run()
        h.send_many(TOPIC, [('o2', {'product': 'widget', 'quantity': 3}),
                            ('o3', {'product': 'widget', 'quantity': 1})])
        h.run()
        assert h.grid('product_sum') == {'widget': {'units_sold': 6}}


def test_bad_orders_go_to_the_dead_letters_and_the_sums_stay_exact():
    with load_app(APP) as h:
        h.send(TOPIC, {'product': 'widget', 'quantity': 2}, key='o1')
        h.send(TOPIC, {'product': 'widget'}, key='o2')             # no quantity
        h.send(TOPIC, '{"product": "widget", "quan', key='o3')     # not JSON
        h.send(TOPIC, {'product': 'widget', 'quantity': 'many'}, key='o4')
        h.send(TOPIC, {'product': 'widget', 'quantity': 5}, key='o5')
        h.run()
        assert h.grid('product_sum') == {'widget': {'units_sold': 7}}
        assert [r['offset'] for r in h.rejected] == ['1', '2', '3']
        assert 'quantity' in h.rejected[0]['reason']

"""Offline tests of app.py: no Kafka needed. Run them with `aerogrid test`."""
import random
from pathlib import Path

from aerogrid.testing import load_app

APP = str(Path(__file__).resolve().parent.parent / 'app.py')
TOPIC = '{{topic}}'


def board(h):
    """The leaderboard as a list of (product, units_sold), best first."""
    return [(row['product'], row['units_sold']) for _, row in sorted(h.grid('top').items())]


def test_ranks_the_best_sellers():
    with load_app(APP) as h:
        h.send_many(TOPIC, [('o1', {'product': 'a', 'quantity': 3}),
                            ('o2', {'product': 'b', 'quantity': 5}),
                            ('o3', {'product': 'a', 'quantity': 4})])
        h.run()
        assert board(h) == [('a', 7), ('b', 5)]
        assert h.grid('top')['01'] == {'product': 'a', 'units_sold': 7}


def test_shows_only_the_top_ten():
    with load_app(APP) as h:
        for i in range(15):
            h.send(TOPIC, {'product': 'p%02d' % i, 'quantity': i + 1}, key='o%d' % i)
        h.run()
        assert board(h) == [('p%02d' % i, i + 1) for i in range(14, 4, -1)]
        assert len(h.grid('totals')) == 15


def test_a_return_can_push_a_product_off_the_board():
    with load_app(APP) as h:
        for i in range(11):
            h.send(TOPIC, {'product': 'p%02d' % i, 'quantity': 10 + i}, key='o%d' % i)
        h.send(TOPIC, {'product': 'p10', 'quantity': -20}, key='r1')
        h.run()
        assert 'p10' not in [p for p, _ in board(h)]
        assert board(h)[-1] == ('p00', 10)


def test_matches_a_full_ranking_after_random_orders():
    rng = random.Random(7)
    with load_app(APP) as h:
        for i in range(500):
            qty = rng.choice([1, 2, 3, 5, 8, -1])
            h.send(TOPIC, {'product': 'p%d' % rng.randrange(30), 'quantity': qty}, key='o%d' % i)
        h.run()
        totals = {k: row['units_sold'] for k, row in h.grid('totals').items()}
        expected = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert board(h) == expected


def test_a_bad_order_goes_to_the_dead_letters():
    with load_app(APP) as h:
        h.send(TOPIC, {'product': 'a'}, key='o1')
        h.send(TOPIC, {'product': 'a', 'quantity': 2}, key='o2')
        h.run()
        assert board(h) == [('a', 2)]
        assert len(h.rejected) == 1 and 'quantity' in h.rejected[0]['reason']

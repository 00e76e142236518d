"""Offline tests of app.py: no Kafka needed. Run them with `aerogrid test`."""
from pathlib import Path

from aerogrid.testing import load_app

APP = str(Path(__file__).resolve().parent.parent / 'app.py')
TOPIC = '{{topic}}'


def test_counts_records_per_key():
    with load_app(APP) as h:
        h.send_many(TOPIC, [('a', {'n': 1}), ('b', {'n': 2}), ('a', {'n': 3})])
        h.run()
        assert h.grid('records') == {'a': {'count': 2}, 'b': {'count': 1}}
        assert h.rejected == []


def test_a_value_that_is_not_json_goes_to_the_dead_letters():
    with load_app(APP) as h:
        h.send(TOPIC, 'not json', key='a')
        h.send(TOPIC, {'n': 1}, key='a')
        h.run()
        assert h.grid('records') == {'a': {'count': 1}}
        assert [r['offset'] for r in h.rejected] == ['0']

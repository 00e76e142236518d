"""Offline tests of app.py: no Kafka needed. Run them with `aerogrid test`."""
from pathlib import Path

from aerogrid.testing import load_app

APP = str(Path(__file__).resolve().parent.parent / 'app.py')
TOPIC = '{{topic}}'


def test_keeps_the_latest_value_per_key():
    with load_app(APP) as h:
        h.send(TOPIC, {'price': 101.5, 'currency': 'EUR'}, key='ACME')
        h.send(TOPIC, {'price': 99.0, 'currency': 'USD'}, key='INIT')
        h.send(TOPIC, {'price': 102.25, 'currency': 'EUR'}, key='ACME')
        h.run()
        assert h.grid('latest') == {
            'ACME': {'price': 102.25, 'currency': 'EUR'},
            'INIT': {'price': 99.0, 'currency': 'USD'},
        }
        assert h.rejected == []


def test_missing_fields_are_empty_and_extra_fields_are_ignored():
    with load_app(APP) as h:
        h.send(TOPIC, {'price': 7, 'venue': 'XETRA'}, key='ACME')
        h.run()
        assert h.grid('latest') == {'ACME': {'price': 7, 'currency': None}}


def test_a_tombstone_deletes_the_row():
    with load_app(APP) as h:
        h.send(TOPIC, {'price': 1, 'currency': 'EUR'}, key='ACME')
        h.send(TOPIC, {'price': 2, 'currency': 'EUR'}, key='INIT')
        h.send(TOPIC, None, key='ACME')
        h.send(TOPIC, None, key='NEVER-SEEN')       # deleting an absent row is fine
        h.run()
        assert h.grid('latest') == {'INIT': {'price': 2, 'currency': 'EUR'}}
        assert h.rejected == []


def test_a_value_that_is_not_an_object_goes_to_the_dead_letters():
    with load_app(APP) as h:
        h.send(TOPIC, [1, 2], key='ACME')
        h.send(TOPIC, 'oops', key='ACME')
        h.send(TOPIC, {'price': 3, 'currency': 'EUR'}, key='ACME')
        h.run()
        assert h.grid('latest') == {'ACME': {'price': 3, 'currency': 'EUR'}}
        assert [r['offset'] for r in h.rejected] == ['0', '1']

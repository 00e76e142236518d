package main

import (
	"reflect"
	"testing"
)

func TestApplyKeepsTheGridAndTheSentTimes(t *testing.T) {
	c := &client{rows: map[string][]byte{}, gen: 1}
	kind, _, _, err := c.apply([]byte(`{"type":"snapshot","id":"s","grid":"latest","columns":["sent"],"seq":3,"rows":{"k0":{"sent":100},"k1":{"sent":101},"k\"2":{"sent":102}}}`), 1, nil, nil)
	if err != nil || kind != "snapshot" || c.seq != 3 || len(c.rows) != 3 || string(c.rows[`k"2`]) != `{"sent":102}` {
		t.Fatalf("snapshot: kind %q err %v seq %d rows %q", kind, err, c.seq, c.rows)
	}
	kind, sent, _, err := c.apply([]byte(`{"type":"delta","id":"s","grid":"latest","from_seq":3,"seq":5,"upserts":{"k0":{"sent":200},"k3":{"sent":1.5e3,"note":"a } ] \" b"}},"deletes":["k1"]}`), 1, nil, nil)
	if err != nil || kind != "delta" || c.seq != 5 {
		t.Fatalf("delta: kind %q err %v seq %d", kind, err, c.seq)
	}
	if !reflect.DeepEqual(sent, []int64{200, 1500}) {
		t.Fatalf("sent %v", sent)
	}
	want := map[string][]byte{"k0": []byte(`{"sent":200}`), `k"2`: []byte(`{"sent":102}`), "k3": []byte(`{"sent":1.5e3,"note":"a } ] \" b"}`)}
	if !sameRows(c.rows, want) {
		t.Fatalf("rows %q", c.rows)
	}
	truth, err := parseRows([]byte(`{"k0":{"sent":200},"k\"2":{"sent":102},"k3":{"sent":1.5e3,"note":"a } ] \" b"}}`))
	if err != nil || !sameRows(c.rows, truth) {
		t.Fatalf("not exact against the same rows: %v", err)
	}
	// A message of an older connection (after drop and reconnect) changes nothing.
	c.apply([]byte(`{"type":"delta","seq":9,"upserts":{"k9":{"sent":1}},"deletes":[]}`), 0, nil, nil)
	if c.seq != 5 || len(c.rows) != 3 {
		t.Fatalf("an old connection's message was applied")
	}
	if _, _, _, err := c.apply([]byte(`{"type":"delta","upserts":{"k0":`), 1, nil, nil); err == nil {
		t.Fatalf("a truncated message was read")
	}
}

func TestSampleIsEveryNthDelayInOrder(t *testing.T) {
	h := newHistogram()
	h.add(1000, []int64{990, 1000, 995, 999, 1001})
	if got := h.sample(2); !reflect.DeepEqual(got, []int64{0, 1, 10}) {
		t.Fatalf("stride 2 of [0 0 1 5 10]: %v", got)
	}
	if got := h.sample(20_000); !reflect.DeepEqual(got, []int64{0, 0, 1, 5, 10}) {
		t.Fatalf("all of them: %v", got)
	}
}

func TestNumber(t *testing.T) {
	for text, want := range map[string]int64{"1764766235123": 1764766235123, "-5": -5, "1.5e3": 1500, "0": 0, "1234567890123456789": 1234567890123456768} {
		if got, ok := number([]byte(text)); !ok || got != want {
			t.Errorf("number(%s) = %d, %v; want %d", text, got, ok, want)
		}
	}
	for _, text := range []string{"", "-", "true", `"1"`, "null"} {
		if _, ok := number([]byte(text)); ok {
			t.Errorf("number(%s) read a number", text)
		}
	}
}

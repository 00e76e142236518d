// Command fanout-client is the client side of the fan-out benchmarks (bench/fanout-scale.mjs,
// bench/reconnect-storm.mjs), the Go twin of bench/lib/fanout-clients.mjs: it opens COUNT
// WebSocket clients on URL (protocol aerogrid.v1), each subscribed to GRID, one goroutine each,
// and keeps each one's copy of the grid. It speaks the same line protocol on stdin/stdout:
//
//	measure    start collecting produce-to-client delays; reset bytes and messages
//	drop       close every client (as if the network went away)
//	reconnect  reopen every client at once, subscribing with its seq (RESUME=0: without)
//	report B   one JSON line: clients, exact (clients whose grid equals the base64 JSON rows B),
//	           closed, bytes, messages, snapshots, resumes, delays (a sample, sorted)
//	exit       close every client and exit
//
// Every command is answered with one JSON line; {"ready":COUNT} comes first, once every client
// holds its snapshot. A row is kept as the JSON text the sidecar sent; a client's grid is exact
// when it has the same keys as the sidecar's and each row's text is the text the sidecar's grid
// endpoint gives (both are the sidecar's JSON of the same rows, as the Node client compares them).
//
// Only what is needed is parsed: a message's type, seq, rows or upserts and deletes, and each
// upserted row's `sent` (the produce time in ms, from bench/apps/latest). Delays are counted in a
// histogram of whole milliseconds, so that millions of them take no memory; the report's sample
// is every n-th delay in sorted order, as the Node client reports it.
//
// Usage: fanout-client URL GRID COUNT
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type client struct {
	mu   sync.Mutex
	conn *websocket.Conn
	// gen counts the client's connections: a reader of an older one stops touching the client.
	gen       int
	rows      map[string][]byte
	seq       int64
	bytes     int64
	messages  int64
	snapshots int64
	resumes   int64
	// closed: a connection of this client was closed other than by `drop`; why, the first time.
	closed   bool
	closedBy string
	dropping bool
}

var (
	url, grid string
	resume    = os.Getenv("RESUME") != "0"
	measuring atomic.Bool
	delays    = newHistogram()
	buffers   = sync.Pool{New: func() any { b := make([]byte, 0, 64*1024); return &b }}
	dialer    = websocket.Dialer{
		Subprotocols:     []string{"aerogrid.v1"},
		HandshakeTimeout: 60 * time.Second,
		ReadBufferSize:   16 * 1024,
		WriteBufferPool:  &sync.Pool{},
	}
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: fanout-client URL GRID COUNT")
		os.Exit(2)
	}
	url, grid = os.Args[1], os.Args[2]
	count, err := strconv.Atoi(os.Args[3])
	if err != nil || count < 0 {
		fail(fmt.Errorf("COUNT must be a number of clients, not %q", os.Args[3]))
	}
	// FANOUT_CLIENT_CPU_PROFILE=FILE: a Go CPU profile of this process, written on `exit`.
	if path := os.Getenv("FANOUT_CLIENT_CPU_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fail(fmt.Errorf("FANOUT_CLIENT_CPU_PROFILE: %w", err))
		}
	}
	clients := make([]*client, count)
	// One after another, as the Node client does: connect_seconds stays comparable.
	for i := range clients {
		clients[i] = &client{rows: map[string][]byte{}}
		if err := clients[i].open(nil); err != nil {
			fail(fmt.Errorf("client %d of %d: %w", i+1, count, err))
		}
	}
	answer(map[string]any{"ready": count})

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1024*1024), 256*1024*1024)
	for in.Scan() {
		fields := strings.Split(strings.TrimSpace(in.Text()), " ")
		command, arg := fields[0], ""
		if len(fields) > 1 {
			arg = fields[1]
		}
		switch command {
		case "measure":
			for _, c := range clients {
				c.mu.Lock()
				c.bytes, c.messages = 0, 0
				c.mu.Unlock()
			}
			delays.reset()
			measuring.Store(true)
			answer(map[string]any{"measuring": true})
		case "drop":
			for _, c := range clients {
				c.drop()
			}
			answer(map[string]any{"dropped": count})
		case "reconnect":
			for _, c := range clients {
				c.mu.Lock()
				c.bytes, c.messages = 0, 0
				c.mu.Unlock()
			}
			started := time.Now()
			errs := make(chan error, count)
			for _, c := range clients {
				go func(c *client) {
					var seq *int64
					if resume {
						c.mu.Lock()
						s := c.seq
						c.mu.Unlock()
						seq = &s
					}
					errs <- c.open(seq)
				}(c)
			}
			for range clients {
				if err := <-errs; err != nil {
					fail(fmt.Errorf("reconnecting: %w", err))
				}
			}
			answer(map[string]any{"reconnected": count, "seconds": time.Since(started).Seconds()})
		case "report":
			measuring.Store(false)
			answer(report(clients, arg))
		case "exit":
			for _, c := range clients {
				c.drop()
			}
			pprof.StopCPUProfile()
			os.Exit(0)
		}
	}
	os.Exit(0)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "fanout-client: %v\n", err)
	os.Exit(1)
}

func answer(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(append(line, '\n'))
}

// open connects the client and subscribes (with seq: resuming from it); it returns once the
// snapshot or `resumed` is in.
func (c *client) open(seq *int64) error {
	conn, _, err := dialer.Dial(url, http.Header{})
	if err != nil {
		return err
	}
	conn.SetPingHandler(answerPing(conn))
	c.mu.Lock()
	c.gen++
	gen := c.gen
	c.conn = conn
	c.dropping = false
	c.mu.Unlock()
	current := make(chan error, 1)
	go c.read(conn, gen, current)
	subscribe := map[string]any{"op": "subscribe", "id": "s", "grid": grid}
	if seq != nil {
		subscribe["seq"] = *seq
	}
	if err := conn.WriteJSON(subscribe); err != nil {
		return err
	}
	return <-current
}

func (c *client) drop() {
	c.mu.Lock()
	c.dropping = true
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// read applies every message of one connection to the client until the connection ends; the
// first snapshot or `resumed` is reported on current.
func (c *client) read(conn *websocket.Conn, gen int, current chan<- error) {
	signalled := false
	signal := func(err error) {
		if !signalled {
			signalled = true
			current <- err
		}
	}
	var sent []int64
	var rows []member
	for {
		_, r, err := conn.NextReader()
		if err == nil {
			buf := buffers.Get().(*[]byte)
			var b []byte
			b, err = readAll(r, (*buf)[:0])
			if err == nil {
				now := time.Now().UnixMilli()
				var kind string
				sent = sent[:0]
				kind, sent, rows, err = c.apply(b, gen, sent, rows)
				if err != nil {
					err = fmt.Errorf("%w: %w", errUnreadable, err)
					unreadable.Do(func() { fmt.Fprintf(os.Stderr, "fanout-client: %v\n", err) })
				}
				if err == nil && len(sent) > 0 && measuring.Load() {
					delays.add(now, sent)
				}
				if kind == "snapshot" || kind == "resumed" {
					signal(nil)
				}
			}
			*buf = b
			buffers.Put(buf)
			if err == nil {
				continue
			}
		}
		c.mu.Lock()
		if c.gen == gen && !c.dropping && !c.closed {
			c.closed = true
			c.closedBy = closeReason(err)
		}
		c.mu.Unlock()
		conn.Close()
		signal(fmt.Errorf("the connection ended before the subscription was current: %w", err))
		return
	}
}

// pongWait bounds writing a pong. gorilla's default handler gives it one second and ends the
// connection when that passes; the sidecar pings after every pass of deltas, and with thousands
// of clients on a machine whose cores are all busy a pong can wait longer than that for its turn.
// The sidecar's keepalive allows 30 s.
const pongWait = 30 * time.Second

func answerPing(conn *websocket.Conn) func(string) error {
	return func(data string) error {
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(pongWait))
		if err == websocket.ErrCloseSent {
			return nil
		}
		return err
	}
}

// closeReason is how a connection ended, without what differs from one client to the next.
func closeReason(err error) string {
	var closeErr *websocket.CloseError
	if errors.As(err, &closeErr) {
		return fmt.Sprintf("close %d", closeErr.Code)
	}
	if errors.Is(err, errUnreadable) {
		return errUnreadable.Error()
	}
	return "connection lost"
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// member is one member of a JSON object: its key (unescaped) and its value's JSON text.
type member struct{ key, value []byte }

// apply folds one message into the client's grid; it returns the message's type and appends the
// `sent` of each upserted row to sent. rows is scratch space, returned for the next message. The
// rows (or upserts) are read in the same pass as the rest, not skipped first and read again.
func (c *client) apply(b []byte, gen int, sent []int64, rows []member) (string, []int64, []member, error) {
	var kind string
	var seq int64
	var deletes []byte
	rows = rows[:0]
	_, err := membersAt(b, skipSpace(b, 0), func(key []byte, at int) (int, error) {
		if k := string(key); k == "rows" || k == "upserts" {
			if at < len(b) && b[at] == '{' {
				return members(b, at, func(k, v []byte) error {
					rows = append(rows, member{k, v})
					return nil
				})
			}
		}
		end, err := valueEnd(b, at)
		if err != nil {
			return 0, err
		}
		v := b[at:end]
		switch string(key) {
		case "type":
			if len(v) >= 2 && v[0] == '"' {
				kind = string(v[1 : len(v)-1])
			}
		case "seq":
			if n, ok := number(v); ok {
				seq = n
			}
		case "deletes":
			deletes = v
		}
		return end, nil
	})
	if err != nil {
		return "", sent, rows, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return kind, sent, rows, nil
	}
	c.bytes += int64(len(b))
	c.messages++
	switch kind {
	case "snapshot":
		fresh := make(map[string][]byte, len(rows))
		for _, m := range rows {
			fresh[string(m.key)] = append([]byte(nil), m.value...)
		}
		c.rows = fresh
		c.seq = seq
		c.snapshots++
	case "delta", "resumed":
		for _, m := range rows {
			// The usual case, a row of the same length, costs no allocation.
			if old, ok := c.rows[string(m.key)]; ok && len(old) == len(m.value) {
				copy(old, m.value)
			} else {
				c.rows[string(m.key)] = append([]byte(nil), m.value...)
			}
			if t, ok := sentOf(m.value); ok {
				sent = append(sent, t)
			}
		}
		if deletes != nil {
			err = elements(deletes, func(v []byte) error {
				k, err := stringValue(v)
				if err == nil {
					delete(c.rows, k)
				}
				return err
			})
			if err != nil {
				return kind, sent, rows, err
			}
		}
		c.seq = seq
		if kind == "resumed" {
			c.resumes++
		}
	}
	return kind, sent, rows, nil
}

// parseRows reads a JSON object of rows (key to row) into a grid copy.
func parseRows(b []byte) (map[string][]byte, error) {
	rows := map[string][]byte{}
	if b == nil || string(b) == "null" {
		return rows, nil
	}
	_, err := members(b, 0, func(key []byte, row []byte) error {
		rows[string(key)] = append([]byte(nil), row...)
		return nil
	})
	return rows, err
}

// sentOf is a row's `sent` when it is a number (the ms since the epoch of its produce).
func sentOf(row []byte) (int64, bool) {
	var t int64
	found := false
	membersAt(row, 0, func(key []byte, at int) (int, error) {
		end, err := valueEnd(row, at)
		if err == nil && !found && string(key) == "sent" {
			t, found = number(row[at:end])
		}
		return end, err
	})
	return t, found
}

// number reads a JSON number, an integer without allocating; a fraction is cut to its integer part.
func number(v []byte) (int64, bool) {
	j, negative := 0, false
	if len(v) > 0 && v[0] == '-' {
		j, negative = 1, true
	}
	if j == len(v) || v[j] < '0' || v[j] > '9' {
		return 0, false
	}
	var n int64
	for ; j < len(v); j++ {
		d := v[j]
		if d < '0' || d > '9' || j >= 18 {
			f, err := strconv.ParseFloat(string(v), 64)
			return int64(f), err == nil
		}
		n = n*10 + int64(d-'0')
	}
	if negative {
		n = -n
	}
	return n, true
}

type reportLine struct {
	Clients   int   `json:"clients"`
	Exact     *int  `json:"exact"`
	Closed    int   `json:"closed"`
	Bytes     int64 `json:"bytes"`
	Messages  int64 `json:"messages"`
	Snapshots int64 `json:"snapshots"`
	Resumes   int64 `json:"resumes"`
	// Closes counts the closed clients by how their connection ended (the Node client has no such field).
	Closes map[string]int `json:"closes"`
	Delays []int64        `json:"delays"`
}

func report(clients []*client, truthArg string) reportLine {
	r := reportLine{Clients: len(clients), Delays: delays.sample(20_000), Closes: map[string]int{}}
	if truthArg != "" {
		text, err := base64.StdEncoding.DecodeString(truthArg)
		if err != nil {
			fail(fmt.Errorf("report: the grid is not base64: %w", err))
		}
		truth, err := parseRows(text)
		if err != nil {
			fail(fmt.Errorf("report: the grid is not a JSON object of rows: %w", err))
		}
		exact := 0
		for _, c := range clients {
			c.mu.Lock()
			if sameRows(c.rows, truth) {
				exact++
			}
			c.mu.Unlock()
		}
		r.Exact = &exact
	}
	for _, c := range clients {
		c.mu.Lock()
		if c.closed {
			r.Closed++
			r.Closes[c.closedBy]++
		}
		r.Bytes += c.bytes
		r.Messages += c.messages
		r.Snapshots += c.snapshots
		r.Resumes += c.resumes
		c.mu.Unlock()
	}
	return r
}

func sameRows(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, row := range a {
		other, ok := b[k]
		if !ok || string(other) != string(row) {
			return false
		}
	}
	return true
}

// histogram counts delays in whole milliseconds (negative ones as 0, beyond its range as its last).
type histogram struct {
	mu     sync.Mutex
	counts []int64
	total  int64
}

const histogramMs = 600_000

func newHistogram() *histogram { return &histogram{counts: make([]int64, histogramMs+1)} }

func (h *histogram) reset() {
	h.mu.Lock()
	clear(h.counts)
	h.total = 0
	h.mu.Unlock()
}

func (h *histogram) add(now int64, sent []int64) {
	h.mu.Lock()
	for _, t := range sent {
		d := min(max(now-t, 0), histogramMs)
		h.counts[d]++
	}
	h.total += int64(len(sent))
	h.mu.Unlock()
}

// sample is every n-th delay in sorted order, n = max(1, total / size): what the Node client
// reports from its sorted list.
func (h *histogram) sample(size int64) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	stride := max(1, h.total/size)
	out := make([]int64, 0, h.total/stride+1)
	var rank, next int64
	for ms, n := range h.counts {
		for ; next < rank+n; next += stride {
			out = append(out, int64(ms))
		}
		rank += n
	}
	return out
}

// The JSON reading below is only what these messages need: spans of values, not parsed values.

var (
	errSyntax     = errors.New("malformed JSON")
	errUnreadable = errors.New("a message the client cannot read")
	// The first unreadable message is told on stderr, not every one.
	unreadable sync.Once
)

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the string starting at b[i] (a quote), and whether it has escapes.
func stringEnd(b []byte, i int) (int, bool, error) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, nil
		}
	}
	return 0, false, errSyntax
}

// valueEnd is the index after the JSON value starting at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		end, _, err := stringEnd(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

// members calls fn with each key (unescaped) and value (its JSON text) of the object at b[i];
// it returns the index after the object.
func members(b []byte, i int, fn func(key, value []byte) error) (int, error) {
	return membersAt(b, i, func(key []byte, at int) (int, error) {
		end, err := valueEnd(b, at)
		if err != nil {
			return 0, err
		}
		return end, fn(key, b[at:end])
	})
}

// membersAt calls fn with each key (unescaped) of the object at b[i] and where its value starts;
// fn reads the value and returns the index after it. It returns the index after the object.
func membersAt(b []byte, i int, fn func(key []byte, at int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		end, escaped, err := stringEnd(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		if escaped {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return 0, err
			}
			key = []byte(s)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		vend, err := fn(key, skipSpace(b, i+1))
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// elements calls fn with the JSON text of each element of the array b.
func elements(b []byte, fn func(value []byte) error) error {
	if len(b) == 0 || b[0] != '[' {
		return errSyntax
	}
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for {
		end, err := valueEnd(b, i)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return nil
		}
		return errSyntax
	}
}

func stringValue(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errSyntax
	}
	if _, escaped, err := stringEnd(v, 0); err != nil {
		return "", err
	} else if !escaped {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

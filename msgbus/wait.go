package msgbus

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// result is what a waiting call receives: the response's status and body
// (the body aliases the response record's value), or the error that ends
// the call early (the request could not be produced).
type result struct {
	status *msgbusv1.Status
	body   []byte
	enc    msgbusv1.BodyEncoding
	err    error
}

// pending is a call waiting for its response, with its request record's
// parts, so that the request can be sent again (same transaction id: the
// server runs it at most once) when the broker lost it.
type pending struct {
	// Context is context.Background, so that kgo never cancels the
	// request: the pending call is its record's context (kgo.Record's
	// Context, "used for enriching records"), through which the Conn's one
	// promise func finds the call; a closure per call would cost an
	// allocation.
	context.Context
	seq       uint64      // the transaction id's sequence number
	ch        chan result // room for one result, so trigger never blocks
	method    string
	expires   time.Time // Config.DefaultTimeout's end; zero: the call's context bounds it
	topic     string
	key       []byte
	value     []byte
	ts        time.Time
	first     kgo.Record  // the request record as first produced
	delivered atomic.Bool // the broker took the request (once at least)
	resends   atomic.Int32
}

// waiters pairs responses with the calls that wait for them, by the
// sequence number of their transaction id (after etcd's pkg/wait). A call
// registers before it produces its request, so a response can never arrive
// before its waiter.
type waiters struct {
	mu     sync.Mutex // guards m, closed
	m      map[uint64]*pending
	closed bool
}

func newWaiters() *waiters { return &waiters{m: make(map[uint64]*pending)} }

// register makes p the waiter of p.seq; p.ch must have room for one
// result. It reports false, registering nothing, once closeAll has run.
func (w *waiters) register(p *pending) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.m[p.seq] = p
	return true
}

// closeAll hands r to every waiting call and refuses new ones: a Conn's
// Close ends its calls so, rather than each call watching a channel that
// every call in flight shares (a lock they all take twice a call).
func (w *waiters) closeAll(r result) {
	w.mu.Lock()
	w.closed = true
	m := w.m
	w.m = make(map[uint64]*pending)
	w.mu.Unlock()
	for _, p := range m {
		p.ch <- r
	}
}

// trigger hands r to the call waiting for seq and reports whether there
// was one: false means the call has already ended (a late or duplicate
// response).
func (w *waiters) trigger(seq uint64, r result) bool {
	w.mu.Lock()
	p, ok := w.m[seq]
	delete(w.m, seq)
	w.mu.Unlock()
	if ok {
		p.ch <- r
	}
	return ok
}

// takeExpired forgets and returns the calls whose expires has passed at
// now.
func (w *waiters) takeExpired(now time.Time) []*pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*pending
	for seq, p := range w.m {
		if !p.expires.IsZero() && !now.Before(p.expires) {
			out = append(out, p)
			delete(w.m, seq)
		}
	}
	return out
}

// get returns seq's waiter if the call still waits.
func (w *waiters) get(seq uint64) *pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m[seq]
}

// each calls fn for every waiting call whose request went to topic, or for
// every waiting call if topic is "".
func (w *waiters) each(topic string, fn func(p *pending)) {
	var list []*pending
	w.mu.Lock()
	for _, p := range w.m {
		if topic == "" || p.topic == topic {
			list = append(list, p)
		}
	}
	w.mu.Unlock()
	for _, p := range list {
		fn(p)
	}
}

// cancel forgets seq; a response that comes later finds no waiter.
func (w *waiters) cancel(seq uint64) {
	w.mu.Lock()
	delete(w.m, seq)
	w.mu.Unlock()
}

func (w *waiters) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

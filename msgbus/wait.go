package msgbus

import (
	"sync"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// result is what a waiting call receives: the response envelope, or the
// error that ends the call early (the request could not be produced).
type result struct {
	env *msgbusv1.Envelope
	err error
}

// waiters pairs responses with the calls that wait for them, by transaction
// id (after etcd's pkg/wait). A call registers before it produces its
// request, so a response can never arrive before its waiter.
type waiters struct {
	mu sync.Mutex // guards m
	m  map[string]chan result
}

func newWaiters() *waiters { return &waiters{m: make(map[string]chan result)} }

// register returns the channel on which id's result arrives; the channel
// has room for one result, so trigger never blocks.
func (w *waiters) register(id string) <-chan result {
	ch := make(chan result, 1)
	w.mu.Lock()
	w.m[id] = ch
	w.mu.Unlock()
	return ch
}

// trigger hands r to the call waiting for id and reports whether there was
// one: false means the call has already ended (a late or duplicate
// response).
func (w *waiters) trigger(id string, r result) bool {
	w.mu.Lock()
	ch, ok := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	if ok {
		ch <- r
	}
	return ok
}

// cancel forgets id; a response that comes later finds no waiter.
func (w *waiters) cancel(id string) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

func (w *waiters) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

// Package keyq runs work keyed by a string: the items of one key one at a
// time, in the order they were added, and the items of different keys in
// parallel, at most a limit at once. msgbus's server runs its calls through
// it (the key is the record key), and the adapter SDK its per-device work.
//
// An item with the empty key keeps no order: it runs as soon as a slot is
// free. A worker goroutine drains one busy key's items at a time; when the
// key has none left, the worker parks for the next key (at most limit
// workers park, until Close), since starting a goroutine per call, and
// growing its stack, costs a fast call a tenth of its time.
package keyq

import (
	"sync"
	"sync/atomic"
)

// Item is one unit of work. An interface rather than funcs, so that a
// caller's job struct is the item itself: no closures per item on a hot
// path.
type Item interface {
	// Run does the work. It must not call Close.
	Run()
	// Drop is called instead of Run when the item never runs (Forget,
	// Close). It must not block.
	Drop()
}

// Funcs is an Item made of two funcs; OnDrop may be nil.
type Funcs struct {
	OnRun, OnDrop func()
}

func (f Funcs) Run() { f.OnRun() }

func (f Funcs) Drop() {
	if f.OnDrop != nil {
		f.OnDrop()
	}
}

// Queue is the executor. Its zero value is not usable: call New.
type Queue struct {
	slots   chan struct{} // one per running item
	pending chan struct{} // one per item queued or running; nil: unbounded
	done    chan struct{} // closed by Close
	once    sync.Once

	idle   chan start   // parked workers take new keys from it
	parked atomic.Int32 // workers parked on idle

	mu     sync.Mutex        // guards keys, closed
	keys   map[string][]Item // items waiting behind each key that has a worker
	closed bool
	wg     sync.WaitGroup // the workers
}

// start is a key for a worker, with its first item.
type start struct {
	key string
	it  Item
}

// New returns a Queue that runs at most limit items at once (limit < 1
// counts as 1). With maxPending > 0, Add blocks while maxPending items are
// queued or running, so that a producer cannot queue without bound;
// maxPending <= 0 never blocks.
func New(limit, maxPending int) *Queue {
	q := &Queue{
		slots: make(chan struct{}, max(limit, 1)),
		done:  make(chan struct{}),
		idle:  make(chan start),
		keys:  make(map[string][]Item),
	}
	if maxPending > 0 {
		q.pending = make(chan struct{}, maxPending)
	}
	return q
}

// Add queues it behind the other items of key, or starts a worker for it.
// It reports false, and drops it, once Close has begun; with maxPending set
// it may block until an item finishes or Close begins.
func (q *Queue) Add(key string, it Item) bool {
	if q.pending != nil {
		select {
		case q.pending <- struct{}{}:
		case <-q.done:
			it.Drop()
			return false
		}
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.release()
		it.Drop()
		return false
	}
	if key != "" {
		if waiting, busy := q.keys[key]; busy {
			q.keys[key] = append(waiting, it)
			q.mu.Unlock()
			return true
		}
		q.keys[key] = nil // busy from here on: its worker is starting
	}
	q.mu.Unlock()
	select {
	case q.idle <- start{key, it}: // a parked worker takes it
	default:
		q.mu.Lock()
		if q.closed { // Close began meanwhile: it must not wait for a worker added now
			q.mu.Unlock()
			q.release()
			it.Drop()
			q.dropKey(key)
			return false
		}
		q.wg.Add(1)
		q.mu.Unlock()
		go q.worker(start{key, it})
	}
	return true
}

// worker drains keys, parking between them, until Close or until enough
// workers are parked.
func (q *Queue) worker(s start) {
	defer q.wg.Done()
	for {
		q.work(s.key, s.it)
		if q.parked.Add(1) > int32(cap(q.slots)) {
			q.parked.Add(-1)
			return
		}
		select {
		case s = <-q.idle:
			q.parked.Add(-1)
		case <-q.done:
			q.parked.Add(-1)
			return
		}
	}
}

func (q *Queue) release() {
	if q.pending != nil {
		<-q.pending
	}
}

// work runs it and then the items that queue behind it under key.
func (q *Queue) work(key string, it Item) {
	for {
		if !q.acquire() {
			q.release()
			it.Drop()
			q.dropKey(key)
			return
		}
		it.Run()
		<-q.slots
		q.release()
		if key == "" {
			return
		}
		q.mu.Lock()
		waiting := q.keys[key]
		if len(waiting) == 0 {
			delete(q.keys, key)
			q.mu.Unlock()
			return
		}
		it = waiting[0]
		waiting[0] = nil
		q.keys[key] = waiting[1:]
		q.mu.Unlock()
	}
}

// acquire takes a slot; false once Close has begun.
func (q *Queue) acquire() bool {
	select {
	case q.slots <- struct{}{}: // the common case: a slot is free
		select {
		case <-q.done:
			<-q.slots
			return false
		default:
			return true
		}
	default:
	}
	select {
	case q.slots <- struct{}{}:
		return true
	case <-q.done:
		return false
	}
}

// dropKey drops the items waiting under key and ends its worker's claim.
func (q *Queue) dropKey(key string) {
	if key == "" {
		return
	}
	q.mu.Lock()
	waiting := q.keys[key]
	delete(q.keys, key)
	q.mu.Unlock()
	for _, it := range waiting {
		q.release()
		it.Drop()
	}
}

// Forget drops the waiting items of every key match accepts; an item
// already running finishes, and items added later run after it.
func (q *Queue) Forget(match func(key string) bool) {
	var dropped []Item
	q.mu.Lock()
	for k, waiting := range q.keys {
		if len(waiting) == 0 || !match(k) {
			continue
		}
		dropped = append(dropped, waiting...)
		q.keys[k] = waiting[:0:0]
	}
	q.mu.Unlock()
	for _, it := range dropped {
		q.release()
		it.Drop()
	}
}

// Waiting returns how many items wait behind key's running one.
func (q *Queue) Waiting(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.keys[key])
}

// Close stops starting items, drops the waiting ones and waits for the
// running ones to return. Add fails from then on. Close is idempotent.
func (q *Queue) Close() {
	q.once.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.done)
	})
	q.wg.Wait()
}

// Depth returns how many items run and how many wait behind running ones
// (for metrics: it takes the lock and walks the keys, so call it at
// scrape time, not per item).
func (q *Queue) Depth() (running, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, its := range q.keys {
		waiting += len(its)
	}
	return len(q.slots), waiting
}

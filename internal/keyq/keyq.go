// Package keyq runs work keyed by a string: the items of one key one at a
// time, in the order they were added, and the items of different keys in
// parallel, at most a limit at once. msgbus's server runs its calls through
// it (the key is the record key), and the adapter SDK its per-device work.
//
// An item with the empty key keeps no order: it runs as soon as a worker is
// free. Items whose key is free wait in one ready queue, first in first
// out; at most limit workers take items from it, and a worker that finishes
// one takes the next without parking, so that a burst of calls costs a few
// goroutine wake-ups rather than one per call (under load, the wait for
// the scheduler was most of a fast call's time). Add wakes a parked worker
// (or starts one, up to limit) only when none is already on its way to the
// queue; a worker that takes an item and sees more ready wakes the next,
// so that a slow item never holds up the keys behind it while a worker is
// free. Workers park between bursts until Close.
package keyq

import (
	"sync"
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
	limit   int
	pending chan struct{} // one per item queued or running; nil: unbounded
	done    chan struct{} // closed by Close: unblocks Adds waiting on pending
	once    sync.Once

	mu      sync.Mutex // guards everything below
	idle    sync.Cond  // parked workers wait on it, with mu
	keys    map[string][]Item
	ready   []entry // items whose key is free, oldest first from head
	head    int     // index of the oldest ready item
	workers int     // started and not returned
	parked  int     // waiting on idle
	waking  int     // woken or started, not yet at the ready queue
	closed  bool
	wg      sync.WaitGroup // the workers

	idleFn func() // WithIdle's; nil if none
}

// Option configures a Queue.
type Option func(*Queue)

// WithIdle has a worker call fn when it finds no item ready, before it
// parks: the end of a burst. msgbus's server produces the responses of a
// burst then, together. fn must not block or call the Queue.
func WithIdle(fn func()) Option { return func(q *Queue) { q.idleFn = fn } }

// entry is a ready item with its key. keys holds, for every key with an
// item ready or running, the items waiting behind it.
type entry struct {
	key string
	it  Item
}

// New returns a Queue that runs at most limit items at once (limit < 1
// counts as 1). With maxPending > 0, Add blocks while maxPending items are
// queued or running, so that a producer cannot queue without bound;
// maxPending <= 0 never blocks.
func New(limit, maxPending int, opts ...Option) *Queue {
	q := &Queue{
		limit: max(limit, 1),
		done:  make(chan struct{}),
		keys:  make(map[string][]Item),
	}
	for _, o := range opts {
		o(q)
	}
	q.idle.L = &q.mu
	if maxPending > 0 {
		q.pending = make(chan struct{}, maxPending)
	}
	return q
}

// Add queues it behind the other items of key, or makes it ready. It
// reports false, and drops it, once Close has begun; with maxPending set it
// may block until an item finishes or Close begins.
func (q *Queue) Add(key string, it Item) bool { return q.add(key, it, true) }

// AddQuiet is Add without waking a worker for it: for a caller that runs
// ready items itself (RunReady) and calls Wake for those it leaves, so that
// a burst of quick items costs no goroutine switch at all. When maxPending
// items are queued it wakes workers before it waits.
func (q *Queue) AddQuiet(key string, it Item) bool { return q.add(key, it, false) }

func (q *Queue) add(key string, it Item, wake bool) bool {
	if q.pending != nil {
		select {
		case q.pending <- struct{}{}:
		default:
			if !wake {
				q.Wake() // the quiet items ahead must run for this one to enter
			}
			select {
			case q.pending <- struct{}{}:
			case <-q.done:
				it.Drop()
				return false
			}
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
		q.keys[key] = nil // busy from here on: its item is ready
	}
	q.pushLocked(entry{key, it}, wake)
	q.mu.Unlock()
	return true
}

// RunReady runs the oldest ready item on the calling goroutine, as a
// worker would, if take accepts it, and reports whether it ran one. take
// is called with the Queue locked: it must not call the Queue. The item
// runs beside the limit's workers; the next item of its key is made ready
// after it, with a worker woken for it. Close does not wait for it.
func (q *Queue) RunReady(take func(Item) bool) bool {
	q.mu.Lock()
	if q.closed || q.head == len(q.ready) || !take(q.ready[q.head].it) {
		q.mu.Unlock()
		return false
	}
	e := q.popLocked()
	q.mu.Unlock()
	e.it.Run()
	q.release()
	q.mu.Lock()
	q.nextLocked(e.key)
	q.mu.Unlock()
	return true
}

// Wake sees that a worker comes for the ready items, if there are any.
func (q *Queue) Wake() {
	q.mu.Lock()
	if q.head < len(q.ready) {
		q.wakeLocked()
	}
	q.mu.Unlock()
}

// popLocked takes the oldest ready item; there is one.
func (q *Queue) popLocked() entry {
	e := q.ready[q.head]
	q.ready[q.head] = entry{}
	if q.head++; q.head == len(q.ready) {
		q.ready, q.head = q.ready[:0], 0
	}
	return e
}

// pushLocked appends e to the ready queue and, if wake, sees that a worker
// comes for it.
func (q *Queue) pushLocked(e entry, wake bool) {
	if q.head > 0 && q.head >= len(q.ready)/2 && len(q.ready) == cap(q.ready) {
		n := copy(q.ready, q.ready[q.head:])
		clear(q.ready[n:])
		q.ready, q.head = q.ready[:n], 0
	}
	q.ready = append(q.ready, e)
	if wake {
		q.wakeLocked()
	}
}

// wakeLocked wakes a parked worker, or starts one below the limit, unless
// one is already on its way to the ready queue.
func (q *Queue) wakeLocked() {
	switch {
	case q.waking > 0 || q.closed:
	case q.parked > 0:
		q.parked--
		q.waking++
		q.idle.Signal()
	case q.workers < q.limit:
		q.workers++
		q.waking++
		q.wg.Add(1)
		go q.worker()
	}
}

// worker takes ready items until Close, parking when there are none. It
// counts in q.waking whenever it looks at the ready queue.
func (q *Queue) worker() {
	defer q.wg.Done()
	q.mu.Lock()
	defer q.mu.Unlock()
	idled := true // no item run since idleFn last ran (or ever)
	for {
		if q.closed {
			q.waking--
			q.workers--
			return
		}
		if q.head == len(q.ready) && q.idleFn != nil && !idled {
			idled = true // once per finding the queue empty
			q.mu.Unlock()
			q.idleFn()
			q.mu.Lock()
			continue
		}
		if q.head == len(q.ready) {
			q.waking--
			q.parked++
			q.idle.Wait() // wakeLocked moves it back to waking; Close wakes all
			if q.closed {
				q.workers--
				return
			}
			continue
		}
		idled = false
		e := q.popLocked()
		q.waking--
		if q.head < len(q.ready) {
			q.wakeLocked() // more ready: the next worker comes for them
		}
		q.mu.Unlock()
		e.it.Run()
		q.release()
		q.mu.Lock()
		q.waking++
		q.nextLocked(e.key)
	}
}

// nextLocked makes ready the item waiting first behind key's, or frees
// key. Once Close has begun there is none: Close dropped them.
func (q *Queue) nextLocked(key string) {
	if key == "" || q.closed {
		return
	}
	waiting := q.keys[key]
	if len(waiting) == 0 {
		delete(q.keys, key)
		return
	}
	it := waiting[0]
	waiting[0] = nil
	q.keys[key] = waiting[1:]
	q.pushLocked(entry{key, it}, true)
}

func (q *Queue) release() {
	if q.pending != nil {
		<-q.pending
	}
}

// Forget drops the waiting items of every key match accepts; an item
// already ready or running goes on, and items added later run after it.
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
	q.drop(dropped)
}

func (q *Queue) drop(items []Item) {
	for _, it := range items {
		q.release()
		it.Drop()
	}
}

// Waiting returns how many items wait behind key's ready or running one.
func (q *Queue) Waiting(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.keys[key])
}

// Close stops starting items, drops the waiting ones and waits for the
// running ones to return. Add fails from then on. Close is idempotent.
func (q *Queue) Close() {
	q.once.Do(func() {
		var dropped []Item
		q.mu.Lock()
		q.closed = true
		for _, e := range q.ready[q.head:] {
			dropped = append(dropped, e.it)
		}
		q.ready, q.head = nil, 0
		for _, waiting := range q.keys {
			dropped = append(dropped, waiting...)
		}
		clear(q.keys)
		q.idle.Broadcast()
		q.mu.Unlock()
		close(q.done)
		q.drop(dropped)
	})
	q.wg.Wait()
}

// Depth returns how many items run and how many wait behind running ones
// (for metrics: it takes the lock and walks the keys, so call it at
// scrape time, not per item).
func (q *Queue) Depth() (running, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ready := len(q.ready) - q.head
	for _, its := range q.keys {
		waiting += len(its)
	}
	// Every key in keys has one item ready or running.
	return len(q.keys) - ready, waiting + ready
}

package adapter

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
)

// ErrStopped is what Do returns when its work was dropped: the adapter is
// stopping or the key was forgotten.
var ErrStopped = errors.New("adapter: work dropped (adapter stopping or device forgotten)")

// work owns the adapter's background work: a queue per key (a device id,
// or "<device id>/<anything>" for work under a device) that runs its items
// one at a time in order, and goroutines tied to a key. Every goroutine it
// starts ends when its key is forgotten or the adapter stops, and stop
// waits for all of them.
type work struct {
	log *slog.Logger
	sem chan struct{} // bounds the items running at once

	mu     sync.Mutex // guards ctx, queues, closed
	ctx    context.Context
	cancel context.CancelFunc
	queues map[string]*queue
	closed bool

	wg sync.WaitGroup // every goroutine started here
}

// queue is the work of one key. Its fields are guarded by work.mu.
type queue struct {
	ctx     context.Context // ends when the key is forgotten or the adapter stops
	cancel  context.CancelFunc
	jobs    []job
	running bool // a goroutine drains jobs
	tasks   int  // goroutines started by Go that have not returned
}

type job struct {
	run  func(context.Context) error
	drop func() // called instead of run when the job is dropped; may be nil
}

func newWork(limit int, log *slog.Logger) *work {
	ctx, cancel := context.WithCancel(context.Background())
	return &work{
		log:    log,
		sem:    make(chan struct{}, limit),
		ctx:    ctx,
		cancel: cancel,
		queues: make(map[string]*queue),
	}
}

// queueLocked returns key's queue, making it if needed.
func (w *work) queueLocked(key string) *queue {
	q := w.queues[key]
	if q == nil {
		ctx, cancel := context.WithCancel(w.ctx)
		q = &queue{ctx: ctx, cancel: cancel}
		w.queues[key] = q
	}
	return q
}

// idleLocked drops q from the map when nothing uses it any more.
func (w *work) idleLocked(key string, q *queue) {
	if q.running || q.tasks > 0 || len(q.jobs) > 0 {
		return
	}
	if w.queues[key] == q {
		delete(w.queues, key)
		q.cancel()
	}
}

// submit queues j under key; false when the adapter is stopping.
func (w *work) submit(key string, j job) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	q := w.queueLocked(key)
	q.jobs = append(q.jobs, j)
	if !q.running {
		q.running = true
		w.wg.Add(1)
		go w.drain(key, q)
	}
	return true
}

// drain runs q's jobs until there are none left.
func (w *work) drain(key string, q *queue) {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			w.idleLocked(key, q)
			w.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs[0] = job{}
		q.jobs = q.jobs[1:]
		w.mu.Unlock()

		select {
		case w.sem <- struct{}{}:
		case <-q.ctx.Done():
			if j.drop != nil {
				j.drop()
			}
			continue
		}
		err := j.run(q.ctx)
		<-w.sem
		if err != nil {
			if q.ctx.Err() != nil {
				w.log.Debug("work ended by stop", "key", key, "err", err)
			} else {
				w.log.Warn("work failed", "key", key, "err", err)
			}
		}
	}
}

// do runs fn in key's queue and waits for it. fn's context ends when ctx
// ends, the key is forgotten or the adapter stops.
func (w *work) do(ctx context.Context, key string, fn func(context.Context) error) error {
	done := make(chan error, 1)
	ok := w.submit(key, job{
		run: func(qctx context.Context) error {
			if err := ctx.Err(); err != nil {
				done <- err
				return nil
			}
			jctx, cancel := context.WithCancel(qctx)
			stop := context.AfterFunc(ctx, cancel)
			err := fn(jctx)
			stop()
			cancel()
			done <- err
			return nil // the caller has the error
		},
		drop: func() { done <- ErrStopped },
	})
	if !ok {
		return ErrStopped
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goTask runs fn in a goroutine tied to key; stop cancels its context and
// waits for it to return.
func (w *work) goTask(key string, fn func(context.Context)) (stop func()) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return func() {}
	}
	q := w.queueLocked(key)
	q.tasks++
	ctx, cancel := context.WithCancel(q.ctx)
	done := make(chan struct{})
	w.wg.Add(1)
	w.mu.Unlock()
	go func() {
		defer w.wg.Done()
		defer close(done)
		defer func() {
			cancel()
			w.mu.Lock()
			q.tasks--
			w.idleLocked(key, q)
			w.mu.Unlock()
		}()
		fn(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// forget ends the work of key and of every key under it ("key/…"): queued
// items are dropped, running ones and tasks see their context end. It does
// not wait.
func (w *work) forget(key string) {
	w.mu.Lock()
	var dropped []job
	for k, q := range w.queues {
		if k != key && !strings.HasPrefix(k, key+"/") {
			continue
		}
		q.cancel()
		dropped = append(dropped, q.jobs...)
		q.jobs = nil
		delete(w.queues, k)
	}
	w.mu.Unlock()
	for _, j := range dropped {
		if j.drop != nil {
			j.drop()
		}
	}
}

// stop drops the queued work, ends the running work and waits for every
// goroutine.
func (w *work) stop() {
	w.mu.Lock()
	w.closed = true
	w.cancel()
	var dropped []job
	for _, q := range w.queues {
		dropped = append(dropped, q.jobs...)
		q.jobs = nil
	}
	w.mu.Unlock()
	for _, j := range dropped {
		if j.drop != nil {
			j.drop()
		}
	}
	w.wg.Wait()
}

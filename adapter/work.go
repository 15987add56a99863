package adapter

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/openvolt/openvolt/internal/keyq"
)

// ErrStopped is what Do returns when its work was dropped: the adapter is
// stopping or the key was forgotten.
var ErrStopped = errors.New("adapter: work dropped (adapter stopping or device forgotten)")

// work owns the adapter's background work: items run through a keyq.Queue
// (one at a time per key, a device id or "<device id>/<anything>" for work
// under a device; bounded in parallel across keys), each key has a context
// that Forget ends, and goroutines can be tied to a key. Every goroutine
// it starts ends when its key is forgotten or the adapter stops, and stop
// waits for all of them.
type work struct {
	log *slog.Logger
	q   *keyq.Queue

	mu     sync.Mutex // guards ctx, keys, closed
	ctx    context.Context
	cancel context.CancelFunc
	keys   map[string]*keyCtx
	closed bool

	wg sync.WaitGroup // the goroutines started by goTask
}

// keyCtx is the context of one key, kept while something uses it. Its refs
// are guarded by work.mu.
type keyCtx struct {
	ctx    context.Context // ends when the key is forgotten or the adapter stops
	cancel context.CancelFunc
	refs   int // items queued or running and tasks not returned
}

type job struct {
	run  func(context.Context) error
	drop func() // called instead of run when the job is dropped; may be nil
}

func newWork(limit int, log *slog.Logger) *work {
	ctx, cancel := context.WithCancel(context.Background())
	return &work{
		log:    log,
		q:      keyq.New(limit, 0), // Submit must never block a handler
		ctx:    ctx,
		cancel: cancel,
		keys:   make(map[string]*keyCtx),
	}
}

// hold returns key's context, making it if needed, and counts one more
// user; false once the adapter is stopping.
func (w *work) hold(key string) (*keyCtx, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, false
	}
	kc := w.keys[key]
	if kc == nil {
		ctx, cancel := context.WithCancel(w.ctx)
		kc = &keyCtx{ctx: ctx, cancel: cancel}
		w.keys[key] = kc
	}
	kc.refs++
	return kc, true
}

// unhold counts one user less and drops key's context when none is left.
func (w *work) unhold(key string, kc *keyCtx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if kc.refs--; kc.refs > 0 {
		return
	}
	if w.keys[key] == kc {
		delete(w.keys, key)
	}
	kc.cancel()
}

// submit queues j under key; false when the adapter is stopping.
func (w *work) submit(key string, j job) bool {
	kc, ok := w.hold(key)
	if !ok {
		return false
	}
	drop := func() {
		if j.drop != nil {
			j.drop()
		}
		w.unhold(key, kc)
	}
	return w.q.Add(key, keyq.Funcs{
		OnRun: func() {
			if kc.ctx.Err() != nil { // forgotten or stopping meanwhile
				drop()
				return
			}
			if err := j.run(kc.ctx); err != nil {
				if kc.ctx.Err() != nil {
					w.log.Debug("work ended by stop", "key", key, "err", err)
				} else {
					w.log.Warn("work failed", "key", key, "err", err)
				}
			}
			w.unhold(key, kc)
		},
		OnDrop: drop,
	})
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
	kc, ok := w.hold(key)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(kc.ctx)
	done := make(chan struct{})
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(done)
		defer func() {
			cancel()
			w.unhold(key, kc)
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
	under := func(k string) bool { return k == key || strings.HasPrefix(k, key+"/") }
	w.mu.Lock()
	for k, kc := range w.keys {
		if under(k) {
			kc.cancel()
			delete(w.keys, k)
		}
	}
	w.mu.Unlock()
	w.q.Forget(under)
}

// stop drops the queued work, ends the running work and waits for every
// goroutine.
func (w *work) stop() {
	w.mu.Lock()
	w.closed = true
	w.cancel()
	w.mu.Unlock()
	w.q.Close()
	w.wg.Wait()
}

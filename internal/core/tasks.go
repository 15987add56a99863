package core

import (
	"context"
	"sync"
)

// tasks owns the core's background work (reconciles after a registration
// or Kafka connecting): each runs with the core's context and Run waits for
// all of them before it returns.
type tasks struct {
	mu  sync.Mutex // guards ctx against Go racing with start
	ctx context.Context
	wg  sync.WaitGroup
}

// start sets the context background work runs with.
func (t *tasks) start(ctx context.Context) {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
}

// Go runs fn in the background; before start or after the context ended it
// does nothing.
func (t *tasks) Go(fn func(ctx context.Context)) {
	t.mu.Lock()
	ctx := t.ctx
	if ctx == nil || ctx.Err() != nil {
		t.mu.Unlock()
		return
	}
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.wg.Done()
		fn(ctx)
	}()
}

// wait blocks until every task has returned.
func (t *tasks) wait() { t.wg.Wait() }

package msgbus

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context a server handler runs in: the server's context,
// the caller's deadline, the call's CallInfo and what grpc.Method needs, in
// one allocation. context.WithDeadline would start a timer per call, and
// two WithValue calls add three allocations more, a quarter of what a fast
// call allocates; most handlers never wait on Done, so callCtx arms its
// timer only when Done or Err is first called. release ends it (Canceled)
// once the call has answered.
type callCtx struct {
	context.Context // the server's context
	info            CallInfo
	hasDeadline     bool
	stream          context.Context // carries the method's grpc.ServerTransportStream
	ended           chan struct{}   // closed, shared by every call of a server; nil: none

	once  sync.Once // arms timer and stop, makes done
	mu    sync.Mutex
	done  chan struct{}
	err   error       // guarded by mu
	timer *time.Timer // guarded by mu
	stop  func() bool // stops the watch on the parent; guarded by mu
}

func (c *callCtx) Deadline() (time.Time, bool) { return c.info.Deadline, c.hasDeadline }

func (c *callCtx) Done() <-chan struct{} {
	c.once.Do(c.start)
	return c.done
}

func (c *callCtx) Err() error {
	c.once.Do(c.start)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value answers the CallInfo and the transport stream itself. It hides
// the parent's *int keys, which is how package context finds the nearest
// cancelCtx: context.Cause would otherwise report the server's cause, not
// this context's deadline.
func (c *callCtx) Value(key any) any {
	switch key.(type) {
	case callInfoKey:
		return &c.info
	case *int:
		return nil
	}
	if v := c.stream.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// start arms the timer and the watch on the parent.
func (c *callCtx) start() {
	c.done = make(chan struct{})
	if err := c.Context.Err(); err != nil {
		c.end(err)
		return
	}
	var d time.Duration
	if c.hasDeadline {
		if d = time.Until(c.info.Deadline); d <= 0 {
			c.end(context.DeadlineExceeded)
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if c.hasDeadline {
		c.timer = time.AfterFunc(d, func() { c.end(context.DeadlineExceeded) })
	}
	c.stop = context.AfterFunc(c.Context, func() { c.end(c.Context.Err()) })
}

// end closes done with err, once.
func (c *callCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != c.ended {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stop != nil {
		c.stop()
	}
}

// release ends the context (Canceled): its timer and the goroutines of
// child contexts go, and a goroutine the handler left behind sees it end.
func (c *callCtx) release() {
	c.once.Do(func() { // nobody looked: no timer to arm, no channel to make
		c.done = c.ended
		if c.done == nil {
			c.done = make(chan struct{})
		}
	})
	c.end(context.Canceled)
}

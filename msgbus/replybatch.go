package msgbus

import (
	"sync"
	"time"
)

// replyBatch holds the responses of the calls a server ran until its
// executor runs out of ready calls (keyq.WithIdle), then produces them
// together: the records of one burst of calls reach kgo at once and travel
// in one produce request, as a raw loop that produces in its poll loop
// would send them. Produced one by one as each call ends, the first goes
// alone (linger 0) and the rest wait for its round trip to the broker.
// A batch that reaches replyBatchMax goes at once, so that a backlog that
// keeps the executor busy does not hold answered calls back, and none
// waits longer than replyHoldMax: while every worker runs a call that
// waits on another process, that process may be waiting on a held
// response (the core's handler calls an adapter whose work for the device
// waits on the core's answer to its previous call), so the executor may
// not idle until those calls time out.
type replyBatch struct {
	mu    sync.Mutex // guards buf and timer
	buf   []*outReply
	timer *time.Timer // flushes a batch held replyHoldMax; nil until the first
}

// replyBatchMax is the most responses a batch holds before it goes, and
// replyHoldMax the longest the first of them waits.
const (
	replyBatchMax = 64
	replyHoldMax  = time.Millisecond
)

// add queues o (nil is none).
func (b *replyBatch) add(o *outReply) {
	if o == nil {
		return
	}
	b.mu.Lock()
	if len(b.buf) == 0 {
		if b.timer == nil {
			b.timer = time.AfterFunc(replyHoldMax, b.flush)
		} else {
			b.timer.Reset(replyHoldMax)
		}
	}
	b.buf = append(b.buf, o)
	full := len(b.buf) >= replyBatchMax
	b.mu.Unlock()
	if full {
		b.flush()
	}
}

// flush produces the queued responses.
func (b *replyBatch) flush() {
	b.mu.Lock()
	buf := b.buf
	b.buf = nil
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
	for _, o := range buf {
		o.produce()
	}
}

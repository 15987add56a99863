package msgbus

import "sync"

// replyBatch holds the responses of the calls a server ran until its
// executor runs out of ready calls (keyq.WithIdle), then produces them
// together: the records of one burst of calls reach kgo at once and travel
// in one produce request, as a raw loop that produces in its poll loop
// would send them. Produced one by one as each call ends, the first goes
// alone (linger 0) and the rest wait for its round trip to the broker.
// A batch that reaches replyBatchMax goes at once, so that a backlog that
// keeps the executor busy does not hold answered calls back.
type replyBatch struct {
	mu  sync.Mutex // guards buf
	buf []*outReply
}

// replyBatchMax is the most responses a batch holds before it goes.
const replyBatchMax = 64

// add queues o (nil is none).
func (b *replyBatch) add(o *outReply) {
	if o == nil {
		return
	}
	b.mu.Lock()
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
	b.mu.Unlock()
	for _, o := range buf {
		o.produce()
	}
}

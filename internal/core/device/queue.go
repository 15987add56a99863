package device

import "context"

// queue runs one device's operations one at a time, in the order they
// acquire it. Acquire honours the caller's context, so a caller that gives
// up does not wait forever behind a slow adapter.
type queue chan struct{}

func newQueue() queue { return make(queue, 1) }

// acquire waits for the queue; the caller must call the returned release
// (with defer) exactly once.
func (q queue) acquire(ctx context.Context) (release func(), err error) {
	select {
	case q <- struct{}{}:
		return func() { <-q }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

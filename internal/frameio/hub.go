package frameio

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// hub is what every Port shares: subscriptions, VLAN sub-ports, counters and
// the send path. A root hub belongs to a RawPort or MemPort and transmits
// through xmit; a child hub is a VLAN sub-port and sends through its parent.
//
// Received frames flow down the tree on the receiving goroutine (the RawPort's
// reader, or a MemPort peer's sender): each hub offers the frame to its
// subscribers' queues and, with the outer tag popped, to the children whose tag
// it carries. Only the subscriptions' own goroutines run handlers.
//
// Locking: mu is never held while calling into another hub, a filter or a
// handler, so hubs take no two locks at once.
type hub struct {
	name     string
	queueLen int
	log      *slog.Logger
	parent   *hub                     // nil for a root
	tag      Tag                      // child: the tag its frames carry on the parent
	xmit     func(frame []byte) error // root: puts a padded frame on the wire

	closed atomic.Bool // set once, under mu

	mu   sync.Mutex           // guards replacing view and setting closed
	view atomic.Pointer[view] // read without mu by dispatch

	received, discarded, malformed, dropped atomic.Uint64
	sent, sendErrors                        atomic.Uint64
}

// view is an immutable snapshot of a hub's receivers; changes replace it.
type view struct {
	subs     []*subscription
	children []*hub
}

func newRoot(name string, opts Options, xmit func([]byte) error) *hub {
	h := &hub{name: name, queueLen: opts.queueLen(), log: opts.logger(), xmit: xmit}
	h.view.Store(&view{})
	return h
}

func (h *hub) Name() string { return h.name }

// receive takes a frame that arrived on a root port. scratch says the caller
// reuses frame's memory after receive returns, so it is copied before a
// subscriber gets it.
func (h *hub) receive(frame []byte, scratch bool) {
	if h.closed.Load() {
		return
	}
	h.received.Add(1)
	if _, _, err := walkTags(frame); err != nil {
		h.dropMalformed(len(frame), err)
		return
	}
	h.dispatch(frame, scratch)
}

// receiveMalformed counts a frame that arrived but could not even be read whole.
func (h *hub) receiveMalformed(n int, err error) {
	if h.closed.Load() {
		return
	}
	h.received.Add(1)
	h.dropMalformed(n, err)
}

func (h *hub) dropMalformed(n int, err error) {
	h.malformed.Add(1)
	h.log.Debug("malformed frame dropped", "port", h.name, "len", n, "err", err)
}

// dispatch offers a well-formed frame to h's subscribers and sub-ports and
// reports whether any of them took it.
func (h *hub) dispatch(frame []byte, scratch bool) bool {
	v := h.view.Load()
	took := false
	for _, s := range v.subs {
		if s.filter != nil && !s.filter.Match(frame) {
			continue
		}
		took = true
		if scratch {
			frame, scratch = bytes.Clone(frame), false
		}
		if !s.offer(frame) {
			h.dropped.Add(1)
		}
	}
	if len(v.children) > 0 {
		if outer, ok := OuterTag(frame); ok {
			var inner []byte // popped once, shared by every matching child
			for _, c := range v.children {
				if c.tag.TPID != outer.TPID || c.tag.VID != outer.VID {
					continue
				}
				if inner == nil {
					inner = popped(frame)
				}
				c.received.Add(1)
				if c.dispatch(inner, false) {
					took = true
				}
			}
		}
	}
	if !took {
		h.discarded.Add(1)
	}
	return took
}

func (h *hub) Send(frame []byte) error {
	if h.closed.Load() {
		h.sendErrors.Add(1)
		return ErrClosed
	}
	var err error
	switch {
	case len(frame) < HeaderLen:
		err = ErrShortFrame
	case h.parent == nil:
		err = h.xmit(Pad(frame))
	default:
		var tagged []byte
		if tagged, err = PushTag(frame, h.tag); err == nil {
			err = h.parent.Send(tagged)
		}
	}
	if err != nil {
		h.sendErrors.Add(1)
		return err
	}
	h.sent.Add(1)
	return nil
}

func (h *hub) Subscribe(f Filter, handler Handler) (unsubscribe func()) {
	if handler == nil {
		panic("frameio: Subscribe with a nil handler")
	}
	s := &subscription{
		filter:  f,
		handler: handler,
		queue:   make(chan []byte, h.queueLen),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	h.mu.Lock()
	if h.closed.Load() {
		h.mu.Unlock()
		return func() {}
	}
	go s.run()
	old := h.view.Load()
	h.view.Store(&view{subs: append(cloneSlice(old.subs), s), children: old.children})
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		old := h.view.Load()
		h.view.Store(&view{subs: without(old.subs, s), children: old.children})
		h.mu.Unlock()
		s.halt()
	}
}

func (h *hub) VLAN(vid uint16, opts ...VLANOption) (Port, error) {
	t := Tag{TPID: TPIDCTag, VID: vid}
	for _, o := range opts {
		o(&t)
	}
	if vid > MaxVID {
		return nil, fmt.Errorf("%w: VID %d > %d", ErrInvalidTag, vid, MaxVID)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	c := &hub{
		name:     fmt.Sprintf("%s.%d", h.name, vid),
		queueLen: h.queueLen,
		log:      h.log,
		parent:   h,
		tag:      t,
	}
	c.view.Store(&view{})
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return nil, ErrClosed
	}
	old := h.view.Load()
	h.view.Store(&view{subs: old.subs, children: append(cloneSlice(old.children), c)})
	return c, nil
}

func (h *hub) Counters() Counters {
	return Counters{
		Received:   h.received.Load(),
		Discarded:  h.discarded.Load(),
		Malformed:  h.malformed.Load(),
		Dropped:    h.dropped.Load(),
		Sent:       h.sent.Load(),
		SendErrors: h.sendErrors.Load(),
	}
}

// Close is the Port method of a sub-port; roots close their hub after their
// own resources.
func (h *hub) Close() error {
	h.close()
	return nil
}

// close ends every subscription and sub-port of h, waits for their goroutines
// and detaches h from its parent.
func (h *hub) close() {
	h.mu.Lock()
	if h.closed.Load() {
		h.mu.Unlock()
		return
	}
	h.closed.Store(true)
	v := h.view.Swap(&view{})
	h.mu.Unlock()

	for _, s := range v.subs {
		s.halt()
	}
	for _, c := range v.children {
		c.close()
	}
	if p := h.parent; p != nil {
		p.mu.Lock()
		old := p.view.Load()
		p.view.Store(&view{subs: old.subs, children: without(old.children, h)})
		p.mu.Unlock()
	}
}

// subscription is one Subscribe call: a bounded queue and the goroutine that
// drains it into the handler. The goroutine is owned by the subscription and
// ends in halt, called by unsubscribe or by the hub's close.
type subscription struct {
	filter  Filter
	handler Handler
	queue   chan []byte   // never closed: a late offer must not panic
	stop    chan struct{} // closed by halt
	done    chan struct{} // closed when run returns
	once    sync.Once
}

func (s *subscription) run() {
	defer close(s.done)
	for {
		// Check stop first so a full queue cannot delay the end.
		select {
		case <-s.stop:
			return
		default:
		}
		select {
		case <-s.stop:
			return
		case f := <-s.queue:
			s.handler(f)
		}
	}
}

// offer queues a frame without blocking and reports whether it fitted.
func (s *subscription) offer(frame []byte) bool {
	select {
	case s.queue <- frame:
		return true
	default:
		return false
	}
}

func (s *subscription) halt() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

func cloneSlice[T any](s []T) []T {
	return append(make([]T, 0, len(s)+1), s...)
}

func without[T comparable](s []T, x T) []T {
	out := make([]T, 0, len(s))
	for _, e := range s {
		if e != x {
			out = append(out, e)
		}
	}
	return out
}

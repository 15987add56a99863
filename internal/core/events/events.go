// Package events fans change events out to NBI streams and to a sink (the
// Kafka topic volt.events).
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// subBuffer is how many events a subscriber may fall behind before it is cut
// off; a cut-off stream ends, so its client knows to re-read state.
const subBuffer = 4096

type sub struct {
	ch     chan *voltv1.Event
	filter func(*voltv1.Event) bool
}

// Bus delivers every published event to every subscriber whose filter
// accepts it, and to the sink.
type Bus struct {
	sink func(*voltv1.Event)

	mu   sync.Mutex // guards subs
	subs map[*sub]struct{}

	dropped atomic.Uint64
}

// New returns a bus; sink (may be nil) sees every event and must not block.
func New(sink func(*voltv1.Event)) *Bus {
	return &Bus{sink: sink, subs: make(map[*sub]struct{})}
}

// Publish stamps ev with an id and time (when missing) and delivers it.
func (b *Bus) Publish(ev *voltv1.Event) {
	if ev.GetId() == "" {
		var id [8]byte
		_, _ = rand.Read(id[:])
		ev.Id = hex.EncodeToString(id[:])
	}
	if ev.GetTime() == nil {
		ev.Time = timestamppb.Now()
	}
	b.mu.Lock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(ev) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			// Too slow: end its stream rather than lose events silently.
			delete(b.subs, s)
			close(s.ch)
			b.dropped.Add(1)
		}
	}
	b.mu.Unlock()
	if b.sink != nil {
		b.sink(ev)
	}
}

// Subscribe returns a channel of the events that filter (nil: all) accepts,
// published after the call. The channel closes when ctx ends or when the
// subscriber falls too far behind.
func (b *Bus) Subscribe(ctx context.Context, filter func(*voltv1.Event) bool) <-chan *voltv1.Event {
	s := &sub{ch: make(chan *voltv1.Event, subBuffer), filter: filter}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	})
	return s.ch
}

// Dropped counts subscribers cut off for falling behind.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// Package events fans change events out to NBI streams and to a sink (the
// Kafka topic volt.events).
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// subBuffer is how many events a subscriber may fall behind before it is cut
// off; a cut-off stream ends, so its client knows to re-read state. A
// wildcard flow delete publishes one event per flow at once, so it is
// large (a slot is a pointer).
const subBuffer = 65536

type sub struct {
	ch     chan *voltv1.Event
	filter func(*voltv1.Event) bool
}

// FanOut delivers every published event to every subscriber whose filter
// accepts it, and to the sink.
type FanOut struct {
	sink func(*voltv1.Event)

	// Event ids are idBase, random per FanOut so unique across restarts, and
	// a sequence number: no random read per event.
	idBase string
	seq    atomic.Uint64

	mu   sync.Mutex // guards subs
	subs map[*sub]struct{}

	dropped atomic.Uint64
}

// New returns a fan-out; sink (may be nil) sees every event and must not block.
func New(sink func(*voltv1.Event)) *FanOut {
	var base [8]byte
	_, _ = rand.Read(base[:]) // never fails (crypto/rand documents it)
	return &FanOut{sink: sink, idBase: hex.EncodeToString(base[:]), subs: make(map[*sub]struct{})}
}

// Publish stamps ev with an id and time (when missing) and delivers it.
// Ids are "<16 hex digits, random per FanOut>-<sequence number in base 36>".
func (b *FanOut) Publish(ev *voltv1.Event) {
	if ev.GetId() == "" {
		ev.Id = b.nextID()
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

// nextID returns a new event id in one allocation.
func (b *FanOut) nextID() string {
	var buf [48]byte
	id := append(append(buf[:0], b.idBase...), '-')
	return string(strconv.AppendUint(id, b.seq.Add(1), 36))
}

// Subscribe returns a channel of the events that filter (nil: all) accepts,
// published after the call. The channel closes when ctx ends or when the
// subscriber falls too far behind.
func (b *FanOut) Subscribe(ctx context.Context, filter func(*voltv1.Event) bool) <-chan *voltv1.Event {
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
func (b *FanOut) Dropped() uint64 { return b.dropped.Load() }

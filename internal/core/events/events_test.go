package events_test

import (
	"strings"
	"sync"
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/events"
)

// Publish gives every event without an id one that no other event of this
// fan-out, or of another (a core restarted), has; it keeps an id it is
// given, and stamps the time.
func TestPublishIDs(t *testing.T) {
	seen := map[string]bool{}
	var mu sync.Mutex // guards seen
	sink := func(ev *voltv1.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.GetTime() == nil {
			t.Errorf("event %s without a time", ev.GetId())
		}
		if seen[ev.GetId()] {
			t.Errorf("id %s twice", ev.GetId())
		}
		seen[ev.GetId()] = true
	}
	const fanOuts, perFanOut = 4, 1000
	var wg sync.WaitGroup
	for range fanOuts {
		fo := events.New(sink)
		for range 2 {
			wg.Go(func() {
				for range perFanOut / 2 {
					fo.Publish(&voltv1.Event{})
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != fanOuts*perFanOut {
		t.Fatalf("%d ids, want %d", len(seen), fanOuts*perFanOut)
	}
	prefixes := map[string]bool{}
	for id := range seen {
		p, _, _ := strings.Cut(id, "-")
		prefixes[p] = true
	}
	if len(prefixes) != fanOuts {
		t.Errorf("%d id prefixes, want one per fan-out (%d)", len(prefixes), fanOuts)
	}
	ev := &voltv1.Event{Id: "mine"}
	events.New(sink).Publish(ev)
	if ev.GetId() != "mine" {
		t.Errorf("given id replaced by %s", ev.GetId())
	}
}

// BenchmarkPublish measures what Publish costs the core per event: the id,
// the time and the hand-off to the sink, with no stream subscribed.
func BenchmarkPublish(b *testing.B) {
	fo := events.New(func(*voltv1.Event) {})
	for b.Loop() {
		fo.Publish(&voltv1.Event{LogicalDeviceId: "ld-1"})
	}
}

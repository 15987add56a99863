package core

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/events"
)

// A follower that falls so far behind that the fan-out cuts it off
// catches up from state (resync) and follows the new events: it does not
// stop, as the core's followers did before, leaving alarms and routes
// stale until a restart.
func TestFollowerCutOffResyncs(t *testing.T) {
	p := &parts{events: events.New(nil), log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	var resyncs atomic.Int32
	var last atomic.Value // the device id of the last event handled
	f := follower{
		name:   "test",
		filter: deviceEvents,
		on: func(_ context.Context, ev *voltv1.Event) {
			<-release
			last.Store(ev.GetDevice().GetDevice().GetId())
		},
		resync: func(context.Context) { resyncs.Add(1) },
	}
	ch := p.subscribe(ctx, f)
	done := make(chan struct{})
	go func() { defer close(done); p.follow(ctx, f, ch) }()
	device := func(id string) *voltv1.Event {
		return &voltv1.Event{Payload: &voltv1.Event_Device{Device: &voltv1.DeviceChange{Device: &voltv1.Device{Id: id}}}}
	}
	for range 70000 { // more than a subscriber may fall behind
		p.events.Publish(device("before"))
	}
	if p.events.Dropped() != 1 {
		t.Fatalf("%d subscribers cut off, want 1", p.events.Dropped())
	}
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for last.Load() != "after" {
		if time.Now().After(deadline) {
			t.Fatalf("the follower handled no event after it was cut off (resyncs %d, last %v)", resyncs.Load(), last.Load())
		}
		p.events.Publish(device("after"))
		time.Sleep(10 * time.Millisecond)
	}
	if n := resyncs.Load(); n != 2 {
		t.Errorf("%d resyncs, want 2: at start and after the cut-off", n)
	}
	cancel()
	<-done
}

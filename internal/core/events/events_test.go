package events_test

import (
	"testing"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/events"
)

// BenchmarkPublish measures what Publish costs the core per event: the id,
// the time and the hand-off to the sink, with no stream subscribed.
func BenchmarkPublish(b *testing.B) {
	bus := events.New(func(*voltv1.Event) {})
	for b.Loop() {
		bus.Publish(&voltv1.Event{LogicalDeviceId: "ld-1"})
	}
}

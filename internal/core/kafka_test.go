package core

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/msgbus"
)

// recordLog keeps the messages and attributes of the records it handles.
type recordLog struct {
	mu   sync.Mutex // guards recs
	recs []map[string]any
}

func (h *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordLog) WithGroup(string) slog.Handler            { return h }

func (h *recordLog) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.Any()
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, m)
	h.mu.Unlock()
	return nil
}

// With the queue to Kafka full, publishEvent drops events without
// blocking, counts them, and warns at most once per dropLogEvery with the
// count.
func TestPublishEventDropsWhenBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &recordLog{}
		b, err := newKafka(Config{}, slog.New(h))
		if err != nil {
			t.Fatal(err)
		}
		for range eventBuffer {
			b.publishEvent(&voltv1.Event{})
		}
		if n := b.droppedEvents(); n != 0 || len(h.recs) != 0 {
			t.Fatalf("queue not full yet: %d dropped, %d log lines", n, len(h.recs))
		}
		for range 10 {
			b.publishEvent(&voltv1.Event{Id: "e1"})
		}
		time.Sleep(dropLogEvery)
		for range 5 {
			b.publishEvent(&voltv1.Event{Id: "e2"})
		}
		if n := b.droppedEvents(); n != 15 {
			t.Errorf("%d dropped, want 15", n)
		}
		want := []map[string]any{
			{"msg": "event dropped: Kafka is behind", "event": "e1", "dropped": uint64(1), "dropped_total": uint64(1)},
			{"msg": "event dropped: Kafka is behind", "event": "e2", "dropped": uint64(10), "dropped_total": uint64(11)},
		}
		if len(h.recs) != len(want) {
			t.Fatalf("log %v, want %v", h.recs, want)
		}
		for i := range want {
			for k, v := range want[i] {
				if h.recs[i][k] != v {
					t.Errorf("log line %d: %s = %v, want %v", i, k, h.recs[i][k], v)
				}
			}
		}
	})
}

// Events reach volt.events keyed by device and, however the publisher
// batches them, in order per device.
func TestEventsInOrderPerDevice(t *testing.T) {
	br, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	p := runBus(t, br.Addrs())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reader, err := msgbus.Dial(ctx, msgbus.Config{Brokers: br.Addrs(), Name: "events-reader"})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var (
		mu   sync.Mutex // guards got
		got  = map[string][]int{}
		seen int
	)
	sub, err := reader.Subscribe(ctx, DefaultEventsTopic, "order-test", func(_ context.Context, ev *msgbus.Event) {
		e := ev.Message.(*voltv1.Event)
		i, err := strconv.Atoi(e.GetId())
		mu.Lock()
		defer mu.Unlock()
		seen++
		if err != nil || ev.Key != e.GetDeviceId() {
			t.Errorf("event %q keyed %q, device %q", e.GetId(), ev.Key, e.GetDeviceId())
			return
		}
		got[ev.Key] = append(got[ev.Key], i)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	const devices, n = 10, 5000 // n fits in the queue: nothing is dropped
	for i := range n {
		p.events.Publish(&voltv1.Event{Id: strconv.Itoa(i), DeviceId: fmt.Sprintf("olt-%d", i%devices)})
	}
	for {
		mu.Lock()
		done := seen >= n
		mu.Unlock()
		if done {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d events on %s", seen, n, DefaultEventsTopic)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for dev, ids := range got {
		if !slices.IsSorted(ids) || len(ids) != n/devices {
			t.Errorf("%s: %d events, in order %v", dev, len(ids), slices.IsSorted(ids))
		}
	}
	if d := p.kafka.droppedEvents(); d != 0 || len(got) != devices {
		t.Errorf("%d devices, %d events dropped", len(got), d)
	}
}

package msgbus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// Published events reach subscribers, decoded, keyed by device, in order
// per key; a record that is not an event is skipped.
func TestPublishSubscribe(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("volt.events")
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	type got struct {
		mu  sync.Mutex
		evs []*msgbus.Event
	}
	var grouped, tail got
	collect := func(g *got) msgbus.EventHandler {
		return func(_ context.Context, ev *msgbus.Event) {
			g.mu.Lock()
			g.evs = append(g.evs, ev)
			g.mu.Unlock()
		}
	}
	sub1, err := conn.Subscribe(ctx, topic, "ofagent", collect(&grouped))
	if err != nil {
		t.Fatal(err)
	}
	defer sub1.Close()
	sub2, err := conn.Subscribe(ctx, topic, "", collect(&tail))
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()

	// A stray record on the topic.
	raw, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("olt-1"), Value: []byte("junk")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	const n = 20
	var want []proto.Message
	for i := range n {
		ev := &voltv1.Event{Id: fmt.Sprint(i), DeviceId: fmt.Sprintf("olt-%d", i%2)}
		want = append(want, ev)
		if err := conn.Publish(ctx, topic, ev); err != nil {
			t.Fatal(err)
		}
	}
	for name, g := range map[string]*got{"group": &grouped, "no group": &tail} {
		eventually(t, 20*time.Second, func() error {
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.evs) < n {
				return fmt.Errorf("%s: %d events, want %d", name, len(g.evs), n)
			}
			return nil
		})
		g.mu.Lock()
		last := map[string]int64{}
		for _, ev := range g.evs {
			e, ok := ev.Message.(*voltv1.Event)
			if !ok {
				t.Fatalf("%s: message %T, want *voltv1.Event", name, ev.Message)
			}
			if ev.Key != e.GetDeviceId() || ev.Topic != topic || ev.From != conn.ReplyTopic() {
				t.Errorf("%s: event %+v", name, ev)
			}
			var i int
			fmt.Sscan(e.GetId(), &i)
			if !proto.Equal(e, want[i]) {
				t.Errorf("%s: got %v, want %v", name, e, want[i])
			}
			if prev, ok := last[ev.Key]; ok && ev.Offset <= prev {
				t.Errorf("%s: key %s out of order", name, ev.Key)
			}
			last[ev.Key] = ev.Offset
		}
		if len(g.evs) != n {
			t.Errorf("%s: %d events, want %d", name, len(g.evs), n)
		}
		g.mu.Unlock()
	}
	if st := conn.Stats(); st.Published != n || st.BadRecords != 2 { // the junk, once per subscription
		t.Errorf("stats %+v", st)
	}
}

// A batch reaches subscribers whole, decoded, keyed as asked and in order
// per key, across the topic's partitions; an empty batch is a no-op and a
// nil message or a bad topic fails the batch before anything is sent.
func TestPublishBatch(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("volt.events")
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var (
		mu  sync.Mutex // guards evs
		evs []*msgbus.Event
	)
	sub, err := conn.Subscribe(ctx, topic, "batch", func(_ context.Context, ev *msgbus.Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	for _, tc := range []struct {
		name  string
		topic string
		msgs  []msgbus.Outgoing
		code  codes.Code
	}{
		{"empty", topic, nil, codes.OK},
		{"nil message", topic, []msgbus.Outgoing{{Message: &voltv1.Event{}}, {Key: "olt-1"}}, codes.InvalidArgument},
		{"bad topic", "no topic", []msgbus.Outgoing{{Message: &voltv1.Event{}}}, codes.InvalidArgument},
	} {
		if err := conn.PublishBatch(ctx, tc.topic, tc.msgs); status.Code(err) != tc.code {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.code)
		}
	}

	// Batches of many keys, and one event without a key.
	const keys, perKey, batches = 7, 60, 3
	var sent int
	for range batches {
		var batch []msgbus.Outgoing
		for range keys * perKey / batches {
			key := fmt.Sprintf("olt-%d", sent%keys)
			// The key differs from the KeyFunc's choice (the device id).
			batch = append(batch, msgbus.Outgoing{Key: key, Message: &voltv1.Event{Id: fmt.Sprint(sent), DeviceId: "d" + key}})
			sent++
		}
		if err := conn.PublishBatch(ctx, topic, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.PublishBatch(ctx, topic, []msgbus.Outgoing{{Message: &voltv1.Event{Id: fmt.Sprint(sent)}}}); err != nil {
		t.Fatal(err)
	}
	sent++

	eventually(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(evs) < sent {
			return fmt.Errorf("%d events, want %d", len(evs), sent)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	last := map[string]int{}
	partitions := map[int32]bool{}
	for _, ev := range evs {
		e := ev.Message.(*voltv1.Event)
		var i int
		fmt.Sscan(e.GetId(), &i)
		want := fmt.Sprintf("olt-%d", i%keys)
		if i == sent-1 {
			want = ""
		}
		if ev.Key != want || ev.From != conn.ReplyTopic() || ev.ID == "" || ev.Time.IsZero() {
			t.Errorf("event %d: %+v, want key %q", i, ev, want)
		}
		if prev, ok := last[ev.Key]; ok && i <= prev {
			t.Errorf("key %s: event %d after %d", ev.Key, i, prev)
		}
		last[ev.Key] = i
		partitions[ev.Partition] = true
	}
	if len(evs) != sent || len(partitions) < 2 {
		t.Errorf("%d events on %d partitions, want %d on several", len(evs), len(partitions), sent)
	}
	if st := conn.Stats(); st.Published != uint64(sent) {
		t.Errorf("stats %+v, want %d published", st, sent)
	}
}

// A Publisher whose Run ends still sends what was queued then: a process
// that stops does not lose the events it raised last.
func TestPublisherDrainsWhenRunEnds(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("volt.alarms")
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	sub, err := conn.Subscribe(ctx, topic, "", func(_ context.Context, ev *msgbus.Event) {
		mu.Lock()
		ids[ev.Message.(*voltv1.Event).GetId()] = true
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	pub, err := msgbus.NewPublisher(msgbus.PublisherConfig{Topic: topic, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		pub.Publish(&voltv1.Event{Id: fmt.Sprint("last-", i)}, "olt-1")
	}
	stopped, stop := context.WithCancel(context.Background())
	stop() // the process is stopping before Run got to the events
	pub.Run(stopped, conn)
	if st := pub.Stats(); st.Published != n || st.Queued != 0 {
		t.Fatalf("after Run: %+v, want the %d events published", st, n)
	}
	eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) != n {
			return fmt.Errorf("%d of %d events received", len(ids), n)
		}
		return nil
	})
}

// A Publisher stopped at any point sends each event it accepted once: a
// batch on its way when Run's context ends is not cut off and sent again.
func TestPublisherStoppedAnywhereSendsOnce(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("volt.alarms")
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	sub, err := conn.Subscribe(ctx, topic, "", func(_ context.Context, ev *msgbus.Event) {
		mu.Lock()
		seen[ev.Message.(*voltv1.Event).GetId()]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const rounds, perRound = 30, 20
	for r := range rounds {
		pub, err := msgbus.NewPublisher(msgbus.PublisherConfig{Topic: topic, MaxBatch: 4})
		if err != nil {
			t.Fatal(err)
		}
		for i := range perRound {
			pub.Publish(&voltv1.Event{Id: fmt.Sprintf("%d-%d", r, i)}, fmt.Sprint("olt-", i%3))
		}
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); pub.Run(runCtx, conn) }()
		time.Sleep(time.Duration(r%6) * 200 * time.Microsecond) // stop at a different point each round
		stop()
		<-done
		if st := pub.Stats(); st.Published != perRound {
			t.Fatalf("round %d: %+v, want %d published", r, st, perRound)
		}
	}
	eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != rounds*perRound {
			return fmt.Errorf("%d of %d events received", len(seen), rounds*perRound)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s received %d times", id, n)
		}
	}
}

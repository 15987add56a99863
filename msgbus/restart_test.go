package msgbus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/msgbus"
)

// A broker killed and started again on the same address without its data
// (kfake keeps topics in memory: every topic comes back under a new id, as
// a wiped cluster's would): calls work again within seconds of its return,
// every event the publisher took is delivered, the ones beyond its buffer
// are counted, and nothing is restarted.
func TestBrokerRestartLosingTopics(t *testing.T) {
	b := startBroker(t)
	addr := b.Addrs()[0]
	topic := newTopic("restart")
	events := topic + ".events"
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, Partitions: 3}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{name: "core"})
	})
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	client := adapterv1.NewCoreServiceClient(conn)
	call := func(d time.Duration, dev string) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: dev})
		return err
	}
	var (
		mu   sync.Mutex
		got  = map[string]bool{}
		subs = dial(t, b.Addrs(), msgbus.Config{Name: "subscriber"})
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	sub, err := subs.Subscribe(ctx, events, "watchers", func(_ context.Context, ev *msgbus.Event) {
		mu.Lock()
		got[ev.Message.(*voltv1.Event).GetId()] = true
		mu.Unlock()
	})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	const buffer = 40
	pub, err := msgbus.NewPublisher(msgbus.PublisherConfig{Topic: events, Buffer: buffer, MaxBatch: 8, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopPub := context.WithCancel(context.Background())
	pubDone := make(chan struct{})
	go func() { defer close(pubDone); pub.Run(runCtx, conn) }()
	t.Cleanup(func() { stopPub(); <-pubDone })

	var accepted []string
	publish := func(n int, tag string) (dropped int) {
		for i := range n {
			id := fmt.Sprintf("%s-%d", tag, i)
			if pub.Publish(&voltv1.Event{Id: id, DeviceId: fmt.Sprintf("olt-%d", i%5)}, fmt.Sprintf("olt-%d", i%5)) {
				accepted = append(accepted, id)
			} else {
				dropped++
			}
		}
		return dropped
	}
	allDelivered := func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range accepted {
			if !got[id] {
				return fmt.Errorf("event %s not delivered (%d of %d)", id, len(got), len(accepted))
			}
		}
		return nil
	}

	if err := call(10*time.Second, "olt-1"); err != nil {
		t.Fatal(err)
	}
	publish(10, "before")
	eventually(t, 20*time.Second, allDelivered)

	b.Close()
	// While it is down: calls fail Unavailable by their deadline, events
	// queue up to the buffer and the rest are counted as dropped.
	if err := call(300*time.Millisecond, "olt-1"); status.Code(err) != codes.Unavailable {
		t.Errorf("call with the broker down: %v, want Unavailable", err)
	}
	dropped := publish(3*buffer, "during")
	if dropped == 0 || pub.Stats().Dropped != uint64(dropped) {
		t.Errorf("dropped %d, stats %+v: want the events beyond the buffer counted", dropped, pub.Stats())
	}

	b2, err := broker.Start(context.Background(), broker.Config{Listen: addr, Partitions: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("restart the broker on %s: %v", addr, err)
	}
	t.Cleanup(func() { b2.Close() })
	back := time.Now()

	// Calls work again within seconds, for many keys (every partition of
	// the request topic), through the same Conn and Server.
	eventually(t, 15*time.Second, func() error {
		for i := range 12 {
			if err := call(2*time.Second, fmt.Sprintf("olt-%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("calls work again %v after the broker's return", time.Since(back).Round(time.Millisecond))
	// No event the publisher took is lost.
	eventually(t, 15*time.Second, allDelivered)
	t.Logf("every accepted event (%d, %d dropped) delivered %v after the broker's return",
		len(accepted), dropped, time.Since(back).Round(time.Millisecond))
	publish(5, "after")
	eventually(t, 15*time.Second, allDelivered)
	for range 20 {
		if err := call(5*time.Second, "olt-2"); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	}
}

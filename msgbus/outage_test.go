package msgbus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/msgbus"
)

// When the broker goes away, calls fail with Unavailable by their
// deadline; when it comes back on the same address (empty: kfake keeps its
// topics in memory), the same Conn and Server carry on.
func TestBrokerOutageAndRecovery(t *testing.T) {
	b := startBroker(t)
	addr := b.Addrs()[0]
	topic := newTopic("outage")
	srv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{name: "core"})
	})
	pub := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	client := adapterv1.NewCoreServiceClient(pub)
	call := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "olt-1"})
		return err
	}
	if err := call(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	b.Close()
	for i := range 3 {
		start := time.Now()
		err := call(500 * time.Millisecond)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("call %d with the broker down: got %v, want Unavailable", i, err)
		}
		// No hang: the call ends at its deadline (generous bound for -race).
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("call %d with the broker down took %v", i, d)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	err := pub.Publish(ctx, topic+".events", &adapterv1.DeviceRequest{DeviceId: "x"})
	cancel()
	if status.Code(err) != codes.Unavailable {
		t.Errorf("publish with the broker down: got %v, want Unavailable", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	err = pub.PublishBatch(ctx, topic+".events", []msgbus.Outgoing{
		{Message: &adapterv1.DeviceRequest{DeviceId: "x"}, Key: "x"},
		{Message: &adapterv1.DeviceRequest{DeviceId: "y"}, Key: "y"},
	})
	cancel()
	if status.Code(err) != codes.Unavailable {
		t.Errorf("publish a batch with the broker down: got %v, want Unavailable", err)
	}

	b2, err := broker.Start(context.Background(), broker.Config{Listen: addr, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("restart the broker on %s: %v", addr, err)
	}
	t.Cleanup(func() { b2.Close() })

	eventually(t, 30*time.Second, func() error {
		return call(time.Second)
	})
	// And it stays up.
	for range 20 {
		if err := call(5 * time.Second); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	err = pub.PublishBatch(ctx, topic+".events", []msgbus.Outgoing{{Message: &adapterv1.DeviceRequest{DeviceId: "x"}, Key: "x"}})
	cancel()
	if err != nil {
		t.Errorf("publish after recovery: %v", err)
	}
	srv.Close() // while the broker is up
	pub.Close()
}

// A Conn cannot start without a broker; the error comes by the context's
// deadline.
func TestDialWithoutBroker(t *testing.T) {
	b := startBroker(t)
	addr := b.Addrs()
	b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	c, err := msgbus.Dial(ctx, msgbus.Config{Brokers: addr})
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded without a broker")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("Dial: %v", err)
	}
}

// Closing a Server and a Conn while the broker is down does not hang.
func TestCloseWithBrokerDown(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("down")
	srv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{})
	})
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	if _, err := adapterv1.NewCoreServiceClient(conn).GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "d"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	done := make(chan struct{})
	go func() {
		srv.Close()
		conn.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hangs with the broker down")
	}
}

package msgbus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// A quick method's calls run on the poll loop. When one of them blocks,
// polling is handed to a new goroutine: calls of other keys are still
// read and answered while it waits, and it is answered once it returns.
func TestInlineCallThatBlocksHandsPollingOver(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("inline")
	entered, release := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	unblock := func() { released.Do(func() { close(release) }) }
	defer unblock() // before the server closes, which waits for the handler
	// Every method counts as quick, however slow the machine (-race).
	srv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, InlineBelow: time.Second}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{getDevice: func(_ context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
			if r.GetDeviceId() == "slow" {
				once.Do(func() { close(entered) })
				<-release
			}
			return &voltv1.Device{Id: r.GetDeviceId()}, nil
		}})
	})
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))
	call := func(id string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: id}, msgbus.WithKey(id))
		if err == nil && d.GetId() != id {
			err = fmt.Errorf("asked for %s, got %s", id, d.GetId())
		}
		return err
	}
	// Enough quick calls for the method to count as quick.
	for i := range 100 {
		if err := call(fmt.Sprint("warm-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if srv.Stats().Inlined == 0 {
		t.Fatal("no call ran on the poll loop: the method never counted as quick")
	}
	slow := make(chan error, 1)
	go func() { slow <- call("slow") }()
	<-entered
	// Without the hand-over these wait behind "slow" until the test times out.
	for i := range 10 {
		if err := call(fmt.Sprint("other-", i)); err != nil {
			t.Fatalf("a call of another key while one blocks: %v", err)
		}
	}
	if srv.Stats().HandedOver == 0 {
		t.Error("the others were answered, but polling was never handed over")
	}
	unblock()
	if err := <-slow; err != nil {
		t.Fatalf("the blocked call: %v", err)
	}
}

// InlineBelow < 0 keeps every call on the workers.
func TestInlineOff(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("inline.off")
	srv := serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic, InlineBelow: -1}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{})
	})
	client := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic}))
	for i := range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: fmt.Sprint(i)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := srv.Stats(); st.Inlined != 0 || st.Handled != 50 {
		t.Errorf("stats %+v: want 50 calls handled, none inline", st)
	}
}

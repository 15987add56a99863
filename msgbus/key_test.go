package msgbus_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

func TestConfigValidation(t *testing.T) {
	for _, c := range []msgbus.ServerConfig{
		{},
		{Brokers: []string{"127.0.0.1:9092"}},
		{Brokers: []string{"127.0.0.1:9092"}, Topic: "bad topic"},
		{Brokers: []string{""}, Topic: "t"},
		{Brokers: []string{"127.0.0.1:9092"}, Topic: "t", MaxConcurrency: -1},
	} {
		if _, err := msgbus.NewServer(c); err == nil {
			t.Errorf("NewServer(%+v) succeeded", c)
		}
	}
}

// The record key of a call comes from Config.Key unless WithKey overrides
// it; without a KeyFunc a call has no key.
func TestKeyFunc(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("keys")
	keys := make(chan string, 8)
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{getDevice: func(ctx context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
			ci, _ := msgbus.CallInfoFromContext(ctx)
			keys <- ci.Key
			return &voltv1.Device{}, nil
		}})
	})
	upper := func(m proto.Message) string { return "k-" + m.(*adapterv1.DeviceRequest).GetDeviceId() }
	keyed := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic, Key: upper}))
	plain := adapterv1.NewCoreServiceClient(dial(t, b.Addrs(), msgbus.Config{Topic: topic, Key: noKey}))
	for _, c := range []struct {
		client adapterv1.CoreServiceClient
		opts   []grpc.CallOption
		want   string
	}{
		{keyed, nil, "k-d1"},
		{keyed, []grpc.CallOption{msgbus.WithKey("mine")}, "mine"},
		{plain, nil, ""},
		{plain, []grpc.CallOption{msgbus.WithKey("mine")}, "mine"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.client.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "d1"}, c.opts...)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got := <-keys; got != c.want {
			t.Errorf("key %q, want %q", got, c.want)
		}
	}
}

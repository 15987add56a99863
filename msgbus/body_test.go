package msgbus_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// flowText is about n bytes of what large bodies hold: many similar
// flows, each a little different.
func flowText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:%d,push_vlan:0x8100,set_field:%d->vlan_vid,output:1\n",
			16+i%0xfe00, i%512+1, 100+i%4000)
	}
	return b.String()
}

// A request and a response of 4 MB, four times a broker's record limit,
// go through compressed; a 2 MB body that does not compress is refused
// with ResourceExhausted, as a request or as a response, and the call does
// not wait for its deadline.
func TestLargeBodies(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("large")
	big := flowText(4 << 20)
	serve(t, b.Addrs(), msgbus.ServerConfig{Topic: topic}, func(s *msgbus.Server) {
		adapterv1.RegisterCoreServiceServer(s, &testCore{
			name: topic,
			getDevice: func(_ context.Context, r *adapterv1.DeviceRequest) (*voltv1.Device, error) {
				if r.GetDeviceId() == "noise" {
					noise := make([]byte, 1<<20)
					_, _ = rand.Read(noise)
					return &voltv1.Device{Id: r.GetDeviceId(), Reason: fmt.Sprintf("%x", noise)}, nil
				}
				return &voltv1.Device{Id: r.GetDeviceId(), Reason: big}, nil
			},
			reason: func(_ context.Context, r *adapterv1.DeviceReasonUpdateRequest) (*emptypb.Empty, error) {
				if r.GetReason() != big {
					return nil, status.Errorf(codes.InvalidArgument, "reason of %d bytes, want the %d sent", len(r.GetReason()), len(big))
				}
				return &emptypb.Empty{}, nil
			},
		})
	})
	conn := dial(t, b.Addrs(), msgbus.Config{Topic: topic})
	core := adapterv1.NewCoreServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := core.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: "olt", Reason: big}); err != nil {
		t.Fatalf("request of %d bytes: %v", len(big), err)
	}
	dev, err := core.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "olt"})
	if err != nil {
		t.Fatalf("response of %d bytes: %v", len(big), err)
	}
	if dev.GetReason() != big {
		t.Errorf("response reason of %d bytes, want %d", len(dev.GetReason()), len(big))
	}

	noise := make([]byte, 1<<20)
	_, _ = rand.Read(noise)
	_, err = core.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: "olt", Reason: fmt.Sprintf("%x", noise)})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), topic) {
		t.Errorf("incompressible request: %v, want ResourceExhausted naming %s", err, topic)
	}
	// The same as a response: the caller is told, not left to time out.
	_, err = core.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: "noise"})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "GetDevice") {
		t.Errorf("incompressible response: %v, want ResourceExhausted naming the method", err)
	}
	if ctx.Err() != nil {
		t.Fatal("a refused call took the whole deadline")
	}
}

// An event of 4 MB reaches its subscriber whole.
func TestLargeEvent(t *testing.T) {
	b := startBroker(t)
	topic := newTopic("large-events")
	conn := dial(t, b.Addrs(), msgbus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan *msgbus.Event, 1)
	sub, err := conn.Subscribe(ctx, topic, "", func(_ context.Context, ev *msgbus.Event) { got <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	big := flowText(4 << 20)
	if err := conn.Publish(ctx, topic, &voltv1.Device{Id: "olt", Reason: big}); err != nil {
		t.Fatalf("publish %d bytes: %v", len(big), err)
	}
	select {
	case ev := <-got:
		if d, ok := ev.Message.(*voltv1.Device); !ok || d.GetReason() != big {
			t.Errorf("event %T of %d bytes, want the device sent", ev.Message, len(d.GetReason()))
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
}

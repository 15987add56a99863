package adapter_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/logging"
	"github.com/openvolt/openvolt/msgbus"
)

// TestMain checks that an adapter leaves no goroutine behind once Run
// returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// adopter supports adoption only.
type adopter struct {
	a       *adapter.Adapter
	mu      sync.Mutex // guards adopted
	adopted []string
}

func (h *adopter) AdoptDevice(_ context.Context, d *voltv1.Device) error {
	h.mu.Lock()
	h.adopted = append(h.adopted, d.GetId())
	h.mu.Unlock()
	if h.a == nil {
		return nil
	}
	// The slow part after answering, as the SDK means it. The call has a
	// deadline of its own: without one it would get CallTimeout, which a
	// test may set short, and a call that reaches the core after its
	// deadline is not run at all.
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := h.a.Core().DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{
			DeviceId: d.GetId(), OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
		})
		return err
	})
	return nil
}

// rebooter adds reboot.
type rebooter struct{ adopter }

func (*rebooter) RebootDevice(context.Context, *voltv1.Device) error { return nil }

func TestUnsupportedOperationsAnswerUnimplemented(t *testing.T) {
	svc := adapter.NewService("acme_olt", &adopter{}, nil)
	dev := &voltv1.Device{Id: "d1", Type: "acme_olt"}
	calls := map[string]func() error{
		"ReconcileDevice": func() error { _, err := svc.ReconcileDevice(t.Context(), dev); return err },
		"DisableDevice":   func() error { _, err := svc.DisableDevice(t.Context(), dev); return err },
		"ReenableDevice":  func() error { _, err := svc.ReenableDevice(t.Context(), dev); return err },
		"RebootDevice":    func() error { _, err := svc.RebootDevice(t.Context(), dev); return err },
		"DeleteDevice":    func() error { _, err := svc.DeleteDevice(t.Context(), dev); return err },
		"ChildDeviceLost": func() error { _, err := svc.ChildDeviceLost(t.Context(), dev); return err },
		"EnablePort": func() error {
			_, err := svc.EnablePort(t.Context(), &adapterv1.PortRequest{Device: dev})
			return err
		},
		"DisablePort": func() error {
			_, err := svc.DisablePort(t.Context(), &adapterv1.PortRequest{Device: dev})
			return err
		},
		"UpdateFlowsBulk": func() error {
			_, err := svc.UpdateFlowsBulk(t.Context(), &adapterv1.BulkFlowsRequest{Device: dev})
			return err
		},
		"UpdateFlowsIncrementally": func() error {
			_, err := svc.UpdateFlowsIncrementally(t.Context(), &adapterv1.IncrementalFlowsRequest{Device: dev})
			return err
		},
		"SendPacketOut": func() error {
			_, err := svc.SendPacketOut(t.Context(), &adapterv1.PacketOutRequest{Device: dev})
			return err
		},
		"GetOfpDeviceInfo": func() error { _, err := svc.GetOfpDeviceInfo(t.Context(), dev); return err },
		"GetOfpPortInfo": func() error {
			_, err := svc.GetOfpPortInfo(t.Context(), &adapterv1.OfpPortInfoRequest{Device: dev})
			return err
		},
		"UpdatePmConfig": func() error {
			_, err := svc.UpdatePmConfig(t.Context(), &voltv1.PmConfig{DeviceId: "d1"})
			return err
		},
		"ProcessInterAdapterMessage": func() error {
			_, err := svc.ProcessInterAdapterMessage(t.Context(), &adapterv1.InterAdapterMessage{Header: &adapterv1.InterAdapterHeader{ToDeviceId: "d1"}})
			return err
		},
	}
	// Every method of the service but AdoptDevice is covered.
	for _, m := range adapterv1.AdapterService_ServiceDesc.Methods {
		if _, ok := calls[m.MethodName]; !ok && m.MethodName != "AdoptDevice" {
			t.Errorf("method %s not tested", m.MethodName)
		}
	}
	for method, call := range calls {
		err := call()
		want := "adapter acme_olt does not support " + method
		if status.Code(err) != codes.Unimplemented || status.Convert(err).Message() != want {
			t.Errorf("%s: %v, want Unimplemented %q", method, err, want)
		}
	}
	if _, err := svc.AdoptDevice(t.Context(), dev); err != nil {
		t.Errorf("AdoptDevice: %v", err)
	}
	if _, err := svc.AdoptDevice(t.Context(), &voltv1.Device{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("AdoptDevice without an id: %v, want InvalidArgument", err)
	}
}

func TestOperations(t *testing.T) {
	if got, want := adapter.Operations(&adopter{}), []string{"AdoptDevice"}; !slices.Equal(got, want) {
		t.Errorf("Operations(adopter) = %v, want %v", got, want)
	}
	if got, want := adapter.Operations(&rebooter{}), []string{"AdoptDevice", "RebootDevice"}; !slices.Equal(got, want) {
		t.Errorf("Operations(rebooter) = %v, want %v", got, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  adapter.Config
		want string
	}{
		{"no brokers", adapter.Config{ID: "a", DeviceTypes: []*voltv1.DeviceType{{Id: "t"}}}, "no brokers"},
		{"bad id", adapter.Config{Brokers: []string{"b:1"}, ID: "Bad Id", DeviceTypes: []*voltv1.DeviceType{{Id: "t"}}}, `adapter id "Bad Id"`},
		{"no types", adapter.Config{Brokers: []string{"b:1"}, ID: "a"}, "serves no device types"},
		{"type twice", adapter.Config{Brokers: []string{"b:1"}, ID: "a", DeviceTypes: []*voltv1.DeviceType{{Id: "t"}, {Id: "t"}}}, `"t" listed twice`},
		{"other adapter", adapter.Config{Brokers: []string{"b:1"}, ID: "a", DeviceTypes: []*voltv1.DeviceType{{Id: "t", Adapter: "b"}}}, `names adapter "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adapter.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// fakeCore is a CoreService that records registrations and state updates.
type fakeCore struct {
	adapterv1.UnimplementedCoreServiceServer
	mu        sync.Mutex // guards the fields below
	registers []*adapterv1.RegisterRequest
	states    []*adapterv1.DeviceStateUpdateRequest
}

func (c *fakeCore) Register(_ context.Context, r *adapterv1.RegisterRequest) (*emptypb.Empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.registers = append(c.registers, r)
	return &emptypb.Empty{}, nil
}

func (c *fakeCore) DeviceStateUpdate(_ context.Context, r *adapterv1.DeviceStateUpdateRequest) (*emptypb.Empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states = append(c.states, r)
	return &emptypb.Empty{}, nil
}

func (c *fakeCore) counts() (registers, states int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.registers), len(c.states)
}

func TestRegistersWhenTheCoreAppearsAndServesOverKafka(t *testing.T) {
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	logs, lines := logging.Capture("info")
	ready := make(chan string, 1)

	a, err := adapter.New(adapter.Config{
		Brokers:     b.Addrs(),
		ID:          "acme_olt",
		Vendor:      "Acme",
		Version:     "1.2",
		DeviceTypes: []*voltv1.DeviceType{{Id: "acme_olt", VendorId: "ACME"}},
		CoreTopic:   "test.core",
		Heartbeat:   50 * time.Millisecond,
		CallTimeout: 300 * time.Millisecond, // fail registrations fast while no core answers
		Logs:        logs,
		Ready:       func(addr string) { ready <- addr },
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &rebooter{adopter{a: a}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()

	// No core yet: registration fails and is retried.
	testkit.Eventually(t, "a failed registration", func() error {
		if !strings.Contains(lines.String(), "registration with the core failed") {
			return errors.New("no failure logged")
		}
		return nil
	})

	core := &fakeCore{}
	srv, err := msgbus.NewServer(msgbus.ServerConfig{Brokers: b.Addrs(), Topic: "test.core"})
	if err != nil {
		t.Fatal(err)
	}
	adapterv1.RegisterCoreServiceServer(srv, core)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	// It registers, says it is ready, then keeps registering as its
	// heartbeat.
	var grpcAddr string
	select {
	case grpcAddr = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("not ready after the core appeared")
	}
	testkit.Eventually(t, "registration and heartbeats", func() error {
		if n, _ := core.counts(); n < 3 {
			return fmt.Errorf("%d registrations", n)
		}
		return nil
	})
	core.mu.Lock()
	reg := proto.Clone(core.registers[0]).(*adapterv1.RegisterRequest)
	core.mu.Unlock()
	if reg.GetAdapter().GetRegistered() == nil {
		t.Error("registration without the instance's start time")
	}
	reg.Adapter.Registered = nil
	want := &adapterv1.RegisterRequest{
		Adapter: &voltv1.Adapter{Id: "acme_olt", Vendor: "Acme", Version: "1.2", Endpoint: "acme_olt", DeviceTypes: []string{"acme_olt"},
			AdminAddress: grpcAddr},
		DeviceTypes: []*voltv1.DeviceType{{
			Id: "acme_olt", VendorId: "ACME", Adapter: "acme_olt",
			Operations: []string{"AdoptDevice", "RebootDevice"},
		}},
	}
	if !proto.Equal(reg, want) {
		t.Errorf("registration\n got %v\nwant %v", reg, want)
	}

	// The core's calls arrive over Kafka on the adapter's topic.
	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: b.Addrs(), Name: "test-caller", Key: adapter.DeviceKeyFunc()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := adapterv1.NewAdapterServiceClient(conn.To("acme_olt"))
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if _, err := client.AdoptDevice(cctx, &voltv1.Device{Id: "olt1", Type: "acme_olt"}); err != nil {
		t.Fatalf("AdoptDevice over Kafka: %v", err)
	}
	if _, err := client.RebootDevice(cctx, &voltv1.Device{Id: "olt1"}); err != nil {
		t.Fatalf("RebootDevice over Kafka: %v", err)
	}
	_, err = client.DisableDevice(cctx, &voltv1.Device{Id: "olt1"})
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "adapter acme_olt does not support DisableDevice") {
		t.Errorf("DisableDevice over Kafka: %v, want Unimplemented", err)
	}
	// The work queued by AdoptDevice reached the core.
	testkit.Eventually(t, "state update from the adoption work", func() error {
		if _, n := core.counts(); n != 1 {
			return fmt.Errorf("%d state updates", n)
		}
		return nil
	})

	// The gRPC port serves health and the same AdapterService.
	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	// Health follows readiness (registered with the core) at its next
	// check, within daemon.HealthInterval.
	testkit.Eventually(t, "health SERVING once registered", func() error {
		hr, err := healthpb.NewHealthClient(cc).Check(cctx, &healthpb.HealthCheckRequest{})
		if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health: %v %v", hr, err)
		}
		return nil
	})
	if _, err := adapterv1.NewAdapterServiceClient(cc).DeleteDevice(cctx, &voltv1.Device{Id: "olt1"}); status.Code(err) != codes.Unimplemented {
		t.Errorf("DeleteDevice over gRPC: %v, want Unimplemented", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
	// After Run, work is dropped and the core client fails.
	a.Submit("olt1", func(context.Context) error { t.Error("work ran after Run returned"); return nil })
	if _, err := a.Core().GetDevice(context.Background(), &adapterv1.DeviceRequest{DeviceId: "x"}); err == nil {
		t.Error("core call after Run returned succeeded")
	}
}

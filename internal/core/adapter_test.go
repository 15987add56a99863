package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core"
	"github.com/openvolt/openvolt/msgbus"
)

// testAdapter is an adapter built on the generated AdapterService and
// served through msgbus, as real adapters are. As an OLT adapter it reports
// an NNI, a PON and onus children; as an ONU adapter a UNI and a PON.
type testAdapter struct {
	adapterv1.UnimplementedAdapterServiceServer
	t     testing.TB
	typ   string
	onus  int
	core  adapterv1.CoreServiceClient
	block chan struct{} // when set, AdoptDevice waits on it (a mute adapter)

	wg   sync.WaitGroup  // the activations in flight
	life context.Context // ends when the test does: activations in flight give up

	mu         sync.Mutex // guards the counters and flows below
	reconciled map[string]int
	calls      map[string]int
	flows      map[string]map[uint64]bool  // device id → flow ids installed
	refuse     func(*openflowv1.Flow) bool // flows the devices cannot do: an update adding one is refused whole
}

// UpdateFlowsIncrementally keeps each device's flow table.
func (a *testAdapter) UpdateFlowsIncrementally(_ context.Context, req *adapterv1.IncrementalFlowsRequest) (*emptypb.Empty, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id := req.GetDevice().GetId()
	for _, f := range req.GetFlows().GetToAdd() {
		if a.refuse != nil && a.refuse(f) {
			return nil, status.Errorf(codes.FailedPrecondition, "device %s cannot do flow %#x", id, f.GetId())
		}
	}
	if a.flows[id] == nil {
		a.flows[id] = map[uint64]bool{}
	}
	for _, f := range req.GetFlows().GetToRemove() {
		delete(a.flows[id], f.GetId())
	}
	for _, f := range req.GetFlows().GetToAdd() {
		a.flows[id][f.GetId()] = true
	}
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) flowCount(deviceID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.flows[deviceID])
}

func (a *testAdapter) count(what string) {
	a.mu.Lock()
	a.calls[what]++
	a.mu.Unlock()
}

func (a *testAdapter) callCount(what string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[what]
}

// later runs fn after the current call has answered, as real adapters
// activate devices: the core is never called back inside its own call.
func (a *testAdapter) later(fn func(ctx context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(a.life, 20*time.Second)
		defer cancel()
		if err := fn(ctx); err != nil && a.life.Err() == nil {
			a.t.Logf("%s adapter: %v", a.typ, err)
		}
	}()
}

func (a *testAdapter) AdoptDevice(ctx context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	a.count("adopt")
	if a.block != nil {
		select {
		case <-a.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.later(func(ctx context.Context) error { return a.activate(ctx, d) })
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) activate(ctx context.Context, d *voltv1.Device) error {
	id := d.GetId()
	if d.GetRoot() {
		upd := &voltv1.Device{Id: id, Vendor: "test", Model: "olt", SerialNumber: "OLT-" + d.GetHostAndPort(), MacAddress: "0a:00:00:00:00:01"}
		if _, err := a.core.DeviceUpdate(ctx, upd); err != nil {
			return err
		}
		for _, p := range []*voltv1.Port{
			{PortNo: portno.NNI(0), Label: "nni", Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE},
			{PortNo: portno.OLTPON(0), Label: "pon-0", Type: voltv1.PortType_PORT_TYPE_PON_OLT, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE},
		} {
			if _, err := a.core.PortCreated(ctx, &adapterv1.PortCreatedRequest{DeviceId: id, Port: p}); err != nil {
				return err
			}
		}
		if err := a.setState(ctx, id, voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE); err != nil {
			return err
		}
		for i := 1; i <= a.onus; i++ {
			_, err := a.core.ChildDeviceDetected(ctx, &adapterv1.ChildDeviceDetectedRequest{
				ParentId:        id,
				ParentPortNo:    portno.OLTPON(0),
				ChildDeviceType: "test_onu",
				ChannelId:       0,
				SerialNumber:    fmt.Sprintf("ONU%s-%d", id[:4], i),
				OnuId:           uint32(i),
			}, msgbus.WithKey(fmt.Sprintf("%s/%d", id, i)))
			if err != nil {
				return err
			}
		}
		return nil
	}
	onu := d.GetProxyAddress().GetOnuId()
	for _, p := range []*voltv1.Port{
		{PortNo: portno.UNI(0, onu, 0), Label: "uni", Type: voltv1.PortType_PORT_TYPE_ETHERNET_UNI, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE},
		{PortNo: portno.ONUPON, Label: "pon", Type: voltv1.PortType_PORT_TYPE_PON_ONU, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
			Peers: []*voltv1.PortPeer{{DeviceId: d.GetParentId(), PortNo: d.GetParentPortNo()}}},
	} {
		if _, err := a.core.PortCreated(ctx, &adapterv1.PortCreatedRequest{DeviceId: id, Port: p}); err != nil {
			return err
		}
	}
	return a.setState(ctx, id, voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE)
}

func (a *testAdapter) setState(ctx context.Context, id string, oper voltv1.OperStatus, conn voltv1.ConnectStatus) error {
	_, err := a.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{DeviceId: id, OperStatus: oper, ConnectStatus: conn})
	return err
}

func (a *testAdapter) ReconcileDevice(_ context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	a.mu.Lock()
	a.reconciled[d.GetId()]++
	a.mu.Unlock()
	// Reconcile reports the same ports and state again: the core must not
	// duplicate anything.
	a.later(func(ctx context.Context) error {
		if d.GetRoot() {
			return a.setState(ctx, d.GetId(), voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE)
		}
		return a.activate(ctx, d)
	})
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) reconcileCount(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reconciled[id]
}

func (a *testAdapter) DisableDevice(context.Context, *voltv1.Device) (*emptypb.Empty, error) {
	a.count("disable")
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) ReenableDevice(context.Context, *voltv1.Device) (*emptypb.Empty, error) {
	a.count("reenable")
	return &emptypb.Empty{}, nil
}

// RebootDevice makes an ONU go away and come back, as a rebooted ONU does.
func (a *testAdapter) RebootDevice(_ context.Context, d *voltv1.Device) (*emptypb.Empty, error) {
	a.count("reboot")
	a.later(func(ctx context.Context) error {
		if err := a.setState(ctx, d.GetId(), voltv1.OperStatus_OPER_STATUS_REBOOTED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE); err != nil {
			return err
		}
		return a.setState(ctx, d.GetId(), voltv1.OperStatus_OPER_STATUS_ACTIVE, voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE)
	})
	return &emptypb.Empty{}, nil
}

func (a *testAdapter) DeleteDevice(context.Context, *voltv1.Device) (*emptypb.Empty, error) {
	a.count("delete")
	return &emptypb.Empty{}, nil
}

// startAdapter serves a test adapter of type typ on topic typ and registers
// it with the core.
func startAdapter(t *testing.T, brokers []string, typ string, onus int, block chan struct{}) *testAdapter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(ctx, msgbus.Config{Brokers: brokers, Name: typ + "-adapter", Key: adapter.DeviceKeyFunc()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	life, stop := context.WithCancel(context.Background())
	a := &testAdapter{
		t: t, typ: typ, onus: onus, block: block, life: life,
		core:       adapterv1.NewCoreServiceClient(conn.To(core.DefaultTopic)),
		reconciled: make(map[string]int),
		calls:      make(map[string]int),
		flows:      make(map[string]map[uint64]bool),
	}
	srv, err := msgbus.NewServer(msgbus.ServerConfig{Brokers: brokers, Topic: typ})
	if err != nil {
		t.Fatal(err)
	}
	adapterv1.RegisterAdapterServiceServer(srv, a)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if block != nil {
			select {
			case <-block:
			default:
				close(block)
			}
		}
		srv.Close()
		// The core may be gone already: what the adapter still had to
		// report would wait for its call timeout.
		stop()
		a.wg.Wait()
	})
	a.register(t)
	return a
}

func (a *testAdapter) register(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := a.core.Register(ctx, &adapterv1.RegisterRequest{
		Adapter:     &voltv1.Adapter{Id: a.typ + "-adapter", Vendor: "test", Version: "1", Endpoint: a.typ},
		DeviceTypes: []*voltv1.DeviceType{{Id: a.typ, AcceptsAddRemoveFlowUpdates: true}},
	})
	if err != nil {
		t.Fatalf("register %s: %v", a.typ, err)
	}
}

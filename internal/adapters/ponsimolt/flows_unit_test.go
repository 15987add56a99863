package ponsimolt

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/ponsim"
	"github.com/openvolt/openvolt/logging"
)

// servePonsim serves sim on a random port until the test ends.
func servePonsim(t *testing.T, sim *ponsim.Sim) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc, errc := make(chan string, 1), make(chan error, 1)
	go func() { errc <- sim.Serve(ctx, "127.0.0.1:0", logging.Discard(), func(a string) { addrc <- a }) }()
	select {
	case addr := <-addrc:
		t.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("ponsim: %v", err)
			}
		})
		return addr
	case err := <-errc:
		cancel()
		t.Fatalf("ponsim: %v", err)
	}
	return ""
}

func deviceFlows(t *testing.T, lines ...string) []*openflowv1.Flow {
	t.Helper()
	var out []*openflowv1.Flow
	for i, l := range lines {
		f, err := flowtext.ParseFlow(l)
		if err != nil {
			t.Fatal(err)
		}
		f.Id = uint64(i + 1)
		out = append(out, f)
	}
	return out
}

// TestOLTFlowUpdates drives the handler's flow and packet-out methods
// against a real ponsim, without a core: the OLT is known to the handler
// already (no session).
func TestOLTFlowUpdates(t *testing.T) {
	sim, err := ponsim.New(ponsim.Config{Name: "unit", PONPorts: 1, ONUsPerPON: 1})
	if err != nil {
		t.Fatal(err)
	}
	addr := servePonsim(t, sim)
	a, err := adapter.New(Defaults(adapter.Config{Brokers: []string{"127.0.0.1:9"}}))
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(a, slog.New(slog.DiscardHandler))
	dev := &voltv1.Device{Id: "olt1", Type: DeviceType, HostAndPort: addr}
	h.olts[dev.GetId()] = newOLT(dev.GetId(), addr, h.log)
	defer h.Close()
	svc := adapter.NewService(ID, h, nil)
	ctx := t.Context()
	nni, pon := portno.NNI(0), portno.OLTPON(0)
	flows := deviceFlows(t,
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x88cc,actions=CONTROLLER:65535", nni),
		fmt.Sprintf("priority=1000,in_port=%d,vlan_vid=101,tunnel_id=16,actions=push_vlan:0x88a8,set_field:1000->vlan_vid,output:%d", pon, nni),
		fmt.Sprintf("priority=1000,in_port=%d,metadata=101,vlan_vid=1000,actions=meter:2,pop_vlan,set_field:16->tunnel_id,output:%d", nni, pon),
	)
	meters := []*openflowv1.MeterConfig{{MeterId: 2}}
	count := func() int {
		n, err := sim.FlowCount("")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if _, err := svc.UpdateFlowsBulk(ctx, &adapterv1.BulkFlowsRequest{Device: dev, Flows: flows, Meters: meters}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("after bulk: %d flows in ponsim, want 3", n)
	}
	if _, err := svc.UpdateFlowsIncrementally(ctx, &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToRemove: flows[:1]}}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a removal: %d flows in ponsim, want 2", n)
	}
	// A flow ponsim refuses (its group does not exist) changes nothing.
	bad := deviceFlows(t, "priority=1,actions=group:9")[0]
	bad.Id = 99
	_, err = svc.UpdateFlowsIncrementally(ctx, &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToAdd: []*openflowv1.Flow{bad}, ToRemove: flows[1:2]}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("refused flow: %v, want InvalidArgument", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a refused update: %d flows in ponsim, want 2", n)
	}
	if _, err := svc.UpdateFlowsIncrementally(ctx, &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToAdd: flows[:1]}}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("after the refused flow: %d flows in ponsim, want 3", n)
	}

	var (
		mu  sync.Mutex
		got [][]byte
	)
	if err := sim.Connect("", nni, func(b []byte) { mu.Lock(); got = append(got, b); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	if err := sim.Enable(""); err != nil {
		t.Fatal(err)
	}
	frame := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xcc, 0, 0}
	if _, err := svc.SendPacketOut(ctx, &adapterv1.PacketOutRequest{Device: dev, EgressPortNo: nni,
		Packet: &openflowv1.PacketOut{Data: frame}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !bytes.Equal(got[0], frame) {
		t.Errorf("NNI sent %x, want [%x]", got, frame)
	}
}

func TestLogicalPort(t *testing.T) {
	for _, tc := range []struct {
		port uint32
		ok   bool
	}{{portno.NNI(0), true}, {portno.UNI(3, 7, 0), true}, {portno.OLTPON(0), false}, {portno.ONUPON, false}} {
		if _, ok := logicalPort(&ponsimv1.Frame{PortNo: tc.port}); ok != tc.ok {
			t.Errorf("port %#x: logical %v, want %v", tc.port, ok, tc.ok)
		}
	}
}

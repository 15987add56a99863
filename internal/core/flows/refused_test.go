package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/testkit"
)

// pickyAdapter refuses every flow update that adds flow bad, as a device
// refuses what it cannot do, and takes the rest. The first update waits
// for hold to close, so that what is pushed meanwhile coalesces. bulk
// makes it an adapter that takes only whole tables.
type pickyAdapter struct {
	adapterv1.AdapterServiceClient
	bad  uint64
	hold chan struct{}
	// refuses, if set, also refuses the flows it returns true for, and
	// tells refused (if set) first.
	refuses func(dev string, f *openflowv1.Flow) bool
	refused func()

	mu    sync.Mutex // guards calls and took
	calls int
	took  map[uint64]bool // flows the adapter has
}

func (a *pickyAdapter) take(dev string, flows []*openflowv1.Flow, replace bool) error {
	if a.calls++; a.calls == 1 && a.hold != nil {
		a.mu.Unlock()
		<-a.hold
		a.mu.Lock()
	}
	for _, f := range flows {
		if f.GetId() == a.bad || (a.refuses != nil && a.refuses(dev, f)) {
			if a.refused != nil {
				a.refused()
			}
			return status.Errorf(codes.FailedPrecondition, "flow %d: the device cannot", f.GetId())
		}
	}
	if replace {
		clear(a.took)
	}
	for _, f := range flows {
		a.took[f.GetId()] = true
	}
	return nil
}

func (a *pickyAdapter) UpdateFlowsIncrementally(_ context.Context, r *adapterv1.IncrementalFlowsRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &emptypb.Empty{}, a.take(r.GetDevice().GetId(), r.GetFlows().GetToAdd(), false)
}

func (a *pickyAdapter) UpdateFlowsBulk(_ context.Context, r *adapterv1.BulkFlowsRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &emptypb.Empty{}, a.take(r.GetDevice().GetId(), r.GetFlows(), true)
}

func (a *pickyAdapter) has() []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []uint64
	for id := range a.took {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func pickyPushers(a *pickyAdapter, bulk bool, tables func(context.Context, string) (DeviceTables, error)) *AdapterPushers {
	return NewAdapterPushers(AdapterConfig{
		Tables: tables,
		Device: func(id string) (*voltv1.Device, bool) { return &voltv1.Device{Id: id, Type: "t"}, true },
		Client: func(context.Context, string) (adapterv1.AdapterServiceClient, bool, error) { return a, bulk, nil },
	})
}

func addFlow(id uint64) *Delta { return &Delta{AddFlows: []*openflowv1.Flow{{Id: id}}} }

// Pushes that coalesced into one batch the adapter refuses are sent again
// one by one: only the push the device cannot do hears the refusal (its
// mod is taken back); the others are done and on the device.
func TestRefusedBatchSplitByPush(t *testing.T) {
	a := &pickyAdapter{bad: 2, hold: make(chan struct{}), took: map[uint64]bool{}}
	p := pickyPushers(a, false, nil)
	defer p.Close()
	results := make(chan [2]any, 4)
	push := func(id uint64) {
		p.Push("onu1", addFlow(id), func(err error) { results <- [2]any{id, status.Code(err)} })
	}
	push(1)
	for { // held in the adapter: 2, 3 and 4 coalesce behind it
		a.mu.Lock()
		n := a.calls
		a.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	push(2)
	push(3)
	push(4)
	close(a.hold)
	got := map[uint64]codes.Code{}
	for range 4 {
		select {
		case r := <-results:
			got[r[0].(uint64)] = r[1].(codes.Code)
		case <-time.After(10 * time.Second):
			t.Fatalf("pushes done: %v, want 4", got)
		}
	}
	want := map[uint64]codes.Code{1: codes.OK, 2: codes.FailedPrecondition, 3: codes.OK, 4: codes.OK}
	for id, c := range want {
		if got[id] != c {
			t.Errorf("push of flow %d: %v, want %v (all: %v)", id, got[id], c, got)
		}
	}
	if has := a.has(); !slices.Equal(has, []uint64{1, 3, 4}) {
		t.Errorf("the device has flows %v, want [1 3 4]", has)
	}
}

// A device's whole tables (a reconcile) that its adapter refuses are sent
// one logical flow at a time, through an adapter that takes changes and
// through one that takes only whole tables: the logical flow the device
// cannot do is taken back, every other one reaches the device, and the
// tables are not tried again.
func TestRefusedTablesSplitByLogicalFlow(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		a := &pickyAdapter{bad: 20, took: map[uint64]bool{}}
		var mu sync.Mutex
		var takenBack []uint64
		tables := func(context.Context, string) (DeviceTables, error) {
			// Logical flows 1, 2 and 3 ask for device flows 10, 20 and
			// 30 and 31.
			var units []Unit
			for i, flows := range [][]uint64{{10}, {20}, {30, 31}} {
				d := &Delta{}
				for _, id := range flows {
					d.AddFlows = append(d.AddFlows, &openflowv1.Flow{Id: id})
				}
				logical := uint64(i + 1)
				units = append(units, Unit{Delta: d, Refused: func(error) {
					mu.Lock()
					takenBack = append(takenBack, logical)
					mu.Unlock()
				}})
			}
			all := DeviceTables{Units: func(context.Context) ([]Unit, error) { return units, nil }}
			for _, u := range units {
				all.Flows = append(all.Flows, u.Delta.AddFlows...)
			}
			return all, nil
		}
		p := pickyPushers(a, bulk, tables)
		p.Resend("onu1")
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(takenBack)
			mu.Unlock()
			if n > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(3 * retryMin) // room for a wrong retry, not an assertion
		p.Close()
		if !slices.Equal(takenBack, []uint64{2}) {
			t.Errorf("bulk %v: logical flows taken back %v, want [2]", bulk, takenBack)
		}
		if has := a.has(); !slices.Equal(has, []uint64{10, 30, 31}) {
			t.Errorf("bulk %v: the device has flows %v, want [10 30 31]", bulk, has)
		}
		if a.calls != 4 {
			t.Errorf("bulk %v: %d flow updates, want 4 (the tables, then one per logical flow)", bulk, a.calls)
		}
	}
}

// devices are the topology's: olt1, the root of ld1, and its ONUs.
type devices struct{}

func (devices) Device(id string) (*voltv1.Device, error) {
	if id == "olt1" {
		return &voltv1.Device{Id: id, Type: "t", Root: true, LogicalDeviceId: "ld1"}, nil
	}
	return &voltv1.Device{Id: id, Type: "t", ParentId: "olt1"}, nil
}

// A mod a device refuses while the store is away cannot be taken back at
// once: the refused flow stays stored, and the device's tables go again.
// Refused, they are split, and the flow is taken back once the store
// answers; the device keeps the flows it can do.
func TestUndoTheStoreMissedIsRetried(t *testing.T) {
	kv := &failing{Store: kvstore.NewMemory()}
	var refusals atomic.Int32
	a := &pickyAdapter{took: map[uint64]bool{},
		refuses: func(dev string, f *openflowv1.Flow) bool { return dev == "onu1" && f.GetPriority() == 1000 },
		refused: func() {
			if refusals.Add(1) == 1 {
				kv.fail.Store(true) // the store goes away before the undo
			}
		}}
	topo := topology(t, 2)
	m, err := New(Config{Store: store.New(kv, "volt"), Topology: topo, Devices: devices{},
		Exists: func(id string) error { _, err := topo(id); return err },
		Push: func(tables func(context.Context, string) (DeviceTables, error)) Senders {
			return pickyPushers(a, false, tables)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	eapol, up := subscriber(t, 16)[0], subscriber(t, 16)[1]
	for _, fm := range []*openflowv1.FlowMod{eapol, up} {
		if err := m.UpdateFlowTable(t.Context(), "ld1", fm); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "the device refused twice, the store away", func() error {
		if n := refusals.Load(); n < 2 {
			return fmt.Errorf("%d refusals", n)
		}
		return nil
	})
	if flows, err := m.LogicalFlows(t.Context(), "ld1"); err != nil || len(flows) != 2 {
		t.Fatalf("with the store away, %d logical flows stored (%v), want both still", len(flows), err)
	}
	kv.fail.Store(false)
	testkit.Eventually(t, "the refused flow taken back", func() error {
		flows, err := m.LogicalFlows(t.Context(), "ld1")
		if err != nil {
			return err
		}
		if len(flows) != 1 || flows[0].GetPriority() != eapol.GetPriority() {
			return fmt.Errorf("%d logical flows stored, want the EAPOL trap only", len(flows))
		}
		if has := a.has(); len(has) == 0 {
			return errors.New("the ONU has no flow")
		}
		return nil
	})
}

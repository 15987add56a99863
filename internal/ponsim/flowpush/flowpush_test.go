package flowpush

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSim records the tables pushed to it.
type fakeSim struct {
	mu     sync.Mutex // guards the fields below
	pushes []*ponsimv1.FlowTable
	fail   error
	gate   chan struct{} // when set, each push waits for a receive
}

func (f *fakeSim) send(ctx context.Context, ft *ponsimv1.FlowTable) error {
	f.mu.Lock()
	gate, fail := f.gate, f.fail
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fail != nil {
		return fail
	}
	f.pushes = append(f.pushes, ft)
	return nil
}

// last returns the ids of the last table pushed and how many there were.
func (f *fakeSim) last() (flows, groups, meters []uint64, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pushes) == 0 {
		return nil, nil, nil, 0
	}
	ft := f.pushes[len(f.pushes)-1]
	for _, fl := range ft.GetFlows() {
		flows = append(flows, fl.GetId())
	}
	for _, g := range ft.GetGroups() {
		groups = append(groups, uint64(g.GetGroupId()))
	}
	for _, m := range ft.GetMeters() {
		meters = append(meters, uint64(m.GetMeterId()))
	}
	return flows, groups, meters, len(f.pushes)
}

func fl(ids ...uint64) []*openflowv1.Flow {
	var out []*openflowv1.Flow
	for _, id := range ids {
		out = append(out, &openflowv1.Flow{Id: id, Priority: uint32(id)})
	}
	return out
}

func change(add, remove []*openflowv1.Flow) *adapterv1.IncrementalFlowsRequest {
	return &adapterv1.IncrementalFlowsRequest{Flows: &adapterv1.FlowChanges{ToAdd: add, ToRemove: remove}}
}

func TestUpdateAndReplace(t *testing.T) {
	sim := &fakeSim{}
	tbl := New("ONU1", sim.send)
	ctx := t.Context()
	steps := []struct {
		name   string
		run    func() error
		flows  []uint64
		groups []uint64
		meters []uint64
	}{
		{"add", func() error { return tbl.Update(ctx, change(fl(3, 1, 2), nil)) }, []uint64{1, 2, 3}, nil, nil},
		{"remove and add the same id", func() error { return tbl.Update(ctx, change(fl(2), fl(2, 3))) }, []uint64{1, 2}, nil, nil},
		{"groups and meters", func() error {
			return tbl.Update(ctx, &adapterv1.IncrementalFlowsRequest{
				Groups: &adapterv1.GroupChanges{ToAdd: []*openflowv1.GroupDesc{{GroupId: 5}, {GroupId: 6}}},
				Meters: &adapterv1.MeterChanges{ToAdd: []*openflowv1.MeterConfig{{MeterId: 9}}},
			})
		}, []uint64{1, 2}, []uint64{5, 6}, []uint64{9}},
		{"group update, meter removal", func() error {
			return tbl.Update(ctx, &adapterv1.IncrementalFlowsRequest{
				Groups: &adapterv1.GroupChanges{ToUpdate: []*openflowv1.GroupDesc{{GroupId: 6, Type: openflowv1.GroupType_GROUP_TYPE_ALL}}, ToRemove: []*openflowv1.GroupDesc{{GroupId: 5}}},
				Meters: &adapterv1.MeterChanges{ToRemove: []*openflowv1.MeterConfig{{MeterId: 9}}},
			})
		}, []uint64{1, 2}, []uint64{6}, nil},
		{"replace", func() error {
			return tbl.Replace(ctx, fl(7), nil, []*openflowv1.MeterConfig{{MeterId: 1}})
		}, []uint64{7}, nil, []uint64{1}},
		{"resend", func() error { return tbl.Resend(ctx) }, []uint64{7}, nil, []uint64{1}},
	}
	for i, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		flows, groups, meters, n := sim.last()
		if n != i+1 || !slices.Equal(flows, st.flows) || !slices.Equal(groups, st.groups) || !slices.Equal(meters, st.meters) {
			t.Errorf("%s: push %d has flows %v groups %v meters %v, want push %d with %v %v %v",
				st.name, n, flows, groups, meters, i+1, st.flows, st.groups, st.meters)
		}
	}
	if f, g, m := tbl.Counts(); f != 1 || g != 0 || m != 1 {
		t.Errorf("counts %d %d %d", f, g, m)
	}
	if sim.pushes[0].GetDevice().GetSerialNumber() != "ONU1" {
		t.Errorf("pushed to %v", sim.pushes[0].GetDevice())
	}
}

// TestCoalesce: changes that come while a push is on its way go together
// in the next one, and each returns once ponsim has it.
func TestCoalesce(t *testing.T) {
	gate := make(chan struct{})
	sim := &fakeSim{gate: gate}
	tbl := New("", sim.send)
	ctx := t.Context()
	const n = 20
	errs := make(chan error, n)
	go func() { errs <- tbl.Update(ctx, change(fl(100), nil)) }()
	// Wait until the first push is on its way, then queue the rest.
	for {
		tbl.mu.Lock()
		active := tbl.active
		tbl.mu.Unlock()
		if active {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := range uint64(n - 1) {
		go func() { errs <- tbl.Update(ctx, change(fl(i), nil)) }()
	}
	for {
		tbl.mu.Lock()
		gen := tbl.gen
		tbl.mu.Unlock()
		if gen == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	gate <- struct{}{} // the first push
	gate <- struct{}{} // everything else, together
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	flows, _, _, pushes := sim.last()
	if pushes != 2 || len(flows) != n {
		t.Errorf("%d pushes, the last with %d flows; want 2 and %d", pushes, len(flows), n)
	}
}

// TestRefusedChangeIsTakenBack: a table ponsim refuses does not stay.
func TestRefusedChangeIsTakenBack(t *testing.T) {
	sim := &fakeSim{}
	tbl := New("", sim.send)
	ctx := t.Context()
	if err := tbl.Update(ctx, change(fl(1, 2), nil)); err != nil {
		t.Fatal(err)
	}
	sim.fail = status.Error(codes.InvalidArgument, "bad flow")
	if err := tbl.Update(ctx, change(fl(3, 1), fl(2))); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("update: %v", err)
	}
	sim.fail = errors.New("unavailable")
	if err := tbl.Update(ctx, change(fl(4), nil)); err == nil {
		t.Fatal("update with ponsim away succeeded")
	}
	sim.fail = nil
	if err := tbl.Resend(ctx); err != nil {
		t.Fatal(err)
	}
	// 3 was refused and taken back; 4 failed to reach ponsim but is the
	// core's and is sent with the next push.
	if flows, _, _, _ := sim.last(); !slices.Equal(flows, []uint64{1, 2, 4}) {
		t.Errorf("flows %v, want [1 2 4]", flows)
	}
}

func TestSyncHonoursContext(t *testing.T) {
	sim := &fakeSim{gate: make(chan struct{})}
	tbl := New("", sim.send)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := tbl.Update(ctx, change(fl(1), nil)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("update: %v", err)
	}
}

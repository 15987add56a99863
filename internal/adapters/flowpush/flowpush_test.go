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

// deltaSim is a fakeSim that also takes changes.
type deltaSim struct {
	fakeSim
	deltas    []*ponsimv1.FlowChanges
	deltaFail error
}

func (f *deltaSim) delta(_ context.Context, fc *ponsimv1.FlowChanges) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deltaFail != nil {
		return f.deltaFail
	}
	f.deltas = append(f.deltas, fc)
	return nil
}

// counts returns how many whole tables and changes ponsim got.
func (f *deltaSim) counts() (whole, deltas int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pushes), len(f.deltas)
}

func (f *deltaSim) lastDelta() *ponsimv1.FlowChanges {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deltas[len(f.deltas)-1]
}

func flowIDs(fs []*openflowv1.Flow) []uint64 {
	var out []uint64
	for _, f := range fs {
		out = append(out, f.GetId())
	}
	return out
}

// TestDeltaPush: after the first push, changes go as changes, and only
// them; whole tables go for Replace, Resend and after a failed push.
func TestDeltaPush(t *testing.T) {
	sim := &deltaSim{}
	tbl := NewIncremental("ONU1", sim.send, sim.delta)
	ctx := t.Context()
	type want struct {
		whole, deltas int
		add, remove   []uint64 // of the last delta
	}
	steps := []struct {
		name string
		run  func() error
		want want
	}{
		{"first push is whole", func() error { return tbl.Update(ctx, change(fl(1, 2, 3), nil)) }, want{1, 0, nil, nil}},
		{"add", func() error { return tbl.Update(ctx, change(fl(4), nil)) }, want{1, 1, []uint64{4}, nil}},
		{"remove and replace", func() error { return tbl.Update(ctx, change(fl(2), fl(1, 2, 99))) }, want{1, 2, []uint64{2}, []uint64{1, 99}}},
		{"groups and meters", func() error {
			return tbl.Update(ctx, &adapterv1.IncrementalFlowsRequest{
				Groups: &adapterv1.GroupChanges{ToAdd: []*openflowv1.GroupDesc{{GroupId: 5}}, ToRemove: []*openflowv1.GroupDesc{{GroupId: 6}}},
				Meters: &adapterv1.MeterChanges{ToAdd: []*openflowv1.MeterConfig{{MeterId: 9}}},
			})
		}, want{1, 3, nil, nil}},
		{"nothing changed: nothing sent", func() error { return tbl.Update(ctx, &adapterv1.IncrementalFlowsRequest{}) }, want{1, 3, nil, nil}},
		{"replace is whole", func() error { return tbl.Replace(ctx, fl(7, 8), nil, nil) }, want{2, 3, nil, nil}},
		{"resend is whole", func() error { return tbl.Resend(ctx) }, want{3, 3, nil, nil}},
		{"then changes again", func() error { return tbl.Update(ctx, change(nil, fl(7))) }, want{3, 4, nil, []uint64{7}}},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		whole, deltas := sim.counts()
		if whole != st.want.whole || deltas != st.want.deltas {
			t.Fatalf("%s: %d whole tables and %d changes, want %d and %d", st.name, whole, deltas, st.want.whole, st.want.deltas)
		}
		if st.want.add == nil && st.want.remove == nil || deltas == 0 {
			continue
		}
		d := sim.lastDelta()
		if add := flowIDs(d.GetAdd()); !slices.Equal(add, st.want.add) || !slices.Equal(d.GetRemove(), st.want.remove) {
			t.Errorf("%s: delta adds %v removes %v, want %v %v", st.name, add, d.GetRemove(), st.want.add, st.want.remove)
		}
		if d.GetDevice().GetSerialNumber() != "ONU1" {
			t.Errorf("%s: delta to %v", st.name, d.GetDevice())
		}
	}
	g := sim.deltas[2]
	if len(g.GetAddGroups()) != 1 || g.GetAddGroups()[0].GetGroupId() != 5 || !slices.Equal(g.GetRemoveGroups(), []uint32{6}) ||
		len(g.GetAddMeters()) != 1 || len(g.GetAdd())+len(g.GetRemove())+len(g.GetRemoveMeters()) != 0 {
		t.Errorf("group and meter delta %v", g)
	}

	// A failed delta: the next push is whole, with what the core gave.
	sim.deltaFail = errors.New("unavailable")
	if err := tbl.Update(ctx, change(fl(10), nil)); err == nil {
		t.Fatal("update with ponsim away succeeded")
	}
	sim.deltaFail = nil
	if err := tbl.Update(ctx, change(fl(11), nil)); err != nil {
		t.Fatal(err)
	}
	if flows, _, _, n := sim.last(); n != 4 || !slices.Equal(flows, []uint64{8, 10, 11}) {
		t.Errorf("after a failed delta: whole table %d with %v, want 4 with [8 10 11]", n, flows)
	}
	// A refused delta is taken back; the next push is whole, without it.
	sim.deltaFail = status.Error(codes.InvalidArgument, "bad flow")
	if err := tbl.Update(ctx, change(fl(12), fl(8))); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("update: %v", err)
	}
	sim.deltaFail = nil
	if err := tbl.Update(ctx, change(fl(13), nil)); err != nil {
		t.Fatal(err)
	}
	if flows, _, _, n := sim.last(); n != 5 || !slices.Equal(flows, []uint64{8, 10, 11, 13}) {
		t.Errorf("after a refused delta: whole table %d with %v, want 5 with [8 10 11 13]", n, flows)
	}
	// A ponsim without UpdateFlows gets whole tables.
	sim.deltaFail = status.Error(codes.Unimplemented, "unknown method")
	if err := tbl.Update(ctx, change(fl(14), nil)); err != nil {
		t.Fatal(err)
	}
	sim.deltaFail = nil
	if err := tbl.Update(ctx, change(fl(15), nil)); err != nil {
		t.Fatal(err)
	}
	if flows, _, _, n := sim.last(); n != 7 || !slices.Equal(flows, []uint64{8, 10, 11, 13, 14, 15}) {
		t.Errorf("without UpdateFlows: whole table %d with %v, want 7 with [8 10 11 13 14 15]", n, flows)
	}
}

// TestDeltaCoalesce: changes that come while a push is on its way go
// together in the next delta, which carries them and only them.
func TestDeltaCoalesce(t *testing.T) {
	sim := &deltaSim{}
	tbl := NewIncremental("", sim.send, sim.delta)
	ctx := t.Context()
	if err := tbl.Update(ctx, change(fl(1000, 1001), nil)); err != nil { // whole
		t.Fatal(err)
	}
	gate := make(chan struct{})
	sim.mu.Lock()
	sim.gate = gate
	sim.mu.Unlock()
	// The gate holds whole pushes: make the next one whole and hold it.
	const n = 20
	errs := make(chan error, n)
	go func() { errs <- tbl.Resend(ctx) }()
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
		if gen == n+1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	gate <- struct{}{}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	whole, deltas := sim.counts()
	if whole != 2 || deltas != 1 {
		t.Fatalf("%d whole tables and %d changes, want 2 and 1", whole, deltas)
	}
	if add := flowIDs(sim.lastDelta().GetAdd()); len(add) != n-1 || slices.Contains(add, 1000) {
		t.Errorf("delta adds %v, want the %d new flows only", add, n-1)
	}
}

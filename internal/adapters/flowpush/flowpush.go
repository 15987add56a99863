// Package flowpush is the adapters' side of ponsim's flow tables. The core
// gives changes (UpdateFlowsIncrementally) or whole tables
// (UpdateFlowsBulk); each adapter keeps, per device, the flows, groups and
// meters the core last gave, applies the changes to them by id, and sends
// ponsim what changed since its last push that got through (UpdateFlows),
// or the whole table (UpdateFlowTable): for a whole table from the core, a
// resend, the first push, and the push after one that failed (ponsim may
// have some of it or none). Pushes coalesce: a change that arrives while a
// push is on its way waits for it and then goes in one push with every
// change that waited with it.
package flowpush

import (
	"context"
	"maps"
	"slices"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Sender sends a device's whole table to ponsim (PonSim UpdateFlowTable).
// The flows, groups and meters in it are shared with the Table: it must
// not change them.
type Sender func(ctx context.Context, ft *ponsimv1.FlowTable) error

// DeltaSender sends ponsim changes to a device's table (PonSim
// UpdateFlows). The flows, groups and meters in them are shared with the
// Table: it must not change them.
type DeltaSender func(ctx context.Context, fc *ponsimv1.FlowChanges) error

// Table is one device's tables as the core gave them, and what ponsim has
// of them.
type Table struct {
	serial string // ponsim's name for the device: "" for the OLT
	send   Sender

	// What changed since the last push ponsim took (when delta is set,
	// and not full): ids, whatever they now hold.
	dirtyFlows  map[uint64]struct{}
	dirtyGroups map[uint32]struct{}
	dirtyMeters map[uint32]struct{}
	full        bool        // the next push sends the whole table
	delta       DeltaSender // nil: always whole tables

	mu     sync.Mutex // guards the fields below
	flows  map[uint64]*openflowv1.Flow
	groups map[uint32]*openflowv1.GroupDesc
	meters map[uint32]*openflowv1.MeterConfig
	gen    uint64        // counts the changes
	sent   uint64        // the gen ponsim has
	active bool          // a push is on its way
	done   chan struct{} // closed when it ends
}

// New returns an empty table of the device ponsim calls serial ("" for
// the OLT), pushed whole with send each time.
func New(serial string, send Sender) *Table {
	return &Table{
		serial:      serial,
		send:        send,
		flows:       make(map[uint64]*openflowv1.Flow),
		groups:      make(map[uint32]*openflowv1.GroupDesc),
		meters:      make(map[uint32]*openflowv1.MeterConfig),
		dirtyFlows:  make(map[uint64]struct{}),
		dirtyGroups: make(map[uint32]struct{}),
		dirtyMeters: make(map[uint32]struct{}),
		full:        true,
		done:        make(chan struct{}),
	}
}

// NewIncremental is New, but pushes go as changes with delta, and whole
// with send only when they must: the first push, Replace, Resend, and the
// push after one that failed.
func NewIncremental(serial string, send Sender, delta DeltaSender) *Table {
	t := New(serial, send)
	t.delta = delta
	return t
}

// undo restores what one change replaced.
type undo struct {
	flows  map[uint64]*openflowv1.Flow // nil value: was absent
	groups map[uint32]*openflowv1.GroupDesc
	meters map[uint32]*openflowv1.MeterConfig
}

// remember saves what cur holds at k, the first time, and marks k as
// changed.
func remember[K comparable, V any](saved map[K]V, cur map[K]V, dirty map[K]struct{}, k K) {
	if _, ok := saved[k]; !ok {
		saved[k] = cur[k]
	}
	dirty[k] = struct{}{}
}

func restore[K comparable, V comparable](cur map[K]V, saved map[K]V, dirty map[K]struct{}) {
	var zero V
	for k, v := range saved {
		dirty[k] = struct{}{}
		if v == zero {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
}

// Update applies the core's changes by id (removals first, so a flow
// removed and added again stays) and pushes the table. It returns once
// ponsim has the changes, or with the push's error, in which case the
// changes are taken back when ponsim refused the table (InvalidArgument):
// the flows the core gave before stay in force.
func (t *Table) Update(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) error {
	u := undo{flows: map[uint64]*openflowv1.Flow{}, groups: map[uint32]*openflowv1.GroupDesc{}, meters: map[uint32]*openflowv1.MeterConfig{}}
	t.mu.Lock()
	for _, f := range req.GetFlows().GetToRemove() {
		remember(u.flows, t.flows, t.dirtyFlows, f.GetId())
		delete(t.flows, f.GetId())
	}
	for _, f := range req.GetFlows().GetToAdd() {
		remember(u.flows, t.flows, t.dirtyFlows, f.GetId())
		t.flows[f.GetId()] = f
	}
	for _, g := range req.GetGroups().GetToRemove() {
		remember(u.groups, t.groups, t.dirtyGroups, g.GetGroupId())
		delete(t.groups, g.GetGroupId())
	}
	for _, list := range [][]*openflowv1.GroupDesc{req.GetGroups().GetToAdd(), req.GetGroups().GetToUpdate()} {
		for _, g := range list {
			remember(u.groups, t.groups, t.dirtyGroups, g.GetGroupId())
			t.groups[g.GetGroupId()] = g
		}
	}
	for _, m := range req.GetMeters().GetToRemove() {
		remember(u.meters, t.meters, t.dirtyMeters, m.GetMeterId())
		delete(t.meters, m.GetMeterId())
	}
	for _, list := range [][]*openflowv1.MeterConfig{req.GetMeters().GetToAdd(), req.GetMeters().GetToUpdate()} {
		for _, m := range list {
			remember(u.meters, t.meters, t.dirtyMeters, m.GetMeterId())
			t.meters[m.GetMeterId()] = m
		}
	}
	t.gen++
	t.mu.Unlock()
	err := t.Sync(ctx)
	if status.Code(err) == codes.InvalidArgument {
		t.mu.Lock()
		restore(t.flows, u.flows, t.dirtyFlows)
		restore(t.groups, u.groups, t.dirtyGroups)
		restore(t.meters, u.meters, t.dirtyMeters)
		t.gen++
		t.mu.Unlock()
	}
	return err
}

// Replace makes the table the core's whole table and pushes it.
func (t *Table) Replace(ctx context.Context, flows []*openflowv1.Flow, groups []*openflowv1.GroupDesc, meters []*openflowv1.MeterConfig) error {
	t.mu.Lock()
	clear(t.flows)
	clear(t.groups)
	clear(t.meters)
	for _, f := range flows {
		t.flows[f.GetId()] = f
	}
	for _, g := range groups {
		t.groups[g.GetGroupId()] = g
	}
	for _, m := range meters {
		t.meters[m.GetMeterId()] = m
	}
	t.full = true
	t.gen++
	t.mu.Unlock()
	return t.Sync(ctx)
}

// Resend pushes the table again, as it is (ponsim restarted, or the
// device was reconciled).
func (t *Table) Resend(ctx context.Context) error {
	t.mu.Lock()
	t.full = true
	t.gen++
	t.mu.Unlock()
	return t.Sync(ctx)
}

// Sync returns once ponsim has the table as it is now: it pushes it, or
// waits for the push on its way and then pushes what changed meanwhile,
// so that concurrent changes share pushes.
func (t *Table) Sync(ctx context.Context) error {
	t.mu.Lock()
	want := t.gen
	for t.sent < want {
		if t.active {
			done := t.done
			t.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
			t.mu.Lock()
			continue
		}
		t.active = true
		gen, ft, fc := t.gen, (*ponsimv1.FlowTable)(nil), t.changesLocked()
		if fc == nil {
			ft = t.snapshotLocked()
		}
		delta := t.delta
		t.full = false
		clear(t.dirtyFlows)
		clear(t.dirtyGroups)
		clear(t.dirtyMeters)
		t.mu.Unlock()
		var err error
		switch {
		case fc != nil && len(fc.GetAdd())+len(fc.GetRemove())+len(fc.GetAddGroups())+len(fc.GetRemoveGroups())+len(fc.GetAddMeters())+len(fc.GetRemoveMeters()) == 0:
			// Nothing changed since ponsim's last push.
		case fc != nil:
			err = delta(ctx, fc)
			if status.Code(err) == codes.Unimplemented {
				// A ponsim without UpdateFlows: whole tables from now on.
				t.mu.Lock()
				t.delta = nil
				ft = t.snapshotLocked()
				t.mu.Unlock()
				err = t.send(ctx, ft)
			}
		default:
			err = t.send(ctx, ft)
		}
		t.mu.Lock()
		t.active = false
		close(t.done)
		t.done = make(chan struct{})
		if err != nil {
			// ponsim has some of it or none: the next push is whole.
			t.full = true
			t.mu.Unlock()
			return err
		}
		t.sent = max(t.sent, gen)
	}
	t.mu.Unlock()
	return nil
}

// Touched reports whether the table changed since New: what it holds came
// from the core, not only from its being made empty.
func (t *Table) Touched() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen > 0
}

// Counts returns how many flows, groups and meters the table has.
func (t *Table) Counts() (flows, groups, meters int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.flows), len(t.groups), len(t.meters)
}

// changesLocked is what changed since the last push ponsim took, or nil
// when the next push is whole. Each id changed goes as an add of what it
// holds now or, when it holds nothing, as a removal.
func (t *Table) changesLocked() *ponsimv1.FlowChanges {
	if t.delta == nil || t.full {
		return nil
	}
	if n := len(t.dirtyFlows) + len(t.dirtyGroups) + len(t.dirtyMeters); n > len(t.flows)+len(t.groups)+len(t.meters) {
		return nil // the whole table is smaller
	}
	fc := &ponsimv1.FlowChanges{Device: &ponsimv1.DeviceRef{SerialNumber: t.serial}}
	// In id order, as the whole table.
	for _, id := range slices.Sorted(maps.Keys(t.dirtyFlows)) {
		if f, ok := t.flows[id]; ok {
			fc.Add = append(fc.Add, f)
		} else {
			fc.Remove = append(fc.Remove, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.dirtyGroups)) {
		if g, ok := t.groups[id]; ok {
			fc.AddGroups = append(fc.AddGroups, g)
		} else {
			fc.RemoveGroups = append(fc.RemoveGroups, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.dirtyMeters)) {
		if m, ok := t.meters[id]; ok {
			fc.AddMeters = append(fc.AddMeters, m)
		} else {
			fc.RemoveMeters = append(fc.RemoveMeters, id)
		}
	}
	return fc
}

// snapshotLocked is the table as ponsim takes it. The flows are shared
// with the table (never changed: a change replaces a flow).
func (t *Table) snapshotLocked() *ponsimv1.FlowTable {
	ft := &ponsimv1.FlowTable{
		Device: &ponsimv1.DeviceRef{SerialNumber: t.serial},
		Flows:  make([]*openflowv1.Flow, 0, len(t.flows)),
		Groups: make([]*openflowv1.GroupDesc, 0, len(t.groups)),
		Meters: make([]*openflowv1.MeterConfig, 0, len(t.meters)),
	}
	// In id order, so that pushing the same table twice sends the same
	// bytes and ponsim breaks ties between equal flows the same way.
	for _, id := range slices.Sorted(maps.Keys(t.flows)) {
		ft.Flows = append(ft.Flows, t.flows[id])
	}
	for _, id := range slices.Sorted(maps.Keys(t.groups)) {
		ft.Groups = append(ft.Groups, t.groups[id])
	}
	for _, id := range slices.Sorted(maps.Keys(t.meters)) {
		ft.Meters = append(ft.Meters, t.meters[id])
	}
	return ft
}

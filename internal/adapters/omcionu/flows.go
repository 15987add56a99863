package omcionu

import (
	"context"
	"fmt"
	"sort"
	"sync"

	me "github.com/opencord/omci-lib-go/v2/generated"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Flows of an ONU (vlan.go says what they become). The ONU keeps the
// flows the core gave it and, per UNI, the rows its extended VLAN tagging
// operation ME holds; an update computes the rows the new flows ask for,
// refuses a conflict before anything is sent, then sets the rows that are
// new or changed and deletes the rows no flow asks for any more, over
// OMCI, in the ONU's order (after its bring-up and tech profiles). An
// update that fails half way leaves the flows as they were and the rows
// as the ONU holds them: the core sends it again and only what is missing
// goes out. A MIB reset (the ONU rebooted or resynchronised) empties the
// rows; once the ONU is up again they are set again from its flows.

var (
	_ adapter.IncrementalFlowUpdater = (*handler)(nil)
	_ adapter.BulkFlowUpdater        = (*handler)(nil)
)

// flowState is one ONU's flows and VLAN rows.
type flowState struct {
	mu      sync.Mutex // guards the fields below
	flows   map[uint64]rule
	applied map[int]map[rowKey]vlanRow // UNI → what its ME holds
	want    map[int]map[rowKey]vlanRow // UNI → what its flows ask for (stored, state.go)
}

func newFlowState() *flowState {
	return &flowState{flows: make(map[uint64]rule), applied: make(map[int]map[rowKey]vlanRow)}
}

// reset forgets the rows: the ONU's MIB was reset.
func (s *flowState) reset() {
	s.mu.Lock()
	s.applied = make(map[int]map[rowKey]vlanRow)
	s.mu.Unlock()
}

// adopt takes the stored flows (those with a VLAN row) and the rows they
// ask for, when no flow came yet (a new adapter process).
func (s *flowState) adopt(flows map[uint64]rule) {
	want, err := rowsOf(flows)
	if err != nil {
		return // stored conflicting: the core's next push decides
	}
	s.mu.Lock()
	if s.want == nil && len(s.flows) == 0 {
		s.flows, s.want = flows, want
	}
	s.mu.Unlock()
}

// applyStored notes that the ONU's tables hold the rows its flows ask
// for (its MIB survived an adapter restart).
func (s *flowState) applyStored() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied = make(map[int]map[rowKey]vlanRow, len(s.want))
	for i, r := range s.want {
		c := make(map[rowKey]vlanRow, len(r))
		for k, v := range r {
			c[k] = v
		}
		s.applied[i] = c
	}
}

// UpdateFlowsIncrementally adds and removes flows of an ONU.
func (h *handler) UpdateFlowsIncrementally(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) error {
	return h.updateFlows(ctx, req.GetDevice(), false, req.GetFlows().GetToAdd(), req.GetFlows().GetToRemove())
}

// UpdateFlowsBulk replaces the flows of an ONU.
func (h *handler) UpdateFlowsBulk(ctx context.Context, req *adapterv1.BulkFlowsRequest) error {
	return h.updateFlows(ctx, req.GetDevice(), true, req.GetFlows(), nil)
}

func (h *handler) updateFlows(ctx context.Context, d *voltv1.Device, replace bool, add, remove []*openflowv1.Flow) error {
	u, err := h.ensure(d)
	if err != nil {
		return err
	}
	return h.a.Do(ctx, u.id, func(ctx context.Context) error {
		u.mu.Lock()
		synced, unis := u.synced, u.unis
		u.mu.Unlock()
		if !synced {
			return status.Errorf(codes.Unavailable, "omci_onu: ONU %s: flows before its MIB is synchronised", u.id)
		}
		index := func(port uint32) (int, bool) {
			for i, uni := range unis {
				if uni.PortNo == port {
					return i, true
				}
			}
			return 0, false
		}
		fs := u.flows
		fs.mu.Lock()
		next := make(map[uint64]rule, len(fs.flows)+len(add))
		was := byUNI(fs.flows)
		if !replace {
			for id, r := range fs.flows {
				next[id] = r
			}
		}
		fs.mu.Unlock()
		for _, f := range remove {
			delete(next, f.GetId())
		}
		for _, f := range add {
			r, err := ruleOf(f, index)
			if err != nil {
				return fmt.Errorf("ONU %s: %w", u.id, err)
			}
			next[f.GetId()] = r
		}
		want, err := rowsOf(next)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "omci_onu: ONU %s: %v", u.id, err)
		}
		n, err := u.syncRows(ctx, unis, want)
		if err != nil {
			return fmt.Errorf("ONU %s: VLAN rules: %w", u.id, err)
		}
		fs.mu.Lock()
		fs.flows = next
		fs.want = want
		fs.mu.Unlock()
		ops := u.vlanOps(was, byUNI(next))
		if n == 0 {
			return u.persist(ctx, ops)
		}
		// The MIB data sync counter moved: stored with the changed UNIs'
		// rows, so an audit agrees and a restart restores them.
		return u.restoreSync(ctx, ops...)
	})
}

// rowsOf is the rows per UNI the flows ask for; two flows with the same
// filter and other treatments conflict.
func rowsOf(flows map[uint64]rule) (map[int]map[rowKey]vlanRow, error) {
	ids := make([]uint64, 0, len(flows))
	for id := range flows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make(map[int]map[rowKey]vlanRow)
	owner := make(map[rowKey]uint64)
	for _, id := range ids {
		r := flows[id]
		if !r.has {
			continue
		}
		rows := out[r.uni]
		if rows == nil {
			rows = make(map[rowKey]vlanRow)
			out[r.uni] = rows
		}
		k := r.row.key()
		if have, ok := rows[k]; ok && have != r.row {
			return nil, fmt.Errorf("flow %#x and flow %#x ask the ONU's UNI %d to tag the same frames differently", owner[k], id, r.uni)
		}
		rows[k] = r.row
		owner[k] = id
	}
	return out, nil
}

// syncRows makes the UNIs' tables hold want: rows no flow asks for are
// deleted first, then new or changed rows are set.
func (u *onu) syncRows(ctx context.Context, unis []uniRef, want map[int]map[rowKey]vlanRow) (int, error) {
	fs := u.flows
	n := 0
	for i := range unis {
		fs.mu.Lock()
		have := make(map[rowKey]vlanRow, len(fs.applied[i]))
		for k, r := range fs.applied[i] {
			have[k] = r
		}
		fs.mu.Unlock()
		var gone []rowKey
		for k := range have {
			if _, ok := want[i][k]; !ok {
				gone = append(gone, k)
			}
		}
		sort.Slice(gone, func(a, b int) bool { return string(gone[a][:]) < string(gone[b][:]) })
		for _, k := range gone {
			if err := u.setRow(ctx, i, deleteRow(k)); err != nil {
				return n, err
			}
			fs.record(i, k, nil)
			n++
		}
		var set []vlanRow
		for k, r := range want[i] {
			if have[k] != r {
				set = append(set, r)
			}
		}
		sort.Slice(set, func(a, b int) bool { return string(set[a][:]) < string(set[b][:]) })
		for _, r := range set {
			if err := u.setRow(ctx, i, r[:]); err != nil {
				return n, err
			}
			r := r
			fs.record(i, r.key(), &r)
			n++
		}
	}
	return n, nil
}

// record notes what UNI i's table holds for filter k (nil: nothing).
func (s *flowState) record(i int, k rowKey, r *vlanRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.applied[i]
	if rows == nil {
		rows = make(map[rowKey]vlanRow)
		s.applied[i] = rows
	}
	if r == nil {
		delete(rows, k)
	} else {
		rows[k] = *r
	}
}

// setRow sets one row of UNI i's received frame VLAN tagging operation
// table (a row whose treatment is all 0xff deletes the row of its filter).
func (u *onu) setRow(ctx context.Context, i int, row []byte) error {
	return u.eng.Set(ctx, me.ExtendedVlanTaggingOperationConfigurationDataClassID, uint16(bridgeBase+1+i), me.AttributeValueMap{
		me.ExtendedVlanTaggingOperationConfigurationData_InputTpid:                              uint16(0x8100),
		me.ExtendedVlanTaggingOperationConfigurationData_OutputTpid:                             uint16(0x8100),
		me.ExtendedVlanTaggingOperationConfigurationData_DownstreamMode:                         uint8(0),
		me.ExtendedVlanTaggingOperationConfigurationData_ReceivedFrameVlanTaggingOperationTable: row,
	})
}

// restoreService configures again, after the ONU's MIB was reset (a
// reboot, a resynchronisation), the tech profiles it was given and the
// VLAN rows of its flows; nothing when the ONU kept them.
func (u *onu) restoreService(ctx context.Context) error {
	u.mu.Lock()
	var todo []*tpPlan
	for uni, p := range u.plans {
		if _, ok := u.tps[uni]; !ok {
			todo = append(todo, p)
		}
	}
	u.mu.Unlock()
	sort.Slice(todo, func(i, j int) bool { return todo[i].uni < todo[j].uni })
	for _, p := range todo {
		if err := u.configure(ctx, p); err != nil {
			return fmt.Errorf("tech profile of UNI %d: %w", p.uni, err)
		}
		u.mu.Lock()
		u.tps[p.uni] = p.alloc
		u.mu.Unlock()
	}
	n, err := u.restoreRows(ctx)
	if err != nil {
		return err
	}
	if len(todo) == 0 && n == 0 {
		return nil
	}
	u.log.Info("service configuration restored", "tech_profiles", len(todo), "vlan_rows", n)
	return u.restoreSync(ctx)
}

// restoreRows sets the rows of the ONU's flows the ONU does not hold and
// returns how many it set or deleted.
func (u *onu) restoreRows(ctx context.Context) (int, error) {
	fs := u.flows
	fs.mu.Lock()
	want := fs.want
	fs.mu.Unlock()
	if len(want) == 0 {
		return 0, nil
	}
	u.mu.Lock()
	unis := u.unis
	u.mu.Unlock()
	return u.syncRows(ctx, unis, want)
}

var _ adapter.PacketSender = (*handler)(nil)

// SendPacketOut sends a controller's frame out of a UNI of the ONU: the
// OLT's adapter sends it down the PON (adapter.MsgPacketOut).
func (h *handler) SendPacketOut(ctx context.Context, req *adapterv1.PacketOutRequest) error {
	u, err := h.ensure(req.GetDevice())
	if err != nil {
		return err
	}
	body := &adapterv1.PacketOutRequest{EgressPortNo: req.GetEgressPortNo(), Packet: req.GetPacket()}
	if err := h.a.SendInterAdapterMessage(ctx, u.oltTopic, adapter.MsgPacketOut, u.id, u.oltID, body); err != nil {
		return fmt.Errorf("ONU %s: packet-out to port %d: %w", u.id, req.GetEgressPortNo(), err)
	}
	return nil
}

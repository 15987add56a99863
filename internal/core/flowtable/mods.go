package flowtable

import (
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// PlanFlowMod works out what fm does, without changing the table.
func (t *Table) PlanFlowMod(fm *openflowv1.FlowMod) (Changes, error) {
	switch fm.GetCommand() {
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD:
		return t.planAdd(fm)
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_MODIFY, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_MODIFY_STRICT:
		return t.planModify(fm)
	case openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT:
		return t.planDelete(fm)
	}
	return Changes{}, refuse(ErrTypeFlowMod, CodeFlowBadCommand, coreerr.ErrInvalidArgument, "flow-mod command %s is not supported", fm.GetCommand())
}

func (t *Table) checkTable(id uint32) error {
	if id >= t.nTables {
		return refuse(ErrTypeFlowMod, CodeFlowBadTableID, coreerr.ErrInvalidArgument, "table %d does not exist (tables 0-%d)", id, t.nTables-1)
	}
	return nil
}

// checkRefs refuses instructions that name a missing meter, group or a
// table that is not after this one.
func (t *Table) checkRefs(tableID uint32, ins []*openflowv1.Instruction) error {
	for _, in := range ins {
		switch {
		case in.GetMeter() != nil:
			if _, ok := t.meters[in.GetMeter().GetMeterId()]; !ok {
				return refuse(ErrTypeMeterMod, CodeMeterUnknown, coreerr.ErrInvalidArgument, "meter %d does not exist", in.GetMeter().GetMeterId())
			}
		case in.GetGotoTable() != nil:
			next := in.GetGotoTable().GetTableId()
			if next <= tableID || next >= t.nTables {
				return refuse(ErrTypeFlowMod, CodeFlowBadTableID, coreerr.ErrInvalidArgument, "goto_table %d from table %d: the target must be a later table below %d", next, tableID, t.nTables)
			}
		}
		for _, a := range actionsOf(in) {
			if g := a.GetGroup(); g != nil {
				if _, ok := t.groups[g.GetGroupId()]; !ok {
					return refuse(ErrTypeBadAction, CodeBadOutGroup, coreerr.ErrInvalidArgument, "group %d does not exist", g.GetGroupId())
				}
			}
		}
	}
	return nil
}

func actionsOf(in *openflowv1.Instruction) []*openflowv1.Action {
	if a := in.GetApplyActions(); a != nil {
		return a.GetActions()
	}
	if a := in.GetWriteActions(); a != nil {
		return a.GetActions()
	}
	return nil
}

func (t *Table) planAdd(fm *openflowv1.FlowMod) (Changes, error) {
	if err := t.checkTable(fm.GetTableId()); err != nil {
		return Changes{}, err
	}
	if err := t.checkRefs(fm.GetTableId(), fm.GetInstructions()); err != nil {
		return Changes{}, err
	}
	id := FlowID(fm.GetTableId(), fm.GetPriority(), fm.GetMatch())
	if fm.GetFlags()&FlagCheckOverlap != 0 {
		if f := t.overlapping(fm, id); f != nil {
			return Changes{}, refuse(ErrTypeFlowMod, CodeFlowOverlap, coreerr.ErrAlreadyExists, "flow overlaps flow %#x in table %d at priority %d", f.GetId(), f.GetTableId(), f.GetPriority())
		}
	}
	// The flow and the Added slice in one allocation. The flow keeps fm's
	// match and instructions (see Table).
	a := new(struct {
		flow  openflowv1.Flow
		added [1]*openflowv1.Flow
	})
	flow := &a.flow
	flow.Id = id
	flow.TableId = fm.GetTableId()
	flow.Priority = fm.GetPriority()
	flow.IdleTimeout = fm.GetIdleTimeout()
	flow.HardTimeout = fm.GetHardTimeout()
	flow.Flags = fm.GetFlags() &^ FlagCheckOverlap
	flow.Cookie = fm.GetCookie()
	flow.Match = fm.GetMatch()
	flow.Instructions = fm.GetInstructions()
	if flow.Match == nil {
		flow.Match = &openflowv1.Match{}
	}
	a.added[0] = flow
	c := Changes{Added: a.added[:]}
	if old, ok := t.flows[id]; ok {
		c.Removed = []*openflowv1.Flow{old.flow}
	}
	return c, nil
}

// overlapping returns a flow other than id, in fm's table at fm's
// priority, that a packet could match as well as fm; or nil.
func (t *Table) overlapping(fm *openflowv1.FlowMod, id uint64) *openflowv1.Flow {
	b := t.buckets[tablePrio{fm.GetTableId(), fm.GetPriority()}]
	if b == nil {
		return nil
	}
	var qbuf, ebuf [maxInline]field
	q := canonInto(qbuf[:0], fm.GetMatch())
	var found *openflowv1.Flow
	b.candidates(q, false, func(e *entry) bool {
		if e.flow.GetId() != id && canonInto(ebuf[:0], e.flow.GetMatch()).overlaps(q) {
			found = e.flow
			return false
		}
		return true
	})
	return found
}

// selected calls yield with each flow a modify or delete applies to.
func (t *Table) selected(fm *openflowv1.FlowMod, strict, isDelete bool, yield func(*openflowv1.Flow)) {
	var qbuf, ebuf [maxInline]field
	q := canonInto(qbuf[:0], fm.GetMatch())
	pick := func(e *entry) bool {
		f := e.flow
		if fm.GetTableId() != TableAll && f.GetTableId() != fm.GetTableId() {
			return true
		}
		if fm.GetCookieMask() != 0 && f.GetCookie()&fm.GetCookieMask() != fm.GetCookie()&fm.GetCookieMask() {
			return true
		}
		m := canonInto(ebuf[:0], f.GetMatch())
		if strict {
			if f.GetPriority() != fm.GetPriority() || !m.equal(q) {
				return true
			}
		} else if !m.coveredBy(q) {
			return true
		}
		if isDelete {
			if p := fm.GetOutPort(); p != PortAny && p != 0 && !outputsTo(f, p) {
				return true
			}
			if g := fm.GetOutGroup(); g != GroupAny && g != 0 && !usesGroup(f, g) {
				return true
			}
		}
		yield(f)
		return true
	}
	if strict {
		for e := t.byKey[q.key(fm.GetPriority())]; e != nil; e = e.sameKey {
			pick(e)
		}
		return
	}
	for at, b := range t.buckets {
		if fm.GetTableId() == TableAll || at.table == fm.GetTableId() {
			b.candidates(q, true, pick)
		}
	}
}

func (t *Table) planModify(fm *openflowv1.FlowMod) (Changes, error) {
	if err := t.checkTable(fm.GetTableId()); err != nil {
		return Changes{}, err
	}
	if err := t.checkRefs(fm.GetTableId(), fm.GetInstructions()); err != nil {
		return Changes{}, err
	}
	strict := fm.GetCommand() == openflowv1.FlowModCommand_FLOW_MOD_COMMAND_MODIFY_STRICT
	var c Changes
	t.selected(fm, strict, false, func(f *openflowv1.Flow) {
		next := withInstructions(f, fm.GetInstructions())
		if fm.GetFlags()&FlagResetCounts != 0 {
			next.PacketCount, next.ByteCount = 0, 0
		}
		c.Removed = append(c.Removed, f)
		c.Added = append(c.Added, next)
	})
	return c, nil
}

// withInstructions returns a new flow that is f with other instructions.
// It shares f's match: flows in the table are never changed (see Table).
func withInstructions(f *openflowv1.Flow, ins []*openflowv1.Instruction) *openflowv1.Flow {
	next := &openflowv1.Flow{
		Id:           f.GetId(),
		TableId:      f.GetTableId(),
		DurationSec:  f.GetDurationSec(),
		DurationNsec: f.GetDurationNsec(),
		Priority:     f.GetPriority(),
		IdleTimeout:  f.GetIdleTimeout(),
		HardTimeout:  f.GetHardTimeout(),
		Flags:        f.GetFlags(),
		Cookie:       f.GetCookie(),
		PacketCount:  f.GetPacketCount(),
		ByteCount:    f.GetByteCount(),
		Match:        f.GetMatch(),
		Instructions: ins,

		InstallTimeUnixNano: f.GetInstallTimeUnixNano(),
	}
	if u := f.ProtoReflect().GetUnknown(); len(u) > 0 {
		next.ProtoReflect().SetUnknown(u)
	}
	return next
}

func (t *Table) planDelete(fm *openflowv1.FlowMod) (Changes, error) {
	if fm.GetTableId() != TableAll {
		if err := t.checkTable(fm.GetTableId()); err != nil {
			return Changes{}, err
		}
	}
	strict := fm.GetCommand() == openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT
	var c Changes
	t.selected(fm, strict, true, func(f *openflowv1.Flow) { c.Removed = append(c.Removed, f) })
	sortFlows(c.Removed)
	return c, nil
}

func outputsTo(f *openflowv1.Flow, port uint32) bool {
	for _, in := range f.GetInstructions() {
		for _, a := range actionsOf(in) {
			if o := a.GetOutput(); o != nil && o.GetPort() == port {
				return true
			}
		}
	}
	return false
}

func usesGroup(f *openflowv1.Flow, group uint32) bool {
	for _, in := range f.GetInstructions() {
		for _, a := range actionsOf(in) {
			if g := a.GetGroup(); g != nil && g.GetGroupId() == group {
				return true
			}
		}
	}
	return false
}

func usesMeter(f *openflowv1.Flow, meter uint32) bool {
	for _, in := range f.GetInstructions() {
		if m := in.GetMeter(); m != nil && m.GetMeterId() == meter {
			return true
		}
	}
	return false
}

// PlanGroupMod works out what gm does, without changing the table. A
// deleted group takes the flows that use it along.
func (t *Table) PlanGroupMod(gm *openflowv1.GroupMod) (Changes, error) {
	id := gm.GetGroupId()
	desc := &openflowv1.GroupDesc{Type: gm.GetType(), GroupId: id, Buckets: gm.GetBuckets()}
	switch gm.GetCommand() {
	case openflowv1.GroupModCommand_GROUP_MOD_COMMAND_ADD, openflowv1.GroupModCommand_GROUP_MOD_COMMAND_MODIFY:
		add := gm.GetCommand() == openflowv1.GroupModCommand_GROUP_MOD_COMMAND_ADD
		if id > 0xffffff00 {
			return Changes{}, refuse(ErrTypeGroupMod, CodeGroupInvalid, coreerr.ErrInvalidArgument, "group id %#x is reserved", id)
		}
		if err := checkGroup(desc); err != nil {
			return Changes{}, err
		}
		_, exists := t.groups[id]
		if add && exists {
			return Changes{}, refuse(ErrTypeGroupMod, CodeGroupExists, coreerr.ErrAlreadyExists, "group %d already exists", id)
		}
		if !add && !exists {
			return Changes{}, refuse(ErrTypeGroupMod, CodeGroupUnknown, coreerr.ErrNotFound, "group %d does not exist", id)
		}
		c := Changes{GroupsAdded: []*openflowv1.GroupDesc{desc}}
		if exists {
			c.GroupsRemoved = []*openflowv1.GroupDesc{t.groups[id]}
		}
		return c, nil
	case openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE:
		var c Changes
		for gid, g := range t.groups {
			if id != GroupAll && gid != id {
				continue
			}
			c.GroupsRemoved = append(c.GroupsRemoved, g)
			for _, e := range t.flows {
				if usesGroup(e.flow, gid) {
					c.Removed = append(c.Removed, e.flow)
				}
			}
		}
		sortFlows(c.Removed)
		return c, nil // deleting a missing group is not an error
	}
	return Changes{}, refuse(ErrTypeGroupMod, CodeGroupBadCmd, coreerr.ErrInvalidArgument, "group-mod command %s is not supported", gm.GetCommand())
}

func checkGroup(g *openflowv1.GroupDesc) error {
	switch g.GetType() {
	case openflowv1.GroupType_GROUP_TYPE_ALL, openflowv1.GroupType_GROUP_TYPE_SELECT, openflowv1.GroupType_GROUP_TYPE_FAST_FAILOVER:
	case openflowv1.GroupType_GROUP_TYPE_INDIRECT:
		if len(g.GetBuckets()) != 1 {
			return refuse(ErrTypeGroupMod, CodeGroupBadBucket, coreerr.ErrInvalidArgument, "indirect group %d needs exactly one bucket, has %d", g.GetGroupId(), len(g.GetBuckets()))
		}
	default:
		return refuse(ErrTypeGroupMod, CodeGroupBadType, coreerr.ErrInvalidArgument, "group %d has no valid type", g.GetGroupId())
	}
	return nil
}

// PlanMeterMod works out what mm does, without changing the table. A
// deleted meter takes the flows that use it along.
func (t *Table) PlanMeterMod(mm *openflowv1.MeterMod) (Changes, error) {
	id := mm.GetMeterId()
	cfg := &openflowv1.MeterConfig{Flags: mm.GetFlags(), MeterId: id, Bands: mm.GetBands()}
	switch mm.GetCommand() {
	case openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, openflowv1.MeterModCommand_METER_MOD_COMMAND_MODIFY:
		add := mm.GetCommand() == openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD
		if id == 0 || id > 0xffff0000 {
			return Changes{}, refuse(ErrTypeMeterMod, CodeMeterInvalid, coreerr.ErrInvalidArgument, "meter id %d is not valid (1-%d)", id, uint32(0xffff0000))
		}
		if len(mm.GetBands()) == 0 {
			return Changes{}, refuse(ErrTypeMeterMod, CodeMeterBadBand, coreerr.ErrInvalidArgument, "meter %d has no bands", id)
		}
		_, exists := t.meters[id]
		if add && exists {
			return Changes{}, refuse(ErrTypeMeterMod, CodeMeterExists, coreerr.ErrAlreadyExists, "meter %d already exists", id)
		}
		if !add && !exists {
			return Changes{}, refuse(ErrTypeMeterMod, CodeMeterUnknown, coreerr.ErrNotFound, "meter %d does not exist", id)
		}
		c := Changes{MetersAdded: []*openflowv1.MeterConfig{cfg}}
		if exists {
			c.MetersRemoved = []*openflowv1.MeterConfig{t.meters[id]}
		}
		return c, nil
	case openflowv1.MeterModCommand_METER_MOD_COMMAND_DELETE:
		var c Changes
		for mid, m := range t.meters {
			if id != MeterAll && mid != id {
				continue
			}
			c.MetersRemoved = append(c.MetersRemoved, m)
			for _, e := range t.flows {
				if usesMeter(e.flow, mid) {
					c.Removed = append(c.Removed, e.flow)
				}
			}
		}
		sortFlows(c.Removed)
		return c, nil
	}
	return Changes{}, refuse(ErrTypeMeterMod, CodeMeterBadCmd, coreerr.ErrInvalidArgument, "meter-mod command %s is not supported", mm.GetCommand())
}

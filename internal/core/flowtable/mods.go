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
	m := canon(fm.GetMatch())
	id := FlowID(fm.GetTableId(), fm.GetPriority(), fm.GetMatch())
	if fm.GetFlags()&FlagCheckOverlap != 0 {
		for _, e := range t.flows {
			f := e.flow
			if f.GetId() != id && f.GetTableId() == fm.GetTableId() && f.GetPriority() == fm.GetPriority() && e.match.overlaps(m) {
				return Changes{}, refuse(ErrTypeFlowMod, CodeFlowOverlap, coreerr.ErrAlreadyExists, "flow overlaps flow %#x in table %d at priority %d", f.GetId(), f.GetTableId(), f.GetPriority())
			}
		}
	}
	flow := &openflowv1.Flow{
		Id:           id,
		TableId:      fm.GetTableId(),
		Priority:     fm.GetPriority(),
		IdleTimeout:  fm.GetIdleTimeout(),
		HardTimeout:  fm.GetHardTimeout(),
		Flags:        fm.GetFlags() &^ FlagCheckOverlap,
		Cookie:       fm.GetCookie(),
		Match:        clone(fm.GetMatch()),
		Instructions: cloneInstructions(fm.GetInstructions()),
	}
	if flow.Match == nil {
		flow.Match = &openflowv1.Match{}
	}
	c := Changes{Added: []*openflowv1.Flow{flow}}
	if old, ok := t.flows[id]; ok {
		c.Removed = []*openflowv1.Flow{old.flow}
	}
	return c, nil
}

func cloneInstructions(ins []*openflowv1.Instruction) []*openflowv1.Instruction {
	out := make([]*openflowv1.Instruction, len(ins))
	for i, in := range ins {
		out[i] = clone(in)
	}
	return out
}

// selected returns the flows a modify or delete applies to.
func (t *Table) selected(fm *openflowv1.FlowMod, strict, isDelete bool) []*entry {
	m := canon(fm.GetMatch())
	var out []*entry
	for _, e := range t.flows {
		f := e.flow
		if fm.GetTableId() != TableAll && f.GetTableId() != fm.GetTableId() {
			continue
		}
		if fm.GetCookieMask() != 0 && f.GetCookie()&fm.GetCookieMask() != fm.GetCookie()&fm.GetCookieMask() {
			continue
		}
		if strict {
			if f.GetPriority() != fm.GetPriority() || !e.match.equal(m) {
				continue
			}
		} else if !e.match.coveredBy(m) {
			continue
		}
		if isDelete {
			if p := fm.GetOutPort(); p != PortAny && p != 0 && !outputsTo(f, p) {
				continue
			}
			if g := fm.GetOutGroup(); g != GroupAny && g != 0 && !usesGroup(f, g) {
				continue
			}
		}
		out = append(out, e)
	}
	return out
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
	for _, e := range t.selected(fm, strict, false) {
		next := clone(e.flow)
		next.Instructions = cloneInstructions(fm.GetInstructions())
		if fm.GetFlags()&FlagResetCounts != 0 {
			next.PacketCount, next.ByteCount = 0, 0
		}
		c.Removed = append(c.Removed, e.flow)
		c.Added = append(c.Added, next)
	}
	return c, nil
}

func (t *Table) planDelete(fm *openflowv1.FlowMod) (Changes, error) {
	if fm.GetTableId() != TableAll {
		if err := t.checkTable(fm.GetTableId()); err != nil {
			return Changes{}, err
		}
	}
	strict := fm.GetCommand() == openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT
	var c Changes
	for _, e := range t.selected(fm, strict, true) {
		c.Removed = append(c.Removed, e.flow)
	}
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
		c := Changes{GroupsAdded: []*openflowv1.GroupDesc{clone(desc)}}
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
		c := Changes{MetersAdded: []*openflowv1.MeterConfig{clone(cfg)}}
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

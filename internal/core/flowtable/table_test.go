package flowtable

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	of "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// Small builders keep the tables readable.
func f(t of.MatchFieldType, v uint64) *of.MatchField { return &of.MatchField{Type: t, Value: v} }
func fm(t of.MatchFieldType, v, m uint64) *of.MatchField {
	return &of.MatchField{Type: t, Value: v, HasMask: true, Mask: m}
}

const (
	inPort  = of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT
	ethType = of.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE
	vid     = of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID
	meta    = of.MatchFieldType_MATCH_FIELD_TYPE_METADATA
)

func output(port uint32) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{
		Actions: []*of.Action{{Action: &of.Action_Output{Output: &of.ActionOutput{Port: port}}}},
	}}}
}

func group(id uint32) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{
		Actions: []*of.Action{{Action: &of.Action_Group{Group: &of.ActionGroup{GroupId: id}}}},
	}}}
}

func meter(id uint32) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_Meter{Meter: &of.InstructionMeter{MeterId: id}}}
}

func gotoTable(id uint32) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_GotoTable{GotoTable: &of.InstructionGotoTable{TableId: id}}}
}

type mod struct {
	cmd      of.FlowModCommand
	table    uint32
	prio     uint32
	cookie   uint64
	mask     uint64
	outPort  uint32
	outGroup uint32
	flags    uint32
	fields   []*of.MatchField
	ins      []*of.Instruction
}

func (m mod) proto() *of.FlowMod {
	if m.outPort == 0 {
		m.outPort = PortAny
	}
	if m.outGroup == 0 {
		m.outGroup = GroupAny
	}
	return &of.FlowMod{Command: m.cmd, TableId: m.table, Priority: m.prio, Cookie: m.cookie, CookieMask: m.mask,
		OutPort: m.outPort, OutGroup: m.outGroup, Flags: m.flags, Match: &of.Match{Fields: m.fields}, Instructions: m.ins}
}

const (
	add     = of.FlowModCommand_FLOW_MOD_COMMAND_ADD
	modify  = of.FlowModCommand_FLOW_MOD_COMMAND_MODIFY
	modifyS = of.FlowModCommand_FLOW_MOD_COMMAND_MODIFY_STRICT
	del     = of.FlowModCommand_FLOW_MOD_COMMAND_DELETE
	delS    = of.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT
)

// describe renders the table as sorted "table/priority/cookie/match->out"
// lines for comparison.
func describe(t *Table) string {
	var lines []string
	for _, fl := range t.Flows() {
		var ms []string
		for _, x := range fl.GetMatch().GetFields() {
			s := fmt.Sprintf("%d=%#x", x.GetType(), x.GetValue())
			if x.GetHasMask() {
				s += fmt.Sprintf("/%#x", x.GetMask())
			}
			ms = append(ms, s)
		}
		out := ""
		for _, in := range fl.GetInstructions() {
			for _, a := range actionsOf(in) {
				if a.GetOutput() != nil {
					out = fmt.Sprint(a.GetOutput().GetPort())
				}
			}
		}
		lines = append(lines, fmt.Sprintf("t%d p%d c%#x [%s] -> %s", fl.GetTableId(), fl.GetPriority(), fl.GetCookie(), strings.Join(ms, " "), out))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// base is the table every case starts from.
func base(t *testing.T) *Table {
	tb := New(2)
	for _, m := range []mod{
		{cmd: add, prio: 100, cookie: 0x11, fields: []*of.MatchField{f(inPort, 1), f(ethType, 0x888e)}, ins: []*of.Instruction{output(0xfffffffd)}},
		{cmd: add, prio: 100, cookie: 0x12, fields: []*of.MatchField{f(inPort, 2), f(ethType, 0x888e)}, ins: []*of.Instruction{output(0xfffffffd)}},
		{cmd: add, prio: 50, cookie: 0x21, fields: []*of.MatchField{f(inPort, 1), f(vid, 0x1064)}, ins: []*of.Instruction{output(7)}},
		{cmd: add, table: 1, prio: 50, cookie: 0x22, fields: []*of.MatchField{f(inPort, 7), fm(meta, 0x64, 0xfff)}, ins: []*of.Instruction{output(1)}},
	} {
		c, err := tb.PlanFlowMod(m.proto())
		if err != nil {
			t.Fatal(err)
		}
		tb.Apply(c)
	}
	return tb
}

func TestFlowMods(t *testing.T) {
	tests := []struct {
		name      string
		mod       mod
		wantErr   error
		wantCode  uint16
		removed   int
		added     int
		wantFlows int
	}{
		{"add new", mod{cmd: add, prio: 10, fields: []*of.MatchField{f(inPort, 3)}, ins: []*of.Instruction{output(7)}}, nil, 0, 0, 1, 5},
		{"add identical replaces", mod{cmd: add, prio: 100, cookie: 0x99, fields: []*of.MatchField{f(ethType, 0x888e), f(inPort, 1)}, ins: []*of.Instruction{output(9)}}, nil, 0, 1, 1, 4},
		{"add overlap refused with check", mod{cmd: add, prio: 100, flags: FlagCheckOverlap, fields: []*of.MatchField{f(inPort, 1)}}, coreerr.ErrAlreadyExists, CodeFlowOverlap, 0, 0, 4},
		{"add no overlap on other priority", mod{cmd: add, prio: 99, flags: FlagCheckOverlap, fields: []*of.MatchField{f(inPort, 1)}}, nil, 0, 0, 1, 5},
		{"add disjoint at same priority", mod{cmd: add, prio: 100, flags: FlagCheckOverlap, fields: []*of.MatchField{f(inPort, 3)}}, nil, 0, 0, 1, 5},
		{"add bad table", mod{cmd: add, table: 5, prio: 1}, coreerr.ErrInvalidArgument, CodeFlowBadTableID, 0, 0, 4},
		{"add unknown meter", mod{cmd: add, prio: 1, ins: []*of.Instruction{meter(9)}}, coreerr.ErrInvalidArgument, CodeMeterUnknown, 0, 0, 4},
		{"add unknown group", mod{cmd: add, prio: 1, ins: []*of.Instruction{group(9)}}, coreerr.ErrInvalidArgument, CodeBadOutGroup, 0, 0, 4},
		{"add goto backwards", mod{cmd: add, table: 1, prio: 1, ins: []*of.Instruction{gotoTable(0)}}, coreerr.ErrInvalidArgument, CodeFlowBadTableID, 0, 0, 4},
		{"modify by match", mod{cmd: modify, fields: []*of.MatchField{f(inPort, 1)}, ins: []*of.Instruction{output(8)}}, nil, 0, 2, 2, 4},
		{"modify by cookie", mod{cmd: modify, cookie: 0x10, mask: 0xf0, ins: []*of.Instruction{output(8)}}, nil, 0, 2, 2, 4},
		{"modify strict needs priority", mod{cmd: modifyS, prio: 99, fields: []*of.MatchField{f(inPort, 1), f(ethType, 0x888e)}}, nil, 0, 0, 0, 4},
		{"modify strict exact", mod{cmd: modifyS, prio: 100, fields: []*of.MatchField{f(inPort, 1), f(ethType, 0x888e)}, ins: []*of.Instruction{output(8)}}, nil, 0, 1, 1, 4},
		{"modify matching nothing adds nothing", mod{cmd: modify, fields: []*of.MatchField{f(inPort, 42)}}, nil, 0, 0, 0, 4},
		{"delete all in table 0", mod{cmd: del}, nil, 0, 3, 0, 1},
		{"delete all tables", mod{cmd: del, table: TableAll}, nil, 0, 4, 0, 0},
		{"delete by match", mod{cmd: del, table: TableAll, fields: []*of.MatchField{f(ethType, 0x888e)}}, nil, 0, 2, 0, 2},
		{"delete by masked match", mod{cmd: del, table: 1, fields: []*of.MatchField{fm(meta, 0x64, 0xff)}}, nil, 0, 1, 0, 3},
		{"delete wider mask spares narrower flow", mod{cmd: del, table: 1, fields: []*of.MatchField{fm(meta, 0x64, 0xffff)}}, nil, 0, 0, 0, 4},
		{"delete by cookie", mod{cmd: del, table: TableAll, cookie: 0x20, mask: 0xf0}, nil, 0, 2, 0, 2},
		{"delete by out_port", mod{cmd: del, table: TableAll, outPort: 0xfffffffd}, nil, 0, 2, 0, 2},
		{"delete strict", mod{cmd: delS, prio: 50, fields: []*of.MatchField{f(vid, 0x1064), f(inPort, 1)}}, nil, 0, 1, 0, 3},
		{"delete strict wrong priority", mod{cmd: delS, prio: 51, fields: []*of.MatchField{f(vid, 0x1064), f(inPort, 1)}}, nil, 0, 0, 0, 4},
		{"unknown command", mod{}, coreerr.ErrInvalidArgument, CodeFlowBadCommand, 0, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := base(t)
			before := describe(tb)
			c, err := tb.PlanFlowMod(tt.mod.proto())
			if describe(tb) != before {
				t.Fatal("planning changed the table")
			}
			if tt.wantErr != nil {
				var oe *Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &oe) || oe.Code != tt.wantCode {
					t.Fatalf("err = %v, want %v with code %d", err, tt.wantErr, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Removed) != tt.removed || len(c.Added) != tt.added {
				t.Errorf("removed %d added %d, want %d and %d", len(c.Removed), len(c.Added), tt.removed, tt.added)
			}
			tb.Apply(c)
			if n := len(tb.Flows()); n != tt.wantFlows {
				t.Errorf("%d flows after, want %d:\n%s", n, tt.wantFlows, describe(tb))
			}
		})
	}
}

func TestFlowIDStable(t *testing.T) {
	a := &of.Match{Fields: []*of.MatchField{f(inPort, 1), f(ethType, 0x888e)}}
	b := &of.Match{Fields: []*of.MatchField{f(ethType, 0x888e), f(inPort, 1)}}
	if FlowID(0, 100, a) != FlowID(0, 100, b) {
		t.Error("field order changes the id")
	}
	if FlowID(0, 100, a) == FlowID(0, 101, a) || FlowID(0, 100, a) == FlowID(1, 100, a) {
		t.Error("priority or table does not change the id")
	}
	masked := &of.Match{Fields: []*of.MatchField{fm(meta, 0x1234, 0xff)}}
	same := &of.Match{Fields: []*of.MatchField{fm(meta, 0x5534, 0xff)}}
	if FlowID(0, 1, masked) != FlowID(0, 1, same) {
		t.Error("bits outside the mask change the id")
	}
}

func TestGroupsAndMeters(t *testing.T) {
	tb := base(t)
	apply := func(c Changes, err error) error {
		if err == nil {
			tb.Apply(c)
		}
		return err
	}
	all := of.GroupType_GROUP_TYPE_ALL
	gadd := func(id uint32, typ of.GroupType, buckets int) error {
		gm := &of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_ADD, Type: typ, GroupId: id}
		for range buckets {
			gm.Buckets = append(gm.Buckets, &of.Bucket{Actions: []*of.Action{{Action: &of.Action_Output{Output: &of.ActionOutput{Port: 1}}}}})
		}
		return apply(tb.PlanGroupMod(gm))
	}
	if err := gadd(1, all, 2); err != nil {
		t.Fatal(err)
	}
	if err := gadd(1, all, 2); !errors.Is(err, coreerr.ErrAlreadyExists) {
		t.Errorf("second add: %v", err)
	}
	if err := gadd(2, of.GroupType_GROUP_TYPE_INDIRECT, 2); !errors.Is(err, coreerr.ErrInvalidArgument) {
		t.Errorf("indirect with 2 buckets: %v", err)
	}
	if err := apply(tb.PlanGroupMod(&of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_MODIFY, Type: all, GroupId: 7})); !errors.Is(err, coreerr.ErrNotFound) {
		t.Errorf("modify unknown group: %v", err)
	}
	madd := &of.MeterMod{Command: of.MeterModCommand_METER_MOD_COMMAND_ADD, MeterId: 3, Flags: 1,
		Bands: []*of.MeterBand{{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 10000}}}
	if err := apply(tb.PlanMeterMod(madd)); err != nil {
		t.Fatal(err)
	}
	if err := apply(tb.PlanMeterMod(madd)); !errors.Is(err, coreerr.ErrAlreadyExists) {
		t.Errorf("second meter add: %v", err)
	}
	// Flows may now use them.
	if err := apply(tb.PlanFlowMod(mod{cmd: add, prio: 5, fields: []*of.MatchField{f(inPort, 9)}, ins: []*of.Instruction{meter(3), group(1)}}.proto())); err != nil {
		t.Fatal(err)
	}
	if err := apply(tb.PlanFlowMod(mod{cmd: add, prio: 6, fields: []*of.MatchField{f(inPort, 10)}, ins: []*of.Instruction{meter(3)}}.proto())); err != nil {
		t.Fatal(err)
	}
	// Deleting the group removes the flow that uses it; deleting the meter
	// the other.
	c, err := tb.PlanGroupMod(&of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_DELETE, GroupId: 1})
	if err != nil || len(c.Removed) != 1 || len(c.GroupsRemoved) != 1 {
		t.Fatalf("group delete: %v removed %d flows", err, len(c.Removed))
	}
	tb.Apply(c)
	c, err = tb.PlanMeterMod(&of.MeterMod{Command: of.MeterModCommand_METER_MOD_COMMAND_DELETE, MeterId: MeterAll})
	if err != nil || len(c.Removed) != 1 || len(c.MetersRemoved) != 1 {
		t.Fatalf("meter delete all: %v removed %d flows", err, len(c.Removed))
	}
	tb.Apply(c)
	if len(tb.Groups()) != 0 || len(tb.Meters()) != 0 || len(tb.Flows()) != 4 {
		t.Errorf("left %d groups, %d meters, %d flows", len(tb.Groups()), len(tb.Meters()), len(tb.Flows()))
	}
}

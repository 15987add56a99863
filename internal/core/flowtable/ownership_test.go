package flowtable

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// TestNothingGivenIsChanged: the table shares the mods it is given and the
// flows it hands out instead of copying them, so it must never change
// either: not when planning, not when applying, not by later mods.
func TestNothingGivenIsChanged(t *testing.T) {
	tb := New(2)
	loaded := &of.Flow{Id: 42, TableId: 1, Priority: 9, Cookie: 7, PacketCount: 5, ByteCount: 500,
		Match: &of.Match{Fields: []*of.MatchField{f(inPort, 9)}}, Instructions: []*of.Instruction{output(3)}}
	tb.Load([]*of.Flow{loaded}, nil, nil)

	type given struct {
		msg, was proto.Message
	}
	var all []given
	keep := func(m proto.Message) { all = append(all, given{m, proto.Clone(m)}) }
	keep(loaded)
	run := func(c Changes, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range c.Added {
			keep(fl)
		}
		for _, g := range c.GroupsAdded {
			keep(g)
		}
		for _, m := range c.MetersAdded {
			keep(m)
		}
		tb.Apply(c)
	}
	flowMod := func(m mod) *of.FlowMod {
		fm := m.proto()
		keep(fm)
		return fm
	}
	gm := &of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_ADD, Type: of.GroupType_GROUP_TYPE_ALL, GroupId: 1,
		Buckets: []*of.Bucket{{Actions: []*of.Action{{Action: &of.Action_Output{Output: &of.ActionOutput{Port: 1}}}}}}}
	keep(gm)
	run(tb.PlanGroupMod(gm))
	mm := &of.MeterMod{Command: of.MeterModCommand_METER_MOD_COMMAND_ADD, MeterId: 3,
		Bands: []*of.MeterBand{{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 10}}}
	keep(mm)
	run(tb.PlanMeterMod(mm))

	run(tb.PlanFlowMod(flowMod(mod{cmd: add, prio: 5, cookie: 1, flags: FlagCheckOverlap | FlagSendFlowRem,
		fields: []*of.MatchField{f(inPort, 1), f(vid, 0x1064)}, ins: []*of.Instruction{meter(3), group(1)}})))
	run(tb.PlanFlowMod(flowMod(mod{cmd: add, prio: 5, fields: []*of.MatchField{f(inPort, 2)}, ins: []*of.Instruction{output(1)}})))
	// Re-add, modify strictly and not, with counts reset: each replaces
	// flows the table handed out before.
	run(tb.PlanFlowMod(flowMod(mod{cmd: add, prio: 5, cookie: 2, fields: []*of.MatchField{f(vid, 0x1064), f(inPort, 1)}, ins: []*of.Instruction{output(2)}})))
	run(tb.PlanFlowMod(flowMod(mod{cmd: modifyS, prio: 5, flags: FlagResetCounts, fields: []*of.MatchField{f(inPort, 1), f(vid, 0x1064)}, ins: []*of.Instruction{output(4)}})))
	run(tb.PlanFlowMod(flowMod(mod{cmd: modify, table: 1, flags: FlagResetCounts, ins: []*of.Instruction{output(5)}})))
	run(tb.PlanFlowMod(flowMod(mod{cmd: modify, fields: []*of.MatchField{f(inPort, 2)}, ins: []*of.Instruction{output(6)}})))
	run(tb.PlanFlowMod(flowMod(mod{cmd: delS, prio: 5, fields: []*of.MatchField{f(inPort, 2)}})))
	run(tb.PlanGroupMod(&of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_DELETE, GroupId: GroupAll}))
	run(tb.PlanFlowMod(flowMod(mod{cmd: del, table: TableAll})))

	for _, g := range all {
		if !proto.Equal(g.msg, g.was) {
			t.Errorf("changed after it was given:\n%v\nwas\n%v", g.msg, g.was)
		}
	}
	if n := len(tb.Flows()); n != 0 {
		t.Errorf("%d flows left", n)
	}
}

// TestPlannedFlowSharesMod pins the ownership rule down: a planned flow is
// made of the mod's match and instructions, not of copies.
func TestPlannedFlowSharesMod(t *testing.T) {
	tb := New(2)
	fm := mod{cmd: add, prio: 5, fields: []*of.MatchField{f(inPort, 1)}, ins: []*of.Instruction{output(2)}}.proto()
	c, err := tb.PlanFlowMod(fm)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Added[0]; got.GetMatch() != fm.GetMatch() || &got.GetInstructions()[0] != &fm.GetInstructions()[0] {
		t.Error("the planned flow copies the mod's match or instructions")
	}
	tb.Apply(c)
	fm2 := mod{cmd: modifyS, prio: 5, fields: []*of.MatchField{f(inPort, 1)}, ins: []*of.Instruction{output(3)}}.proto()
	if c, err = tb.PlanFlowMod(fm2); err != nil {
		t.Fatal(err)
	}
	if got := c.Added[0]; got == c.Removed[0] || got.GetMatch() != fm.GetMatch() || &got.GetInstructions()[0] != &fm2.GetInstructions()[0] {
		t.Error("the modified flow is the old one, or copies the match or the new instructions")
	}
}

// TestWithInstructionsKeepsEveryField: withInstructions copies Flow field
// by field; a field added to Flow must be added there too.
func TestWithInstructionsKeepsEveryField(t *testing.T) {
	old := &of.Flow{}
	r := old.ProtoReflect()
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			l := r.Mutable(fd).List()
			l.Append(l.NewElement())
		case fd.Message() != nil:
			r.Set(fd, protoreflect.ValueOfMessage(r.NewField(fd).Message()))
		case fd.Kind() == protoreflect.Uint32Kind:
			r.Set(fd, protoreflect.ValueOfUint32(uint32(100+i)))
		case fd.Kind() == protoreflect.Uint64Kind:
			r.Set(fd, protoreflect.ValueOfUint64(uint64(100+i)))
		case fd.Kind() == protoreflect.Int64Kind:
			r.Set(fd, protoreflect.ValueOfInt64(int64(100+i)))
		default:
			t.Fatalf("field %s of kind %s: teach this test to set it", fd.Name(), fd.Kind())
		}
	}
	r.SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 999, protowire.VarintType), 1))

	ins := []*of.Instruction{output(7)}
	got := withInstructions(old, ins)
	want := proto.Clone(old).(*of.Flow)
	want.Instructions = ins
	if !proto.Equal(got, want) {
		t.Errorf("withInstructions lost a field:\n got %v\nwant %v", got, want)
	}
	if got.GetMatch() != old.GetMatch() {
		t.Error("withInstructions copies the match")
	}
}

package flowtable

import (
	"testing"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// PlanUndo takes a mod back to the table before it: an add goes, a
// modify or a replacing add gets the old flow back, a delete brings its
// flows back, a group modify its old buckets; what a later mod changed
// again is left to that mod.
func TestPlanUndo(t *testing.T) {
	for _, c := range []struct {
		name string
		m    mod
	}{
		{name: "add", m: mod{cmd: add, prio: 70, cookie: 0x31, fields: []*of.MatchField{f(inPort, 3)}, ins: []*of.Instruction{output(9)}}},
		{name: "replacing add", m: mod{cmd: add, prio: 100, cookie: 0x99, fields: []*of.MatchField{f(inPort, 1), f(ethType, 0x888e)}, ins: []*of.Instruction{output(5)}}},
		{name: "modify", m: mod{cmd: modify, fields: []*of.MatchField{f(inPort, 1)}, ins: []*of.Instruction{output(8)}}},
		{name: "delete", m: mod{cmd: del, outPort: PortAny, fields: []*of.MatchField{f(inPort, 2)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := base(t)
			before := describe(tb)
			ch, err := tb.PlanFlowMod(c.m.proto())
			if err != nil || ch.Empty() {
				t.Fatalf("plan: %v, %+v", err, ch)
			}
			tb.Apply(ch)
			if describe(tb) == before {
				t.Fatal("the mod changed nothing")
			}
			tb.Apply(tb.PlanUndo(ch))
			if got := describe(tb); got != before {
				t.Errorf("after the undo:\n%s\nwant:\n%s", got, before)
			}
		})
	}

	// A flow a later mod replaced again stays as that mod left it.
	tb := base(t)
	first := mod{cmd: add, prio: 70, cookie: 0x31, fields: []*of.MatchField{f(inPort, 3)}, ins: []*of.Instruction{output(9)}}
	ch, _ := tb.PlanFlowMod(first.proto())
	tb.Apply(ch)
	second := first
	second.cookie, second.ins = 0x32, []*of.Instruction{output(10)}
	ch2, _ := tb.PlanFlowMod(second.proto())
	tb.Apply(ch2)
	want := describe(tb)
	if u := tb.PlanUndo(ch); !u.Empty() {
		t.Errorf("undo of a flow replaced since: %+v, want nothing", u)
	}
	if describe(tb) != want {
		t.Error("the table changed")
	}

	// Groups: a modify's undo brings the old buckets back; an add's
	// removes the group.
	tb = New(2)
	gadd := &of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_ADD, Type: of.GroupType_GROUP_TYPE_ALL, GroupId: 7,
		Buckets: []*of.Bucket{{Actions: []*of.Action{{Action: &of.Action_Output{Output: &of.ActionOutput{Port: 1}}}}}}}
	ga, err := tb.PlanGroupMod(gadd)
	if err != nil {
		t.Fatal(err)
	}
	tb.Apply(ga)
	old := tb.groups[7]
	gmod := &of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_MODIFY, Type: of.GroupType_GROUP_TYPE_ALL, GroupId: 7}
	gm, err := tb.PlanGroupMod(gmod)
	if err != nil {
		t.Fatal(err)
	}
	tb.Apply(gm)
	tb.Apply(tb.PlanUndo(gm))
	if tb.groups[7] != old {
		t.Errorf("group 7 after the modify's undo: %v, want the old one", tb.groups[7])
	}
	tb.Apply(tb.PlanUndo(ga))
	if len(tb.groups) != 0 {
		t.Errorf("groups after the add's undo: %v", tb.groups)
	}
}

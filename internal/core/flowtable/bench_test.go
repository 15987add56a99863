package flowtable

import (
	"testing"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// benchNNI is the NNI port of the benchmark tables.
const benchNNI = 0x10000

func pushVLAN(tpid uint32) *of.Action {
	return &of.Action{Action: &of.Action_PushVlan{PushVlan: &of.ActionPushVlan{Ethertype: tpid}}}
}

func popVLAN() *of.Action {
	return &of.Action{Action: &of.Action_PopVlan{PopVlan: &of.ActionPopVlan{}}}
}

func setVID(v uint64) *of.Action {
	return &of.Action{Action: &of.Action_SetField{SetField: &of.ActionSetField{Field: f(vid, 0x1000|v)}}}
}

func outAction(port uint32) *of.Action {
	return &of.Action{Action: &of.Action_Output{Output: &of.ActionOutput{Port: port}}}
}

func apply(acts ...*of.Action) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{Actions: acts}}}
}

func writeMetadata(md uint64) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_WriteMetadata{WriteMetadata: &of.InstructionWriteMetadata{Metadata: md, MetadataMask: ^uint64(0)}}}
}

// subscriberMods are the 7 flow-adds of subscriber s, ATT-like: on its UNI
// three traps, upstream in two tables; on the NNI downstream in two tables.
// Every subscriber's flows have distinct matches.
func subscriberMods(s uint32, flags uint32) []*of.FlowMod {
	uni := 0x100 + s
	c, sv := uint64(2+s%4000), uint64(2+s/4000)
	const (
		ipProto = of.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO
		udpSrc  = of.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC
		udpDst  = of.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST
	)
	ms := []mod{
		{prio: 10000, fields: []*of.MatchField{f(inPort, uint64(uni)), f(ethType, 0x888e)},
			ins: []*of.Instruction{meter(3), apply(pushVLAN(0x8100), setVID(4091), outAction(0xfffffffd))}},
		{prio: 10000, fields: []*of.MatchField{f(inPort, uint64(uni)), f(vid, 0), f(ethType, 0x800), f(ipProto, 17), f(udpSrc, 68), f(udpDst, 67)},
			ins: []*of.Instruction{meter(3), apply(pushVLAN(0x8100), setVID(c), outAction(0xfffffffd))}},
		{prio: 10000, fields: []*of.MatchField{f(inPort, uint64(uni)), f(vid, 0), f(ethType, 0x800), f(ipProto, 2)},
			ins: []*of.Instruction{meter(3), apply(pushVLAN(0x8100), setVID(c), outAction(0xfffffffd))}},
		{prio: 1000, fields: []*of.MatchField{f(inPort, uint64(uni)), f(vid, 0)},
			ins: []*of.Instruction{meter(1), apply(pushVLAN(0x8100), setVID(c)), writeMetadata(c<<48 | 64<<32 | benchNNI), gotoTable(1)}},
		{table: 1, prio: 1000, fields: []*of.MatchField{f(inPort, uint64(uni)), f(vid, 0x1000|c)},
			ins: []*of.Instruction{apply(pushVLAN(0x88a8), setVID(sv), outAction(benchNNI))}},
		{prio: 1000, fields: []*of.MatchField{f(inPort, benchNNI), f(vid, 0x1000|sv), f(meta, c<<48|uint64(uni))},
			ins: []*of.Instruction{meter(2), apply(popVLAN()), writeMetadata(c<<48 | 64<<32 | uint64(uni)), gotoTable(1)}},
		{table: 1, prio: 1000, fields: []*of.MatchField{f(inPort, benchNNI), f(vid, 0x1000|c), f(meta, uint64(uni))},
			ins: []*of.Instruction{apply(popVLAN(), outAction(uni))}},
	}
	out := make([]*of.FlowMod, len(ms))
	for i, m := range ms {
		m.cmd, m.flags = add, flags
		out[i] = m.proto()
	}
	return out
}

// benchTable returns a table of n flows (subscribers' flows, 7 each), and
// the flow-adds that made it in order.
func benchTable(b *testing.B, n int) (*Table, []*of.FlowMod) {
	b.Helper()
	tb := New(2)
	var meters []*of.MeterConfig
	for id := uint32(1); id <= 3; id++ {
		meters = append(meters, &of.MeterConfig{MeterId: id, Flags: 1, Bands: []*of.MeterBand{{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 1000}}})
	}
	tb.Load(nil, nil, meters)
	var mods []*of.FlowMod
	for s := uint32(0); len(mods) < n; s++ {
		mods = append(mods, subscriberMods(s, 0)...)
	}
	mods = mods[:n]
	for _, fm := range mods {
		c, err := tb.PlanFlowMod(fm)
		if err != nil {
			b.Fatal(err)
		}
		tb.Apply(c)
	}
	if got := len(tb.Flows()); got != n {
		b.Fatalf("table has %d flows, want %d", got, n)
	}
	return tb, mods
}

// withCommand returns a copy of fm with another command.
func withCommand(fm *of.FlowMod, cmd of.FlowModCommand) *of.FlowMod {
	return &of.FlowMod{Command: cmd, TableId: fm.GetTableId(), Priority: fm.GetPriority(), Cookie: fm.GetCookie(),
		OutPort: PortAny, OutGroup: GroupAny, Flags: fm.GetFlags(), Match: fm.GetMatch(), Instructions: fm.GetInstructions()}
}

// BenchmarkPlanFlowMod plans flow-mods against a table of 50,000 flows, as
// the core does for each flow-mod; add-apply-delete also applies them.
func BenchmarkPlanFlowMod(b *testing.B) {
	const size = 50000
	tb, mods := benchTable(b, size)
	// New subscribers' flows: distinct matches, none in the table.
	var fresh, freshOverlap []*of.FlowMod
	for s := uint32(size/7 + 1); len(fresh) < 1024; s++ {
		fresh = append(fresh, subscriberMods(s, 0)...)
		freshOverlap = append(freshOverlap, subscriberMods(s, FlagCheckOverlap)...)
	}
	plan := func(b *testing.B, fms []*of.FlowMod, wantAdded, wantRemoved int) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c, err := tb.PlanFlowMod(fms[i%len(fms)])
			if err != nil {
				b.Fatal(err)
			}
			if len(c.Added) != wantAdded || len(c.Removed) != wantRemoved {
				b.Fatalf("added %d removed %d, want %d and %d", len(c.Added), len(c.Removed), wantAdded, wantRemoved)
			}
			i++
		}
	}
	b.Run("add", func(b *testing.B) { plan(b, fresh, 1, 0) })
	b.Run("add-check-overlap", func(b *testing.B) { plan(b, freshOverlap, 1, 0) })
	var strictDels, strictMods, modIns []*of.FlowMod
	for i := 0; i < len(mods); i += 37 {
		strictDels = append(strictDels, withCommand(mods[i], delS))
		m := withCommand(mods[i], modifyS)
		m.Instructions = []*of.Instruction{apply(outAction(7))}
		strictMods = append(strictMods, m)
	}
	for s := uint32(0); s < 1024; s += 7 {
		// Non-strict: every flow of table 1 from one UNI.
		modIns = append(modIns, mod{cmd: modify, table: 1, fields: []*of.MatchField{f(inPort, uint64(0x100+s))}, ins: []*of.Instruction{apply(outAction(7))}}.proto())
	}
	b.Run("delete-strict", func(b *testing.B) { plan(b, strictDels, 0, 1) })
	b.Run("modify-strict", func(b *testing.B) { plan(b, strictMods, 1, 1) })
	b.Run("modify", func(b *testing.B) { plan(b, modIns, 1, 1) })
	b.Run("add-apply-delete", func(b *testing.B) {
		// What the core does per flow-mod, twice: add a new flow, then
		// delete it strictly, so the table keeps its size.
		var undo []*of.FlowMod
		for _, fm := range fresh {
			undo = append(undo, withCommand(fm, delS))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			for _, fm := range []*of.FlowMod{fresh[i%len(fresh)], undo[i%len(undo)]} {
				c, err := tb.PlanFlowMod(fm)
				if err != nil || len(c.Added)+len(c.Removed) != 1 {
					b.Fatalf("%v: %v, %d added, %d removed", fm.GetCommand(), err, len(c.Added), len(c.Removed))
				}
				tb.Apply(c)
			}
			i++
		}
	})
}

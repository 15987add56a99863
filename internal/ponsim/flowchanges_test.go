package ponsim

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

func idFlow(id uint64, prio uint32, match []*openflowv1.MatchField, actions ...*openflowv1.Action) *openflowv1.Flow {
	fl := flow(prio, match, actions...)
	fl.Id = id
	return fl
}

func meterFlow(id uint64, meter uint32) *openflowv1.Flow {
	fl := idFlow(id, 10, match(inPort(uint32(id))), output(1))
	fl.Instructions = append(fl.Instructions, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_Meter{
		Meter: &openflowv1.InstructionMeter{MeterId: meter}}})
	return fl
}

func ids(ft *ponsimv1.FlowTable) (flows []uint64, groups, meters []uint32) {
	for _, fl := range ft.GetFlows() {
		flows = append(flows, fl.GetId())
	}
	for _, g := range ft.GetGroups() {
		groups = append(groups, g.GetGroupId())
	}
	for _, m := range ft.GetMeters() {
		meters = append(meters, m.GetMeterId())
	}
	return flows, groups, meters
}

func TestUpdateFlows(t *testing.T) {
	s := serve(t, testConfig("changes", 1, 1))
	ctx := testCtx(t)
	onu := s.sim.ONUSerial(0, 0)
	dev := &ponsimv1.DeviceRef{SerialNumber: onu}
	if _, err := s.client.UpdateFlowTable(ctx, &ponsimv1.FlowTable{
		Device: dev,
		Flows:  []*openflowv1.Flow{idFlow(1, 10, match(inPort(1)), output(2)), idFlow(2, 10, match(inPort(2)), groupAction(1))},
		Groups: []*openflowv1.GroupDesc{{GroupId: 1, Buckets: []*openflowv1.Bucket{{Actions: []*openflowv1.Action{output(1)}}}}},
		Meters: []*openflowv1.MeterConfig{{MeterId: 3}},
	}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		fc     *ponsimv1.FlowChanges
		code   codes.Code // of a refused change: nothing changes
		flows  []uint64
		groups []uint32
		meters []uint32
	}{
		{"add", &ponsimv1.FlowChanges{Add: []*openflowv1.Flow{idFlow(3, 20, match(inPort(3)), output(1))}},
			codes.OK, []uint64{1, 2, 3}, []uint32{1}, []uint32{3}},
		{"replace goes last", &ponsimv1.FlowChanges{Add: []*openflowv1.Flow{idFlow(1, 10, match(inPort(1)), output(3))}},
			codes.OK, []uint64{2, 3, 1}, []uint32{1}, []uint32{3}},
		{"remove, unknown ignored", &ponsimv1.FlowChanges{Remove: []uint64{3, 99}, RemoveGroups: []uint32{42}, RemoveMeters: []uint32{42}},
			codes.OK, []uint64{2, 1}, []uint32{1}, []uint32{3}},
		{"remove and add the same id", &ponsimv1.FlowChanges{Remove: []uint64{2}, Add: []*openflowv1.Flow{idFlow(2, 5, nil, output(1))}},
			codes.OK, []uint64{1, 2}, []uint32{1}, []uint32{3}},
		{"groups and meters", &ponsimv1.FlowChanges{
			AddGroups:    []*openflowv1.GroupDesc{{GroupId: 2}, {GroupId: 1, Type: openflowv1.GroupType_GROUP_TYPE_ALL}},
			AddMeters:    []*openflowv1.MeterConfig{{MeterId: 4}},
			RemoveMeters: []uint32{3},
		}, codes.OK, []uint64{1, 2}, []uint32{2, 1}, []uint32{4}},
		{"flow naming a new group", &ponsimv1.FlowChanges{
			AddGroups: []*openflowv1.GroupDesc{{GroupId: 5}},
			Add:       []*openflowv1.Flow{idFlow(5, 1, nil, groupAction(5))},
		}, codes.OK, []uint64{1, 2, 5}, []uint32{2, 1, 5}, []uint32{4}},
		{"bad flow", &ponsimv1.FlowChanges{Remove: []uint64{1}, Add: []*openflowv1.Flow{idFlow(6, 1, nil, push(0x9999))}},
			codes.InvalidArgument, nil, nil, nil},
		{"missing group", &ponsimv1.FlowChanges{Add: []*openflowv1.Flow{idFlow(6, 1, nil, groupAction(9))}},
			codes.InvalidArgument, nil, nil, nil},
		{"group in use", &ponsimv1.FlowChanges{RemoveGroups: []uint32{5}, Remove: []uint64{1}},
			codes.InvalidArgument, nil, nil, nil},
		{"duplicate flow id", &ponsimv1.FlowChanges{Add: []*openflowv1.Flow{idFlow(7, 1, nil), idFlow(7, 2, nil)}},
			codes.InvalidArgument, nil, nil, nil},
		{"duplicate group id", &ponsimv1.FlowChanges{AddGroups: []*openflowv1.GroupDesc{{GroupId: 8}, {GroupId: 8}}},
			codes.InvalidArgument, nil, nil, nil},
		{"chained group", &ponsimv1.FlowChanges{AddGroups: []*openflowv1.GroupDesc{{GroupId: 8, Buckets: []*openflowv1.Bucket{{Actions: []*openflowv1.Action{groupAction(1)}}}}}},
			codes.InvalidArgument, nil, nil, nil},
		{"group and its flow go together", &ponsimv1.FlowChanges{RemoveGroups: []uint32{5}, Remove: []uint64{5}},
			codes.OK, []uint64{1, 2}, []uint32{2, 1}, []uint32{4}},
		{"no device", nil, codes.InvalidArgument, nil, nil, nil},
	}
	var want *ponsimv1.FlowTable
	for _, st := range steps {
		fc := st.fc
		if fc != nil {
			fc.Device = dev
		} else {
			fc = &ponsimv1.FlowChanges{}
		}
		_, err := s.client.UpdateFlows(ctx, fc)
		wantCode(t, err, st.code)
		got, err := s.sim.FlowTable(onu)
		if err != nil {
			t.Fatal(err)
		}
		if st.code != codes.OK {
			if !proto.Equal(got, want) {
				t.Errorf("%s: refused change left %v, want %v", st.name, got, want)
			}
			continue
		}
		want = got
		flows, groups, meters := ids(got)
		if !slices.Equal(flows, st.flows) || !slices.Equal(groups, st.groups) || !slices.Equal(meters, st.meters) {
			t.Errorf("%s: flows %v groups %v meters %v, want %v %v %v", st.name, flows, groups, meters, st.flows, st.groups, st.meters)
		}
	}
	if n, _ := s.sim.FlowCount(onu); n != 2 {
		t.Errorf("flow count %d, want 2", n)
	}
	_, err := s.client.UpdateFlows(ctx, &ponsimv1.FlowChanges{Device: &ponsimv1.DeviceRef{SerialNumber: "nope"}})
	wantCode(t, err, codes.NotFound)
}

// TestUpdateFlowsKeepsCounters: flows and meters a change leaves alone
// keep counting from where they were.
func TestUpdateFlowsKeepsCounters(t *testing.T) {
	s, err := New(testConfig("counters", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{},
		Flows:  []*openflowv1.Flow{meterFlow(1, 7), meterFlow(2, 8)},
		Meters: []*openflowv1.MeterConfig{{MeterId: 7}}}); err != nil {
		t.Fatal(err)
	}
	tbl := s.olt.table.Load()
	meter := func(t *table, id uint64) *meterCount { c, _ := t.meters.get(id); return c }
	flow := func(t *table, id uint64) *entry { es, _ := t.flows.get(id); return es[0] }
	flow(tbl, 1).count.addFrames(5) // and so meter 7
	flow(tbl, 2).count.addFrames(1) // and so meter 8
	if err := s.ChangeFlows(&ponsimv1.FlowChanges{Device: &ponsimv1.DeviceRef{}, Remove: []uint64{2}, Add: []*openflowv1.Flow{meterFlow(3, 9)}}); err != nil {
		t.Fatal(err)
	}
	ft, _ := s.FlowTable("")
	if got := ft.GetFlows()[0].GetPacketCount(); got != 5 {
		t.Errorf("flow 1 counted %d, want 5", got)
	}
	mc, _ := s.MeterCounts("")
	if len(mc) != 2 || mc[7] != 5 || mc[9] != 0 {
		t.Errorf("meter counts %v, want 7:5 9:0 (8 is named by no flow now)", mc)
	}
	if got := flow(s.olt.table.Load(), 3).meter; got == nil || got != meter(s.olt.table.Load(), 9) {
		t.Error("new flow's meter is not the table's counter")
	}
}

// linearLookup is what the index must answer: the best matchable flow of
// the table id that matches, by a scan.
func linearLookup(t *table, tableID uint32, v *view) *entry {
	var best *entry
	for _, e := range t.entries() {
		if e.matchable && e.tableID == tableID && e.matches(v) && (best == nil || e.before(best)) {
			best = e
		}
	}
	return best
}

// TestApplyMatchesCompile: a table changed step by step looks up as the
// same table compiled whole does, and as a scan does; the tables it was
// made from do not change.
func TestApplyMatchesCompile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randFlow := func(id uint64) *openflowv1.Flow {
		var ms []*openflowv1.MatchField
		if rng.IntN(2) == 0 {
			ms = append(ms, inPort(uint32(rng.IntN(3))))
		}
		if rng.IntN(2) == 0 {
			ms = append(ms, vid(rng.IntN(4)-1))
		}
		if rng.IntN(3) == 0 {
			ms = append(ms, ethType(uint64([]uint16{ethTypeIPv4, 0x0806}[rng.IntN(2)])))
		}
		if rng.IntN(10) == 0 {
			ms = append(ms, mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_LABEL, 1))
		}
		fl := idFlow(id, uint32(rng.IntN(3)), ms, output(uint32(id)))
		fl.TableId = uint32(rng.IntN(2))
		return fl
	}
	var frames []view
	for in := range uint32(3) {
		for v := -1; v < 3; v++ {
			for _, et := range []uint16{ethTypeIPv4, 0x0806} {
				var tags [][2]uint16
				if v >= 0 {
					tags = append(tags, [2]uint16{tpidCTag, uint16(v)})
				}
				f, ok := parse(frame(et, []byte{1, 2, 3, 4}, tags...))
				if !ok {
					t.Fatal("frame does not parse")
				}
				frames = append(frames, view{inPort: in, f: &f})
			}
		}
	}
	cur := emptyTable
	var history []*table
	var snaps []*ponsimv1.FlowTable
	for step := range 300 {
		fc := &ponsimv1.FlowChanges{}
		for range rng.IntN(6) {
			id := uint64(rng.IntN(40))
			if rng.IntN(3) == 0 {
				fc.Remove = append(fc.Remove, id)
			} else if !slices.ContainsFunc(fc.Add, func(fl *openflowv1.Flow) bool { return fl.GetId() == id }) {
				fc.Add = append(fc.Add, randFlow(id))
			}
		}
		next, err := cur.apply(fc, false)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		history, snaps = append(history, cur), append(snaps, cur.snapshot(""))
		cur = next
		whole, err := compile(cur.snapshot(""), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range frames {
			for tid := range uint32(2) {
				got, scan, want := cur.lookup(tid, &v), linearLookup(cur, tid, &v), whole.lookup(tid, &v)
				if got != scan {
					t.Fatalf("step %d: table %d in_port %d: index hit %v, scan %v", step, tid, v.inPort, got.flow, scan.flow)
				}
				if (got == nil) != (want == nil) || got != nil && got.flow.GetId() != want.flow.GetId() {
					t.Fatalf("step %d: table %d: hit %v, whole table hits %v", step, tid, got.flow, want.flow)
				}
			}
		}
	}
	for i, old := range history {
		if !proto.Equal(old.snapshot(""), snaps[i]) {
			t.Fatalf("table %d changed after a change made from it", i)
		}
	}
}

// TestUpdateFlowsConcurrent: changes to one device from many goroutines
// all land, while frames cross the table.
func TestUpdateFlowsConcurrent(t *testing.T) {
	s, err := New(testConfig("concurrent", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for g := range uint64(4) {
		wg.Go(func() {
			for i := range uint64(50) {
				id := g*1000 + i
				if err := s.ChangeFlows(&ponsimv1.FlowChanges{Device: &ponsimv1.DeviceRef{},
					Add: []*openflowv1.Flow{idFlow(id, 1, match(inPort(uint32(id))), output(1))}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			_ = s.Inject("", s.olt.nni.no, frame(ethTypeIPv4, []byte{1, 2, 3}))
		}
	})
	wg.Wait()
	if n, _ := s.FlowCount(""); n != 200 {
		t.Errorf("%d flows, want 200", n)
	}
}

// TestLookupWhileChanging: lookups of a table that changes all the time
// (run with -race) find each flow the changes leave alone, and see each
// table they load whole: the flows a change adds all at once.
func TestLookupWhileChanging(t *testing.T) {
	s, err := New(testConfig("lookups", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dev := &ponsimv1.DeviceRef{}
	const stable, churn = 2000, 500 // in_port = flow id
	var flows []*openflowv1.Flow
	for id := range uint64(stable) {
		flows = append(flows, idFlow(id, 10, match(inPort(uint32(id))), output(1)))
	}
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: dev, Flows: flows}); err != nil {
		t.Fatal(err)
	}
	f, ok := parse(frame(ethTypeIPv4, []byte{1, 2, 3}))
	if !ok {
		t.Fatal("frame does not parse")
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := uint32(0); ; i++ {
			select {
			case <-done:
				return
			default:
			}
			tbl := s.olt.table.Load()
			if e := tbl.lookup(0, &view{inPort: i % stable, f: &f}); e == nil || e.flow.GetId() != uint64(i%stable) {
				t.Errorf("in_port %d: hit %v", i%stable, e)
				return
			}
			// A change adds (or removes) a batch of churn flows whole.
			batch := stable + i%churn/50*50
			hit := tbl.lookup(0, &view{inPort: batch, f: &f}) != nil
			for id := batch + 1; id < batch+50; id++ {
				if (tbl.lookup(0, &view{inPort: id, f: &f}) != nil) != hit {
					t.Errorf("table has flow %d but not %d of its batch, or the other way", batch, id)
					return
				}
			}
		}
	})
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		first := uint64(stable + rng.IntN(churn/50)*50)
		fc := &ponsimv1.FlowChanges{Device: dev}
		add := rng.IntN(2) == 0
		for id := first; id < first+50; id++ {
			if add {
				fc.Add = append(fc.Add, idFlow(id, 10, match(inPort(uint32(id))), output(1)))
			} else {
				fc.Remove = append(fc.Remove, id)
			}
		}
		if err := s.ChangeFlows(fc); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

// TestMeterCountsOutliveFlows: a meter's count is what its flows counted,
// also those that left the table since; a whole new table keeps it.
func TestMeterCountsOutliveFlows(t *testing.T) {
	s, err := New(testConfig("meters", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dev := &ponsimv1.DeviceRef{}
	meters := []*openflowv1.MeterConfig{{MeterId: 7}}
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: dev, Flows: []*openflowv1.Flow{meterFlow(1, 7), meterFlow(2, 7)}, Meters: meters}); err != nil {
		t.Fatal(err)
	}
	flow := func(id uint64) *entry { es, _ := s.olt.table.Load().flows.get(id); return es[0] }
	flow(1).count.addFrames(5)
	flow(2).count.addFrames(3)
	want := func(what string, n uint64) {
		t.Helper()
		if mc, _ := s.MeterCounts(""); mc[7] != n {
			t.Errorf("%s: meter 7 counted %d, want %d", what, mc[7], n)
		}
	}
	want("two flows", 8)
	if err := s.ChangeFlows(&ponsimv1.FlowChanges{Device: dev, Remove: []uint64{2}}); err != nil {
		t.Fatal(err)
	}
	want("flow 2 removed", 8)
	if err := s.ChangeFlows(&ponsimv1.FlowChanges{Device: dev, Add: []*openflowv1.Flow{meterFlow(1, 7)}}); err != nil {
		t.Fatal(err)
	}
	want("flow 1 replaced", 8)
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: dev, Flows: []*openflowv1.Flow{meterFlow(1, 7)}, Meters: meters}); err != nil {
		t.Fatal(err)
	}
	want("the same table again", 8)
	flow(1).count.addFrames(1)
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: dev, Flows: []*openflowv1.Flow{meterFlow(4, 7)}, Meters: meters}); err != nil {
		t.Fatal(err)
	}
	want("a table without flow 1", 9)
	flow(4).count.addFrames(1)
	want("flow 4 counted", 10)
}

package flowdecomp

import (
	"errors"
	"testing"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// TestRulesIndex: a device's flows, groups and meters are found by id
// whether the list is short (looked along) or long (indexed), across the
// length where the index is made.
func TestRulesIndex(t *testing.T) {
	r := Rules{}
	flow := func(id uint64, port uint32) *openflowv1.Flow {
		return &openflowv1.Flow{Id: id, Instructions: []*openflowv1.Instruction{{Instruction: &openflowv1.Instruction_ApplyActions{
			ApplyActions: &openflowv1.InstructionActions{Actions: []*openflowv1.Action{output(port, 0)}}}}}}
	}
	const n = 3 * shortList
	for i := range uint64(n) {
		if err := r.addFlow("d", flow(i, 1)); err != nil {
			t.Fatal(err)
		}
		r.addMeter("d", &openflowv1.MeterConfig{MeterId: uint32(i)})
		r.addGroup("d", &openflowv1.GroupDesc{GroupId: uint32(i)})
		// Every id so far, again: identical flows are given once, other
		// actions under an id conflict, meters and groups are given once.
		for j := range i + 1 {
			if err := r.addFlow("d", flow(j, 1)); err != nil {
				t.Fatalf("flow %d again, with %d flows: %v", j, i+1, err)
			}
			if err := r.addFlow("d", flow(j, 2)); !errors.Is(err, ErrConflict) {
				t.Fatalf("flow %d with other actions, with %d flows: %v", j, i+1, err)
			}
			r.addMeter("d", &openflowv1.MeterConfig{MeterId: uint32(j)})
			r.addGroup("d", &openflowv1.GroupDesc{GroupId: uint32(j)})
		}
	}
	dr := r["d"]
	if len(dr.Flows) != n || len(dr.Meters) != n || len(dr.Groups) != n {
		t.Fatalf("%d flows, %d meters, %d groups, want %d each", len(dr.Flows), len(dr.Meters), len(dr.Groups), n)
	}
	for i := range n {
		if dr.Flows[i].GetId() != uint64(i) || dr.Meters[i].GetMeterId() != uint32(i) || dr.Groups[i].GetGroupId() != uint32(i) {
			t.Fatalf("item %d out of order", i)
		}
	}
	if dr.flowAt == nil || dr.meterAt == nil || dr.groupAt == nil {
		t.Error("long lists are not indexed")
	}
}

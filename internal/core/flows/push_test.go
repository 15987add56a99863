package flows

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// TestChunks: a large batch goes out in requests under the size limit, each
// flow once, in an order that keeps the device consistent.
func TestChunks(t *testing.T) {
	b := newBatch()
	f := func(id uint64) *openflowv1.Flow {
		return &openflowv1.Flow{Id: id, Priority: 1000, Cookie: id, Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{
			{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: uint64(id)},
		}}}
	}
	for i := range uint64(6000) {
		b.flows[i] = f(i)
		b.unflows[100000+i] = f(100000 + i)
	}
	b.groups[1] = &openflowv1.GroupDesc{GroupId: 1}
	b.ungrps[2] = &openflowv1.GroupDesc{GroupId: 2}
	b.meters[3] = &openflowv1.MeterConfig{MeterId: 3}
	b.unmtrs[4] = &openflowv1.MeterConfig{MeterId: 4}
	const max = 64 << 10
	reqs := chunks(&voltv1.Device{Id: "olt1"}, b, max)
	if len(reqs) < 4 {
		t.Fatalf("%d requests for %d KiB of changes", len(reqs), 12000*proto.Size(f(1))>>10)
	}
	seen := map[uint64]bool{}
	phase := 0 // 0 meter/group adds, 1 flow removes, 2 flow adds, 3 group/meter removes
	for i, r := range reqs {
		if r.GetDevice().GetId() != "olt1" {
			t.Fatalf("request %d for device %q", i, r.GetDevice().GetId())
		}
		if n := proto.Size(r); n > max {
			t.Errorf("request %d is %d bytes, over %d", i, n, max)
		}
		for _, step := range []struct {
			phase int
			n     int
		}{
			{0, len(r.GetMeters().GetToAdd()) + len(r.GetGroups().GetToAdd())},
			{1, len(r.GetFlows().GetToRemove())},
			{2, len(r.GetFlows().GetToAdd())},
			{3, len(r.GetGroups().GetToRemove()) + len(r.GetMeters().GetToRemove())},
		} {
			if step.n == 0 {
				continue
			}
			if step.phase < phase {
				t.Fatalf("request %d goes back to phase %d after %d", i, step.phase, phase)
			}
			phase = step.phase
		}
		for _, fl := range append(r.GetFlows().GetToRemove(), r.GetFlows().GetToAdd()...) {
			if seen[fl.GetId()] {
				t.Fatalf("flow %d sent twice", fl.GetId())
			}
			seen[fl.GetId()] = true
		}
	}
	if len(seen) != 12000 {
		t.Errorf("%d flows sent, want 12000", len(seen))
	}
	first, last := reqs[0], reqs[len(reqs)-1]
	if len(first.GetMeters().GetToAdd()) != 1 || len(first.GetGroups().GetToAdd()) != 1 ||
		len(last.GetMeters().GetToRemove()) != 1 || len(last.GetGroups().GetToRemove()) != 1 {
		t.Errorf("meters and groups: first request %v, last %v", fmt.Sprint(first.GetMeters(), first.GetGroups()), fmt.Sprint(last.GetMeters(), last.GetGroups()))
	}
	if n := len(chunks(&voltv1.Device{Id: "olt1"}, newBatch(), max)); n != 1 {
		t.Errorf("an empty batch makes %d requests, want 1", n)
	}
}

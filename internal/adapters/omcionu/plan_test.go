package omcionu

import (
	"fmt"
	"strings"
	"testing"

	me "github.com/opencord/omci-lib-go/v2/generated"

	"github.com/openvolt/openvolt/internal/adapters/openolt"
)

// mibWith is a MIB with one T-CONT of queues upstream priority queues.
func mibWith(queues int) *mibRecord {
	rec := &mibRecord{Entities: []mibEntity{{Class: uint16(me.TContClassID), Instance: 0x8001}}}
	for q := range queues {
		rec.Entities = append(rec.Entities, mibEntity{Class: uint16(me.PriorityQueueClassID), Instance: uint16(0x8000 + q),
			Attributes: map[string]any{me.PriorityQueue_RelatedPort: float64(uint32(0x8001)<<16 | uint32(q))}})
	}
	return rec
}

func instance(gems int) *openolt.TechProfileInstance {
	in := &openolt.TechProfileInstance{TPID: 64, AllocID: 1024}
	for g := range gems {
		in.GemPorts = append(in.GemPorts, openolt.TechProfileGemPort{ID: uint32(1024 + g), PbitMap: fmt.Sprintf("0b%08b", 1<<g), Priority: uint32(g)})
	}
	return in
}

// TestPlanRefusesWhatTheONUCannotCarry: more GEM ports than the T-CONT's
// priority queues, a UNI the ONU lacks, or no alloc id are refused with
// an error naming the reason; a fitting instance maps p-bits to its GEMs.
func TestPlanRefusesWhatTheONUCannotCarry(t *testing.T) {
	for _, c := range []struct {
		name string
		rec  *mibRecord
		in   *openolt.TechProfileInstance
		unis int
		want string
	}{
		{"more GEMs than queues", mibWith(2), instance(3), 1, "3 GEM ports, T-CONT 0x8001 has 2 priority queues"},
		{"UNI beyond the ONU", mibWith(8), func() *openolt.TechProfileInstance { in := instance(1); in.UNI = 4; return in }(), 1, "UNI 4, the ONU has 1"},
		{"no alloc id", mibWith(8), func() *openolt.TechProfileInstance { in := instance(1); in.AllocID = 0; return in }(), 1, "alloc id 0"},
		{"p-bit twice", mibWith(8), func() *openolt.TechProfileInstance {
			in := instance(2)
			in.GemPorts[1].PbitMap = "0b00000011"
			return in
		}(), 1, "p-bit 0 in GEM ports 1024 and 1025"},
		{"bad pbit map", mibWith(8), func() *openolt.TechProfileInstance { in := instance(1); in.GemPorts[0].PbitMap = "0bxx"; return in }(), 1, "pbit map"},
	} {
		if _, err := planOf(c.rec, c.in, c.unis); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	p, err := planOf(mibWith(8), instance(2), 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.tcont != 0x8001 || p.alloc != 1024 || len(p.gems) != 2 || p.pbitGem[0] != 1024 || p.pbitGem[1] != 1025 || p.pbitGem[2] != 0xffff {
		t.Errorf("plan %+v", p)
	}
}

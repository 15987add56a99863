package omcionu

import (
	"reflect"
	"testing"

	me "github.com/opencord/omci-lib-go/v2/generated"
)

// The compact MIB the adapter keeps has the UNIs, T-CONTs and priority
// queues (with their related port) and nothing else, and plans and UNIs
// come out of it as out of the whole MIB.
func TestCompactMIB(t *testing.T) {
	full := mibWith(8)
	full.MibDataSync, full.Vendor, full.Version, full.EquipmentID = 7, "PSMO", "v1", "EQ"
	// A second T-CONT whose queues must not be counted for the first.
	full.Entities = append(full.Entities, mibEntity{Class: uint16(me.TContClassID), Instance: 0x8002},
		mibEntity{Class: uint16(me.PriorityQueueClassID), Instance: 0x8100,
			Attributes: map[string]any{me.PriorityQueue_RelatedPort: uint32(0x8002) << 16}},
		mibEntity{Class: uint16(me.PhysicalPathTerminationPointEthernetUniClassID), Instance: 0x0102, ClassName: "PhysicalPathTerminationPointEthernetUni",
			Attributes: map[string]any{"AdministrativeState": uint8(1)}},
		mibEntity{Class: uint16(me.OnuGClassID), Instance: 0, Attributes: map[string]any{"VendorId": "PSMO"}},
		mibEntity{Class: uint16(me.GemPortNetworkCtpClassID), Instance: 5, Attributes: map[string]any{"PortId": uint16(5)}})
	c := full.compact()
	if c.MibDataSync != 7 || c.Vendor != "PSMO" || c.Version != "v1" || c.EquipmentID != "EQ" {
		t.Errorf("identity %+v", c)
	}
	if len(c.Entities) != len(full.Entities)-2 {
		t.Errorf("%d entities kept of %d, want all but ONU-G and the GEM port", len(c.Entities), len(full.Entities))
	}
	for _, e := range c.Entities {
		if e.Attributes != nil || e.ClassName != "" {
			t.Errorf("class %d instance %#x kept attributes %v", e.Class, e.Instance, e.Attributes)
		}
	}
	if got, want := unisOf(c, 1, 2), unisOf(full, 1, 2); len(got) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("UNIs of the compact MIB %v, of the whole %v", got, want)
	}
	pc, err := planOf(c, instance(8), 1)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := planOf(full, instance(8), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pc, pf) {
		t.Errorf("plan from the compact MIB %+v, from the whole %+v", pc, pf)
	}
	if _, err := planOf(c, instance(9), 1); err == nil {
		t.Error("9 GEM ports on a T-CONT of 8 queues planned from the compact MIB")
	}
}

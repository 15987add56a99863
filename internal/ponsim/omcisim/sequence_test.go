package omcisim

import (
	"testing"

	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// TestAdapterSequence replays, per 4-UNI ONU, the OMCI sequence the field's ONU adapter runs to
// bring an ONU to ACTIVE (see openolt-notes.md: MIB reset, 6 gets, MIB upload, lock, MIB download,
// unlock) and checks every answer succeeds, the message counts, the notifications, and the hooks.
func TestAdapterSequence(t *testing.T) {
	admin := map[int]bool{}
	gemsRefused := 0
	var c *olt
	c = newOLT(t, Config{UNIs: 4}, Hooks{
		UNIAdmin: func(u int, l bool) { admin[u] = l },
		GemPortFree: func(p uint16) bool {
			_ = c.onu.Service() // no ONU lock held: ponsim may look at every ONU of the PON
			if p == 2000 {
				gemsRefused++
				return false
			}
			return true
		},
	})
	requests, notifications := 0, 0
	count := func(more [][]byte) {
		requests++
		notifications += len(more)
	}
	if r := c.mibReset(); r.Result != me.Success {
		t.Fatalf("MIB reset: %v", r.Result)
	}
	count(nil)
	for _, g := range []struct {
		class      me.ClassID
		inst, mask uint16
	}{
		{me.OnuGClassID, 0, 0xa000}, {me.OnuGClassID, 0, 0x4000}, {me.Onu2GClassID, 0, 0xc000},
		{me.SoftwareImageClassID, 0, 0xf000}, {me.SoftwareImageClassID, 1, 0xf000}, {me.IpHostConfigDataClassID, 0, 0x4000},
	} {
		if r := c.get(g.class, g.inst, g.mask); r.Result != me.Success || r.AttributeMask != g.mask {
			t.Errorf("get %v %#x: %v mask %#x", g.class, g.mask, r.Result, r.AttributeMask)
		}
		count(nil)
	}
	mes := c.upload()
	requests += 1 + len(mes)
	lockAll := func(state uint8) {
		_, more := c.set(me.OnuGClassID, 0, me.AttributeValueMap{me.OnuG_AdministrativeState: state})
		count(more)
		for u := range 4 {
			_, more := c.set(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u), me.AttributeValueMap{
				me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: state})
			count(more)
		}
	}
	lockAll(1)
	for u := range 4 {
		if !admin[u] {
			t.Errorf("UNI %d not locked", u)
		}
	}
	locked := notifications
	// MIB download: GAL Ethernet profile, ONU2-G, then per UNI a bridge, its UNI port and an
	// extended VLAN tagging operation ME.
	ok := func(what string, r me.Results) {
		t.Helper()
		if r != me.Success {
			t.Errorf("%s: %v", what, r)
		}
		count(nil)
	}
	ok("GAL", c.create(me.GalEthernetProfileClassID, 1, me.AttributeValueMap{me.GalEthernetProfile_MaximumGemPayloadSize: uint16(48)}).Result)
	r, _ := c.set(me.Onu2GClassID, 0, me.AttributeValueMap{me.Onu2G_CurrentConnectivityMode: uint8(5)})
	ok("ONU2-G", r.Result)
	for u := range 4 {
		bridge := uint16(0x0201 + u)
		ok("bridge", c.create(me.MacBridgeServiceProfileClassID, bridge, me.AttributeValueMap{
			me.MacBridgeServiceProfile_SpanningTreeInd: uint8(0), me.MacBridgeServiceProfile_LearningInd: uint8(0),
			me.MacBridgeServiceProfile_PortBridgingInd: uint8(0), me.MacBridgeServiceProfile_Priority: uint16(0x8000),
			me.MacBridgeServiceProfile_MaxAge: uint16(20 * 256), me.MacBridgeServiceProfile_HelloTime: uint16(2 * 256),
			me.MacBridgeServiceProfile_ForwardDelay: uint16(15 * 256), me.MacBridgeServiceProfile_UnknownMacAddressDiscard: uint8(0),
			me.MacBridgeServiceProfile_MacLearningDepth: uint8(0), me.MacBridgeServiceProfile_DynamicFilteringAgeingTime: uint32(0),
		}).Result)
		ok("UNI port", c.create(me.MacBridgePortConfigurationDataClassID, bridge, bridgePort(bridge, 1, 1, PPTPID(u))).Result)
		ok("ext VLAN", c.create(me.ExtendedVlanTaggingOperationConfigurationDataClassID, bridge, me.AttributeValueMap{
			me.ExtendedVlanTaggingOperationConfigurationData_AssociationType:     uint8(2),
			me.ExtendedVlanTaggingOperationConfigurationData_AssociatedMePointer: PPTPID(u),
			me.ExtendedVlanTaggingOperationConfigurationData_EnhancedMode:        uint8(0),
		}).Result)
	}
	lockAll(0)
	for u := range 4 {
		if admin[u] {
			t.Errorf("UNI %d still locked", u)
		}
	}
	if want := 1 + 6 + 1 + 249 + 5 + 14 + 5; requests != want {
		t.Errorf("%d requests, want %d", requests, want)
	}
	if locked != 4 || notifications != 8 {
		t.Errorf("alarm notifications: %d on lock, %d in all; want 4 (LOS raised) and 8 (then cleared)", locked, notifications)
	}
	if got := c.mibDataSync(); got != 5+14+5 { // every set and create after the reset
		t.Errorf("MIB data sync %d, want 24", got)
	}
	// The PON-level GEM port check refuses a port another ONU uses.
	l, _ := c.do(c.frame(omci.CreateRequestType, me.GemPortNetworkCtpClassID, 2000, gemAttrs(2000, TContID(0))))
	if cr, ok := l.(*omci.CreateResponse); !ok || cr.Result != me.ParameterError || gemsRefused != 1 {
		t.Errorf("create of a GEM port in use on the PON: %v (refused %d)", l, gemsRefused)
	}
}

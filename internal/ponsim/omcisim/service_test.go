package omcisim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// TestServiceFromMIBDownload runs the MIB download of an OMCI ONU adapter for one UNI (bridge,
// 802.1p mapper, two GEM ports, extended VLAN rules) and checks what Service reports.
func TestServiceFromMIBDownload(t *testing.T) {
	changes := 0
	c := newOLT(t, Config{UNIs: 2}, Hooks{Changed: func() { changes++ }})
	ok := func(what string, r me.Results) {
		t.Helper()
		if r != me.Success {
			t.Fatalf("%s: %v", what, r)
		}
	}
	const bridge, mapper, uniPort, mapperPort, evto = 0x0201, 0x0202, 0x0203, 0x0204, 0x0205
	ok("T-CONT", func() me.Results {
		r, _ := c.set(me.TContClassID, TContID(0), me.AttributeValueMap{me.TCont_AllocId: uint16(1024)})
		return r.Result
	}())
	ok("GAL profile", c.create(me.GalEthernetProfileClassID, 1, me.AttributeValueMap{me.GalEthernetProfile_MaximumGemPayloadSize: uint16(48)}).Result)
	ok("bridge", c.create(me.MacBridgeServiceProfileClassID, bridge, me.AttributeValueMap{
		me.MacBridgeServiceProfile_SpanningTreeInd: uint8(0), me.MacBridgeServiceProfile_LearningInd: uint8(0),
		me.MacBridgeServiceProfile_PortBridgingInd: uint8(0), me.MacBridgeServiceProfile_Priority: uint16(0x8000),
		me.MacBridgeServiceProfile_MaxAge: uint16(20 * 256), me.MacBridgeServiceProfile_HelloTime: uint16(2 * 256),
		me.MacBridgeServiceProfile_ForwardDelay: uint16(15 * 256), me.MacBridgeServiceProfile_UnknownMacAddressDiscard: uint8(0),
		me.MacBridgeServiceProfile_MacLearningDepth: uint8(0), me.MacBridgeServiceProfile_DynamicFilteringAgeingTime: uint32(0),
	}).Result)
	ok("UNI bridge port", c.create(me.MacBridgePortConfigurationDataClassID, uniPort, bridgePort(bridge, 1, 1, PPTPID(1))).Result)
	for _, port := range []uint16{1024, 1025} {
		ok("GEM port", c.create(me.GemPortNetworkCtpClassID, port, gemAttrs(port, TContID(0))).Result)
		ok("GEM IW TP", c.create(me.GemInterworkingTerminationPointClassID, port, me.AttributeValueMap{
			me.GemInterworkingTerminationPoint_GemPortNetworkCtpConnectivityPointer: port,
			me.GemInterworkingTerminationPoint_InterworkingOption:                   uint8(5),
			me.GemInterworkingTerminationPoint_ServiceProfilePointer:                uint16(mapper),
			me.GemInterworkingTerminationPoint_InterworkingTerminationPointPointer:  uint16(0),
			me.GemInterworkingTerminationPoint_GalProfilePointer:                    uint16(1),
		}).Result)
	}
	mp := me.AttributeValueMap{
		me.Ieee8021PMapperServiceProfile_TpPointer:             uint16(0xffff),
		me.Ieee8021PMapperServiceProfile_UnmarkedFrameOption:   uint8(0),
		me.Ieee8021PMapperServiceProfile_DscpToPBitMapping:     make([]byte, 24),
		me.Ieee8021PMapperServiceProfile_DefaultPBitAssumption: uint8(0),
		me.Ieee8021PMapperServiceProfile_TpType:                uint8(0),
	}
	ptrs := []string{
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority0, me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority1,
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority2, me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority3,
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority4, me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority5,
		me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority6, me.Ieee8021PMapperServiceProfile_InterworkTpPointerForPBitPriority7,
	}
	for p, name := range ptrs {
		mp[name] = uint16(0xffff)
		if p == 0 {
			mp[name] = uint16(1024)
		}
	}
	ok("mapper", c.create(me.Ieee8021PMapperServiceProfileClassID, mapper, mp).Result)
	// p-bits 5..7 to the second GEM port, set afterwards as adapters do.
	r, _ := c.set(me.Ieee8021PMapperServiceProfileClassID, mapper, me.AttributeValueMap{
		ptrs[5]: uint16(1025), ptrs[6]: uint16(1025), ptrs[7]: uint16(1025)})
	ok("mapper set", r.Result)
	ok("mapper bridge port", c.create(me.MacBridgePortConfigurationDataClassID, mapperPort, bridgePort(bridge, 2, 3, mapper)).Result)
	filter := make([]byte, 24)
	filter[0], filter[1] = 0x00, 100 // VID 100
	ok("VLAN filter", c.create(me.VlanTaggingFilterDataClassID, mapperPort, me.AttributeValueMap{
		me.VlanTaggingFilterData_VlanFilterList:   filter,
		me.VlanTaggingFilterData_ForwardOperation: uint8(0x10),
		me.VlanTaggingFilterData_NumberOfEntries:  uint8(1),
	}).Result)
	ok("ext VLAN", c.create(me.ExtendedVlanTaggingOperationConfigurationDataClassID, evto, me.AttributeValueMap{
		me.ExtendedVlanTaggingOperationConfigurationData_AssociationType:     uint8(2),
		me.ExtendedVlanTaggingOperationConfigurationData_AssociatedMePointer: PPTPID(1),
		me.ExtendedVlanTaggingOperationConfigurationData_EnhancedMode:        uint8(0),
	}).Result)
	rules := []VLANRule{
		// Single-tagged VID 10: set the VID to 100, keep p-bits.
		{FilterOuterPrio: PrioNoTag, FilterOuterVID: VIDAny, FilterInnerPrio: PrioAny, FilterInnerVID: 10,
			TagsToRemove: 1, TreatOuterPrio: PrioNoTag, TreatInnerPrio: PrioCopyInner, TreatInnerVID: 100},
		// Untagged: push VID 100 p-bit 0.
		{FilterOuterPrio: PrioNoTag, FilterOuterVID: VIDAny, FilterInnerPrio: PrioNoTag, FilterInnerVID: VIDAny,
			TreatOuterPrio: PrioNoTag, TreatInnerPrio: 0, TreatInnerVID: 100},
	}
	for _, rule := range rules {
		r, _ := c.set(me.ExtendedVlanTaggingOperationConfigurationDataClassID, evto, me.AttributeValueMap{
			me.ExtendedVlanTaggingOperationConfigurationData_ReceivedFrameVlanTaggingOperationTable: rule.Bytes(),
			me.ExtendedVlanTaggingOperationConfigurationData_OutputTpid:                             uint16(0x8100),
		})
		ok("ext VLAN rule", r.Result)
	}
	want := Service{
		TConts: []TCont{{ME: TContID(0), AllocID: 1024}},
		GemPorts: []GemPort{
			{ME: 1024, PortID: 1024, TContME: TContID(0), AllocID: 1024, Direction: Bidirectional, UpstreamQueue: 0x8000},
			{ME: 1025, PortID: 1025, TContME: TContID(0), AllocID: 1024, Direction: Bidirectional, UpstreamQueue: 0x8000}},
		UNIs: []UNI{{Index: 0, ME: PPTPID(0)}, {Index: 1, ME: PPTPID(1), VLANRules: rules, InputTPID: 0x88a8, OutputTPID: 0x8100,
			Gems:        []UNIGem{{PortID: 1024, PBits: 0x01}, {PortID: 1025, PBits: 0xe0}},
			VLANFilters: []VLANFilter{{BridgePort: mapperPort, ForwardOperation: 0x10, TCIs: []uint16{100}}}}},
	}
	if diff := cmp.Diff(want, c.onu.Service()); diff != "" {
		t.Errorf("Service (-want +got):\n%s", diff)
	}
	if changes < 10 {
		t.Errorf("Changed called %d times during a MIB download", changes)
	}
	// The table reads back through get and get next.
	g := c.get(me.ExtendedVlanTaggingOperationConfigurationDataClassID, evto, 0x0400)
	size, _ := g.Attributes[me.ExtendedVlanTaggingOperationConfigurationData_ReceivedFrameVlanTaggingOperationTable].(uint32)
	if g.Result != me.Success || size != 32 {
		t.Fatalf("get table: %v size %d", g.Result, size)
	}
	var table []byte
	for seq := uint16(0); len(table) < int(size); seq++ {
		l, _ := c.do(c.layerFrame(omci.GetNextRequestType, &omci.GetNextRequest{
			MeBasePacket:  omci.MeBasePacket{EntityClass: me.ExtendedVlanTaggingOperationConfigurationDataClassID, EntityInstance: evto},
			AttributeMask: 0x0400, SequenceNumber: seq}))
		n, ok := l.(*omci.GetNextResponse)
		if !ok || n.Result != me.Success {
			t.Fatalf("get next %d: %v", seq, l)
		}
		chunk, _ := n.Attributes[me.ExtendedVlanTaggingOperationConfigurationData_ReceivedFrameVlanTaggingOperationTable].([]byte)
		table = append(table, chunk...)
	}
	if diff := cmp.Diff(append(rules[0].Bytes(), rules[1].Bytes()...), table[:32]); diff != "" {
		t.Errorf("table read back: %s", diff)
	}
	// Deleting a rule: its filter with a treatment of all 0xff.
	del := rules[0].Bytes()
	for i := 8; i < 16; i++ {
		del[i] = 0xff
	}
	r, _ = c.set(me.ExtendedVlanTaggingOperationConfigurationDataClassID, evto, me.AttributeValueMap{
		me.ExtendedVlanTaggingOperationConfigurationData_ReceivedFrameVlanTaggingOperationTable: del})
	ok("delete rule", r.Result)
	if got := c.onu.Service().UNIs[1].VLANRules; !cmp.Equal(got, rules[1:]) {
		t.Errorf("rules after delete: %v", got)
	}
	// Deleting the GEM port takes it out of the service.
	ok("delete GEM", c.delete(me.GemPortNetworkCtpClassID, 1025).Result)
	if s := c.onu.Service(); len(s.GemPorts) != 1 || len(s.UNIs[1].Gems) != 1 {
		t.Errorf("after GEM delete: %+v", s)
	}
}

func bridgePort(bridge uint16, num, tpType uint8, tp uint16) me.AttributeValueMap {
	return me.AttributeValueMap{
		me.MacBridgePortConfigurationData_BridgeIdPointer:     bridge,
		me.MacBridgePortConfigurationData_PortNum:             num,
		me.MacBridgePortConfigurationData_TpType:              tpType,
		me.MacBridgePortConfigurationData_TpPointer:           tp,
		me.MacBridgePortConfigurationData_PortPriority:        uint16(0),
		me.MacBridgePortConfigurationData_PortPathCost:        uint16(1),
		me.MacBridgePortConfigurationData_PortSpanningTreeInd: uint8(0),
		me.MacBridgePortConfigurationData_Deprecated1:         uint8(0),
		me.MacBridgePortConfigurationData_Deprecated2:         uint8(0),
		me.MacBridgePortConfigurationData_MacLearningDepth:    uint8(0),
		me.MacBridgePortConfigurationData_LaspIdPointer:       uint16(0),
	}
}

func TestVLANRuleRoundTrip(t *testing.T) {
	for _, r := range []VLANRule{
		{FilterOuterPrio: PrioNoTag, FilterOuterVID: VIDAny, FilterInnerPrio: PrioNoTag, FilterInnerVID: VIDAny, FilterEtherType: 5,
			TreatOuterPrio: PrioNoTag, TreatInnerPrio: 7, TreatInnerVID: 4091, TreatInnerTPID: 4},
		{FilterOuterPrio: 3, FilterOuterVID: 4094, FilterOuterTPID: 5, FilterInnerPrio: PrioDefault, FilterInnerVID: 1, FilterInnerTPID: 6,
			TagsToRemove: 2, TreatOuterPrio: PrioCopyOuter, TreatOuterVID: VIDCopyOuter, TreatOuterTPID: 7, TreatInnerPrio: PrioFromDSCP, TreatInnerVID: VIDCopyInner},
	} {
		got, err := ParseVLANRule(r.Bytes())
		if err != nil || got != r {
			t.Errorf("round trip of %v: %v, %v", r, got, err)
		}
	}
	// G.988 9.3.13's example: untagged frames get VID 100 p-bit 0 pushed (word 3 = 0x000f0000 | ...).
	row := []byte{0xf8, 0, 0, 0, 0xf8, 0, 0, 0, 0, 0x0f, 0, 0, 0, 0, 0x03, 0x20}
	r, err := ParseVLANRule(row)
	if err != nil || r.FilterTags() != 0 || r.TreatInnerVID != 100 || r.TreatInnerPrio != 0 || r.TreatOuterPrio != PrioNoTag {
		t.Errorf("parse %x: %+v %v", row, r, err)
	}
	if _, err := ParseVLANRule(row[:15]); err == nil {
		t.Error("a 15-octet row parsed")
	}
}

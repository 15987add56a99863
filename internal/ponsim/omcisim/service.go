package omcisim

import (
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// Service is the configuration of the ONU the dataplane applies, as the OLT set it over OMCI.
type Service struct {
	TConts   []TCont   // T-CONTs with an alloc id assigned
	GemPorts []GemPort // GEM port network CTPs
	UNIs     []UNI     // one per UNI, in UNI order
}

// TCont is a T-CONT with its alloc id.
type TCont struct {
	ME      uint16
	AllocID uint16
}

// Direction of a GEM port network CTP (G.988 9.2.3).
type Direction uint8

// Directions.
const (
	Upstream      Direction = 1 // UNI to ANI
	Downstream    Direction = 2 // ANI to UNI
	Bidirectional Direction = 3
)

// GemPort is a GEM port network CTP.
type GemPort struct {
	ME        uint16
	PortID    uint16
	TContME   uint16 // the T-CONT it is carried by upstream (0 if none)
	AllocID   uint16 // that T-CONT's alloc id (0 if none)
	Direction Direction
	Multicast bool // reached through a multicast GEM interworking TP
	// UpstreamQueue is the priority queue (or traffic scheduler) the GEM port feeds upstream,
	// DownstreamQueue the priority queue it feeds downstream (0 if none).
	UpstreamQueue   uint16
	DownstreamQueue uint16
}

// UNI is the configuration of one PPTP Ethernet UNI.
type UNI struct {
	Index       int    // 0-based
	ME          uint16 // PPTP Ethernet UNI instance
	AdminLocked bool   // by PPTP, UNI-G or ONU-G administrative state
	LinkLoss    bool   // as set by SetUNILoss
	// VLANRules are the received frame VLAN tagging rules of the extended VLAN tagging operation
	// ME associated with the UNI, in the order the ONU tests them.
	VLANRules  []VLANRule
	InputTPID  uint16
	OutputTPID uint16
	// Gems are the GEM ports bridged to the UNI (MAC bridge → 802.1p mapper or GEM interworking TP).
	Gems []UNIGem
	// VLANFilters are the VLAN tagging filter data of the bridge ports on the UNI's bridges.
	VLANFilters []VLANFilter
}

// VLANFilter is a VLAN tagging filter data ME (G.988 9.3.11) on one MAC bridge port.
type VLANFilter struct {
	BridgePort       uint16   // the MAC bridge port configuration data it filters
	ForwardOperation uint8    // G.988 table 9.3.11-1 (e.g. 0x10: forward the listed VIDs, discard the rest)
	TCIs             []uint16 // the filter list's entries (PCP, DEI, VID)
}

// UNIGem is a GEM port that carries a UNI's traffic, for the p-bits in PBits (bit n = p-bit n;
// 0xff for all).
type UNIGem struct {
	PortID uint16
	PBits  uint8
}

// Service returns a snapshot of the service configuration.
func (o *ONU) Service() Service {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := &o.mib
	var s Service
	allocs := map[uint16]uint16{}
	m.each(me.TContClassID, func(e *entity) {
		if id := e.u16(me.TCont_AllocId); id != unassignedTCon && id != 0xff {
			s.TConts = append(s.TConts, TCont{ME: e.inst, AllocID: id})
			allocs[e.inst] = id
		}
	})
	multicast := map[uint16]bool{} // GEM CTP instance -> reached by a multicast IW TP
	m.each(me.MulticastGemInterworkingTerminationPointClassID, func(e *entity) {
		multicast[e.u16(me.MulticastGemInterworkingTerminationPoint_GemPortNetworkCtpConnectivityPointer)] = true
	})
	gemPort := map[uint16]uint16{} // GEM CTP instance -> port id
	m.each(me.GemPortNetworkCtpClassID, func(e *entity) {
		t := e.u16(me.GemPortNetworkCtp_TContPointer)
		g := GemPort{
			ME:        e.inst,
			PortID:    e.u16(me.GemPortNetworkCtp_PortId),
			TContME:   t,
			AllocID:   allocs[t],
			Direction: Direction(e.u8(me.GemPortNetworkCtp_Direction)),
			Multicast: multicast[e.inst],

			UpstreamQueue:   e.u16(me.GemPortNetworkCtp_TrafficManagementPointerForUpstream),
			DownstreamQueue: e.u16(me.GemPortNetworkCtp_PriorityQueuePointerForDownStream),
		}
		gemPort[e.inst] = g.PortID
		s.GemPorts = append(s.GemPorts, g)
	})
	iwGem := func(iwtp uint16) (uint16, bool) { // GEM IW TP instance -> GEM port id
		if e := m.find(me.GemInterworkingTerminationPointClassID, iwtp); e != nil {
			p, ok := gemPort[e.u16(me.GemInterworkingTerminationPoint_GemPortNetworkCtpConnectivityPointer)]
			return p, ok
		}
		if e := m.find(me.MulticastGemInterworkingTerminationPointClassID, iwtp); e != nil {
			p, ok := gemPort[e.u16(me.MulticastGemInterworkingTerminationPoint_GemPortNetworkCtpConnectivityPointer)]
			return p, ok
		}
		return 0, false
	}
	mapperGems := func(mapper uint16) []UNIGem {
		e := m.find(me.Ieee8021PMapperServiceProfileClassID, mapper)
		if e == nil {
			return nil
		}
		var gems []UNIGem
		for p := range 8 {
			a := e.lay.attr(0x4000 >> p) // interwork TP pointer for p-bit p
			if a == nil {
				continue
			}
			b := e.get(a)
			if port, ok := iwGem(uint16(b[0])<<8 | uint16(b[1])); ok {
				gems = addGem(gems, port, 1<<p)
			}
		}
		return gems
	}
	locks := o.uniLocksLocked()
	for u := range o.cfg.UNIs {
		pptp := PPTPID(u)
		uni := UNI{Index: u, ME: pptp, AdminLocked: locks[u], LinkLoss: o.uniLoss[u]}
		// Bridge ports of the UNI, then everything on the same bridges.
		var uniPorts []uint16
		bridges := map[uint16]bool{}
		m.each(me.MacBridgePortConfigurationDataClassID, func(e *entity) {
			if e.u8(me.MacBridgePortConfigurationData_TpType) == 1 && e.u16(me.MacBridgePortConfigurationData_TpPointer) == pptp {
				bridges[e.u16(me.MacBridgePortConfigurationData_BridgeIdPointer)] = true
				uniPorts = append(uniPorts, e.inst)
			}
		})
		m.each(me.MacBridgePortConfigurationDataClassID, func(e *entity) {
			if !bridges[e.u16(me.MacBridgePortConfigurationData_BridgeIdPointer)] {
				return
			}
			if f := m.find(me.VlanTaggingFilterDataClassID, e.inst); f != nil {
				uni.VLANFilters = append(uni.VLANFilters, vlanFilter(f))
			}
			tp := e.u16(me.MacBridgePortConfigurationData_TpPointer)
			switch e.u8(me.MacBridgePortConfigurationData_TpType) {
			case 3: // 802.1p mapper
				for _, g := range mapperGems(tp) {
					uni.Gems = addGem(uni.Gems, g.PortID, g.PBits)
				}
			case 5, 6: // GEM interworking TP, multicast GEM interworking TP
				if port, ok := iwGem(tp); ok {
					uni.Gems = addGem(uni.Gems, port, 0xff)
				}
			}
		})
		m.each(me.ExtendedVlanTaggingOperationConfigurationDataClassID, func(e *entity) {
			ptr := e.u16(me.ExtendedVlanTaggingOperationConfigurationData_AssociatedMePointer)
			match := false
			switch e.u8(me.ExtendedVlanTaggingOperationConfigurationData_AssociationType) {
			case 2: // PPTP Ethernet UNI
				match = ptr == pptp
			case 0: // MAC bridge port configuration data
				for _, p := range uniPorts {
					match = match || p == ptr
				}
			}
			if !match {
				return
			}
			uni.InputTPID = e.u16(me.ExtendedVlanTaggingOperationConfigurationData_InputTpid)
			uni.OutputTPID = e.u16(me.ExtendedVlanTaggingOperationConfigurationData_OutputTpid)
			rows := e.table(me.ExtendedVlanTaggingOperationConfigurationData_ReceivedFrameVlanTaggingOperationTable)
			for i := 0; i+vlanRowLen <= len(rows); i += vlanRowLen {
				if r, err := ParseVLANRule(rows[i : i+vlanRowLen]); err == nil {
					uni.VLANRules = append(uni.VLANRules, r)
				}
			}
		})
		s.UNIs = append(s.UNIs, uni)
	}
	return s
}

func addGem(gems []UNIGem, port uint16, pbits uint8) []UNIGem {
	for i := range gems {
		if gems[i].PortID == port {
			gems[i].PBits |= pbits
			return gems
		}
	}
	return append(gems, UNIGem{PortID: port, PBits: pbits})
}

func vlanFilter(e *entity) VLANFilter {
	f := VLANFilter{BridgePort: e.inst, ForwardOperation: e.u8(me.VlanTaggingFilterData_ForwardOperation)}
	n := int(e.u8(me.VlanTaggingFilterData_NumberOfEntries))
	if a := e.lay.attrByName(me.VlanTaggingFilterData_VlanFilterList); a != nil {
		list := e.get(a)
		for i := 0; i < n && 2*i+1 < len(list); i++ {
			f.TCIs = append(f.TCIs, uint16(list[2*i])<<8|uint16(list[2*i+1]))
		}
	}
	return f
}

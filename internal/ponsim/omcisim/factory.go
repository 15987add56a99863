package omcisim

import (
	"fmt"

	me "github.com/opencord/omci-lib-go/v2/generated"
)

// Entity ids of the factory MIB. Slot 1 holds the Ethernet UNIs, slot 0x80 the ANI side
// (T-CONTs, upstream schedulers and queues), as most ONUs number them.
const (
	uniSlot        = 0x01
	aniSlot        = 0x80
	cardholderUNI  = uniSlot<<8 | uniSlot
	cardholderANI  = uniSlot<<8 | aniSlot
	aniGID         = aniSlot<<8 | 1
	unitEthernet   = 47  // 10/100/1000BASE-T (G.988 table 9.1.5-1)
	unitXGSPON     = 238 // XGS-PON 10G/10G
	losAlarmBit    = 0   // PPTP Ethernet UNI alarm 0: LAN LOS
	adminLocked    = 1
	unassignedTCon = 0xffff // alloc id of a T-CONT not yet in use (XG(S)-PON)
)

// PPTPID is the PPTP Ethernet UNI (and UNI-G) instance of UNI uni (0-based).
func PPTPID(uni int) uint16 { return uniSlot<<8 | uint16(uni+1) }

// TContID is the T-CONT instance number t (0-based).
func TContID(t int) uint16 { return aniSlot<<8 | uint16(t+1) }

func upstreamQueueID(cfg *Config, t, q int) uint16 { return 0x8000 | uint16(t*cfg.QueuesPerTCont+q) }

func downstreamQueueID(cfg *Config, u, q int) uint16 { return uint16(u*cfg.QueuesPerUNI + q) }

type attrs map[string]any

// factoryMIB builds the MIB the ONU has after power-up or MIB reset.
func (o *ONU) factoryMIB() (mib, error) {
	c := &o.cfg
	var m mib
	var err error
	add := func(class me.ClassID, inst uint16, vals attrs) {
		if err != nil {
			return
		}
		lay := o.cat.classes[class]
		if lay == nil {
			err = fmt.Errorf("factory MIB: class %d unknown to omci-lib-go", class)
			return
		}
		e := newEntity(lay, inst)
		for name, v := range vals {
			a := lay.attrByName(name)
			if a == nil || a.table || !putValue(e.get(a), v) {
				err = fmt.Errorf("factory MIB: %s attribute %s: bad name or value %T", lay.name, name, v)
				return
			}
		}
		m.insert(e)
	}
	tconts, uqs, dqs := c.TConts, c.QueuesPerTCont, c.QueuesPerUNI
	add(me.OnuDataClassID, 0, nil)
	add(me.OnuGClassID, 0, attrs{
		me.OnuG_VendorId:                o.serial[:4],
		me.OnuG_Version:                 []byte(c.Version),
		me.OnuG_SerialNumber:            o.serial[:],
		me.OnuG_TrafficManagementOption: uint8(0), // priority controlled
		me.OnuG_BatteryBackup:           uint8(0),
		me.OnuG_AdministrativeState:     uint8(0),
		me.OnuG_OperationalState:        uint8(0),
		me.OnuG_OnuSurvivalTime:         uint8(0),
	})
	add(me.Onu2GClassID, 0, attrs{
		me.Onu2G_EquipmentId: []byte(c.EquipmentID),
		me.Onu2G_OpticalNetworkUnitManagementAndControlChannelOmccVersion: uint8(0xa3),
		me.Onu2G_VendorProductCode:                                        uint16(0),
		me.Onu2G_SecurityCapability:                                       uint8(1),
		me.Onu2G_SecurityMode:                                             uint8(1),
		me.Onu2G_TotalPriorityQueueNumber:                                 uint16(tconts*uqs + c.UNIs*dqs),
		me.Onu2G_TotalTrafficSchedulerNumber:                              uint8(tconts),
		me.Onu2G_TotalGemPortIdNumber:                                     uint16(256),
		me.Onu2G_ConnectivityCapability:                                   uint16(0x0001), // N:1 bridging
		me.Onu2G_CurrentConnectivityMode:                                  uint8(0),
		me.Onu2G_QualityOfServiceQosConfigurationFlexibility:              uint16(0),
		me.Onu2G_PriorityQueueScaleFactor:                                 uint16(1),
	})
	for i := range 2 {
		add(me.SoftwareImageClassID, uint16(i), attrs{
			me.SoftwareImage_Version:     []byte(c.Version),
			me.SoftwareImage_IsCommitted: uint8(1 - i),
			me.SoftwareImage_IsActive:    uint8(1 - i),
			me.SoftwareImage_IsValid:     uint8(1),
		})
	}
	for _, ch := range []struct {
		id    uint16
		unit  uint8
		ports int
	}{{cardholderUNI, unitEthernet, c.UNIs}, {cardholderANI, unitXGSPON, 1}} {
		add(me.CardholderClassID, ch.id, attrs{
			me.Cardholder_ActualPlugInUnitType:   ch.unit,
			me.Cardholder_ExpectedPlugInUnitType: ch.unit,
		})
		add(me.CircuitPackClassID, ch.id, attrs{
			me.CircuitPack_Type:                        ch.unit,
			me.CircuitPack_NumberOfPorts:               uint8(ch.ports),
			me.CircuitPack_SerialNumber:                o.serial[:],
			me.CircuitPack_Version:                     []byte(c.Version),
			me.CircuitPack_VendorId:                    o.serial[:4],
			me.CircuitPack_AdministrativeState:         uint8(0),
			me.CircuitPack_OperationalState:            uint8(0),
			me.CircuitPack_EquipmentId:                 []byte(c.EquipmentID),
			me.CircuitPack_TotalTContBufferNumber:      uint8(tconts),
			me.CircuitPack_TotalPriorityQueueNumber:    uint8(min(255, tconts*uqs+c.UNIs*dqs)),
			me.CircuitPack_TotalTrafficSchedulerNumber: uint8(tconts),
		})
	}
	add(me.AniGClassID, aniGID, attrs{
		me.AniG_SrIndication:          uint8(1),
		me.AniG_TotalTcontNumber:      uint16(tconts),
		me.AniG_GemBlockLength:        uint16(48),
		me.AniG_OpticalSignalLevel:    uint16(0xe054), // about -20 dBm
		me.AniG_TransmitOpticalLevel:  uint16(0x0c63), // about +2.5 dBm
		me.AniG_PiggybackDbaReporting: uint8(0),
	})
	for u := range c.UNIs {
		id := PPTPID(u)
		add(me.PhysicalPathTerminationPointEthernetUniClassID, id, attrs{
			me.PhysicalPathTerminationPointEthernetUni_SensedType:       uint8(unitEthernet),
			me.PhysicalPathTerminationPointEthernetUni_ConfigurationInd: uint8(3), // 1000BASE-T full duplex
			me.PhysicalPathTerminationPointEthernetUni_MaxFrameSize:     uint16(2000),
		})
		add(me.UniGClassID, id, nil)
		for q := range dqs {
			add(me.PriorityQueueClassID, downstreamQueueID(c, u, q), attrs{
				me.PriorityQueue_MaximumQueueSize:      uint16(100),
				me.PriorityQueue_AllocatedQueueSize:    uint16(100),
				me.PriorityQueue_RelatedPort:           uint32(id)<<16 | uint32(q),
				me.PriorityQueue_Weight:                uint8(1),
				me.PriorityQueue_BackPressureOperation: uint16(1),
			})
		}
	}
	for t := range tconts {
		id := TContID(t)
		add(me.TContClassID, id, attrs{me.TCont_AllocId: uint16(unassignedTCon), me.TCont_Policy: uint8(1)})
		add(me.TrafficSchedulerClassID, id, attrs{
			me.TrafficScheduler_TContPointer: id,
			me.TrafficScheduler_Policy:       uint8(1), // strict priority
		})
		for q := range uqs {
			add(me.PriorityQueueClassID, upstreamQueueID(c, t, q), attrs{
				me.PriorityQueue_MaximumQueueSize:      uint16(100),
				me.PriorityQueue_AllocatedQueueSize:    uint16(100),
				me.PriorityQueue_RelatedPort:           uint32(id)<<16 | uint32(q),
				me.PriorityQueue_Weight:                uint8(1),
				me.PriorityQueue_BackPressureOperation: uint16(1),
			})
		}
	}
	add(me.IpHostConfigDataClassID, 0, attrs{
		me.IpHostConfigData_MacAddress:    o.cfg.MAC[:],
		me.IpHostConfigData_OnuIdentifier: []byte(c.SerialNumber),
	})
	return m, err
}

// resetLocked puts the MIB back to its factory state (MIB reset, reboot) and returns the effects.
func (o *ONU) resetLocked() effects {
	before := o.uniLocksLocked()
	hadService := o.hasServiceLocked()
	m, err := o.factoryMIB()
	if err != nil {
		// The factory MIB was built once in New; it cannot fail now. Keep the old MIB if it does.
		return effects{}
	}
	o.mib = m
	o.upload, o.alarmSet, o.getNext = nil, nil, tableSnap{}
	o.alarmSeq = 0
	var fx effects
	after := o.uniLocksLocked()
	for u := range after {
		if before[u] != after[u] {
			fx.admin = append(fx.admin, adminChange{u, after[u]})
		}
		// The OLT learns alarms again with get all alarms after a reset, not by notifications.
		o.losShown[u] = after[u] || o.uniLoss[u]
		o.setOperStateLocked(u, o.losShown[u])
	}
	fx.changed = hadService
	return fx
}

// hasServiceLocked reports whether any service configuration is present (so a reset changes it).
func (o *ONU) hasServiceLocked() bool {
	for i := range o.mib.ents {
		e := &o.mib.ents[i]
		if serviceClass(e.lay.id) && e.lay.create {
			return true
		}
		if e.lay.id == me.TContClassID && e.u16(me.TCont_AllocId) != unassignedTCon {
			return true
		}
	}
	return false
}

// uniLocksLocked returns, per UNI, whether it is administratively locked: by its PPTP, its UNI-G
// or the whole ONU (ONU-G).
func (o *ONU) uniLocksLocked() []bool {
	locks := make([]bool, o.cfg.UNIs)
	onu := false
	if e := o.mib.find(me.OnuGClassID, 0); e != nil {
		onu = e.u8(me.OnuG_AdministrativeState) == adminLocked
	}
	for u := range locks {
		locks[u] = onu
		if e := o.mib.find(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u)); e != nil {
			locks[u] = locks[u] || e.u8(me.PhysicalPathTerminationPointEthernetUni_AdministrativeState) == adminLocked
		}
		if e := o.mib.find(me.UniGClassID, PPTPID(u)); e != nil {
			locks[u] = locks[u] || e.u8(me.UniG_AdministrativeState) == adminLocked
		}
	}
	return locks
}

// serviceClass reports whether instances of class c make up the service configuration.
func serviceClass(c me.ClassID) bool {
	switch c {
	case me.TContClassID, me.GemPortNetworkCtpClassID, me.GemInterworkingTerminationPointClassID,
		me.MulticastGemInterworkingTerminationPointClassID, me.Ieee8021PMapperServiceProfileClassID,
		me.MacBridgeServiceProfileClassID, me.MacBridgePortConfigurationDataClassID,
		me.ExtendedVlanTaggingOperationConfigurationDataClassID, me.VlanTaggingFilterDataClassID,
		me.PriorityQueueClassID, me.TrafficSchedulerClassID:
		return true
	}
	return false
}

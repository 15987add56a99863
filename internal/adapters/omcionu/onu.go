package omcionu

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/google/gopacket"
	omcilib "github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/omci"
	"github.com/openvolt/openvolt/msgbus"
)

// Device reasons, in the order an ONU passes them.
const (
	ReasonStarting     = "starting-omci"
	ReasonMibSynced    = "discovery-mibsync-complete"
	ReasonMibDownload  = "initial-mib-downloaded"
	ReasonTechProfile  = "tech-profile-config-download-success"
	ReasonTPRemoved    = "tech-profile-config-delete-success"
	ReasonOMCIFailed   = "omci-failed"
	galProfileID       = 1
	losAlarmBit        = 0 // PPTP Ethernet UNI alarm 0: LAN LOS
	adminUnlocked      = 0
	adminLocked        = 1
	bridgeBase         = 0x0200 // MAC bridge service profile of UNI u: bridgeBase+1+u
	aniBridgePortBase  = 0x0300 // ANI-side bridge port of a UNI's GEM ports: base+gem index
	mapperBase         = 0x8000 // 802.1p mapper of UNI u: mapperBase+u
	uniBridgePortOfset = 0      // the UNI-side bridge port shares the bridge's id
)

// onu is one ONU's OMCI side.
type onu struct {
	h        *handler
	id       string // device id
	oltID    string
	oltTopic string
	serial   string // as the OLT's adapter reported it (kept by report)
	pon, num uint32
	parent   uint32 // the OLT's PON port
	eng      *omci.Engine
	log      *slog.Logger

	mu     sync.Mutex // guards the fields below
	rec    *mibRecord // the MIB's compact form (compact); nil until synchronised or loaded
	up     bool       // the OLT reports it up
	synced bool       // MIB synchronised and base configuration done
	unis   []uniRef
	tps    map[int]uint16  // UNI → alloc id of the tech profile configured on it
	flows  *flowState      // its flows and VLAN rows (flows.go)
	plans  map[int]*tpPlan // UNI → the tech profile asked for, configured again after a MIB reset
	loaded bool            // the restore state was read from the store (state.go)
	// locked: the UNIs are administratively locked (the device is
	// disabled). A locked UNI shows LAN LOS whatever its link: that raises
	// no UNI_LOS; the link is read again on unlock (refreshUNIs).
	locked bool
}

// uniRef is one UNI: its ME and its port number.
type uniRef struct {
	Class  me.ClassID
	Inst   uint16
	PortNo uint32
}

// mibRecord is an ONU's MIB as learned, persisted at <key>/mib.
type mibRecord struct {
	MibDataSync uint8       `json:"mib_data_sync"`
	Vendor      string      `json:"vendor,omitempty"`
	Version     string      `json:"version,omitempty"`
	EquipmentID string      `json:"equipment_id,omitempty"`
	Entities    []mibEntity `json:"entities"`
}

type mibEntity struct {
	Class      uint16         `json:"class"`
	ClassName  string         `json:"class_name"`
	Instance   uint16         `json:"instance"`
	Attributes map[string]any `json:"attributes,omitempty"`
	// related is a priority queue's related port in the compact form
	// (no Attributes).
	related uint32
}

// compact is what the adapter keeps of a MIB in memory: the identity and
// the MEs it configures against (UNIs, T-CONTs, priority queues with
// their related port), without attributes. The whole MIB lives in the
// store (a 1,024-ONU OLT's MIBs as maps took some 80 MiB).
func (r *mibRecord) compact() *mibRecord {
	out := &mibRecord{MibDataSync: r.MibDataSync, Vendor: r.Vendor, Version: r.Version, EquipmentID: r.EquipmentID}
	n := 0
	for _, e := range r.Entities {
		if keptClass(me.ClassID(e.Class)) {
			n++
		}
	}
	out.Entities = make([]mibEntity, 0, n)
	for _, e := range r.Entities {
		if !keptClass(me.ClassID(e.Class)) {
			continue
		}
		c := mibEntity{Class: e.Class, Instance: e.Instance, related: relatedPort(e)}
		out.Entities = append(out.Entities, c)
	}
	return out
}

func keptClass(c me.ClassID) bool {
	switch c {
	case me.PhysicalPathTerminationPointEthernetUniClassID, me.VirtualEthernetInterfacePointClassID,
		me.TContClassID, me.PriorityQueueClassID:
		return true
	}
	return false
}

// relatedPort is a priority queue's related port (T-CONT << 16 | queue).
func relatedPort(e mibEntity) uint32 {
	if e.Attributes == nil {
		return e.related
	}
	return uint32(number(e.Attributes[me.PriorityQueue_RelatedPort]))
}

func newONU(h *handler, d *voltv1.Device, pon, num uint32) (*onu, error) {
	u := &onu{h: h, id: d.GetId(), serial: d.GetSerialNumber(), oltID: d.GetProxyAddress().GetDeviceId(), oltTopic: d.GetProxyAddress().GetAdapterEndpoint(),
		pon: pon, num: num, parent: d.GetParentPortNo(), log: h.log.With("onu", d.GetId()), tps: make(map[int]uint16), flows: newFlowState(), plans: make(map[int]*tpPlan)}
	eng, err := omci.New(omci.Config{
		Send: func(_ context.Context, frame []byte) error {
			h.batch.Send(u.oltTopic, u.oltID, u.id, frame)
			return nil
		},
		Autonomous: u.autonomous,
		Timeout:    h.opts.Timeout,
		Retries:    h.opts.Retries,
		Log:        u.log,
	})
	if err != nil {
		return nil, err
	}
	u.eng = eng
	return u, nil
}

func (u *onu) key() string { return u.h.keyOf(u.id) + "mib" }

func (u *onu) reportKey() msgbus.KeyOption { return msgbus.WithKey(u.id) }

func (u *onu) reason(ctx context.Context, r string) error {
	_, err := u.h.core.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: u.id, Reason: r}, u.reportKey())
	return err
}

func (u *onu) state(ctx context.Context, oper voltv1.OperStatus) error {
	_, err := u.h.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{DeviceId: u.id, OperStatus: oper}, u.reportKey())
	return err
}

// fail makes the ONU FAILED with a reason naming the step and the error.
func (u *onu) fail(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	u.saveStats(ctx)
	why := fmt.Sprintf("%s: %s: %v", ReasonOMCIFailed, step, err)
	u.log.Warn("ONU bring-up failed", "step", step, "err", err)
	if rerr := u.reason(ctx, why); rerr != nil {
		return errors.Join(err, rerr)
	}
	return errors.Join(err, u.state(ctx, voltv1.OperStatus_OPER_STATUS_FAILED))
}

// bringUp synchronises the MIB (or audits the stored one when audit asks
// and one is stored), downloads the base configuration, reports the UNIs
// and makes the ONU ACTIVE.
func (u *onu) bringUp(ctx context.Context, audit bool) error {
	u.mu.Lock()
	up := u.up
	u.mu.Unlock()
	if !up {
		return nil // the ONU indication up starts it
	}
	select {
	case u.h.bringUps <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-u.h.bringUps }()
	if err := u.reason(ctx, ReasonStarting); err != nil {
		return err
	}
	st, err := u.loadState(ctx)
	if err != nil {
		return err
	}
	rec := st.rec
	u.mu.Lock()
	first := !u.loaded
	u.loaded = true
	if first {
		// A new adapter process: the service the ONU was given.
		for uni, p := range st.plans {
			u.plans[uni] = p
		}
	}
	u.mu.Unlock()
	if first {
		u.flows.adopt(st.flows)
	}
	if audit && rec != nil {
		mds, err := u.mibDataSync(ctx)
		if err != nil {
			return u.fail(ctx, "MIB audit", err)
		}
		if mds != rec.MibDataSync {
			u.log.Info("MIB audit: data sync counter differs, synchronising again", "stored", rec.MibDataSync, "onu", mds)
			rec = nil
		}
	} else {
		rec = nil
	}
	if rec != nil && first {
		// The ONU kept its MIB: it still holds the stored service.
		u.mu.Lock()
		for uni, p := range st.plans {
			u.tps[uni] = p.alloc
		}
		u.mu.Unlock()
		u.flows.applyStored()
	}
	if rec == nil {
		u.mu.Lock()
		u.tps = make(map[int]uint16) // a MIB reset drops the service configuration
		u.mu.Unlock()
		u.flows.reset()
		if rec, err = u.synchronise(ctx); err != nil {
			return u.fail(ctx, "MIB synchronisation", err)
		}
		if err := u.reason(ctx, ReasonMibSynced); err != nil {
			return err
		}
		if err := u.baseConfig(ctx, rec); err != nil {
			return u.fail(ctx, "base configuration", err)
		}
		if rec.MibDataSync, err = u.mibDataSync(ctx); err != nil {
			return u.fail(ctx, "base configuration", err)
		}
		if err := u.store(ctx, rec); err != nil {
			return err
		}
	}
	rec = rec.compact()
	u.mu.Lock()
	u.rec = rec
	u.unis = unisOf(rec, u.pon, u.num)
	u.synced = true
	u.mu.Unlock()
	u.saveStats(ctx)
	if err := u.report(ctx, rec); err != nil {
		return err
	}
	if err := u.restoreService(ctx); err != nil {
		return u.fail(ctx, "service configuration", err)
	}
	return u.reason(ctx, ReasonMibDownload)
}

func (u *onu) mibDataSync(ctx context.Context) (uint8, error) {
	av, err := u.eng.Get(ctx, me.OnuDataClassID, 0, 0x8000)
	if err != nil {
		return 0, err
	}
	v, ok := av[me.OnuData_MibDataSync].(uint8)
	if !ok {
		return 0, fmt.Errorf("ONU data: MIB data sync is %T", av[me.OnuData_MibDataSync])
	}
	return v, nil
}

// synchronise resets and uploads the MIB and reads the ONU's identity.
func (u *onu) synchronise(ctx context.Context) (*mibRecord, error) {
	if err := u.eng.MibReset(ctx); err != nil {
		return nil, err
	}
	ents, err := u.eng.MibUpload(ctx)
	if err != nil {
		return nil, err
	}
	rec := &mibRecord{}
	// An instance with many attributes comes in several upload-next
	// answers: merged into one entity.
	at := make(map[[2]uint16]int)
	for _, e := range ents {
		me := entityOf(e)
		k := [2]uint16{me.Class, me.Instance}
		if i, ok := at[k]; ok {
			for name, v := range me.Attributes {
				rec.Entities[i].Attributes[name] = v
			}
			continue
		}
		at[k] = len(rec.Entities)
		rec.Entities = append(rec.Entities, me)
	}
	// The identity: ONU-G vendor and version, ONU2-G equipment id,
	// the active software image's version.
	if av, err := u.eng.Get(ctx, me.OnuGClassID, 0, 0xa000); err == nil {
		rec.Vendor = text(av[me.OnuG_VendorId])
		rec.Version = text(av[me.OnuG_Version])
	} else {
		return nil, err
	}
	if av, err := u.eng.Get(ctx, me.Onu2GClassID, 0, 0x8000); err == nil {
		rec.EquipmentID = text(av[me.Onu2G_EquipmentId])
	} else {
		return nil, err
	}
	if av, err := u.eng.Get(ctx, me.SoftwareImageClassID, 0, 0x8000); err == nil {
		if v := text(av[me.SoftwareImage_Version]); v != "" {
			rec.Version = v
		}
	} else {
		return nil, err
	}
	return rec, nil
}

// baseConfig is the MIB download every ONU gets: the GAL Ethernet profile
// and per UNI a MAC bridge with its UNI-side port and an extended VLAN
// tagging operation; then the UNIs are unlocked.
func (u *onu) baseConfig(ctx context.Context, rec *mibRecord) error {
	e := u.eng
	if err := e.Create(ctx, me.GalEthernetProfileClassID, galProfileID, me.AttributeValueMap{
		me.GalEthernetProfile_MaximumGemPayloadSize: uint16(48)}); err != nil {
		return err
	}
	for i, uni := range unisOf(rec, u.pon, u.num) {
		bridge := uint16(bridgeBase + 1 + i)
		if err := e.Create(ctx, me.MacBridgeServiceProfileClassID, bridge, me.AttributeValueMap{
			me.MacBridgeServiceProfile_SpanningTreeInd: uint8(0), me.MacBridgeServiceProfile_LearningInd: uint8(0),
			me.MacBridgeServiceProfile_PortBridgingInd: uint8(0), me.MacBridgeServiceProfile_Priority: uint16(0x8000),
			me.MacBridgeServiceProfile_MaxAge: uint16(20 * 256), me.MacBridgeServiceProfile_HelloTime: uint16(2 * 256),
			me.MacBridgeServiceProfile_ForwardDelay: uint16(15 * 256), me.MacBridgeServiceProfile_UnknownMacAddressDiscard: uint8(0),
			me.MacBridgeServiceProfile_MacLearningDepth: uint8(0), me.MacBridgeServiceProfile_DynamicFilteringAgeingTime: uint32(0),
		}); err != nil {
			return err
		}
		tpType := uint8(1) // PPTP Ethernet UNI
		if uni.Class == me.VirtualEthernetInterfacePointClassID {
			tpType = 11
		}
		if err := e.Create(ctx, me.MacBridgePortConfigurationDataClassID, bridge, bridgePort(bridge, 1, tpType, uni.Inst)); err != nil {
			return err
		}
		// The UNI's extended VLAN tagging operation, rules to come with
		// the subscriber's flows (association 2: a PPTP Ethernet UNI; 10:
		// a VEIP).
		assoc := uint8(2)
		if uni.Class == me.VirtualEthernetInterfacePointClassID {
			assoc = 10
		}
		if err := e.Create(ctx, me.ExtendedVlanTaggingOperationConfigurationDataClassID, bridge, me.AttributeValueMap{
			me.ExtendedVlanTaggingOperationConfigurationData_AssociationType:     assoc,
			me.ExtendedVlanTaggingOperationConfigurationData_AssociatedMePointer: uni.Inst,
			me.ExtendedVlanTaggingOperationConfigurationData_EnhancedMode:        uint8(0),
		}); err != nil {
			return err
		}
	}
	return u.lockList(ctx, unisOf(rec, u.pon, u.num), false)
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

// lockAll locks or unlocks every UNI of the ONU's MIB.
func (u *onu) lockAll(ctx context.Context, lock bool) error {
	u.mu.Lock()
	unis := u.unis
	if unis == nil && u.rec != nil {
		unis = unisOf(u.rec, u.pon, u.num)
	}
	u.mu.Unlock()
	return u.lockList(ctx, unis, lock)
}

// lockList locks or unlocks the UNIs unis.
func (u *onu) lockList(ctx context.Context, unis []uniRef, lock bool) error {
	state := uint8(adminUnlocked)
	if lock {
		state = adminLocked
	}
	for _, uni := range unis {
		var err error
		if uni.Class == me.VirtualEthernetInterfacePointClassID {
			err = u.eng.Set(ctx, uni.Class, uni.Inst, me.AttributeValueMap{me.VirtualEthernetInterfacePoint_AdministrativeState: state})
		} else {
			err = u.eng.Set(ctx, uni.Class, uni.Inst, me.AttributeValueMap{me.PhysicalPathTerminationPointEthernetUni_AdministrativeState: state})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// lockUNIs is disable (lock) and re-enable (unlock): the MIB data sync
// counter the ONU keeps afterwards is stored so a later audit agrees.
func (u *onu) lockUNIs(ctx context.Context, lock bool) error {
	u.mu.Lock()
	synced, up := u.synced, u.up
	u.mu.Unlock()
	if !synced || !up {
		return nil
	}
	u.mu.Lock()
	u.locked = lock // before the lock: the LOS it shows comes at once
	u.mu.Unlock()
	if err := u.lockAll(ctx, lock); err != nil {
		return fmt.Errorf("ONU %s: %w", u.id, err)
	}
	// After this call: it reports to the core, which holds the device
	// while it waits for this call.
	u.h.a.Submit(u.id+"/alarms", func(ctx context.Context) error {
		if !lock {
			return u.refreshUNIs(ctx)
		}
		// A disabled UNI raises nothing: what was raised clears.
		for _, uni := range u.unisNow() {
			if err := u.uniLOS(ctx, uni.PortNo, false); err != nil {
				return err
			}
		}
		return nil
	})
	return u.restoreSync(ctx)
}

func (u *onu) unisNow() []uniRef {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.unis
}

// restoreSync stores, after a change, the ONU's MIB data sync counter (in
// the compact MIB and in its own small record, not in the stored MIB)
// together with ops, the restore state the change made (state.go).
func (u *onu) restoreSync(ctx context.Context, ops ...kvstore.Op) error {
	mds, err := u.mibDataSync(ctx)
	if err != nil {
		return fmt.Errorf("ONU %s: %w", u.id, err)
	}
	u.mu.Lock()
	have := u.rec != nil
	if have {
		u.rec.MibDataSync = mds
	}
	u.mu.Unlock()
	if have {
		ops = append(ops, u.syncOp(mds))
	}
	return u.persist(ctx, ops)
}

// unisOf lists the UNIs of a MIB: PPTP Ethernet UNIs, then VEIPs, by
// instance; UNI i gets port portno.UNI(pon, onu, i).
func unisOf(rec *mibRecord, pon, num uint32) []uniRef {
	var out []uniRef
	for _, class := range []me.ClassID{me.PhysicalPathTerminationPointEthernetUniClassID, me.VirtualEthernetInterfacePointClassID} {
		var insts []int
		for _, e := range rec.Entities {
			if me.ClassID(e.Class) == class {
				insts = append(insts, int(e.Instance))
			}
		}
		sort.Ints(insts)
		for _, i := range insts {
			if len(out) > 15 {
				break // the port layout has 16 UNIs per ONU
			}
			out = append(out, uniRef{Class: class, Inst: uint16(i), PortNo: portno.UNI(pon, num, uint32(len(out)))})
		}
	}
	return out
}

// report tells the core the ONU's identity, its UNI and PON ports, and
// that it is ACTIVE.
func (u *onu) report(ctx context.Context, rec *mibRecord) error {
	if _, err := u.h.core.DeviceUpdate(ctx, &voltv1.Device{Id: u.id, Vendor: rec.Vendor, Model: rec.EquipmentID,
		FirmwareVersion: rec.Version, SerialNumber: u.serial}, u.reportKey()); err != nil {
		return fmt.Errorf("ONU %s update: %w", u.id, err)
	}
	parent := u.parent
	if parent == 0 {
		parent = portno.OLTPON(u.pon)
	}
	ports := []*voltv1.Port{{
		PortNo: portno.ONUPON, Label: "pon", Type: voltv1.PortType_PORT_TYPE_PON_ONU,
		AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
		Peers: []*voltv1.PortPeer{{DeviceId: u.oltID, PortNo: parent}},
	}}
	u.mu.Lock()
	for _, uni := range u.unis {
		ports = append(ports, &voltv1.Port{PortNo: uni.PortNo, Label: portno.Name(uni.PortNo), Type: voltv1.PortType_PORT_TYPE_ETHERNET_UNI,
			AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE})
	}
	u.mu.Unlock()
	if err := adapter.RemoveStalePorts(ctx, u.h.core, u.id, ports); err != nil {
		return fmt.Errorf("ONU %s: %w", u.id, err)
	}
	for _, p := range ports {
		if _, err := u.h.core.PortCreated(ctx, &adapterv1.PortCreatedRequest{DeviceId: u.id, Port: p}, u.reportKey()); err != nil {
			return fmt.Errorf("ONU %s port %s: %w", u.id, p.GetLabel(), err)
		}
	}
	_, err := u.h.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{DeviceId: u.id,
		OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE, ConnectStatus: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE}, u.reportKey())
	if err != nil {
		return fmt.Errorf("ONU %s active: %w", u.id, err)
	}
	return nil
}

// autonomous handles an alarm or attribute value change: a UNI's LAN LOS
// sets its port's oper state.
func (u *onu) autonomous(_ *omcilib.OMCI, msg gopacket.Layer) {
	a, ok := msg.(*omcilib.AlarmNotificationMsg)
	if !ok || a.EntityClass != me.PhysicalPathTerminationPointEthernetUniClassID {
		return
	}
	los := a.AlarmBitmap[losAlarmBit/8]&(0x80>>(losAlarmBit%8)) != 0
	u.mu.Lock()
	var port uint32
	for _, uni := range u.unis {
		if uni.Class == a.EntityClass && uni.Inst == a.EntityInstance {
			port = uni.PortNo
		}
	}
	locked := u.locked
	u.mu.Unlock()
	if port == 0 {
		return
	}
	// A locked UNI is down, but its LOS is the lock, not its link: no alarm.
	u.h.a.Submit(u.id+"/alarms", func(ctx context.Context) error { return u.uniLink(ctx, port, !los, !locked) })
}

// uniLink sets UNI port's oper state from its link, and its UNI_LOS alarm
// when alarm is set.
func (u *onu) uniLink(ctx context.Context, port uint32, up, alarm bool) error {
	oper := voltv1.OperStatus_OPER_STATUS_ACTIVE
	if !up {
		oper = voltv1.OperStatus_OPER_STATUS_FAILED
	}
	_, err := u.h.core.PortStateUpdate(ctx, &adapterv1.PortStateUpdateRequest{DeviceId: u.id,
		PortType: voltv1.PortType_PORT_TYPE_ETHERNET_UNI, PortNo: port, OperStatus: oper}, u.reportKey())
	if err != nil || !alarm {
		return err
	}
	return u.uniLOS(ctx, port, !up)
}

// refreshUNIs reads each PPTP UNI's operational state, its link, and sets
// its port and UNI_LOS from it: after an unlock, whose alarm notifications
// (if any) only say that the lock went.
func (u *onu) refreshUNIs(ctx context.Context) error {
	unis := u.unisNow()
	const operState = 0x8000 >> 5 // attribute 6
	for _, uni := range unis {
		if uni.Class != me.PhysicalPathTerminationPointEthernetUniClassID {
			continue
		}
		av, err := u.eng.Get(ctx, uni.Class, uni.Inst, operState)
		if err != nil {
			return err
		}
		st, _ := av[me.PhysicalPathTerminationPointEthernetUni_OperationalState].(uint8)
		if err := u.uniLink(ctx, uni.PortNo, st == 0, true); err != nil {
			return err
		}
	}
	return nil
}

// setUp follows the OLT's ONU indication; up starts the bring-up.
func (u *onu) setUp(up bool) {
	u.mu.Lock()
	was := u.up
	u.up = up
	if !up {
		u.synced = false
	}
	u.mu.Unlock()
	if up && !was {
		u.h.a.Submit(u.id, func(ctx context.Context) error { return u.bringUp(ctx, true) })
	}
}

// store writes a synchronised MIB and its counter (one transaction).
func (u *onu) store(ctx context.Context, rec *mibRecord) error {
	b, err := json.Marshal(rec)
	if err == nil {
		err = u.h.opts.KV.Batch(ctx, []kvstore.Op{{Key: u.key(), Value: b}, u.syncOp(rec.MibDataSync)})
	}
	if err != nil {
		return fmt.Errorf("ONU %s: storing its MIB: %w", u.id, err)
	}
	return nil
}

// entityOf is an uploaded ME in its stored, readable form: byte strings
// as text when printable, hex otherwise.
func entityOf(e omci.Entity) mibEntity {
	out := mibEntity{Class: uint16(e.Class), Instance: e.Inst, Attributes: make(map[string]any)}
	if def, err := me.LoadManagedEntityDefinition(e.Class); err == nil || def != nil {
		if def != nil {
			out.ClassName = def.GetName()
		}
	}
	for k, v := range e.Attributes {
		if k == "ManagedEntityId" {
			continue
		}
		if b, ok := v.([]byte); ok {
			if s := text(b); printable(s) {
				v = s
			} else {
				v = hex.EncodeToString(b)
			}
		}
		out.Attributes[k] = v
	}
	return out
}

// text is a byte-string attribute as text, without trailing NULs.
func text(v any) string {
	b, ok := v.([]byte)
	if !ok {
		return ""
	}
	return strings.TrimRight(string(b), "\x00 ")
}

func printable(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

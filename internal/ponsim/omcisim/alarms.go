package omcisim

import (
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// alarmEntry is one instance with active alarms, as get all alarms took a snapshot of it.
type alarmEntry struct {
	class  me.ClassID
	inst   uint16
	bitmap [28]byte
}

// losBitmap is a PPTP Ethernet UNI alarm bitmap with LAN LOS raised or clear.
func losBitmap(los bool) [28]byte {
	var b [28]byte
	if los {
		b[losAlarmBit/8] |= 0x80 >> (losAlarmBit % 8)
	}
	return b
}

// alarmsLocked compares each UNI's LAN LOS (link lost or UNI locked) with what the OLT was last
// told and returns an alarm notification (TCI 0) for each one that changed.
func (o *ONU) alarmsLocked() [][]byte {
	var out [][]byte
	locks := o.uniLocksLocked()
	for u := range o.losShown {
		los := locks[u] || o.uniLoss[u]
		o.setOperStateLocked(u, los)
		if los == o.losShown[u] {
			continue
		}
		o.losShown[u] = los
		o.alarmSeq++
		if o.alarmSeq == 0 {
			o.alarmSeq = 1
		}
		msg := &omci.AlarmNotificationMsg{
			MeBasePacket: omci.MeBasePacket{
				EntityClass:    me.PhysicalPathTerminationPointEthernetUniClassID,
				EntityInstance: PPTPID(u),
			},
			AlarmBitmap:         losBitmap(los),
			AlarmSequenceNumber: o.alarmSeq,
		}
		b, err := encode(0, omci.AlarmNotificationType, false, msg)
		if err != nil {
			o.counters.Errors++
			continue
		}
		o.counters.Notifies++
		out = append(out, b)
	}
	return out
}

// getAllAlarmsLocked takes the snapshot that get all alarms next reads: every instance with an
// active alarm (here: the UNIs with LAN LOS).
func (o *ONU) getAllAlarmsLocked(h *header) []byte {
	o.alarmSet = o.alarmSet[:0]
	for u, los := range o.losShown {
		if los {
			o.alarmSet = append(o.alarmSet, alarmEntry{me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u), losBitmap(true)})
		}
	}
	return o.respond(h, &omci.GetAllAlarmsResponse{MeBasePacket: h.base(), NumberOfCommands: uint16(len(o.alarmSet))})
}

func (o *ONU) getAllAlarmsNextLocked(h *header, seq uint16) []byte {
	if int(seq) >= len(o.alarmSet) {
		return rawResponse(h, me.Success, make([]byte, 32)...)
	}
	a := o.alarmSet[seq]
	return o.respond(h, &omci.GetAllAlarmsNextResponse{
		MeBasePacket:        h.base(),
		AlarmEntityClass:    a.class,
		AlarmEntityInstance: a.inst,
		AlarmBitMap:         a.bitmap,
	})
}

// setOperStateLocked keeps PPTP Ethernet UNI u's operational state (0 enabled, 1 disabled) in step
// with its LOS. It is the ONU's own change, so the MIB data sync counter does not move.
func (o *ONU) setOperStateLocked(u int, down bool) {
	e := o.mib.find(me.PhysicalPathTerminationPointEthernetUniClassID, PPTPID(u))
	if e == nil {
		return
	}
	a := e.lay.attrByName(me.PhysicalPathTerminationPointEthernetUni_OperationalState)
	if a == nil {
		return
	}
	want := byte(0)
	if down {
		want = 1
	}
	if e.get(a)[0] == want {
		return
	}
	vals := append([]byte(nil), e.vals...)
	vals[a.off] = want
	e.vals = vals
}

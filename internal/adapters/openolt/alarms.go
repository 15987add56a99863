package openolt

import (
	"context"
	"fmt"
	"strconv"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Alarm types this adapter raises: on ONU devices, loss of signal and
// dying gasp; on the OLT, a PON's loss of signal (resource: the PON's port
// number).
const (
	AlarmONULOS       = "ONU_LOS"
	AlarmONUDyingGasp = "ONU_DYING_GASP"
	AlarmPONLOS       = "PON_LOS"
)

func alarmState(raised bool) voltv1.AlarmState {
	if raised {
		return voltv1.AlarmState_ALARM_STATE_RAISED
	}
	return voltv1.AlarmState_ALARM_STATE_CLEARED
}

// alarmInd hands an alarm indication to the queue it belongs in: an ONU's
// to the ONU's (after its state changes), a PON's to the OLT's reports.
// The other kinds are not used.
func (o *olt) alarmInd(in *openolt.AlarmIndication) {
	switch d := in.GetData().(type) {
	case *openolt.AlarmIndication_LosInd:
		los := d.LosInd
		no, ok := o.statsPort(los.GetIntfId())
		if !ok || los.GetIntfId()&0xf0000000 != ponIntfMarker {
			o.logUnknown("loss of signal of an unknown interface", "intf_id", los.GetIntfId())
			return
		}
		raised := los.GetStatus() == "on"
		o.h.a.Submit(o.reportKey(), func(ctx context.Context) error { return o.ponLOS(ctx, no, raised) })
	case *openolt.AlarmIndication_OnuAlarmInd:
		a := d.OnuAlarmInd
		u := o.onuByID(a.GetIntfId(), a.GetOnuId())
		if u == nil {
			o.logUnknown(fmt.Sprintf("alarm of unknown onu %d on pon %d", a.GetOnuId(), a.GetIntfId()))
			return
		}
		if s := a.GetLosStatus(); s == "on" || s == "off" {
			raised := s == "on"
			o.h.a.Submit(o.onuQueue(u.pon, u.serial), func(ctx context.Context) error { return o.onuLOS(ctx, u, raised) })
		}
	case *openolt.AlarmIndication_DyingGaspInd:
		a := d.DyingGaspInd
		u := o.onuByID(a.GetIntfId(), a.GetOnuId())
		if u == nil {
			o.logUnknown(fmt.Sprintf("dying gasp of unknown onu %d on pon %d", a.GetOnuId(), a.GetIntfId()))
			return
		}
		raised := a.GetStatus() == "on"
		o.h.a.Submit(o.onuQueue(u.pon, u.serial), func(ctx context.Context) error {
			return o.onuAlarm(ctx, u, AlarmONUDyingGasp, raised, voltv1.AlarmSeverity_ALARM_SEVERITY_CRITICAL, "dying gasp: it lost power")
		})
	}
}

// onuLOS raises or clears an ONU's loss of signal. Its dying gasp, which
// the OLT reports only when it happens, clears with it: the ONU is lit
// again.
func (o *olt) onuLOS(ctx context.Context, u *onu, raised bool) error {
	if err := o.onuAlarm(ctx, u, AlarmONULOS, raised, voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR, "loss of signal: its light does not reach the OLT"); err != nil {
		return err
	}
	if raised {
		return nil
	}
	return o.onuAlarm(ctx, u, AlarmONUDyingGasp, false, voltv1.AlarmSeverity_ALARM_SEVERITY_CRITICAL, "dying gasp: it lost power")
}

// onuAlarm raises or clears an alarm of an ONU's device. Raising an active
// alarm or clearing one that is not changes nothing in the core.
func (o *olt) onuAlarm(ctx context.Context, u *onu, typ string, raised bool, sev voltv1.AlarmSeverity, what string) error {
	o.mu.Lock()
	dev := u.deviceID
	o.mu.Unlock()
	if dev == "" {
		if err := o.childDetected(ctx, u); err != nil {
			return err
		}
		o.mu.Lock()
		dev = u.deviceID
		o.mu.Unlock()
	}
	a := &voltv1.Alarm{
		DeviceId: dev, Type: typ, State: alarmState(raised), Severity: sev,
		Category:    voltv1.AlarmCategory_ALARM_CATEGORY_ONU,
		Description: fmt.Sprintf("ONU %s on PON %d: %s", u.serial, u.pon, what),
	}
	if _, err := o.h.core.UpdateAlarm(ctx, a); err != nil {
		return fmt.Errorf("onu %s alarm %s %s: %w", u.serial, typ, a.GetState(), err)
	}
	return nil
}

// ponLOS raises or clears the loss of signal of the OLT's PON port no.
func (o *olt) ponLOS(ctx context.Context, no uint32, raised bool) error {
	a := &voltv1.Alarm{
		DeviceId: o.id, Type: AlarmPONLOS, Resource: strconv.FormatUint(uint64(no), 10), State: alarmState(raised),
		Severity: voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR, Category: voltv1.AlarmCategory_ALARM_CATEGORY_PON,
		Description: fmt.Sprintf("PON %d: loss of signal: no ONU's light reaches it", no&0xff),
	}
	if _, err := o.h.core.UpdateAlarm(ctx, a); err != nil {
		return fmt.Errorf("pon port %d alarm %s %s: %w", no, AlarmPONLOS, a.GetState(), err)
	}
	return nil
}

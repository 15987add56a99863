package core

import (
	"context"
	"fmt"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// AlarmOLTUnreachable is the alarm the core raises on an OLT whose adapter
// reports it UNREACHABLE, and clears when it is REACHABLE again.
const AlarmOLTUnreachable = "OLT_UNREACHABLE"

// pushPm sends a PM configuration to the adapter of device d, bounded by
// the adapter timeout.
func (p *parts) pushPm(ctx context.Context, d *voltv1.Device, cfg *voltv1.PmConfig) error {
	c, _, err := adapterClients{reg: p.registry, kafka: p.kafka}.For(ctx, d.GetType())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	_, err = c.UpdatePmConfig(ctx, cfg)
	return err
}

// alarmRaisedOrCleared publishes an alarm change on the change-event
// stream (and so volt.events) and on volt.alarms.
func (p *parts) alarmRaisedOrCleared(a *voltv1.Alarm) {
	p.events.Publish(&voltv1.Event{DeviceId: a.GetDeviceId(), Payload: &voltv1.Event_Alarm{Alarm: &voltv1.AlarmChange{Alarm: a}}})
	p.kafka.publishAlarm(a)
}

// subscribeDevices subscribes to the device changes followDevices needs.
func (p *parts) subscribeDevices(ctx context.Context) <-chan *voltv1.Event {
	return p.events.Subscribe(ctx, func(ev *voltv1.Event) bool { return ev.GetDevice() != nil })
}

// followDevices raises and clears OLT_UNREACHABLE as root devices change
// connect status, and forgets the counters, PM configuration and alarms of removed
// devices, until ch closes.
func (p *parts) followDevices(ctx context.Context, ch <-chan *voltv1.Event) {
	for ev := range ch {
		dc := ev.GetDevice()
		d := dc.GetDevice()
		if dc.GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED {
			p.stats.ForgetDevice(d.GetId())
			if err := p.pm.Forget(ctx, d.GetId()); err != nil {
				p.log.Warn("PM configuration of a deleted device not removed", "device", d.GetId(), "err", err)
			}
			if err := p.alarms.Forget(ctx, d.GetId()); err != nil {
				p.log.Warn("alarms of a deleted device not removed", "device", d.GetId(), "err", err)
			}
			continue
		}
		if !d.GetRoot() || dc.GetPreviousConnectStatus() == d.GetConnectStatus() {
			continue
		}
		var state voltv1.AlarmState
		switch d.GetConnectStatus() {
		case voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE:
			state = voltv1.AlarmState_ALARM_STATE_RAISED
		case voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE:
			state = voltv1.AlarmState_ALARM_STATE_CLEARED
		default:
			continue
		}
		_, err := p.alarms.Update(ctx, &voltv1.Alarm{
			DeviceId: d.GetId(), Type: AlarmOLTUnreachable, State: state,
			Severity:    voltv1.AlarmSeverity_ALARM_SEVERITY_CRITICAL,
			Category:    voltv1.AlarmCategory_ALARM_CATEGORY_OLT,
			Description: fmt.Sprintf("OLT %s (%s) is unreachable: its adapter cannot reach it", d.GetId(), d.GetHostAndPort()),
		})
		if err != nil {
			p.log.Warn("OLT unreachable alarm not updated", "device", d.GetId(), "state", state, "err", err)
		}
	}
}

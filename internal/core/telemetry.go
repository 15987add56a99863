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

// deviceEvents selects the changes onDevice needs.
func deviceEvents(ev *voltv1.Event) bool { return ev.GetDevice() != nil }

// onDevice raises and clears OLT_UNREACHABLE as root devices change
// connect status, and forgets the counters, PM configuration and alarms of
// removed devices.
func (p *parts) onDevice(ctx context.Context, ev *voltv1.Event) {
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
		return
	}
	if d.GetRoot() && dc.GetPreviousConnectStatus() != d.GetConnectStatus() {
		p.oltReachable(ctx, d)
	}
}

// resyncDevices brings the telemetry state in line with the devices, for
// what change events cannot promise: at start (a core killed between a
// delete and its clean-up) and after a cut-off follower resubscribed. The
// counters, PM configurations and alarms of devices that are gone are
// removed; each OLT's unreachable alarm follows its connect status.
func (p *parts) resyncDevices(ctx context.Context) {
	exists := func(id string) bool {
		_, err := p.index.Device(id)
		return err == nil
	}
	p.stats.Sweep(exists)
	if err := p.pm.Sweep(ctx, exists); err != nil {
		p.log.Warn("PM configurations of deleted devices not swept", "err", err)
	}
	if err := p.alarms.Sweep(ctx, exists); err != nil {
		p.log.Warn("alarms of deleted devices not swept", "err", err)
	}
	for _, d := range p.index.List(func(d *voltv1.Device) bool { return d.GetRoot() }) {
		p.oltReachable(ctx, d)
	}
}

// oltReachable raises OLT_UNREACHABLE on an unreachable OLT and clears it
// on a reachable one (both are no-ops when the alarm is already so).
func (p *parts) oltReachable(ctx context.Context, d *voltv1.Device) {
	var state voltv1.AlarmState
	switch d.GetConnectStatus() {
	case voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE:
		state = voltv1.AlarmState_ALARM_STATE_RAISED
	case voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE:
		state = voltv1.AlarmState_ALARM_STATE_CLEARED
	default:
		return
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

// follower reacts to the change events filter selects. The fan-out cuts a
// follower off when it falls behind rather than block the core; a
// follower then subscribes again and catches up from state (resync), not
// from the events it missed.
type follower struct {
	name   string
	filter func(*voltv1.Event) bool
	on     func(context.Context, *voltv1.Event)
	resync func(context.Context)
}

// subscribe starts f's subscription; pass it to follow. Subscribed before
// the core is ready, so that no change made once it is (an NBI call right
// after Ready) is missed.
func (p *parts) subscribe(ctx context.Context, f follower) <-chan *voltv1.Event {
	return p.events.Subscribe(ctx, f.filter)
}

// follow runs f until ctx ends: f.resync once, then each event, then
// again after every cut-off.
func (p *parts) follow(ctx context.Context, f follower, ch <-chan *voltv1.Event) {
	for {
		f.resync(ctx)
		for ev := range ch {
			f.on(ctx, ev)
		}
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("change follower fell behind: catching up from state", "follower", f.name)
		ch = p.subscribe(ctx, f)
	}
}

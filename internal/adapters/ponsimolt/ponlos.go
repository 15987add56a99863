package ponsimolt

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// AlarmPONLOS is the alarm this adapter raises on the OLT for a PON port
// whose ONUs are all powered off: no light reaches it (resource: the PON
// port number). ponsim has no PON port to take down; this is how a real
// OLT sees a dark PON.
const AlarmPONLOS = "PON_LOS"

// ponEvent queues a check of the PONs' light when ev may change it: an ONU
// powered off (a dying gasp), an ONU back while a PON is dark, or the
// first ONU event of this adapter (which reports every PON once, so an
// alarm raised before a restart clears).
func (h *handler) ponEvent(o *olt, ev *ponsimv1.Event) {
	o.mu.Lock()
	check := !o.ponsKnown || (ev.GetType() == ponsimv1.EventType_EVENT_TYPE_ONU_LOST && ev.GetDyingGasp()) ||
		(ev.GetType() == ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED && len(o.darkPONs) > 0)
	o.ponsKnown = true
	o.mu.Unlock()
	if check {
		h.a.Submit(o.id+"/pon", func(ctx context.Context) error { return h.checkPONs(ctx, o) })
	}
}

// checkPONs reads the ONUs from ponsim and raises PON_LOS on each PON
// whose ONUs are all powered off, and clears it on the others. Only
// changes are sent, except the first time.
func (h *handler) checkPONs(ctx context.Context, o *olt) error {
	if o.dialErr != nil {
		return nil
	}
	info, err := o.sim.GetDeviceInfo(ctx, &emptypb.Empty{})
	if err != nil {
		return o.simError("get device info", err)
	}
	onus, off := map[uint32]int{}, map[uint32]int{}
	for _, u := range info.GetOnus() {
		onus[u.GetPonPort()]++
		if u.GetState() == ponsimv1.OnuState_ONU_STATE_POWERED_OFF {
			off[u.GetPonPort()]++
		}
	}
	o.mu.Lock()
	first := o.darkPONs == nil
	if first {
		o.darkPONs = map[uint32]bool{}
	}
	var changes []uint32
	for port, n := range onus {
		dark := off[port] == n
		if dark != o.darkPONs[port] || first {
			changes = append(changes, port)
		}
		if dark {
			o.darkPONs[port] = true
		} else {
			delete(o.darkPONs, port)
		}
	}
	dark := make(map[uint32]bool, len(changes))
	for _, p := range changes {
		dark[p] = o.darkPONs[p]
	}
	o.mu.Unlock()
	for _, port := range changes {
		if err := h.ponLOS(ctx, o, port, dark[port]); err != nil {
			o.mu.Lock()
			o.darkPONs = nil // report every PON again next time
			o.mu.Unlock()
			return err
		}
	}
	return nil
}

func (h *handler) ponLOS(ctx context.Context, o *olt, port uint32, raised bool) error {
	state := voltv1.AlarmState_ALARM_STATE_CLEARED
	if raised {
		state = voltv1.AlarmState_ALARM_STATE_RAISED
	}
	a := &voltv1.Alarm{
		DeviceId: o.id, Type: AlarmPONLOS, Resource: strconv.FormatUint(uint64(port), 10), State: state,
		Severity: voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR, Category: voltv1.AlarmCategory_ALARM_CATEGORY_PON,
		Description: fmt.Sprintf("PON %d: loss of signal: its ONUs are all powered off", portno.PONOf(port)),
	}
	if _, err := h.core.UpdateAlarm(ctx, a); err != nil {
		return fmt.Errorf("PON port %d alarm %s %s: %w", port, AlarmPONLOS, state, err)
	}
	return nil
}

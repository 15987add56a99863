package ponsimolt

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Alarm types this adapter raises on ONU devices.
const (
	AlarmONULOS       = "ONU_LOS"
	AlarmONUDyingGasp = "ONU_DYING_GASP"
)

var _ adapter.KpiCollector = (*handler)(nil)

// CollectKpis reads the counters of the OLT's ports from ponsim: the NNI
// (group port) and the PON ports (group pon).
func (h *handler) CollectKpis(ctx context.Context, d *voltv1.Device) (*voltv1.KpiEvent, error) {
	deviceID := d.GetId()
	h.mu.Lock()
	o := h.olts[deviceID]
	h.mu.Unlock()
	if o == nil {
		return nil, status.Errorf(codes.NotFound, "OLT %s is not adopted here", deviceID)
	}
	if o.dialErr != nil {
		return nil, o.dialErr
	}
	st, err := o.sim.GetStats(ctx, &ponsimv1.DeviceRef{})
	if err != nil {
		return nil, o.simError("get stats", err)
	}
	ev := KpiEvent(st)
	ev.SerialNumber = d.GetSerialNumber()
	return ev, nil
}

// KpiEvent turns ponsim's port counters into a KPI event (without the
// device id, time and interval, which the SDK fills in).
func KpiEvent(st *ponsimv1.Stats) *voltv1.KpiEvent {
	ev := &voltv1.KpiEvent{Ports: make([]*voltv1.PortKpi, 0, len(st.GetPorts()))}
	for _, p := range st.GetPorts() {
		group := adapter.GroupPON
		if portno.IsNNI(p.GetPortNo()) || portno.IsUNI(p.GetPortNo()) {
			group = adapter.GroupPort
		}
		ev.Ports = append(ev.Ports, &voltv1.PortKpi{
			PortNo: p.GetPortNo(), Label: p.GetName(), Group: group,
			RxPackets: p.GetRxFrames(), RxBytes: p.GetRxBytes(),
			TxPackets: p.GetTxFrames(), TxBytes: p.GetTxBytes(),
			RxDropped: p.GetDropped(), RxErrors: p.GetMalformed(),
		})
	}
	return ev
}

// onuAlarms raises (lost) or clears the loss-of-signal and dying-gasp
// alarms of an ONU device. Raising an active alarm or clearing one that
// is not does nothing in the core, so a sync after a restart may report
// them again.
func (h *handler) onuAlarms(ctx context.Context, deviceID, serial string, lost, dyingGasp bool) error {
	state := voltv1.AlarmState_ALARM_STATE_CLEARED
	if lost {
		state = voltv1.AlarmState_ALARM_STATE_RAISED
	}
	alarms := []*voltv1.Alarm{{
		DeviceId: deviceID, Type: AlarmONULOS, State: state,
		Severity: voltv1.AlarmSeverity_ALARM_SEVERITY_MAJOR, Category: voltv1.AlarmCategory_ALARM_CATEGORY_ONU,
		Description: fmt.Sprintf("ONU %s: loss of signal: it is not on the PON", serial),
	}}
	if dyingGasp || !lost {
		alarms = append(alarms, &voltv1.Alarm{
			DeviceId: deviceID, Type: AlarmONUDyingGasp, State: state,
			Severity: voltv1.AlarmSeverity_ALARM_SEVERITY_CRITICAL, Category: voltv1.AlarmCategory_ALARM_CATEGORY_ONU,
			Description: fmt.Sprintf("ONU %s: dying gasp: it lost power", serial),
		})
	}
	for _, a := range alarms {
		if _, err := h.core.UpdateAlarm(ctx, a); err != nil {
			return fmt.Errorf("ONU %s alarm %s %s: %w", serial, a.GetType(), state, err)
		}
	}
	return nil
}

package ponsimonu

import (
	"context"
	"fmt"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
)

var _ adapter.KpiCollector = (*handler)(nil)

// CollectKpis reads the counters of the ONU's UNI (group port) and PON
// port (group pon) from the ponsim of its OLT. The ONU's serial number
// and ponsim come from its flow record, made (asking the core for the
// device once) on the first use.
func (h *handler) CollectKpis(ctx context.Context, deviceID string) (*voltv1.KpiEvent, error) {
	h.mu.Lock()
	f := h.flows[deviceID]
	h.mu.Unlock()
	if f == nil || f.target() == "" {
		d, err := h.core.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: deviceID})
		if err != nil {
			return nil, fmt.Errorf("ONU %s: %w", deviceID, err)
		}
		if f, err = h.onu(ctx, d); err != nil {
			return nil, err
		}
	}
	addr := f.target()
	cc, err := h.conn(addr)
	if err != nil {
		return nil, err
	}
	st, err := ponsimv1.NewPonSimClient(cc).GetStats(ctx, &ponsimv1.DeviceRef{SerialNumber: f.serial})
	if err != nil {
		return nil, fmt.Errorf("ponsim at %s: stats of ONU %s: %w", addr, f.serial, err)
	}
	ev := ponsimolt.KpiEvent(st)
	ev.SerialNumber = f.serial
	return ev, nil
}

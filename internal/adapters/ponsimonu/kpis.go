package ponsimonu

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/ponsim"
)

var _ adapter.KpiCollector = (*handler)(nil)

// statsFresh is how long one read of every counter of a ponsim serves its
// ONUs' KPIs: thousands of ONUs, each on its own interval, cost one call
// to ponsim a second instead of one each (the KPI event's time is when
// the counters were read).
const statsFresh = time.Second

// ponsimStats is the last read of every counter of one ponsim.
type ponsimStats struct {
	mu    sync.Mutex // held while reading; guards the fields below
	at    time.Time
	ports map[string][]*ponsimv1.PortCounters // by device label (ONU serial)
}

// onuStats returns the port counters of ONU serial at the ponsim at addr
// and when they were read, reading every device's at most once per
// statsFresh.
func (h *handler) onuStats(ctx context.Context, addr, serial string, cc grpc.ClientConnInterface) ([]*ponsimv1.PortCounters, time.Time, error) {
	h.mu.Lock()
	ps := h.stats[addr]
	if ps == nil {
		ps = &ponsimStats{}
		h.stats[addr] = ps
	}
	h.mu.Unlock()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if time.Since(ps.at) >= statsFresh {
		st, err := ponsimv1.NewPonSimClient(cc).GetStats(ctx, &ponsimv1.DeviceRef{SerialNumber: ponsim.AllDevices})
		if err != nil {
			return nil, time.Time{}, err
		}
		ps.at, ps.ports = time.Now(), make(map[string][]*ponsimv1.PortCounters)
		for _, p := range st.GetPorts() {
			ps.ports[p.GetDevice()] = append(ps.ports[p.GetDevice()], p)
		}
	}
	ports, ok := ps.ports[serial]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("ONU %s is not on this ponsim", serial)
	}
	return ports, ps.at, nil
}

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
	ports, at, err := h.onuStats(ctx, addr, f.serial, cc)
	if err != nil {
		return nil, fmt.Errorf("ponsim at %s: stats of ONU %s: %w", addr, f.serial, err)
	}
	ev := ponsimolt.KpiEvent(&ponsimv1.Stats{Ports: ports})
	ev.SerialNumber, ev.Time = f.serial, timestamppb.New(at)
	return ev, nil
}

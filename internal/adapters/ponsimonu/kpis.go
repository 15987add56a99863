package ponsimonu

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/openvolt/openvolt/adapter"
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
// port (group pon) from the ponsim of its OLT (whose address is asked of
// the core once per OLT).
func (h *handler) CollectKpis(ctx context.Context, d *voltv1.Device) (*voltv1.KpiEvent, error) {
	if d.GetSerialNumber() == "" {
		return nil, fmt.Errorf("ONU %s has no serial number: ponsim cannot name it", d.GetId())
	}
	addr, err := h.parent(ctx, d)
	if err != nil {
		return nil, err
	}
	cc, err := h.conn(addr)
	if err != nil {
		return nil, err
	}
	ports, at, err := h.onuStats(ctx, addr, d.GetSerialNumber(), cc)
	if err != nil {
		return nil, fmt.Errorf("ponsim at %s: stats of ONU %s: %w", addr, d.GetSerialNumber(), err)
	}
	ev := ponsimolt.KpiEvent(&ponsimv1.Stats{Ports: ports})
	ev.SerialNumber, ev.Time = d.GetSerialNumber(), timestamppb.New(at)
	return ev, nil
}

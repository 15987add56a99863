package ponsim

import (
	"cmp"
	"context"
	"slices"

	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Counters returns the counters of every device, the OLT first: its
// ports, the packets and bytes of each flow in the order given, and of
// each meter (the table's and those its flows name) by id. Each counter
// is read atomically, but not all at one instant.
func (s *Sim) Counters() *ponsimv1.Counters {
	out := &ponsimv1.Counters{Devices: make([]*ponsimv1.DeviceCounters, 0, 1+len(s.onus)), StartedUnixNano: s.started.UnixNano()}
	out.Devices = append(out.Devices, s.deviceCounters(&s.olt.device))
	for _, u := range s.onus {
		out.Devices = append(out.Devices, s.deviceCounters(&u.device))
	}
	return out
}

// countersServer serves the PonSimCounters service.
type countersServer struct {
	ponsimv1.UnimplementedPonSimCountersServer
	s *Sim
}

// GetCounters is the gRPC form of Counters.
func (c countersServer) GetCounters(context.Context, *emptypb.Empty) (*ponsimv1.Counters, error) {
	return c.s.Counters(), nil
}

func (s *Sim) deviceCounters(d *device) *ponsimv1.DeviceCounters {
	dc := &ponsimv1.DeviceCounters{SerialNumber: s.ref(d)}
	for _, p := range d.ports {
		dc.Ports = append(dc.Ports, p.counters(d.label))
	}
	t := d.table.Load()
	if t.n > 0 {
		dc.Flows = make([]*ponsimv1.FlowCounters, 0, t.n)
		for _, e := range t.entries() {
			packets, bytes := e.count.load()
			dc.Flows = append(dc.Flows, &ponsimv1.FlowCounters{
				FlowId: e.flow.GetId(), Cookie: e.flow.GetCookie(), TableId: e.tableID,
				Packets: packets, Bytes: bytes,
			})
		}
	}
	for id, n := range t.meterTotals() {
		mc := &ponsimv1.MeterCounters{MeterId: id, Packets: n[0], Bytes: n[1]}
		// Bands never act here (ponsim polices nothing): one zero count
		// per band the meter has.
		if c, ok := t.meterConfs.get(uint64(id)); ok {
			for range c.v.GetBands() {
				mc.Bands = append(mc.Bands, &ponsimv1.MeterBandCounters{})
			}
		}
		dc.Meters = append(dc.Meters, mc)
	}
	slices.SortFunc(dc.Meters, func(a, b *ponsimv1.MeterCounters) int { return cmp.Compare(a.GetMeterId(), b.GetMeterId()) })
	return dc
}

package ponsimolt

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// reportStats reads ponsim's counters every interval and reports them to
// the core in one batch: the OLT's and those of the ONUs the core knows,
// until ctx ends (the session's). A read or report that fails is logged and
// tried again at the next tick.
func (h *handler) reportStats(ctx context.Context, o *olt, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.reportStatsOnce(ctx, o); err != nil && ctx.Err() == nil {
			o.log.Debug("counters not reported", "err", err)
		}
	}
}

func (h *handler) reportStatsOnce(ctx context.Context, o *olt) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cs, err := ponsimv1.NewPonSimCountersClient(o.conn).GetCounters(cctx, &emptypb.Empty{})
	if err != nil {
		return o.simError("get counters", err)
	}
	r := statsReport(o, cs)
	if len(r.GetDevices()) == 0 {
		return nil
	}
	res, err := h.a.ReportStats(cctx, r)
	if err != nil {
		return err
	}
	if res.GetDropped() > 0 {
		o.log.Debug("the core dropped counters", "dropped", res.GetDropped(), "accepted", res.GetAccepted())
	}
	return nil
}

// statsReport turns ponsim's counters into a report: the OLT's under its
// device id, each ONU's under the id of its device in the core (ONUs the
// core does not know yet are left out). Flow ids are the ids the core gave
// the device flows; port numbers are the devices' own.
func statsReport(o *olt, cs *ponsimv1.Counters) *adapterv1.StatsReport {
	r := &adapterv1.StatsReport{DeviceId: o.id}
	o.mu.Lock()
	ids := make(map[string]string, len(o.children)+1)
	for serial, c := range o.children {
		ids[serial] = c.id
	}
	o.mu.Unlock()
	ids[""] = o.id
	for _, dc := range cs.GetDevices() {
		id := ids[dc.GetSerialNumber()]
		if id == "" {
			continue
		}
		ds := &adapterv1.DeviceStats{DeviceId: id, CountingSinceUnixNano: cs.GetStartedUnixNano()}
		for _, p := range dc.GetPorts() {
			ds.Ports = append(ds.Ports, &adapterv1.PortCounter{
				PortNo:    p.GetPortNo(),
				RxPackets: p.GetRxFrames(), RxBytes: p.GetRxBytes(),
				TxPackets: p.GetTxFrames(), TxBytes: p.GetTxBytes(),
				RxDropped: p.GetDropped(), RxErrors: p.GetMalformed(),
			})
		}
		for _, f := range dc.GetFlows() {
			ds.Flows = append(ds.Flows, &adapterv1.FlowCounter{FlowId: f.GetFlowId(), Packets: f.GetPackets(), Bytes: f.GetBytes()})
		}
		for _, m := range dc.GetMeters() {
			mc := &adapterv1.MeterCounter{MeterId: m.GetMeterId(), Packets: m.GetPackets(), Bytes: m.GetBytes()}
			for _, b := range m.GetBands() {
				mc.Bands = append(mc.Bands, &adapterv1.BandCounter{Packets: b.GetPackets(), Bytes: b.GetBytes()})
			}
			ds.Meters = append(ds.Meters, mc)
		}
		if len(ds.Ports)+len(ds.Flows)+len(ds.Meters) > 0 {
			r.Devices = append(r.Devices, ds)
		}
	}
	return r
}

package openolt

import (
	"context"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
)

// Interface ids in the OLT's port statistics, as the openolt agent (and
// VOLTHA's adapter) number them.
const (
	nniIntfBase   = 0x100000   // + NNI id
	ponIntfMarker = 0x20000000 // | PON id
)

// statsPort is the device port number of an interface id of a port
// statistics indication; ok is false for one outside the port layout.
func (o *olt) statsPort(intf uint32) (no uint32, ok bool) {
	switch {
	case intf&0xf0000000 == ponIntfMarker:
		pon := intf &^ 0xf0000000
		return ponPort(pon), pon < o.ponCount()
	case intf >= nniIntfBase && intf-nniIntfBase <= 14:
		return portno.NNI(intf - nniIntfBase), true
	}
	return 0, false
}

// portStats queues a port statistics indication for the core; what queues
// while a report is under way goes in the next one (a batch).
func (o *olt) portStats(ps *openolt.PortStatistics) {
	no, ok := o.statsPort(ps.GetIntfId())
	if !ok {
		o.logUnknown("port statistics of an unknown interface", "intf_id", ps.GetIntfId())
		return
	}
	c := &adapterv1.PortCounter{
		PortNo:    no,
		RxPackets: ps.GetRxPackets(), RxBytes: ps.GetRxBytes(),
		TxPackets: ps.GetTxPackets(), TxBytes: ps.GetTxBytes(),
		RxErrors: ps.GetRxErrorPackets(), TxErrors: ps.GetTxErrorPackets(),
	}
	o.mu.Lock()
	first := o.noStatsPendingLocked()
	if o.pendingStats == nil {
		o.pendingStats = map[uint32]*adapterv1.PortCounter{}
	}
	o.pendingStats[no] = c
	if o.lastStats == nil {
		o.lastStats = map[uint32]*openolt.PortStatistics{}
	}
	o.lastStats[no] = ps
	o.mu.Unlock()
	if first {
		o.h.a.Submit(o.id+"/stats", o.reportStats)
	}
}

func (o *olt) noStatsPendingLocked() bool {
	return len(o.pendingStats) == 0 && len(o.pendingFlows) == 0
}

// flowStats queues a flow statistics indication for the core, as the
// counters of the device flow the openolt flow carries.
func (o *olt) flowStats(st *openolt.FlowStatistics) {
	_, fs, err := o.stores()
	if err != nil {
		return
	}
	id, ok := fs.deviceFlow(uint64(st.GetFlowId()))
	if !ok {
		o.log.Debug("statistics of a flow the adapter does not hold", "flow_id", st.GetFlowId())
		return
	}
	o.mu.Lock()
	first := o.noStatsPendingLocked()
	if o.pendingFlows == nil {
		o.pendingFlows = map[uint64]*adapterv1.FlowCounter{}
	}
	o.pendingFlows[id] = &adapterv1.FlowCounter{FlowId: id, Packets: st.GetRxPackets(), Bytes: st.GetRxBytes()}
	o.mu.Unlock()
	if first {
		o.h.a.Submit(o.id+"/stats", o.reportStats)
	}
}

// reportStats sends the queued port and flow counters.
func (o *olt) reportStats(ctx context.Context) error {
	o.mu.Lock()
	ds := &adapterv1.DeviceStats{DeviceId: o.id}
	for _, c := range o.pendingStats {
		ds.Ports = append(ds.Ports, c)
	}
	for _, c := range o.pendingFlows {
		ds.Flows = append(ds.Flows, c)
	}
	o.pendingStats, o.pendingFlows = nil, nil
	o.mu.Unlock()
	if len(ds.Ports) == 0 && len(ds.Flows) == 0 {
		return nil
	}
	_, err := o.h.a.ReportStats(ctx, &adapterv1.StatsReport{DeviceId: o.id, Devices: []*adapterv1.DeviceStats{ds}})
	if err != nil {
		o.log.Debug("port counters not reported", "err", err)
	}
	return nil
}

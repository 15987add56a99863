package openolt

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

var _ adapter.KpiCollector = (*handler)(nil)

// CollectKpis returns the OLT's port counters as the OLT last sent them in
// port statistics indications: the NNIs (group port) and the PON ports
// (group pon). The OLT sends them at its own pace, so two KPI events in a
// row may repeat the same counts. Before the first indication there is
// nothing to report: Unavailable, and the SDK skips the interval.
func (h *handler) CollectKpis(_ context.Context, d *voltv1.Device) (*voltv1.KpiEvent, error) {
	o := h.lookup(d.GetId())
	if o == nil {
		return nil, status.Errorf(codes.NotFound, "OLT %s is not adopted here", d.GetId())
	}
	ev := &voltv1.KpiEvent{SerialNumber: d.GetSerialNumber()}
	o.mu.Lock()
	if ev.SerialNumber == "" { // d is the device as adopted, before the OLT told its serial
		ev.SerialNumber = o.info.GetDeviceSerialNumber()
	}
	for no, ps := range o.lastStats {
		k := &voltv1.PortKpi{
			PortNo:    no,
			RxPackets: ps.GetRxPackets(), RxBytes: ps.GetRxBytes(),
			TxPackets: ps.GetTxPackets(), TxBytes: ps.GetTxBytes(),
			RxErrors: ps.GetRxErrorPackets(),
		}
		if portno.IsNNI(no) {
			k.Group, k.Label = adapter.GroupPort, fmt.Sprintf("nni-%d", no-portno.NNI(0))
		} else {
			k.Group, k.Label = adapter.GroupPON, fmt.Sprintf("pon-%d", portno.PONOf(no))
		}
		ev.Ports = append(ev.Ports, k)
	}
	o.mu.Unlock()
	if len(ev.Ports) == 0 {
		return nil, status.Errorf(codes.Unavailable, "OLT %s has sent no port statistics yet", d.GetId())
	}
	slices.SortFunc(ev.Ports, func(a, b *voltv1.PortKpi) int { return cmp.Compare(a.GetPortNo(), b.GetPortNo()) })
	return ev, nil
}

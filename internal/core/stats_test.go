package core_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// TestReportStatsBadInput sends counter reports over the bus as an adapter
// does: counters of an unknown device, or of a flow or port a known
// device does not have, are dropped and counted in the answer; a report
// that names no device is InvalidArgument.
func TestReportStatsBadInput(t *testing.T) {
	s := newStack(t)
	c := ctx(t)
	a := startAdapter(t, s.brokers, "test_olt", 0, nil)
	d, err := s.nbi.CreateDevice(c, &voltv1.Device{Type: "test_olt", HostAndPort: "1.2.3.4:5"})
	if err != nil {
		t.Fatal(err)
	}

	_, err = a.core.ReportStats(c, &adapterv1.StatsReport{DeviceId: d.GetId()})
	wantCode(t, "empty report", err, codes.InvalidArgument, "names no device")

	res, err := a.core.ReportStats(c, &adapterv1.StatsReport{DeviceId: d.GetId(), Devices: []*adapterv1.DeviceStats{
		{DeviceId: "nope", Flows: []*adapterv1.FlowCounter{{FlowId: 1, Packets: 5}}, Ports: []*adapterv1.PortCounter{{PortNo: 1}}},
		{DeviceId: d.GetId(), Flows: []*adapterv1.FlowCounter{{FlowId: 42, Packets: 5}}, Ports: []*adapterv1.PortCounter{{PortNo: 99, RxPackets: 1}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccepted() != 0 || res.GetDropped() != 4 {
		t.Errorf("accepted %d, dropped %d; want 0, 4", res.GetAccepted(), res.GetDropped())
	}
	fl, err := s.nbi.ListDeviceFlows(c, &voltv1.ID{Id: d.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.GetItems()) != 0 {
		t.Errorf("a reported flow became a device flow: %v", fl.GetItems())
	}
}

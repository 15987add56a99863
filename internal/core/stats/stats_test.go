package stats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/stats"
)

// devices is a fixed set of devices and their ports.
type devices map[string][]uint32

func (d devices) Device(id string) (*voltv1.Device, error) {
	if _, ok := d[id]; !ok {
		return nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %q not found", id))
	}
	return &voltv1.Device{Id: id}, nil
}

func (d devices) Ports(id string) ([]*voltv1.Port, error) {
	var out []*voltv1.Port
	for _, no := range d[id] {
		out = append(out, &voltv1.Port{DeviceId: id, PortNo: no})
	}
	return out, nil
}

func newStore(t *testing.T) *stats.Store {
	t.Helper()
	tables := func(_ context.Context, id string) (map[uint64]bool, map[uint32]bool, error) {
		if id == "olt" {
			return map[uint64]bool{10: true, 11: true}, map[uint32]bool{1: true}, nil
		}
		return nil, nil, nil
	}
	s, err := stats.New(devices{"olt": {1, 2}, "onu": {16}}, tables)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func report(devs ...*adapterv1.DeviceStats) *adapterv1.StatsReport {
	return &adapterv1.StatsReport{DeviceId: "olt", Devices: devs}
}

func flows(id string, fs ...*adapterv1.FlowCounter) *adapterv1.DeviceStats {
	return &adapterv1.DeviceStats{DeviceId: id, Flows: fs}
}

func flow(id, packets, bytes uint64) *adapterv1.FlowCounter {
	return &adapterv1.FlowCounter{FlowId: id, Packets: packets, Bytes: bytes}
}

func mustReport(t *testing.T, s *stats.Store, r *adapterv1.StatsReport, accepted, dropped uint32) {
	t.Helper()
	res, err := s.Report(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccepted() != accepted || res.GetDropped() != dropped {
		t.Fatalf("accepted %d, dropped %d; want %d, %d", res.GetAccepted(), res.GetDropped(), accepted, dropped)
	}
}

func wantFlow(t *testing.T, s *stats.Store, dev string, id, packets, bytes uint64) {
	t.Helper()
	c, ok := s.Flow(dev, id)
	if !ok || c.Packets != packets || c.Bytes != bytes {
		t.Fatalf("flow %s/%d: %+v (kept %v); want %d packets, %d bytes", dev, id, c, ok, packets, bytes)
	}
}

// TestCountersNeverGoBack: a device that counts again from zero (its
// flow installed again, ponsim or the OLT restarted) adds to what was
// counted.
func TestCountersNeverGoBack(t *testing.T) {
	s := newStore(t)
	mustReport(t, s, report(flows("olt", flow(10, 5, 300))), 1, 0)
	mustReport(t, s, report(flows("olt", flow(10, 8, 480))), 1, 0)
	wantFlow(t, s, "olt", 10, 8, 480)
	mustReport(t, s, report(flows("olt", flow(10, 0, 0))), 1, 0) // restarted
	wantFlow(t, s, "olt", 10, 8, 480)
	mustReport(t, s, report(flows("olt", flow(10, 2, 120))), 1, 0)
	wantFlow(t, s, "olt", 10, 10, 600)

	// A flow the core removed starts again from zero when it comes back.
	s.Forget("olt", 10)
	if _, ok := s.Flow("olt", 10); ok {
		t.Fatal("a forgotten flow still has counters")
	}
	mustReport(t, s, report(flows("olt", flow(10, 1, 60))), 1, 0)
	wantFlow(t, s, "olt", 10, 1, 60)
}

// TestRestartSeenInSince: a device that restarted and counted past where
// it was before the next report is seen by its counting_since.
func TestRestartSeenInSince(t *testing.T) {
	s := newStore(t)
	at := func(since int64, fs ...*adapterv1.FlowCounter) *adapterv1.StatsReport {
		ds := flows("olt", fs...)
		ds.CountingSinceUnixNano = since
		ds.Ports = []*adapterv1.PortCounter{{PortNo: 1, RxPackets: fs[0].GetPackets()}}
		return report(ds)
	}
	mustReport(t, s, at(100, flow(10, 3, 30)), 2, 0)
	mustReport(t, s, at(200, flow(10, 7, 70)), 2, 0) // restarted, then 7 more
	wantFlow(t, s, "olt", 10, 10, 100)
	if p, _ := s.Port("olt", 1); p.RxPackets != 10 {
		t.Errorf("port rx %d, want 10", p.RxPackets)
	}
	mustReport(t, s, at(200, flow(10, 8, 80)), 2, 0)
	wantFlow(t, s, "olt", 10, 11, 110)
}

// TestUnknownDropped: counters of unknown devices, flows, ports and meters
// are dropped and counted, never stored; the rest of the report is kept.
func TestUnknownDropped(t *testing.T) {
	s := newStore(t)
	r := report(
		flows("olt", flow(10, 5, 300), flow(99, 1, 1)), // flow 99: not the core's
		flows("ghost", flow(10, 1, 1), flow(11, 1, 1)), // no such device
		&adapterv1.DeviceStats{DeviceId: "olt",
			Ports:  []*adapterv1.PortCounter{{PortNo: 1, RxPackets: 3}, {PortNo: 7, RxPackets: 1}},
			Meters: []*adapterv1.MeterCounter{{MeterId: 1, Packets: 4, Bands: []*adapterv1.BandCounter{{Packets: 1}}}, {MeterId: 5}}},
		flows(""), // no id
	)
	mustReport(t, s, r, 3, 5)
	if got := s.Dropped(); got != 5 {
		t.Errorf("Dropped() = %d, want 5", got)
	}
	wantFlow(t, s, "olt", 10, 5, 300)
	for _, c := range []struct {
		dev string
		id  uint64
	}{{"olt", 99}, {"ghost", 10}, {"ghost", 11}} {
		if _, ok := s.Flow(c.dev, c.id); ok {
			t.Errorf("flow %s/%d was stored", c.dev, c.id)
		}
	}
	if p, ok := s.Port("olt", 1); !ok || p.RxPackets != 3 {
		t.Errorf("port 1: %+v %v", p, ok)
	}
	if _, ok := s.Port("olt", 7); ok {
		t.Error("unknown port 7 was stored")
	}
	if m, bands, ok := s.Meter("olt", 1); !ok || m.Packets != 4 || len(bands) != 1 || bands[0].Packets != 1 {
		t.Errorf("meter 1: %+v %+v %v", m, bands, ok)
	}
	if _, _, ok := s.Meter("olt", 5); ok {
		t.Error("unknown meter 5 was stored")
	}
}

// TestEmptyReport: a report that names no device is refused as invalid.
func TestEmptyReport(t *testing.T) {
	s := newStore(t)
	_, err := s.Report(context.Background(), &adapterv1.StatsReport{DeviceId: "olt"})
	if !errors.Is(err, coreerr.ErrInvalidArgument) {
		t.Fatalf("err %v, want InvalidArgument", err)
	}
	if st := status.Convert(coreerr.ToStatus(err)); st.Code() != codes.InvalidArgument || st.Message() != "stats report names no device" {
		t.Errorf("status %v", st)
	}
}

// TestForgetDevice: a deleted device's counters go with it; a device of
// the same id reported later starts from zero.
func TestForgetDevice(t *testing.T) {
	s := newStore(t)
	mustReport(t, s, report(flows("olt", flow(10, 5, 300), flow(11, 1, 60))), 2, 0)
	s.ForgetDevice("olt")
	for _, id := range []uint64{10, 11} {
		if _, ok := s.Flow("olt", id); ok {
			t.Fatalf("flow olt/%d kept its counters after the device was forgotten", id)
		}
	}
	mustReport(t, s, report(flows("olt", flow(10, 2, 120))), 1, 0)
	wantFlow(t, s, "olt", 10, 2, 120)
}

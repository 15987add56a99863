package openolt_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/msgbus"
)

// kpiRecord is one KPI event as read from volt.kpis.
type kpiRecord struct {
	key string
	ev  *voltv1.KpiEvent
}

// followKpis subscribes to volt.kpis on the stack's broker and returns
// the events of device id read so far, each time it is called.
func followKpis(s *stack, id string) func() []kpiRecord {
	s.t.Helper()
	conn, err := msgbus.Dial(s.ctx(), msgbus.Config{Brokers: s.brokers, Name: "test-kpis"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	var mu sync.Mutex
	var got []kpiRecord
	sub, err := conn.Subscribe(s.ctx(), adapter.DefaultKpisTopic, "", func(_ context.Context, ev *msgbus.Event) {
		if m, ok := ev.Message.(*voltv1.KpiEvent); ok && m.GetDeviceId() == id {
			mu.Lock()
			got = append(got, kpiRecord{ev.Key, m})
			mu.Unlock()
		}
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { sub.Close() })
	return func() []kpiRecord {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// TestKpisOnTopic: the openolt OLT's NNI and PON counters, as the OLT
// sends them in port statistics indications, arrive as KPI events on
// volt.kpis at the 1 s interval set through the NBI, keyed by the device
// id, with the groups asked for.
func TestKpisOnTopic(t *testing.T) {
	s := newStack(t)
	o, id := s.statsOLT("kpis", 2)
	kpis := followKpis(s, id)

	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06})
	const n = 3
	for range n {
		if err := o.sim.Inject("", portno.NNI(0), frame); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.nbi.UpdatePmConfig(s.ctx(), &voltv1.PmConfig{DeviceId: id, Enabled: true, Interval: durationpb.New(time.Second)}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "4 KPI events of the OLT, the last counting the frames", func() error {
		got := kpis()
		if len(got) < 4 {
			return fmt.Errorf("%d events", len(got))
		}
		for _, p := range got[len(got)-1].ev.GetPorts() {
			if p.GetPortNo() == portno.NNI(0) && (p.GetRxPackets() != n || p.GetRxBytes() != n*60) {
				return fmt.Errorf("NNI rx %d packets, %d bytes; want %d, %d", p.GetRxPackets(), p.GetRxBytes(), n, n*60)
			}
		}
		return nil
	})
	got := kpis()
	want := []string{
		fmt.Sprintf("port:nni-0:%d", portno.NNI(0)),
		fmt.Sprintf("pon:pon-0:%d", portno.OLTPON(0)),
		fmt.Sprintf("pon:pon-1:%d", portno.OLTPON(1)),
	}
	slices.Sort(want)
	// The OLT sends each port's statistics in turn: an event made before
	// the first round is complete has the ports heard of so far. Every
	// one after has them all.
	complete := false
	for i, r := range got {
		if r.key != id {
			t.Errorf("KPI event keyed %q, want the device id %s", r.key, id)
		}
		if iv := r.ev.GetInterval().AsDuration(); iv != time.Second {
			t.Errorf("KPI event interval %v, want 1s", iv)
		}
		if r.ev.GetSerialNumber() == "" {
			t.Errorf("KPI event without the OLT's serial number")
		}
		var ports []string
		for _, p := range r.ev.GetPorts() {
			ports = append(ports, fmt.Sprintf("%s:%s:%d", p.GetGroup(), p.GetLabel(), p.GetPortNo()))
		}
		slices.Sort(ports)
		switch {
		case slices.Equal(ports, want):
			complete = true
		case complete || len(ports) == 0 || !isSubset(ports, want):
			t.Errorf("OLT KPI event %d has ports %v, want %v", i, ports, want)
		}
		if i >= 2 { // the first one comes at a random point of the interval
			gap := r.ev.GetTime().AsTime().Sub(got[i-1].ev.GetTime().AsTime())
			if gap < 700*time.Millisecond || gap > 1500*time.Millisecond {
				t.Errorf("KPI events %v apart, want about the 1s interval", gap)
			}
		}
	}
	if !complete {
		t.Errorf("no KPI event of the OLT has every port")
	}

	// Only the PON group: the NNI is left out.
	if _, err := s.nbi.UpdatePmConfig(s.ctx(), &voltv1.PmConfig{DeviceId: id, Enabled: true, Interval: durationpb.New(time.Second), Groups: []string{adapter.GroupPON}}); err != nil {
		t.Fatal(err)
	}
	before := len(kpis())
	testkit.Eventually(t, "a KPI event with only the PON ports", func() error {
		got := kpis()[before:]
		if len(got) == 0 {
			return fmt.Errorf("no event yet")
		}
		last := got[len(got)-1].ev.GetPorts()
		if len(last) != 2 || last[0].GetGroup() != adapter.GroupPON || last[1].GetGroup() != adapter.GroupPON {
			return fmt.Errorf("ports %v, want the 2 PON ports only", last)
		}
		return nil
	})
}

// isSubset reports whether every element of sub is in set.
func isSubset(sub, set []string) bool {
	for _, s := range sub {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}

package openolt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testkit"
)

// TestPortCounters: frames into the OLT's NNI are counted by ponsim, sent
// as openolt port statistics indications, and reach the core's device
// ports through the adapter's ReportStats.
func TestPortCounters(t *testing.T) {
	s := newStack(t)
	o := s.newOLT("stats", 1, 1)
	o.statsEvery = 200 * time.Millisecond
	o.start()
	id := s.create(o.addr)
	s.waitActive(id, 1, 1)
	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06})
	const n = 4
	for range n {
		if err := o.sim.Inject("", portno.NNI(0), frame); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "NNI counters in the core", func() error {
		ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: id})
		if err != nil {
			return err
		}
		for _, p := range ps.GetItems() {
			if p.GetPortNo() != portno.NNI(0) {
				continue
			}
			if p.GetRxPackets() != n || p.GetRxBytes() != n*60 {
				return fmt.Errorf("NNI rx %d packets, %d bytes; want %d, %d", p.GetRxPackets(), p.GetRxBytes(), n, n*60)
			}
			return nil
		}
		return fmt.Errorf("no NNI port")
	})
}

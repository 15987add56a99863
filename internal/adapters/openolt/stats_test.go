package openolt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testkit"
)

// TestPortCounters: frames into the OLT's NNI are counted by ponsim, sent
// as openolt port statistics indications, and reach the core's device
// ports through the adapter's ReportStats.
func TestPortCounters(t *testing.T) {
	s := newStack(t)
	o, id := s.statsOLT("stats", 1)
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

// TestFlowCounters: frames an OLT flow takes are counted by ponsim, sent
// as openolt flow statistics indications, mapped by the adapter to the
// device flow the openolt flow carries, and read on the logical flow.
func TestFlowCounters(t *testing.T) {
	s := newStack(t)
	o, id := s.statsOLT("flowstats", 1)
	ld := s.device(id).GetLogicalDeviceId()
	trap, err := flowtext.ParseFlow(fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x88cc,actions=CONTROLLER:65535", portno.NNI(0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.nbi.UpdateLogicalDeviceFlowTable(s.ctx(), &voltv1.FlowTableUpdate{Id: ld, FlowMod: &openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD, Priority: trap.GetPriority(),
		OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: trap.GetMatch(), Instructions: trap.GetInstructions()}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the trap on ponsim's OLT", func() error {
		ft, err := o.sim.FlowTable("")
		if err != nil || len(ft.GetFlows()) == 0 {
			return fmt.Errorf("no OLT flow yet (%v)", err)
		}
		return nil
	})
	frame := lldp()
	const n = 3
	for range n {
		if err := o.sim.Inject("", portno.NNI(0), frame); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "LLDP trap flow counts in the logical flow", func() error {
		fs, err := s.nbi.ListLogicalDeviceFlows(s.ctx(), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		if len(fs.GetItems()) != 1 {
			return fmt.Errorf("%d logical flows, want 1", len(fs.GetItems()))
		}
		f := fs.GetItems()[0]
		if f.GetPacketCount() != n || f.GetByteCount() != n*uint64(len(frame)) {
			return fmt.Errorf("logical flow counted %d packets, %d bytes; want %d, %d", f.GetPacketCount(), f.GetByteCount(), n, n*len(frame))
		}
		return nil
	})
}

// statsOLT starts a ponsim of pons × 1 ONU whose openolt face sends its
// statistics every 200 ms, and returns it with its OLT device, ACTIVE.
func (s *stack) statsOLT(name string, pons int) (*olt, string) {
	s.t.Helper()
	o := s.newOLT(name, pons, 1)
	o.statsEvery = 200 * time.Millisecond
	o.start()
	id := s.create(o.addr)
	s.waitActive(id, pons, pons)
	return o, id
}

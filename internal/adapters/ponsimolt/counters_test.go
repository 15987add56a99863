package ponsimolt_test

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/ofagent"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testpeer"
)

// Frame sizes of the subscriber's traffic: untagged at the UNI, C-tagged
// on the PON, S- and C-tagged at the NNI.
const (
	untaggedLen = 60
	cTaggedLen  = 64
	sTaggedLen  = 68
)

// logicalFlow returns the logical flow whose text has all of parts.
func logicalFlow(s *stack, ld string, parts ...string) (*openflowv1.Flow, error) {
	fl, err := s.nbi.ListLogicalDeviceFlows(s.ctx(), &voltv1.ID{Id: ld})
	if err != nil {
		return nil, err
	}
	var found []*openflowv1.Flow
	var all []string
	for _, f := range fl.GetItems() {
		text := flowtext.FormatFlow(f)
		all = append(all, text)
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(text, p)
		}
		if ok {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%d logical flows have %q, in\n%s", len(found), parts, strings.Join(all, "\n"))
	}
	return found[0], nil
}

// wantCounts waits until the logical flow with parts counted packets
// frames of size bytes each.
func (s *stack) wantCounts(ld string, packets, size uint64, parts ...string) *openflowv1.Flow {
	s.t.Helper()
	var f *openflowv1.Flow
	testkit.Eventually(s.t, fmt.Sprintf("flow %q counted %d frames", parts, packets), func() error {
		var err error
		if f, err = logicalFlow(s, ld, parts...); err != nil {
			return err
		}
		if f.GetPacketCount() != packets || f.GetByteCount() != packets*size {
			return fmt.Errorf("%d packets, %d bytes; want %d, %d", f.GetPacketCount(), f.GetByteCount(), packets, packets*size)
		}
		return nil
	})
	return f
}

// TestCountersEndToEnd sends a subscriber's frames through ponsim in
// memory and follows the counts up: ponsim's device flows and ports, the
// adapter's reports, the core's logical flows, ports and meters, and
// ovs-ofctl through the OpenFlow agent. A restart of ponsim (its counters
// start again from zero) does not take the logical counts back.
func TestCountersEndToEnd(t *testing.T) {
	s := newStack(t)
	at := testpeer.ReserveAddr(t)
	sim, d, _ := s.heldSimAt("counters", 1, 1, at)
	oltID := s.createOLT(at)
	ld := s.waitActive(oltID, 1)
	const sVID, cVID = 1000, 101
	nni, uni := portno.NNI(0), portno.UNI(0, 1, 0)
	serial := sim.ONUSerial(0, 1)
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meterMod(ld, m)
	}
	for _, f := range subscriberFlows(nni, uni, sVID, cVID) {
		s.flowMod(ld, f)
	}
	s.inPonSim(sim, oltID)
	var nniWire, uniWire port
	if err := sim.Connect("", nni, nniWire.wire); err != nil {
		t.Fatal(err)
	}
	if err := sim.Connect(serial, uni, uniWire.wire); err != nil {
		t.Fatal(err)
	}

	payload := make([]byte, untaggedLen-14)
	up, down := ethFrame(0x0800, payload), ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})
	const nUp, nDown = 5, 3
	for range nUp {
		if err := sim.Inject(serial, uni, up); err != nil {
			t.Fatal(err)
		}
	}
	for range nDown {
		if err := sim.Inject("", nni, down); err != nil {
			t.Fatal(err)
		}
	}
	if n, m := len(nniWire.take()), len(uniWire.take()); n != nUp || m != nDown {
		t.Fatalf("%d frames left the NNI, %d the UNI; want %d, %d", n, m, nUp, nDown)
	}

	// A logical flow counts what the device flow that carries it counted:
	// the OLT's when it has one, else the ONU's. Upstream, table 0 is the
	// ONU's alone (untagged frames), table 1 the OLT's (C-tagged);
	// downstream, table 0 is the OLT's (S- and C-tagged), table 1 the
	// ONU's (C-tagged).
	upFlow := fmt.Sprintf("table=0, priority=1000, cookie=0x0, in_port=%d, vlan_vid=untagged", uni)
	downFlow := fmt.Sprintf("table=0, priority=1000, cookie=0x0, in_port=%d,", nni)
	f := s.wantCounts(ld, nUp, untaggedLen, upFlow)
	s.wantCounts(ld, nUp, cTaggedLen, fmt.Sprintf("table=1, priority=1000, cookie=0x0, in_port=%d,", uni))
	s.wantCounts(ld, nDown, sTaggedLen, downFlow)
	s.wantCounts(ld, nDown, cTaggedLen, fmt.Sprintf("table=1, priority=1000, cookie=0x0, in_port=%d,", nni))
	s.wantCounts(ld, 0, 0, "eth_type=0x888e")
	if f.GetInstallTimeUnixNano() == 0 {
		t.Error("logical flow has no install time")
	}

	// Device flows: the ONU's count the frames as the ONU saw them.
	testkit.Eventually(t, "ONU device flows counted", func() error {
		kids := s.children(oltID)
		fl, err := s.nbi.ListDeviceFlows(s.ctx(), &voltv1.ID{Id: kids[0].GetId()})
		if err != nil {
			return err
		}
		var upN, upB, downN, downB uint64
		for _, f := range fl.GetItems() {
			text := flowtext.FormatFlow(f)
			switch {
			case strings.Contains(text, fmt.Sprintf("in_port=%d", uni)):
				upN, upB = upN+f.GetPacketCount(), upB+f.GetByteCount()
			case strings.Contains(text, fmt.Sprintf("in_port=%d", portno.ONUPON)):
				downN, downB = downN+f.GetPacketCount(), downB+f.GetByteCount()
			}
		}
		if upN != nUp || upB != nUp*untaggedLen || downN != nDown || downB != nDown*cTaggedLen {
			return fmt.Errorf("ONU flows counted up %d/%d, down %d/%d", upN, upB, downN, downB)
		}
		return nil
	})

	// Ports: logical and device.
	wantPort := func(lp *voltv1.LogicalPort, rx, rxB, tx, txB uint64) error {
		st := lp.GetStats()
		if st.GetRxPackets() != rx || st.GetRxBytes() != rxB || st.GetTxPackets() != tx || st.GetTxBytes() != txB {
			return fmt.Errorf("port %d: rx %d/%d tx %d/%d; want rx %d/%d tx %d/%d", lp.GetOfpPort().GetPortNo(),
				st.GetRxPackets(), st.GetRxBytes(), st.GetTxPackets(), st.GetTxBytes(), rx, rxB, tx, txB)
		}
		return nil
	}
	testkit.Eventually(t, "logical port counters", func() error {
		ps, err := s.nbi.ListLogicalDevicePorts(s.ctx(), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		for _, lp := range ps.GetItems() {
			var err error
			switch lp.GetOfpPort().GetPortNo() {
			case nni:
				err = wantPort(lp, nDown, nDown*sTaggedLen, nUp, nUp*sTaggedLen)
			case uni:
				err = wantPort(lp, nUp, nUp*untaggedLen, nDown, nDown*untaggedLen)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	testkit.Eventually(t, "OLT device port counters", func() error {
		ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: oltID})
		if err != nil {
			return err
		}
		for _, p := range ps.GetItems() {
			if p.GetPortNo() == nni && (p.GetRxPackets() != nDown || p.GetTxPackets() != nUp || p.GetTxBytes() != nUp*sTaggedLen) {
				return fmt.Errorf("NNI rx %d tx %d/%d", p.GetRxPackets(), p.GetTxPackets(), p.GetTxBytes())
			}
		}
		return nil
	})

	// Meters: flow counts from the table, packets from the OLT's meter
	// (meter 1 is on the ONU's flow alone: what its flows counted).
	testkit.Eventually(t, "meter counters", func() error {
		ms, err := s.nbi.ListLogicalDeviceMeters(s.ctx(), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		want := map[uint32][3]uint64{1: {1, nUp, nUp * untaggedLen}, 2: {1, nDown, nDown * sTaggedLen}, 3: {3, 0, 0}}
		for _, m := range ms.GetItems() {
			st := m.GetStats()
			w := want[m.GetConfig().GetMeterId()]
			if got := [3]uint64{uint64(st.GetFlowCount()), st.GetPacketInCount(), st.GetByteInCount()}; got != w {
				return fmt.Errorf("meter %d: flows, packets, bytes %v; want %v", m.GetConfig().GetMeterId(), got, w)
			}
			if len(st.GetBandStats()) != 1 {
				return fmt.Errorf("meter %d has %d band stats, want 1", m.GetConfig().GetMeterId(), len(st.GetBandStats()))
			}
		}
		return nil
	})

	// The OLT adapter and the core restart (the core reconciles the OLT,
	// and keeps counters in memory only): the counts come back from
	// ponsim as they were.
	s.olt.stop(t, "ponsim_olt adapter")
	s.olt = s.startAdapter("ponsim_olt", ponsimolt.Run)
	s.core.stop(t, "core")
	s.startCore()
	s.waitActive(oltID, 1)
	s.wantCounts(ld, nDown, sTaggedLen, downFlow)
	s.wantCounts(ld, nUp, untaggedLen, upFlow)

	// ponsim restarts: its counters start from zero, the logical ones go
	// on from where they were.
	d.stop(t, "ponsim")
	sim, _, _ = s.heldSimAt("counters", 1, 1, at)
	s.waitActive(oltID, 1)
	s.inPonSim(sim, oltID)
	if err := sim.Connect(serial, uni, uniWire.wire); err != nil {
		t.Fatal(err)
	}
	// The restarted OLT forwards once the adapter enabled it again.
	var injected uint64
	testkit.Eventually(t, "a frame down the restarted ponsim", func() error {
		if err := sim.Inject("", nni, down); err != nil {
			return err
		}
		injected++
		if n := len(uniWire.take()); n != 1 {
			return fmt.Errorf("%d frames at the UNI", n)
		}
		return nil
	})
	// What the restarted ponsim counted on its OLT flow from the NNI (a
	// frame it took before the ONU was back counts too).
	ft, err := sim.FlowTable("")
	if err != nil {
		t.Fatal(err)
	}
	var again uint64
	for _, f := range ft.GetFlows() {
		if strings.Contains(flowtext.FormatFlow(f), fmt.Sprintf("in_port=%d,", nni)) {
			again += f.GetPacketCount()
		}
	}
	if again == 0 {
		t.Fatal("the restarted ponsim counted nothing on its downstream flow")
	}
	s.wantCounts(ld, nDown+again, sTaggedLen, downFlow)
	s.wantCounts(ld, nUp, untaggedLen, upFlow)

	// Through the OpenFlow agent, as a controller sees them.
	checkOfctl(t, s, nUp, nDown+injected, nDown+again)

	// A deleted flow's removal event carries its last counts and age (the
	// agent's flow-removed).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, err := s.nbi.ReceiveChangeEvents(ctx, &voltv1.ReceiveChangeEventsRequest{LogicalDeviceId: ld, Payloads: []string{"flow"}, FlowChangeKinds: []voltv1.ChangeKind{voltv1.ChangeKind_CHANGE_KIND_REMOVED}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Header(); err != nil {
		t.Fatal(err)
	}
	up1, err := logicalFlow(s, ld, fmt.Sprintf("table=1, priority=1000, cookie=0x0, in_port=%d,", uni))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.nbi.UpdateLogicalDeviceFlowTable(s.ctx(), &voltv1.FlowTableUpdate{Id: ld, FlowMod: &openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT, TableId: 1, Priority: up1.GetPriority(),
		OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: up1.GetMatch(),
	}}); err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := events.Recv()
		if err != nil {
			t.Fatal(err)
		}
		fc := ev.GetFlow()
		if fc.GetKind() != voltv1.ChangeKind_CHANGE_KIND_REMOVED {
			continue
		}
		if f := fc.GetFlow(); f.GetPacketCount() != nUp || f.GetByteCount() != nUp*cTaggedLen || f.GetDurationSec()+f.GetDurationNsec() == 0 {
			t.Errorf("removed flow: %d packets, %d bytes, %d.%09d s; want %d, %d and an age", f.GetPacketCount(), f.GetByteCount(),
				f.GetDurationSec(), f.GetDurationNsec(), nUp, nUp*cTaggedLen)
		}
		break
	}
}

// checkOfctl reads the counters with ovs-ofctl through a passive OpenFlow
// agent.
// nniRx is what the NNI received, meter2 what meter 2's flow counted.
func checkOfctl(t *testing.T, s *stack, nUp, nniRx, meter2 uint64) {
	t.Helper()
	testpeer.Program(t, "ovs-ofctl", "apt-get install openvswitch-common")
	var listen string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- ofagent.Run(ctx, ofagent.Config{Server: s.nbiAddr, Listen: "127.0.0.1:0", Logs: s.logs, Ready: func(a string) { ready <- a }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case listen = <-ready:
	case err := <-done:
		t.Fatalf("ofagent: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("ofagent did not start")
	}
	sw := "tcp:" + listen
	ofctl := func(args ...string) string {
		var out []byte
		testkit.Eventually(t, "ovs-ofctl "+args[0], func() error {
			cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer ccancel()
			var err error
			out, err = exec.CommandContext(cctx, "ovs-ofctl", append([]string{"-O", "OpenFlow13", "--no-names"}, args...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		return string(out)
	}
	flows := ofctl("dump-flows", sw)
	t.Logf("ovs-ofctl dump-flows:\n%s", flows)
	up := regexp.MustCompile(fmt.Sprintf(`n_packets=(\d+), n_bytes=(\d+), priority=1000,in_port=%d,vlan_tci=0x0000`, portno.UNI(0, 1, 0)))
	if m := up.FindStringSubmatch(flows); m == nil || m[1] != fmt.Sprint(nUp) || m[2] != fmt.Sprint(nUp*untaggedLen) {
		t.Errorf("dump-flows: upstream flow without n_packets=%d, n_bytes=%d:\n%s", nUp, nUp*untaggedLen, flows)
	}
	if strings.Contains(flows, "duration=0s") && !regexp.MustCompile(`duration=\d+\.\d*[1-9]`).MatchString(flows) {
		t.Errorf("dump-flows: no flow has a duration:\n%s", flows)
	}
	ports := ofctl("dump-ports", sw, fmt.Sprint(portno.NNI(0)))
	if want := fmt.Sprintf("rx pkts=%d, bytes=%d", nniRx, nniRx*sTaggedLen); !strings.Contains(ports, want) {
		t.Errorf("dump-ports lacks %q:\n%s", want, ports)
	}
	meters := ofctl("meter-stats", sw)
	if want := fmt.Sprintf("meter:2 flow_count:1 packet_in_count:%d byte_in_count:%d", meter2, meter2*sTaggedLen); !strings.Contains(meters, want) {
		t.Errorf("meter-stats lacks %q:\n%s", want, meters)
	}
	agg := ofctl("dump-aggregate", sw)
	if !strings.Contains(agg, "flow_count=7") {
		t.Errorf("dump-aggregate: %s", agg)
	}
}

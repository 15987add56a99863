package ponsim

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	"github.com/openvolt/openvolt/internal/testkit"
)

// wire records what a port sends.
type wire struct {
	mu     sync.Mutex // guards frames
	frames [][]byte
}

func (w *wire) fn(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.frames = append(w.frames, b)
}

// take returns and forgets what the port sent.
func (w *wire) take() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.frames
	w.frames = nil
	return f
}

// subscriberNet sets up one PON with two ONUs the way a decomposed
// single-tagged-to-double-tagged service looks: each ONU tags its
// subscriber with C-VLAN 100+id, the OLT adds S-VLAN 10 towards the NNI,
// EAPOL from a UNI goes to the controller.
type subscriberNet struct {
	served
	nni        *wire
	uni        [3]*wire // by ONU id
	onuSerials [3]string
}

func newSubscriberNet(t *testing.T) *subscriberNet {
	t.Helper()
	n := &subscriberNet{served: serve(t, testConfig("dp", 1, 2)), nni: &wire{}}
	sim := n.sim
	if err := sim.Connect("", portno.NNI(0), n.nni.fn); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	olt := &ponsimv1.FlowTable{
		Device: &ponsimv1.DeviceRef{},
		Flows: []*openflowv1.Flow{
			flow(1000, match(inPort(portno.OLTPON(0)), anyTag()), push(tpidSTag), setVIDAction(10), output(portno.NNI(0))),
			flow(1000, match(inPort(portno.NNI(0)), vid(10)), pop(), output(portno.OLTPON(0))),
		},
	}
	if _, err := n.client.UpdateFlowTable(ctx, olt); err != nil {
		t.Fatal(err)
	}
	for id := uint32(1); id <= 2; id++ {
		serial := sim.ONUSerial(0, id)
		n.onuSerials[id] = serial
		n.uni[id] = &wire{}
		uni := portno.UNI(0, id, 0)
		if err := sim.Connect(serial, uni, n.uni[id].fn); err != nil {
			t.Fatal(err)
		}
		c := uint64(100 + id)
		ft := &ponsimv1.FlowTable{
			Device: &ponsimv1.DeviceRef{SerialNumber: serial},
			Flows: []*openflowv1.Flow{
				flow(2000, match(inPort(uni), ethType(0x888e)), output(ofppController)),
				flow(1000, match(inPort(uni), vid(-1)), push(tpidCTag), setVIDAction(c), output(portno.ONUPON)),
				flow(1000, match(inPort(portno.ONUPON), vid(int(c))), pop(), output(uni)),
			},
		}
		if _, err := n.client.UpdateFlowTable(ctx, ft); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.client.EnableDevice(ctx, &ponsimv1.DeviceRef{}); err != nil {
		t.Fatal(err)
	}
	return n
}

// counters returns "rx/tx/dropped/malformed" of a port.
func (n *subscriberNet) counters(t *testing.T, serial string, no uint32) string {
	t.Helper()
	st, err := n.sim.Stats(serial)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.GetPorts() {
		if p.GetPortNo() == no {
			return fmt.Sprintf("%d/%d/%d/%d", p.GetRxFrames(), p.GetTxFrames(), p.GetDropped(), p.GetMalformed())
		}
	}
	t.Fatalf("no port %d on %q", no, serial)
	return ""
}

func wantFrames(t *testing.T, what string, got [][]byte, want ...[]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s frame %d:\n got % x\nwant % x", what, i, got[i], want[i])
		}
	}
}

func TestDataplaneUpstreamDownstream(t *testing.T) {
	n := newSubscriberNet(t)
	payload := udp4(protoUDP, 1000, 2000)
	plain := frame(ethTypeIPv4, payload)
	tagged := func(c uint16) []byte {
		return frame(ethTypeIPv4, payload, [2]uint16{tpidSTag, 10}, [2]uint16{tpidCTag, c})
	}

	// Upstream from each ONU: C-tag by the ONU, S-tag by the OLT.
	for id := uint32(1); id <= 2; id++ {
		if err := n.sim.Inject(n.onuSerials[id], portno.UNI(0, id, 0), plain); err != nil {
			t.Fatal(err)
		}
	}
	wantFrames(t, "nni", n.nni.take(), tagged(101), tagged(102))

	// Downstream to ONU 2 only.
	if err := n.sim.Inject("", portno.NNI(0), tagged(102)); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "uni 2", n.uni[2].take(), plain)
	wantFrames(t, "uni 1", n.uni[1].take())

	// Nobody on the PON takes C-VLAN 999: dropped at the OLT's PON port.
	if err := n.sim.Inject("", portno.NNI(0), tagged(999)); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "uni 1", n.uni[1].take())
	wantFrames(t, "uni 2", n.uni[2].take())

	checks := []struct {
		serial string
		port   uint32
		want   string // rx/tx/dropped/malformed
	}{
		{"", portno.NNI(0), "2/2/0/0"},
		{"", portno.OLTPON(0), "2/2/1/0"},
		{n.onuSerials[1], portno.UNI(0, 1, 0), "1/0/0/0"},
		{n.onuSerials[1], portno.ONUPON, "0/1/0/0"}, // ignored downstream frames are not its
		{n.onuSerials[2], portno.UNI(0, 2, 0), "1/1/0/0"},
		{n.onuSerials[2], portno.ONUPON, "1/1/0/0"},
	}
	for _, c := range checks {
		if got := n.counters(t, c.serial, c.port); got != c.want {
			t.Errorf("%q port %#x: %s, want %s", c.serial, c.port, got, c.want)
		}
	}
	ft, err := n.sim.FlowTable(n.onuSerials[2])
	if err != nil {
		t.Fatal(err)
	}
	if got := ft.GetFlows()[1].GetPacketCount(); got != 1 {
		t.Errorf("upstream flow of onu 2 counted %d packets, want 1", got)
	}
	if got := ft.GetFlows()[1].GetByteCount(); got != uint64(len(plain)) {
		t.Errorf("upstream flow of onu 2 counted %d bytes, want %d", got, len(plain))
	}
}

func TestDataplaneDrops(t *testing.T) {
	n := newSubscriberNet(t)
	u1 := portno.UNI(0, 1, 0)
	plain := frame(ethTypeIPv4, udp4(protoUDP, 1, 2))

	// A frame no flow matches, and a malformed one.
	if err := n.sim.Inject(n.onuSerials[1], u1, frame(ethTypeIPv4, nil, [2]uint16{tpidCTag, 5})); err != nil {
		t.Fatal(err)
	}
	if err := n.sim.Inject(n.onuSerials[1], u1, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := n.counters(t, n.onuSerials[1], u1); got != "2/0/1/1" {
		t.Errorf("uni 1: %s, want 2/0/1/1", got)
	}

	// A disabled ONU forwards nothing.
	if err := n.sim.Disable(n.onuSerials[1]); err != nil {
		t.Fatal(err)
	}
	if err := n.sim.Inject(n.onuSerials[1], u1, plain); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "nni", n.nni.take())
	if got := n.counters(t, n.onuSerials[1], u1); got != "3/0/2/1" {
		t.Errorf("uni 1 disabled: %s, want 3/0/2/1", got)
	}
	if err := n.sim.Enable(n.onuSerials[1]); err != nil {
		t.Fatal(err)
	}

	// An unplugged NNI drops on the NNI.
	if err := n.sim.Connect("", portno.NNI(0), nil); err != nil {
		t.Fatal(err)
	}
	if err := n.sim.Inject(n.onuSerials[1], u1, plain); err != nil {
		t.Fatal(err)
	}
	if got := n.counters(t, "", portno.NNI(0)); got != "0/0/1/0" {
		t.Errorf("unplugged nni: %s, want 0/0/1/0", got)
	}

	// A disabled OLT: nothing forwards, even inside an ONU.
	if err := n.sim.Disable(""); err != nil {
		t.Fatal(err)
	}
	if err := n.sim.Inject(n.onuSerials[2], portno.UNI(0, 2, 0), plain); err != nil {
		t.Fatal(err)
	}
	if got := n.counters(t, n.onuSerials[2], portno.ONUPON); got != "0/0/0/0" {
		t.Errorf("onu 2 pon with the olt disabled: %s, want 0/0/0/0", got)
	}
}

func TestPacketInOut(t *testing.T) {
	n := newSubscriberNet(t)
	ctx := testCtx(t)
	frames, err := n.client.ReceiveFrames(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "frame streams", func() error { return n.sim.frameStreams(1) })

	eapol := frame(0x888e, []byte{1, 0, 0, 5})
	u2 := portno.UNI(0, 2, 0)
	if err := n.sim.Inject(n.onuSerials[2], u2, eapol); err != nil {
		t.Fatal(err)
	}
	in, err := frames.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if in.GetDevice().GetSerialNumber() != n.onuSerials[2] || in.GetPortNo() != u2 || !bytes.Equal(in.GetPayload(), eapol) {
		t.Errorf("packet-in %v", in)
	}

	// Packet-out on a UNI leaves it as is.
	if _, err := n.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{SerialNumber: n.onuSerials[2]}, PortNo: u2, Payload: eapol}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "uni 2", n.uni[2].take(), eapol)

	// Packet-out on the OLT's PON goes through the ONU tables: C-VLAN 101
	// reaches ONU 1's UNI untagged.
	down := frame(0x888e, []byte{1, 0, 0, 5}, [2]uint16{tpidCTag, 101})
	if _, err := n.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: portno.OLTPON(0), Payload: down}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "uni 1", n.uni[1].take(), eapol)
	wantFrames(t, "uni 2", n.uni[2].take())

	// Packet-out on the NNI.
	if _, err := n.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: portno.NNI(0), Payload: eapol}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "nni", n.nni.take(), eapol)
}

// TestOLTOutputToUNI: an OLT flow may name a UNI; the frame goes to that
// ONU only, and a group of type ALL copies to several.
func TestOLTOutputToUNI(t *testing.T) {
	n := newSubscriberNet(t)
	u1, u2 := portno.UNI(0, 1, 0), portno.UNI(0, 2, 0)
	olt := &ponsimv1.FlowTable{
		Device: &ponsimv1.DeviceRef{},
		Groups: []*openflowv1.GroupDesc{{GroupId: 1, Type: openflowv1.GroupType_GROUP_TYPE_ALL, Buckets: []*openflowv1.Bucket{
			{Actions: []*openflowv1.Action{setVIDAction(101), output(u1)}},
			{Actions: []*openflowv1.Action{setVIDAction(102), output(u2)}},
		}}},
		Flows: []*openflowv1.Flow{
			flow(1000, match(inPort(portno.NNI(0)), vid(20)), output(u2)),
			flow(1000, match(inPort(portno.NNI(0)), vid(30)), groupAction(1)),
		},
	}
	if err := n.sim.SetFlowTable(olt); err != nil {
		t.Fatal(err)
	}
	plain := frame(ethTypeIPv4, udp4(protoUDP, 1, 2))
	to2 := frame(ethTypeIPv4, udp4(protoUDP, 1, 2), [2]uint16{tpidCTag, 20})
	if err := n.sim.Inject("", portno.NNI(0), to2); err != nil {
		t.Fatal(err)
	}
	// VLAN 20 is not ONU 2's C-VLAN: addressed to it, but its table drops it.
	wantFrames(t, "uni 2", n.uni[2].take())
	if got := n.counters(t, n.onuSerials[2], portno.ONUPON); got != "1/0/1/0" {
		t.Errorf("onu 2 pon: %s, want 1/0/1/0", got)
	}
	if err := n.sim.Inject("", portno.NNI(0), frame(ethTypeIPv4, udp4(protoUDP, 1, 2), [2]uint16{tpidCTag, 30})); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "uni 1", n.uni[1].take(), plain)
	wantFrames(t, "uni 2", n.uni[2].take(), plain)
}

// TestFlowLoopEnds: flows that bounce a frame between the OLT and an ONU
// (both output to IN_PORT) stop after maxHops devices.
func TestFlowLoopEnds(t *testing.T) {
	s, err := New(testConfig("loop", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	serial := s.ONUSerial(0, 1)
	uni := portno.UNI(0, 1, 0)
	for _, ft := range []*ponsimv1.FlowTable{
		{Device: &ponsimv1.DeviceRef{}, Flows: []*openflowv1.Flow{flow(1, nil, output(ofppInPort))}},
		{Device: &ponsimv1.DeviceRef{SerialNumber: serial}, Flows: []*openflowv1.Flow{
			flow(2, match(inPort(uni)), output(portno.ONUPON)),
			flow(1, nil, output(ofppInPort)),
		}},
	} {
		if err := s.SetFlowTable(ft); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Enable(""); err != nil {
		t.Fatal(err)
	}
	if err := s.Inject(serial, uni, frame(0x0806, make([]byte, 46))); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats("")
	if err != nil {
		t.Fatal(err)
	}
	pon := st.GetPorts()[1]
	// The OLT sees the frame at hops 1, 3, 5, 7 and drops it at 9.
	if pon.GetRxFrames() != maxHops/2+1 || pon.GetDropped() != 1 {
		t.Errorf("olt pon after a loop: %v", pon)
	}
}

// TestGotoTable: table 0 tags and goes to table 1, which outputs.
func TestGotoTable(t *testing.T) {
	s, err := New(testConfig("goto", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nni := &wire{}
	if err := s.Connect("", portno.NNI(0), nni.fn); err != nil {
		t.Fatal(err)
	}
	first := flow(10, match(inPort(portno.NNI(0))), push(tpidCTag), setVIDAction(7))
	first.Instructions = append(first.Instructions, &openflowv1.Instruction{
		Instruction: &openflowv1.Instruction_GotoTable{GotoTable: &openflowv1.InstructionGotoTable{TableId: 1}}})
	second := flow(10, match(vid(7)), output(ofppInPort))
	second.TableId = 1
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{}, Flows: []*openflowv1.Flow{first, second}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enable(""); err != nil {
		t.Fatal(err)
	}
	in := frame(0x0806, make([]byte, 46))
	if err := s.Inject("", portno.NNI(0), in); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "nni", nni.take(), frame(0x0806, make([]byte, 46), [2]uint16{tpidCTag, 7}))
}

package ponsim

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testkit"
)

// The device flows below are what internal/core/flowdecomp makes of an
// ATT-like subscriber (its testdata/att.txt): the ONU tags the C-VLAN and
// sets the GEM port (tunnel_id = UNI) towards the PON, the OLT matches
// PON + tunnel_id and adds the S-VLAN; downstream the OLT matches the
// S-VLAN and the C-VLAN under it (metadata), pops the S-VLAN and sets the
// GEM port, the ONU matches it and pops the C-VLAN.

const sTag = 1000

// cTag is the C-VLAN of the subscriber on ONU onu of PON pon.
func cTag(pon, onu uint32) uint32 { return 100 + pon*128 + onu }

func parseFlows(tb testing.TB, lines ...string) []*openflowv1.Flow {
	tb.Helper()
	var out []*openflowv1.Flow
	for _, l := range lines {
		f, err := flowtext.ParseFlow(l)
		if err != nil {
			tb.Fatalf("%s: %v", l, err)
		}
		out = append(out, f)
	}
	return out
}

func parseMeters(tb testing.TB, lines ...string) []*openflowv1.MeterConfig {
	tb.Helper()
	var out []*openflowv1.MeterConfig
	for _, l := range lines {
		m, err := flowtext.ParseMeter(l)
		if err != nil {
			tb.Fatalf("%s: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// oltSubscriberFlows are the OLT's flows for the subscriber on uni.
func oltSubscriberFlows(pon, onu uint32) []string {
	uni, c, ponPort, nni := portno.UNI(pon, onu, 0), cTag(pon, onu), portno.OLTPON(pon), portno.NNI(0)
	return []string{
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x888e,vlan_vid=4091,tunnel_id=%d,actions=CONTROLLER:65535", ponPort, uni),
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=%d,vlan_pcp=0,ip_proto=17,udp_src=68,udp_dst=67,tunnel_id=%d,actions=CONTROLLER:65535", ponPort, c, uni),
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=%d,vlan_pcp=0,ip_proto=2,tunnel_id=%d,actions=CONTROLLER:65535", ponPort, c, uni),
		fmt.Sprintf("priority=1000,in_port=%d,vlan_vid=%d,tunnel_id=%d,actions=push_vlan:0x88a8,set_field:%d->vlan_vid,output:%d", ponPort, c, uni, sTag, nni),
		fmt.Sprintf("priority=1000,in_port=%d,metadata=%d,vlan_vid=%d,actions=meter:2,pop_vlan,set_field:%d->tunnel_id,output:%d", nni, c, sTag, uni, ponPort),
	}
}

// oltNNIFlows are the OLT's traps from the network: LLDP, DHCP answers.
func oltNNIFlows() []string {
	nni := portno.NNI(0)
	return []string{
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x88cc,actions=CONTROLLER:65535", nni),
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=%d,ip_proto=17,udp_src=67,udp_dst=68,actions=CONTROLLER:65535", nni, sTag),
	}
}

// onuSubscriberFlows are the ONU's flows for its subscriber.
func onuSubscriberFlows(pon, onu uint32) []string {
	uni, c, pp := portno.UNI(pon, onu, 0), cTag(pon, onu), uint32(portno.ONUPON)
	return []string{
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x888e,actions=meter:3,push_vlan:0x8100,set_field:4091->vlan_vid,set_field:%d->tunnel_id,output:%d", uni, uni, pp),
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=untagged,ip_proto=17,udp_src=68,udp_dst=67,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,set_field:%d->tunnel_id,output:%d", uni, c, uni, pp),
		fmt.Sprintf("priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=untagged,ip_proto=2,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,set_field:%d->tunnel_id,output:%d", uni, c, uni, pp),
		fmt.Sprintf("priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:%d->vlan_vid,set_field:%d->tunnel_id,output:%d", uni, c, uni, pp),
		fmt.Sprintf("priority=1000,in_port=%d,vlan_vid=%d,tunnel_id=%d,actions=pop_vlan,output:%d", pp, c, uni, uni),
	}
}

var subscriberMeters = []string{
	"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
	"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
	"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
}

// installSubscribers gives every ONU of s its subscriber and the OLT the
// flows of all of them, plus extra OLT flows and ONU flows (onuExtra may be
// nil).
func installSubscribers(tb testing.TB, s *Sim, oltExtra []string, onuExtra func(pon, onu uint32) []string, groups ...*openflowv1.GroupDesc) {
	tb.Helper()
	olt := oltNNIFlows()
	olt = append(olt, oltExtra...)
	for pon := range uint32(s.cfg.PONPorts) {
		for onu := uint32(1); onu <= uint32(s.cfg.ONUsPerPON); onu++ {
			olt = append(olt, oltSubscriberFlows(pon, onu)...)
			flows := onuSubscriberFlows(pon, onu)
			if onuExtra != nil {
				flows = append(flows, onuExtra(pon, onu)...)
			}
			ft := &ponsimv1.FlowTable{
				Device: &ponsimv1.DeviceRef{SerialNumber: s.ONUSerial(pon, onu)},
				Flows:  parseFlows(tb, flows...),
				Meters: parseMeters(tb, subscriberMeters[0], subscriberMeters[2]),
			}
			if err := s.SetFlowTable(ft); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ft := &ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{}, Flows: parseFlows(tb, olt...), Groups: groups,
		Meters: parseMeters(tb, subscriberMeters[1])}
	if err := s.SetFlowTable(ft); err != nil {
		tb.Fatal(err)
	}
}

func tagged(typ uint16, payload []byte, s, c uint16) []byte {
	return frame(typ, payload, [2]uint16{tpidSTag, s}, [2]uint16{tpidCTag, c})
}

func TestSubscriberDataplane(t *testing.T) {
	n := &subscriberNet{served: serve(t, testConfig("att", 2, 2))}
	sim := n.sim
	nni := &wire{}
	if err := sim.Connect("", portno.NNI(0), nni.fn); err != nil {
		t.Fatal(err)
	}
	unis := map[uint32]*wire{}
	for pon := range uint32(2) {
		for onu := uint32(1); onu <= 2; onu++ {
			w := &wire{}
			unis[portno.UNI(pon, onu, 0)] = w
			if err := sim.Connect(sim.ONUSerial(pon, onu), portno.UNI(pon, onu, 0), w.fn); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Multicast: VLAN 4000 from the NNI to every ONU of PON 1, untagged.
	mcast := &openflowv1.GroupDesc{GroupId: 7, Type: openflowv1.GroupType_GROUP_TYPE_ALL, Buckets: []*openflowv1.Bucket{
		{Actions: []*openflowv1.Action{output(portno.OLTPON(1))}},
	}}
	installSubscribers(t, sim,
		[]string{fmt.Sprintf("priority=2000,in_port=%d,vlan_vid=4000,actions=group:7", portno.NNI(0))},
		func(pon, onu uint32) []string {
			return []string{fmt.Sprintf("priority=2000,in_port=%d,vlan_vid=4000,actions=pop_vlan,output:%d", portno.ONUPON, portno.UNI(pon, onu, 0))}
		},
		mcast)
	ctx := testCtx(t)
	frames, err := n.client.ReceiveFrames(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "frame streams", func() error { return sim.frameStreams(1) })
	if err := sim.Enable(""); err != nil {
		t.Fatal(err)
	}

	u := portno.UNI(1, 2, 0)
	serial := sim.ONUSerial(1, 2)
	c := uint16(cTag(1, 2))
	data := udp4(protoUDP, 1000, 2000)

	// Upstream: the S-tag and the C-tag the flows say.
	if err := sim.Inject(serial, u, frame(ethTypeIPv4, data)); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "nni", nni.take(), tagged(ethTypeIPv4, data, sTag, c))

	// Downstream: to that UNI untagged, and to no other ONU (the GEM port
	// addresses one).
	if err := sim.Inject("", portno.NNI(0), tagged(ethTypeIPv4, data, sTag, c)); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "uni", unis[u].take(), frame(ethTypeIPv4, data))
	for no, w := range unis {
		wantFrames(t, fmt.Sprintf("uni %#x", no), w.take())
	}
	if got := n.counters(t, sim.ONUSerial(1, 1), portno.ONUPON); got != "0/0/0/0" {
		t.Errorf("the other ONU's PON port: %s, want 0/0/0/0 (nothing received)", got)
	}
	// The C-tag under the S-tag (metadata) names the subscriber: another
	// one is dropped at the NNI.
	if err := sim.Inject("", portno.NNI(0), tagged(ethTypeIPv4, data, sTag, 999)); err != nil {
		t.Fatal(err)
	}
	if got := n.counters(t, "", portno.NNI(0)); got != "2/1/1/0" {
		t.Errorf("nni: %s, want 2/1/1/0", got)
	}

	// Traps: EAPOL and DHCP from the UNI reach the controller from the OLT
	// naming the UNI, tagged as the ONU tagged them; LLDP names the NNI.
	eapol := frame(0x888e, []byte{1, 0, 0, 5})
	dhcp := frame(ethTypeIPv4, udp4(protoUDP, 68, 67))
	lldp := frame(0x88cc, []byte{2, 7, 4})
	for _, in := range []struct {
		serial string
		port   uint32
		frame  []byte
		want   *ponsimv1.Frame
	}{
		{serial, u, eapol, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: u,
			Payload: frame(0x888e, []byte{1, 0, 0, 5}, [2]uint16{tpidCTag, 4091})}},
		{serial, u, dhcp, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: u,
			Payload: frame(ethTypeIPv4, udp4(protoUDP, 68, 67), [2]uint16{tpidCTag, c})}},
		{"", portno.NNI(0), lldp, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{}, PortNo: portno.NNI(0), Payload: lldp}},
	} {
		if err := sim.Inject(in.serial, in.port, in.frame); err != nil {
			t.Fatal(err)
		}
		got, err := frames.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if got.GetDevice().GetSerialNumber() != "" || got.GetPortNo() != in.want.GetPortNo() || !bytes.Equal(got.GetPayload(), in.want.GetPayload()) {
			t.Errorf("packet-in %v\nwant %v", got, in.want)
		}
	}
	meters, err := sim.MeterCounts(serial)
	if err != nil {
		t.Fatal(err)
	}
	if meters[1] != 1 || meters[3] != 2 {
		t.Errorf("ONU meters %v, want 1 packet on meter 1 and 2 on meter 3", meters)
	}

	// Multicast: a copy to each ONU of PON 1, none to PON 0.
	mc := frame(ethTypeIPv4, data, [2]uint16{tpidCTag, 4000})
	if err := sim.Inject("", portno.NNI(0), mc); err != nil {
		t.Fatal(err)
	}
	for no, w := range unis {
		if pon, _, _ := portno.SplitUNI(no); pon == 1 {
			wantFrames(t, fmt.Sprintf("multicast to uni %#x", no), w.take(), frame(ethTypeIPv4, data))
		} else {
			wantFrames(t, fmt.Sprintf("multicast to uni %#x", no), w.take())
		}
	}

	// Packet-out to a UNI leaves it as it is.
	if _, err := n.client.SendFrame(ctx, &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{SerialNumber: serial}, PortNo: u, Payload: eapol}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "packet-out", unis[u].take(), eapol)
}

// TestGEMToAnotherPON: a tunnel_id naming a UNI of another PON is dropped
// on the OLT PON port, and one naming no UNI too.
func TestGEMToAnotherPON(t *testing.T) {
	s, err := New(testConfig("gem", 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nni := portno.NNI(0)
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{}, Flows: parseFlows(t,
		fmt.Sprintf("priority=1,in_port=%d,vlan_vid=10,actions=set_field:%d->tunnel_id,output:%d", nni, portno.UNI(1, 1, 0), portno.OLTPON(0)),
		fmt.Sprintf("priority=1,in_port=%d,vlan_vid=11,actions=set_field:0xfffffffff->tunnel_id,output:%d", nni, portno.OLTPON(0)),
	)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enable(""); err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint16{10, 11} {
		if err := s.Inject("", nni, frame(0x0806, nil, [2]uint16{tpidCTag, v})); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Stats("")
	if err != nil {
		t.Fatal(err)
	}
	if pon := st.GetPorts()[1]; pon.GetTxFrames() != 2 || pon.GetDropped() != 2 {
		t.Errorf("olt pon 0: %v, want 2 sent and 2 dropped", pon)
	}
}

// TestWriteMetadata: metadata written in table 0 is matched in table 1.
func TestWriteMetadata(t *testing.T) {
	s, err := New(testConfig("meta", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nni := portno.NNI(0)
	w := &wire{}
	if err := s.Connect("", nni, w.fn); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFlowTable(&ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{}, Flows: parseFlows(t,
		fmt.Sprintf("table=0,priority=1,in_port=%d,actions=write_metadata:0x42/0xff,goto_table:1", nni),
		"table=1,priority=2,metadata=0x41,actions=drop",
		"table=1,priority=1,metadata=0x42,actions=output:IN_PORT",
	)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enable(""); err != nil {
		t.Fatal(err)
	}
	in := frame(0x0806, make([]byte, 28))
	if err := s.Inject("", nni, in); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "nni", w.take(), in)
}

// FuzzDataplane injects any bytes at a UNI and at the NNI of a subscriber
// OLT: nothing panics, and every frame is counted on the port it came in by.
func FuzzDataplane(f *testing.F) {
	data := udp4(protoUDP, 68, 67)
	f.Add(frame(ethTypeIPv4, data), false)
	f.Add(tagged(ethTypeIPv4, data, sTag, uint16(cTag(0, 1))), true)
	f.Add(frame(0x888e, []byte{1}), false)
	f.Add(frame(ethTypeIPv6, udp6(546, 547)), false)
	f.Add([]byte{1, 2, 3}, true)
	s, err := New(testConfig("fuzz", 1, 2))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	installSubscribers(f, s, nil, nil)
	if err := s.Enable(""); err != nil {
		f.Fatal(err)
	}
	for onu := uint32(1); onu <= 2; onu++ {
		if err := s.Connect(s.ONUSerial(0, onu), portno.UNI(0, onu, 0), func([]byte) {}); err != nil {
			f.Fatal(err)
		}
	}
	if err := s.Connect("", portno.NNI(0), func([]byte) {}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte, down bool) {
		serial, no := s.ONUSerial(0, 1), portno.UNI(0, 1, 0)
		if down {
			serial, no = "", portno.NNI(0)
		}
		before := rxOf(t, s, serial, no)
		if err := s.Inject(serial, no, b); err != nil {
			t.Fatal(err)
		}
		if got := rxOf(t, s, serial, no); got != before+1 {
			t.Fatalf("port counted %d frames for one", got-before)
		}
	})
}

func rxOf(t *testing.T, s *Sim, serial string, no uint32) uint64 {
	st, err := s.Stats(serial)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.GetPorts() {
		if p.GetPortNo() == no {
			return p.GetRxFrames()
		}
	}
	t.Fatalf("no port %d", no)
	return 0
}

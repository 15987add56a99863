package omcionu_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/frameio"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testkit/netns"
)

var (
	hostMAC = []byte{0x02, 0, 0, 0, 0, 1}
	netMAC  = []byte{0x02, 0, 0, 0, 0, 2}
	bcast   = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// frame is an Ethernet frame with tags (tpid, vid), outer first, padded
// to the minimum size.
func frame(src, dst []byte, typ uint16, payload []byte, tags ...[2]uint16) []byte {
	for len(payload) < 46 {
		payload = append(payload, 0)
	}
	b := append(append([]byte{}, dst...), src...)
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// udp4 is an IPv4 header and a UDP header from sport to dport.
func udp4(sport, dport uint16) []byte {
	ip := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	u := binary.BigEndian.AppendUint16(nil, sport)
	u = binary.BigEndian.AppendUint16(u, dport)
	u = append(u, 0, 8, 0, 0)
	return append(ip, u...)
}

// packetIns streams the logical device's packet-ins.
func (s *stack) packetIns(t *testing.T, ld string) <-chan *voltv1.PacketIn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	stream, err := s.nbi.ReceivePacketsIn(ctx, &voltv1.ReceivePacketsInRequest{LogicalDeviceId: ld})
	if err == nil {
		_, err = stream.Header() // the core has subscribed us
	}
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ins := make(chan *voltv1.PacketIn, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ins)
		for {
			in, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case ins <- in:
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return ins
}

// packetOut sends frame out of logical port port.
func (s *stack) packetOut(t *testing.T, ld string, port uint32, frame []byte) {
	t.Helper()
	out, err := s.nbi.StreamPacketsOut(s.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Send(&voltv1.PacketOut{LogicalDeviceId: ld, PacketOut: &openflowv1.PacketOut{
		BufferId: 0xffffffff, InPort: 0xfffffffd, Data: frame,
		Actions: []*openflowv1.Action{{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: port}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := out.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
}

// inPort is the logical in_port of a packet-in.
func inPort(in *voltv1.PacketIn) uint32 {
	for _, f := range in.GetPacketIn().GetMatch().GetFields() {
		if f.GetType() == openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT {
			return uint32(f.GetValue())
		}
	}
	return 0
}

// TestSubscriberOnVethOMCI is TestSubscriberOnVeth (internal/adapters/
// ponsimolt) through openolt and OMCI: the core, the openolt and omci_onu
// adapters in process over etcd and the broker, ponsim's openolt face with
// its NNI and UNI bound to veth pairs in a network namespace. The ONU is
// discovered, synchronised and configured over OMCI; the ATT-like
// subscriber's flows go in through the NBI (as `volt ld add-flow`). Then
// real frames: a DHCP discover from the host becomes a packet-in of the
// UNI, C-tagged by the ONU's VLAN rule, and is sent to the network by
// packet-out; the offer from the network, double-tagged, becomes a
// packet-in of the NNI and reaches the host untagged by packet-out; data
// leaves the NNI with S-tag and C-tag and comes back untagged.
func TestSubscriberOnVethOMCI(t *testing.T) {
	ns := netns.New(t, "vx")
	ns.Veth("nni-sim", "nni-net")
	ns.Veth("uni-sim", "uni-host")
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 1, 1, 0)
	bound, err := p.sim.Bind(ns.Open("nni-sim"), []frameio.Port{ns.Open("uni-sim")})
	if err != nil {
		t.Fatal(err)
	}
	defer bound.Close()
	network, host := ns.Open("nni-net"), ns.Open("uni-host")
	fromNNI, toHost := netns.Catch(network), netns.Catch(host)

	oltID := s.create(p.addr)
	s.waitONUs(oltID, 1, 1, omcionu.ReasonMibDownload)
	onu := s.children(oltID)[0]
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	ld := olt.GetLogicalDeviceId()
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meter(ld, m)
	}
	const sVID, cVID = 1000, 101
	nni, uni := portno.NNI(0), portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0)
	s.flowMod(ld, fmt.Sprintf("table=0,priority=10000,in_port=%d,vlan_vid=%d,udp,udp_src=67,udp_dst=68,actions=output:CONTROLLER", nni, sVID), false)
	for _, f := range bench.SubscriberFlows(nni, uni, sVID, cVID) {
		s.flowMod(ld, f, false)
	}
	s.waitReason(onu.GetId(), omcionu.ReasonTechProfile)
	ins := s.packetIns(t, ld)

	// DHCP discover from the host: the ONU C-tags it (its VLAN rule for
	// DHCPv4), the OLT traps it: a packet-in of the UNI.
	discover := frame(hostMAC, bcast, 0x0800, udp4(68, 67))
	var in *voltv1.PacketIn
	testkit.Eventually(t, "DHCP discover packet-in", func() error {
		if err := host.Send(discover); err != nil {
			return err
		}
		select {
		case in = <-ins:
			return nil
		case <-time.After(200 * time.Millisecond):
			return fmt.Errorf("no packet-in")
		}
	})
	tagged := frame(hostMAC, bcast, 0x0800, udp4(68, 67), [2]uint16{0x8100, cVID})
	if inPort(in) != uni || !bytes.Equal(in.GetPacketIn().GetData(), tagged) {
		t.Fatalf("discover packet-in on port %d: %x, want port %d: %x", inPort(in), in.GetPacketIn().GetData(), uni, tagged)
	}
	// The controller relays it to the network, S-tagged.
	relayed := frame(hostMAC, bcast, 0x0800, udp4(68, 67), [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})
	s.packetOut(t, ld, nni, relayed)
	if got := fromNNI.Wait(t, "discover on the network"); !bytes.Equal(got, relayed) {
		t.Errorf("network received %x, want %x", got, relayed)
	}
	// The offer from the network: a packet-in of the NNI, relayed to the
	// host untagged.
	offerIn := frame(netMAC, hostMAC, 0x0800, udp4(67, 68), [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})
	if err := network.Send(offerIn); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "DHCP offer packet-in", func() error {
		select {
		case in = <-ins:
			if inPort(in) != nni {
				return fmt.Errorf("packet-in from port %d", inPort(in))
			}
			return nil
		case <-time.After(200 * time.Millisecond):
			return fmt.Errorf("no packet-in")
		}
	})
	if !bytes.Equal(in.GetPacketIn().GetData(), offerIn) {
		t.Errorf("offer packet-in %x, want %x", in.GetPacketIn().GetData(), offerIn)
	}
	offer := frame(netMAC, hostMAC, 0x0800, udp4(67, 68))
	s.packetOut(t, ld, uni, offer)
	if got := toHost.Wait(t, "offer at the host"); !bytes.Equal(got, offer) {
		t.Errorf("host received %x, want %x", got, offer)
	}

	// Data both ways.
	data := udp4(1000, 2000)
	if err := host.Send(frame(hostMAC, netMAC, 0x0800, data)); err != nil {
		t.Fatal(err)
	}
	got := fromNNI.Wait(t, "upstream data on the network")
	if want := frame(hostMAC, netMAC, 0x0800, data, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID}); !bytes.Equal(got, want) {
		t.Errorf("network received %x, want %x", got, want)
	}
	if err := network.Send(frame(netMAC, hostMAC, 0x0800, data, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})); err != nil {
		t.Fatal(err)
	}
	if got, want := toHost.Wait(t, "downstream data at the host"), frame(netMAC, hostMAC, 0x0800, data); !bytes.Equal(got, want) {
		t.Errorf("host received %x, want %x", got, want)
	}
}

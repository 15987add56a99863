package ponsimolt_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/frameio"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testkit/netns"
)

// TestSubscriberOnVeth binds ponsim's NNI and a UNI to veth pairs, programs
// an ATT-like subscriber through the NBI, and sends real frames: untagged
// from the UNI side leaves the NNI with the S-tag and C-tag (read with a
// raw socket and auxdata); double-tagged into the NNI reaches the UNI
// untagged; EAPOL becomes a packet-in of the UNI; a packet-out to the UNI
// arrives on its wire.
func TestSubscriberOnVeth(t *testing.T) {
	ns := netns.New(t, "vt")
	ns.Veth("nni-sim", "nni-net")
	ns.Veth("uni-sim", "uni-host")
	s := newStack(t)
	sim, addr := s.heldSim("veth", 1, 1)
	bound, err := sim.Bind(ns.Open("nni-sim"), []frameio.Port{ns.Open("uni-sim")})
	if err != nil {
		t.Fatal(err)
	}
	defer bound.Close()
	network, host := ns.Open("nni-net"), ns.Open("uni-host")
	fromNNI, toHost := netns.Catch(network), netns.Catch(host)

	oltID := s.createOLT(addr)
	ld := s.waitActive(oltID, 1)
	const sVID, cVID = 1000, 101
	nni, uni := portno.NNI(0), portno.UNI(0, 1, 0)
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

	payload := make([]byte, 46) // a minimum-size frame: no padding to think of
	for i := range payload {
		payload[i] = byte(i)
	}
	if err := host.Send(ethFrame(0x0800, payload)); err != nil {
		t.Fatal(err)
	}
	got := fromNNI.Wait(t, "upstream frame on the NNI")
	if want := ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID}); !bytes.Equal(got, want) {
		t.Errorf("NNI side received %x, want %x", got, want)
	}
	if tags, _ := frameio.Tags(got); len(tags) != 2 || tags[0].TPID != 0x88a8 || tags[0].VID != sVID || tags[1].VID != cVID {
		t.Errorf("tags on the NNI: %v", tags)
	}

	if err := network.Send(ethFrame(0x0800, payload, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})); err != nil {
		t.Fatal(err)
	}
	if got, want := toHost.Wait(t, "downstream frame at the UNI"), ethFrame(0x0800, payload); !bytes.Equal(got, want) {
		t.Errorf("UNI side received %x, want %x", got, want)
	}

	// EAPOL from the subscriber: a packet-in naming the UNI.
	ins := s.packetIns(t, ld)
	eapol := ethFrame(0x888e, payload)
	var in *voltv1.PacketIn
	testkit.Eventually(t, "EAPOL packet-in", func() error {
		if err := host.Send(eapol); err != nil {
			return err
		}
		select {
		case in = <-ins:
			return nil
		case <-time.After(200 * time.Millisecond):
			return fmt.Errorf("no packet-in")
		}
	})
	checkPacketIn(t, in, ld, uni, ethFrame(0x888e, payload, [2]uint16{0x8100, 4091}))

	// A packet-out to the UNI arrives on its wire.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.nbi.StreamPacketsOut(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frame := ethFrame(0x88cc, payload)
	if err := out.Send(&voltv1.PacketOut{LogicalDeviceId: ld, PacketOut: &openflowv1.PacketOut{
		BufferId: 0xffffffff, InPort: 0xfffffffd, Data: frame,
		Actions: []*openflowv1.Action{{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: uni}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := out.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if got := toHost.Wait(t, "packet-out at the UNI"); !bytes.Equal(got, frame) {
		t.Errorf("UNI side received %x, want the packet-out %x", got, frame)
	}
}

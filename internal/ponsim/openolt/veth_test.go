package openolt_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	"github.com/openvolt/openvolt/internal/frameio"
	"github.com/openvolt/openvolt/internal/ponsim"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/internal/testkit/netns"
	"github.com/openvolt/openvolt/logging"
)

// TestSubscriberOnVethOpenOLT is TestSubscriberOnVeth
// (internal/adapters/ponsimolt) driven through openolt: ponsim's NNI and
// UNI bound to veth pairs, the subscriber configured over OMCI (lock, MIB
// download, unlock) and openolt (scheduler, queue, flows), then real
// frames: a DHCP exchange with packet-in and packet-out on both sides,
// upstream data leaving the NNI with S-tag and C-tag, downstream data
// reaching the UNI untagged.
func TestSubscriberOnVethOpenOLT(t *testing.T) {
	ns := netns.New(t, "vo")
	ns.Veth("nni-sim", "nni-net")
	ns.Veth("uni-sim", "uni-host")
	sim, err := ponsim.New(ponsim.Config{Name: "veth-openolt", PONPorts: 1, ONUsPerPON: 1})
	if err != nil {
		t.Fatal(err)
	}
	bound, err := sim.Bind(ns.Open("nni-sim"), []frameio.Port{ns.Open("uni-sim")})
	if err != nil {
		t.Fatal(err)
	}
	defer bound.Close()
	network, host := ns.Open("nni-net"), ns.Open("uni-host")
	fromNNI, toHost := netns.Catch(network), netns.Catch(host)
	if _, err := face.Attach(sim, face.Config{}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	addrc, errc := make(chan string, 1), make(chan error, 1)
	go func() { errc <- sim.Serve(sctx, "127.0.0.1:0", logging.Discard(), func(a string) { addrc <- a }) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatal(err)
	}
	c, err := oltclient.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)

	disc := expectStart(t, ctx, c, 1, 1)
	if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: disc[0][0]}); err != nil {
		t.Fatal(err)
	}
	const sVID, cVID = 1000, 101
	s := subscriber{onu: oltclient.ONU{PON: 0, ID: 1}, cTag: cVID, sTag: sVID, alloc: face.FirstAllocID, gem: face.FirstGemPortID, flowBase: 10}
	configureONU(t, ctx, c, s)
	provision(t, ctx, c, s)
	for _, f := range nniTraps(900) {
		if _, err := c.OLT.FlowAdd(ctx, f); err != nil {
			t.Fatal(err)
		}
	}

	// DHCP discover from the host: a packet-in from the ONU, sent to the
	// network by packet-out, C-tagged as the ONU tagged it.
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	discover := frame(hostMAC, bcast, 0x0800, udp4(68, 67))
	var pkt *openolt.PacketIndication
	testkit.Eventually(t, "dhcp discover packet-in", func() error {
		if err := host.Send(discover); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		ind, err := c.WaitFor(wctx, func(ind *openolt.Indication) bool { return ind.GetPktInd() != nil })
		if err != nil {
			return err
		}
		pkt = ind.GetPktInd()
		return nil
	})
	if pkt.GetIntfType() != "pon" || pkt.GetOnuId() != 1 || pkt.GetPortNo() != s.portNo() {
		t.Errorf("dhcp packet-in %v", pkt)
	}
	if _, err := c.OLT.UplinkPacketOut(ctx, &openolt.UplinkPacket{IntfId: 0, Pkt: pkt.GetPkt()}); err != nil {
		t.Fatal(err)
	}
	if got, want := fromNNI.Wait(t, "discover on the network"), frame(hostMAC, bcast, 0x0800, udp4(68, 67), [2]uint16{0x8100, cVID}); !bytes.Equal(got, want) {
		t.Errorf("network received %x, want %x", got, want)
	}
	// The offer from the network: a packet-in from the NNI, sent to the
	// host by packet-out.
	if err := network.Send(frame(netMAC, hostMAC, 0x0800, udp4(67, 68), [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})); err != nil {
		t.Fatal(err)
	}
	if pkt = nextPacket(t, ctx, c); pkt.GetIntfType() != "nni" {
		t.Errorf("offer packet-in %v", pkt)
	}
	offer := frame(netMAC, hostMAC, 0x0800, udp4(67, 68))
	if _, err := c.OLT.OnuPacketOut(ctx, &openolt.OnuPacket{IntfId: 0, OnuId: 1, PortNo: s.portNo(), GemportId: s.gem, Pkt: offer}); err != nil {
		t.Fatal(err)
	}
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
	if tags, _ := frameio.Tags(got); len(tags) != 2 || tags[0].TPID != 0x88a8 || tags[0].VID != sVID || tags[1].VID != cVID {
		t.Errorf("tags on the network side: %v", tags)
	}
	if err := network.Send(frame(netMAC, hostMAC, 0x0800, data, [2]uint16{0x88a8, sVID}, [2]uint16{0x8100, cVID})); err != nil {
		t.Fatal(err)
	}
	if got, want := toHost.Wait(t, "downstream data at the host"), frame(netMAC, hostMAC, 0x0800, data); !bytes.Equal(got, want) {
		t.Errorf("host received %x, want %x", got, want)
	}
}

package openolt_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"

	"github.com/openvolt/openvolt/adapter/portno"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
)

// activateAll activates every discovered ONU, giving ONU ids in the
// reverse order of discovery (the adapter picks the ids, not the OLT),
// and waits for their ONU indications. It returns the ONUs by serial.
func activateAll(t testing.TB, ctx context.Context, c *oltclient.Client, disc map[uint32][]*openolt.SerialNumber) map[string]oltclient.ONU {
	t.Helper()
	out := map[string]oltclient.ONU{}
	want := map[string]bool{}
	for pon, sns := range disc {
		for i, sn := range sns {
			id := uint32(len(sns) - i)
			if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: pon, OnuId: id, SerialNumber: sn}); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s%X", sn.GetVendorId(), sn.GetVendorSpecific())] = oltclient.ONU{PON: pon, ID: id}
			want[fmt.Sprintf("onu %d/%d up", pon, id)] = true
		}
	}
	for len(want) > 0 {
		ind, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !want[kind(ind)] {
			t.Fatalf("indication %q, want one of %v", kind(ind), want)
		}
		delete(want, kind(ind))
	}
	return out
}

// TestSequence drives ponsim through openolt as an adapter pair drives an
// OLT: indications, activation of 2 PONs × 8 ONUs, MIB reset and upload on
// every ONU, lock / MIB download / unlock, schedulers and queues, traps
// with packet-in and packet-out, upstream and downstream data, reconnect
// and OLT reboot.
func TestSequence(t *testing.T) {
	const pons, onus = 2, 8
	b := newBed(t, pons, onus, face.Config{})
	ctx := testCtx(t)
	c := b.c

	info, err := c.OLT.GetDeviceInfo(ctx, &openolt.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetPonPorts() != pons || info.GetVendor() == "" || len(info.GetRanges()) != 1 || len(info.GetRanges()[0].GetPools()) != 4 {
		t.Fatalf("device info %v", info)
	}
	sig1, err := c.OLT.HeartbeatCheck(ctx, &openolt.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	disc := expectStart(t, ctx, c, pons, onus)
	byserial := activateAll(t, ctx, c, disc)
	if len(byserial) != pons*onus {
		t.Fatalf("%d onus activated", len(byserial))
	}
	// The PonSim face sees the same activation.
	for serial := range byserial {
		v, err := b.sim.ONU(serial)
		if err != nil || !v.Activated {
			t.Fatalf("onu %s in the simulator: %+v %v", serial, v, err)
		}
	}

	// MIB reset and a full MIB upload on every ONU, all at once.
	var wg sync.WaitGroup
	counts := make(chan int, len(byserial))
	for _, onu := range byserial {
		wg.Go(func() {
			if err := c.MIBReset(ctx, onu); err != nil {
				t.Error(err)
				return
			}
			mes, n, err := c.MIBUpload(ctx, onu)
			if err != nil {
				t.Error(err)
				return
			}
			if n != len(mes)+1 {
				t.Errorf("onu %v: %d messages for %d entities", onu, n, len(mes))
			}
			counts <- n
		})
	}
	wg.Wait()
	close(counts)
	total, first := 0, -1
	for n := range counts {
		if first < 0 {
			first = n
		}
		if n != first || n < 50 {
			t.Errorf("mib upload of %d messages (another ONU: %d)", n, first)
		}
		total += n
	}
	t.Logf("mib upload: %d ONUs, %d messages each, %d in all", len(byserial), first, total)

	// One subscriber, configured over OMCI and openolt.
	onu := byserial[b.sim.ONUSerial(1, 3)]
	s := subscriber{onu: onu, cTag: 101, sTag: 1000, alloc: face.FirstAllocID + 5, gem: face.FirstGemPortID + 9, flowBase: 100}
	notes := configureONU(t, ctx, c, s)
	if len(notes) == 0 {
		t.Errorf("unlock raised no alarm notification")
	}
	provision(t, ctx, c, s)
	for _, f := range nniTraps(900) {
		if _, err := c.OLT.FlowAdd(ctx, f); err != nil {
			t.Fatal(err)
		}
	}

	// Frames through the simulator's ports.
	nni, uni := &wire{}, &wire{}
	serial := b.sim.ONUSerial(1, 3)
	v, _ := b.sim.ONU(serial)
	if err := b.sim.Connect("", portno.NNI(0), nni.fn); err != nil {
		t.Fatal(err)
	}
	if err := b.sim.Connect(serial, v.UNI, uni.fn); err != nil {
		t.Fatal(err)
	}
	data := udp4(1000, 2000)
	if err := b.sim.Inject(serial, v.UNI, frame(hostMAC, netMAC, 0x0800, data)); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "upstream at the nni", nni.take(), frame(hostMAC, netMAC, 0x0800, data, [2]uint16{0x88a8, s.sTag}, [2]uint16{0x8100, s.cTag}))
	if err := b.sim.Inject("", portno.NNI(0), frame(netMAC, hostMAC, 0x0800, data, [2]uint16{0x88a8, s.sTag}, [2]uint16{0x8100, s.cTag})); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "downstream at the uni", uni.take(), frame(netMAC, hostMAC, 0x0800, data))

	// EAPOL: packet-in from the ONU, packet-out back to it.
	eapol := frame(hostMAC, []byte{1, 0x80, 0xc2, 0, 0, 3}, 0x888e, []byte{1, 1, 0, 0})
	if err := b.sim.Inject(serial, v.UNI, eapol); err != nil {
		t.Fatal(err)
	}
	pkt := nextPacket(t, ctx, c)
	if pkt.GetIntfType() != "pon" || pkt.GetIntfId() != 1 || pkt.GetOnuId() != onu.ID || pkt.GetPortNo() != s.portNo() || pkt.GetGemportId() != s.gem {
		t.Errorf("eapol packet-in %v", pkt)
	}
	if _, err := c.OLT.OnuPacketOut(ctx, &openolt.OnuPacket{IntfId: 1, OnuId: onu.ID, PortNo: s.portNo(), GemportId: s.gem, Pkt: eapol}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "eapol packet-out at the uni", uni.take(), eapol)

	// DHCP: discover trapped, sent up the NNI; the offer from the NNI
	// trapped, sent down to the ONU.
	discover := frame(hostMAC, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x0800, udp4(68, 67))
	if err := b.sim.Inject(serial, v.UNI, discover); err != nil {
		t.Fatal(err)
	}
	pkt = nextPacket(t, ctx, c)
	if pkt.GetIntfType() != "pon" || pkt.GetOnuId() != onu.ID {
		t.Errorf("dhcp packet-in %v", pkt)
	}
	if _, err := c.OLT.UplinkPacketOut(ctx, &openolt.UplinkPacket{IntfId: 0, Pkt: pkt.GetPkt()}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "dhcp discover at the nni", nni.take(), frame(hostMAC, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x0800, udp4(68, 67), [2]uint16{0x8100, s.cTag}))
	offer := frame(netMAC, hostMAC, 0x0800, udp4(67, 68), [2]uint16{0x88a8, s.sTag}, [2]uint16{0x8100, s.cTag})
	if err := b.sim.Inject("", portno.NNI(0), offer); err != nil {
		t.Fatal(err)
	}
	pkt = nextPacket(t, ctx, c)
	if pkt.GetIntfType() != "nni" {
		t.Errorf("dhcp offer packet-in %v", pkt)
	}
	plain := frame(netMAC, hostMAC, 0x0800, udp4(67, 68))
	if _, err := c.OLT.OnuPacketOut(ctx, &openolt.OnuPacket{IntfId: 1, OnuId: onu.ID, PortNo: s.portNo(), Pkt: plain}); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "dhcp offer at the uni", uni.take(), plain)
	// LLDP from the network.
	if err := b.sim.Inject("", portno.NNI(0), frame(netMAC, []byte{1, 0x80, 0xc2, 0, 0, 0xe}, 0x88cc, []byte{2, 7, 4})); err != nil {
		t.Fatal(err)
	}
	if pkt = nextPacket(t, ctx, c); pkt.GetIntfType() != "nni" {
		t.Errorf("lldp packet-in %v", pkt)
	}

	// Locking the UNI over OMCI takes it down: nothing flows.
	if err := c.Set(ctx, onu, me.PhysicalPathTerminationPointEthernetUniClassID, 0x0101, me.AttributeValueMap{"AdministrativeState": uint8(1)}); err != nil {
		t.Fatal(err)
	}
	if err := b.sim.Inject(serial, v.UNI, frame(hostMAC, netMAC, 0x0800, data)); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "upstream with the uni locked", nni.take())

	// A reconnect gets only the OLT and NNI indications: the next one
	// after them is the ONU indication DeactivateOnu causes.
	connect(t, ctx, c)
	for _, w := range []string{"nni 0 up"} {
		ind, err := c.Next(ctx)
		if err != nil || kind(ind) != w {
			t.Fatalf("after reconnect: %v %v, want %q", kind(ind), err, w)
		}
	}
	if _, err := c.OLT.DeactivateOnu(ctx, &openolt.Onu{IntfId: 1, OnuId: onu.ID}); err != nil {
		t.Fatal(err)
	}
	if ind, err := c.Next(ctx); err != nil || kind(ind) != fmt.Sprintf("onu 1/%d down", onu.ID) {
		t.Fatalf("after deactivate: %v %v", ind, err)
	}
	oi, err := c.OLT.GetOnuInfo(ctx, &openolt.Onu{IntfId: 0, OnuId: 1})
	if err != nil || oi.GetState() != openolt.OnuInfo_ACTIVE {
		t.Errorf("onu info %v %v", oi, err)
	}

	// Reboot: the stream ends, the signature changes, and the ONUs are
	// discovered again.
	if _, err := c.OLT.Reboot(ctx, &openolt.Empty{}); err != nil {
		t.Fatal(err)
	}
	if ind, err := c.WaitFor(ctx, func(*openolt.Indication) bool { return false }); err == nil {
		t.Fatalf("stream after reboot: %v", ind)
	}
	sig2, err := c.OLT.HeartbeatCheck(ctx, &openolt.Empty{})
	if err != nil || sig2.GetHeartbeatSignature() == sig1.GetHeartbeatSignature() {
		t.Fatalf("heartbeat after reboot %v %v, before %v", sig2, err, sig1)
	}
	disc = expectStart(t, ctx, c, pons, onus)
	if n := len(disc[0]) + len(disc[1]); n != pons*onus {
		t.Errorf("%d onus discovered after reboot", n)
	}
	_, err = c.OLT.GetOnuInfo(ctx, &openolt.Onu{IntfId: 0, OnuId: 1})
	wantCode(t, "onu info after reboot", err, codes.NotFound)
	if n, _ := b.sim.FlowCount(""); n != 0 {
		t.Errorf("%d flows in the OLT table after reboot", n)
	}
}

// nextPacket waits for the next packet indication.
func nextPacket(t testing.TB, ctx context.Context, c *oltclient.Client) *openolt.PacketIndication {
	t.Helper()
	ind, err := c.WaitFor(ctx, func(ind *openolt.Indication) bool { return ind.GetPktInd() != nil })
	if err != nil {
		t.Fatal(err)
	}
	return ind.GetPktInd()
}

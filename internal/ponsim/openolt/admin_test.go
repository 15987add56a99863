package openolt_test

import (
	"fmt"
	"testing"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"

	"github.com/openvolt/openvolt/adapter/portno"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
)

// TestAdminAndDelete: DisableOlt / ReenableOlt take the OLT's interfaces
// down and up (and the dataplane with them); DeleteOnu forgets an ONU, its
// flows and GEM ports, and announces it again.
func TestAdminAndDelete(t *testing.T) {
	b := newBed(t, 1, 2, face.Config{})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 1, 2)
	for i, sn := range disc[0] {
		if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: uint32(i + 1), SerialNumber: sn}); err != nil {
			t.Fatal(err)
		}
		if ind, err := c.Next(ctx); err != nil || kind(ind) != fmt.Sprintf("onu 0/%d up", i+1) {
			t.Fatalf("activation: %v %v", ind, err)
		}
	}
	// One model: a change over the PonSim API shows on the openolt stream.
	if err := b.sim.Disable(serialOf(disc[0][1])); err != nil {
		t.Fatal(err)
	}
	if err := b.sim.Enable(serialOf(disc[0][1])); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"onu 0/2 down", "onu 0/2 up"} {
		if ind, err := c.Next(ctx); err != nil || kind(ind) != w {
			t.Fatalf("after a PonSim disable and enable: %v %v, want %q", kind(ind), err, w)
		}
	}
	s := subscriber{onu: oltclient.ONU{PON: 0, ID: 1}, cTag: 101, sTag: 1000, alloc: 1024, gem: 1024, flowBase: 10}
	configureONU(t, ctx, c, s)
	provision(t, ctx, c, s)
	serial := serialOf(disc[0][0])
	v, err := b.sim.ONU(serial)
	if err != nil {
		t.Fatal(err)
	}
	nni := &wire{}
	if err := b.sim.Connect("", portno.NNI(0), nni.fn); err != nil {
		t.Fatal(err)
	}
	data := frame(hostMAC, netMAC, 0x0800, udp4(1000, 2000))
	send := func() int {
		if err := b.sim.Inject(serial, v.UNI, data); err != nil {
			t.Fatal(err)
		}
		return len(nni.take())
	}
	if n := send(); n != 1 {
		t.Fatalf("%d frames upstream before disabling", n)
	}

	if _, err := c.OLT.DisableOlt(ctx, &openolt.Empty{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"olt down", "nni 0 down", "pon 0 down"} {
		if ind, err := c.Next(ctx); err != nil || kind(ind) != w {
			t.Fatalf("after disable: %v %v, want %q", kind(ind), err, w)
		}
	}
	if n := send(); n != 0 {
		t.Errorf("%d frames upstream through a disabled OLT", n)
	}
	_, err = c.OLT.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: 0, OnuId: 1, Pkt: []byte("00014f0a00020000")})
	wantCode(t, "omci through a disabled OLT", err, codes.FailedPrecondition)
	pi, err := c.OLT.GetPonInterfaceInfo(ctx, &openolt.Interface{IntfId: 0})
	if err != nil || pi.GetState() == openolt.PonIntfInfo_ACTIVE_WORKING {
		t.Errorf("pon of a disabled OLT: %v %v", pi, err)
	}
	if _, err := c.OLT.ReenableOlt(ctx, &openolt.Empty{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"olt up", "nni 0 up", "intf 0 up", "pon 0 up", "onu 0/1 up", "onu 0/2 up"} {
		if ind, err := c.Next(ctx); err != nil || kind(ind) != w {
			t.Fatalf("after reenable: %v %v, want %q", kind(ind), err, w)
		}
	}
	if n := send(); n != 1 {
		t.Errorf("%d frames upstream after reenabling", n)
	}

	// DeleteOnu: gone, flows and GEM ports with it, announced again.
	if _, err := c.OLT.DeleteOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: disc[0][0]}); err != nil {
		t.Fatal(err)
	}
	ind, err := c.Next(ctx)
	if err != nil || ind.GetOnuDiscInd() == nil || serialOf(ind.GetOnuDiscInd().GetSerialNumber()) != serial {
		t.Fatalf("after delete: %v %v", ind, err)
	}
	_, err = c.OLT.GetOnuInfo(ctx, &openolt.Onu{IntfId: 0, OnuId: 1})
	wantCode(t, "onu info after delete", err, codes.NotFound)
	if n, _ := b.sim.FlowCount(""); n != 0 {
		t.Errorf("%d OLT flows after the ONU was deleted", n)
	}
	if n, _ := b.sim.FlowCount(serial); n != 0 {
		t.Errorf("%d flows in the deleted ONU's table", n)
	}
	// Its GEM port is free for ONU 2 now.
	s2 := subscriber{onu: oltclient.ONU{PON: 0, ID: 2}, cTag: 102, sTag: 1000, alloc: 1024, gem: 1024, flowBase: 20}
	provision(t, ctx, c, s2)
}

func serialOf(sn *openolt.SerialNumber) string {
	return fmt.Sprintf("%s%X", sn.GetVendorId(), sn.GetVendorSpecific())
}

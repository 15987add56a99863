package openolt_test

import (
	"strings"
	"testing"

	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/voltha-protos/v5/go/openolt"
	"github.com/opencord/voltha-protos/v5/go/tech_profile"
	"google.golang.org/grpc/codes"

	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
)

// TestOMCIEffects: a GEM port another ONU of the PON holds is refused over
// OMCI too (a parameter error, as BBSim refuses it), and an OMCI reboot
// makes the ONU drop off the PON and come back.
func TestOMCIEffects(t *testing.T) {
	b := newBed(t, 1, 2, face.Config{})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 1, 2)
	for i, sn := range disc[0] {
		if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: uint32(i + 1), SerialNumber: sn}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s1 := subscriber{onu: oltclient.ONU{PON: 0, ID: 1}, cTag: 101, sTag: 1000, alloc: 1024, gem: 1030, flowBase: 10}
	configureONU(t, ctx, c, s1) // GEM port 1030 by OMCI
	gem := func(port uint16) error {
		return c.Create(ctx, oltclient.ONU{PON: 0, ID: 2}, me.GemPortNetworkCtpClassID, port, me.AttributeValueMap{
			"PortId": port, "TContPointer": uint16(0x8001), "Direction": uint8(3),
			"TrafficManagementPointerForUpstream": uint16(0), "TrafficDescriptorProfilePointerForUpstream": uint16(0),
			"PriorityQueuePointerForDownStream": uint16(0), "TrafficDescriptorProfilePointerForDownstream": uint16(0),
			"EncryptionKeyRing": uint8(0)})
	}
	if err := gem(1030); err == nil || !strings.Contains(err.Error(), "create") {
		t.Errorf("GEM port of another ONU created over OMCI: %v", err)
	}
	if err := gem(1031); err != nil {
		t.Errorf("free GEM port: %v", err)
	}
	// And over openolt: ONU 2 holds 1031 now.
	_, err := c.OLT.CreateTrafficQueues(ctx, &tech_profile.TrafficQueues{IntfId: 0, OnuId: 1,
		TrafficQueues: []*tech_profile.TrafficQueue{{GemportId: 1031}}})
	wantCode(t, "queue on a GEM port ONU 2 created over OMCI", err, codes.AlreadyExists)

	p, err := c.Request(ctx, oltclient.ONU{PON: 0, ID: 2}, omci.RebootRequestType, &omci.RebootRequest{
		MeBasePacket: omci.MeBasePacket{EntityClass: me.OnuGClassID}})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := p.Layer(omci.LayerTypeRebootResponse).(*omci.RebootResponse); !ok || r.Result != me.Success {
		t.Fatalf("reboot answer %v", p)
	}
	for _, w := range []string{"onu 0/2 down", "onu 0/2 up"} {
		if ind, err := c.Next(ctx); err != nil || kind(ind) != w {
			t.Fatalf("after omci reboot: %v %v, want %q", kind(ind), err, w)
		}
	}
}

package openolt_test

import (
	"testing"

	me "github.com/opencord/omci-lib-go/v2/generated"
	"github.com/opencord/voltha-protos/v5/go/openolt"

	"github.com/openvolt/openvolt/adapter/portno"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
)

// TestMulticast: a multicast flow sends the OLT's copy down the PON
// without a subscriber's GEM port; the ONU with a multicast GEM port
// (GEM port network CTP + multicast GEM interworking TP over OMCI) passes
// it to its UNI, the other ONU does not.
func TestMulticast(t *testing.T) {
	b := newBed(t, 1, 2, face.Config{})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 1, 2)
	unis := map[uint32]*wire{}
	for i, sn := range disc[0] {
		id := uint32(i + 1)
		if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: id, SerialNumber: sn}); err != nil {
			t.Fatal(err)
		}
		s := subscriber{onu: oltclient.ONU{PON: 0, ID: id}, cTag: uint16(100 + id), sTag: 1000, alloc: 1023 + id, gem: 1023 + id, flowBase: 10 * uint64(id)}
		configureONU(t, ctx, c, s)
		v, err := b.sim.ONU(serialOf(sn))
		if err != nil {
			t.Fatal(err)
		}
		unis[id] = &wire{}
		if err := b.sim.Connect(v.Serial, v.UNI, unis[id].fn); err != nil {
			t.Fatal(err)
		}
	}
	onu1 := oltclient.ONU{PON: 0, ID: 1}
	if err := c.Create(ctx, onu1, me.GemPortNetworkCtpClassID, 4000, me.AttributeValueMap{
		"PortId": uint16(4000), "TContPointer": uint16(0), "Direction": uint8(2),
		"TrafficManagementPointerForUpstream": uint16(0), "TrafficDescriptorProfilePointerForUpstream": uint16(0),
		"PriorityQueuePointerForDownStream": uint16(0), "TrafficDescriptorProfilePointerForDownstream": uint16(0),
		"EncryptionKeyRing": uint8(0)}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, onu1, me.MulticastGemInterworkingTerminationPointClassID, 4000, me.AttributeValueMap{
		"GemPortNetworkCtpConnectivityPointer": uint16(4000), "InterworkingOption": uint8(0), "ServiceProfilePointer": uint16(0),
		"NotUsed1": uint16(0), "GalProfilePointer": uint16(0), "NotUsed2": uint8(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OLT.FlowAdd(ctx, &openolt.Flow{FlowId: 500, FlowType: "multicast", AccessIntfId: 0, OnuId: -1, UniId: -1, GemportId: 4000,
		Classifier: &openolt.Classifier{OVid: 4000, PktTagType: "single_tag"},
		Action:     &openolt.Action{Cmd: &openolt.ActionCmd{RemoveOuterTag: true}}}); err != nil {
		t.Fatal(err)
	}
	data := udp4(5000, 5000)
	if err := b.sim.Inject("", portno.NNI(0), frame(netMAC, []byte{1, 0, 0x5e, 1, 1, 1}, 0x0800, data, [2]uint16{0x8100, 4000})); err != nil {
		t.Fatal(err)
	}
	wantFrames(t, "multicast at the UNI of the ONU with a multicast GEM port", unis[1].take(), frame(netMAC, []byte{1, 0, 0x5e, 1, 1, 1}, 0x0800, data))
	wantFrames(t, "multicast at the other UNI", unis[2].take())
}

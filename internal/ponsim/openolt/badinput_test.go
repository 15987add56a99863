package openolt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"github.com/opencord/voltha-protos/v5/go/tech_profile"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/ponsim/openolt/oltclient"
	"github.com/openvolt/openvolt/internal/testkit"
)

func cloneFlow(f *openolt.Flow) *openolt.Flow {
	return protoadapt.MessageV1Of(proto.Clone(protoadapt.MessageV2Of(f))).(*openolt.Flow)
}

// TestBadInput: refusals name the field, carry the right code, and change
// nothing (the OLT table keeps its flows).
func TestBadInput(t *testing.T) {
	b := newBed(t, 2, 4, face.Config{})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 2, 4)
	// Activate ONU ids 1 and 2 on PON 0 only.
	for i, sn := range disc[0][:2] {
		if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: uint32(i + 1), SerialNumber: sn}); err != nil {
			t.Fatal(err)
		}
	}
	s1 := subscriber{onu: oltclient.ONU{PON: 0, ID: 1}, cTag: 101, sTag: 1000, alloc: 1024, gem: 1024, flowBase: 10}
	s2 := subscriber{onu: oltclient.ONU{PON: 0, ID: 2}, cTag: 102, sTag: 1000, alloc: 1025, gem: 1025, flowBase: 20}
	provision(t, ctx, c, s1)
	flows, _ := b.sim.FlowCount("")

	good := subscriberFlows(s2)[2] // upstream data of s2
	mod := func(f func(*openolt.Flow)) *openolt.Flow {
		g := cloneFlow(good)
		f(g)
		return g
	}
	for _, tc := range []struct {
		name string
		flow *openolt.Flow
		code codes.Code
		want string
	}{
		{"no flow id", mod(func(f *openolt.Flow) { f.FlowId = 0 }), codes.InvalidArgument, "flow_id"},
		{"flow id reused", mod(func(f *openolt.Flow) { f.FlowId = s1.flowBase + 3 }), codes.AlreadyExists, "flow_id"},
		{"bad flow type", mod(func(f *openolt.Flow) { f.FlowType = "sideways" }), codes.InvalidArgument, "flow_type"},
		{"no classifier", mod(func(f *openolt.Flow) { f.Classifier = nil }), codes.InvalidArgument, "classifier"},
		{"no action", mod(func(f *openolt.Flow) { f.Action = nil }), codes.InvalidArgument, "action"},
		{"unknown pon", mod(func(f *openolt.Flow) { f.AccessIntfId = 7 }), codes.NotFound, "access_intf_id"},
		{"no onu id", mod(func(f *openolt.Flow) { f.OnuId = 0 }), codes.InvalidArgument, "onu_id"},
		{"onu not activated", mod(func(f *openolt.Flow) { f.OnuId, f.PortNo = 3, 0x30 }), codes.FailedPrecondition, "not activated"},
		{"unknown uni", mod(func(f *openolt.Flow) { f.UniId = 2 }), codes.NotFound, "uni_id"},
		{"no port", mod(func(f *openolt.Flow) { f.PortNo = 0 }), codes.InvalidArgument, "port_no"},
		{"port of another onu", mod(func(f *openolt.Flow) { f.PortNo = s1.portNo() }), codes.InvalidArgument, "port_no"},
		{"no gem port", mod(func(f *openolt.Flow) { f.GemportId = 0 }), codes.InvalidArgument, "gemport_id"},
		{"gem port out of range", mod(func(f *openolt.Flow) { f.GemportId = 7 }), codes.InvalidArgument, "gemport_id"},
		{"gem port of another onu", mod(func(f *openolt.Flow) { f.GemportId = int32(s1.gem) }), codes.AlreadyExists, "gem-1024-already-in-use"},
		{"no alloc id", mod(func(f *openolt.Flow) { f.AllocId = 0 }), codes.InvalidArgument, "alloc_id"},
		{"alloc id of another onu", mod(func(f *openolt.Flow) { f.AllocId = int32(s1.alloc) }), codes.AlreadyExists, "alloc_id"},
		{"replicate without map", mod(func(f *openolt.Flow) { f.ReplicateFlow = true }), codes.InvalidArgument, "pbit_to_gemport"},
		{"bad tag type", mod(func(f *openolt.Flow) { f.Classifier.PktTagType = "triple_tag" }), codes.InvalidArgument, "pkt_tag_type"},
		{"ports without protocol", mod(func(f *openolt.Flow) { f.Classifier.DstPort = 67 }), codes.InvalidArgument, "ip_proto"},
		{"bad mac", mod(func(f *openolt.Flow) { f.Classifier.DstMac = []byte{1, 2} }), codes.InvalidArgument, "dst_mac"},
		{"push without vid", mod(func(f *openolt.Flow) { f.Action.OVid = 0 }), codes.InvalidArgument, "o_vid"},
		{"second nni", mod(func(f *openolt.Flow) { f.NetworkIntfId = 1 }), codes.NotFound, "network_intf_id"},
	} {
		_, err := c.OLT.FlowAdd(ctx, tc.flow)
		if status.Code(err) != tc.code || !strings.Contains(status.Convert(err).Message(), tc.want) {
			t.Errorf("%s: %v, want %v naming %q", tc.name, err, tc.code, tc.want)
		}
	}
	if n, _ := b.sim.FlowCount(""); n != flows {
		t.Errorf("%d flows in the OLT table after the refusals, want %d", n, flows)
	}
	// The same flow again is fine; the good one is taken.
	if _, err := c.OLT.FlowAdd(ctx, subscriberFlows(s1)[0]); err != nil {
		t.Errorf("same flow again: %v", err)
	}
	if _, err := c.OLT.FlowAdd(ctx, good); err != nil {
		t.Errorf("good flow: %v", err)
	}
	// A flow per p-bit: one OLT flow each.
	before, _ := b.sim.FlowCount("")
	rep := mod(func(f *openolt.Flow) {
		f.FlowId, f.GemportId, f.ReplicateFlow = 99, 0, true
		f.PbitToGemport = map[uint32]uint32{0: s2.gem, 5: s2.gem + 1}
	})
	if _, err := c.OLT.FlowAdd(ctx, rep); err != nil {
		t.Errorf("replicated flow: %v", err)
	}
	if n, _ := b.sim.FlowCount(""); n != before+2 {
		t.Errorf("%d OLT flows after a flow for 2 p-bits, want %d", n, before+2)
	}
	if _, err := c.OLT.FlowRemove(ctx, &openolt.Flow{FlowId: 99, FlowType: "upstream"}); err != nil {
		t.Error(err)
	}
	if n, _ := b.sim.FlowCount(""); n != before {
		t.Errorf("%d OLT flows after removing it, want %d", n, before)
	}

	// Other calls.
	for _, tc := range []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"activate on unknown pon", func() error {
			_, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 9, OnuId: 3, SerialNumber: disc[0][2]})
			return err
		}, codes.NotFound},
		{"activate unknown serial", func() error {
			_, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 3, SerialNumber: &openolt.SerialNumber{VendorId: []byte("NONE"), VendorSpecific: []byte{1, 2, 3, 4}}})
			return err
		}, codes.NotFound},
		{"activate without serial", func() error {
			_, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 3})
			return err
		}, codes.InvalidArgument},
		{"activate with an id in use", func() error {
			_, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: disc[0][2]})
			return err
		}, codes.AlreadyExists},
		{"activate with id 0", func() error {
			_, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 0, SerialNumber: disc[0][2]})
			return err
		}, codes.InvalidArgument},
		{"onu info of unknown onu", func() error {
			_, err := c.OLT.GetOnuInfo(ctx, &openolt.Onu{IntfId: 0, OnuId: 4})
			return err
		}, codes.NotFound},
		{"pon info of unknown pon", func() error {
			_, err := c.OLT.GetPonInterfaceInfo(ctx, &openolt.Interface{IntfId: 2})
			return err
		}, codes.NotFound},
		{"omci to unknown onu", func() error {
			_, err := c.OLT.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: 0, OnuId: 4, Pkt: []byte("00")})
			return err
		}, codes.NotFound},
		{"omci bad hex", func() error {
			_, err := c.OLT.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: 0, OnuId: 1, Pkt: []byte("zz")})
			return err
		}, codes.InvalidArgument},
		{"packet-out to unknown onu", func() error {
			_, err := c.OLT.OnuPacketOut(ctx, &openolt.OnuPacket{IntfId: 1, OnuId: 1, Pkt: make([]byte, 60)})
			return err
		}, codes.NotFound},
		{"packet-out to another onu's port", func() error {
			_, err := c.OLT.OnuPacketOut(ctx, &openolt.OnuPacket{IntfId: 0, OnuId: 1, PortNo: s2.portNo(), Pkt: make([]byte, 60)})
			return err
		}, codes.InvalidArgument},
		{"packet-out too short", func() error {
			_, err := c.OLT.UplinkPacketOut(ctx, &openolt.UplinkPacket{IntfId: 0, Pkt: []byte{1}})
			return err
		}, codes.InvalidArgument},
		{"uplink packet-out to a second nni", func() error {
			_, err := c.OLT.UplinkPacketOut(ctx, &openolt.UplinkPacket{IntfId: 1, Pkt: make([]byte, 60)})
			return err
		}, codes.NotFound},
		{"scheduler with alloc id of another onu", func() error {
			_, err := c.OLT.CreateTrafficSchedulers(ctx, &tech_profile.TrafficSchedulers{IntfId: 0, OnuId: 2,
				TrafficScheds: []*tech_profile.TrafficScheduler{{AllocId: s1.alloc}}})
			return err
		}, codes.AlreadyExists},
		{"queue with gem port of another onu", func() error {
			_, err := c.OLT.CreateTrafficQueues(ctx, &tech_profile.TrafficQueues{IntfId: 0, OnuId: 2,
				TrafficQueues: []*tech_profile.TrafficQueue{{GemportId: s1.gem}}})
			return err
		}, codes.AlreadyExists},
		{"scheduler for unknown onu", func() error {
			_, err := c.OLT.CreateTrafficSchedulers(ctx, &tech_profile.TrafficSchedulers{IntfId: 0, OnuId: 4,
				TrafficScheds: []*tech_profile.TrafficScheduler{{AllocId: 1030}}})
			return err
		}, codes.NotFound},
		{"unimplemented", func() error {
			_, err := c.OLT.PerformGroupOperation(ctx, &openolt.Group{})
			return err
		}, codes.Unimplemented},
	} {
		wantCode(t, tc.name, tc.call(), tc.code)
	}
	if got := b.face.OMCICounters().Malformed; got != 1 {
		t.Errorf("malformed omci counted %d, want 1", got)
	}
}

// TestMalformedOMCI: frames the ONU cannot decode are counted, answered
// as G.988 says where it can be, and never end the stream.
func TestMalformedOMCI(t *testing.T) {
	b := newBed(t, 1, 1, face.Config{})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 1, 1)
	if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: disc[0][0]}); err != nil {
		t.Fatal(err)
	}
	// TCI 0x7ff0: not one the client uses below, so a late error answer
	// cannot pass for the answer to its MIB reset.
	for _, pkt := range []string{"", "00", "7ff0", strings.Repeat("ff", 44), strings.Repeat("00", 100), "7ff0490a00020000"} {
		if _, err := c.OLT.OmciMsgOut(ctx, &openolt.OmciMsg{IntfId: 0, OnuId: 1, Pkt: []byte(pkt)}); err != nil {
			t.Errorf("omci %q: %v", pkt, err)
		}
	}
	if b.face.OMCICounters().Malformed == 0 {
		t.Error("no malformed omci counted")
	}
	// The ONU still answers.
	if err := c.MIBReset(ctx, oltclient.ONU{PON: 0, ID: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestOMCIDrop: Config.OMCIDropRate drops that share of the responses.
func TestOMCIDrop(t *testing.T) {
	b := newBed(t, 1, 1, face.Config{OMCIDropRate: 0.5})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 1, 1)
	if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: disc[0][0]}); err != nil {
		t.Fatal(err)
	}
	answered := 0
	for range 10 {
		// Each request sent alone, so the drops fall on known ones: every
		// second response.
		before := b.face.OMCICounters()
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.MIBReset(rctx, oltclient.ONU{PON: 0, ID: 1}) }()
		testkit.Eventually(t, "response sent or dropped", func() error {
			now := b.face.OMCICounters()
			if now.Sent+now.Dropped == before.Sent+before.Dropped {
				return context.DeadlineExceeded
			}
			return nil
		})
		if now := b.face.OMCICounters(); now.Sent > before.Sent {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			answered++
		} else {
			cancel()
			<-done
		}
		cancel()
	}
	if got := b.face.OMCICounters(); answered != 5 || got.Dropped != 5 {
		t.Errorf("%d of 10 answered, %d dropped; want 5 and 5", answered, got.Dropped)
	}
}

// TestRediscovery: ONUs not activated are announced again periodically.
func TestRediscovery(t *testing.T) {
	b := newBed(t, 1, 2, face.Config{DiscoveryInterval: 10 * 1e6, StatsInterval: 10 * 1e6})
	ctx := testCtx(t)
	c := b.c
	disc := expectStart(t, ctx, c, 1, 2)
	if _, err := c.OLT.ActivateOnu(ctx, &openolt.Onu{IntfId: 0, OnuId: 1, SerialNumber: disc[0][0]}); err != nil {
		t.Fatal(err)
	}
	again := 0
	stats := false
	for again < 3 || !stats {
		ind, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := ind.GetOnuDiscInd(); d != nil {
			if string(d.GetSerialNumber().GetVendorSpecific()) != string(disc[0][1].GetVendorSpecific()) {
				t.Fatalf("activated onu announced again: %v", d)
			}
			again++
		}
		if ind.GetPortStats() != nil {
			stats = true
		}
	}
}

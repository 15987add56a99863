package ofagent

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// textFlowMod builds a flow-mod from flow text (flowtext syntax); %d verbs
// take the UNI and NNI numbers given.
func textFlowMod(t testing.TB, cmd ofp13.FlowModCommand, text string, args ...any) *ofp13.FlowMod {
	t.Helper()
	f, err := flowtext.ParseFlow(fmt.Sprintf(text, args...))
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	m, err := ofp13.FlowModFromProto(&openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand(cmd + 1), TableId: f.GetTableId(), Priority: f.GetPriority(), Cookie: f.GetCookie(),
		BufferId: ofp13.NoBuffer, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny, Match: f.GetMatch(), Instructions: f.GetInstructions(),
	})
	if err != nil {
		t.Fatalf("flow-mod %q: %v", text, err)
	}
	return m
}

// subscriberFlows are one subscriber's flows on uni: EAPOL trap, LLDP trap
// on the NNI, upstream with a meter and double tagging, downstream.
func subscriberFlows(t testing.TB, uni, nni uint32) []*ofp13.FlowMod {
	return []*ofp13.FlowMod{
		textFlowMod(t, ofp13.FlowAdd, "table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=push_vlan:0x8100,set_field:4091->vlan_vid,output:CONTROLLER", uni),
		textFlowMod(t, ofp13.FlowAdd, "table=0,priority=10000,in_port=%d,eth_type=0x88cc,actions=output:CONTROLLER", nni),
		textFlowMod(t, ofp13.FlowAdd, "table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:101->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:%d", uni, nni),
		textFlowMod(t, ofp13.FlowAdd, "table=0,priority=1000,in_port=%d,vlan_vid=1000,metadata=101,actions=pop_vlan,pop_vlan,output:%d", nni, uni),
	}
}

// TestRealCore drives a real core through the agent: a subscriber's
// flows reach the devices, flow stats come back, packet-ins and
// port-status arrive, and refusals become the right OpenFlow errors.
func TestRealCore(t *testing.T) {
	s := getStack(t)
	s.clearTables(t)
	ag := s.agent(t)
	c := dialOF(t, ag.listen)

	fr := c.request(&ofp13.FeaturesRequest{}).(*ofp13.FeaturesReply)
	if fr.DatapathID != s.ld.GetDatapathId() || fr.NTables == 0 {
		t.Fatalf("features %+v, want dpid %x", fr, s.ld.GetDatapathId())
	}
	pd := c.multipart(&ofp13.PortDescRequest{})[0].(*ofp13.PortDescReply)
	if len(pd.Ports) != 3 {
		t.Fatalf("%d ports, want the NNI and 2 UNIs", len(pd.Ports))
	}

	uni := s.unis[0]
	c.send(&ofp13.MeterMod{Command: ofp13.MeterAdd, Flags: ofp13.MeterFlagKBPS | ofp13.MeterFlagBurst, MeterID: 1,
		Bands: []ofp13.MeterBand{{Type: ofp13.MeterBandDrop, Rate: 100000, BurstSize: 1000}}})
	flows := subscriberFlows(t, uni, s.nni)
	flows[0].Flags = ofp13.FlowFlagSendFlowRem
	for _, fm := range flows {
		c.send(fm)
	}
	if errs := c.barrier(); len(errs) != 0 {
		t.Fatalf("subscriber flows refused: %v", describe(errs))
	}
	if n := len(s.logicalFlows(t)); n != 4 {
		t.Fatalf("%d logical flows, want 4", n)
	}
	df := s.deviceFlows(t)
	if df[s.olt] == 0 {
		t.Errorf("the OLT got no device flows: %v", df)
	}
	onuFlows := 0
	for id, n := range df {
		if id != s.olt {
			onuFlows += n
		}
	}
	if onuFlows == 0 {
		t.Errorf("no ONU got device flows: %v", df)
	}
	fs := c.multipart(&ofp13.FlowStatsRequest{TableID: ofp13.TableAll, OutPort: ofp13.PortAny, OutGroup: ofp13.GroupAny})
	if n := len(fs[0].(*ofp13.FlowStatsReply).Stats); n != 4 {
		t.Errorf("flow stats: %d flows", n)
	}
	mc := c.multipart(&ofp13.MeterConfigRequest{MeterID: ofp13.MeterAll})[0].(*ofp13.MeterConfigReply)
	if len(mc.Configs) != 1 {
		t.Errorf("meter config %+v", mc.Configs)
	}

	// A packet-in from the UNI.
	frame := eapolFrame()
	s.sendPacketIn(t, uni, frame)
	pi := c.waitFor("packet-in", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypePacketIn }).(*ofp13.PacketIn)
	if in, _ := pi.Match.Get(ofp13.OXMInPort); in.Uint() != uint64(uni) || !bytes.Equal(pi.Data, frame) {
		t.Errorf("packet-in from %d, %x", in.Uint(), pi.Data)
	}

	// Deleting the EAPOL flow, which asked for it, brings flow-removed.
	del := textFlowMod(t, ofp13.FlowDeleteStrict, "table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=drop", uni)
	del.Instructions = nil
	c.send(del)
	rem := c.waitFor("flow-removed", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypeFlowRemoved }).(*ofp13.FlowRemoved)
	if rem.Reason != ofp13.FlowRemovedDelete || rem.Priority != 10000 {
		t.Errorf("flow-removed %+v", rem)
	}

	// Taking a UNI down with port-mod brings port-status.
	var hw [6]byte
	for _, p := range pd.Ports {
		if p.PortNo == uni {
			hw = p.HWAddr
		}
	}
	c.send(&ofp13.PortMod{PortNo: uni, HWAddr: hw, Config: ofp13.PortConfigPortDown, Mask: ofp13.PortConfigPortDown})
	ps := c.waitFor("port-status", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypePortStatus }).(*ofp13.PortStatus)
	if ps.Desc.PortNo != uni || ps.Desc.Config&ofp13.PortConfigPortDown == 0 || ps.Reason != 2 {
		t.Errorf("port-status %+v", ps)
	}
	c.send(&ofp13.PortMod{PortNo: uni, HWAddr: hw, Config: 0, Mask: ofp13.PortConfigPortDown})
	c.waitFor("port-status up", func(m ofp13.Message) bool {
		ps, ok := m.(*ofp13.PortStatus)
		return ok && ps.Desc.PortNo == uni && ps.Desc.Config&ofp13.PortConfigPortDown == 0
	})
	c.alive()
}

// TestErrorsFromRealCore pins errorRules to the real core's refusals.
func TestErrorsFromRealCore(t *testing.T) {
	s := getStack(t)
	s.clearTables(t)
	ag := s.agent(t)
	c := dialOF(t, ag.listen)
	uni, nni := s.unis[0], s.nni
	for _, tc := range []struct {
		name string
		m    ofp13.Message
		typ  ofp13.ErrorType
		code uint16
	}{
		{"missing meter", textFlowMod(t, ofp13.FlowAdd, "table=0,priority=9,in_port=%d,actions=meter:9,output:%d", uni, nni), ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
		{"missing group", textFlowMod(t, ofp13.FlowAdd, "table=0,priority=9,in_port=%d,actions=group:7", nni), ofp13.ErrTypeBadAction, ofp13.BadActionBadOutGroup},
		{"missing table", textFlowMod(t, ofp13.FlowAdd, "table=5,priority=9,in_port=%d,actions=output:%d", uni, nni), ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedBadTableID},
		{"unsupported match", textFlowMod(t, ofp13.FlowAdd, "table=0,priority=9,in_port=%d,eth_type=0x8847,mpls_label=5,actions=output:%d", uni, nni), ofp13.ErrTypeBadMatch, ofp13.BadMatchBadField},
		{"unsupported action", textFlowMod(t, ofp13.FlowAdd, "table=0,priority=9,in_port=%d,actions=dec_ttl,output:%d", uni, nni), ofp13.ErrTypeBadAction, ofp13.BadActionBadType},
		{"two outputs", textFlowMod(t, ofp13.FlowAdd, "table=0,priority=9,in_port=%d,eth_type=0x888e,actions=output:%d,output:%d", uni, nni, s.unis[1]), ofp13.ErrTypeBadAction, ofp13.BadActionUnsupportedOrder},
		{"missing in_port", textFlowMod(t, ofp13.FlowAdd, "table=0,priority=9,in_port=999,actions=output:%d", nni), ofp13.ErrTypeBadMatch, ofp13.BadMatchBadValue},
		{"missing group delete", &ofp13.GroupMod{Command: ofp13.GroupDelete + 0, Type: ofp13.GroupTypeAll, GroupID: 77}, 0xffff, 0},
		{"modify missing group", &ofp13.GroupMod{Command: ofp13.GroupModify, Type: ofp13.GroupTypeAll, GroupID: 77,
			Buckets: []ofp13.Bucket{{Actions: []ofp13.Action{&ofp13.ActionOutput{Port: uni}}}}}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedUnknownGroup},
		{"modify missing meter", &ofp13.MeterMod{Command: ofp13.MeterModify, MeterID: 77, Bands: []ofp13.MeterBand{{Type: ofp13.MeterBandDrop, Rate: 1}}}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
		{"meter without bands", &ofp13.MeterMod{Command: ofp13.MeterAdd, MeterID: 5}, ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadBand},
		{"reserved group", &ofp13.GroupMod{Command: ofp13.GroupAdd, Type: ofp13.GroupTypeAll, GroupID: ofp13.GroupAll}, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedInvalidGroup},
		{"indirect group with two buckets", &ofp13.GroupMod{Command: ofp13.GroupAdd, Type: ofp13.GroupTypeIndirect, GroupID: 8,
			Buckets: []ofp13.Bucket{{Actions: []ofp13.Action{&ofp13.ActionOutput{Port: uni}}}, {Actions: []ofp13.Action{&ofp13.ActionOutput{Port: uni}}}}},
			ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadBucket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xid := c.send(tc.m)
			got := c.barrier()
			if tc.typ == 0xffff { // deleting what is not there is no error
				if len(got) != 0 {
					t.Fatalf("got %v", describe(got))
				}
				return
			}
			if len(got) != 1 || got[0].Hdr().Xid != xid {
				t.Fatalf("got %v, want one error for xid %d", describe(got), xid)
			}
			wantError(t, got[0], tc.typ, tc.code)
		})
	}
	c.alive()
}

func describe(ms []ofp13.Message) string {
	var parts []string
	for _, m := range ms {
		if e, ok := m.(*ofp13.ErrorMsg); ok {
			parts = append(parts, fmt.Sprintf("xid %d %s", e.Xid, e))
			continue
		}
		parts = append(parts, fmt.Sprintf("xid %d %v", m.Hdr().Xid, m.Hdr().Type))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// eapolFrame is an EAPOL-Start from a subscriber.
func eapolFrame() []byte {
	return append([]byte{
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x03, // dst: PAE group address
		0x02, 0x00, 0x00, 0x00, 0x00, 0x10, // src
		0x88, 0x8e, // EAPOL
		0x01, 0x01, 0x00, 0x00, // version 1, EAPOL-Start, length 0
	}, make([]byte, 42)...)
}

package ofagent

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

func TestCovers(t *testing.T) {
	in := func(p uint64) ofp13.OXM { return ofp13.OXMUint(ofp13.OXMInPort, p) }
	vlan := func(v, m uint64) ofp13.OXM { return ofp13.OXMUintMasked(ofp13.OXMVlanVID, v, m) }
	ip := func(v, m uint64) ofp13.OXM { return ofp13.OXMUintMasked(ofp13.OXMIPv4Dst, v, m) }
	match := func(fs ...ofp13.OXM) ofp13.Match { return ofp13.Match{Fields: fs} }
	for _, tc := range []struct {
		name      string
		req, flow ofp13.Match
		want      bool
	}{
		{"empty request takes all", match(), match(in(16)), true},
		{"same field and value", match(in(16)), match(in(16), ofp13.OXMUint(ofp13.OXMEthType, 0x800)), true},
		{"other value", match(in(16)), match(in(32)), false},
		{"field the flow lacks", match(in(16)), match(), false},
		{"request masked, flow exact inside", match(ip(0x0a000000, 0xff000000)), match(ofp13.OXMUint(ofp13.OXMIPv4Dst, 0x0a010203)), true},
		{"request masked, flow exact outside", match(ip(0x0a000000, 0xff000000)), match(ofp13.OXMUint(ofp13.OXMIPv4Dst, 0x0b010203)), false},
		{"flow wider than the request", match(ofp13.OXMUint(ofp13.OXMIPv4Dst, 0x0a010203)), match(ip(0x0a000000, 0xff000000)), false},
		{"vlan present/present covers any tagged", match(vlan(0x1000, 0x1000)), match(ofp13.OXMUint(ofp13.OXMVlanVID, 0x1064)), true},
		{"vlan present/present does not cover untagged", match(vlan(0x1000, 0x1000)), match(ofp13.OXMUint(ofp13.OXMVlanVID, 0)), false},
	} {
		if got := covers(tc.req, tc.flow); got != tc.want {
			t.Errorf("%s: covers = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFlowKey(t *testing.T) {
	a := flowMod(ofp13.FlowAdd, 10, 16, 1)
	a.Match.Fields = append(a.Match.Fields, ofp13.OXMUint(ofp13.OXMEthType, 0x800))
	b := flowMod(ofp13.FlowDeleteStrict, 10, 16, 2) // other command and actions
	b.Match.Fields = append([]ofp13.OXM{ofp13.OXMUint(ofp13.OXMEthType, 0x800)}, b.Match.Fields...)
	if flowKey(a) != flowKey(b) {
		t.Error("the same flow with its fields in another order has another key")
	}
	c := flowMod(ofp13.FlowAdd, 11, 16, 1)
	c.Match = a.Match
	if flowKey(a) == flowKey(c) {
		t.Error("another priority has the same key")
	}
	m1 := flowMod(ofp13.FlowAdd, 1, 16, 1)
	m1.Match.Fields = []ofp13.OXM{ofp13.OXMUintMasked(ofp13.OXMIPv4Dst, 0x0a0000ff, 0xff000000)}
	m2 := flowMod(ofp13.FlowAdd, 1, 16, 1)
	m2.Match.Fields = []ofp13.OXM{ofp13.OXMUintMasked(ofp13.OXMIPv4Dst, 0x0a000000, 0xff000000)}
	if flowKey(m1) != flowKey(m2) {
		t.Error("bits outside the mask change the key")
	}
}

// TestErrorRules maps the core's refusals, as its packages word them, to
// OpenFlow errors.
func TestErrorRules(t *testing.T) {
	for _, tc := range []struct {
		kind opKind
		code codes.Code
		msg  string
		typ  ofp13.ErrorType
		ofc  uint16
	}{
		{opFlow, codes.InvalidArgument, "logical device x: flow table=0 priority=1 cookie=0x0: meter 9 does not exist: add the meter before the flows that use it", ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
		{opFlow, codes.InvalidArgument, "logical device x: meter 9 does not exist", ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
		{opFlow, codes.InvalidArgument, "logical device x: group 7 does not exist", ofp13.ErrTypeBadAction, ofp13.BadActionBadOutGroup},
		{opFlow, codes.InvalidArgument, "logical device x: table 5 does not exist (tables 0-1)", ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedBadTableID},
		{opFlow, codes.InvalidArgument, "logical device x: goto_table 0 from table 0: the target must be a later table below 2", ofp13.ErrTypeBadInstruction, ofp13.BadInstructionBadTableID},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: unsupported match field mpls_label", ofp13.ErrTypeBadMatch, ofp13.BadMatchBadField},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: unsupported masked in_port", ofp13.ErrTypeBadMatch, ofp13.BadMatchBadMask},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: unsupported action dec_nw_ttl", ofp13.ErrTypeBadAction, ofp13.BadActionBadType},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: unsupported action set_field of ip_proto", ofp13.ErrTypeBadAction, ofp13.BadActionBadSetType},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: unsupported action output:32 after the output (one output, last)", ofp13.ErrTypeBadAction, ofp13.BadActionUnsupportedOrder},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: unsupported instruction write_actions (use apply-actions)", ofp13.ErrTypeBadInstruction, ofp13.BadInstructionUnsupInst},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: no route from logical port 999 to NNI 1: logical port 999 does not exist", ofp13.ErrTypeBadMatch, ofp13.BadMatchBadValue},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: no route from UNI 16 to logical port 999: logical port 999 does not exist", ofp13.ErrTypeBadAction, ofp13.BadActionBadOutPort},
		{opFlow, codes.InvalidArgument, "flow table=0 priority=9 cookie=0x0: conflict: an earlier logical flow gives device \"d\" a flow …", ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedOverlap},
		{opFlow, codes.InvalidArgument, "something new", ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedUnknown},
		{opFlow, codes.AlreadyExists, "flow overlaps flow 0x1 in table 0 at priority 9", ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedOverlap},
		{opFlow, codes.Unavailable, "connection refused", ofp13.ErrTypeFlowModFailed, ofp13.FlowModFailedUnknown},
		{opGroup, codes.AlreadyExists, "group 1 already exists", ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedGroupExists},
		{opGroup, codes.NotFound, "logical device x: group 1 does not exist", ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedUnknownGroup},
		{opGroup, codes.NotFound, `logical device "x" not found`, ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedEPerm},
		{opGroup, codes.InvalidArgument, "group id 0xfffffffc is reserved", ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedInvalidGroup},
		{opGroup, codes.InvalidArgument, "indirect group 8 needs exactly one bucket, has 2", ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadBucket},
		{opGroup, codes.InvalidArgument, "group 8 has no valid type", ofp13.ErrTypeGroupModFailed, ofp13.GroupModFailedBadType},
		{opMeter, codes.InvalidArgument, "meter id 0 is not valid (1-4294901760)", ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedInvalidMeter},
		{opMeter, codes.InvalidArgument, "meter 5 has no bands", ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedBadBand},
		{opMeter, codes.AlreadyExists, "meter 5 already exists", ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedMeterExists},
		{opMeter, codes.NotFound, "meter 5 does not exist", ofp13.ErrTypeMeterModFailed, ofp13.MeterModFailedUnknownMeter},
		{opPort, codes.NotFound, "no such port", ofp13.ErrTypePortModFailed, ofp13.PortModFailedBadPort},
		{opRead, codes.Unavailable, "down", ofp13.ErrTypeBadRequest, ofp13.BadRequestEPerm},
	} {
		e := ofError(tc.kind, status.Error(tc.code, tc.msg))
		if e.Type != tc.typ || e.Code != tc.ofc {
			t.Errorf("%s %q: got %v/%s, want %v/%s", tc.code, tc.msg, e.Type, ofp13.ErrorCodeName(e.Type, e.Code), tc.typ, ofp13.ErrorCodeName(tc.typ, tc.ofc))
		}
		if !strings.Contains(e.Reason, tc.msg) {
			t.Errorf("reason %q lost the core's message", e.Reason)
		}
	}
}

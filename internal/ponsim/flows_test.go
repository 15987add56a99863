package ponsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// Builders that keep flow fixtures readable.

func mf(typ openflowv1.MatchFieldType, v uint64) *openflowv1.MatchField {
	return &openflowv1.MatchField{Type: typ, Value: v}
}

func inPort(p uint32) *openflowv1.MatchField {
	return mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, uint64(p))
}

// vid matches VLAN id v on a tagged frame; vid(-1) untagged frames.
func vid(v int) *openflowv1.MatchField {
	if v < 0 {
		return mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0)
	}
	return mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, ofpvidPresent|uint64(v))
}

func anyTag() *openflowv1.MatchField {
	m := vid(0)
	m.HasMask, m.Mask = true, ofpvidPresent
	return m
}

func ethType(v uint64) *openflowv1.MatchField {
	return mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, v)
}

func output(p uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_Output{Output: &openflowv1.ActionOutput{Port: p}}}
}

func push(tpid uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_PushVlan{PushVlan: &openflowv1.ActionPushVlan{Ethertype: tpid}}}
}

func pop() *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_PopVlan{PopVlan: &openflowv1.ActionPopVlan{}}}
}

func setVIDAction(v uint64) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{
		Field: mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, ofpvidPresent|v)}}}
}

func groupAction(id uint32) *openflowv1.Action {
	return &openflowv1.Action{Action: &openflowv1.Action_Group{Group: &openflowv1.ActionGroup{GroupId: id}}}
}

func flow(prio uint32, match []*openflowv1.MatchField, actions ...*openflowv1.Action) *openflowv1.Flow {
	return &openflowv1.Flow{
		Priority: prio,
		Match:    &openflowv1.Match{Fields: match},
		Instructions: []*openflowv1.Instruction{{Instruction: &openflowv1.Instruction_ApplyActions{
			ApplyActions: &openflowv1.InstructionActions{Actions: actions}}}},
	}
}

func match(ms ...*openflowv1.MatchField) []*openflowv1.MatchField { return ms }

// frame builds an Ethernet frame: tags as (tpid, vid) pairs, outer first,
// then typ and payload.
func frame(typ uint16, payload []byte, tags ...[2]uint16) []byte {
	b := []byte{0x0a, 0, 0, 0, 0, 2, 0x0a, 0, 0, 0, 0, 1}
	for _, tg := range tags {
		b = binary.BigEndian.AppendUint16(b, tg[0])
		b = binary.BigEndian.AppendUint16(b, tg[1])
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// udp4 is an IPv4 UDP packet (no options) from sport to dport.
func udp4(proto byte, sport, dport uint16) []byte {
	ip := make([]byte, 28)
	ip[0] = 0x45
	ip[9] = proto
	copy(ip[12:], []byte{10, 0, 0, 1})
	copy(ip[16:], []byte{10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], sport)
	binary.BigEndian.PutUint16(ip[22:], dport)
	return ip
}

// udp6 is an IPv6 UDP packet (no extension headers) from sport to dport.
func udp6(sport, dport uint16) []byte {
	ip := make([]byte, 48)
	ip[0] = 0x60
	ip[6] = protoUDP
	binary.BigEndian.PutUint16(ip[40:], sport)
	binary.BigEndian.PutUint16(ip[42:], dport)
	return ip
}

func TestCompileRejects(t *testing.T) {
	bucket := func(as ...*openflowv1.Action) *openflowv1.Bucket { return &openflowv1.Bucket{Actions: as} }
	tests := []struct {
		name string
		ft   *ponsimv1.FlowTable
		want string
	}{
		{"nil flow", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{nil}}, "flow 0 is empty"},
		{"untyped match", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{flow(1, match(&openflowv1.MatchField{}), output(1))}}, "without a type"},
		{"empty action", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{flow(1, nil, &openflowv1.Action{})}}, "empty action"},
		{"empty instruction", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{{Instructions: []*openflowv1.Instruction{{}}}}}, "empty instruction"},
		{"push ipv4", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{flow(1, nil, push(0x0800))}}, "push_vlan ethertype 0x0800"},
		{"set_field empty", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{flow(1, nil,
			&openflowv1.Action{Action: &openflowv1.Action_SetField{SetField: &openflowv1.ActionSetField{}}})}}, "without a field"},
		{"missing group", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{flow(1, nil, groupAction(7))}}, "group 7 is not in the table"},
		{"duplicate group", &ponsimv1.FlowTable{Groups: []*openflowv1.GroupDesc{{GroupId: 1}, {GroupId: 1}}}, "group id 1 appears twice"},
		{"chained group", &ponsimv1.FlowTable{Groups: []*openflowv1.GroupDesc{{GroupId: 1, Buckets: []*openflowv1.Bucket{bucket(groupAction(1))}}}}, "another group"},
		{"duplicate meter", &ponsimv1.FlowTable{Meters: []*openflowv1.MeterConfig{{MeterId: 2}, {MeterId: 2}}}, "meter id 2 appears twice"},
		{"goto backwards", &ponsimv1.FlowTable{Flows: []*openflowv1.Flow{{TableId: 1, Instructions: []*openflowv1.Instruction{
			{Instruction: &openflowv1.Instruction_GotoTable{GotoTable: &openflowv1.InstructionGotoTable{TableId: 1}}}}}}}, "must go forward"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(tt.ft, false)
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("compile = %v, want invalid argument with %q", err, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	ipv4 := frame(ethTypeIPv4, udp4(protoUDP, 68, 67), [2]uint16{tpidCTag, 100})
	untagged := frame(0x888e, nil)
	flows := []*openflowv1.Flow{
		0: flow(10, nil, output(1)),                                    // catch-all, low priority
		1: flow(100, match(vid(100)), output(2)),                       // vlan only
		2: flow(100, match(inPort(5), vid(100)), output(3)),            // in_port makes it more specific
		3: flow(100, match(ethType(ethTypeIPv4), vid(100)), output(4)), // less specific than 2
		4: flow(200, match(ethType(0x888e)), output(5)),                // higher priority, other frames
		5: flow(100, match(anyTag(), mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST, 67)), output(6)),
		6: flow(300, match(mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_MPLS_LABEL, 1)), output(7)), // never matches
		7: flow(100, match(vid(-1)), output(8)),
	}
	tbl, err := compile(&ponsimv1.FlowTable{Flows: flows}, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		frame  []byte
		inPort uint32
		want   int // flow index, -1 for a miss
	}{
		{"in_port beats eth_type at equal priority", ipv4, 5, 2},
		{"eth_type beats vlan alone", ipv4, 6, 3},
		{"priority first", untagged, 5, 4},
		{"untagged matches vlan none", frame(0x0806, nil), 1, 7},
		{"tagged other vid falls to catch-all", frame(0x0806, nil, [2]uint16{tpidCTag, 7}), 1, 0},
		{"udp_dst on any tag", frame(ethTypeIPv4, udp4(protoUDP, 1, 67), [2]uint16{tpidSTag, 9}), 1, 5},
		{"tcp is not udp", frame(ethTypeIPv4, udp4(protoTCP, 1, 67), [2]uint16{tpidSTag, 9}), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := parse(tt.frame)
			if !ok {
				t.Fatal("frame does not parse")
			}
			e := tbl.lookup(0, &view{inPort: tt.inPort, f: &f})
			got := -1
			if e != nil {
				got = e.index
			}
			if got != tt.want {
				t.Errorf("hit flow %d, want %d", got, tt.want)
			}
		})
	}
	if e := (&table{}).lookup(0, &view{inPort: 1, f: &fields{}}); e != nil {
		t.Error("empty table hit")
	}
}

func TestVLANEdits(t *testing.T) {
	untagged := frame(ethTypeIPv4, []byte{1, 2, 3})
	ctag := frame(ethTypeIPv4, []byte{1, 2, 3}, [2]uint16{tpidCTag, 0x2064}) // pcp 1, vid 100
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"push on untagged", pushVLAN(untagged, tpidCTag), frame(ethTypeIPv4, []byte{1, 2, 3}, [2]uint16{tpidCTag, 0})},
		{"push copies tci", pushVLAN(ctag, tpidSTag), frame(ethTypeIPv4, []byte{1, 2, 3}, [2]uint16{tpidSTag, 0x2064}, [2]uint16{tpidCTag, 0x2064})},
		{"pop", popVLAN(ctag), untagged},
		{"pop untagged", popVLAN(untagged), untagged},
		{"set vid keeps pcp", setVID(ctag, 200), frame(ethTypeIPv4, []byte{1, 2, 3}, [2]uint16{tpidCTag, 0x2000 | 200})},
		{"set pcp keeps vid", setPCP(ctag, 5), frame(ethTypeIPv4, []byte{1, 2, 3}, [2]uint16{tpidCTag, 5<<13 | 100})},
		{"set vid untagged", setVID(untagged, 5), untagged},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: % x, want % x", tt.name, tt.got, tt.want)
		}
	}
	if !bytes.Equal(ctag, frame(ethTypeIPv4, []byte{1, 2, 3}, [2]uint16{tpidCTag, 0x2064})) {
		t.Error("an edit changed its input")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		ok   bool
		want fields
	}{
		{"short", make([]byte, 13), false, fields{}},
		{"truncated tag", frame(tpidCTag, []byte{0, 1}), false, fields{}},
		{"qinq", frame(0x0806, nil, [2]uint16{tpidSTag, 10}, [2]uint16{tpidCTag, 20}), true, fields{tagged: true, vid: 10, inner: true, innerVID: 20, ethType: 0x0806}},
		{"ipv4 udp", frame(ethTypeIPv4, udp4(protoUDP, 68, 67)), true,
			fields{ethType: ethTypeIPv4, ipv4: true, proto: protoUDP, ipSrc: 0x0a000001, ipDst: 0x0a000002, l4: true, sport: 68, dport: 67}},
		{"short ipv4 is not malformed", frame(ethTypeIPv4, []byte{0x45}), true, fields{ethType: ethTypeIPv4}},
	}
	for _, tt := range tests {
		f, ok := parse(tt.b)
		if ok != tt.ok {
			t.Errorf("%s: ok %v", tt.name, ok)
			continue
		}
		if !ok {
			continue
		}
		f.dst, f.src = [6]byte{}, [6]byte{}
		if f != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, f, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(frame(ethTypeIPv4, udp4(protoUDP, 68, 67), [2]uint16{tpidCTag, 100}))
	f.Add(frame(0x888e, nil, [2]uint16{tpidSTag, 1}, [2]uint16{tpidCTag, 2}))
	f.Add([]byte{1, 2, 3})
	f.Add(frame(ethTypeIPv6, udp6(546, 547), [2]uint16{tpidCTag, 7}))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := clone(b)
		fl, ok := parse(b)
		pushed := pushVLAN(b, tpidSTag)
		if ok && !bytes.Equal(popVLAN(pushed), b) && len(b) >= 14 {
			t.Fatalf("push then pop changed % x", b)
		}
		_ = setVID(popVLAN(b), 5)
		_ = setPCP(b, 3)
		if !bytes.Equal(b, in) {
			t.Fatal("an edit changed its input")
		}
		if ok && fl.tagged {
			if g, ok := parse(pushed); !ok || g.vid != fl.vid || g.ethType != fl.ethType || !g.inner || g.innerVID != fl.vid {
				t.Fatalf("pushed frame parses as %+v, %v", g, ok)
			}
		}
	})
}

// TestUpdateFlowTable stores and replaces tables through the API.
func TestUpdateFlowTable(t *testing.T) {
	s := serve(t, testConfig("flows", 1, 2))
	ctx := testCtx(t)
	onu := s.sim.ONUSerial(0, 2)
	oltTable := &ponsimv1.FlowTable{
		Device: &ponsimv1.DeviceRef{},
		Flows:  []*openflowv1.Flow{flow(1000, match(inPort(portno.NNI(0)), vid(10)), pop(), output(portno.OLTPON(0)))},
		Groups: []*openflowv1.GroupDesc{{GroupId: 1, Type: openflowv1.GroupType_GROUP_TYPE_ALL,
			Buckets: []*openflowv1.Bucket{{Actions: []*openflowv1.Action{output(portno.OLTPON(0))}}}}},
		Meters: []*openflowv1.MeterConfig{{MeterId: 3}},
	}
	onuTable := &ponsimv1.FlowTable{
		Device: &ponsimv1.DeviceRef{SerialNumber: onu},
		Flows:  []*openflowv1.Flow{flow(1000, match(inPort(portno.UNI(0, 2, 0))), push(tpidCTag), setVIDAction(102), output(portno.ONUPON))},
	}
	for _, ft := range []*ponsimv1.FlowTable{oltTable, onuTable} {
		if _, err := s.client.UpdateFlowTable(ctx, ft); err != nil {
			t.Fatal(err)
		}
	}
	for _, ft := range []*ponsimv1.FlowTable{oltTable, onuTable} {
		got, err := s.sim.FlowTable(ft.GetDevice().GetSerialNumber())
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, ft) {
			t.Errorf("stored %v, want %v", got, ft)
		}
		viaAPI, err := s.client.GetFlowTable(ctx, ft.GetDevice())
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(viaAPI, ft) {
			t.Errorf("GetFlowTable %v, want %v", viaAPI, ft)
		}
	}
	_, err := s.client.GetFlowTable(ctx, &ponsimv1.DeviceRef{SerialNumber: "NOSUCH000000"})
	wantCode(t, err, codes.NotFound)
	// The OLT's serial names the OLT too; an empty table replaces.
	if _, err := s.client.UpdateFlowTable(ctx, &ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{SerialNumber: s.sim.OLTSerial()}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.sim.FlowTable(""); len(got.GetFlows())+len(got.GetGroups())+len(got.GetMeters()) != 0 {
		t.Errorf("olt table after replacing with nothing: %v", got)
	}
	if got, _ := s.sim.FlowTable(onu); len(got.GetFlows()) != 1 {
		t.Errorf("onu table changed: %v", got)
	}
	// A bad table is rejected whole and the old one stays.
	_, err = s.client.UpdateFlowTable(ctx, &ponsimv1.FlowTable{Device: onuTable.GetDevice(), Flows: []*openflowv1.Flow{flow(1, nil, push(0x9999))}})
	wantCode(t, err, codes.InvalidArgument)
	if got, _ := s.sim.FlowTable(onu); !proto.Equal(got, onuTable) {
		t.Errorf("onu table after a rejected update: %v", got)
	}
}

func TestMatchFields(t *testing.T) {
	type M = openflowv1.MatchFieldType
	masked := func(typ M, v, mask uint64) *openflowv1.MatchField {
		m := mf(typ, v)
		m.HasMask, m.Mask = true, mask
		return m
	}
	mac := func(typ M, b, mask []byte) *openflowv1.MatchField {
		return &openflowv1.MatchField{Type: typ, BytesValue: b, HasMask: mask != nil, BytesMask: mask}
	}
	udp := frame(ethTypeIPv4, udp4(protoUDP, 68, 67), [2]uint16{tpidCTag, 5<<13 | 100})
	tcp := frame(ethTypeIPv4, udp4(protoTCP, 1234, 80))
	qinq := frame(ethTypeIPv4, udp4(protoUDP, 68, 67), [2]uint16{tpidSTag, 1000}, [2]uint16{tpidCTag, 101})
	dhcp6 := frame(ethTypeIPv6, udp6(546, 547))
	// frame() uses dst 0a:00:00:00:00:02, src 0a:00:00:00:00:01.
	tests := []struct {
		name   string
		m      *openflowv1.MatchField
		frame  []byte
		want   bool
		tunnel uint64
	}{
		{"eth_dst bytes", mac(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, []byte{0x0a, 0, 0, 0, 0, 2}, nil), udp, true, 0},
		{"eth_dst other", mac(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, []byte{0x0a, 0, 0, 0, 0, 3}, nil), udp, false, 0},
		{"eth_dst value", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, 0x0a0000000002), udp, true, 0},
		{"eth_src masked", mac(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC, []byte{0x0a, 0, 0, 0, 0, 0}, []byte{0xff, 0, 0, 0, 0, 0}), udp, true, 0},
		{"eth_src bad length", mac(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC, []byte{1}, nil), udp, false, 0},
		{"vlan_pcp", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP, 5), udp, true, 0},
		{"vlan_pcp untagged", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP, 0), tcp, false, 0},
		{"ip_proto", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO, protoTCP), tcp, true, 0},
		{"ipv4_src /24", masked(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC, 0x0a000000, 0xffffff00), udp, true, 0},
		{"ipv4_dst exact other", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST, 0x0a000001), udp, false, 0},
		{"udp_src", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC, 68), udp, true, 0},
		{"tcp_src", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC, 1234), tcp, true, 0},
		{"tcp_dst", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST, 80), tcp, true, 0},
		{"tcp_dst on udp", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST, 67), udp, false, 0},
		{"metadata is the inner vid", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA, 101), qinq, true, 0},
		{"metadata other inner vid", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA, 100), qinq, false, 0},
		{"metadata single tag", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_METADATA, 100), udp, false, 0},
		{"vlan_vid is the outer tag", vid(1000), qinq, true, 0},
		{"eth_type after two tags", ethType(ethTypeIPv4), qinq, true, 0},
		{"tunnel_id", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID, 0x1010), udp, true, 0x1010},
		{"tunnel_id other", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID, 0x1010), udp, false, 0x1020},
		{"tunnel_id none", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID, 0x1010), udp, false, 0},
		{"ipv6 ip_proto", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO, protoUDP), dhcp6, true, 0},
		{"ipv6 udp_dst", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST, 547), dhcp6, true, 0},
		{"ipv6 has no ipv4_src", masked(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC, 0, 0), dhcp6, false, 0},
		{"ipv6 flabel never matches", mf(openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IPV6_FLABEL, 0), udp, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := compile(&ponsimv1.FlowTable{Flows: []*openflowv1.Flow{flow(1, match(tt.m), output(1))}}, false)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := parse(tt.frame)
			if !ok {
				t.Fatal("frame does not parse")
			}
			if got := tbl.lookup(0, &view{inPort: 1, f: &f, tunnel: tt.tunnel}) != nil; got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

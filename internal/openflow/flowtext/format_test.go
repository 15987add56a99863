package flowtext

import (
	"net"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// Builders that keep the fixtures close to how the flows read.

func mf(t of.MatchFieldType, v uint64) *of.MatchField { return &of.MatchField{Type: t, Value: v} }

func mfMasked(t of.MatchFieldType, v, m uint64) *of.MatchField {
	return &of.MatchField{Type: t, Value: v, HasMask: true, Mask: m}
}

func mfBytes(t of.MatchFieldType, v []byte) *of.MatchField {
	return &of.MatchField{Type: t, BytesValue: v}
}

func mfBytesMasked(t of.MatchFieldType, v, m []byte) *of.MatchField {
	return &of.MatchField{Type: t, BytesValue: v, HasMask: true, BytesMask: m}
}

func act(a any) *of.Action {
	switch x := a.(type) {
	case *of.ActionOutput:
		return &of.Action{Action: &of.Action_Output{Output: x}}
	case *of.ActionPushVlan:
		return &of.Action{Action: &of.Action_PushVlan{PushVlan: x}}
	case *of.ActionPopVlan:
		return &of.Action{Action: &of.Action_PopVlan{PopVlan: x}}
	case *of.ActionSetField:
		return &of.Action{Action: &of.Action_SetField{SetField: x}}
	case *of.ActionGroup:
		return &of.Action{Action: &of.Action_Group{Group: x}}
	case *of.ActionSetQueue:
		return &of.Action{Action: &of.Action_SetQueue{SetQueue: x}}
	case *of.ActionPushMpls:
		return &of.Action{Action: &of.Action_PushMpls{PushMpls: x}}
	case *of.ActionPopMpls:
		return &of.Action{Action: &of.Action_PopMpls{PopMpls: x}}
	case *of.ActionSetMplsTtl:
		return &of.Action{Action: &of.Action_SetMplsTtl{SetMplsTtl: x}}
	case *of.ActionDecMplsTtl:
		return &of.Action{Action: &of.Action_DecMplsTtl{DecMplsTtl: x}}
	case *of.ActionSetNwTtl:
		return &of.Action{Action: &of.Action_SetNwTtl{SetNwTtl: x}}
	case *of.ActionDecNwTtl:
		return &of.Action{Action: &of.Action_DecNwTtl{DecNwTtl: x}}
	case *of.ActionCopyTtlOut:
		return &of.Action{Action: &of.Action_CopyTtlOut{CopyTtlOut: x}}
	case *of.ActionCopyTtlIn:
		return &of.Action{Action: &of.Action_CopyTtlIn{CopyTtlIn: x}}
	case *of.ActionPushPbb:
		return &of.Action{Action: &of.Action_PushPbb{PushPbb: x}}
	case *of.ActionPopPbb:
		return &of.Action{Action: &of.Action_PopPbb{PopPbb: x}}
	case *of.ActionExperimenter:
		return &of.Action{Action: &of.Action_Experimenter{Experimenter: x}}
	}
	panic("not an action")
}

func apply(actions ...*of.Action) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{Actions: actions}}}
}

func gotoTable(id uint32) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_GotoTable{GotoTable: &of.InstructionGotoTable{TableId: id}}}
}

func writeMetadata(md, mask uint64) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_WriteMetadata{
		WriteMetadata: &of.InstructionWriteMetadata{Metadata: md, MetadataMask: mask}}}
}

func meter(id uint32) *of.Instruction {
	return &of.Instruction{Instruction: &of.Instruction_Meter{Meter: &of.InstructionMeter{MeterId: id}}}
}

func setVID(v uint64) *of.Action {
	return act(&of.ActionSetField{Field: mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, v)})
}

func out(port uint32) *of.Action { return act(&of.ActionOutput{Port: port}) }

const (
	tUni = 4112
	tNNI = 1
)

var (
	inUNI     = mf(of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, tUni)
	inNNI     = mf(of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, tNNI)
	ipv4Type  = mf(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, 0x0800)
	toCtrl    = act(&of.ActionOutput{Port: 0xfffffffd, MaxLen: 0xffff})
	pushCTag  = act(&of.ActionPushVlan{Ethertype: 0x8100})
	popTag    = act(&of.ActionPopVlan{})
	untagged  = mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0)
	vlan100   = mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x1064)
	vlan4000  = mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x1000|4000)
	anyVLAN   = mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x1000, 0x1000)
	mcastDst4 = &of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST, Value: 0xe0000000, HasMask: true, Mask: 0xf0000000}
)

// Flows as the decomposer and controllers write them.
func TestFlowText(t *testing.T) {
	tests := []struct {
		name string
		flow *of.Flow
		want string
	}{
		{"EAPOL trap to the controller",
			&of.Flow{TableId: 0, Priority: 10000, Cookie: 0x5eed0001,
				Match:        &of.Match{Fields: []*of.MatchField{inUNI, mf(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, 0x888e)}},
				Instructions: []*of.Instruction{apply(toCtrl)}},
			"table=0, priority=10000, cookie=0x5eed0001, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535"},
		{"DHCP trap, tagged",
			&of.Flow{Priority: 10000, Cookie: 2,
				Match: &of.Match{Fields: []*of.MatchField{inUNI, vlan100, ipv4Type,
					mf(of.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO, 17), mf(of.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC, 68),
					mf(of.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST, 67)}},
				Instructions: []*of.Instruction{apply(toCtrl)}},
			"table=0, priority=10000, cookie=0x2, in_port=4112, vlan_vid=100, eth_type=0x0800, ip_proto=17, udp_src=68, udp_dst=67, actions=CONTROLLER:65535"},
		{"upstream: push a C-tag, set its VID, out of the NNI",
			&of.Flow{Priority: 1000, Cookie: 0xabc,
				Match:        &of.Match{Fields: []*of.MatchField{inUNI, untagged}},
				Instructions: []*of.Instruction{apply(pushCTag, setVID(0x1064), out(tNNI))}},
			"table=0, priority=1000, cookie=0xabc, in_port=4112, vlan_vid=untagged, actions=push_vlan:0x8100,set_field:100->vlan_vid,output:1"},
		{"two tables: meter, metadata, goto, listed out of order",
			&of.Flow{TableId: 0, Priority: 1000, Cookie: 3,
				Match: &of.Match{Fields: []*of.MatchField{inUNI, vlan100}},
				Instructions: []*of.Instruction{gotoTable(1), writeMetadata(0x0064_0000_1010, 0), meter(2),
					apply(pushCTag, setVID(0x1000|4000))}},
			"table=0, priority=1000, cookie=0x3, in_port=4112, vlan_vid=100, actions=meter:2,push_vlan:0x8100,set_field:4000->vlan_vid,write_metadata:0x6400001010,goto_table:1"},
		{"downstream second table: metadata match, pop the S-tag",
			&of.Flow{TableId: 1, Priority: 1000, Cookie: 4,
				Match: &of.Match{Fields: []*of.MatchField{inNNI, vlan4000,
					mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_METADATA, 0x1010, 0xffffffff)}},
				Instructions: []*of.Instruction{apply(popTag, out(tUni))}},
			"table=1, priority=1000, cookie=0x4, in_port=1, vlan_vid=4000, metadata=0x1010/0xffffffff, actions=pop_vlan,output:4112"},
		{"multicast to a group, masked metadata write",
			&of.Flow{Priority: 500, Cookie: 5,
				Match:        &of.Match{Fields: []*of.MatchField{inNNI, anyVLAN, ipv4Type, mcastDst4}},
				Instructions: []*of.Instruction{apply(popTag, act(&of.ActionGroup{GroupId: 1})), writeMetadata(0x1, 0xff)}},
			"table=0, priority=500, cookie=0x5, in_port=1, vlan_vid=tagged, eth_type=0x0800, ipv4_dst=224.0.0.0/4, actions=pop_vlan,group:1,write_metadata:0x1/0xff"},
		{"no instructions drop; timeouts and flags",
			&of.Flow{Priority: 0, IdleTimeout: 30, HardTimeout: 300, Flags: 1 | 2 | 0x40},
			"table=0, priority=0, cookie=0x0, idle_timeout=30, hard_timeout=300, send_flow_rem, check_overlap, flags=0x40, actions=drop"},
		{"write and clear actions",
			&of.Flow{Priority: 1, Cookie: 6,
				Instructions: []*of.Instruction{
					{Instruction: &of.Instruction_WriteActions{WriteActions: &of.InstructionActions{Actions: []*of.Action{
						act(&of.ActionSetQueue{QueueId: 3}), out(2)}}}},
					{Instruction: &of.Instruction_ClearActions{ClearActions: &of.InstructionClearActions{}}},
				}},
			"table=0, priority=1, cookie=0x6, actions=clear_actions,write_actions(set_queue:3,output:2)"},
		{"an empty apply-actions is a drop",
			&of.Flow{Priority: 1, Instructions: []*of.Instruction{apply()}},
			"table=0, priority=1, cookie=0x0, actions=drop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatFlow(tt.flow); got != tt.want {
				t.Errorf("got\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// Every MatchFieldType has its OXM name and a readable value.
func TestMatchFieldText(t *testing.T) {
	mac := net.HardwareAddr{0x00, 0x0c, 0xe2, 0x31, 0x40, 0x00}
	v6 := net.ParseIP("2001:db8::1")
	v6mask := net.CIDRMask(64, 128)
	type T = of.MatchFieldType
	tests := []struct {
		field *of.MatchField
		want  string
	}{
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, 0xfffffffd), "in_port=CONTROLLER"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IN_PHY_PORT, 16), "in_phy_port=16"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_METADATA, 0x64_0000_1010), "metadata=0x6400001010"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, mac), "eth_dst=00:0c:e2:31:40:00"},
		{mfBytesMasked(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC, mac, net.HardwareAddr{0xff, 0xff, 0xff, 0, 0, 0}),
			"eth_src=00:0c:e2:31:40:00/ff:ff:ff:00:00:00"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, 0x88cc), "eth_type=0x88cc"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x1064), "vlan_vid=100"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP, 5), "vlan_pcp=5"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IP_DSCP, 46), "ip_dscp=46"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IP_ECN, 1), "ip_ecn=1"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IP_PROTO, 2), "ip_proto=2"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC, 0x0a000001), "ipv4_src=10.0.0.1"},
		{mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_IPV4_DST, 0x0a000000, 0xff00ff00), "ipv4_dst=10.0.0.0/255.0.255.0"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_TCP_SRC, 179), "tcp_src=179"},
		{mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_TCP_DST, 0x1000, 0xf000), "tcp_dst=0x1000/0xf000"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_UDP_SRC, 68), "udp_src=68"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_UDP_DST, 67), "udp_dst=67"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_SCTP_SRC, 2905), "sctp_src=2905"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_SCTP_DST, 2905), "sctp_dst=2905"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_TYPE, 8), "icmpv4_type=8"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ICMPV4_CODE, 0), "icmpv4_code=0"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ARP_OP, 1), "arp_op=1"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_ARP_SPA, []byte{192, 168, 1, 1}), "arp_spa=192.168.1.1"},
		{mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_ARP_TPA, 0xc0a80100, 0xffffff00), "arp_tpa=192.168.1.0/24"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ARP_SHA, 0x000ce2314000), "arp_sha=00:0c:e2:31:40:00"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_ARP_THA, mac), "arp_tha=00:0c:e2:31:40:00"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_SRC, v6), "ipv6_src=2001:db8::1"},
		{mfBytesMasked(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_DST, v6, v6mask), "ipv6_dst=2001:db8::1/64"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_FLABEL, 0x12345), "ipv6_flabel=0x12345"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_TYPE, 135), "icmpv6_type=135"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_ICMPV6_CODE, 0), "icmpv6_code=0"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_ND_TARGET, v6), "ipv6_nd_target=2001:db8::1"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_ND_SLL, mac), "ipv6_nd_sll=00:0c:e2:31:40:00"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_ND_TLL, mac), "ipv6_nd_tll=00:0c:e2:31:40:00"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_MPLS_LABEL, 16), "mpls_label=16"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_MPLS_TC, 3), "mpls_tc=3"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_MPLS_BOS, 1), "mpls_bos=1"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_PBB_ISID, 0xabcdef), "pbb_isid=0xabcdef"},
		{mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID, 0x10, 0xff), "tunnel_id=0x10/0xff"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_EXTHDR, 0x1ff), "ipv6_exthdr=0x1ff"},

		// vlan_vid, every form.
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0), "vlan_vid=untagged"},
		{mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x1000, 0x1000), "vlan_vid=tagged"},
		{mfMasked(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x1064, 0x1fff), "vlan_vid=0x1064/0x1fff"},
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, 0x64), "vlan_vid=0x0064"}, // present bit missing

		// Odd inputs show what they carry rather than guess.
		{mf(of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, 0xfffffffe), "in_port=LOCAL"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, []byte{1, 2, 3}), "eth_dst=0x010203"},
		{mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_SRC, []byte{1, 2, 3}), "ipv6_src=0x010203"},
		{mf(T(41), 7), "oxm_field_40=0x7"},
		{&of.MatchField{Type: T(42), BytesValue: []byte{0xab}, HasMask: true, BytesMask: []byte{0xf0}}, "oxm_field_41=0xab/0xf0"},
	}
	covered := map[T]bool{}
	for _, tt := range tests {
		covered[tt.field.GetType()] = true
		if got := FormatMatchField(tt.field); got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.field.GetType(), got, tt.want)
		}
	}
	values := of.MatchFieldType(0).Descriptor().Values()
	for i := range values.Len() {
		if n := values.Get(i).Number(); n != 0 && !covered[T(n)] {
			t.Errorf("no test for %s", values.Get(i).Name())
		}
	}
	if got := FormatMatch(nil); got != "any" {
		t.Errorf("empty match = %q", got)
	}
}

// Every Action and Instruction has its text.
func TestActionAndInstructionText(t *testing.T) {
	actions := []struct {
		action *of.Action
		want   string
	}{
		{act(&of.ActionOutput{Port: 2}), "output:2"},
		{act(&of.ActionOutput{Port: 0xfffffffd, MaxLen: 128}), "CONTROLLER:128"},
		{act(&of.ActionOutput{Port: 0xfffffff8}), "IN_PORT"},
		{act(&of.ActionOutput{Port: 0xfffffffb}), "FLOOD"},
		{act(&of.ActionPushVlan{Ethertype: 0x88a8}), "push_vlan:0x88a8"},
		{act(&of.ActionPopVlan{}), "pop_vlan"},
		{act(&of.ActionSetField{Field: mf(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP, 7)}), "set_field:7->vlan_pcp"},
		{act(&of.ActionSetField{Field: mfBytes(of.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, []byte{2, 0, 0, 0, 0, 1})}),
			"set_field:02:00:00:00:00:01->eth_dst"},
		{act(&of.ActionGroup{GroupId: 9}), "group:9"},
		{act(&of.ActionSetQueue{QueueId: 2}), "set_queue:2"},
		{act(&of.ActionPushMpls{Ethertype: 0x8847}), "push_mpls:0x8847"},
		{act(&of.ActionPopMpls{Ethertype: 0x0800}), "pop_mpls:0x0800"},
		{act(&of.ActionSetMplsTtl{MplsTtl: 64}), "set_mpls_ttl:64"},
		{act(&of.ActionDecMplsTtl{}), "dec_mpls_ttl"},
		{act(&of.ActionSetNwTtl{NwTtl: 32}), "set_nw_ttl:32"},
		{act(&of.ActionDecNwTtl{}), "dec_nw_ttl"},
		{act(&of.ActionCopyTtlOut{}), "copy_ttl_out"},
		{act(&of.ActionCopyTtlIn{}), "copy_ttl_in"},
		{act(&of.ActionPushPbb{Ethertype: 0x88e7}), "push_pbb:0x88e7"},
		{act(&of.ActionPopPbb{}), "pop_pbb"},
		{act(&of.ActionExperimenter{Experimenter: 0x2320, Data: []byte{1, 2}}), "experimenter:0x2320:0x0102"},
		{&of.Action{}, "unknown_action"},
	}
	coveredActions := map[protoreflect.Name]bool{}
	for _, tt := range actions {
		if f := tt.action.ProtoReflect().WhichOneof(tt.action.ProtoReflect().Descriptor().Oneofs().ByName("action")); f != nil {
			coveredActions[f.Name()] = true
		}
		if got := FormatAction(tt.action); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
	checkOneofCovered(t, (&of.Action{}).ProtoReflect().Descriptor(), "action", coveredActions)

	instructions := []struct {
		in   *of.Instruction
		want string
	}{
		{gotoTable(1), "goto_table:1"},
		{writeMetadata(0x10, 0xffffffffffffffff), "write_metadata:0x10"},
		{writeMetadata(0x10, 0xff), "write_metadata:0x10/0xff"},
		{&of.Instruction{Instruction: &of.Instruction_WriteActions{WriteActions: &of.InstructionActions{
			Actions: []*of.Action{act(&of.ActionGroup{GroupId: 1})}}}}, "write_actions(group:1)"},
		{apply(popTag, out(5)), "pop_vlan,output:5"},
		{&of.Instruction{Instruction: &of.Instruction_ClearActions{ClearActions: &of.InstructionClearActions{}}}, "clear_actions"},
		{meter(3), "meter:3"},
		{&of.Instruction{Instruction: &of.Instruction_Experimenter{Experimenter: &of.InstructionExperimenter{Experimenter: 0x4f4e4600}}},
			"experimenter:0x4f4e4600"},
		{&of.Instruction{}, "unknown_instruction"},
	}
	coveredInstructions := map[protoreflect.Name]bool{}
	for _, tt := range instructions {
		if f := tt.in.ProtoReflect().WhichOneof(tt.in.ProtoReflect().Descriptor().Oneofs().ByName("instruction")); f != nil {
			coveredInstructions[f.Name()] = true
		}
		if got := FormatInstruction(tt.in); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
	checkOneofCovered(t, (&of.Instruction{}).ProtoReflect().Descriptor(), "instruction", coveredInstructions)
}

// checkOneofCovered fails for each member of a oneof that has no test, so a
// new action or instruction in the proto asks for its text.
func checkOneofCovered(t *testing.T, md protoreflect.MessageDescriptor, oneof string, covered map[protoreflect.Name]bool) {
	t.Helper()
	fields := md.Oneofs().ByName(protoreflect.Name(oneof)).Fields()
	for i := range fields.Len() {
		if name := fields.Get(i).Name(); !covered[name] {
			t.Errorf("no test for %s %s", oneof, name)
		}
	}
}

func TestGroupAndMeterText(t *testing.T) {
	buckets := []*of.Bucket{
		{Actions: []*of.Action{popTag, out(tUni)}},
		{Weight: 50, WatchPort: 0xffffffff, WatchGroup: 0xffffffff, Actions: []*of.Action{out(4128)}},
		{WatchPort: 3, WatchGroup: 2},
	}
	if got, want := FormatBuckets(buckets),
		"actions=pop_vlan,output:4112; weight:50,actions=output:4128; watch_port:3,watch_group:2,actions=drop"; got != want {
		t.Errorf("buckets:\n  %s\nwant\n  %s", got, want)
	}
	bands := []*of.MeterBand{
		{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 10000, BurstSize: 1000},
		{Type: of.MeterBandType_METER_BAND_TYPE_DSCP_REMARK, Rate: 5000, PrecLevel: 1},
		{Type: of.MeterBandType_METER_BAND_TYPE_EXPERIMENTER, Rate: 1, Experimenter: 0x2320},
	}
	if got, want := FormatBands(bands),
		"type=drop rate=10000 burst_size=1000; type=dscp_remark rate=5000 burst_size=0 prec_level=1; type=experimenter rate=1 burst_size=0 experimenter=0x2320"; got != want {
		t.Errorf("bands:\n  %s\nwant\n  %s", got, want)
	}
	for flags, want := range map[uint32]string{0: "", 1 | 4 | 8: "kbps,burst,stats", 2 | 0x20: "pktps,0x20"} {
		if got := FormatMeterFlags(flags); got != want {
			t.Errorf("meter flags %#x = %q, want %q", flags, got, want)
		}
	}
}

func TestPrefixLen(t *testing.T) {
	for _, tt := range []struct {
		mask []byte
		ones int
		ok   bool
	}{
		{[]byte{255, 255, 255, 0}, 24, true},
		{[]byte{255, 240, 0, 0}, 12, true},
		{[]byte{0, 0, 0, 0}, 0, true},
		{[]byte{255, 255, 255, 255}, 32, true},
		{[]byte{255, 0, 255, 0}, 0, false},
		{[]byte{255, 0xf1, 0, 0}, 0, false},
		{[]byte{0x7f, 0, 0, 0}, 0, false},
	} {
		ones, ok := prefixLen(tt.mask)
		if ones != tt.ones || ok != tt.ok {
			t.Errorf("prefixLen(%v) = %d, %v; want %d, %v", tt.mask, ones, ok, tt.ones, tt.ok)
		}
	}
}

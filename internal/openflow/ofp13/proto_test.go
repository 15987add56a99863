package ofp13

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// protoField returns a canonical MatchField of type t: bytes for MAC and
// IPv6 addresses, an integer otherwise, masked when masked is set.
func protoField(t of.MatchFieldType, masked bool) *of.MatchField {
	info := oxmFields[t-1]
	f := &of.MatchField{Type: t, HasMask: masked}
	if info.bytes {
		f.BytesValue = make([]byte, info.size)
		for i := range f.BytesValue {
			f.BytesValue[i] = byte(0x10 + i)
		}
		if masked {
			f.BytesMask = make([]byte, info.size)
			for i := range info.size / 2 {
				f.BytesMask[i] = 0xff
			}
			for i := info.size / 2; i < info.size; i++ {
				f.BytesValue[i] = 0
			}
		}
		return f
	}
	width := uint64(1)<<info.bits - 1
	if info.bits == 64 {
		width = ^uint64(0)
	}
	f.Value = 0x0123456789abcdef & width
	if masked {
		f.Mask = width &^ 1
		f.Value &= f.Mask
	}
	return f
}

func allMatchFieldTypes(t *testing.T) []of.MatchFieldType {
	var ts []of.MatchFieldType
	vals := of.MatchFieldType(0).Descriptor().Values()
	for i := range vals.Len() {
		if n := vals.Get(i).Number(); n != 0 {
			ts = append(ts, of.MatchFieldType(n))
		}
	}
	if len(ts) != int(numOXMFields) {
		t.Fatalf("proto has %d match field types, codec %d", len(ts), numOXMFields)
	}
	return ts
}

func protoActions(t *testing.T) []*of.Action {
	as := []*of.Action{
		{Action: &of.Action_Output{Output: &of.ActionOutput{Port: PortController, MaxLen: 0xffff}}},
		{Action: &of.Action_PushVlan{PushVlan: &of.ActionPushVlan{Ethertype: 0x88a8}}},
		{Action: &of.Action_PopVlan{PopVlan: &of.ActionPopVlan{}}},
		{Action: &of.Action_SetField{SetField: &of.ActionSetField{Field: protoField(of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, false)}}},
		{Action: &of.Action_Group{Group: &of.ActionGroup{GroupId: 5}}},
		{Action: &of.Action_SetQueue{SetQueue: &of.ActionSetQueue{QueueId: 6}}},
		{Action: &of.Action_PushMpls{PushMpls: &of.ActionPushMpls{Ethertype: 0x8847}}},
		{Action: &of.Action_PopMpls{PopMpls: &of.ActionPopMpls{Ethertype: 0x0800}}},
		{Action: &of.Action_SetMplsTtl{SetMplsTtl: &of.ActionSetMplsTtl{MplsTtl: 9}}},
		{Action: &of.Action_DecMplsTtl{DecMplsTtl: &of.ActionDecMplsTtl{}}},
		{Action: &of.Action_SetNwTtl{SetNwTtl: &of.ActionSetNwTtl{NwTtl: 10}}},
		{Action: &of.Action_DecNwTtl{DecNwTtl: &of.ActionDecNwTtl{}}},
		{Action: &of.Action_CopyTtlOut{CopyTtlOut: &of.ActionCopyTtlOut{}}},
		{Action: &of.Action_CopyTtlIn{CopyTtlIn: &of.ActionCopyTtlIn{}}},
		{Action: &of.Action_PushPbb{PushPbb: &of.ActionPushPbb{Ethertype: 0x88e7}}},
		{Action: &of.Action_PopPbb{PopPbb: &of.ActionPopPbb{}}},
		{Action: &of.Action_Experimenter{Experimenter: &of.ActionExperimenter{Experimenter: 0xabcdef, Data: []byte("12345678")}}},
	}
	// Every set-field the model can express.
	for _, ft := range allMatchFieldTypes(t) {
		as = append(as, &of.Action{Action: &of.Action_SetField{SetField: &of.ActionSetField{Field: protoField(ft, false)}}})
	}
	checkOneofCovered(t, (&of.Action{}).ProtoReflect().Descriptor().Oneofs().ByName("action"), func(yield func(protoreflect.Message)) {
		for _, a := range as {
			yield(a.ProtoReflect())
		}
	})
	return as
}

// checkOneofCovered fails unless the messages set every field of the oneof.
func checkOneofCovered(t *testing.T, o protoreflect.OneofDescriptor, each func(func(protoreflect.Message))) {
	t.Helper()
	seen := map[protoreflect.Name]bool{}
	each(func(m protoreflect.Message) {
		if f := m.WhichOneof(o); f != nil {
			seen[f.Name()] = true
		}
	})
	for i := range o.Fields().Len() {
		if n := o.Fields().Get(i).Name(); !seen[n] {
			t.Errorf("oneof %s: %s not covered", o.FullName(), n)
		}
	}
}

func protoInstructions(t *testing.T) []*of.Instruction {
	is := []*of.Instruction{
		{Instruction: &of.Instruction_Meter{Meter: &of.InstructionMeter{MeterId: 1}}},
		{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{Actions: protoActions(t)}}},
		{Instruction: &of.Instruction_ClearActions{ClearActions: &of.InstructionClearActions{}}},
		{Instruction: &of.Instruction_WriteActions{WriteActions: &of.InstructionActions{Actions: protoActions(t)[:3]}}},
		{Instruction: &of.Instruction_WriteMetadata{WriteMetadata: &of.InstructionWriteMetadata{Metadata: 0x64, MetadataMask: 0xfff}}},
		{Instruction: &of.Instruction_GotoTable{GotoTable: &of.InstructionGotoTable{TableId: 1}}},
		{Instruction: &of.Instruction_Experimenter{Experimenter: &of.InstructionExperimenter{Experimenter: 1, Data: []byte("abcdefgh")}}},
	}
	checkOneofCovered(t, (&of.Instruction{}).ProtoReflect().Descriptor().Oneofs().ByName("instruction"), func(yield func(protoreflect.Message)) {
		for _, i := range is {
			yield(i.ProtoReflect())
		}
	})
	return is
}

// A flow-mod from the core with every match field (masked where the
// field allows a mask), every action, every set-field and every
// instruction goes to the wire and back unchanged.
func TestProtoFlowModEverything(t *testing.T) {
	maskable := map[of.MatchFieldType]bool{}
	for _, n := range []OXMField{OXMMetadata, OXMEthDst, OXMEthSrc, OXMVlanVID, OXMIPv4Src, OXMIPv4Dst, OXMARPSPA,
		OXMARPTPA, OXMARPSHA, OXMARPTHA, OXMIPv6Src, OXMIPv6Dst, OXMIPv6FLabel, OXMPBBISID, OXMTunnelID, OXMIPv6Exthdr} {
		maskable[of.MatchFieldType(n+1)] = true
	}
	match := &of.Match{}
	for _, ft := range allMatchFieldTypes(t) {
		match.Fields = append(match.Fields, protoField(ft, maskable[ft]))
	}
	for cmd := of.FlowModCommand_FLOW_MOD_COMMAND_ADD; cmd <= of.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT; cmd++ {
		want := &of.FlowMod{
			Cookie: 0xfeed, CookieMask: 0xffff, TableId: 3, Command: cmd, IdleTimeout: 30, HardTimeout: 300,
			Priority: 65535, BufferId: NoBuffer, OutPort: PortAny, OutGroup: GroupAny, Flags: 0x1f,
			Match: match, Instructions: protoInstructions(t),
		}
		got := protoWireProto(t, want, FlowModFromProto, FlowModToProto)
		if !proto.Equal(want, got) {
			t.Fatalf("command %v: through the wire\nwant %v\ngot  %v", cmd, want, got)
		}
	}
}

// protoWireProto converts p to its wire message, encodes and decodes that,
// and converts back.
func protoWireProto[P proto.Message, M Message](t *testing.T, p P, from func(P) (M, error), to func(M) P) P {
	t.Helper()
	m, err := from(clone(p))
	if err != nil {
		t.Fatalf("FromProto: %v", err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return clone(to(d.(M)))
}

func TestProtoMessagesRoundTrip(t *testing.T) {
	inPort := &of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: 16}
	match := &of.Match{Fields: []*of.MatchField{inPort,
		{Type: of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, Value: VIDPresent | 4000},
		{Type: of.MatchFieldType_MATCH_FIELD_TYPE_ETH_DST, BytesValue: macBytes("01:80:c2:00:00:03")}}}
	port := &of.Port{PortNo: 16, HwAddr: macBytes("00:00:00:01:00:10"), Name: "uni-16", Config: 4, State: 4,
		Curr: 0x1020, Advertised: 0x1020, Supported: 0x1020, Peer: 0x1020, CurrSpeed: 1000000, MaxSpeed: 1000000}
	t.Run("GroupMod", func(t *testing.T) {
		for _, gt := range []of.GroupType{of.GroupType_GROUP_TYPE_ALL, of.GroupType_GROUP_TYPE_SELECT,
			of.GroupType_GROUP_TYPE_INDIRECT, of.GroupType_GROUP_TYPE_FAST_FAILOVER} {
			for _, c := range []of.GroupModCommand{of.GroupModCommand_GROUP_MOD_COMMAND_ADD,
				of.GroupModCommand_GROUP_MOD_COMMAND_MODIFY, of.GroupModCommand_GROUP_MOD_COMMAND_DELETE} {
				want := &of.GroupMod{Command: c, Type: gt, GroupId: 7, Buckets: []*of.Bucket{
					{Weight: 1, WatchPort: 2, WatchGroup: 3, Actions: protoActions(t)[:4]},
					{Weight: 65535, WatchPort: PortAny, WatchGroup: GroupAny}}}
				if got := protoWireProto(t, want, GroupModFromProto, GroupModToProto); !proto.Equal(want, got) {
					t.Fatalf("want %v\ngot  %v", want, got)
				}
			}
		}
	})
	t.Run("MeterMod", func(t *testing.T) {
		for _, c := range []of.MeterModCommand{of.MeterModCommand_METER_MOD_COMMAND_ADD,
			of.MeterModCommand_METER_MOD_COMMAND_MODIFY, of.MeterModCommand_METER_MOD_COMMAND_DELETE} {
			want := &of.MeterMod{Command: c, Flags: 0xf, MeterId: 9, Bands: []*of.MeterBand{
				{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 1000, BurstSize: 100},
				{Type: of.MeterBandType_METER_BAND_TYPE_DSCP_REMARK, Rate: 500, BurstSize: 50, PrecLevel: 2},
				{Type: of.MeterBandType_METER_BAND_TYPE_EXPERIMENTER, Rate: 1, BurstSize: 2, Experimenter: 0xabcdef}}}
			if got := protoWireProto(t, want, MeterModFromProto, MeterModToProto); !proto.Equal(want, got) {
				t.Fatalf("want %v\ngot  %v", want, got)
			}
		}
	})
	t.Run("PacketIn", func(t *testing.T) {
		for r := of.PacketInReason_PACKET_IN_REASON_NO_MATCH; r <= of.PacketInReason_PACKET_IN_REASON_INVALID_TTL; r++ {
			want := &of.PacketIn{BufferId: NoBuffer, TotalLen: uint32(len(sampleFrame)), Reason: r, TableId: 2,
				Cookie: 0xabc, Match: &of.Match{Fields: []*of.MatchField{inPort}}, Data: sampleFrame}
			if got := protoWireProto(t, want, PacketInFromProto, PacketInToProto); !proto.Equal(want, got) {
				t.Fatalf("want %v\ngot  %v", want, got)
			}
		}
	})
	t.Run("PacketOut", func(t *testing.T) {
		want := &of.PacketOut{BufferId: NoBuffer, InPort: PortController, Actions: protoActions(t)[:4], Data: sampleFrame}
		if got := protoWireProto(t, want, PacketOutFromProto, PacketOutToProto); !proto.Equal(want, got) {
			t.Fatalf("want %v\ngot  %v", want, got)
		}
	})
	t.Run("FlowRemoved", func(t *testing.T) {
		for r := of.FlowRemovedReason_FLOW_REMOVED_REASON_IDLE_TIMEOUT; r <= of.FlowRemovedReason_FLOW_REMOVED_REASON_METER_DELETE; r++ {
			want := &of.FlowRemoved{Cookie: 1, Priority: 2, Reason: r, TableId: 3, DurationSec: 4, DurationNsec: 5,
				IdleTimeout: 6, HardTimeout: 7, PacketCount: 8, ByteCount: 9, Match: match}
			if got := protoWireProto(t, want, FlowRemovedFromProto, FlowRemovedToProto); !proto.Equal(want, got) {
				t.Fatalf("want %v\ngot  %v", want, got)
			}
		}
	})
	t.Run("PortStatus", func(t *testing.T) {
		for r := of.PortReason_PORT_REASON_ADD; r <= of.PortReason_PORT_REASON_MODIFY; r++ {
			want := &of.PortStatus{Reason: r, Desc: port}
			if got := protoWireProto(t, want, PortStatusFromProto, PortStatusToProto); !proto.Equal(want, got) {
				t.Fatalf("want %v\ngot  %v", want, got)
			}
		}
	})
	t.Run("SwitchFeatures", func(t *testing.T) {
		want := &of.SwitchFeatures{DatapathId: 0xabc, NBuffers: 256, NTables: 2, AuxiliaryId: 0, Capabilities: 0xf}
		if got := protoWireProto(t, want, SwitchFeaturesFromProto, SwitchFeaturesToProto); !proto.Equal(want, got) {
			t.Fatalf("want %v\ngot  %v", want, got)
		}
	})
	t.Run("Desc", func(t *testing.T) {
		want := &of.Desc{MfrDesc: "OpenVOLT", HwDesc: "ponsim", SwDesc: "0.1", SerialNum: "PSMO0001", DpDesc: "olt-1"}
		from := func(d *of.Desc) (*DescReply, error) { return DescFromProto(d), nil }
		if got := protoWireProto(t, want, from, DescToProto); !proto.Equal(want, got) {
			t.Fatalf("want %v\ngot  %v", want, got)
		}
	})
	t.Run("MeterFeatures", func(t *testing.T) {
		want := &of.MeterFeatures{MaxMeter: 262144, BandTypes: 2, Capabilities: 0xf, MaxBands: 8, MaxColor: 1}
		if got := protoWireProto(t, want, MeterFeaturesFromProto, MeterFeaturesToProto); !proto.Equal(want, got) {
			t.Fatalf("want %v\ngot  %v", want, got)
		}
	})
	t.Run("GroupFeatures", func(t *testing.T) {
		want := &of.GroupFeatures{Types: 0xf, Capabilities: 5, MaxGroups: []uint32{1, 2, 3, 4}, Actions: []uint32{5, 6, 7, 8}}
		if got := protoWireProto(t, want, GroupFeaturesFromProto, GroupFeaturesToProto); !proto.Equal(want, got) {
			t.Fatalf("want %v\ngot  %v", want, got)
		}
	})
	t.Run("Entries", func(t *testing.T) {
		flow := &of.Flow{TableId: 1, DurationSec: 2, DurationNsec: 3, Priority: 4, IdleTimeout: 5, HardTimeout: 6,
			Flags: 1, Cookie: 7, PacketCount: 8, ByteCount: 9, Match: match, Instructions: protoInstructions(t)}
		fr, err := FlowStatsReplyFromProto([]*of.Flow{flow, flow})
		if err != nil {
			t.Fatal(err)
		}
		gd, err := GroupDescFromProto(&of.GroupDesc{Type: of.GroupType_GROUP_TYPE_SELECT, GroupId: 3,
			Buckets: []*of.Bucket{{Weight: 3, Actions: protoActions(t)[:1]}}})
		if err != nil {
			t.Fatal(err)
		}
		gs := GroupStatsFromProto(&of.GroupStats{GroupId: 1, RefCount: 2, PacketCount: 3, ByteCount: 4, DurationSec: 5,
			DurationNsec: 6, BucketStats: []*of.BucketCounter{{PacketCount: 7, ByteCount: 8}}})
		mc, err := MeterConfigFromProto(&of.MeterConfig{Flags: 9, MeterId: 1,
			Bands: []*of.MeterBand{{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		ms := MeterStatsFromProto(&of.MeterStats{MeterId: 1, FlowCount: 2, PacketInCount: 3, ByteInCount: 4,
			DurationSec: 5, DurationNsec: 6, BandStats: []*of.MeterBandStats{{PacketBandCount: 7, ByteBandCount: 8}}})
		ps := PortStatsFromProto(&of.PortStats{PortNo: 1, RxPackets: 2, TxPackets: 3, RxBytes: 4, TxBytes: 5,
			RxDropped: 6, TxDropped: 7, RxErrors: 8, TxErrors: 9, RxFrameErr: 10, RxOverErr: 11, RxCrcErr: 12,
			Collisions: 13, DurationSec: 14, DurationNsec: 15})
		pp, err := PortFromProto(port)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := TableStatsFromProto(&of.TableStats{TableId: 2, ActiveCount: 3, LookupCount: 4, MatchedCount: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []Message{fr, &GroupDescReply{Groups: []GroupDesc{gd}}, &GroupStatsReply{Stats: []GroupStats{gs}},
			&MeterConfigReply{Configs: []MeterConfig{mc}}, &MeterStatsReply{Stats: []MeterStats{ms}},
			&PortStatsReply{Stats: []PortStats{ps}}, &PortDescReply{Ports: []Port{pp}}, &TableStatsReply{Stats: []TableStats{ts}}} {
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			d, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			var ok bool
			switch d := d.(type) {
			case *FlowStatsReply:
				ok = proto.Equal(FlowStatsToProto(d.Stats[1]), flow)
			case *GroupDescReply:
				ok = proto.Equal(GroupDescToProto(d.Groups[0]), GroupDescToProto(gd))
			case *GroupStatsReply:
				ok = proto.Equal(GroupStatsToProto(d.Stats[0]), GroupStatsToProto(gs))
			case *MeterConfigReply:
				ok = proto.Equal(MeterConfigToProto(d.Configs[0]), MeterConfigToProto(mc))
			case *MeterStatsReply:
				ok = proto.Equal(MeterStatsToProto(d.Stats[0]), MeterStatsToProto(ms))
			case *PortStatsReply:
				ok = proto.Equal(PortStatsToProto(d.Stats[0]), PortStatsToProto(ps))
			case *PortDescReply:
				ok = proto.Equal(PortToProto(d.Ports[0]), port)
			case *TableStatsReply:
				ok = proto.Equal(TableStatsToProto(d.Stats[0]), TableStatsToProto(ts))
			}
			if !ok {
				t.Errorf("%T did not survive the wire", m)
			}
		}
	})
}

// FromProto accepts either representation of a value: bytes of the
// field's size for any field, an integer for MAC addresses.
func TestOXMFromProtoAlternateForms(t *testing.T) {
	for _, tc := range []struct {
		in   *of.MatchField
		want OXM
	}{
		{&of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, BytesValue: []byte{0, 0, 0, 5}}, OXMUint(OXMInPort, 5)},
		{&of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC, Value: 0x001122334455},
			OXM{Field: OXMEthSrc, Value: macBytes("00:11:22:33:44:55")}},
		{&of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, Value: VIDPresent, HasMask: true, Mask: VIDPresent},
			OXMUintMasked(OXMVlanVID, VIDPresent, VIDPresent)},
		{&of.MatchField{Type: of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID, Value: VIDNone}, OXMUint(OXMVlanVID, 0)},
	} {
		got, err := OXMFromProto(tc.in)
		if err != nil || got.String() != tc.want.String() {
			t.Errorf("OXMFromProto(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestFromProtoErrors(t *testing.T) {
	mf := func(t of.MatchFieldType, v uint64) *of.MatchField { return &of.MatchField{Type: t, Value: v} }
	const (
		inPort = of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT
		vid    = of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID
		pcp    = of.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP
		ethSrc = of.MatchFieldType_MATCH_FIELD_TYPE_ETH_SRC
		ip4src = of.MatchFieldType_MATCH_FIELD_TYPE_IPV4_SRC
		ip6src = of.MatchFieldType_MATCH_FIELD_TYPE_IPV6_SRC
	)
	flowMod := func(match []*of.MatchField, is ...*of.Instruction) func() error {
		return func() error {
			_, err := FlowModFromProto(&of.FlowMod{Command: of.FlowModCommand_FLOW_MOD_COMMAND_ADD,
				Match: &of.Match{Fields: match}, Instructions: is})
			return err
		}
	}
	apply := func(as ...*of.Action) *of.Instruction {
		return &of.Instruction{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{Actions: as}}}
	}
	setField := func(f *of.MatchField) *of.Action {
		return &of.Action{Action: &of.Action_SetField{SetField: &of.ActionSetField{Field: f}}}
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"unspecified field", flowMod([]*of.MatchField{mf(0, 1)}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadField}},
		{"unknown field", flowMod([]*of.MatchField{mf(41, 1)}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadField}},
		{"nil field", flowMod([]*of.MatchField{nil}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadField}},
		{"value too wide", flowMod([]*of.MatchField{mf(inPort, 1<<33)}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadValue}},
		{"vid beyond 13 bits", flowMod([]*of.MatchField{mf(vid, 0x2001)}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadValue}},
		{"pcp beyond 3 bits", flowMod([]*of.MatchField{mf(pcp, 8)}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadValue}},
		{"mac of 5 bytes", flowMod([]*of.MatchField{{Type: ethSrc, BytesValue: []byte{1, 2, 3, 4, 5}}}),
			&Error{Type: ErrTypeBadMatch, Code: BadMatchBadLen}},
		{"ipv6 mask of 4 bytes", flowMod([]*of.MatchField{{Type: ip6src, BytesValue: make([]byte, 16), HasMask: true,
			BytesMask: []byte{1, 2, 3, 4}}}), &Error{Type: ErrTypeBadMatch, Code: BadMatchBadMask}},
		{"value outside mask", flowMod([]*of.MatchField{{Type: ip4src, Value: 0x0a000001, HasMask: true, Mask: 0xff000000}}),
			&Error{Type: ErrTypeBadMatch, Code: BadMatchBadWildcards}},
		{"duplicate field", flowMod([]*of.MatchField{mf(inPort, 1), mf(inPort, 2)}), &Error{Type: ErrTypeBadMatch, Code: BadMatchDupField}},
		{"empty action", flowMod(nil, apply(&of.Action{})), &Error{Type: ErrTypeBadAction, Code: BadActionBadType}},
		{"max_len too wide", flowMod(nil, apply(&of.Action{Action: &of.Action_Output{Output: &of.ActionOutput{MaxLen: 1 << 16}}})),
			&Error{Type: ErrTypeBadAction, Code: BadActionBadArgument}},
		{"set_field masked", flowMod(nil, apply(setField(&of.MatchField{Type: vid, Value: 1, HasMask: true, Mask: 1}))),
			&Error{Type: ErrTypeBadAction, Code: BadActionBadSetArgument}},
		{"set_field unknown", flowMod(nil, apply(setField(mf(99, 1)))), &Error{Type: ErrTypeBadAction, Code: BadActionBadSetType}},
		{"set_field short mac", flowMod(nil, apply(setField(&of.MatchField{Type: ethSrc, BytesValue: []byte{1}}))),
			&Error{Type: ErrTypeBadAction, Code: BadActionBadSetLen}},
		{"set_field bad vid", flowMod(nil, apply(setField(mf(vid, 0x4000)))), &Error{Type: ErrTypeBadAction, Code: BadActionBadSetArgument}},
		{"empty instruction", flowMod(nil, &of.Instruction{}), &Error{Type: ErrTypeBadInstruction, Code: BadInstructionUnknownInst}},
		{"goto table 256", flowMod(nil, &of.Instruction{Instruction: &of.Instruction_GotoTable{GotoTable: &of.InstructionGotoTable{TableId: 256}}}),
			&Error{Type: ErrTypeBadInstruction, Code: BadInstructionBadTableID}},
		{"flow-mod without command", func() error { _, err := FlowModFromProto(&of.FlowMod{}); return err },
			&Error{Type: ErrTypeFlowModFailed, Code: FlowModFailedBadCommand}},
		{"flow-mod table 300", func() error {
			_, err := FlowModFromProto(&of.FlowMod{Command: of.FlowModCommand_FLOW_MOD_COMMAND_ADD, TableId: 300})
			return err
		}, &Error{Type: ErrTypeFlowModFailed, Code: FlowModFailedBadTableID}},
		{"flow-mod idle 70000", func() error {
			_, err := FlowModFromProto(&of.FlowMod{Command: of.FlowModCommand_FLOW_MOD_COMMAND_ADD, IdleTimeout: 70000})
			return err
		}, &Error{Type: ErrTypeFlowModFailed, Code: FlowModFailedBadTimeout}},
		{"flow-mod flags", func() error {
			_, err := FlowModFromProto(&of.FlowMod{Command: of.FlowModCommand_FLOW_MOD_COMMAND_ADD, Flags: 1 << 16})
			return err
		}, &Error{Type: ErrTypeFlowModFailed, Code: FlowModFailedBadFlags}},
		{"group-mod without command", func() error { _, err := GroupModFromProto(&of.GroupMod{}); return err },
			&Error{Type: ErrTypeGroupModFailed, Code: GroupModFailedBadCommand}},
		{"group-mod without type", func() error {
			_, err := GroupModFromProto(&of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_ADD})
			return err
		}, &Error{Type: ErrTypeGroupModFailed, Code: GroupModFailedBadType}},
		{"bucket weight", func() error {
			_, err := GroupModFromProto(&of.GroupMod{Command: of.GroupModCommand_GROUP_MOD_COMMAND_ADD,
				Type: of.GroupType_GROUP_TYPE_SELECT, Buckets: []*of.Bucket{{Weight: 1 << 16}}})
			return err
		}, &Error{Type: ErrTypeGroupModFailed, Code: GroupModFailedWeightUnsupported}},
		{"meter-mod without command", func() error { _, err := MeterModFromProto(&of.MeterMod{}); return err },
			&Error{Type: ErrTypeMeterModFailed, Code: MeterModFailedBadCommand}},
		{"meter band without type", func() error {
			_, err := MeterModFromProto(&of.MeterMod{Command: of.MeterModCommand_METER_MOD_COMMAND_ADD, Bands: []*of.MeterBand{{}}})
			return err
		}, &Error{Type: ErrTypeMeterModFailed, Code: MeterModFailedBadBand}},
		{"prec_level 300", func() error {
			_, err := MeterModFromProto(&of.MeterMod{Command: of.MeterModCommand_METER_MOD_COMMAND_ADD,
				Bands: []*of.MeterBand{{Type: of.MeterBandType_METER_BAND_TYPE_DSCP_REMARK, PrecLevel: 300}}})
			return err
		}, &Error{Type: ErrTypeMeterModFailed, Code: MeterModFailedBadBandValue}},
		{"packet-in without reason", func() error { _, err := PacketInFromProto(&of.PacketIn{}); return err }, ErrProto},
		{"port-status without reason", func() error { _, err := PortStatusFromProto(&of.PortStatus{}); return err }, ErrProto},
		{"flow-removed without reason", func() error { _, err := FlowRemovedFromProto(&of.FlowRemoved{}); return err }, ErrProto},
		{"port hw_addr of 5 bytes", func() error { _, err := PortFromProto(&of.Port{HwAddr: []byte{1, 2, 3, 4, 5}}); return err }, ErrProto},
		{"n_tables 256", func() error { _, err := SwitchFeaturesFromProto(&of.SwitchFeatures{NTables: 256}); return err }, ErrProto},
		{"five group types", func() error {
			_, err := GroupFeaturesFromProto(&of.GroupFeatures{MaxGroups: make([]uint32, 5)})
			return err
		}, ErrProto},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if oe, ok := AsError(err); ok && oe.Reason == "" {
				t.Errorf("error without a reason: %v", err)
			}
		})
	}
}

// OpenFlow strings are bytes; protobuf strings must be UTF-8, or the bus
// cannot marshal them.
func TestToProtoStringsValidUTF8(t *testing.T) {
	d := DescToProto(&DescReply{MfrDesc: "ok", HWDesc: "bad\xff\xfebytes"})
	p := PortToProto(Port{Name: "uni\x80"})
	if d.GetHwDesc() != "bad?bytes" || p.GetName() != "uni?" || d.GetMfrDesc() != "ok" {
		t.Errorf("got %q %q", d.GetHwDesc(), p.GetName())
	}
	if _, err := proto.Marshal(d); err != nil {
		t.Error(err)
	}
}

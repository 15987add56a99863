package ofp13

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
)

// Fixtures under testdata/peers are whole messages produced by real peers
// (see testdata/README.md): ovs-vswitchd and ovs-ofctl 3.1 captured on the
// wire, os-ken 2.5 serialized and captured. Each file is "#" comment lines
// (provenance and ovs-ofctl's decoding) followed by hex.

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			sb.WriteString(strings.TrimSpace(line))
		}
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func fixturePaths(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("testdata/peers/*/*.hex")
	if err != nil || len(paths) < 100 {
		t.Fatalf("found %d fixtures (%v)", len(paths), err)
	}
	return paths
}

func fixtureName(path string) string {
	return strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(path), "testdata/peers/"), ".hex")
}

// Fixtures that must be refused, and with what.
var fixtureErrors = map[string]*Error{
	// Queue statistics are not supported.
	"os-ken/queue_stats_request": {Type: ErrTypeBadRequest, Code: BadRequestBadMultipart},
}

// Every fixture decodes, and encodes back to the same bytes.
func TestPeerFixturesRoundTrip(t *testing.T) {
	for _, path := range fixturePaths(t) {
		name := fixtureName(path)
		t.Run(name, func(t *testing.T) {
			b := readFixture(t, path)
			m, err := Decode(b)
			if want, ok := fixtureErrors[name]; ok {
				if !errors.Is(err, want) {
					t.Fatalf("Decode = %v, want %v", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			out, err := m.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("re-encoded %T differs\npeer %x\nours %x", m, b, out)
			}
		})
	}
}

// Every fixture that the protobuf model can hold survives wire -> proto ->
// wire unchanged, byte for byte.
func TestPeerFixturesThroughProto(t *testing.T) {
	converted := 0
	for _, path := range fixturePaths(t) {
		name := fixtureName(path)
		if _, ok := fixtureErrors[name]; ok {
			continue
		}
		b := readFixture(t, path)
		m, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := viaProto(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if back == nil {
			continue
		}
		converted++
		*back.Hdr() = *m.Hdr()
		if f, ok := back.(multipartFlags); ok {
			*f.flagsPtr() = *m.(multipartFlags).flagsPtr()
		}
		out, err := back.MarshalBinary()
		if err != nil {
			t.Errorf("%s: MarshalBinary: %v", name, err)
			continue
		}
		if !bytes.Equal(out, b) {
			t.Errorf("%s: through proto differs\npeer %x\nours %x", name, b, out)
		}
	}
	if converted < 50 {
		t.Errorf("only %d fixtures went through the protobuf model", converted)
	}
}

// viaProto converts m to its protobuf model and back; nil when the model
// has no counterpart.
func viaProto(m Message) (Message, error) {
	switch m := m.(type) {
	case *FlowMod:
		return FlowModFromProto(clone(FlowModToProto(m)))
	case *GroupMod:
		return GroupModFromProto(clone(GroupModToProto(m)))
	case *MeterMod:
		return MeterModFromProto(clone(MeterModToProto(m)))
	case *PacketIn:
		return PacketInFromProto(clone(PacketInToProto(m)))
	case *PacketOut:
		return PacketOutFromProto(clone(PacketOutToProto(m)))
	case *FlowRemoved:
		return FlowRemovedFromProto(clone(FlowRemovedToProto(m)))
	case *PortStatus:
		return PortStatusFromProto(clone(PortStatusToProto(m)))
	case *FeaturesReply:
		r, err := SwitchFeaturesFromProto(clone(SwitchFeaturesToProto(m)))
		if r != nil {
			r.Reserved = m.Reserved
		}
		return r, err
	case *DescReply:
		return DescFromProto(clone(DescToProto(m))), nil
	case *FlowStatsReply:
		var flows []*FlowStatsReply
		for _, s := range m.Stats {
			f, err := FlowStatsFromProto(clone(FlowStatsToProto(s)))
			if err != nil {
				return nil, err
			}
			flows = append(flows, &FlowStatsReply{Stats: []FlowStats{f}})
		}
		out := &FlowStatsReply{}
		for _, f := range flows {
			out.Stats = append(out.Stats, f.Stats...)
		}
		return out, nil
	case *PortDescReply:
		out := &PortDescReply{}
		for _, p := range m.Ports {
			q, err := PortFromProto(clone(PortToProto(p)))
			if err != nil {
				return nil, err
			}
			out.Ports = append(out.Ports, q)
		}
		return out, nil
	case *PortStatsReply:
		out := &PortStatsReply{}
		for _, s := range m.Stats {
			out.Stats = append(out.Stats, PortStatsFromProto(clone(PortStatsToProto(s))))
		}
		return out, nil
	case *TableStatsReply:
		out := &TableStatsReply{}
		for _, s := range m.Stats {
			ts, err := TableStatsFromProto(clone(TableStatsToProto(s)))
			if err != nil {
				return nil, err
			}
			out.Stats = append(out.Stats, ts)
		}
		return out, nil
	case *GroupDescReply:
		out := &GroupDescReply{}
		for _, g := range m.Groups {
			d, err := GroupDescFromProto(clone(GroupDescToProto(g)))
			if err != nil {
				return nil, err
			}
			out.Groups = append(out.Groups, d)
		}
		return out, nil
	case *GroupStatsReply:
		out := &GroupStatsReply{}
		for _, s := range m.Stats {
			out.Stats = append(out.Stats, GroupStatsFromProto(clone(GroupStatsToProto(s))))
		}
		return out, nil
	case *GroupFeaturesReply:
		return GroupFeaturesFromProto(clone(GroupFeaturesToProto(m)))
	case *MeterConfigReply:
		out := &MeterConfigReply{}
		for _, c := range m.Configs {
			mc, err := MeterConfigFromProto(clone(MeterConfigToProto(c)))
			if err != nil {
				return nil, err
			}
			out.Configs = append(out.Configs, mc)
		}
		return out, nil
	case *MeterStatsReply:
		out := &MeterStatsReply{}
		for _, s := range m.Stats {
			out.Stats = append(out.Stats, MeterStatsFromProto(clone(MeterStatsToProto(s))))
		}
		return out, nil
	case *MeterFeaturesReply:
		return MeterFeaturesFromProto(clone(MeterFeaturesToProto(m)))
	}
	return nil, nil
}

// clone sends a protobuf message through its own encoding, so that the
// conversions are exercised on what the bus would deliver.
func clone[T proto.Message](m T) T {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	out := m.ProtoReflect().New().Interface().(T)
	if err := proto.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

func decodeFixture(t *testing.T, name string) Message {
	t.Helper()
	m, err := Decode(readFixture(t, "testdata/peers/"+name+".hex"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func ipv4(a, b, c, d byte) uint64 { return uint64(a)<<24 | uint64(b)<<16 | uint64(c)<<8 | uint64(d) }

// The decoded values of peer fixtures, checked by hand against what
// ovs-ofctl ofp-print says about the same bytes (the comments in each
// fixture file).
func TestPeerFixturesDecoded(t *testing.T) {
	u := OXMUint
	ignoreHeader := cmpopts.IgnoreTypes(Header{})
	for _, tc := range []struct {
		name string
		want Message
	}{
		{"ovs-vswitchd/hello", &Hello{VersionBitmap: []uint32{1 << 4}}},
		{"ovs-vswitchd/features_reply", &FeaturesReply{DatapathID: 0xabc, NTables: 254,
			Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats | CapQueueStats}},
		// ADD priority=1000,in_port=1,dl_vlan=100 cookie:0x1234 actions=meter:1,push_vlan:0x88a8,
		// set_field:4296->vlan_vid,write_metadata:0x64/0xfff,goto_table:1
		{"ovs-ofctl/flow_mod_olt_upstream", &FlowMod{
			Cookie: 0x1234, Command: FlowAdd, Priority: 1000, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
			Match: Match{Fields: []OXM{u(OXMInPort, 1), u(OXMVlanVID, VIDPresent|100)}},
			Instructions: []Instruction{
				&InstructionMeter{MeterID: 1},
				&InstructionApplyActions{Actions: []Action{
					&ActionPushVLAN{EtherType: 0x88a8},
					&ActionSetField{Field: u(OXMVlanVID, 4296)},
				}},
				&InstructionWriteMetadata{Metadata: 0x64, Mask: 0xfff},
				&InstructionGotoTable{TableID: 1},
			}}},
		// ADD priority=50000,udp,in_port=1,dl_vlan=100,tp_src=68,tp_dst=67 actions=CONTROLLER:65535
		{"ovs-ofctl/flow_mod_trap_dhcp", &FlowMod{
			Command: FlowAdd, Priority: 50000, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
			Match: Match{Fields: []OXM{u(OXMInPort, 1), u(OXMEthType, 0x0800), u(OXMVlanVID, VIDPresent|100),
				u(OXMIPProto, 17), u(OXMUDPSrc, 68), u(OXMUDPDst, 67)}},
			Instructions: []Instruction{&InstructionApplyActions{Actions: []Action{
				&ActionOutput{Port: PortController, MaxLen: 0xffff}}}}}},
		// in_port=1 (via action) data_len=54 (unbuffered)
		{"ovs-vswitchd/packet_in", &PacketIn{
			BufferID: NoBuffer, TotalLen: 54, Reason: PacketInReasonAction,
			Match: Match{Fields: []OXM{u(OXMInPort, 1)}}, Data: sampleFrame}},
		// table_id=7 cookie=0x0 total_len=50 metadata=0x64,in_port=1 (via no_match)
		{"ovs-vswitchd/packet_in_table_miss_metadata", &PacketIn{
			BufferID: NoBuffer, TotalLen: 50, Reason: PacketInReasonNoMatch, TableID: 7,
			Match: Match{Fields: []OXM{u(OXMInPort, 1), u(OXMMetadata, 0x64)}},
			Data:  append(append([]byte{}, sampleFrame[:12]...), sampleFrame[16:]...)}},
		// priority=200,udp,tun_id=0x10,metadata=0x5/0xff,in_port=1,dl_vlan=100,dl_vlan_pcp=3,
		// dl_src=00:11:22:33:44:55,dl_dst=01:00:5e:00:00:00/ff:ff:ff:00:00:00,nw_src=10.1.0.0/16,
		// nw_dst=10.0.0.1,tp_src=68,tp_dst=67 reason=delete table_id=1 idle60 hard600
		{"ovs-vswitchd/flow_removed_delete", &FlowRemoved{
			Priority: 200, Reason: FlowRemovedDelete, TableID: 1, DurationSec: 11, DurationNsec: 405000000,
			IdleTimeout: 60, HardTimeout: 600,
			Match: Match{Fields: []OXM{
				u(OXMInPort, 1),
				{Field: OXMEthSrc, Value: macBytes("00:11:22:33:44:55")},
				{Field: OXMEthDst, Value: macBytes("01:00:5e:00:00:00"), Mask: macBytes("ff:ff:ff:00:00:00")},
				u(OXMEthType, 0x0800), u(OXMVlanVID, VIDPresent|100), u(OXMVlanPCP, 3),
				OXMUintMasked(OXMIPv4Src, ipv4(10, 1, 0, 0), 0xffff0000), u(OXMIPv4Dst, ipv4(10, 0, 0, 1)),
				u(OXMIPProto, 17), u(OXMUDPSrc, 68), u(OXMUDPDst, 67),
				u(OXMTunnelID, 0x10), OXMUintMasked(OXMMetadata, 5, 0xff),
			}}}},
		// ADD meter=1 kbps burst stats bands= type=drop rate=10000 burst_size=1000
		{"ovs-ofctl/meter_mod_add_kbps_drop", &MeterMod{Command: MeterAdd, MeterID: 1,
			Flags: MeterFlagKBPS | MeterFlagBurst | MeterFlagStats,
			Bands: []MeterBand{{Type: MeterBandDrop, Rate: 10000, BurstSize: 1000}}}},
		{"ovs-ofctl/meter_mod_add_dscp_remark", &MeterMod{Command: MeterAdd, MeterID: 3, Flags: MeterFlagKBPS,
			Bands: []MeterBand{{Type: MeterBandDSCPRemark, Rate: 500, PrecLevel: 1}}}},
		// group_id=1,type=all,bucket=output:1,bucket=actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1
		{"ovs-ofctl/group_mod_add_all", &GroupMod{Command: GroupAdd, Type: GroupTypeAll, GroupID: 1, Buckets: []Bucket{
			{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
			{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{
				&ActionPushVLAN{EtherType: 0x8100}, &ActionSetField{Field: u(OXMVlanVID, 4196)}, &ActionOutput{Port: 1}}},
		}}},
		{"ovs-ofctl/group_mod_add_ff", &GroupMod{Command: GroupAdd, Type: GroupTypeFastFailover, GroupID: 3, Buckets: []Bucket{
			{WatchPort: 1, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
		}}},
		// OFPBAC_BAD_OUT_GROUP, carrying the start of the refused flow-mod
		{"ovs-vswitchd/error_bad_out_group", &ErrorMsg{Type: ErrTypeBadAction, Code: BadActionBadOutGroup,
			Data: readFixture(t, "testdata/peers/ovs-ofctl/flow_mod_bad_group.hex")}},
		{"ovs-vswitchd/error_role_stale", &ErrorMsg{Type: ErrTypeRoleRequestFailed, Code: RoleRequestFailedStale,
			Data: mustHex("04180018d14354d300000003000000000000000000000006")}},
		{"ovs-vswitchd/role_reply_master", &RoleReply{Role: RoleMaster, GenerationID: 7}},
		{"ovs-vswitchd/get_async_reply", &GetAsyncReply{AsyncConfig: AsyncConfig{
			PacketInMask: [2]uint32{3, 0}, PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{15, 0}}}},
		{"os-ken/set_async", &SetAsync{AsyncConfig: AsyncConfig{
			PacketInMask: [2]uint32{7, 0}, PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{15, 0}}}},
		// max_meter:262144 max_bands:8 max_color:0 band_types: drop capabilities: kbps pktps burst stats
		{"ovs-vswitchd/meter_features_reply", &MeterFeaturesReply{MaxMeter: 262144, BandTypes: 1 << MeterBandDrop,
			Capabilities: 0xf, MaxBands: 8}},
		{"ovs-vswitchd/aggregate_reply", &AggregateStatsReply{FlowCount: 7}},
		{"ovs-vswitchd/port_status_add", &PortStatus{Reason: PortReasonAdd, Desc: Port{PortNo: 2, Name: "p2",
			HWAddr: mac("aa:55:aa:55:00:10")}}},
		{"ovs-ofctl/port_mod", &PortMod{PortNo: 1, HWAddr: mac("aa:55:aa:55:00:0f"), Config: 0, Mask: 0, Advertise: 0}},
		{"os-ken/role_request_slave", &RoleRequest{Role: RoleSlave, GenerationID: 0xfffffffffffffff0}},
		{"os-ken/meter_mod_drop_dscp", &MeterMod{Command: MeterAdd, MeterID: 3,
			Flags: MeterFlagKBPS | MeterFlagBurst | MeterFlagStats, Bands: []MeterBand{
				{Type: MeterBandDrop, Rate: 20000, BurstSize: 2000},
				{Type: MeterBandDSCPRemark, Rate: 10000, BurstSize: 1000, PrecLevel: 2}}}},
		{"os-ken/group_mod_ff_watch", &GroupMod{Command: GroupModify, Type: GroupTypeFastFailover, GroupID: 17,
			Buckets: []Bucket{
				{WatchPort: 1, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
				{WatchPort: PortAny, WatchGroup: 18, Actions: []Action{&ActionGroup{GroupID: 18}}}}}},
		{"os-ken/flow_mod_not_in_ovs", &FlowMod{Cookie: 0xfeed, Command: FlowAdd, Priority: 100, BufferID: NoBuffer,
			OutPort: PortAny, OutGroup: GroupAny,
			Match: Match{Fields: []OXM{u(OXMInPort, 1), u(OXMInPhyPort, 1), u(OXMEthType, 0x88e7),
				OXMUintMasked(OXMPBBISID, 0xabcdef, 0xffffff)}},
			Instructions: []Instruction{&InstructionApplyActions{Actions: []Action{
				&ActionCopyTTLOut{}, &ActionCopyTTLIn{}, &ActionPushPBB{EtherType: 0x88e7}, &ActionPopPBB{},
				&ActionSetField{Field: OXM{Field: OXMIPv6Src, Value: []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}},
				&ActionExperimenter{Experimenter: 0xabcdef, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
				&ActionOutput{Port: 1},
			}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeFixture(t, tc.name)
			if diff := cmp.Diff(tc.want, got, ignoreHeader); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Spot checks of the larger replies.
func TestPeerFixturesReplies(t *testing.T) {
	ports := decodeFixture(t, "ovs-vswitchd/port_desc_reply").(*PortDescReply).Ports
	if len(ports) != 2 || ports[0].PortNo != PortLocal || ports[0].Name != "br0" || ports[0].State != PortStateLive ||
		ports[1].PortNo != 1 || ports[1].Name != "p1" || ports[1].HWAddr != mac("aa:55:aa:55:00:0f") {
		t.Errorf("port desc %+v", ports)
	}
	tables := decodeFixture(t, "ovs-vswitchd/table_stats_reply").(*TableStatsReply).Stats
	if len(tables) != 254 || tables[253].TableID != 253 {
		t.Errorf("%d table stats", len(tables))
	}
	flows := decodeFixture(t, "ovs-vswitchd/flow_stats_reply_table0").(*FlowStatsReply).Stats
	if len(flows) != 2 || flows[1].Cookie != 0x1234 || flows[1].Priority != 1000 || len(flows[1].Instructions) != 4 {
		t.Errorf("flow stats %+v", flows)
	}
	groups := decodeFixture(t, "ovs-vswitchd/group_desc_reply").(*GroupDescReply).Groups
	if len(groups) != 4 || groups[2].Type != GroupTypeSelect || groups[2].Buckets[1].Weight != 20 {
		t.Errorf("group desc %+v", groups)
	}
	gf := decodeFixture(t, "ovs-vswitchd/group_features_reply").(*GroupFeaturesReply)
	if gf.Types != 0xf || gf.Capabilities != 7 || gf.MaxGroups[3] != GroupMax {
		t.Errorf("group features %+v", gf)
	}
	mc := decodeFixture(t, "ovs-vswitchd/meter_config_reply").(*MeterConfigReply).Configs
	if len(mc) != 2 || mc[1].MeterID != 2 || mc[1].Flags != MeterFlagPKTPS|MeterFlagStats || mc[1].Bands[0].Rate != 100 {
		t.Errorf("meter config %+v", mc)
	}
	ms := decodeFixture(t, "ovs-vswitchd/meter_stats_reply").(*MeterStatsReply).Stats
	if len(ms) != 2 || ms[0].FlowCount != 1 || len(ms[0].BandStats) != 1 {
		t.Errorf("meter stats %+v", ms)
	}
	tf := decodeFixture(t, "ovs-vswitchd/table_features_reply_last").(*TableFeaturesReply)
	if len(tf.Tables) == 0 || tf.Tables[len(tf.Tables)-1].TableID != 253 || tf.Flags&MultipartReplyMore != 0 {
		t.Errorf("table features: %d tables, flags %#x", len(tf.Tables), tf.Flags)
	}
	req := decodeFixture(t, "ovs-ofctl/flow_stats_request_match").(*FlowStatsRequest)
	if req.TableID != 0 || req.OutPort != PortAny || len(req.Match.Fields) != 1 || req.Match.Fields[0].Uint() != 1 {
		t.Errorf("flow stats request %+v", req)
	}
}

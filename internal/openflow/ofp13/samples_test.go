package ofp13

// Sample values shared by the round-trip, interop and fuzz tests: at least
// one of every message, every OXM field, every action and instruction.

func mac(s string) [6]byte {
	var m [6]byte
	var n int
	for i := 0; i < len(s) && n < 6; i += 3 {
		m[n] = unhex(s[i])<<4 | unhex(s[i+1])
		n++
	}
	return m
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func macBytes(s string) []byte { m := mac(s); return m[:] }

// allFieldsMatches returns matches that together use every OXM field, with
// masks where the spec allows them, each match consistent enough for OVS
// to print.
func allFieldsMatches() []Match {
	u := OXMUint
	um := OXMUintMasked
	ip6 := func(f OXMField, last byte) OXM {
		v := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last}
		return OXM{Field: f, Value: v}
	}
	return []Match{
		{Fields: []OXM{
			u(OXMInPort, 1), um(OXMMetadata, 0x5, 0xff),
			{Field: OXMEthDst, Value: macBytes("01:00:5e:00:00:00"), Mask: macBytes("ff:ff:ff:00:00:00")},
			{Field: OXMEthSrc, Value: macBytes("00:11:22:33:44:55")},
			u(OXMEthType, 0x0800), u(OXMVlanVID, VIDPresent|100), u(OXMVlanPCP, 5),
			u(OXMIPDSCP, 46), u(OXMIPECN, 1), u(OXMIPProto, 6),
			um(OXMIPv4Src, 0x0a000000, 0xff000000), u(OXMIPv4Dst, 0x0a010203),
			u(OXMTCPSrc, 1024), u(OXMTCPDst, 80), um(OXMTunnelID, 0x10, 0xffff),
		}},
		{Fields: []OXM{u(OXMInPort, 0x100000), u(OXMEthType, 0x0800), u(OXMIPProto, 17), u(OXMUDPSrc, 68), u(OXMUDPDst, 67)}},
		{Fields: []OXM{u(OXMEthType, 0x0800), u(OXMIPProto, 132), u(OXMSCTPSrc, 9), u(OXMSCTPDst, 10)}},
		{Fields: []OXM{u(OXMEthType, 0x0800), u(OXMIPProto, 1), u(OXMICMPv4Type, 8), u(OXMICMPv4Code, 0)}},
		{Fields: []OXM{
			u(OXMEthType, 0x0806), u(OXMARPOp, 1), um(OXMARPSPA, 0xc0a80100, 0xffffff00), u(OXMARPTPA, 0xc0a80101),
			{Field: OXMARPSHA, Value: macBytes("00:11:22:00:00:00"), Mask: macBytes("ff:ff:ff:00:00:00")},
			{Field: OXMARPTHA, Value: macBytes("00:00:00:00:00:00")},
		}},
		{Fields: []OXM{
			u(OXMEthType, 0x86dd), ip6(OXMIPv6Src, 1), ip6(OXMIPv6Dst, 2), um(OXMIPv6FLabel, 0x12345, 0xfffff),
			u(OXMIPProto, 58), u(OXMICMPv6Type, 135), u(OXMICMPv6Code, 0), ip6(OXMIPv6NDTarget, 7),
			{Field: OXMIPv6NDSLL, Value: macBytes("00:11:22:33:44:55")},
		}},
		{Fields: []OXM{
			u(OXMEthType, 0x86dd), u(OXMIPProto, 58), u(OXMICMPv6Type, 136),
			{Field: OXMIPv6NDTLL, Value: macBytes("66:77:88:99:aa:bb")},
		}},
		{Fields: []OXM{u(OXMEthType, 0x8847), u(OXMMPLSLabel, 0xfffff), u(OXMMPLSTC, 7), u(OXMMPLSBoS, 1)}},
		// Fields OVS 3.1 does not implement: in_phy_port, pbb_isid, ipv6_exthdr.
		{Fields: []OXM{u(OXMInPort, 1), u(OXMInPhyPort, 1), u(OXMEthType, 0x88e7), um(OXMPBBISID, 0xabcdef, 0xffffff)}},
		{Fields: []OXM{u(OXMEthType, 0x86dd), um(OXMIPv6Exthdr, 0x100, 0x1ff)}},
		{}, // the empty match
	}
}

// allActions has every action type once.
func allActions() []Action {
	return []Action{
		&ActionOutput{Port: PortController, MaxLen: ControllerMaxLenNoBuffer},
		&ActionCopyTTLOut{}, &ActionCopyTTLIn{},
		&ActionSetMPLSTTL{TTL: 64}, &ActionDecMPLSTTL{},
		&ActionPushVLAN{EtherType: 0x88a8},
		&ActionSetField{Field: OXMUint(OXMVlanVID, VIDPresent|200)},
		&ActionPopVLAN{},
		&ActionPushMPLS{EtherType: 0x8847}, &ActionPopMPLS{EtherType: 0x0800},
		&ActionSetQueue{QueueID: 7}, &ActionGroup{GroupID: 9},
		&ActionSetNWTTL{TTL: 32}, &ActionDecNWTTL{},
		&ActionSetField{Field: OXM{Field: OXMEthSrc, Value: macBytes("02:00:00:00:00:01")}},
		&ActionSetField{Field: OXM{Field: OXMIPv6Src, Value: []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}},
		&ActionPushPBB{EtherType: 0x88e7}, &ActionPopPBB{},
		&ActionExperimenter{Experimenter: 0x00abcdef, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	}
}

// allInstructions has every instruction type once.
func allInstructions() []Instruction {
	return []Instruction{
		&InstructionMeter{MeterID: 1},
		&InstructionApplyActions{Actions: allActions()},
		&InstructionClearActions{},
		&InstructionWriteActions{Actions: []Action{&ActionOutput{Port: 2}}},
		&InstructionWriteMetadata{Metadata: 0x64, Mask: 0xfff},
		&InstructionGotoTable{TableID: 1},
		&InstructionExperimenter{Experimenter: 0x00abcdef, Data: []byte{9, 9, 9, 9, 9, 9, 9, 9}},
	}
}

func samplePort(no uint32, name string) Port {
	return Port{
		PortNo: no, HWAddr: mac("aa:55:aa:55:00:0f"), Name: name,
		Config: PortConfigNoPacketIn, State: PortStateLive,
		Curr:       PortFeature10GbFD | PortFeatureFiber,
		Advertised: PortFeature10GbFD, Supported: PortFeature10GbFD | PortFeature1GbFD, Peer: 0,
		CurrSpeed: 10000000, MaxSpeed: 10000000,
	}
}

func sampleFlowStats() []FlowStats {
	var out []FlowStats
	for i, m := range allFieldsMatches() {
		out = append(out, FlowStats{
			TableID: uint8(i), DurationSec: 10, DurationNsec: 5000, Priority: uint16(1000 + i),
			IdleTimeout: 0, HardTimeout: 60, Flags: FlowFlagSendFlowRem, Cookie: uint64(i) << 32,
			PacketCount: 12, ByteCount: 3400, Match: m,
			Instructions: []Instruction{&InstructionApplyActions{Actions: []Action{&ActionOutput{Port: 1}}}},
		})
	}
	out[0].Instructions = allInstructions()
	return out
}

var sampleFrame = []byte{
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x81, 0x00, 0x60, 0x64, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0xf9, 0xc9, 0x0a, 0x01, 0x00, 0x02,
	0xff, 0xff, 0xff, 0xff, 0x00, 0x44, 0x00, 0x43, 0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8,
}

// sampleMessages returns one or more of every message this codec knows,
// each with its xid set and most fields non-zero.
func sampleMessages() []Message {
	h := func(xid uint32) Header { return Header{Xid: xid} }
	var msgs []Message
	msgs = append(msgs,
		NewHello(1),
		&Hello{Header: h(2)},
		&Hello{Header: Header{Version: 6, Xid: 3}, VersionBitmap: []uint32{1<<1 | 1<<4 | 1<<6}},
		&ErrorMsg{Header: h(4), Type: ErrTypeBadMatch, Code: BadMatchBadField, Data: []byte{4, 14, 0, 72, 0, 0, 0, 9}},
		&ErrorMsg{Header: h(5), Type: ErrTypeExperimenter, Code: 7, Experimenter: 0x2320, Data: []byte("x")},
		&EchoRequest{Header: h(6), Data: []byte("ping")},
		&EchoReply{Header: h(7), Data: []byte("ping")},
		&EchoRequest{Header: h(8)},
		&Experimenter{Header: h(9), Experimenter: 0x00abcdef, ExpType: 42, Data: []byte("hello!!!")},
		&FeaturesRequest{Header: h(10)},
		&FeaturesReply{Header: h(11), DatapathID: 0x0000aabbccddeeff, NBuffers: 256, NTables: 2, AuxiliaryID: 0,
			Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats, Reserved: 0},
		&GetConfigRequest{Header: h(12)},
		&GetConfigReply{Header: h(13), Flags: ConfigFragNormal, MissSendLen: DefaultMissSendLen},
		&SetConfig{Header: h(14), Flags: ConfigFragDrop, MissSendLen: 0xffff},
		&PacketIn{Header: h(15), BufferID: NoBuffer, TotalLen: uint16(len(sampleFrame)), Reason: PacketInReasonAction,
			TableID: 0, Cookie: 0x1234, Match: Match{Fields: []OXM{OXMUint(OXMInPort, 0x100), OXMUint(OXMMetadata, 7),
				OXMUint(OXMTunnelID, 3)}}, Data: sampleFrame},
		&PacketIn{Header: h(16), BufferID: 77, TotalLen: 1500, Reason: PacketInReasonNoMatch, TableID: 3,
			Match: Match{Fields: []OXM{OXMUint(OXMInPort, 1)}}, Data: sampleFrame[:14]},
		&FlowRemoved{Header: h(17), Cookie: 0x77, Priority: 7, Reason: FlowRemovedHardTimeout, TableID: 5,
			DurationSec: 1, DurationNsec: 2000000, IdleTimeout: 0, HardTimeout: 1, PacketCount: 3, ByteCount: 180,
			Match: allFieldsMatches()[0]},
		&PortStatus{Header: h(18), Reason: PortReasonModify, Desc: samplePort(16, "uni-16")},
		&PacketOut{Header: h(19), BufferID: NoBuffer, InPort: PortController,
			Actions: []Action{&ActionPushVLAN{EtherType: 0x8100}, &ActionSetField{Field: OXMUint(OXMVlanVID, VIDPresent|7)},
				&ActionOutput{Port: 1}}, Data: sampleFrame},
		&PacketOut{Header: h(20), BufferID: 12, InPort: 3, Actions: []Action{&ActionOutput{Port: PortTable}}},
		&GroupMod{Header: h(23), Command: GroupAdd, Type: GroupTypeAll, GroupID: 1, Buckets: []Bucket{
			{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
			{WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionPushVLAN{EtherType: 0x8100},
				&ActionSetField{Field: OXMUint(OXMVlanVID, VIDPresent|100)}, &ActionOutput{Port: 2}}},
		}},
		&GroupMod{Header: h(24), Command: GroupModify, Type: GroupTypeSelect, GroupID: 2, Buckets: []Bucket{
			{Weight: 10, WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
			{Weight: 20, WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 2}}},
		}},
		&GroupMod{Header: h(25), Command: GroupAdd, Type: GroupTypeFastFailover, GroupID: 3, Buckets: []Bucket{
			{WatchPort: 1, WatchGroup: GroupAny, Actions: []Action{&ActionOutput{Port: 1}}},
			{WatchPort: PortAny, WatchGroup: 4, Actions: []Action{&ActionGroup{GroupID: 4}}},
		}},
		&GroupMod{Header: h(26), Command: GroupDelete, Type: GroupTypeIndirect, GroupID: GroupAll},
		&PortMod{Header: h(27), PortNo: 3, HWAddr: mac("0a:0b:0c:0d:0e:0f"), Config: PortConfigPortDown,
			Mask: PortConfigPortDown, Advertise: PortFeature10GbFD},
		&TableMod{Header: h(28), TableID: 2, Config: 3},
		&BarrierRequest{Header: h(29)},
		&BarrierReply{Header: h(30)},
		&RoleRequest{Header: h(31), Role: RoleMaster, GenerationID: 7},
		&RoleReply{Header: h(32), Role: RoleSlave, GenerationID: 0xfffffffffffffff0},
		&GetAsyncRequest{Header: h(33)},
		&GetAsyncReply{Header: h(34), AsyncConfig: AsyncConfig{PacketInMask: [2]uint32{7, 0},
			PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{15, 0}}},
		&SetAsync{Header: h(35), AsyncConfig: AsyncConfig{PacketInMask: [2]uint32{1, 0},
			PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{0, 0}}},
		&MeterMod{Header: h(36), Command: MeterAdd, Flags: MeterFlagKBPS | MeterFlagBurst | MeterFlagStats, MeterID: 1,
			Bands: []MeterBand{{Type: MeterBandDrop, Rate: 10000, BurstSize: 1000}}},
		&MeterMod{Header: h(37), Command: MeterModify, Flags: MeterFlagPKTPS, MeterID: 2,
			Bands: []MeterBand{{Type: MeterBandDrop, Rate: 100}, {Type: MeterBandDSCPRemark, Rate: 50, PrecLevel: 1},
				{Type: MeterBandExperimenter, Rate: 10, BurstSize: 1, Experimenter: 0xabcdef, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}},
		&MeterMod{Header: h(38), Command: MeterDelete, MeterID: MeterAll},
		&DescRequest{Header: h(40)},
		&DescReply{Header: h(41), MfrDesc: "OpenVOLT", HWDesc: "simulated OLT", SWDesc: "volt 0.1",
			SerialNum: "PSMO12345678", DPDesc: "olt-1 logical device"},
		&FlowStatsRequest{Header: h(42), TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny},
		&FlowStatsRequest{Header: h(43), TableID: 0, OutPort: 5, OutGroup: 9, Cookie: 1, CookieMask: 0xff,
			Match: Match{Fields: []OXM{OXMUint(OXMInPort, 3), OXMUint(OXMEthType, 0x88cc)}}},
		&FlowStatsReply{Header: h(44), Stats: sampleFlowStats()},
		&FlowStatsReply{Header: h(45), Flags: MultipartReplyMore},
		&AggregateStatsRequest{Header: h(46), TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny},
		&AggregateStatsReply{Header: h(47), PacketCount: 10, ByteCount: 1000, FlowCount: 4},
		&TableStatsRequest{Header: h(48)},
		&TableStatsReply{Header: h(49), Stats: []TableStats{{TableID: 0, ActiveCount: 4, LookupCount: 100, MatchedCount: 90},
			{TableID: 1, ActiveCount: 1, LookupCount: 90, MatchedCount: 90}}},
		&PortStatsRequest{Header: h(50), PortNo: PortAny},
		&PortStatsReply{Header: h(51), Stats: []PortStats{{PortNo: 1, RxPackets: 1, TxPackets: 2, RxBytes: 3, TxBytes: 4,
			RxDropped: 5, TxDropped: 6, RxErrors: 7, TxErrors: 8, RxFrameErr: 9, RxOverErr: 10, RxCRCErr: 11,
			Collisions: 12, DurationSec: 13, DurationNsec: 14}, {PortNo: PortLocal}}},
		&PortDescRequest{Header: h(52)},
		&PortDescReply{Header: h(53), Ports: []Port{samplePort(1, "nni-1048576"), samplePort(PortLocal, "br0")}},
		&GroupStatsRequest{Header: h(54), GroupID: GroupAll},
		&GroupStatsReply{Header: h(55), Stats: []GroupStats{{GroupID: 1, RefCount: 2, PacketCount: 3, ByteCount: 4,
			DurationSec: 5, DurationNsec: 6, BucketStats: []BucketCounter{{1, 2}, {3, 4}}}, {GroupID: 2}}},
		&GroupDescRequest{Header: h(56)},
		&GroupDescReply{Header: h(57), Groups: []GroupDesc{
			{Type: GroupTypeAll, GroupID: 1, Buckets: []Bucket{{WatchPort: PortAny, WatchGroup: GroupAny,
				Actions: []Action{&ActionOutput{Port: 1}}}}},
			{Type: GroupTypeIndirect, GroupID: 4},
		}},
		&GroupFeaturesRequest{Header: h(58)},
		&GroupFeaturesReply{Header: h(59), Types: 0xf, Capabilities: GroupCapSelectWeight | GroupCapChaining,
			MaxGroups: [4]uint32{1 << 16, 1 << 16, 1 << 16, 1 << 16}, Actions: [4]uint32{0x0e7fffff, 0x0e7fffff, 0x0e7fffff, 0x0e7fffff}},
		&MeterStatsRequest{Header: h(60), MeterID: MeterAll},
		&MeterStatsReply{Header: h(61), Stats: []MeterStats{{MeterID: 1, FlowCount: 2, PacketInCount: 3, ByteInCount: 4,
			DurationSec: 5, DurationNsec: 6, BandStats: []MeterBandStats{{7, 8}}}}},
		&MeterConfigRequest{Header: h(62), MeterID: 3},
		&MeterConfigReply{Header: h(63), Configs: []MeterConfig{
			{Flags: MeterFlagKBPS | MeterFlagBurst, MeterID: 1, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 10000, BurstSize: 1000}}},
			{Flags: MeterFlagPKTPS, MeterID: 2, Bands: []MeterBand{{Type: MeterBandDSCPRemark, Rate: 10, PrecLevel: 2}}},
		}},
		&MeterFeaturesRequest{Header: h(64)},
		&MeterFeaturesReply{Header: h(65), MaxMeter: 262144, BandTypes: 1 << MeterBandDrop,
			Capabilities: uint32(MeterFlagKBPS | MeterFlagPKTPS | MeterFlagBurst | MeterFlagStats), MaxBands: 1, MaxColor: 0},
		&TableFeaturesRequest{Header: h(66)},
		&TableFeaturesReply{Header: h(67), Tables: []TableFeatures{
			FullTableFeatures(0, 2, "classifier", 1000000), FullTableFeatures(1, 2, "egress", 1000)}},
	)
	for i, m := range allFieldsMatches() {
		msgs = append(msgs, &FlowMod{
			Header: h(100 + uint32(i)), Cookie: 0xfeed, TableID: uint8(i), Command: FlowModCommand(i % 5),
			IdleTimeout: 30, HardTimeout: 300, Priority: uint16(100 * i), BufferID: NoBuffer,
			OutPort: PortAny, OutGroup: GroupAny, Flags: FlowFlagSendFlowRem | FlowFlagCheckOverlap,
			Match: m, Instructions: allInstructions(),
		})
	}
	return msgs
}

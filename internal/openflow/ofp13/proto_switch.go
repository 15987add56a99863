package ofp13

import (
	"fmt"
	"strings"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// Conversions of groups, meters, ports, the switch description, features
// and table statistics.

func groupTypeFromProto(t openflowv1.GroupType) (GroupType, error) {
	if t <= openflowv1.GroupType_GROUP_TYPE_UNSPECIFIED || t > openflowv1.GroupType_GROUP_TYPE_FAST_FAILOVER {
		return 0, Errorf(ErrTypeGroupModFailed, GroupModFailedBadType, "group type %v", t)
	}
	return GroupType(t - 1), nil
}

func groupTypeToProto(t GroupType) openflowv1.GroupType { return openflowv1.GroupType(int32(t) + 1) }

// BucketsFromProto converts group buckets; a weight above 65535 is
// OFPGMFC_WEIGHT_UNSUPPORTED.
func BucketsFromProto(bs []*openflowv1.Bucket) ([]Bucket, error) {
	var out []Bucket
	for i, b := range bs {
		w, err := u16(b.GetWeight(), ErrTypeGroupModFailed, GroupModFailedWeightUnsupported, "bucket weight")
		if err != nil {
			return nil, err
		}
		as, err := ActionsFromProto(b.GetActions())
		if err != nil {
			return nil, fmt.Errorf("bucket %d: %w", i, err)
		}
		out = append(out, Bucket{Weight: w, WatchPort: b.GetWatchPort(), WatchGroup: b.GetWatchGroup(), Actions: as})
	}
	return out, nil
}

// BucketsToProto converts group buckets.
func BucketsToProto(bs []Bucket) []*openflowv1.Bucket {
	var out []*openflowv1.Bucket
	for _, b := range bs {
		out = append(out, &openflowv1.Bucket{
			Weight: uint32(b.Weight), WatchPort: b.WatchPort, WatchGroup: b.WatchGroup, Actions: ActionsToProto(b.Actions),
		})
	}
	return out
}

// GroupModFromProto converts a group-mod; command and type must be set
// (OFPGMFC_BAD_COMMAND, OFPGMFC_BAD_TYPE), except that a delete without a
// type goes out as type ALL, as ovs-ofctl sends it.
func GroupModFromProto(g *openflowv1.GroupMod) (*GroupMod, error) {
	c := g.GetCommand()
	if c <= openflowv1.GroupModCommand_GROUP_MOD_COMMAND_UNSPECIFIED || c > openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE {
		return nil, Errorf(ErrTypeGroupModFailed, GroupModFailedBadCommand, "group-mod command %v", c)
	}
	t, err := groupTypeFromProto(g.GetType())
	if err != nil && c != openflowv1.GroupModCommand_GROUP_MOD_COMMAND_DELETE {
		return nil, err
	}
	bs, err := BucketsFromProto(g.GetBuckets())
	if err != nil {
		return nil, err
	}
	return &GroupMod{Command: GroupModCommand(c - 1), Type: t, GroupID: g.GetGroupId(), Buckets: bs}, nil
}

// GroupModToProto converts a group-mod.
func GroupModToProto(m *GroupMod) *openflowv1.GroupMod {
	return &openflowv1.GroupMod{
		Command: openflowv1.GroupModCommand(int32(m.Command) + 1),
		Type:    groupTypeToProto(m.Type),
		GroupId: m.GroupID,
		Buckets: BucketsToProto(m.Buckets),
	}
}

// GroupDescFromProto converts a group description entry.
func GroupDescFromProto(g *openflowv1.GroupDesc) (GroupDesc, error) {
	t, err := groupTypeFromProto(g.GetType())
	if err != nil {
		return GroupDesc{}, err
	}
	bs, err := BucketsFromProto(g.GetBuckets())
	if err != nil {
		return GroupDesc{}, err
	}
	return GroupDesc{Type: t, GroupID: g.GetGroupId(), Buckets: bs}, nil
}

// GroupDescToProto converts a group description entry.
func GroupDescToProto(g GroupDesc) *openflowv1.GroupDesc {
	return &openflowv1.GroupDesc{Type: groupTypeToProto(g.Type), GroupId: g.GroupID, Buckets: BucketsToProto(g.Buckets)}
}

// GroupStatsFromProto converts group counters.
func GroupStatsFromProto(g *openflowv1.GroupStats) GroupStats {
	s := GroupStats{
		GroupID: g.GetGroupId(), RefCount: g.GetRefCount(),
		PacketCount: g.GetPacketCount(), ByteCount: g.GetByteCount(),
		DurationSec: g.GetDurationSec(), DurationNsec: g.GetDurationNsec(),
	}
	for _, c := range g.GetBucketStats() {
		s.BucketStats = append(s.BucketStats, BucketCounter{PacketCount: c.GetPacketCount(), ByteCount: c.GetByteCount()})
	}
	return s
}

// GroupStatsToProto converts group counters.
func GroupStatsToProto(s GroupStats) *openflowv1.GroupStats {
	g := &openflowv1.GroupStats{
		GroupId: s.GroupID, RefCount: s.RefCount,
		PacketCount: s.PacketCount, ByteCount: s.ByteCount,
		DurationSec: s.DurationSec, DurationNsec: s.DurationNsec,
	}
	for _, c := range s.BucketStats {
		g.BucketStats = append(g.BucketStats, &openflowv1.BucketCounter{PacketCount: c.PacketCount, ByteCount: c.ByteCount})
	}
	return g
}

// GroupFeaturesFromProto converts group features; max_groups and actions
// have one element per group type, at most four.
func GroupFeaturesFromProto(f *openflowv1.GroupFeatures) (*GroupFeaturesReply, error) {
	if len(f.GetMaxGroups()) > 4 || len(f.GetActions()) > 4 {
		return nil, protoErr("group features with %d max_groups and %d actions (at most 4 each)", len(f.GetMaxGroups()), len(f.GetActions()))
	}
	m := &GroupFeaturesReply{Types: f.GetTypes(), Capabilities: f.GetCapabilities()}
	copy(m.MaxGroups[:], f.GetMaxGroups())
	copy(m.Actions[:], f.GetActions())
	return m, nil
}

// GroupFeaturesToProto converts group features.
func GroupFeaturesToProto(m *GroupFeaturesReply) *openflowv1.GroupFeatures {
	return &openflowv1.GroupFeatures{
		Types: m.Types, Capabilities: m.Capabilities,
		MaxGroups: append([]uint32(nil), m.MaxGroups[:]...),
		Actions:   append([]uint32(nil), m.Actions[:]...),
	}
}

// MeterBandsFromProto converts meter bands: the type must be set
// (OFPMMFC_BAD_BAND) and prec_level fit 8 bits (OFPMMFC_BAD_BAND_VALUE).
func MeterBandsFromProto(bs []*openflowv1.MeterBand) ([]MeterBand, error) {
	var out []MeterBand
	for _, b := range bs {
		mb := MeterBand{Rate: b.GetRate(), BurstSize: b.GetBurstSize()}
		switch b.GetType() {
		case openflowv1.MeterBandType_METER_BAND_TYPE_DROP:
			mb.Type = MeterBandDrop
		case openflowv1.MeterBandType_METER_BAND_TYPE_DSCP_REMARK:
			mb.Type = MeterBandDSCPRemark
			p, err := u8(b.GetPrecLevel(), ErrTypeMeterModFailed, MeterModFailedBadBandValue, "prec_level")
			if err != nil {
				return nil, err
			}
			mb.PrecLevel = p
		case openflowv1.MeterBandType_METER_BAND_TYPE_EXPERIMENTER:
			mb.Type = MeterBandExperimenter
			mb.Experimenter = b.GetExperimenter()
		default:
			return nil, Errorf(ErrTypeMeterModFailed, MeterModFailedBadBand, "meter band type %v", b.GetType())
		}
		out = append(out, mb)
	}
	return out, nil
}

// MeterBandsToProto converts meter bands (experimenter band data has no
// place in the model and is dropped).
func MeterBandsToProto(bs []MeterBand) []*openflowv1.MeterBand {
	var out []*openflowv1.MeterBand
	for _, b := range bs {
		pb := &openflowv1.MeterBand{Rate: b.Rate, BurstSize: b.BurstSize}
		switch b.Type {
		case MeterBandDrop:
			pb.Type = openflowv1.MeterBandType_METER_BAND_TYPE_DROP
		case MeterBandDSCPRemark:
			pb.Type = openflowv1.MeterBandType_METER_BAND_TYPE_DSCP_REMARK
			pb.PrecLevel = uint32(b.PrecLevel)
		case MeterBandExperimenter:
			pb.Type = openflowv1.MeterBandType_METER_BAND_TYPE_EXPERIMENTER
			pb.Experimenter = b.Experimenter
		}
		out = append(out, pb)
	}
	return out
}

// MeterModFromProto converts a meter-mod; the command must be set
// (OFPMMFC_BAD_COMMAND), flags fit 16 bits (OFPMMFC_BAD_FLAGS).
func MeterModFromProto(p *openflowv1.MeterMod) (*MeterMod, error) {
	c := p.GetCommand()
	if c <= openflowv1.MeterModCommand_METER_MOD_COMMAND_UNSPECIFIED || c > openflowv1.MeterModCommand_METER_MOD_COMMAND_DELETE {
		return nil, Errorf(ErrTypeMeterModFailed, MeterModFailedBadCommand, "meter-mod command %v", c)
	}
	flags, err := u16(p.GetFlags(), ErrTypeMeterModFailed, MeterModFailedBadFlags, "flags")
	if err != nil {
		return nil, err
	}
	bands, err := MeterBandsFromProto(p.GetBands())
	if err != nil {
		return nil, err
	}
	return &MeterMod{Command: MeterModCommand(c - 1), Flags: flags, MeterID: p.GetMeterId(), Bands: bands}, nil
}

// MeterModToProto converts a meter-mod.
func MeterModToProto(m *MeterMod) *openflowv1.MeterMod {
	return &openflowv1.MeterMod{
		Command: openflowv1.MeterModCommand(int32(m.Command) + 1),
		Flags:   uint32(m.Flags),
		MeterId: m.MeterID,
		Bands:   MeterBandsToProto(m.Bands),
	}
}

// MeterConfigFromProto converts a meter configuration entry.
func MeterConfigFromProto(c *openflowv1.MeterConfig) (MeterConfig, error) {
	flags, err := u16(c.GetFlags(), ErrTypeMeterModFailed, MeterModFailedBadFlags, "flags")
	if err != nil {
		return MeterConfig{}, err
	}
	bands, err := MeterBandsFromProto(c.GetBands())
	if err != nil {
		return MeterConfig{}, err
	}
	return MeterConfig{Flags: flags, MeterID: c.GetMeterId(), Bands: bands}, nil
}

// MeterConfigToProto converts a meter configuration entry.
func MeterConfigToProto(c MeterConfig) *openflowv1.MeterConfig {
	return &openflowv1.MeterConfig{Flags: uint32(c.Flags), MeterId: c.MeterID, Bands: MeterBandsToProto(c.Bands)}
}

// MeterStatsFromProto converts meter counters.
func MeterStatsFromProto(p *openflowv1.MeterStats) MeterStats {
	s := MeterStats{
		MeterID: p.GetMeterId(), FlowCount: p.GetFlowCount(),
		PacketInCount: p.GetPacketInCount(), ByteInCount: p.GetByteInCount(),
		DurationSec: p.GetDurationSec(), DurationNsec: p.GetDurationNsec(),
	}
	for _, b := range p.GetBandStats() {
		s.BandStats = append(s.BandStats, MeterBandStats{PacketBandCount: b.GetPacketBandCount(), ByteBandCount: b.GetByteBandCount()})
	}
	return s
}

// MeterStatsToProto converts meter counters.
func MeterStatsToProto(s MeterStats) *openflowv1.MeterStats {
	p := &openflowv1.MeterStats{
		MeterId: s.MeterID, FlowCount: s.FlowCount,
		PacketInCount: s.PacketInCount, ByteInCount: s.ByteInCount,
		DurationSec: s.DurationSec, DurationNsec: s.DurationNsec,
	}
	for _, b := range s.BandStats {
		p.BandStats = append(p.BandStats, &openflowv1.MeterBandStats{PacketBandCount: b.PacketBandCount, ByteBandCount: b.ByteBandCount})
	}
	return p
}

// MeterFeaturesFromProto converts meter features.
func MeterFeaturesFromProto(f *openflowv1.MeterFeatures) (*MeterFeaturesReply, error) {
	if f.GetMaxBands() > 0xff || f.GetMaxColor() > 0xff {
		return nil, protoErr("meter features max_bands %d, max_color %d", f.GetMaxBands(), f.GetMaxColor())
	}
	return &MeterFeaturesReply{
		MaxMeter: f.GetMaxMeter(), BandTypes: f.GetBandTypes(), Capabilities: f.GetCapabilities(),
		MaxBands: uint8(f.GetMaxBands()), MaxColor: uint8(f.GetMaxColor()),
	}, nil
}

// MeterFeaturesToProto converts meter features.
func MeterFeaturesToProto(m *MeterFeaturesReply) *openflowv1.MeterFeatures {
	return &openflowv1.MeterFeatures{
		MaxMeter: m.MaxMeter, BandTypes: m.BandTypes, Capabilities: m.Capabilities,
		MaxBands: uint32(m.MaxBands), MaxColor: uint32(m.MaxColor),
	}
}

// PortFromProto converts a port; hw_addr must be empty or 6 bytes. Names
// longer than 15 bytes are truncated on the wire.
func PortFromProto(p *openflowv1.Port) (Port, error) {
	if n := len(p.GetHwAddr()); n != 0 && n != 6 {
		return Port{}, protoErr("port %d hw_addr of %d bytes", p.GetPortNo(), n)
	}
	out := Port{
		PortNo: p.GetPortNo(), Name: p.GetName(), Config: p.GetConfig(), State: p.GetState(),
		Curr: p.GetCurr(), Advertised: p.GetAdvertised(), Supported: p.GetSupported(), Peer: p.GetPeer(),
		CurrSpeed: p.GetCurrSpeed(), MaxSpeed: p.GetMaxSpeed(),
	}
	copy(out.HWAddr[:], p.GetHwAddr())
	return out, nil
}

// PortToProto converts a port. OpenFlow strings are ASCII; bytes that are
// not valid UTF-8 become "?", as protobuf strings must be UTF-8.
func PortToProto(p Port) *openflowv1.Port {
	return &openflowv1.Port{
		PortNo: p.PortNo, HwAddr: append([]byte(nil), p.HWAddr[:]...), Name: protoString(p.Name),
		Config: p.Config, State: p.State, Curr: p.Curr, Advertised: p.Advertised,
		Supported: p.Supported, Peer: p.Peer, CurrSpeed: p.CurrSpeed, MaxSpeed: p.MaxSpeed,
	}
}

// PortStatusFromProto converts a port-status notification.
func PortStatusFromProto(s *openflowv1.PortStatus) (*PortStatus, error) {
	r := s.GetReason()
	if r <= openflowv1.PortReason_PORT_REASON_UNSPECIFIED || r > openflowv1.PortReason_PORT_REASON_MODIFY {
		return nil, protoErr("port-status reason %v", r)
	}
	p, err := PortFromProto(s.GetDesc())
	if err != nil {
		return nil, err
	}
	return &PortStatus{Reason: PortReason(r - 1), Desc: p}, nil
}

// PortStatusToProto converts a port-status notification.
func PortStatusToProto(m *PortStatus) *openflowv1.PortStatus {
	return &openflowv1.PortStatus{Reason: openflowv1.PortReason(int32(m.Reason) + 1), Desc: PortToProto(m.Desc)}
}

// PortStatsFromProto converts port counters.
func PortStatsFromProto(p *openflowv1.PortStats) PortStats {
	return PortStats{
		PortNo: p.GetPortNo(), RxPackets: p.GetRxPackets(), TxPackets: p.GetTxPackets(),
		RxBytes: p.GetRxBytes(), TxBytes: p.GetTxBytes(), RxDropped: p.GetRxDropped(), TxDropped: p.GetTxDropped(),
		RxErrors: p.GetRxErrors(), TxErrors: p.GetTxErrors(), RxFrameErr: p.GetRxFrameErr(),
		RxOverErr: p.GetRxOverErr(), RxCRCErr: p.GetRxCrcErr(), Collisions: p.GetCollisions(),
		DurationSec: p.GetDurationSec(), DurationNsec: p.GetDurationNsec(),
	}
}

// PortStatsToProto converts port counters.
func PortStatsToProto(s PortStats) *openflowv1.PortStats {
	return &openflowv1.PortStats{
		PortNo: s.PortNo, RxPackets: s.RxPackets, TxPackets: s.TxPackets,
		RxBytes: s.RxBytes, TxBytes: s.TxBytes, RxDropped: s.RxDropped, TxDropped: s.TxDropped,
		RxErrors: s.RxErrors, TxErrors: s.TxErrors, RxFrameErr: s.RxFrameErr,
		RxOverErr: s.RxOverErr, RxCrcErr: s.RxCRCErr, Collisions: s.Collisions,
		DurationSec: s.DurationSec, DurationNsec: s.DurationNsec,
	}
}

// DescFromProto builds the OFPMP_DESC reply.
func DescFromProto(d *openflowv1.Desc) *DescReply {
	return &DescReply{
		MfrDesc: d.GetMfrDesc(), HWDesc: d.GetHwDesc(), SWDesc: d.GetSwDesc(),
		SerialNum: d.GetSerialNum(), DPDesc: d.GetDpDesc(),
	}
}

// DescToProto converts the OFPMP_DESC reply, with invalid UTF-8 replaced
// as in PortToProto.
func DescToProto(m *DescReply) *openflowv1.Desc {
	return &openflowv1.Desc{
		MfrDesc: protoString(m.MfrDesc), HwDesc: protoString(m.HWDesc), SwDesc: protoString(m.SWDesc),
		SerialNum: protoString(m.SerialNum), DpDesc: protoString(m.DPDesc),
	}
}

func protoString(s string) string { return strings.ToValidUTF8(s, "?") }

// SwitchFeaturesFromProto builds the features reply.
func SwitchFeaturesFromProto(f *openflowv1.SwitchFeatures) (*FeaturesReply, error) {
	if f.GetNTables() > 0xff || f.GetAuxiliaryId() > 0xff {
		return nil, protoErr("switch features n_tables %d, auxiliary_id %d", f.GetNTables(), f.GetAuxiliaryId())
	}
	return &FeaturesReply{
		DatapathID: f.GetDatapathId(), NBuffers: f.GetNBuffers(), NTables: uint8(f.GetNTables()),
		AuxiliaryID: uint8(f.GetAuxiliaryId()), Capabilities: f.GetCapabilities(),
	}, nil
}

// SwitchFeaturesToProto converts the features reply.
func SwitchFeaturesToProto(m *FeaturesReply) *openflowv1.SwitchFeatures {
	return &openflowv1.SwitchFeatures{
		DatapathId: m.DatapathID, NBuffers: m.NBuffers, NTables: uint32(m.NTables),
		AuxiliaryId: uint32(m.AuxiliaryID), Capabilities: m.Capabilities,
	}
}

// TableStatsFromProto converts table counters.
func TableStatsFromProto(t *openflowv1.TableStats) (TableStats, error) {
	if t.GetTableId() > 0xff {
		return TableStats{}, protoErr("table_id %d", t.GetTableId())
	}
	return TableStats{
		TableID: uint8(t.GetTableId()), ActiveCount: t.GetActiveCount(),
		LookupCount: t.GetLookupCount(), MatchedCount: t.GetMatchedCount(),
	}, nil
}

// TableStatsToProto converts table counters.
func TableStatsToProto(s TableStats) *openflowv1.TableStats {
	return &openflowv1.TableStats{
		TableId: uint32(s.TableID), ActiveCount: s.ActiveCount,
		LookupCount: s.LookupCount, MatchedCount: s.MatchedCount,
	}
}

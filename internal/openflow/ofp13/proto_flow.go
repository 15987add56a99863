package ofp13

import (
	"errors"
	"fmt"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
)

// Conversions of flow-mod, flow stats, flow-removed, packet-in and
// packet-out. Returned messages have a zero Header: the caller sets Xid.

// ErrProto marks a protobuf value that has no OpenFlow encoding and no
// OpenFlow error code either (an unspecified reason in a message the switch
// sends, a number too wide for its field).
var ErrProto = errors.New("ofp13: protobuf value not representable")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProto, fmt.Sprintf(format, args...))
}

func u16(v uint32, t ErrorType, code uint16, what string) (uint16, error) {
	if v > 0xffff {
		return 0, Errorf(t, code, "%s %d does not fit 16 bits", what, v)
	}
	return uint16(v), nil
}

func u8(v uint32, t ErrorType, code uint16, what string) (uint8, error) {
	if v > 0xff {
		return 0, Errorf(t, code, "%s %d does not fit 8 bits", what, v)
	}
	return uint8(v), nil
}

// FlowModFromProto converts a flow-mod. The command must be set
// (OFPFMFC_BAD_COMMAND otherwise); table, timeouts, priority and flags
// must fit their wire fields (OFPFMFC_BAD_TABLE_ID, _BAD_TIMEOUT, _UNKNOWN,
// _BAD_FLAGS).
func FlowModFromProto(f *openflowv1.FlowMod) (*FlowMod, error) {
	c := f.GetCommand()
	if c <= openflowv1.FlowModCommand_FLOW_MOD_COMMAND_UNSPECIFIED || c > openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT {
		return nil, Errorf(ErrTypeFlowModFailed, FlowModFailedBadCommand, "flow-mod command %v", c)
	}
	m := &FlowMod{
		Cookie:     f.GetCookie(),
		CookieMask: f.GetCookieMask(),
		Command:    FlowModCommand(c - 1),
		BufferID:   f.GetBufferId(),
		OutPort:    f.GetOutPort(),
		OutGroup:   f.GetOutGroup(),
	}
	var err error
	if m.TableID, err = u8(f.GetTableId(), ErrTypeFlowModFailed, FlowModFailedBadTableID, "table_id"); err != nil {
		return nil, err
	}
	if m.IdleTimeout, err = u16(f.GetIdleTimeout(), ErrTypeFlowModFailed, FlowModFailedBadTimeout, "idle_timeout"); err != nil {
		return nil, err
	}
	if m.HardTimeout, err = u16(f.GetHardTimeout(), ErrTypeFlowModFailed, FlowModFailedBadTimeout, "hard_timeout"); err != nil {
		return nil, err
	}
	if m.Priority, err = u16(f.GetPriority(), ErrTypeFlowModFailed, FlowModFailedUnknown, "priority"); err != nil {
		return nil, err
	}
	if m.Flags, err = u16(f.GetFlags(), ErrTypeFlowModFailed, FlowModFailedBadFlags, "flags"); err != nil {
		return nil, err
	}
	if m.Match, err = MatchFromProto(f.GetMatch()); err != nil {
		return nil, err
	}
	if m.Instructions, err = InstructionsFromProto(f.GetInstructions()); err != nil {
		return nil, err
	}
	return m, nil
}

// FlowModToProto converts a flow-mod.
func FlowModToProto(m *FlowMod) *openflowv1.FlowMod {
	return &openflowv1.FlowMod{
		Cookie:       m.Cookie,
		CookieMask:   m.CookieMask,
		TableId:      uint32(m.TableID),
		Command:      openflowv1.FlowModCommand(int32(m.Command) + 1),
		IdleTimeout:  uint32(m.IdleTimeout),
		HardTimeout:  uint32(m.HardTimeout),
		Priority:     uint32(m.Priority),
		BufferId:     m.BufferID,
		OutPort:      m.OutPort,
		OutGroup:     m.OutGroup,
		Flags:        uint32(m.Flags),
		Match:        MatchToProto(m.Match),
		Instructions: InstructionsToProto(m.Instructions),
	}
}

// FlowStatsFromProto converts an installed flow into a flow stats entry
// (the flow's id has no place on the wire).
func FlowStatsFromProto(f *openflowv1.Flow) (FlowStats, error) {
	s := FlowStats{
		DurationSec:  f.GetDurationSec(),
		DurationNsec: f.GetDurationNsec(),
		Cookie:       f.GetCookie(),
		PacketCount:  f.GetPacketCount(),
		ByteCount:    f.GetByteCount(),
	}
	var err error
	if s.TableID, err = u8(f.GetTableId(), ErrTypeFlowModFailed, FlowModFailedBadTableID, "table_id"); err != nil {
		return FlowStats{}, err
	}
	if s.Priority, err = u16(f.GetPriority(), ErrTypeFlowModFailed, FlowModFailedUnknown, "priority"); err != nil {
		return FlowStats{}, err
	}
	if s.IdleTimeout, err = u16(f.GetIdleTimeout(), ErrTypeFlowModFailed, FlowModFailedBadTimeout, "idle_timeout"); err != nil {
		return FlowStats{}, err
	}
	if s.HardTimeout, err = u16(f.GetHardTimeout(), ErrTypeFlowModFailed, FlowModFailedBadTimeout, "hard_timeout"); err != nil {
		return FlowStats{}, err
	}
	if s.Flags, err = u16(f.GetFlags(), ErrTypeFlowModFailed, FlowModFailedBadFlags, "flags"); err != nil {
		return FlowStats{}, err
	}
	if s.Match, err = MatchFromProto(f.GetMatch()); err != nil {
		return FlowStats{}, err
	}
	if s.Instructions, err = InstructionsFromProto(f.GetInstructions()); err != nil {
		return FlowStats{}, err
	}
	return s, nil
}

// FlowStatsToProto converts a flow stats entry; Id is left zero.
func FlowStatsToProto(s FlowStats) *openflowv1.Flow {
	return &openflowv1.Flow{
		TableId:      uint32(s.TableID),
		DurationSec:  s.DurationSec,
		DurationNsec: s.DurationNsec,
		Priority:     uint32(s.Priority),
		IdleTimeout:  uint32(s.IdleTimeout),
		HardTimeout:  uint32(s.HardTimeout),
		Flags:        uint32(s.Flags),
		Cookie:       s.Cookie,
		PacketCount:  s.PacketCount,
		ByteCount:    s.ByteCount,
		Match:        MatchToProto(s.Match),
		Instructions: InstructionsToProto(s.Instructions),
	}
}

// FlowStatsReplyFromProto builds the OFPMP_FLOW reply for flows; split it
// with AppendSplit.
func FlowStatsReplyFromProto(flows []*openflowv1.Flow) (*FlowStatsReply, error) {
	m := &FlowStatsReply{}
	for i, f := range flows {
		s, err := FlowStatsFromProto(f)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		m.Stats = append(m.Stats, s)
	}
	return m, nil
}

// FlowRemovedFromProto converts a flow-removed notification.
func FlowRemovedFromProto(f *openflowv1.FlowRemoved) (*FlowRemoved, error) {
	r := f.GetReason()
	if r <= openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_UNSPECIFIED || r > openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_METER_DELETE {
		return nil, protoErr("flow-removed reason %v", r)
	}
	m := &FlowRemoved{
		Cookie:       f.GetCookie(),
		Reason:       FlowRemovedReason(r - 1),
		DurationSec:  f.GetDurationSec(),
		DurationNsec: f.GetDurationNsec(),
		PacketCount:  f.GetPacketCount(),
		ByteCount:    f.GetByteCount(),
	}
	var err error
	if m.Priority, err = u16(f.GetPriority(), ErrTypeFlowModFailed, FlowModFailedUnknown, "priority"); err != nil {
		return nil, err
	}
	if m.TableID, err = u8(f.GetTableId(), ErrTypeFlowModFailed, FlowModFailedBadTableID, "table_id"); err != nil {
		return nil, err
	}
	if m.IdleTimeout, err = u16(f.GetIdleTimeout(), ErrTypeFlowModFailed, FlowModFailedBadTimeout, "idle_timeout"); err != nil {
		return nil, err
	}
	if m.HardTimeout, err = u16(f.GetHardTimeout(), ErrTypeFlowModFailed, FlowModFailedBadTimeout, "hard_timeout"); err != nil {
		return nil, err
	}
	if m.Match, err = MatchFromProto(f.GetMatch()); err != nil {
		return nil, err
	}
	return m, nil
}

// FlowRemovedToProto converts a flow-removed notification.
func FlowRemovedToProto(m *FlowRemoved) *openflowv1.FlowRemoved {
	return &openflowv1.FlowRemoved{
		Cookie:       m.Cookie,
		Priority:     uint32(m.Priority),
		Reason:       openflowv1.FlowRemovedReason(int32(m.Reason) + 1),
		TableId:      uint32(m.TableID),
		DurationSec:  m.DurationSec,
		DurationNsec: m.DurationNsec,
		IdleTimeout:  uint32(m.IdleTimeout),
		HardTimeout:  uint32(m.HardTimeout),
		PacketCount:  m.PacketCount,
		ByteCount:    m.ByteCount,
		Match:        MatchToProto(m.Match),
	}
}

// PacketInFromProto converts a packet-in.
func PacketInFromProto(p *openflowv1.PacketIn) (*PacketIn, error) {
	r := p.GetReason()
	if r <= openflowv1.PacketInReason_PACKET_IN_REASON_UNSPECIFIED || r > openflowv1.PacketInReason_PACKET_IN_REASON_INVALID_TTL {
		return nil, protoErr("packet-in reason %v", r)
	}
	if p.GetTotalLen() > 0xffff {
		return nil, protoErr("packet-in total_len %d", p.GetTotalLen())
	}
	if p.GetTableId() > 0xff {
		return nil, protoErr("packet-in table_id %d", p.GetTableId())
	}
	match, err := MatchFromProto(p.GetMatch())
	if err != nil {
		return nil, err
	}
	return &PacketIn{
		BufferID: p.GetBufferId(),
		TotalLen: uint16(p.GetTotalLen()),
		Reason:   PacketInReason(r - 1),
		TableID:  uint8(p.GetTableId()),
		Cookie:   p.GetCookie(),
		Match:    match,
		Data:     cloneBytes(p.GetData()),
	}, nil
}

// PacketInToProto converts a packet-in.
func PacketInToProto(m *PacketIn) *openflowv1.PacketIn {
	return &openflowv1.PacketIn{
		BufferId: m.BufferID,
		TotalLen: uint32(m.TotalLen),
		Reason:   openflowv1.PacketInReason(int32(m.Reason) + 1),
		TableId:  uint32(m.TableID),
		Cookie:   m.Cookie,
		Match:    MatchToProto(m.Match),
		Data:     cloneBytes(m.Data),
	}
}

// PacketOutFromProto converts a packet-out.
func PacketOutFromProto(p *openflowv1.PacketOut) (*PacketOut, error) {
	as, err := ActionsFromProto(p.GetActions())
	if err != nil {
		return nil, err
	}
	return &PacketOut{BufferID: p.GetBufferId(), InPort: p.GetInPort(), Actions: as, Data: cloneBytes(p.GetData())}, nil
}

// PacketOutToProto converts a packet-out.
func PacketOutToProto(m *PacketOut) *openflowv1.PacketOut {
	return &openflowv1.PacketOut{
		BufferId: m.BufferID,
		InPort:   m.InPort,
		Actions:  ActionsToProto(m.Actions),
		Data:     cloneBytes(m.Data),
	}
}

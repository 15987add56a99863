package ofp13

// Flow table messages: flow-mod, flow-removed, flow and aggregate stats.

// Table ids with a special meaning.
const (
	TableMax uint8 = 0xfe // last usable table
	TableAll uint8 = 0xff // wildcard in requests and deletes
)

// FlowModCommand is ofp_flow_mod_command.
type FlowModCommand uint8

// Flow-mod commands (OFPFC_*).
const (
	FlowAdd          FlowModCommand = 0
	FlowModify       FlowModCommand = 1
	FlowModifyStrict FlowModCommand = 2
	FlowDelete       FlowModCommand = 3
	FlowDeleteStrict FlowModCommand = 4
)

// Flow-mod flags (ofp_flow_mod_flags).
const (
	FlowFlagSendFlowRem  uint16 = 1 << 0
	FlowFlagCheckOverlap uint16 = 1 << 1
	FlowFlagResetCounts  uint16 = 1 << 2
	FlowFlagNoPktCounts  uint16 = 1 << 3
	FlowFlagNoBytCounts  uint16 = 1 << 4
)

// FlowMod is OFPT_FLOW_MOD.
type FlowMod struct {
	Header
	Cookie       uint64
	CookieMask   uint64
	TableID      uint8
	Command      FlowModCommand
	IdleTimeout  uint16
	HardTimeout  uint16
	Priority     uint16
	BufferID     uint32
	OutPort      uint32
	OutGroup     uint32
	Flags        uint16
	Match        Match
	Instructions []Instruction
}

func (m *FlowMod) msgType() MsgType { return TypeFlowMod }

func (m *FlowMod) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, m.CookieMask)
	b = append(b, m.TableID, byte(m.Command))
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint16(b, m.Priority)
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.OutPort)
	b = be.AppendUint32(b, m.OutGroup)
	b = be.AppendUint16(b, m.Flags)
	b = appendZeros(b, 2)
	b, err := appendMatch(b, m.Match)
	if err != nil {
		return b, err
	}
	return appendInstructions(b, m.Instructions)
}

const flowModFixedLen = 40 // after the header, before the match

func decodeFlowMod(body []byte) (Message, error) {
	if len(body) < flowModFixedLen {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "flow-mod body is %d bytes", len(body))
	}
	m := &FlowMod{
		Cookie:      be.Uint64(body),
		CookieMask:  be.Uint64(body[8:]),
		TableID:     body[16],
		Command:     FlowModCommand(body[17]),
		IdleTimeout: be.Uint16(body[18:]),
		HardTimeout: be.Uint16(body[20:]),
		Priority:    be.Uint16(body[22:]),
		BufferID:    be.Uint32(body[24:]),
		OutPort:     be.Uint32(body[28:]),
		OutGroup:    be.Uint32(body[32:]),
		Flags:       be.Uint16(body[36:]),
	}
	if m.Command > FlowDeleteStrict {
		return nil, Errorf(ErrTypeFlowModFailed, FlowModFailedBadCommand, "flow-mod command %d", m.Command)
	}
	match, n, err := decodeMatch(body[flowModFixedLen:])
	if err != nil {
		return nil, err
	}
	m.Match = match
	if m.Instructions, err = decodeInstructions(body[flowModFixedLen+n:]); err != nil {
		return nil, err
	}
	return m, nil
}

// FlowRemovedReason is ofp_flow_removed_reason.
type FlowRemovedReason uint8

// Flow-removed reasons (OFPRR_*). MeterDelete is from OpenFlow 1.4, kept
// because the protobuf model has it.
const (
	FlowRemovedIdleTimeout FlowRemovedReason = 0
	FlowRemovedHardTimeout FlowRemovedReason = 1
	FlowRemovedDelete      FlowRemovedReason = 2
	FlowRemovedGroupDelete FlowRemovedReason = 3
	FlowRemovedMeterDelete FlowRemovedReason = 4
)

// FlowRemoved is OFPT_FLOW_REMOVED.
type FlowRemoved struct {
	Header
	Cookie       uint64
	Priority     uint16
	Reason       FlowRemovedReason
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	IdleTimeout  uint16
	HardTimeout  uint16
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
}

func (m *FlowRemoved) msgType() MsgType { return TypeFlowRemoved }

func (m *FlowRemoved) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint16(b, m.Priority)
	b = append(b, byte(m.Reason), m.TableID)
	b = be.AppendUint32(b, m.DurationSec)
	b = be.AppendUint32(b, m.DurationNsec)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint64(b, m.PacketCount)
	b = be.AppendUint64(b, m.ByteCount)
	return appendMatch(b, m.Match)
}

func decodeFlowRemoved(body []byte) (Message, error) {
	if len(body) < 40 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "flow-removed body is %d bytes", len(body))
	}
	m := &FlowRemoved{
		Cookie:       be.Uint64(body),
		Priority:     be.Uint16(body[8:]),
		Reason:       FlowRemovedReason(body[10]),
		TableID:      body[11],
		DurationSec:  be.Uint32(body[12:]),
		DurationNsec: be.Uint32(body[16:]),
		IdleTimeout:  be.Uint16(body[20:]),
		HardTimeout:  be.Uint16(body[22:]),
		PacketCount:  be.Uint64(body[24:]),
		ByteCount:    be.Uint64(body[32:]),
	}
	match, err := decodeTrailingMatch(body[40:])
	if err != nil {
		return nil, err
	}
	m.Match = match
	return m, nil
}

// decodeTrailingMatch decodes a match that must fill p exactly.
func decodeTrailingMatch(p []byte) (Match, error) {
	match, n, err := decodeMatch(p)
	if err != nil {
		return Match{}, err
	}
	if n != len(p) {
		return Match{}, Errorf(ErrTypeBadRequest, BadRequestBadLen, "%d bytes after the match", len(p)-n)
	}
	return match, nil
}

// FlowStatsRequest is the OFPMP_FLOW request (ofp_flow_stats_request).
type FlowStatsRequest struct {
	Header
	Flags      uint16
	TableID    uint8
	OutPort    uint32
	OutGroup   uint32
	Cookie     uint64
	CookieMask uint64
	Match      Match
}

// AggregateStatsRequest is the OFPMP_AGGREGATE request; its body is laid
// out like the flow stats request.
type AggregateStatsRequest struct {
	Header
	Flags      uint16
	TableID    uint8
	OutPort    uint32
	OutGroup   uint32
	Cookie     uint64
	CookieMask uint64
	Match      Match
}

func (m *FlowStatsRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *FlowStatsRequest) MultipartType() MultipartType { return MultipartFlow }
func (m *FlowStatsRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *FlowStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartFlow, m.Flags)
	return appendFlowStatsRequest(b, m.TableID, m.OutPort, m.OutGroup, m.Cookie, m.CookieMask, m.Match)
}

func (m *AggregateStatsRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *AggregateStatsRequest) MultipartType() MultipartType { return MultipartAggregate }
func (m *AggregateStatsRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *AggregateStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartAggregate, m.Flags)
	return appendFlowStatsRequest(b, m.TableID, m.OutPort, m.OutGroup, m.Cookie, m.CookieMask, m.Match)
}

func appendFlowStatsRequest(b []byte, table uint8, outPort, outGroup uint32, cookie, cookieMask uint64, match Match) ([]byte, error) {
	b = appendZeros(append(b, table), 3)
	b = be.AppendUint32(b, outPort)
	b = be.AppendUint32(b, outGroup)
	b = appendZeros(b, 4)
	b = be.AppendUint64(b, cookie)
	b = be.AppendUint64(b, cookieMask)
	return appendMatch(b, match)
}

func decodeFlowStatsRequest(p []byte) (Multipart, error) {
	if len(p) < 32 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "flow stats request body is %d bytes", len(p))
	}
	match, err := decodeTrailingMatch(p[32:])
	if err != nil {
		return nil, err
	}
	return &FlowStatsRequest{
		TableID:    p[0],
		OutPort:    be.Uint32(p[4:]),
		OutGroup:   be.Uint32(p[8:]),
		Cookie:     be.Uint64(p[16:]),
		CookieMask: be.Uint64(p[24:]),
		Match:      match,
	}, nil
}

func decodeAggregateStatsRequest(p []byte) (Multipart, error) {
	r, err := decodeFlowStatsRequest(p)
	if err != nil {
		return nil, err
	}
	f := r.(*FlowStatsRequest)
	return &AggregateStatsRequest{
		TableID: f.TableID, OutPort: f.OutPort, OutGroup: f.OutGroup,
		Cookie: f.Cookie, CookieMask: f.CookieMask, Match: f.Match,
	}, nil
}

// FlowStats is one ofp_flow_stats entry.
type FlowStats struct {
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        uint16
	Cookie       uint64
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
	Instructions []Instruction
}

// FlowStatsReply is the OFPMP_FLOW reply.
type FlowStatsReply struct {
	Header
	Flags uint16
	Stats []FlowStats
}

func (m *FlowStatsReply) msgType() MsgType             { return TypeMultipartReply }
func (m *FlowStatsReply) MultipartType() MultipartType { return MultipartFlow }
func (m *FlowStatsReply) flagsPtr() *uint16            { return &m.Flags }
func (m *FlowStatsReply) numEntries() int              { return len(m.Stats) }
func (m *FlowStatsReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartFlow, m.Flags), m)
}

func (m *FlowStatsReply) appendEntry(b []byte, i int) ([]byte, error) {
	s := &m.Stats[i]
	start := len(b)
	b = append(b, 0, 0, s.TableID, 0)
	b = be.AppendUint32(b, s.DurationSec)
	b = be.AppendUint32(b, s.DurationNsec)
	b = be.AppendUint16(b, s.Priority)
	b = be.AppendUint16(b, s.IdleTimeout)
	b = be.AppendUint16(b, s.HardTimeout)
	b = be.AppendUint16(b, s.Flags)
	b = appendZeros(b, 4)
	b = be.AppendUint64(b, s.Cookie)
	b = be.AppendUint64(b, s.PacketCount)
	b = be.AppendUint64(b, s.ByteCount)
	b, err := appendMatch(b, s.Match)
	if err != nil {
		return b[:start], err
	}
	if b, err = appendInstructions(b, s.Instructions); err != nil {
		return b[:start], err
	}
	if err := putLen16(b, start, start); err != nil {
		return b[:start], err
	}
	return b, nil
}

const flowStatsFixedLen = 48

func decodeFlowStatsReply(p []byte) (Multipart, error) {
	m := &FlowStatsReply{}
	err := decodeVarEntries(p, 0, flowStatsFixedLen+8, "flow stats", func(e []byte) error {
		s := FlowStats{
			TableID:      e[2],
			DurationSec:  be.Uint32(e[4:]),
			DurationNsec: be.Uint32(e[8:]),
			Priority:     be.Uint16(e[12:]),
			IdleTimeout:  be.Uint16(e[14:]),
			HardTimeout:  be.Uint16(e[16:]),
			Flags:        be.Uint16(e[18:]),
			Cookie:       be.Uint64(e[24:]),
			PacketCount:  be.Uint64(e[32:]),
			ByteCount:    be.Uint64(e[40:]),
		}
		match, n, err := decodeMatch(e[flowStatsFixedLen:])
		if err != nil {
			return err
		}
		s.Match = match
		if s.Instructions, err = decodeInstructions(e[flowStatsFixedLen+n:]); err != nil {
			return err
		}
		m.Stats = append(m.Stats, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// AggregateStatsReply is the OFPMP_AGGREGATE reply.
type AggregateStatsReply struct {
	Header
	Flags       uint16
	PacketCount uint64
	ByteCount   uint64
	FlowCount   uint32
}

func (m *AggregateStatsReply) msgType() MsgType             { return TypeMultipartReply }
func (m *AggregateStatsReply) MultipartType() MultipartType { return MultipartAggregate }
func (m *AggregateStatsReply) flagsPtr() *uint16            { return &m.Flags }
func (m *AggregateStatsReply) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartAggregate, m.Flags)
	b = be.AppendUint64(b, m.PacketCount)
	b = be.AppendUint64(b, m.ByteCount)
	b = be.AppendUint32(b, m.FlowCount)
	return appendZeros(b, 4), nil
}

func decodeAggregateStatsReply(p []byte) (Multipart, error) {
	if err := wantLen(p, 24, "aggregate reply"); err != nil {
		return nil, err
	}
	return &AggregateStatsReply{
		PacketCount: be.Uint64(p),
		ByteCount:   be.Uint64(p[8:]),
		FlowCount:   be.Uint32(p[16:]),
	}, nil
}

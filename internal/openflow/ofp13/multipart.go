package ofp13

import "fmt"

// MultipartType is ofp_multipart_type.
type MultipartType uint16

// Multipart types (OFPMP_*).
const (
	MultipartDesc          MultipartType = 0
	MultipartFlow          MultipartType = 1
	MultipartAggregate     MultipartType = 2
	MultipartTable         MultipartType = 3
	MultipartPortStats     MultipartType = 4
	MultipartQueue         MultipartType = 5
	MultipartGroup         MultipartType = 6
	MultipartGroupDesc     MultipartType = 7
	MultipartGroupFeatures MultipartType = 8
	MultipartMeter         MultipartType = 9
	MultipartMeterConfig   MultipartType = 10
	MultipartMeterFeatures MultipartType = 11
	MultipartTableFeatures MultipartType = 12
	MultipartPortDesc      MultipartType = 13
	MultipartExperimenter  MultipartType = 0xffff
)

var multipartNames = [...]string{"DESC", "FLOW", "AGGREGATE", "TABLE", "PORT_STATS", "QUEUE", "GROUP",
	"GROUP_DESC", "GROUP_FEATURES", "METER", "METER_CONFIG", "METER_FEATURES", "TABLE_FEATURES", "PORT_DESC"}

func (t MultipartType) String() string {
	if int(t) < len(multipartNames) {
		return "OFPMP_" + multipartNames[t]
	}
	if t == MultipartExperimenter {
		return "OFPMP_EXPERIMENTER"
	}
	return fmt.Sprintf("OFPMP_%d", uint16(t))
}

// Multipart flags: OFPMPF_REQ_MORE on requests, OFPMPF_REPLY_MORE on
// replies (more messages of the same xid follow).
const (
	MultipartRequestMore uint16 = 1
	MultipartReplyMore   uint16 = 1
)

// Multipart is implemented by every multipart request and reply.
type Multipart interface {
	Message
	MultipartType() MultipartType
}

const multipartHeaderLen = 8 // type, flags, pad[4] after ofp_header

func appendMultipartHeader(b []byte, t MultipartType, flags uint16) []byte {
	b = be.AppendUint16(b, uint16(t))
	b = be.AppendUint16(b, flags)
	return appendZeros(b, 4)
}

// requestDecoders and replyDecoders decode the body after the multipart
// header; flags are set by the caller.
var requestDecoders = map[MultipartType]func([]byte) (Multipart, error){
	MultipartDesc:          func(p []byte) (Multipart, error) { return &DescRequest{}, wantEmpty(p) },
	MultipartFlow:          decodeFlowStatsRequest,
	MultipartAggregate:     decodeAggregateStatsRequest,
	MultipartTable:         func(p []byte) (Multipart, error) { return &TableStatsRequest{}, wantEmpty(p) },
	MultipartPortStats:     decodePortStatsRequest,
	MultipartGroup:         decodeGroupStatsRequest,
	MultipartGroupDesc:     func(p []byte) (Multipart, error) { return &GroupDescRequest{}, wantEmpty(p) },
	MultipartGroupFeatures: func(p []byte) (Multipart, error) { return &GroupFeaturesRequest{}, wantEmpty(p) },
	MultipartMeter:         decodeMeterStatsRequest,
	MultipartMeterConfig:   decodeMeterConfigRequest,
	MultipartMeterFeatures: func(p []byte) (Multipart, error) { return &MeterFeaturesRequest{}, wantEmpty(p) },
	MultipartTableFeatures: decodeTableFeaturesRequest,
	MultipartPortDesc:      func(p []byte) (Multipart, error) { return &PortDescRequest{}, wantEmpty(p) },
}

var replyDecoders = map[MultipartType]func([]byte) (Multipart, error){
	MultipartDesc:          decodeDescReply,
	MultipartFlow:          decodeFlowStatsReply,
	MultipartAggregate:     decodeAggregateStatsReply,
	MultipartTable:         decodeTableStatsReply,
	MultipartPortStats:     decodePortStatsReply,
	MultipartGroup:         decodeGroupStatsReply,
	MultipartGroupDesc:     decodeGroupDescReply,
	MultipartGroupFeatures: decodeGroupFeaturesReply,
	MultipartMeter:         decodeMeterStatsReply,
	MultipartMeterConfig:   decodeMeterConfigReply,
	MultipartMeterFeatures: decodeMeterFeaturesReply,
	MultipartTableFeatures: decodeTableFeaturesReply,
	MultipartPortDesc:      decodePortDescReply,
}

func decodeMultipartRequest(body []byte) (Message, error) {
	return decodeMultipart(body, requestDecoders)
}

func decodeMultipartReply(body []byte) (Message, error) {
	return decodeMultipart(body, replyDecoders)
}

// decodeMultipart dispatches on the multipart type: unknown and
// unsupported types (queue stats) are OFPBRC_BAD_MULTIPART,
// experimenter ones OFPBRC_BAD_EXPERIMENTER.
func decodeMultipart(body []byte, decoders map[MultipartType]func([]byte) (Multipart, error)) (Message, error) {
	if len(body) < multipartHeaderLen {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "multipart body is %d bytes", len(body))
	}
	t, flags := MultipartType(be.Uint16(body)), be.Uint16(body[2:])
	dec, ok := decoders[t]
	if !ok {
		if t == MultipartExperimenter {
			return nil, Errorf(ErrTypeBadRequest, BadRequestBadExperimenter, "experimenter multipart")
		}
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadMultipart, "multipart type %v not supported", t)
	}
	m, err := dec(body[multipartHeaderLen:])
	if err != nil {
		return nil, err
	}
	setMultipartFlags(m, flags)
	return m, nil
}

// multipartFlags gives access to the Flags field every multipart message
// has, for the decoder and for AppendSplit.
type multipartFlags interface {
	flagsPtr() *uint16
}

func setMultipartFlags(m Multipart, flags uint16) {
	if f, ok := m.(multipartFlags); ok {
		*f.flagsPtr() = flags
	}
}

// entryList is implemented by the replies whose body is an array of
// entries, which AppendSplit can spread over several messages.
type entryList interface {
	Multipart
	multipartFlags
	numEntries() int
	appendEntry(b []byte, i int) ([]byte, error)
}

func appendEntries(b []byte, l entryList) ([]byte, error) {
	for i := range l.numEntries() {
		var err error
		if b, err = l.appendEntry(b, i); err != nil {
			return b, err
		}
	}
	return b, nil
}

// AppendSplit appends m to b as one or more messages of at most max bytes
// each (MaxMessageLen when max <= 0). Multipart replies whose body is a list
// of entries (flows, ports, tables, groups, meters) are split between
// entries, every message but the last carrying OFPMPF_REPLY_MORE, all with
// m's xid. Any other message is encoded as one, which must fit.
func AppendSplit(b []byte, m Message, max int) ([]byte, error) {
	if max <= 0 || max > MaxMessageLen {
		max = MaxMessageLen
	}
	l, ok := m.(entryList)
	if !ok {
		start := len(b)
		out, err := m.AppendBinary(b)
		if err != nil {
			return out, err
		}
		if len(out)-start > max {
			return out[:start], fmt.Errorf("encode %v: %d bytes exceed %d: %w", m.msgType(), len(out)-start, max, ErrTooLong)
		}
		return out, nil
	}
	h := m.Hdr()
	v := h.Version
	if v == 0 {
		v = Version
	}
	flags := *l.flagsPtr()
	start := len(b)
	open := func(b []byte) []byte {
		b = append(b, v, byte(TypeMultipartReply), 0, 0)
		b = be.AppendUint32(b, h.Xid)
		return appendMultipartHeader(b, l.MultipartType(), flags)
	}
	seal := func(b []byte, msgStart int, more bool) {
		be.PutUint16(b[msgStart+2:], uint16(len(b)-msgStart))
		f := flags &^ MultipartReplyMore
		if more {
			f |= MultipartReplyMore
		}
		be.PutUint16(b[msgStart+HeaderLen+2:], f)
	}
	msgStart := len(b)
	b = open(b)
	var entry []byte
	for i := range l.numEntries() {
		entryStart := len(b)
		var err error
		if b, err = l.appendEntry(b, i); err != nil {
			return b[:start], fmt.Errorf("encode %v: %w", l.MultipartType(), err)
		}
		if len(b)-msgStart <= max {
			continue
		}
		if entryStart-msgStart == HeaderLen+multipartHeaderLen {
			return b[:start], fmt.Errorf("encode %v: entry %d of %d bytes exceeds %d: %w",
				l.MultipartType(), i, len(b)-entryStart, max, ErrTooLong)
		}
		entry = append(entry[:0], b[entryStart:]...)
		b = b[:entryStart]
		seal(b, msgStart, true)
		msgStart = len(b)
		b = append(open(b), entry...)
	}
	seal(b, msgStart, flags&MultipartReplyMore != 0)
	return b, nil
}

// DescRequest is the OFPMP_DESC request.
type DescRequest struct {
	Header
	Flags uint16
}

// Sizes of the strings in ofp_desc.
const (
	DescStrLen   = 256
	SerialNumLen = 32
)

// DescReply is the OFPMP_DESC reply (ofp_desc). Strings longer than their
// field are truncated when encoding.
type DescReply struct {
	Header
	Flags     uint16
	MfrDesc   string
	HWDesc    string
	SWDesc    string
	SerialNum string
	DPDesc    string
}

func (m *DescRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *DescRequest) MultipartType() MultipartType { return MultipartDesc }
func (m *DescRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *DescRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipartHeader(b, MultipartDesc, m.Flags), nil
}

func (m *DescReply) msgType() MsgType             { return TypeMultipartReply }
func (m *DescReply) MultipartType() MultipartType { return MultipartDesc }
func (m *DescReply) flagsPtr() *uint16            { return &m.Flags }
func (m *DescReply) appendBody(b []byte) ([]byte, error) {
	b = appendMultipartHeader(b, MultipartDesc, m.Flags)
	b = appendString(b, m.MfrDesc, DescStrLen)
	b = appendString(b, m.HWDesc, DescStrLen)
	b = appendString(b, m.SWDesc, DescStrLen)
	b = appendString(b, m.SerialNum, SerialNumLen)
	return appendString(b, m.DPDesc, DescStrLen), nil
}

func decodeDescReply(p []byte) (Multipart, error) {
	if err := wantLen(p, 4*DescStrLen+SerialNumLen, "desc reply"); err != nil {
		return nil, err
	}
	return &DescReply{
		MfrDesc:   cString(p[0:256]),
		HWDesc:    cString(p[256:512]),
		SWDesc:    cString(p[512:768]),
		SerialNum: cString(p[768:800]),
		DPDesc:    cString(p[800:1056]),
	}, nil
}

// TableStatsRequest is the OFPMP_TABLE request.
type TableStatsRequest struct {
	Header
	Flags uint16
}

// TableStats is ofp_table_stats.
type TableStats struct {
	TableID      uint8
	ActiveCount  uint32
	LookupCount  uint64
	MatchedCount uint64
}

// TableStatsReply is the OFPMP_TABLE reply.
type TableStatsReply struct {
	Header
	Flags uint16
	Stats []TableStats
}

func (m *TableStatsRequest) msgType() MsgType             { return TypeMultipartRequest }
func (m *TableStatsRequest) MultipartType() MultipartType { return MultipartTable }
func (m *TableStatsRequest) flagsPtr() *uint16            { return &m.Flags }
func (m *TableStatsRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipartHeader(b, MultipartTable, m.Flags), nil
}

func (m *TableStatsReply) msgType() MsgType             { return TypeMultipartReply }
func (m *TableStatsReply) MultipartType() MultipartType { return MultipartTable }
func (m *TableStatsReply) flagsPtr() *uint16            { return &m.Flags }
func (m *TableStatsReply) numEntries() int              { return len(m.Stats) }
func (m *TableStatsReply) appendBody(b []byte) ([]byte, error) {
	return appendEntries(appendMultipartHeader(b, MultipartTable, m.Flags), m)
}

func (m *TableStatsReply) appendEntry(b []byte, i int) ([]byte, error) {
	s := &m.Stats[i]
	b = appendZeros(append(b, s.TableID), 3)
	b = be.AppendUint32(b, s.ActiveCount)
	b = be.AppendUint64(b, s.LookupCount)
	return be.AppendUint64(b, s.MatchedCount), nil
}

func decodeTableStatsReply(p []byte) (Multipart, error) {
	m := &TableStatsReply{}
	err := decodeFixedEntries(p, 24, "table stats", func(e []byte) {
		m.Stats = append(m.Stats, TableStats{
			TableID:      e[0],
			ActiveCount:  be.Uint32(e[4:]),
			LookupCount:  be.Uint64(e[8:]),
			MatchedCount: be.Uint64(e[16:]),
		})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// decodeFixedEntries calls f for each size-byte entry of p, which must be
// a whole number of them.
func decodeFixedEntries(p []byte, size int, what string, f func([]byte)) error {
	if len(p)%size != 0 {
		return Errorf(ErrTypeBadRequest, BadRequestBadLen, "%s body of %d bytes is not a multiple of %d", what, len(p), size)
	}
	for ; len(p) > 0; p = p[size:] {
		f(p[:size])
	}
	return nil
}

// decodeVarEntries calls f for each entry of p whose 16-bit length is at
// lenOff; entries must be at least min bytes and fill p exactly.
func decodeVarEntries(p []byte, lenOff, min int, what string, f func([]byte) error) error {
	for len(p) > 0 {
		if len(p) < min {
			return Errorf(ErrTypeBadRequest, BadRequestBadLen, "%s entry truncated: %d bytes", what, len(p))
		}
		n := int(be.Uint16(p[lenOff:]))
		if n < min || n > len(p) {
			return Errorf(ErrTypeBadRequest, BadRequestBadLen, "%s entry length %d with %d bytes left", what, n, len(p))
		}
		if err := f(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

package ofp13

// NoBuffer (OFP_NO_BUFFER) as a buffer id means the packet is not buffered
// on the switch and travels whole in the message.
const NoBuffer uint32 = 0xffffffff

// PacketInReason is ofp_packet_in_reason.
type PacketInReason uint8

// Packet-in reasons (OFPR_*).
const (
	PacketInReasonNoMatch    PacketInReason = 0
	PacketInReasonAction     PacketInReason = 1
	PacketInReasonInvalidTTL PacketInReason = 2
)

// PacketIn is OFPT_PACKET_IN. Match carries the pipeline fields
// (in_port at least; also in_phy_port, metadata, tunnel_id when set).
type PacketIn struct {
	Header
	BufferID uint32
	TotalLen uint16
	Reason   PacketInReason
	TableID  uint8
	Cookie   uint64
	Match    Match
	Data     []byte
}

func (m *PacketIn) msgType() MsgType { return TypePacketIn }

func (m *PacketIn) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint16(b, m.TotalLen)
	b = append(b, byte(m.Reason), m.TableID)
	b = be.AppendUint64(b, m.Cookie)
	b, err := appendMatch(b, m.Match)
	if err != nil {
		return b, err
	}
	b = appendZeros(b, 2)
	return append(b, m.Data...), nil
}

func decodePacketIn(body []byte) (Message, error) {
	if len(body) < 16 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "packet-in body is %d bytes", len(body))
	}
	m := &PacketIn{
		BufferID: be.Uint32(body),
		TotalLen: be.Uint16(body[4:]),
		Reason:   PacketInReason(body[6]),
		TableID:  body[7],
		Cookie:   be.Uint64(body[8:]),
	}
	match, n, err := decodeMatch(body[16:])
	if err != nil {
		return nil, err
	}
	m.Match = match
	rest := body[16+n:]
	if len(rest) < 2 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "packet-in without the padding after its match")
	}
	m.Data = cloneBytes(rest[2:])
	return m, nil
}

// PacketOut is OFPT_PACKET_OUT. Data is the frame when BufferID is
// NoBuffer.
type PacketOut struct {
	Header
	BufferID uint32
	InPort   uint32
	Actions  []Action
	Data     []byte
}

func (m *PacketOut) msgType() MsgType { return TypePacketOut }

func (m *PacketOut) appendBody(b []byte) ([]byte, error) {
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.InPort)
	lenAt := len(b)
	b = appendZeros(b, 8) // actions_len, pad[6]
	b, err := appendActions(b, m.Actions)
	if err != nil {
		return b, err
	}
	if err := putLen16(b, lenAt+8, lenAt); err != nil {
		return b, err
	}
	return append(b, m.Data...), nil
}

func decodePacketOut(body []byte) (Message, error) {
	if len(body) < 16 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "packet-out body is %d bytes", len(body))
	}
	m := &PacketOut{BufferID: be.Uint32(body), InPort: be.Uint32(body[4:])}
	n := int(be.Uint16(body[8:]))
	if n > len(body)-16 {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "packet-out actions_len %d with %d bytes left", n, len(body)-16)
	}
	as, err := decodeActions(body[16 : 16+n])
	if err != nil {
		return nil, err
	}
	m.Actions = as
	m.Data = cloneBytes(body[16+n:])
	return m, nil
}

package ofp13

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Version is the OpenFlow 1.3 wire version.
const Version uint8 = 0x04

const (
	// HeaderLen is the size of ofp_header.
	HeaderLen = 8
	// MaxMessageLen is the largest message the 16-bit length can describe
	// and the default limit of ReadMessage.
	MaxMessageLen = 0xffff
)

// ErrTooLong is returned when encoding would produce a message (or a
// length field inside one) longer than its 16-bit length can hold.
var ErrTooLong = errors.New("ofp13: message too long for its 16-bit length")

// MsgType is ofp_type.
type MsgType uint8

// OpenFlow 1.3 message types (OFPT_*).
const (
	TypeHello                 MsgType = 0
	TypeError                 MsgType = 1
	TypeEchoRequest           MsgType = 2
	TypeEchoReply             MsgType = 3
	TypeExperimenter          MsgType = 4
	TypeFeaturesRequest       MsgType = 5
	TypeFeaturesReply         MsgType = 6
	TypeGetConfigRequest      MsgType = 7
	TypeGetConfigReply        MsgType = 8
	TypeSetConfig             MsgType = 9
	TypePacketIn              MsgType = 10
	TypeFlowRemoved           MsgType = 11
	TypePortStatus            MsgType = 12
	TypePacketOut             MsgType = 13
	TypeFlowMod               MsgType = 14
	TypeGroupMod              MsgType = 15
	TypePortMod               MsgType = 16
	TypeTableMod              MsgType = 17
	TypeMultipartRequest      MsgType = 18
	TypeMultipartReply        MsgType = 19
	TypeBarrierRequest        MsgType = 20
	TypeBarrierReply          MsgType = 21
	TypeQueueGetConfigRequest MsgType = 22
	TypeQueueGetConfigReply   MsgType = 23
	TypeRoleRequest           MsgType = 24
	TypeRoleReply             MsgType = 25
	TypeGetAsyncRequest       MsgType = 26
	TypeGetAsyncReply         MsgType = 27
	TypeSetAsync              MsgType = 28
	TypeMeterMod              MsgType = 29
)

var msgTypeNames = [...]string{
	"HELLO", "ERROR", "ECHO_REQUEST", "ECHO_REPLY", "EXPERIMENTER",
	"FEATURES_REQUEST", "FEATURES_REPLY", "GET_CONFIG_REQUEST", "GET_CONFIG_REPLY", "SET_CONFIG",
	"PACKET_IN", "FLOW_REMOVED", "PORT_STATUS", "PACKET_OUT", "FLOW_MOD",
	"GROUP_MOD", "PORT_MOD", "TABLE_MOD", "MULTIPART_REQUEST", "MULTIPART_REPLY",
	"BARRIER_REQUEST", "BARRIER_REPLY", "QUEUE_GET_CONFIG_REQUEST", "QUEUE_GET_CONFIG_REPLY", "ROLE_REQUEST",
	"ROLE_REPLY", "GET_ASYNC_REQUEST", "GET_ASYNC_REPLY", "SET_ASYNC", "METER_MOD",
}

func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return "OFPT_" + msgTypeNames[t]
	}
	return fmt.Sprintf("OFPT_%d", uint8(t))
}

// Header is ofp_header. Decode fills all four fields. When encoding, Type
// and Length are computed from the message and its encoded size; Version
// defaults to [Version] when zero; Xid is written as given.
type Header struct {
	Version uint8
	Type    MsgType
	Length  uint16
	Xid     uint32
}

// Hdr returns the header; every message embeds Header and so has Hdr.
func (h *Header) Hdr() *Header { return h }

// Message is one OpenFlow 1.3 message. The set of implementations is closed:
// the messages of this package.
type Message interface {
	Hdr() *Header
	// AppendBinary appends the encoded message to b (encoding.BinaryAppender).
	AppendBinary(b []byte) ([]byte, error)
	// MarshalBinary returns the encoded message (encoding.BinaryMarshaler).
	MarshalBinary() ([]byte, error)

	msgType() MsgType
	appendBody(b []byte) ([]byte, error)
}

var be = binary.BigEndian

// appendMessage writes m's header and body to b, then patches in the length.
// On error b is returned as it was.
func appendMessage(b []byte, m Message) ([]byte, error) {
	start := len(b)
	h := m.Hdr()
	v := h.Version
	if v == 0 {
		v = Version
	}
	b = append(b, v, byte(m.msgType()), 0, 0)
	b = be.AppendUint32(b, h.Xid)
	b, err := m.appendBody(b)
	if err != nil {
		return b[:start], fmt.Errorf("encode %v: %w", m.msgType(), err)
	}
	if err := putLen16(b, start, start+2); err != nil {
		return b[:start], fmt.Errorf("encode %v: %w", m.msgType(), err)
	}
	return b, nil
}

// DecodeHeader reads the header at the start of b. It checks only that
// eight bytes are there and that the length field is at least eight.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, Errorf(ErrTypeBadRequest, BadRequestBadLen, "message of %d bytes is shorter than its header", len(b))
	}
	h := Header{Version: b[0], Type: MsgType(b[1]), Length: be.Uint16(b[2:]), Xid: be.Uint32(b[4:])}
	if h.Length < HeaderLen {
		return h, Errorf(ErrTypeBadRequest, BadRequestBadLen, "header length %d is shorter than the header", h.Length)
	}
	return h, nil
}

// Decode decodes one complete message; len(b) must equal the header's
// length. Errors are *Error values naming the OpenFlow error to reply with.
// The returned message does not alias b.
//
// Messages of a version other than 0x04 are refused with
// OFPBRC_BAD_VERSION, except HELLO (version negotiation) and ERROR, whose
// layouts every version shares. Version 0 does not exist and is always
// refused.
func Decode(b []byte) (Message, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	if int(h.Length) != len(b) {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadLen, "header length %d but %d bytes", h.Length, len(b))
	}
	if h.Version == 0 || h.Version != Version && h.Type != TypeHello && h.Type != TypeError {
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadVersion, "version 0x%02x", h.Version)
	}
	body := b[HeaderLen:]
	var m Message
	switch h.Type {
	case TypeHello:
		m, err = decodeHello(body)
	case TypeError:
		m, err = decodeErrorMsg(body)
	case TypeEchoRequest:
		m = &EchoRequest{Data: cloneBytes(body)}
	case TypeEchoReply:
		m = &EchoReply{Data: cloneBytes(body)}
	case TypeExperimenter:
		m, err = decodeExperimenter(body)
	case TypeFeaturesRequest:
		m, err = &FeaturesRequest{}, wantEmpty(body)
	case TypeFeaturesReply:
		m, err = decodeFeaturesReply(body)
	case TypeGetConfigRequest:
		m, err = &GetConfigRequest{}, wantEmpty(body)
	case TypeGetConfigReply:
		m, err = decodeGetConfigReply(body)
	case TypeSetConfig:
		m, err = decodeSetConfig(body)
	case TypePacketIn:
		m, err = decodePacketIn(body)
	case TypeFlowRemoved:
		m, err = decodeFlowRemoved(body)
	case TypePortStatus:
		m, err = decodePortStatus(body)
	case TypePacketOut:
		m, err = decodePacketOut(body)
	case TypeFlowMod:
		m, err = decodeFlowMod(body)
	case TypeGroupMod:
		m, err = decodeGroupMod(body)
	case TypePortMod:
		m, err = decodePortMod(body)
	case TypeTableMod:
		m, err = decodeTableMod(body)
	case TypeMultipartRequest:
		m, err = decodeMultipartRequest(body)
	case TypeMultipartReply:
		m, err = decodeMultipartReply(body)
	case TypeBarrierRequest:
		m, err = &BarrierRequest{}, wantEmpty(body)
	case TypeBarrierReply:
		m, err = &BarrierReply{}, wantEmpty(body)
	case TypeRoleRequest:
		m, err = decodeRoleRequest(body)
	case TypeRoleReply:
		m, err = decodeRoleReply(body)
	case TypeGetAsyncRequest:
		m, err = &GetAsyncRequest{}, wantEmpty(body)
	case TypeGetAsyncReply:
		var a AsyncConfig
		a, err = decodeAsyncConfig(body)
		m = &GetAsyncReply{AsyncConfig: a}
	case TypeSetAsync:
		var a AsyncConfig
		a, err = decodeAsyncConfig(body)
		m = &SetAsync{AsyncConfig: a}
	case TypeMeterMod:
		m, err = decodeMeterMod(body)
	default:
		return nil, Errorf(ErrTypeBadRequest, BadRequestBadType, "message type %v not supported", h.Type)
	}
	if err != nil {
		return nil, err
	}
	*m.Hdr() = h
	return m, nil
}

// ReadMessage reads one message from r: the header, a check of its length,
// then the rest. max bounds the length (MaxMessageLen when max <= 0).
//
// A length below 8 or above max yields the 8 header bytes and an *Error
// (OFPBRC_BAD_LEN) to reply with; the body of an oversized message is read
// and discarded, so the stream stays in step and the connection can go on.
// I/O errors are returned as they are (io.EOF only at a message boundary).
func ReadMessage(r io.Reader, max int) ([]byte, error) {
	if max <= 0 || max > MaxMessageLen {
		max = MaxMessageLen
	}
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(be.Uint16(hdr[2:]))
	switch {
	case n < HeaderLen:
		return hdr[:], Errorf(ErrTypeBadRequest, BadRequestBadLen, "header length %d is shorter than the header", n)
	case n > max:
		if _, err := io.CopyN(io.Discard, r, int64(n-HeaderLen)); err != nil {
			return nil, noEOF(err)
		}
		return hdr[:], Errorf(ErrTypeBadRequest, BadRequestBadLen, "message of %d bytes exceeds the limit of %d", n, max)
	}
	b := make([]byte, n)
	copy(b, hdr[:])
	if _, err := io.ReadFull(r, b[HeaderLen:]); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DPIDString formats a datapath id as OpenFlow tools print it.
func DPIDString(d uint64) string {
	var b strings.Builder
	for i := 7; i >= 0; i-- {
		fmt.Fprintf(&b, "%02x", byte(d>>(8*i)))
		if i > 0 {
			b.WriteByte(':')
		}
	}
	return b.String()
}

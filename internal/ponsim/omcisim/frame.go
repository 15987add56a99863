package omcisim

import (
	"encoding/binary"
	"fmt"

	"github.com/google/gopacket"
	"github.com/opencord/omci-lib-go/v2"
	me "github.com/opencord/omci-lib-go/v2/generated"
)

// header is the fixed part of an OMCI frame (G.988 A.2/A.3), read without omci-lib-go so that an
// error response can be built even for a frame the library refuses.
type header struct {
	tid      uint16
	mt       byte // message type octet: DB, AR, AK and the 5-bit type
	ext      bool // extended message set
	mic      bool // the frame carried a MIC: answer with one
	class    me.ClassID
	inst     uint16
	contents []byte // message contents: 32 octets (baseline) or the extended length
	answer   bool   // enough was read to address an error response
}

func (h *header) kind() me.MsgType { return me.MsgType(h.mt & me.MsgTypeMask) }

const (
	baselineLen     = omci.MaxBaselineLength - 8 // 40: header, ME id, 32 octets of contents
	baselineContent = 32
	extHeaderLen    = 10
)

// parseHeader reads and checks the frame's header and length.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < 8 {
		return h, fmt.Errorf("%w: %d octets, a header needs 8", ErrMalformed, len(b))
	}
	h.tid = binary.BigEndian.Uint16(b)
	h.mt = b[2]
	h.class = me.ClassID(binary.BigEndian.Uint16(b[4:]))
	h.inst = binary.BigEndian.Uint16(b[6:])
	switch omci.DeviceIdent(b[3]) {
	case omci.BaselineIdent:
		switch len(b) {
		case baselineLen, baselineLen + 4, baselineLen + 8:
		default:
			return h, fmt.Errorf("%w: baseline frame of %d octets (40, 44 or 48)", ErrMalformed, len(b))
		}
		if len(b) >= baselineLen+4 && binary.BigEndian.Uint32(b[baselineLen:]) != baselineLen {
			return h, fmt.Errorf("%w: baseline trailer length %d, want 40", ErrMalformed, binary.BigEndian.Uint32(b[baselineLen:]))
		}
		h.mic = len(b) == baselineLen+8
		h.contents = b[8:baselineLen]
	case omci.ExtendedIdent:
		h.ext = true
		if len(b) < extHeaderLen {
			return h, fmt.Errorf("%w: extended frame of %d octets, a header needs 10", ErrMalformed, len(b))
		}
		n := int(binary.BigEndian.Uint16(b[8:]))
		switch {
		case n > omci.MaxExtendedLength-extHeaderLen-4:
			return h, fmt.Errorf("%w: extended length %d too large", ErrMalformed, n)
		case len(b) != extHeaderLen+n && len(b) != extHeaderLen+n+4:
			return h, fmt.Errorf("%w: extended length %d but %d octets of contents", ErrMalformed, n, len(b)-extHeaderLen)
		}
		h.contents = b[extHeaderLen : extHeaderLen+n]
	default:
		return h, fmt.Errorf("%w: device identifier %#x", ErrMalformed, b[3])
	}
	if h.mt&me.AR == 0 || h.mt&me.AK != 0 {
		// Not a request: nothing to answer (an ONU never receives responses or notifications).
		return h, fmt.Errorf("%w: message type %#x is not a request", ErrMalformed, h.mt)
	}
	if h.tid == 0 {
		return h, fmt.Errorf("%w: transaction id 0 on a request", ErrMalformed)
	}
	h.answer = true
	return h, nil
}

// rawResponse builds a response by hand: the result in the first octet of the contents and
// nothing else. It is for answers omci-lib-go cannot encode (unknown message type or class) and
// for the G.988 "no such entry" answers of the upload/alarm sequences (result 0, all zeros).
func rawResponse(h *header, result me.Results, contents ...byte) []byte {
	mt := h.mt&me.MsgTypeMask | me.AK
	var out []byte
	if h.ext {
		body := append([]byte{byte(result)}, contents...)
		if result == me.Success && len(contents) > 0 {
			body = contents
		}
		out = make([]byte, extHeaderLen+len(body))
		binary.BigEndian.PutUint16(out[8:], uint16(len(body)))
		copy(out[extHeaderLen:], body)
	} else {
		out = make([]byte, baselineLen+4, baselineLen+8)
		if result == me.Success && len(contents) > 0 {
			copy(out[8:baselineLen], contents)
		} else {
			out[8] = byte(result)
			copy(out[9:baselineLen], contents)
		}
		binary.BigEndian.PutUint32(out[baselineLen:], baselineLen)
	}
	binary.BigEndian.PutUint16(out, h.tid)
	out[2] = mt
	out[3] = byte(omci.BaselineIdent)
	if h.ext {
		out[3] = byte(omci.ExtendedIdent)
	}
	binary.BigEndian.PutUint16(out[4:], uint16(h.class))
	binary.BigEndian.PutUint16(out[6:], h.inst)
	return out
}

// base is the ME part of a response layer that answers h.
func (h *header) base() omci.MeBasePacket {
	return omci.MeBasePacket{EntityClass: h.class, EntityInstance: h.inst, Extended: h.ext}
}

// encode serializes a response (or, with tid 0, a notification) with omci-lib-go.
func encode(tid uint16, mt omci.MessageType, ext, mic bool, msg gopacket.SerializableLayer) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("omci-lib-go panicked encoding %v: %v", mt, r)
		}
	}()
	layer := &omci.OMCI{TransactionID: tid, MessageType: mt, DeviceIdentifier: omci.BaselineIdent}
	if ext {
		layer.DeviceIdentifier = omci.ExtendedIdent
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: mic && !ext}
	if err := gopacket.SerializeLayers(buf, opts, layer, msg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// respond encodes the response to h; if omci-lib-go cannot, it answers processing error by hand.
func (o *ONU) respond(h *header, msg gopacket.SerializableLayer) []byte {
	b, err := encode(h.tid, omci.MessageType(h.mt&me.MsgTypeMask|me.AK), h.ext, h.mic, msg)
	if err != nil {
		o.counters.Errors++
		return rawResponse(h, me.ProcessingError)
	}
	return b
}

// decodeRequest decodes a request with omci-lib-go and returns its message layer.
func decodeRequest(b []byte) (l gopacket.Layer, err error) {
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("%w: omci-lib-go panicked decoding: %v", ErrMalformed, r)
		}
	}()
	pkt := gopacket.NewPacket(b, omci.LayerTypeOMCI, gopacket.NoCopy)
	if el := pkt.ErrorLayer(); el != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, el.Error())
	}
	ls := pkt.Layers()
	if len(ls) < 2 {
		return nil, fmt.Errorf("%w: no message layer", ErrMalformed)
	}
	return ls[1], nil
}

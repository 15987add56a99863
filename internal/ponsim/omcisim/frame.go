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
	class    me.ClassID
	inst     uint16
	contents []byte // message contents: 32 octets (baseline) or the extended length
	answer   bool   // enough was read to address an error response
	refused  bool   // the GemPortFree hook refused the GEM port id of this create
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
	// A frame that looks like a request but has a bad length still gets a processing error answer.
	request := h.mt&me.AR != 0 && h.mt&me.AK == 0 && h.tid != 0
	switch omci.DeviceIdent(b[3]) {
	case omci.BaselineIdent:
		switch len(b) {
		case baselineLen, baselineLen + 4, baselineLen + 8:
		default:
			h.answer = request
			return h, fmt.Errorf("%w: baseline frame of %d octets (40, 44 or 48)", ErrMalformed, len(b))
		}
		if len(b) >= baselineLen+4 && binary.BigEndian.Uint32(b[baselineLen:]) != baselineLen {
			h.answer = request
			return h, fmt.Errorf("%w: baseline trailer length %d, want 40", ErrMalformed, binary.BigEndian.Uint32(b[baselineLen:]))
		}
		h.contents = b[8:baselineLen]
	case omci.ExtendedIdent:
		h.ext = true
		if len(b) < extHeaderLen {
			return h, fmt.Errorf("%w: extended frame of %d octets, a header needs 10", ErrMalformed, len(b))
		}
		n := int(binary.BigEndian.Uint16(b[8:]))
		h.answer = request
		switch {
		case n > omci.MaxExtendedLength-extHeaderLen-4:
			return h, fmt.Errorf("%w: extended length %d too large", ErrMalformed, n)
		case len(b) != extHeaderLen+n && len(b) != extHeaderLen+n+4:
			return h, fmt.Errorf("%w: extended length %d but %d octets of contents", ErrMalformed, n, len(b)-extHeaderLen)
		}
		h.contents = b[extHeaderLen : extHeaderLen+n]
		h.answer = false
	default:
		return h, fmt.Errorf("%w: device identifier %#x", ErrMalformed, b[3])
	}
	if h.mt&me.AR == 0 || h.mt&me.AK != 0 || h.mt&me.MsgTypeMask == 0 {
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
func encode(tid uint16, mt omci.MessageType, ext bool, msg gopacket.SerializableLayer) (out []byte, err error) {
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
	// Answers carry no MIC (44 octets), as omci-lib-go and the field's simulators send them.
	opts := gopacket.SerializeOptions{FixLengths: true}
	if err := gopacket.SerializeLayers(buf, opts, layer, msg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// respond encodes the response to h; if omci-lib-go cannot, it answers processing error by hand.
func (o *ONU) respond(h *header, msg gopacket.SerializableLayer) []byte {
	b, err := encode(h.tid, omci.MessageType(h.mt&me.MsgTypeMask|me.AK), h.ext, msg)
	if err != nil {
		return rawResponse(h, me.ProcessingError) // counted as an error result by handle
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

// uploadNextFrame encodes a MIB upload next response. It is the one hot path (an upload is ~250 of
// them per ONU) and its reported ME is the packed attribute octets, which are already in wire order
// (index order, each at its size), so it is copied rather than rebuilt through omci-lib-go's
// attribute maps; the tests decode every answer of a full upload with omci-lib-go.
func uploadNextFrame(h *header, c *uploadChunk) []byte {
	n := 6
	for i := range c.lay.attrs {
		if a := &c.lay.attrs[i]; c.mask&a.mask != 0 {
			n += int(a.size)
		}
	}
	var out, body []byte
	if h.ext {
		out = make([]byte, extHeaderLen+2+n)
		binary.BigEndian.PutUint16(out[8:], uint16(2+n))
		binary.BigEndian.PutUint16(out[10:], uint16(n-6))
		body = out[12:]
		out[3] = byte(omci.ExtendedIdent)
	} else {
		out = make([]byte, baselineLen+4, baselineLen+8)
		binary.BigEndian.PutUint32(out[baselineLen:], baselineLen)
		body = out[8:baselineLen]
		out[3] = byte(omci.BaselineIdent)
	}
	binary.BigEndian.PutUint16(out, h.tid)
	out[2] = byte(me.MibUploadNext) | me.AK
	binary.BigEndian.PutUint16(out[4:], uint16(h.class))
	binary.BigEndian.PutUint16(out[6:], h.inst)
	binary.BigEndian.PutUint16(body, uint16(c.lay.id))
	binary.BigEndian.PutUint16(body[2:], c.inst)
	binary.BigEndian.PutUint16(body[4:], c.mask)
	w := body[6:]
	for i := range c.lay.attrs {
		if a := &c.lay.attrs[i]; c.mask&a.mask != 0 {
			w = w[copy(w, c.vals[a.off:a.off+a.size]):]
		}
	}
	return out
}

// getFrame encodes a successful baseline get response directly from the packed values when every
// attribute asked for is readable, not a table, and fits; otherwise it returns nil and omci-lib-go
// encodes the answer (attribute failure, tables, extended). Gets are frequent enough (several per
// ONU, polled by some adapters) to matter, and omci-lib-go's encoder looks every attribute up by
// name; the tests compare both encoders' output.
func getFrame(h *header, e *entity, mask uint16) []byte {
	if h.ext || mask&^e.lay.readMask != 0 {
		return nil
	}
	n := 0
	for i := range e.lay.attrs {
		if a := &e.lay.attrs[i]; mask&a.mask != 0 {
			if a.table {
				return nil
			}
			n += int(a.size)
		}
	}
	if n > baselineContent-3-4 {
		return nil
	}
	out := make([]byte, baselineLen+4, baselineLen+8)
	binary.BigEndian.PutUint16(out, h.tid)
	out[2] = byte(me.Get) | me.AK
	out[3] = byte(omci.BaselineIdent)
	binary.BigEndian.PutUint16(out[4:], uint16(h.class))
	binary.BigEndian.PutUint16(out[6:], h.inst)
	out[8] = byte(me.Success)
	binary.BigEndian.PutUint16(out[9:], mask)
	w := out[11:baselineLen]
	for i := range e.lay.attrs {
		if a := &e.lay.attrs[i]; mask&a.mask != 0 {
			w = w[copy(w, e.get(a)):]
		}
	}
	binary.BigEndian.PutUint32(out[baselineLen:], baselineLen)
	return out
}

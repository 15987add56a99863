package msgbus

import (
	"fmt"
	"strconv"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// Bodies over compressAbove bytes are sent compressed (zstd, fastest): a
// large request such as a whole flow table then fits a broker's record
// limit (Kafka's default is 1 MiB), and small ones cost nothing extra.
const compressAbove = 64 << 10

// MaxBodyBytes bounds a body once decompressed: a record that claims more
// is refused rather than allowed to take the memory.
const MaxBodyBytes = 64 << 20

// bodyCodec compresses and decompresses envelope bodies. Its methods may
// be called concurrently; close releases it.
type bodyCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newBodyCodec() (*bodyCodec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("msgbus: zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxBodyBytes), zstd.WithDecoderConcurrency(0))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("msgbus: zstd decoder: %w", err)
	}
	return &bodyCodec{enc: enc, dec: dec}, nil
}

func (c *bodyCodec) close() {
	_ = c.enc.Close()
	c.dec.Close()
}

// set puts b into env's body, compressed when it is large and compression
// makes it smaller. env keeps b (or its compressed copy).
func (c *bodyCodec) set(env *msgbusv1.Envelope, b []byte) {
	env.Body, env.BodyEncoding = b, msgbusv1.BodyEncoding_BODY_ENCODING_UNSPECIFIED
	if len(b) <= compressAbove {
		return
	}
	if z := c.enc.EncodeAll(b, make([]byte, 0, len(b)/4)); len(z) < len(b) {
		env.Body, env.BodyEncoding = z, msgbusv1.BodyEncoding_BODY_ENCODING_ZSTD
	}
}

// unmarshal decodes env's body into m.
func (c *bodyCodec) unmarshal(env *msgbusv1.Envelope, m proto.Message) error {
	return c.unmarshalBody(env.GetBody(), env.GetBodyEncoding(), m)
}

// unmarshalBody decodes a body b encoded as enc into m.
func (c *bodyCodec) unmarshalBody(b []byte, enc msgbusv1.BodyEncoding, m proto.Message) error {
	switch enc {
	case msgbusv1.BodyEncoding_BODY_ENCODING_UNSPECIFIED:
	case msgbusv1.BodyEncoding_BODY_ENCODING_ZSTD:
		var err error
		if b, err = c.dec.DecodeAll(b, nil); err != nil {
			return fmt.Errorf("zstd body: %w", err)
		}
	default:
		return fmt.Errorf("unknown body encoding %d", enc)
	}
	return proto.Unmarshal(b, m)
}

// wireEnvelope is an Envelope to encode. encode writes it, and the body
// marshalled from a message, into one buffer in one pass: proto.Marshal
// of an Envelope needs the body marshalled apart first, then copies it,
// which costs a fast call two allocations and a copy each way.
type wireEnvelope struct {
	id, method, from, replyTo, key string
	// idBase and idSeq make the id when id is empty, as Conn.nextID would,
	// without the string.
	idBase                  string
	idSeq                   uint64
	kind                    msgbusv1.Kind
	deadlineMs, timestampMs int64
	status                  *msgbusv1.Status
}

// encode returns the record value of e with m (nil for none) as its body,
// compressed as set would: the same message proto.Marshal would give, the
// fields in another order at most.
func (c *bodyCodec) encode(e *wireEnvelope, m proto.Message) ([]byte, error) {
	var st []byte
	if e.status != nil {
		var err error
		if st, err = proto.Marshal(e.status); err != nil {
			return nil, err
		}
	}
	n := 0
	if m != nil {
		n = proto.Size(m)
	}
	var packed []byte // the body, when it is compressed
	enc := msgbusv1.BodyEncoding_BODY_ENCODING_UNSPECIFIED
	if n > compressAbove {
		raw, err := proto.Marshal(m)
		if err != nil {
			return nil, err
		}
		var tmp msgbusv1.Envelope
		c.set(&tmp, raw)
		packed, enc = tmp.Body, tmp.BodyEncoding
	}
	b := make([]byte, 0, 48+len(e.id)+len(e.idBase)+len(e.method)+len(e.from)+len(e.replyTo)+len(e.key)+n+len(st))
	if e.id == "" && e.idBase != "" {
		b = appendID(b, e.idBase, e.idSeq)
	} else {
		b = appendString(b, 1, e.id)
	}
	if e.kind != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.kind))
	}
	b = appendString(b, 3, e.method)
	b = appendString(b, 4, e.from)
	b = appendString(b, 5, e.replyTo)
	b = appendString(b, 6, e.key)
	if e.deadlineMs != 0 {
		b = protowire.AppendTag(b, 7, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.deadlineMs))
	}
	if e.timestampMs != 0 {
		b = protowire.AppendTag(b, 8, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(e.timestampMs))
	}
	switch {
	case packed != nil:
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendBytes(b, packed)
	case n > 0:
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		var err error
		if b, err = (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend(b, m); err != nil {
			return nil, err
		}
	}
	if st != nil {
		b = protowire.AppendTag(b, 10, protowire.BytesType)
		b = protowire.AppendBytes(b, st)
	}
	if enc != 0 {
		b = protowire.AppendTag(b, 11, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(enc))
	}
	return b, nil
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendID appends the id field "<base>-<seq in base 36>".
func appendID(b []byte, base string, seq uint64) []byte {
	var digits [16]byte
	d := strconv.AppendUint(digits[:0], seq, 36)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(base)+1+len(d)))
	b = append(b, base...)
	b = append(b, '-')
	return append(b, d...)
}

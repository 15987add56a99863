package msgbus

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
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

// marshal marshals m into env's body, compressed when it is large and
// compression makes it smaller.
func (c *bodyCodec) marshal(env *msgbusv1.Envelope, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	c.set(env, b)
	return nil
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
	b := env.GetBody()
	switch env.GetBodyEncoding() {
	case msgbusv1.BodyEncoding_BODY_ENCODING_UNSPECIFIED:
	case msgbusv1.BodyEncoding_BODY_ENCODING_ZSTD:
		var err error
		if b, err = c.dec.DecodeAll(b, nil); err != nil {
			return fmt.Errorf("zstd body: %w", err)
		}
	default:
		return fmt.Errorf("unknown body encoding %d", env.GetBodyEncoding())
	}
	return proto.Unmarshal(b, m)
}

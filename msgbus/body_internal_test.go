package msgbus

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestBodyCodec(t *testing.T) {
	c, err := newBodyCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()

	for _, tc := range []struct {
		name       string
		value      []byte
		compressed bool
	}{
		{"small", []byte("olt-1"), false},
		{"large and repetitive", bytes.Repeat([]byte("in_port=16,actions=output:1;"), 10000), true},
		{"large and random", randomBytes(t, 200<<10), false},
	} {
		we := &wireEnvelope{id: "id-1", kind: msgbusv1.Kind_KIND_REQUEST, method: "/a.B/C", from: "f", replyTo: "r",
			key: "k", deadlineMs: 1700000000000, timestampMs: 1700000000001}
		if tc.compressed {
			we.status = &msgbusv1.Status{Code: 5, Message: "not found"}
		}
		value, err := c.encode(we, wrapperspb.Bytes(tc.value))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		env, err := decodeEnvelope(value)
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		// What proto.Marshal of the same envelope says.
		want := &msgbusv1.Envelope{Id: we.id, Kind: we.kind, Method: we.method, From: we.from, ReplyTo: we.replyTo,
			Key: we.key, DeadlineUnixMs: we.deadlineMs, TimestampUnixMs: we.timestampMs, Status: we.status}
		c.set(want, mustMarshal(t, wrapperspb.Bytes(tc.value)))
		if !proto.Equal(env, want) {
			t.Errorf("%s: encode gave an envelope other than proto.Marshal's", tc.name)
		}
		if got := env.GetBodyEncoding() == msgbusv1.BodyEncoding_BODY_ENCODING_ZSTD; got != tc.compressed {
			t.Errorf("%s: compressed %v, want %v (body %d bytes)", tc.name, got, tc.compressed, len(env.GetBody()))
		}
		var back wrapperspb.BytesValue
		if err := c.unmarshal(env, &back); err != nil || !bytes.Equal(back.GetValue(), tc.value) {
			t.Errorf("%s: round trip: %v, %d bytes back of %d", tc.name, err, len(back.GetValue()), len(tc.value))
		}
	}

	// What a sender cannot make us do: decode garbage, an unknown
	// encoding, or a small record that inflates past MaxBodyBytes.
	bomb := c.enc.EncodeAll(make([]byte, MaxBodyBytes+1), nil)
	for _, tc := range []struct {
		name string
		env  *msgbusv1.Envelope
		want string
	}{
		{"garbage", &msgbusv1.Envelope{Body: []byte("not zstd"), BodyEncoding: msgbusv1.BodyEncoding_BODY_ENCODING_ZSTD}, "zstd body"},
		{"unknown encoding", &msgbusv1.Envelope{Body: []byte{1}, BodyEncoding: 7}, "unknown body encoding 7"},
		{"bomb", &msgbusv1.Envelope{Body: bomb, BodyEncoding: msgbusv1.BodyEncoding_BODY_ENCODING_ZSTD}, "zstd body"},
	} {
		var m wrapperspb.BytesValue
		if err := c.unmarshal(tc.env, &m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if len(bomb) > 64<<10 {
		t.Errorf("the bomb is %d bytes: the test does not test a small record", len(bomb))
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A request leaves out what its record says (envelope.proto): the server
// takes the record key for the key and reply_to for from, and an envelope
// that sets them keeps its own.
func TestDecodeRequestDefaults(t *testing.T) {
	c, err := newBodyCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	lean, err := c.encode(&wireEnvelope{idBase: "ab12", idSeq: 7, kind: msgbusv1.Kind_KIND_REQUEST,
		method: "/a.B/C", replyTo: "caller.reply.x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(lean, []byte("caller.reply.x")); n != 1 {
		t.Errorf("the reply topic is in the request %d times, want once", n)
	}
	full, err := c.encode(&wireEnvelope{id: "other-1", kind: msgbusv1.Kind_KIND_REQUEST,
		method: "/a.B/C", from: "someone", replyTo: "caller.reply.x", key: "own-key"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value         []byte
		id, from, key string
		lean          bool
	}{
		{lean, "ab12-7", "caller.reply.x", "olt-1", true},
		{full, "other-1", "someone", "own-key", false},
	} {
		var env msgbusv1.Envelope
		isLean, err := decodeRequest(&kgo.Record{Key: []byte("olt-1"), Value: tc.value}, &env)
		if err != nil {
			t.Fatal(err)
		}
		if isLean != tc.lean {
			t.Errorf("decodeRequest(%s): lean %v, want %v", tc.id, isLean, tc.lean)
		}
		if env.GetId() != tc.id || env.GetFrom() != tc.from || env.GetKey() != tc.key || env.GetMethod() != "/a.B/C" {
			t.Errorf("decodeRequest: id %q from %q key %q method %q; want %q, %q, %q", env.GetId(), env.GetFrom(), env.GetKey(), env.GetMethod(), tc.id, tc.from, tc.key)
		}
	}
}

package msgbus

import (
	"testing"

	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

// FuzzDecodeEnvelope feeds arbitrary record values to the decoder that
// every consumer runs first. It must never panic, and whatever it accepts
// must survive a round trip and satisfy the checks the consumers rely on.
// Seeds: the f.Add calls and testdata/fuzz/FuzzDecodeEnvelope.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, env := range []*msgbusv1.Envelope{
		{Id: "a-1", Kind: msgbusv1.Kind_KIND_REQUEST, Method: "/adapter.v1.AdapterService/AdoptDevice",
			From: "core.reply.x", ReplyTo: "core.reply.x", Key: "olt-1", DeadlineUnixMs: 1700000000000, Body: []byte{0x0a, 0x01, 'x'}},
		{Id: "a-1", Kind: msgbusv1.Kind_KIND_RESPONSE, Method: "/a.B/C", Status: &msgbusv1.Status{Code: 5, Message: "not found"}},
		{Id: "e", Kind: msgbusv1.Kind_KIND_EVENT, Method: "volt.v1.Event"},
	} {
		b, err := proto.Marshal(env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("not an envelope"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsProto(t, b)
		env, err := decodeEnvelope(b)
		if err != nil {
			if env != nil {
				t.Fatal("an error and an envelope")
			}
			return
		}
		if env.GetId() == "" {
			t.Fatal("accepted an envelope without an id")
		}
		switch env.GetKind() {
		case msgbusv1.Kind_KIND_REQUEST:
			if !validMethod(env.GetMethod()) {
				t.Fatalf("accepted method %q", env.GetMethod())
			}
		case msgbusv1.Kind_KIND_RESPONSE: // may leave the method out
			if env.GetMethod() != "" && !validMethod(env.GetMethod()) {
				t.Fatalf("accepted method %q", env.GetMethod())
			}
		case msgbusv1.Kind_KIND_EVENT:
		default:
			t.Fatalf("accepted kind %v", env.GetKind())
		}
		again, err := proto.Marshal(env)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		env2, err := decodeEnvelope(again)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !proto.Equal(env, env2) {
			t.Fatalf("round trip changed %v into %v", env, env2)
		}
		_ = statusFromProto(env.GetStatus()) // must not panic either
	})
}

// sameAsProto checks the hand-written decoder against proto.Unmarshal: the
// same inputs fail, and the others give equal envelopes (unknown fields
// aside, which the decoder skips).
func sameAsProto(t *testing.T, b []byte) {
	t.Helper()
	want := new(msgbusv1.Envelope)
	wantErr := proto.Unmarshal(b, want)
	got := new(msgbusv1.Envelope)
	gotErr := unmarshalEnvelope(b, got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("proto.Unmarshal: %v; unmarshalEnvelope: %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	want.ProtoReflect().SetUnknown(nil)
	if !proto.Equal(want, got) {
		t.Fatalf("unmarshalEnvelope gives %v, proto.Unmarshal %v", got, want)
	}
}

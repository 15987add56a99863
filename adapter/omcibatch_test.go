package adapter_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/openvolt/openvolt/adapter"
)

func TestOMCIBatchRoundTrip(t *testing.T) {
	for _, frames := range [][]adapter.OMCIFrame{
		nil,
		{{Device: "onu-1", Frame: []byte{0x00, 0x01, 0x4d, 0x0a}}},
		{{Device: "onu-1", Frame: bytes.Repeat([]byte{0xab}, 48)}, {Device: "onu-2"}, {Device: "onu-1", Frame: []byte{1}}},
	} {
		got, err := adapter.DecodeOMCIBatch(adapter.EncodeOMCIBatch(frames))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(frames) {
			t.Fatalf("%d frames back, want %d", len(got), len(frames))
		}
		for i := range frames {
			if got[i].Device != frames[i].Device || !bytes.Equal(got[i].Frame, frames[i].Frame) {
				t.Errorf("frame %d: got %q %x, want %q %x", i, got[i].Device, got[i].Frame, frames[i].Device, frames[i].Frame)
			}
		}
	}
}

// TestOMCIBatchWire checks the encoding is the protobuf one the format
// documents (OmciBatch.frames = 1; OmciFrame.device_id = 1, frame = 2)
// and that unknown fields are skipped.
func TestOMCIBatchWire(t *testing.T) {
	var inner []byte
	inner = protowire.AppendTag(inner, 2, protowire.BytesType)
	inner = protowire.AppendBytes(inner, []byte{9, 8})
	inner = protowire.AppendTag(inner, 7, protowire.VarintType) // unknown
	inner = protowire.AppendVarint(inner, 300)
	inner = protowire.AppendTag(inner, 1, protowire.BytesType)
	inner = protowire.AppendString(inner, "dev")
	var b []byte
	b = protowire.AppendTag(b, 3, protowire.BytesType) // unknown
	b = protowire.AppendString(b, "x")
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, inner)
	got, err := adapter.DecodeOMCIBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Device != "dev" || !bytes.Equal(got[0].Frame, []byte{9, 8}) {
		t.Fatalf("got %+v", got)
	}
	enc := adapter.EncodeOMCIBatch([]adapter.OMCIFrame{{Device: "dev", Frame: []byte{9, 8}}})
	want := protowire.AppendTag(nil, 1, protowire.BytesType)
	want = protowire.AppendBytes(want, []byte{0x0a, 3, 'd', 'e', 'v', 0x12, 2, 9, 8})
	if !bytes.Equal(enc, want) {
		t.Fatalf("encoded %x, want %x", enc, want)
	}
}

func TestOMCIBatchMalformed(t *testing.T) {
	good := adapter.EncodeOMCIBatch([]adapter.OMCIFrame{{Device: "onu-1", Frame: []byte{1, 2, 3}}})
	for name, b := range map[string][]byte{
		"truncated":     good[:len(good)-1],
		"bad tag":       {0xff},
		"no device":     adapter.EncodeOMCIBatch([]adapter.OMCIFrame{{Frame: []byte{1}}}),
		"long length":   {0x0a, 0x7f, 0x00},
		"truncated tag": {0x0a, 0x02, 0x0a},
	} {
		if _, err := adapter.DecodeOMCIBatch(b); err == nil {
			t.Errorf("%s: decoded, want an error", name)
		}
	}
}

func FuzzDecodeOMCIBatch(f *testing.F) {
	f.Add(adapter.EncodeOMCIBatch([]adapter.OMCIFrame{{Device: "onu-1", Frame: []byte{1, 2, 3}}, {Device: "onu-2"}}))
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := adapter.DecodeOMCIBatch(b)
		if err != nil {
			return
		}
		again, err := adapter.DecodeOMCIBatch(adapter.EncodeOMCIBatch(frames))
		if err != nil || len(again) != len(frames) {
			t.Fatalf("re-encoded batch: %d frames, %v; want %d", len(again), err, len(frames))
		}
	})
}

package ofp13

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode feeds arbitrary bytes to Decode. It must not panic; whatever
// it accepts must encode, and decode again to the same message (the
// encoding is canonical, so the bytes may differ from the input only where
// the input was lenient: unknown hello elements, padding contents).
// Seeds: every peer fixture and every sample message, plus the corpus in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, path := range fixturePaths(f) {
		f.Add(readFixture(f, path))
	}
	for _, m := range sampleMessages() {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("Decode error %v is not an *Error", err)
			}
			if m != nil {
				t.Fatalf("message %v returned with error %v", m, err)
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", m, err)
		}
		m2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v\nin  %x\nout %x", m, err, b, out)
		}
		m.Hdr().Length = m2.Hdr().Length
		if !cmp.Equal(m, m2) {
			t.Fatalf("decode(encode(decode(b))) differs:\n%s", cmp.Diff(m, m2))
		}
		out2, err := m2.MarshalBinary()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable: %x vs %x (%v)", out, out2, err)
		}
		// The protobuf conversions take whatever Decode accepts: ToProto
		// cannot fail, and FromProto of that either fails cleanly (reasons
		// outside the model's enums) or yields an encodable message.
		if back, err := viaProto(m); err == nil && back != nil {
			if _, err := back.MarshalBinary(); err != nil {
				t.Fatalf("%T through proto does not encode: %v", m, err)
			}
		}
		// ReadMessage frames what Decode accepts.
		if r, err := ReadMessage(bytes.NewReader(b), 0); err != nil || !bytes.Equal(r, b) {
			t.Fatalf("ReadMessage = %x, %v", r, err)
		}
	})
}

// FuzzReadMessage reads a stream of messages: framing never panics, never
// loses its place, and each frame is either a message or an *Error.
func FuzzReadMessage(f *testing.F) {
	var stream []byte
	for _, m := range sampleMessages()[:20] {
		b, _ := m.MarshalBinary()
		stream = append(stream, b...)
	}
	f.Add(stream, 0)
	f.Add(stream, 64)
	f.Add([]byte{4, 2, 0, 4, 0, 0, 0, 1, 4, 2, 0, 8, 0, 0, 0, 2}, 100)
	f.Fuzz(func(t *testing.T, stream []byte, max int) {
		r := bytes.NewReader(stream)
		for {
			before := r.Len()
			b, err := ReadMessage(r, max)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			if before-r.Len() < HeaderLen {
				t.Fatalf("read %d bytes for one frame", before-r.Len())
			}
			if err != nil {
				if _, ok := AsError(err); !ok || len(b) != HeaderLen {
					t.Fatalf("ReadMessage = %x, %v", b, err)
				}
				continue
			}
			if len(b) != before-r.Len() {
				t.Fatalf("frame of %d bytes, consumed %d", len(b), before-r.Len())
			}
			if m, err := Decode(b); (m == nil) == (err == nil) {
				t.Fatalf("Decode = %v, %v", m, err)
			}
		}
	})
}

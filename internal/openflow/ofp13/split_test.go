package ofp13

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// AppendSplit spreads a long reply over messages of at most max bytes,
// all with the request's xid and all but the last with REPLY_MORE, and
// the pieces decode back to the whole.
func TestAppendSplit(t *testing.T) {
	var stats []FlowStats
	for i := range 3000 {
		s := sampleFlowStats()[i%len(sampleFlowStats())]
		s.Cookie = uint64(i)
		stats = append(stats, s)
	}
	for _, max := range []int{0, 1000, 4096} {
		m := &FlowStatsReply{Header: Header{Xid: 77}, Stats: stats}
		b, err := AppendSplit([]byte("x"), m, max)
		if err != nil {
			t.Fatalf("max %d: %v", max, err)
		}
		if max == 0 {
			max = MaxMessageLen
		}
		var got []FlowStats
		n := 0
		for p := b[1:]; len(p) > 0; n++ {
			l := int(be.Uint16(p[2:]))
			if l > max {
				t.Fatalf("message of %d bytes, max %d", l, max)
			}
			d, err := Decode(p[:l])
			if err != nil {
				t.Fatal(err)
			}
			r := d.(*FlowStatsReply)
			p = p[l:]
			if r.Xid != 77 || (r.Flags&MultipartReplyMore != 0) != (len(p) > 0) {
				t.Fatalf("message %d: xid %d flags %#x, %d bytes after", n, r.Xid, r.Flags, len(p))
			}
			got = append(got, r.Stats...)
		}
		if diff := cmp.Diff(stats, got); diff != "" {
			t.Fatalf("max %d: stats differ after %d messages:\n%s", max, n, diff)
		}
		if n < 2 {
			t.Fatalf("max %d: %d message(s)", max, n)
		}
	}
}

func TestAppendSplitOther(t *testing.T) {
	// An entry that cannot fit alone is an error, and b comes back as it was.
	m := &PortDescReply{Ports: []Port{samplePort(1, "a"), samplePort(2, "b")}}
	if b, err := AppendSplit([]byte("x"), m, 70); !errors.Is(err, ErrTooLong) || string(b) != "x" {
		t.Fatalf("AppendSplit = %q, %v", b, err)
	}
	// A reply that fits is one message, as AppendBinary makes it.
	want, _ := m.MarshalBinary()
	if b, err := AppendSplit(nil, m, 0); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("AppendSplit = %x, %v; want %x", b, err, want)
	}
	// An empty reply is one message with no entries.
	empty := &TableStatsReply{Header: Header{Xid: 5}}
	want, _ = empty.MarshalBinary()
	if b, err := AppendSplit(nil, empty, 0); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("empty: %x, %v; want %x", b, err, want)
	}
	// Other messages are encoded whole and must fit.
	echo := &EchoReply{Data: make([]byte, 100)}
	want, _ = echo.MarshalBinary()
	if b, err := AppendSplit(nil, echo, 200); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("echo: %x, %v", b, err)
	}
	if _, err := AppendSplit(nil, echo, 50); !errors.Is(err, ErrTooLong) {
		t.Fatalf("echo over max: %v", err)
	}
	// Without splitting, too many entries do not fit one message.
	var ports []Port
	for i := range 1100 {
		ports = append(ports, samplePort(uint32(i), "p"))
	}
	if _, err := (&PortDescReply{Ports: ports}).MarshalBinary(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("MarshalBinary of 1100 ports: %v", err)
	}
	b, err := AppendSplit(nil, &PortDescReply{Ports: ports}, 0)
	if err != nil || len(b) != 1100*portLen+2*(HeaderLen+multipartHeaderLen) {
		t.Fatalf("AppendSplit of 1100 ports: %d bytes, %v", len(b), err)
	}
}

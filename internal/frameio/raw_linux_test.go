package frameio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestRawConformance(t *testing.T) {
	needRoot(t)
	testConformance(t, rawLink)
}

// TestRawOutgoing: the kernel never loops a socket's own frames back to it,
// but it does show a packet socket what other sockets and the stack send on
// the interface, as PACKET_OUTGOING. Those are not received frames. With
// keepOutgoing the read loop's pkttype check does the work, otherwise
// PACKET_IGNORE_OUTGOING does.
func TestRawOutgoing(t *testing.T) {
	needRoot(t)
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keepOutgoing=", keep), func(t *testing.T) {
			v := newVeth(t)
			a1 := v.open(t, v.a, Options{keepOutgoing: keep})
			a2 := v.open(t, v.a, Options{})
			b := v.open(t, v.b, Options{})
			s1, sb := subscribe(t, a1, nil), subscribe(t, b, nil)
			x := frameOf(macB, etTest, "from the second socket", 60)
			mustSend(t, a2, x)
			sb.expect(t, x)
			y := frameOf(macA, etTest, "answer", 60)
			mustSend(t, b, y)
			s1.expect(t, y) // x would have come first
			if c := a1.Counters(); c.Received != 1 {
				t.Errorf("counters = %+v, want 1 received", c)
			}
		})
	}
}

func TestRawOpenErrors(t *testing.T) {
	v := newVeth(t)
	for _, tt := range []struct {
		ifname string
		opts   Options
		want   string
	}{
		{"", Options{}, "bad interface name"},
		{strings.Repeat("x", 16), Options{}, "bad interface name"},
		{"nosuch0", Options{NetNS: v.nsPath}, "no such device"},
		{v.a, Options{NetNS: "/run/netns/no-such-namespace"}, "network namespace"},
		{v.a, Options{NetNS: v.nsPath, QueueLen: -1}, "QueueLen"},
	} {
		p, err := Open(tt.ifname, tt.opts)
		if err == nil {
			p.Close()
			t.Errorf("Open(%q, %+v) succeeded", tt.ifname, tt.opts)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) = %v, want an error about %q", tt.ifname, err, tt.want)
		}
	}
	if _, err := Open("nosuch0", Options{NetNS: v.nsPath}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("Open(nosuch0) = %v, want ENODEV", err)
	}
}

// TestRawCloseStopsGoroutines: Close ends the reader and every subscription,
// on the port and on its sub-ports.
func TestRawCloseStopsGoroutines(t *testing.T) {
	v := newVeth(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := Open(v.a, Options{NetNS: v.nsPath})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(v.b, Options{NetNS: v.nsPath})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	b.Subscribe(nil, func(f []byte) { got <- f })
	sub, err := b.VLAN(100)
	if err != nil {
		t.Fatal(err)
	}
	sub.Subscribe(nil, func([]byte) {})
	f := frameOf(macB, etTest, "before close", 60)
	mustSend(t, a, f)
	if g := <-got; !bytes.Equal(g, f) {
		t.Fatalf("got % x", g)
	}
	for _, p := range []*RawPort{a, b} {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// auxOOB builds the control message recvmsg returns with PACKET_AUXDATA on.
func auxOOB(status uint32, tci, tpid uint16) []byte {
	b := make([]byte, unix.CmsgSpace(auxdataLen))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_PACKET, unix.PACKET_AUXDATA
	h.SetLen(unix.CmsgLen(auxdataLen))
	d := b[unix.CmsgLen(0):]
	binary.NativeEndian.PutUint32(d[0:], status)
	binary.NativeEndian.PutUint16(d[16:], tci)
	binary.NativeEndian.PutUint16(d[18:], tpid)
	return b
}

func TestReconstruct(t *testing.T) {
	// What the kernel hands up: the frame without its outer tag.
	stripped := hexFrame(t, macs+"8100 0064"+eapolHdr)
	const vlanValid = unix.TP_STATUS_VLAN_VALID
	const tpidValid = unix.TP_STATUS_VLAN_TPID_VALID
	tests := []struct {
		name    string
		frame   []byte
		flags   int
		oob     []byte
		want    []byte
		wantErr error
	}{
		{name: "no auxdata", frame: stripped, want: stripped},
		{name: "untagged", frame: stripped, oob: auxOOB(1, 0, 0), want: stripped},
		{name: "c-tag", frame: hexFrame(t, macs+eapolHdr), oob: auxOOB(vlanValid|tpidValid, 0xa064, TPIDCTag),
			want: hexFrame(t, macs+"8100 a064"+eapolHdr)},
		{name: "s-tag over c-tag", frame: stripped, oob: auxOOB(vlanValid|tpidValid, 200, TPIDSTag),
			want: hexFrame(t, macs+"88a8 00c8 8100 0064"+eapolHdr)},
		{name: "old kernel, no tpid", frame: hexFrame(t, macs+eapolHdr), oob: auxOOB(vlanValid, 100, 0),
			want: hexFrame(t, macs+"8100 0064"+eapolHdr)},
		{name: "priority tag, vid 0", frame: hexFrame(t, macs+eapolHdr), oob: auxOOB(vlanValid|tpidValid, 0xe000, TPIDCTag),
			want: hexFrame(t, macs+"8100 e000"+eapolHdr)},
		{name: "truncated", frame: stripped, flags: unix.MSG_TRUNC, oob: auxOOB(1, 0, 0), wantErr: errTruncatedFrame},
		{name: "tag on a runt", frame: hexFrame(t, "ffffffff"), oob: auxOOB(vlanValid, 100, 0), wantErr: ErrShortFrame},
		{name: "garbage control message", frame: stripped, oob: []byte{1, 2, 3}, want: stripped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := append(make([]byte, tagRoom), tt.frame...)
			got, err := reconstruct(buf, len(tt.frame), tt.flags, tt.oob)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got  % x\nwant % x", got, tt.want)
			}
		})
	}
}

// FuzzReconstruct feeds the receive path arbitrary frames and auxdata: it
// never panics, and a reported tag lands right after the MACs.
func FuzzReconstruct(f *testing.F) {
	f.Add(hexFrame(f, macs+eapolHdr), uint32(unix.TP_STATUS_VLAN_VALID|unix.TP_STATUS_VLAN_TPID_VALID), uint16(0xa064), TPIDCTag, false, []byte(nil))
	f.Add(hexFrame(f, macs+"8100 0064"+eapolHdr), uint32(unix.TP_STATUS_VLAN_VALID|unix.TP_STATUS_VLAN_TPID_VALID), uint16(200), TPIDSTag, false, []byte(nil))
	f.Add(hexFrame(f, "0102"), uint32(unix.TP_STATUS_VLAN_VALID), uint16(1), uint16(0), false, []byte(nil))
	f.Add(hexFrame(f, macs+eapolHdr), uint32(1), uint16(0), uint16(0), true, []byte(nil))
	f.Add(hexFrame(f, macs+eapolHdr), uint32(0), uint16(0), uint16(0), false, []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, frame []byte, status uint32, tci, tpid uint16, trunc bool, rawOOB []byte) {
		oob := rawOOB
		if len(oob) == 0 {
			oob = auxOOB(status, tci, tpid)
		}
		flags := 0
		if trunc {
			flags = unix.MSG_TRUNC
		}
		buf := append(make([]byte, tagRoom), frame...)
		got, err := reconstruct(buf, len(frame), flags, oob)

		// Whatever came out, the port must survive it.
		a, b, perr := NewMemPair("a", "b", Options{})
		if perr != nil {
			t.Fatal(perr)
		}
		defer a.Close()
		defer b.Close()
		if err != nil {
			b.h.receiveMalformed(len(frame), err)
		} else {
			b.h.receive(got, true)
		}
		if c := b.Counters(); c.Received != 1 || c.Malformed+c.Discarded != 1 {
			t.Fatalf("counters = %+v", c)
		}

		if err != nil || len(rawOOB) > 0 || status&unix.TP_STATUS_VLAN_VALID == 0 {
			return
		}
		if trunc {
			t.Fatal("truncated frame accepted")
		}
		wantTPID := tpid
		if status&unix.TP_STATUS_VLAN_TPID_VALID == 0 || tpid == 0 {
			wantTPID = TPIDCTag
		}
		if len(got) != len(frame)+TagLen || !bytes.Equal(got[:macsLen], frame[:macsLen]) ||
			binary.BigEndian.Uint16(got[macsLen:]) != wantTPID || binary.BigEndian.Uint16(got[macsLen+2:]) != tci ||
			!bytes.Equal(got[macsLen+TagLen:], frame[macsLen:]) {
			t.Fatalf("reconstruct(% x, tci %#04x, tpid %#04x) = % x", frame, tci, tpid, got)
		}
	})
}

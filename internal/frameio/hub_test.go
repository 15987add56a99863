package frameio

import (
	"errors"
	"strings"
	"testing"
)

func TestSubscribeNilHandlerPanics(t *testing.T) {
	a, _ := memLink(t, Options{})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "nil handler") {
			t.Fatalf("recover() = %v, want a nil handler panic", r)
		}
	}()
	a.Subscribe(nil, nil)
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{QueueLen: -1}, {ReadBuffer: -1}} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: Validate passed", o)
		}
		if _, _, err := NewMemPair("a", "b", o); err == nil {
			t.Errorf("%+v: NewMemPair accepted it", o)
		}
	}
}

// TestSubPortLifecycle: closing a sub-port detaches it from its parent, and
// closing a parent closes the sub-ports under it.
func TestSubPortLifecycle(t *testing.T) {
	a, b := memLink(t, Options{})
	s := mustVLAN(t, b, 200, WithTPID(TPIDSTag))
	c := mustVLAN(t, s, 100)
	other := mustVLAN(t, b, 300)
	subscribe(t, c, nil)
	fence := subscribe(t, b, nil)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(frameOf(macA, etTest, "", 60)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send on the child of a closed sub-port = %v, want ErrClosed", err)
	}
	f := mustPush(t, frameOf(bcast, etTest, "to nobody", 60), Tag{TPID: TPIDSTag, VID: 200}, Tag{TPID: TPIDCTag, VID: 100})
	mustSend(t, a, f)
	fence.expect(t, f)
	if got := c.Counters().Received; got != 0 {
		t.Errorf("closed sub-port received %d frames", got)
	}
	if n := len(b.(*MemPort).h.view.Load().children); n != 1 {
		t.Errorf("parent has %d sub-ports, want 1 (the open one)", n)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.VLAN(1); !errors.Is(err, ErrClosed) {
		t.Errorf("VLAN on a sub-port of a closed port = %v, want ErrClosed", err)
	}
}

// FuzzReceive pushes arbitrary frames through a port with nested VLAN
// sub-ports: malformed frames are counted and dropped, never crash, and each
// sub-port receives exactly the frames whose outer tag is its own.
func FuzzReceive(f *testing.F) {
	for _, s := range []string{
		macs + eapolHdr,
		macs + "8100 a064" + eapolHdr,
		macs + "88a8 00c8 8100 0064" + eapolHdr,
		macs + "88a8 00c8 8100",
		macs + "9100 0064 0800",
		macs + "8100 0000 8100 0064 0800",
		macs + strings.Repeat("8100", 11) + "0800",
		"0102",
	} {
		f.Add(hexFrame(f, s))
	}
	a, b, err := NewMemPair("a", "b", Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close(); b.Close() })
	b.Subscribe(nil, func([]byte) {})
	type sub struct {
		port  Port
		outer Tag
	}
	var subs []sub
	for _, t := range []Tag{{TPID: TPIDCTag, VID: 100}, {TPID: TPIDSTag, VID: 200}, {TPID: TPIDQinQ, VID: 100}, {TPID: TPIDCTag}} {
		p := mustVLAN(f, b, t.VID, WithTPID(t.TPID))
		p.Subscribe(nil, func([]byte) {})
		subs = append(subs, sub{p, t})
	}
	inner := mustVLAN(f, subs[1].port, 100) // S 200, then C 100
	inner.Subscribe(nil, func([]byte) {})

	f.Fuzz(func(t *testing.T, frame []byte) {
		before := b.Counters()
		subBefore := make([]Counters, len(subs))
		for i, s := range subs {
			subBefore[i] = s.port.Counters()
		}
		innerBefore := inner.Counters()

		b.h.receive(frame, true)

		after := b.Counters()
		_, _, perr := walkTags(frame)
		if after.Received-before.Received != 1 || after.Discarded != before.Discarded ||
			(after.Malformed-before.Malformed == 1) != (perr != nil) {
			t.Fatalf("parse err %v; counters %+v -> %+v", perr, before, after)
		}
		outer, tagged := OuterTag(frame)
		for i, s := range subs {
			want := uint64(0)
			if perr == nil && tagged && outer.TPID == s.outer.TPID && outer.VID == s.outer.VID {
				want = 1
			}
			if got := s.port.Counters().Received - subBefore[i].Received; got != want {
				t.Fatalf("%s received %d, want %d", s.port.Name(), got, want)
			}
		}
		want := uint64(0)
		if tags, err := Tags(frame); err == nil && len(tags) >= 2 && tags[0].TPID == TPIDSTag && tags[0].VID == 200 &&
			tags[1].TPID == TPIDCTag && tags[1].VID == 100 {
			want = 1
		}
		if got := inner.Counters().Received - innerBefore.Received; got != want {
			t.Fatalf("%s received %d, want %d", inner.Name(), got, want)
		}
	})
}

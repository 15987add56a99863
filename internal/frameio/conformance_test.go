package frameio

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/openvolt/openvolt/internal/testkit"
)

// newLink returns two connected ports, closed when the test ends. Each
// implementation of Port provides one, and testConformance runs the same
// checks over it.
type newLink func(t testing.TB, opts Options) (a, b Port)

func memLink(t testing.TB, opts Options) (Port, Port) {
	a, b, err := NewMemPair("mem-a", "mem-b", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestMemConformance(t *testing.T) { testConformance(t, memLink) }

func testConformance(t *testing.T, link newLink) {
	tests := []struct {
		name string
		fn   func(t *testing.T, link newLink)
	}{
		{"Untagged", testUntagged},
		{"CTag", testCTag},
		{"QinQ", testQinQ},
		{"Padding", testPadding},
		{"ShortFrame", testShortFrame},
		{"NoOutgoingCopies", testNoOutgoingCopies},
		{"TwoSubscribersFilters", testTwoSubscribers},
		{"BPF", testBPF},
		{"VLANReceive", testVLANReceive},
		{"VLANSend", testVLANSend},
		{"VLANNestedQinQ", testVLANNested},
		{"Counters", testCounters},
		{"SlowSubscriberDrops", testSlowSubscriber},
		{"Unsubscribe", testUnsubscribe},
		{"Malformed", testMalformed},
		{"ConcurrentSenders", testConcurrentSenders},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, link) })
	}
}

// Frames for the suite. Every frame a test sends has a distinct payload so a
// mix-up shows.
var (
	macB  = []byte{0x02, 0, 0, 0, 0, 0x0b}
	macA  = []byte{0x02, 0, 0, 0, 0, 0x0a}
	bcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

const (
	etEAPOL = 0x888e
	etARP   = 0x0806
	etTest  = 0x88b5 // IEEE local experimental
)

// frameOf builds a frame of size bytes (at least the header and the payload).
func frameOf(dst []byte, et uint16, payload string, size int) []byte {
	f := make([]byte, max(size, HeaderLen+len(payload)))
	copy(f, dst)
	copy(f[6:], macA)
	f[12], f[13] = byte(et>>8), byte(et)
	copy(f[HeaderLen:], payload)
	return f
}

func mustPush(t testing.TB, frame []byte, tags ...Tag) []byte {
	t.Helper()
	// tags are outermost first, so push from the inside out.
	for i := len(tags) - 1; i >= 0; i-- {
		var err error
		if frame, err = PushTag(frame, tags[i]); err != nil {
			t.Fatal(err)
		}
	}
	return frame
}

func mustSend(t testing.TB, p Port, frame []byte) {
	t.Helper()
	if err := p.Send(frame); err != nil {
		t.Fatalf("%s: Send: %v", p.Name(), err)
	}
}

func mustVLAN(t testing.TB, p Port, vid uint16, opts ...VLANOption) Port {
	t.Helper()
	sub, err := p.VLAN(vid, opts...)
	if err != nil {
		t.Fatalf("%s: VLAN(%d): %v", p.Name(), vid, err)
	}
	return sub
}

// sink collects what one subscription receives.
type sink struct {
	name string
	ch   chan []byte
}

func subscribe(t testing.TB, p Port, f Filter) *sink {
	s := &sink{name: p.Name(), ch: make(chan []byte, 4096)}
	unsub := p.Subscribe(f, func(frame []byte) { s.ch <- frame })
	t.Cleanup(unsub)
	return s
}

const waitFor = 5 * time.Second

func (s *sink) next(t testing.TB) []byte {
	t.Helper()
	select {
	case f := <-s.ch:
		return f
	case <-time.After(waitFor):
		t.Fatalf("%s: no frame within %v", s.name, waitFor)
		return nil
	}
}

// expect checks that the next frames are want, in order.
func (s *sink) expect(t testing.TB, want ...[]byte) {
	t.Helper()
	for i, w := range want {
		if got := s.next(t); !bytes.Equal(got, w) {
			t.Fatalf("%s: frame %d:\n got % x\nwant % x", s.name, i, got, w)
		}
	}
}

func testUntagged(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, nil)
	f := frameOf(macB, etTest, "untagged", 60)
	mustSend(t, a, f)
	sb.expect(t, f)
}

func testCTag(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, nil)
	f := mustPush(t, frameOf(bcast, etEAPOL, "ctag", 60), Tag{TPID: TPIDCTag, PCP: 5, VID: 100})
	mustSend(t, a, f)
	got := sb.next(t)
	if !bytes.Equal(got, f) {
		t.Fatalf("got % x\nwant % x", got, f)
	}
	if tags, _ := Tags(got); len(tags) != 1 || tags[0].TCI() != 0xa064 || tags[0].TPID != TPIDCTag {
		t.Fatalf("tags = %v, want one 0x8100 tag with TCI 0xa064", tags)
	}
}

func testQinQ(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, nil)
	s, c := Tag{TPID: TPIDSTag, PCP: 3, VID: 200}, Tag{TPID: TPIDCTag, VID: 100}
	f := mustPush(t, frameOf(bcast, etEAPOL, "qinq", 60), s, c)
	mustSend(t, a, f)
	got := sb.next(t)
	if !bytes.Equal(got, f) {
		t.Fatalf("got % x\nwant % x", got, f)
	}
	if tags, _ := Tags(got); len(tags) != 2 || tags[0] != s || tags[1] != c {
		t.Fatalf("tags = %v, want [%v %v]", tags, s, c)
	}

	// VID 0 outer tags (priority tags) make Linux strip a second time; the
	// frames must still come up once each, as sent.
	prio := mustPush(t, frameOf(bcast, etEAPOL, "priority + c100", 60), Tag{TPID: TPIDCTag, PCP: 3}, c)
	s0 := mustPush(t, frameOf(bcast, etEAPOL, "s0 + c100", 60), Tag{TPID: TPIDSTag}, c)
	fence := frameOf(bcast, etTest, "fence", 60)
	for _, f := range [][]byte{prio, s0, fence} {
		mustSend(t, a, f)
	}
	sb.expect(t, prio, s0, fence)
}

func testPadding(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, nil)

	short := frameOf(macB, etTest, "pad", 0) // 17 bytes
	backing := append(bytes.Clone(short), 0xaa, 0xbb)
	mustSend(t, a, backing[:len(short)])
	want := append(bytes.Clone(short), make([]byte, MinFrameLen-len(short))...)
	sb.expect(t, want)
	if backing[len(short)] != 0xaa || backing[len(short)+1] != 0xbb {
		t.Fatal("Send wrote into the caller's slice")
	}

	// A 60-byte frame goes out as it is, a 61-byte one too.
	for _, n := range []int{60, 61} {
		f := frameOf(macB, etTest, fmt.Sprint("len", n), n)
		mustSend(t, a, f)
		sb.expect(t, f)
	}
}

func testShortFrame(t *testing.T, link newLink) {
	a, _ := link(t, Options{})
	if err := a.Send(make([]byte, HeaderLen-1)); !errors.Is(err, ErrShortFrame) {
		t.Fatalf("Send(13 bytes) = %v, want ErrShortFrame", err)
	}
	if c := a.Counters(); c.SendErrors != 1 || c.Sent != 0 {
		t.Fatalf("counters = %+v, want 1 send error and nothing sent", c)
	}
}

func testNoOutgoingCopies(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	checkNoOutgoingCopies(t, a, b)
}

// checkNoOutgoingCopies plays ping-pong: a port that saw its own frame would
// see it before the answer.
func checkNoOutgoingCopies(t *testing.T, a, b Port) {
	sa, sb := subscribe(t, a, nil), subscribe(t, b, nil)
	x := frameOf(macB, etTest, "ping", 60)
	y := frameOf(macA, etTest, "pong", 60)
	z := frameOf(macB, etTest, "ping again", 60)
	mustSend(t, a, x)
	sb.expect(t, x)
	mustSend(t, b, y)
	sa.expect(t, y)
	mustSend(t, a, z)
	sb.expect(t, z)
	if c := a.Counters(); c.Received != 1 || c.Sent != 2 {
		t.Errorf("%s counters = %+v, want 1 received and 2 sent", a.Name(), c)
	}
	if c := b.Counters(); c.Received != 2 || c.Sent != 1 {
		t.Errorf("%s counters = %+v, want 2 received and 1 sent", b.Name(), c)
	}
}

func testTwoSubscribers(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	eapol := subscribe(t, b, MatchEtherType(etEAPOL))
	broadcast := subscribe(t, b, FilterFunc(func(f []byte) bool { return bytes.Equal(f[:6], bcast) }))
	all := subscribe(t, b, nil)

	f1 := frameOf(macB, etEAPOL, "eapol unicast", 60)
	f2 := frameOf(bcast, etARP, "arp broadcast", 60)
	fence := frameOf(bcast, etEAPOL, "fence", 60)
	for _, f := range [][]byte{f1, f2, fence} {
		mustSend(t, a, f)
	}
	eapol.expect(t, f1, fence)
	broadcast.expect(t, f2, fence)
	all.expect(t, f1, f2, fence)
}

func testBPF(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	// EtherType 0x888e at offset 12: untagged EAPOL only, since a tagged
	// frame has its TPID there.
	untaggedEAPOL, err := BPF([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: etEAPOL, SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	// "vlan 100" written against the frame: a C-tag at 12 with VID 100.
	vlan100, err := BPFRaw(mustAssemble(t, []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(TPIDCTag), SkipFalse: 3},
		bpf.LoadAbsolute{Off: 14, Size: 2},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0fff},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 100, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetA{},
	}))
	if err != nil {
		t.Fatal(err)
	}
	se, sv := subscribe(t, b, untaggedEAPOL), subscribe(t, b, vlan100)

	tagged := mustPush(t, frameOf(bcast, etEAPOL, "tagged eapol", 60), Tag{TPID: TPIDCTag, PCP: 5, VID: 100})
	other := mustPush(t, frameOf(bcast, etEAPOL, "vlan 101", 60), Tag{TPID: TPIDCTag, VID: 101})
	arp := frameOf(bcast, etARP, "arp", 60)
	eapol := frameOf(bcast, etEAPOL, "eapol", 60)
	fence := mustPush(t, eapol, Tag{TPID: TPIDCTag, VID: 100})
	fence2 := frameOf(macB, etEAPOL, "fence", 60)
	for _, f := range [][]byte{tagged, other, arp, eapol, fence, fence2} {
		mustSend(t, a, f)
	}
	sv.expect(t, tagged, fence)
	se.expect(t, eapol, fence2)

	if _, err := BPF([]bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtVLANTag}, bpf.RetA{}}); err == nil {
		t.Error("BPF accepted an ancillary VLAN load")
	}
}

func mustAssemble(t testing.TB, prog []bpf.Instruction) []bpf.RawInstruction {
	t.Helper()
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func testVLANReceive(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sub := mustVLAN(t, b, 100)
	if want := b.Name() + ".100"; sub.Name() != want {
		t.Errorf("sub-port name %q, want %q", sub.Name(), want)
	}
	ss, sp := subscribe(t, sub, nil), subscribe(t, b, nil)

	inner := frameOf(bcast, etEAPOL, "vlan 100 pcp 3", 60)
	untagged := frameOf(bcast, etEAPOL, "untagged", 60)
	vlan200 := mustPush(t, frameOf(bcast, etEAPOL, "vlan 200", 60), Tag{TPID: TPIDCTag, VID: 200})
	stag100 := mustPush(t, frameOf(bcast, etEAPOL, "s-tag 100", 60), Tag{TPID: TPIDSTag, VID: 100})
	vlan100 := mustPush(t, inner, Tag{TPID: TPIDCTag, PCP: 3, VID: 100})
	for _, f := range [][]byte{untagged, vlan200, stag100, vlan100} {
		mustSend(t, a, f)
	}
	sp.expect(t, untagged, vlan200, stag100, vlan100)
	ss.expect(t, inner)
	if c := sub.Counters(); c.Received != 1 || c.Discarded != 0 {
		t.Errorf("sub-port counters = %+v, want 1 received", c)
	}
	if c := b.Counters(); c.Received != 4 || c.Discarded != 0 {
		t.Errorf("parent counters = %+v, want 4 received", c)
	}

	// A sub-port filter sees the popped frame: EtherType EAPOL at offset 12.
	eapolOnly, err := BPF([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: etEAPOL, SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	sf := subscribe(t, sub, eapolOnly)
	arp := frameOf(bcast, etARP, "arp in vlan 100", 60)
	mustSend(t, a, mustPush(t, arp, Tag{TPID: TPIDCTag, VID: 100}))
	mustSend(t, a, vlan100)
	ss.expect(t, arp, inner)
	sf.expect(t, inner)
}

func testVLANSend(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, nil)
	ctag := mustVLAN(t, a, 100, WithPCP(5))
	stag := mustVLAN(t, a, 300, WithTPID(TPIDSTag))

	f := frameOf(bcast, etEAPOL, "via vlan 100", 60)
	mustSend(t, ctag, f)
	sb.expect(t, mustPush(t, f, Tag{TPID: TPIDCTag, PCP: 5, VID: 100}))

	// The tag goes on first, then the frame is padded.
	short := frameOf(macB, etTest, "s", 0)
	mustSend(t, stag, short)
	want := mustPush(t, short, Tag{TPID: TPIDSTag, VID: 300})
	want = append(want, make([]byte, MinFrameLen-len(want))...)
	sb.expect(t, want)

	if c := ctag.Counters(); c.Sent != 1 {
		t.Errorf("sub-port counters = %+v, want 1 sent", c)
	}
	if c := a.Counters(); c.Sent != 2 {
		t.Errorf("parent counters = %+v, want 2 sent", c)
	}
	for _, bad := range []struct {
		vid  uint16
		opts []VLANOption
	}{{4095, nil}, {5000, nil}, {1, []VLANOption{WithTPID(0x0800)}}, {1, []VLANOption{WithPCP(8)}}} {
		if _, err := a.VLAN(bad.vid, bad.opts...); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("VLAN(%d) err = %v, want ErrInvalidTag", bad.vid, err)
		}
	}
}

func testVLANNested(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	bc := mustVLAN(t, mustVLAN(t, b, 200, WithTPID(TPIDSTag)), 100)
	if want := b.Name() + ".200.100"; bc.Name() != want {
		t.Errorf("name %q, want %q", bc.Name(), want)
	}
	ac := mustVLAN(t, mustVLAN(t, a, 200, WithTPID(TPIDSTag)), 100)
	sc, sp := subscribe(t, bc, nil), subscribe(t, b, nil)

	f := frameOf(bcast, etEAPOL, "qinq service", 60)
	mustSend(t, ac, f)
	sp.expect(t, mustPush(t, f, Tag{TPID: TPIDSTag, VID: 200}, Tag{TPID: TPIDCTag, VID: 100}))
	sc.expect(t, f)

	// Answer the other way, over the same service.
	g := frameOf(macA, etEAPOL, "answer", 60)
	sa := subscribe(t, ac, nil)
	mustSend(t, bc, g)
	sa.expect(t, g)
}

func testCounters(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, MatchEtherType(etEAPOL))
	arp := frameOf(bcast, etARP, "nobody wants me", 60)
	e1 := frameOf(bcast, etEAPOL, "one", 60)
	e2 := frameOf(bcast, etEAPOL, "two", 60)
	for _, f := range [][]byte{arp, e1, e2} {
		mustSend(t, a, f)
	}
	sb.expect(t, e1, e2)
	want := Counters{Received: 3, Discarded: 1}
	if got := b.Counters(); clean(got) != want {
		t.Errorf("%s counters = %+v, want %+v", b.Name(), got, want)
	}
	want = Counters{Sent: 3}
	if got := a.Counters(); clean(got) != want {
		t.Errorf("%s counters = %+v, want %+v", a.Name(), got, want)
	}
}

// clean zeroes the counters only a RawPort keeps and that must stay zero here.
func clean(c Counters) Counters {
	c.ReceiveErrors, c.Overruns = 0, 0
	return c
}

func testSlowSubscriber(t *testing.T, link newLink) {
	const queue, n = 2, 10
	a, b := link(t, Options{QueueLen: queue})
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var got atomic.Uint64
	unsub := b.Subscribe(nil, func([]byte) {
		<-release
		got.Add(1)
	})
	t.Cleanup(unsub)
	t.Cleanup(free) // runs first: unsubscribe waits for the handler
	for i := range n {
		mustSend(t, a, frameOf(macB, etTest, fmt.Sprint("frame ", i), 60))
	}
	testkit.Becomes(t, "all frames received", func() bool { return b.Counters().Received == n })
	// The handler holds one frame and its queue two; the rest are dropped
	// (one more if a frame arrived before the handler took the first).
	c := b.Counters()
	if c.Dropped < n-queue-1 || c.Dropped > n-queue {
		t.Fatalf("counters = %+v, want %d or %d dropped", c, n-queue-1, n-queue)
	}
	free()
	testkit.Becomes(t, "slow subscriber to drain", func() bool { return got.Load() == n-c.Dropped })
}

func testUnsubscribe(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	var calls atomic.Int64
	unsub := b.Subscribe(nil, func([]byte) { calls.Add(1) })
	fence := subscribe(t, b, nil)
	f := frameOf(macB, etTest, "first", 60)
	mustSend(t, a, f)
	fence.expect(t, f)
	testkit.Becomes(t, "first delivery", func() bool { return calls.Load() == 1 })
	unsub()
	unsub() // idempotent
	g := frameOf(macB, etTest, "second", 60)
	mustSend(t, a, g)
	fence.expect(t, g)
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
}

func testMalformed(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sb := subscribe(t, b, nil)
	sub := subscribe(t, mustVLAN(t, b, 0x100), nil)
	// Eleven C-tags fill 60 bytes and leave no room for the EtherType the
	// last one announces.
	bad := frameOf(bcast, TPIDCTag, "", 60)
	for i := macsLen; i+1 < len(bad); i += 2 {
		bad[i], bad[i+1] = 0x81, 0x00
	}
	mustSend(t, a, bad)
	fence := frameOf(bcast, etTest, "fence", 60)
	mustSend(t, a, fence)
	subFence := frameOf(bcast, etTest, "sub-port fence", 60)
	mustSend(t, a, mustPush(t, subFence, Tag{TPID: TPIDCTag, VID: 0x100}))
	sb.expect(t, fence)
	sub.expect(t, subFence)
	if c := b.Counters(); c.Received != 3 || c.Malformed != 1 || c.Discarded != 0 {
		t.Fatalf("counters = %+v, want 3 received, 1 malformed", c)
	}
}

func testConcurrentSenders(t *testing.T, link newLink) {
	const senders, each = 4, 100
	a, b := link(t, Options{QueueLen: senders * each, ReadBuffer: 1 << 22})
	var got atomic.Int64
	unsub := b.Subscribe(nil, func([]byte) { got.Add(1) })
	defer unsub()
	sub := mustVLAN(t, a, 7)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			var p Port = a
			if s%2 == 1 {
				p = sub
			}
			for i := range each {
				if err := p.Send(frameOf(macB, etTest, fmt.Sprint(s, "/", i), 60)); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	testkit.Becomes(t, "all frames", func() bool { return got.Load() == senders*each })
	if c := a.Counters(); c.Sent != senders*each {
		t.Fatalf("counters = %+v, want %d sent", c, senders*each)
	}
}

func testClose(t *testing.T, link newLink) {
	a, b := link(t, Options{})
	sub := mustVLAN(t, b, 10)
	subscribe(t, sub, nil)
	subscribe(t, b, nil)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Send(frameOf(macA, etTest, "", 60)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := sub.Send(frameOf(macA, etTest, "", 60)); !errors.Is(err, ErrClosed) {
		t.Errorf("sub-port Send after Close = %v, want ErrClosed", err)
	}
	if _, err := b.VLAN(11); !errors.Is(err, ErrClosed) {
		t.Errorf("VLAN after Close = %v, want ErrClosed", err)
	}
	b.Subscribe(nil, func([]byte) { t.Error("handler called on a closed port") })()
	// The peer keeps working; what it sends is lost.
	if err := a.Send(frameOf(macB, etTest, "into the void", 60)); err != nil {
		t.Errorf("Send to a closed peer = %v", err)
	}
}

package msgbus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	msgbusv1 "github.com/openvolt/openvolt/api/msgbus/v1"
)

func TestValidMethod(t *testing.T) {
	for m, want := range map[string]bool{
		"/adapter.v1.AdapterService/AdoptDevice": true,
		"/a/b":                                   true,
		"":                                       false,
		"/":                                      false,
		"//b":                                    false,
		"/a/":                                    false,
		"a/b":                                    false,
		"/a/b/c":                                 false,
	} {
		if got := validMethod(m); got != want {
			t.Errorf("validMethod(%q) = %v, want %v", m, got, want)
		}
	}
}

func TestWaiters(t *testing.T) {
	w := newWaiters()
	p := &pending{seq: 1, ch: make(chan result, 1), topic: "t1"}
	w.register(p)
	w.register(&pending{seq: 2, ch: make(chan result, 1), topic: "t2"})
	var seqs []uint64
	w.each("t1", func(p *pending) { seqs = append(seqs, p.seq) })
	if fmt.Sprint(seqs) != "[1]" {
		t.Errorf("each(t1) = %v", seqs)
	}
	if !w.trigger(1, result{body: []byte("a")}) {
		t.Fatal("trigger found no waiter")
	}
	if r := <-p.ch; string(r.body) != "a" {
		t.Errorf("got %v", r)
	}
	if w.trigger(1, result{}) || w.get(1) != nil {
		t.Error("a second response found a waiter")
	}
	w.cancel(2)
	if w.trigger(2, result{}) || w.len() != 0 {
		t.Error("a canceled waiter was triggered")
	}
}

// A Conn knows its own transaction ids, as nextID and encode write them,
// and no other.
func TestSeqOf(t *testing.T) {
	c := &Conn{idBase: "0a1b"}
	for _, seq := range []uint64{1, 35, 36, 1 << 40} {
		if got, ok := c.seqOf([]byte(c.nextIDOf(seq))); !ok || got != seq {
			t.Errorf("seqOf(%s) = %d, %v", c.nextIDOf(seq), got, ok)
		}
		b := appendID(nil, c.idBase, seq)
		if _, _, n := protowire.ConsumeTag(b); string(b[n+1:]) != c.nextIDOf(seq) {
			t.Errorf("appendID(%d) = %q, want %s", seq, b[n+1:], c.nextIDOf(seq))
		}
	}
	for _, id := range []string{"", "0a1b", "0a1b-", "0a1c-1", "0a1b1", "0a1b-01", "0a1b-A", "0a1b-1-2", "0a1b-zzzzzzzzzzzzz", "x0a1b-1"} {
		if seq, ok := c.seqOf([]byte(id)); ok {
			t.Errorf("seqOf(%q) = %d: not this Conn's id", id, seq)
		}
	}
}

func TestRecentIDs(t *testing.T) {
	r := newRecentIDs(3, 2)
	for _, id := range []string{"a", "b", "c"} {
		if dup, _ := r.seen(id); dup {
			t.Errorf("%s seen before it was shown", id)
		}
	}
	r.answered("a", []byte("resp-a"))
	r.answered("b", []byte("resp-b"))
	r.answered("c", []byte("resp-c")) // the ring keeps two: a's goes
	r.answered("x", []byte("resp-x")) // never shown: not kept
	if dup, resp := r.seen("a"); !dup || resp != nil {
		t.Errorf("seen(a) = %v, %q; want a duplicate without response", dup, resp)
	}
	for _, id := range []string{"b", "c"} {
		if dup, resp := r.seen(id); !dup || string(resp) != "resp-"+id {
			t.Errorf("seen(%s) = %v, %q; want the kept response", id, dup, resp)
		}
	}
	r = newRecentIDs(2, 2)
	r.seen("a")
	r.seen("b")
	r.seen("c") // a and b move to the previous generation
	r.seen("d")
	r.seen("e") // and are forgotten
	if dup, _ := r.seen("a"); dup {
		t.Error("an old id is still remembered")
	}
}

// The committed offset never passes a record that has not finished.
func TestAckWindow(t *testing.T) {
	var marked []string
	w := newAckWindow(func(rs ...*kgo.Record) {
		for _, r := range rs {
			marked = append(marked, fmt.Sprintf("%d/%d", r.Partition, r.Offset))
		}
	})
	var refs []ackRef
	for off := range int64(5) {
		refs = append(refs, w.add(&kgo.Record{Partition: 0, Offset: off}))
	}
	w.done(refs[2])
	w.done(refs[1])
	if w.flushMarks(); len(marked) != 0 {
		t.Fatalf("marked %v before offset 0 finished", marked)
	}
	w.done(refs[0])
	w.abandon(refs[3])
	w.done(refs[4])
	if fmt.Sprint(marked) != "[]" {
		t.Errorf("marked %v before a flush", marked)
	}
	if w.flushMarks(); fmt.Sprint(marked) != "[0/2]" {
		t.Errorf("marked %v, want [0/2] (3 never ran)", marked)
	}
	p1 := w.add(&kgo.Record{Partition: 1, Offset: 3})
	p0 := w.add(&kgo.Record{Partition: 0, Offset: 5})
	w.done(p1)
	if w.flushMarks(); fmt.Sprint(marked) != "[0/2 1/3]" {
		t.Errorf("marked %v, want [0/2 1/3]: partition 0 marked once, 1 up to 3", marked)
	}
	w.done(p0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := w.wait(ctx, []int32{0}); err != nil {
		t.Errorf("wait with nothing in flight: %v", err)
	}

	ref := w.add(&kgo.Record{Partition: 1, Offset: 7})
	waited := make(chan error)
	go func() { waited <- w.wait(context.Background(), []int32{0, 1}) }()
	w.done(ref)
	if err := <-waited; err != nil {
		t.Error(err)
	}
	w.forget([]int32{1})
	w.done(ref) // after forget: ignored
}

func TestStatusRoundTrip(t *testing.T) {
	if statusToProto(nil) != nil || statusFromProto(nil) != nil {
		t.Error("OK is not nil")
	}
	p := statusToProto(context.Canceled)
	if p.GetCode() != 1 {
		t.Errorf("context.Canceled → %v", p)
	}
	b, _ := proto.Marshal(p)
	var q msgbusv1.Status
	if err := proto.Unmarshal(b, &q); err != nil || statusFromProto(&q) == nil {
		t.Errorf("round trip: %v", err)
	}
}

// takeExpired hands over the calls whose default timeout has passed, and
// only those: not one still in time, not one bounded by its own context.
func TestTakeExpired(t *testing.T) {
	w := newWaiters()
	now := time.Now()
	const late, due, inTime, ctx = 1, 2, 3, 4
	for seq, expires := range map[uint64]time.Time{late: now.Add(-time.Millisecond), due: now, inTime: now.Add(time.Second), ctx: {}} {
		w.register(&pending{seq: seq, ch: make(chan result, 1), expires: expires})
	}
	var got []uint64
	for _, p := range w.takeExpired(now) {
		got = append(got, p.seq)
	}
	if slices.Sort(got); !slices.Equal(got, []uint64{late, due}) {
		t.Errorf("expired %v, want late and due (%d, %d)", got, late, due)
	}
	if w.len() != 2 || w.get(inTime) == nil || w.get(ctx) == nil {
		t.Errorf("%d calls still wait, want in-time and ctx", w.len())
	}
	if again := w.takeExpired(now); len(again) != 0 {
		t.Errorf("expired twice: %d", len(again))
	}
}

// The ids msgbus callers make are remembered per caller in a window of
// sequence numbers: a duplicate is told apart however the caller's calls
// interleave within the window, and gets the kept response.
func TestRecentIDsWindow(t *testing.T) {
	r := newRecentIDs(4, 4)
	id := func(base string, seq uint64) string { return base + "-" + strconv.FormatUint(seq, 36) }
	for _, seq := range []uint64{5, 3, 4, 200, 64, 127, 128} { // out of order, across words
		if dup, _ := r.seen(id("c1", seq)); dup {
			t.Errorf("c1 %d seen before it was shown", seq)
		}
	}
	r.answered(id("c1", 4), []byte("resp-4"))
	r.answered(id("c1", 6), []byte("resp-6")) // never shown: not kept
	for seq, want := range map[uint64]string{3: "", 4: "resp-4", 200: "", 128: ""} {
		if dup, resp := r.seen(id("c1", seq)); !dup || string(resp) != want {
			t.Errorf("c1 %d again: %v, %q; want a duplicate with %q", seq, dup, resp, want)
		}
	}
	if dup, _ := r.seen(id("c2", 4)); dup {
		t.Error("another caller's sequence number 4 taken for c1's")
	}
	if dup, _ := r.seen(id("c1", 6)); dup {
		t.Error("a gap's sequence number taken for seen")
	}

	// The window moves: what it leaves behind is taken for new.
	far := uint64(200 + windowBits + 10)
	if dup, _ := r.seen(id("c1", far)); dup {
		t.Error("a far sequence number seen before it was shown")
	}
	if dup, _ := r.seen(id("c1", 5)); dup {
		t.Error("a sequence number behind the window taken for seen")
	}
	if dup, _ := r.seen(id("c1", far-windowBits+1)); dup {
		t.Error("a sequence number the window moved over still taken for seen")
	}

	// The caller used least recently is forgotten first.
	r = newRecentIDs(4, 4)
	for i := range maxBases + 1 {
		r.seen(id(fmt.Sprintf("b%d", i), 1))
		r.seen(id("b0", 2)) // b0 is kept in use
	}
	if dup, _ := r.seen(id("b0", 1)); !dup {
		t.Error("the caller in use was forgotten")
	}
	if dup, _ := r.seen(id("b1", 1)); dup {
		t.Error("the least used caller is still remembered")
	}
}

// A window answers as a set of the sequence numbers seen would, restricted
// to the last windowBits up to the highest, over random interleavings,
// gaps and jumps.
func TestSeqWindowModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := &seqWindow{bits: make([]uint64, windowBits/64)}
	seen := map[uint64]bool{}
	var hi uint64
	started := false
	for i := range 200000 {
		var seq uint64
		switch r := rng.IntN(100); {
		case r < 60 || !started: // ahead, by a little or (rarely) a lot
			step := uint64(rng.IntN(70))
			if rng.IntN(1000) == 0 {
				step = uint64(rng.IntN(2 * windowBits))
			}
			seq = hi + step
		default: // behind, within the window or just past it
			seq = hi - min(hi, uint64(rng.IntN(windowBits+windowBits/8)))
		}
		want := false
		switch {
		case !started || seq > hi:
			started, hi = true, max(hi, seq)
			seen[seq] = true
		case hi-seq >= windowBits:
		default:
			want = seen[seq]
			seen[seq] = true
		}
		if got := w.check(seq); got != want {
			t.Fatalf("step %d: check(%d) with the highest %d = %v, want %v", i, seq, hi, got, want)
		}
	}
}

package msgbus

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ackWindow tracks, per partition, which polled records are finished, so
// that the offset a server commits never passes a call that has not run:
// calls with different keys finish out of order, and committing the
// highest finished offset would skip (lose) the ones still running if the
// server stopped. After a rebalance, the next owner starts at the first
// unfinished record (at-least-once; servers drop duplicates they have seen).
//
// A finished record is marked committable by flushMarks, not at once:
// once per poll and whenever the executor idles, the newest of each
// partition, rather than every call taking the consumer group's lock.
// Marks only ever lag, so an offset committed never passes a call that has
// not run; at worst a replica runs again what ran since the last flush.
type ackWindow struct {
	mark func(...*kgo.Record) // marks records (and those before them) committable

	mu    sync.Mutex // guards parts and every partWindow
	parts map[int32]*partWindow
}

type partWindow struct {
	part     int32
	head     uint64 // sequence number of entries[0]
	next     uint64 // sequence number of the next record added
	entries  []ackEntry
	inflight int           // entries neither done nor abandoned
	drained  chan struct{} // closed when inflight drops to 0; nil unless awaited
	unmarked *kgo.Record   // the newest record committable and not yet marked
}

type ackState uint8

const (
	ackPending   ackState = iota
	ackDone               // finished: may be committed
	ackAbandoned          // never ran (the server stopped): must not be committed
)

type ackEntry struct {
	rec   *kgo.Record
	state ackState
}

// ackRef names one record in the window.
type ackRef struct {
	pw  *partWindow
	seq uint64
}

func newAckWindow(mark func(...*kgo.Record)) *ackWindow {
	return &ackWindow{mark: mark, parts: make(map[int32]*partWindow)}
}

// add records that r was polled; records of a partition arrive in offset
// order.
func (w *ackWindow) add(r *kgo.Record) ackRef {
	w.mu.Lock()
	defer w.mu.Unlock()
	pw := w.parts[r.Partition]
	if pw == nil {
		pw = &partWindow{part: r.Partition}
		w.parts[r.Partition] = pw
	}
	ref := ackRef{pw: pw, seq: pw.next}
	pw.next++
	pw.entries = append(pw.entries, ackEntry{rec: r})
	pw.inflight++
	return ref
}

// done marks the record finished and its offset committable once every
// record before it is finished too.
func (w *ackWindow) done(ref ackRef) { w.finish(ref, ackDone) }

// abandon marks the record as never run: it stops counting as in flight,
// but the commit offset stays before it so that the next owner runs it.
func (w *ackWindow) abandon(ref ackRef) { w.finish(ref, ackAbandoned) }

func (w *ackWindow) finish(ref ackRef, st ackState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	pw := ref.pw
	if w.parts[pw.part] != pw || ref.seq < pw.head {
		return // the partition was forgotten meanwhile
	}
	e := &pw.entries[ref.seq-pw.head]
	if e.state != ackPending {
		return
	}
	e.state = st
	pw.inflight--
	if pw.inflight == 0 && pw.drained != nil {
		close(pw.drained)
		pw.drained = nil
	}
	n := 0
	for n < len(pw.entries) && pw.entries[n].state == ackDone {
		pw.unmarked = pw.entries[n].rec
		n++
	}
	if n > 0 {
		clear(pw.entries[:n])
		pw.entries = pw.entries[n:]
		pw.head += uint64(n)
	}
}

// flushMarks marks committable the newest finished record of every
// partition, in one call.
func (w *ackWindow) flushMarks() {
	var recs []*kgo.Record
	w.mu.Lock()
	for _, pw := range w.parts {
		if pw.unmarked != nil {
			recs = append(recs, pw.unmarked)
			pw.unmarked = nil
		}
	}
	w.mu.Unlock()
	if len(recs) > 0 {
		w.mark(recs...)
	}
}

// wait returns once no record of the given partitions is in flight, or
// when ctx ends.
func (w *ackWindow) wait(ctx context.Context, partitions []int32) error {
	for _, p := range partitions {
		w.mu.Lock()
		pw := w.parts[p]
		if pw == nil || pw.inflight == 0 {
			w.mu.Unlock()
			continue
		}
		if pw.drained == nil {
			pw.drained = make(chan struct{})
		}
		ch := pw.drained
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// forget drops the state of partitions this server no longer owns.
func (w *ackWindow) forget(partitions []int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range partitions {
		delete(w.parts, p)
	}
}

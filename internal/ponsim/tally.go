package ponsim

import (
	"sync"
	"sync/atomic"
)

// tally counts frames and their bytes with one atomic add per frame
// instead of two: the frames in the top 24 bits of one word, the bytes in
// the low 40. Long before either part could overflow, the word is folded
// into wide counters under a lock that reads take too, so that a read
// never sees a count go backwards. Folds come every few million frames.
type tally struct {
	packed        atomic.Uint64
	mu            sync.Mutex // guards frames and bytes; serializes folds and reads
	frames, bytes uint64
}

const (
	tallyFrameShift = 40
	tallyByteMask   = 1<<tallyFrameShift - 1
	// A fold comes once the frames reach 2^23 (of 2^24) or the bytes 2^39
	// (of 2^40): the half left over takes the adds made meanwhile.
	tallyFoldFrames = 1 << 63
	tallyFoldBytes  = 1 << 39
)

// add counts one frame of n bytes (n < 2^32).
func (t *tally) add(n int) {
	v := t.packed.Add(1<<tallyFrameShift | uint64(n))
	if v >= tallyFoldFrames || v&tallyByteMask >= tallyFoldBytes {
		t.fold()
	}
}

func (t *tally) fold() {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.packed.Load()
	if v < tallyFoldFrames && v&tallyByteMask < tallyFoldBytes {
		return // another fold came first
	}
	t.frames += v >> tallyFrameShift
	t.bytes += v & tallyByteMask
	t.packed.Add(-v) // what was added since the load stays
}

// load returns the frames and bytes counted.
func (t *tally) load() (frames, bytes uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.packed.Load()
	return t.frames + v>>tallyFrameShift, t.bytes + v&tallyByteMask
}

// set starts the counts at frames and bytes (a tally no frame reaches yet).
func (t *tally) set(frames, bytes uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.packed.Store(0)
	t.frames, t.bytes = frames, bytes
}

package msgbus

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
)

// recentIDs remembers the transaction ids a server was shown, and the last
// responses it sent, so that a request a producer retry or a caller's
// resend duplicated runs only once, and the duplicate gets the response
// again (the first may have been lost with a broker).
//
// The ids msgbus callers make, "<base>-<sequence in base 36>" (Conn.nextID),
// are remembered per caller base in a window of the last windowBits
// sequence numbers, a bit each: a caller's calls arrive in about the order
// it made them, so the window's words stay in cache, where a map of every
// id missed it on most calls (about 4% of a fast call's CPU). A window
// holds about a million of its caller's calls, seconds of history at any
// rate. A sequence number further behind than that cannot be told apart
// and is taken for new. At most maxBases callers are remembered; the one
// used least recently goes first.
//
// Other ids are kept as 64-bit hashes (seeded per server) in two
// generations of maps without pointers of about size ids each: when the
// current one fills, it becomes the previous one and the oldest ids are
// forgotten. Two ids colliding (odds about 1 in 10⁹ per 2^16 calls) would
// have the second dropped as a duplicate.
//
// The last keep responses (of at most maxKeptResponse bytes each) are kept
// in a ring; a duplicate of a call whose response is not kept, or not sent
// yet, is dropped.
type recentIDs struct {
	size int
	seed maphash.Seed

	mu        sync.Mutex // guards everything below
	bases     map[string]*seqWindow
	uses      uint64 // counts lookups of bases: seqWindow.used
	cur, prev map[uint64]struct{}
	ring      []keptResponse
	next      int // ring slot to fill next
}

type keptResponse struct {
	id   uint64 // hash of the transaction id; 0: empty slot
	resp []byte
}

const (
	// maxKeptResponse bounds one response kept for duplicates.
	maxKeptResponse = 4 << 10
	// windowBits is how many sequence numbers of one caller a window
	// holds (128 KiB); maxBases bounds the callers remembered.
	windowBits = 1 << 20
	maxBases   = 16
)

func newRecentIDs(size, keep int) *recentIDs {
	return &recentIDs{
		size:  size,
		seed:  maphash.MakeSeed(),
		bases: make(map[string]*seqWindow),
		cur:   make(map[uint64]struct{}, size),
		ring:  make([]keptResponse, max(keep, 1)),
	}
}

func (r *recentIDs) hash(id string) uint64 { return maphash.String(r.seed, id) | 1 } // never 0

// seen reports whether id was shown before, with the response sent to it
// if it is still kept, and remembers id.
func (r *recentIDs) seen(id string) (bool, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var dup bool
	if base, seq, ok := splitID(id); ok {
		dup = r.window(base, true).check(seq)
	} else {
		h := r.hash(id)
		if _, dup = r.cur[h]; !dup {
			_, dup = r.prev[h]
		}
		if !dup {
			if len(r.cur) >= r.size {
				r.prev, r.cur = r.cur, make(map[uint64]struct{}, r.size)
			}
			r.cur[h] = struct{}{}
		}
	}
	if !dup {
		return false, nil
	}
	return true, r.kept(r.hash(id))
}

// answered keeps resp as id's response, if it is small enough and id is
// remembered.
func (r *recentIDs) answered(id string, resp []byte) {
	if len(resp) > maxKeptResponse {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.remembered(id) {
		return
	}
	r.ring[r.next] = keptResponse{id: r.hash(id), resp: resp}
	r.next = (r.next + 1) % len(r.ring)
}

// remembered reports whether id was shown and is still remembered.
func (r *recentIDs) remembered(id string) bool {
	if base, seq, ok := splitID(id); ok {
		w := r.window(base, false)
		return w != nil && w.has(seq)
	}
	h := r.hash(id)
	_, ok := r.cur[h]
	return ok
}

// kept returns the kept response of the id hashed h, the newest if there
// are several, or nil. Only duplicates look, so a scan does.
func (r *recentIDs) kept(h uint64) []byte {
	for i := range len(r.ring) {
		k := r.ring[(r.next-1-i+2*len(r.ring))%len(r.ring)]
		if k.id == h {
			return k.resp
		}
	}
	return nil
}

// window returns the window of a caller base, made (and the least used one
// forgotten if there are too many) when add is set; nil otherwise.
func (r *recentIDs) window(base string, add bool) *seqWindow {
	r.uses++
	if w := r.bases[base]; w != nil {
		w.used = r.uses
		return w
	}
	if !add {
		return nil
	}
	if len(r.bases) >= maxBases {
		var oldest string
		for b, w := range r.bases {
			if oldest == "" || w.used < r.bases[oldest].used {
				oldest = b
			}
		}
		delete(r.bases, oldest)
	}
	w := &seqWindow{used: r.uses, bits: make([]uint64, windowBits/64)}
	r.bases[strings.Clone(base)] = w // base points into a request's strings
	return w
}

// splitID splits an id Conn.nextID made into its base and sequence number.
func splitID(id string) (base string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || i == len(id)-1 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 36, 64)
	if err != nil {
		return "", 0, false
	}
	return id[:i], seq, true
}

// seqWindow is the sequence numbers of one caller seen among the last
// windowBits up to the highest seen, a bit each in a ring.
type seqWindow struct {
	started bool
	hi      uint64 // highest sequence number seen
	used    uint64 // recentIDs.uses when last looked up
	bits    []uint64
}

// check reports whether seq was seen, and marks it seen. A seq more than
// the window behind the highest is taken for new, and not marked.
func (w *seqWindow) check(seq uint64) bool {
	switch {
	case !w.started:
		w.started, w.hi = true, seq
	case seq > w.hi:
		w.clear(w.hi+1, seq)
		w.hi = seq
	case w.hi-seq >= windowBits:
		return false
	case w.bit(seq):
		return true
	}
	w.bits[seq/64%uint64(len(w.bits))] |= 1 << (seq % 64)
	return false
}

// has reports whether seq is in the window and was seen.
func (w *seqWindow) has(seq uint64) bool {
	return w.started && seq <= w.hi && w.hi-seq < windowBits && w.bit(seq)
}

func (w *seqWindow) bit(seq uint64) bool {
	return w.bits[seq/64%uint64(len(w.bits))]&(1<<(seq%64)) != 0
}

// clear forgets the sequence numbers from..to (inclusive), which the
// window moves over: their bits still hold the numbers windowBits before.
func (w *seqWindow) clear(from, to uint64) {
	if to-from >= windowBits-1 {
		clear(w.bits)
		return
	}
	n := uint64(len(w.bits))
	for s := from; s <= to; {
		if s%64 == 0 && to-s >= 63 {
			w.bits[s/64%n] = 0
			s += 64
			continue
		}
		w.bits[s/64%n] &^= 1 << (s % 64)
		s++
	}
}

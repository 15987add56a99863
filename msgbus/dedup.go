package msgbus

import (
	"hash/maphash"
	"sync"
)

// recentIDs remembers about the last size transaction ids a server was
// shown, and the last responses it sent, so that a request a producer
// retry or a caller's resend duplicated runs only once, and the duplicate
// gets the response again (the first may have been lost with a broker).
//
// Ids are kept as 64-bit hashes (seeded per server), in maps without
// pointers: a map of 2×64Ki strings is work for every garbage collection,
// a measurable share of a fast call. Two ids colliding (odds about 1 in
// 10⁹ per 2^16 calls) would have the second dropped as a duplicate. Two
// generations of maps: when the current one fills, it becomes the previous
// one and the oldest ids are forgotten. The last keep responses (of at
// most maxKeptResponse bytes each) are kept in a ring; a duplicate of a
// call whose response is not kept, or not sent yet, is dropped.
type recentIDs struct {
	size int
	seed maphash.Seed

	mu        sync.Mutex       // guards everything below
	cur, prev map[uint64]int32 // id hash → ring slot of its response + 1, or 0
	ring      []keptResponse
	next      int // ring slot to fill next
}

type keptResponse struct {
	id   uint64
	resp []byte
}

// maxKeptResponse bounds one response kept for duplicates.
const maxKeptResponse = 4 << 10

func newRecentIDs(size, keep int) *recentIDs {
	return &recentIDs{
		size: size,
		seed: maphash.MakeSeed(),
		cur:  make(map[uint64]int32, size),
		ring: make([]keptResponse, max(keep, 1)),
	}
}

func (r *recentIDs) hash(id string) uint64 { return maphash.String(r.seed, id) }

// seen reports whether id was shown before, with the response sent to it
// if it is still kept, and remembers id.
func (r *recentIDs) seen(id string) (bool, []byte) {
	h := r.hash(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	slot, ok := r.cur[h]
	if !ok {
		slot, ok = r.prev[h]
	}
	if ok {
		if slot > 0 && r.ring[slot-1].id == h {
			return true, r.ring[slot-1].resp
		}
		return true, nil
	}
	if len(r.cur) >= r.size {
		r.prev, r.cur = r.cur, make(map[uint64]int32, r.size)
	}
	r.cur[h] = 0
	return false, nil
}

// answered keeps resp as id's response, if it is small enough.
func (r *recentIDs) answered(id string, resp []byte) {
	if len(resp) > maxKeptResponse {
		return
	}
	h := r.hash(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cur[h]; !ok {
		return
	}
	i := r.next
	r.ring[i] = keptResponse{id: h, resp: resp}
	r.next = (i + 1) % len(r.ring)
	r.cur[h] = int32(i + 1)
}

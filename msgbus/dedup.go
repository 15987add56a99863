package msgbus

import "sync"

// recentIDs remembers about the last size transaction ids it was shown, so
// that a server runs a request that a producer retry duplicated only once.
// Two generations of maps: when the current one fills, it becomes the
// previous one and the oldest ids are forgotten.
type recentIDs struct {
	size int

	mu        sync.Mutex // guards cur and prev
	cur, prev map[string]struct{}
}

func newRecentIDs(size int) *recentIDs {
	return &recentIDs{size: size, cur: make(map[string]struct{}, size)}
}

// seen reports whether id was shown before, and remembers it.
func (r *recentIDs) seen(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cur[id]; ok {
		return true
	}
	if _, ok := r.prev[id]; ok {
		return true
	}
	if len(r.cur) >= r.size {
		r.prev, r.cur = r.cur, make(map[string]struct{}, r.size)
	}
	r.cur[id] = struct{}{}
	return false
}

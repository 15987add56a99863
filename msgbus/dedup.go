package msgbus

import "sync"

// recentIDs remembers about the last size transaction ids a server was
// shown, and the responses it sent to them, so that a request a producer
// retry or a caller's resend duplicated runs only once, and the duplicate
// gets the response again (the first may have been lost with a broker).
// Two generations of maps: when the current one fills, it becomes the
// previous one and the oldest ids are forgotten. Responses are kept while
// they fit a byte budget; a duplicate of a call whose response was not
// kept, or is not sent yet, is dropped.
type recentIDs struct {
	size   int
	budget int // bytes of responses kept at most

	mu        sync.Mutex // guards cur, prev, kept, prevKept
	cur, prev map[string][]byte
	kept      int // bytes of responses in cur
	prevKept  int // and in prev
}

// maxKeptResponse bounds one response kept for duplicates.
const maxKeptResponse = 4 << 10

func newRecentIDs(size, budget int) *recentIDs {
	return &recentIDs{size: size, budget: budget, cur: make(map[string][]byte, size)}
}

// seen reports whether id was shown before, with the response sent to it
// if it was kept, and remembers id.
func (r *recentIDs) seen(id string) (bool, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if resp, ok := r.cur[id]; ok {
		return true, resp
	}
	if resp, ok := r.prev[id]; ok {
		return true, resp
	}
	if len(r.cur) >= r.size {
		r.prev, r.cur = r.cur, make(map[string][]byte, r.size)
		r.prevKept, r.kept = r.kept, 0
	}
	r.cur[id] = nil
	return false, nil
}

// answered keeps resp as id's response, if it fits.
func (r *recentIDs) answered(id string, resp []byte) {
	if len(resp) > maxKeptResponse {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kept+r.prevKept+len(resp) > r.budget {
		return
	}
	if v, ok := r.cur[id]; ok && v == nil {
		r.cur[id] = resp
		r.kept += len(resp)
	}
}

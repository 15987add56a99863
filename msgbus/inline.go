package msgbus

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/openvolt/openvolt/internal/keyq"
)

// Calls of a quick method run on the poll loop's goroutine, right after
// their records are read, instead of being handed to an executor worker:
// a burst of quick calls then costs no goroutine switch, and its responses
// go together as soon as it is done. This is where a server's handoff cost
// went (volt bench rpc -c 64: 0.75 -> 0.80 of the raw loop's throughput).
//
// A method is quick once its handler has taken less than
// ServerConfig.InlineBelow on average over inlineSamples runs at least
// (DefaultInlineBelow: a handler that computes from memory, not one that
// waits on anything); the average follows it, so a
// method that turns slow goes back to the workers within a few calls.
// The poll loop queues a quick call in the executor without waking a
// worker (keyq.AddQuiet) and runs it from there (keyq.RunReady), which
// keeps the order of each key's calls and the executor's bound on what
// waits. If its calls take longer than inlineFor in all (a quick method
// that blocked this once, or a long burst), a timer hands polling to a new
// goroutine and wakes workers for the calls still queued: the server keeps
// reading and running other keys' calls while that one finishes, and the
// goroutine it ran on stops once it has.
const (
	inlineSamples = 16
	inlineFor     = time.Millisecond
)

// methodCost is a method's running handler time.
type methodCost struct {
	avg atomic.Int64 // ns, exponentially weighted (1/8 for each new run)
	n   atomic.Int64
}

func (c *methodCost) add(d time.Duration) {
	if c.n.Add(1) == 1 {
		c.avg.Store(int64(d))
		return
	}
	old := c.avg.Load() // a racing add may be lost: the average stays an average
	c.avg.Store(old + (int64(d)-old)/8)
}

// quick reports whether the method's calls may run inline: its handler
// takes less than below on average.
func (c *methodCost) quick(below time.Duration) bool {
	return c.n.Load() >= inlineSamples && time.Duration(c.avg.Load()) < below
}

// pollRole says which goroutine polls: the one whose generation is the
// current one. While it runs calls inline, a timer may hand the role over.
type pollRole struct {
	gen atomic.Uint64

	mu      sync.Mutex // guards the rest
	running bool       // the poller runs calls inline
	stale   int        // timer fires that came after the run they were set for ended
	closed  bool
	timer   *time.Timer // fires takeOver; stopped between runs
}

func (r *pollRole) holds(gen uint64) bool { return r.gen.Load() == gen }

// start begins a run of inline calls.
func (r *pollRole) start() {
	r.mu.Lock()
	r.running = true
	r.timer.Reset(inlineFor)
	r.mu.Unlock()
}

// end ends the run of the poller gen, and reports whether gen still polls.
func (r *pollRole) end(gen uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.holds(gen) {
		return false
	}
	r.running = false
	if !r.timer.Stop() {
		r.stale++ // it fired and its func waits for the lock: it must do nothing
	}
	return true
}

// close stops handing the role over.
func (r *pollRole) close() {
	r.mu.Lock()
	r.closed = true
	r.timer.Stop()
	r.mu.Unlock()
}

// runInline runs the quick calls the poller gen queued quietly, until
// none is left at the head of the executor's queue or the role is handed
// over, then sees that workers come for the rest and sends the responses.
func (s *Server) runInline(gen uint64) {
	s.role.start()
	for s.role.holds(gen) && s.sched.RunReady(isInline) {
		s.stats.inlined.Add(1)
	}
	if s.role.end(gen) {
		s.sched.Wake()
		s.idle()
	}
}

func isInline(it keyq.Item) bool {
	j, ok := it.(*job)
	return ok && j.inline
}

// takeOver runs when the poller's inline calls have taken inlineFor: a new
// goroutine polls, and workers come for the calls left.
func (s *Server) takeOver() {
	r := &s.role
	r.mu.Lock()
	if r.stale > 0 {
		r.stale--
		r.mu.Unlock()
		return
	}
	if !r.running || r.closed {
		r.mu.Unlock()
		return
	}
	r.running = false
	s.stats.handedOver.Add(1)
	gen := r.gen.Add(1)
	s.wg.Add(1) // under r.mu: Close marks the role closed before it waits
	go s.poll(gen)
	r.mu.Unlock()
	s.sched.Wake()
}

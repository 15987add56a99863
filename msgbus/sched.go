package msgbus

import (
	"context"
	"sync"
)

// scheduler runs jobs with one key one at a time, in the order they were
// submitted, and jobs with different keys in parallel, at most limit at
// once. A job with the empty key has no order to keep and runs as soon as
// a slot is free.
//
// One goroutine (the server's poll loop) submits; a worker goroutine per
// busy key drains that key's queue and then ends. Submit blocks while
// pendingPerSlot×limit jobs wait or run, so that one hot key cannot queue
// without bound.
type scheduler struct {
	run     func(*job)    // runs one job
	drop    func(*job)    // called for each job never run because of stop
	slots   chan struct{} // one per running worker
	pending chan struct{} // one per job queued or running

	stopCtx context.Context // done once stop begins
	stop    context.CancelFunc

	mu     sync.Mutex        // guards queues
	queues map[string][]*job // pending jobs of each key that has a worker
	wg     sync.WaitGroup    // the workers
}

const pendingPerSlot = 16

// newScheduler returns a scheduler that stops when ctx ends or close is
// called.
func newScheduler(ctx context.Context, limit int, run, drop func(*job)) *scheduler {
	s := &scheduler{
		run:     run,
		drop:    drop,
		slots:   make(chan struct{}, limit),
		pending: make(chan struct{}, pendingPerSlot*limit),
		queues:  make(map[string][]*job),
	}
	s.stopCtx, s.stop = context.WithCancel(ctx)
	return s
}

// submit queues j behind the other jobs of its key, or starts a worker for
// it; it blocks while every slot is busy. It reports false, and drops j,
// once the scheduler is stopping.
func (s *scheduler) submit(key string, j *job) bool {
	select {
	case s.pending <- struct{}{}:
	case <-s.stopCtx.Done():
		s.drop(j)
		return false
	}
	if key != "" {
		s.mu.Lock()
		if q, busy := s.queues[key]; busy {
			s.queues[key] = append(q, j)
			s.mu.Unlock()
			return true
		}
		s.queues[key] = nil // key is busy from here on
		s.mu.Unlock()
	}
	select {
	case s.slots <- struct{}{}:
	case <-s.stopCtx.Done():
		if key != "" {
			s.mu.Lock()
			delete(s.queues, key)
			s.mu.Unlock()
		}
		<-s.pending
		s.drop(j)
		return false
	}
	s.wg.Add(1)
	go s.work(key, j)
	return true
}

// work runs j and then the jobs queued behind it under the same key.
func (s *scheduler) work(key string, j *job) {
	defer s.wg.Done()
	defer func() { <-s.slots }()
	for {
		s.run(j)
		<-s.pending
		if key == "" {
			return
		}
		s.mu.Lock()
		q := s.queues[key]
		if len(q) == 0 {
			delete(s.queues, key)
			s.mu.Unlock()
			return
		}
		if s.stopCtx.Err() != nil {
			delete(s.queues, key)
			s.mu.Unlock()
			for _, j := range q {
				<-s.pending
				s.drop(j)
			}
			return
		}
		j = q[0]
		q[0] = nil
		s.queues[key] = q[1:]
		s.mu.Unlock()
	}
}

// close stops starting jobs, drops the queued ones and waits for the
// running ones to return.
func (s *scheduler) close() {
	s.stop()
	s.wg.Wait()
}

package kvstore

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Store that behaves like a single etcd member:
// one global revision counter, prefix watches that see every change in
// order, and leases that delete their keys on expiry. It keeps nothing on
// disk. The zero value is not usable; call NewMemory.
type Memory struct {
	// mu guards the fields from closed to expiry. Lock order: Memory.mu,
	// then memWatcher.mu.
	mu        sync.Mutex
	closed    bool
	rev       int64 // revision of the last change; starts at 1 like etcd
	kvs       map[string]memEntry
	leases    map[LeaseID]*memLease
	lastLease LeaseID
	watchers  map[*memWatcher]struct{}
	// expiry fires at the earliest lease deadline. It is owned by the
	// store and stopped by Close; nil until the first lease.
	expiry *time.Timer

	done chan struct{}  // closed by Close to stop watcher goroutines
	wg   sync.WaitGroup // one per watcher goroutine; Add only under mu while open
}

type memEntry struct {
	value []byte
	rev   int64
	lease LeaseID
}

type memLease struct {
	ttl      time.Duration
	deadline time.Time
	keys     map[string]struct{}
}

// memWatcher queues events for one Watch call. The queue is unbounded so a
// slow reader never blocks writers; its goroutine drains it to the reader.
type memWatcher struct {
	prefix string
	notify chan struct{} // capacity 1: the queue may be non-empty

	mu    sync.Mutex // guards queue
	queue []Event
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store. Close it to stop its watches
// and lease timer.
func NewMemory() *Memory {
	return &Memory{
		rev:      1,
		kvs:      make(map[string]memEntry),
		leases:   make(map[LeaseID]*memLease),
		watchers: make(map[*memWatcher]struct{}),
		done:     make(chan struct{}),
	}
}

// lock takes mu after checking ctx, and fails if the store is closed.
// On success the caller must unlock.
func (s *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Get implements Store.
func (s *Memory) Get(ctx context.Context, key string) (KV, error) {
	if key == "" {
		return KV{}, fmt.Errorf("kvstore: get: %w", ErrEmptyKey)
	}
	if err := s.lock(ctx); err != nil {
		return KV{}, fmt.Errorf("kvstore: get %q: %w", key, err)
	}
	defer s.mu.Unlock()
	e, ok := s.kvs[key]
	if !ok {
		return KV{}, fmt.Errorf("kvstore: get %q: %w", key, ErrNotFound)
	}
	return KV{Key: key, Value: bytes.Clone(e.value), Revision: e.rev}, nil
}

// List implements Store.
func (s *Memory) List(ctx context.Context, prefix string) ([]KV, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("kvstore: list %q: %w", prefix, err)
	}
	defer s.mu.Unlock()
	var out []KV
	for _, k := range s.keysWithPrefixLocked(prefix) {
		e := s.kvs[k]
		out = append(out, KV{Key: k, Value: bytes.Clone(e.value), Revision: e.rev})
	}
	return out, nil
}

// Put implements Store.
func (s *Memory) Put(ctx context.Context, key string, value []byte, opts ...PutOption) (int64, error) {
	if key == "" {
		return 0, fmt.Errorf("kvstore: put: %w", ErrEmptyKey)
	}
	o := applyPutOptions(opts)
	if err := s.lock(ctx); err != nil {
		return 0, fmt.Errorf("kvstore: put %q: %w", key, err)
	}
	defer s.mu.Unlock()
	if err := s.checkLeaseLocked(o.lease); err != nil {
		return 0, fmt.Errorf("kvstore: put %q: %w", key, err)
	}
	return s.putLocked(key, value, o.lease), nil
}

// CompareAndSwap implements Store.
func (s *Memory) CompareAndSwap(ctx context.Context, key string, expectRevision int64, value []byte, opts ...PutOption) (int64, error) {
	if key == "" {
		return 0, fmt.Errorf("kvstore: compare-and-swap: %w", ErrEmptyKey)
	}
	o := applyPutOptions(opts)
	if err := s.lock(ctx); err != nil {
		return 0, fmt.Errorf("kvstore: compare-and-swap %q: %w", key, err)
	}
	defer s.mu.Unlock()
	cur, exists := s.kvs[key]
	if (expectRevision == 0 && exists) || (expectRevision != 0 && (!exists || cur.rev != expectRevision)) {
		return 0, fmt.Errorf("kvstore: compare-and-swap %q at revision %d: %w", key, expectRevision, ErrConflict)
	}
	if err := s.checkLeaseLocked(o.lease); err != nil {
		return 0, fmt.Errorf("kvstore: compare-and-swap %q: %w", key, err)
	}
	return s.putLocked(key, value, o.lease), nil
}

// Delete implements Store.
func (s *Memory) Delete(ctx context.Context, key string) error {
	if key == "" {
		return fmt.Errorf("kvstore: delete: %w", ErrEmptyKey)
	}
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("kvstore: delete %q: %w", key, err)
	}
	defer s.mu.Unlock()
	if _, ok := s.kvs[key]; ok {
		s.deleteKeysLocked([]string{key})
	}
	return nil
}

// Batch implements Store; the whole batch is atomic here.
// MaxBatch implements Store: a Memory store takes any batch at once, but
// reports etcd's default so that callers behave as they would on etcd.
func (s *Memory) MaxBatch() int { return DefaultMaxTxnOps }

func (s *Memory) Batch(ctx context.Context, ops []Op) error {
	for _, op := range ops {
		if op.Key == "" {
			return fmt.Errorf("kvstore: batch: %w", ErrEmptyKey)
		}
	}
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("kvstore: batch: %w", err)
	}
	defer s.mu.Unlock()
	for _, op := range ops {
		if _, ok := s.kvs[op.Key]; ok && op.Create && !op.Delete {
			return fmt.Errorf("kvstore: batch: %q exists: %w", op.Key, ErrConflict)
		}
	}
	for _, op := range ops {
		if !op.Delete {
			s.putLocked(op.Key, op.Value, 0)
		} else if _, ok := s.kvs[op.Key]; ok {
			s.deleteKeysLocked([]string{op.Key})
		}
	}
	return nil
}

// DeletePrefix implements Store.
func (s *Memory) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("kvstore: delete prefix: %w", ErrEmptyKey)
	}
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("kvstore: delete prefix %q: %w", prefix, err)
	}
	defer s.mu.Unlock()
	s.deleteKeysLocked(s.keysWithPrefixLocked(prefix))
	return nil
}

// Watch implements Store.
func (s *Memory) Watch(ctx context.Context, prefix string) (<-chan Event, error) {
	if err := s.lock(ctx); err != nil {
		return nil, fmt.Errorf("kvstore: watch %q: %w", prefix, err)
	}
	w := &memWatcher{prefix: prefix, notify: make(chan struct{}, 1)}
	s.watchers[w] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()

	out := make(chan Event)
	go s.runWatcher(ctx, w, out)
	return out, nil
}

// runWatcher hands queued events to the reader until ctx ends or the store
// closes. It is owned by the store: Close waits for it.
func (s *Memory) runWatcher(ctx context.Context, w *memWatcher, out chan<- Event) {
	defer s.wg.Done()
	defer close(out)
	defer func() {
		s.mu.Lock()
		delete(s.watchers, w)
		s.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-w.notify:
		}
		w.mu.Lock()
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range batch {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			case <-s.done:
				return
			}
		}
	}
}

// Grant implements Store.
func (s *Memory) Grant(ctx context.Context, ttl time.Duration) (LeaseID, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("kvstore: grant: TTL %v is not positive", ttl)
	}
	if err := s.lock(ctx); err != nil {
		return 0, fmt.Errorf("kvstore: grant: %w", err)
	}
	defer s.mu.Unlock()
	s.lastLease++
	id := s.lastLease
	s.leases[id] = &memLease{ttl: ttl, deadline: time.Now().Add(ttl), keys: make(map[string]struct{})}
	s.scheduleExpiryLocked()
	return id, nil
}

// KeepAlive implements Store.
func (s *Memory) KeepAlive(ctx context.Context, id LeaseID) error {
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("kvstore: keep alive lease %d: %w", id, err)
	}
	defer s.mu.Unlock()
	if err := s.checkLeaseLocked(id); err != nil {
		return fmt.Errorf("kvstore: keep alive lease %d: %w", id, err)
	}
	l := s.leases[id]
	l.deadline = time.Now().Add(l.ttl)
	// The timer may now fire early; expireLeases then just reschedules.
	return nil
}

// Revoke implements Store.
func (s *Memory) Revoke(ctx context.Context, id LeaseID) error {
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("kvstore: revoke lease %d: %w", id, err)
	}
	defer s.mu.Unlock()
	if err := s.checkLeaseLocked(id); err != nil {
		return fmt.Errorf("kvstore: revoke lease %d: %w", id, err)
	}
	s.revokeLocked(id)
	s.scheduleExpiryLocked()
	return nil
}

// Close implements Store.
func (s *Memory) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.expiry != nil {
		s.expiry.Stop()
	}
	close(s.done)
	s.mu.Unlock()
	// Watcher goroutines take mu on the way out, so wait after unlocking.
	s.wg.Wait()
	return nil
}

func (s *Memory) keysWithPrefixLocked(prefix string) []string {
	var keys []string
	for k := range s.kvs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// checkLeaseLocked accepts no lease (0) or a live one. A lease whose
// deadline has passed counts as gone even if the timer has not fired yet.
func (s *Memory) checkLeaseLocked(id LeaseID) error {
	if id == 0 {
		return nil
	}
	l, ok := s.leases[id]
	if !ok {
		return ErrLeaseNotFound
	}
	if !time.Now().Before(l.deadline) {
		s.revokeLocked(id)
		s.scheduleExpiryLocked()
		return ErrLeaseNotFound
	}
	return nil
}

func (s *Memory) putLocked(key string, value []byte, lease LeaseID) int64 {
	s.rev++
	if old, ok := s.kvs[key]; ok && old.lease != lease {
		s.detachLocked(key, old.lease)
	}
	if lease != 0 {
		s.leases[lease].keys[key] = struct{}{}
	}
	s.kvs[key] = memEntry{value: bytes.Clone(value), rev: s.rev, lease: lease}
	s.publishLocked([]Event{{Type: EventPut, KV: KV{Key: key, Value: value, Revision: s.rev}, Revision: s.rev}})
	return s.rev
}

// deleteKeysLocked removes keys, which must exist, in one revision, as an
// etcd range delete does.
func (s *Memory) deleteKeysLocked(keys []string) {
	if len(keys) == 0 {
		return
	}
	s.rev++
	evs := make([]Event, 0, len(keys))
	for _, k := range keys {
		s.detachLocked(k, s.kvs[k].lease)
		delete(s.kvs, k)
		evs = append(evs, Event{Type: EventDelete, KV: KV{Key: k, Revision: s.rev}, Revision: s.rev})
	}
	s.publishLocked(evs)
}

func (s *Memory) detachLocked(key string, lease LeaseID) {
	if l, ok := s.leases[lease]; ok {
		delete(l.keys, key)
	}
}

func (s *Memory) revokeLocked(id LeaseID) {
	l := s.leases[id]
	delete(s.leases, id)
	s.deleteKeysLocked(slices.Sorted(maps.Keys(l.keys)))
}

// publishLocked queues evs for every watcher whose prefix matches. Each
// watcher gets its own copy of values so readers cannot disturb each other.
func (s *Memory) publishLocked(evs []Event) {
	for w := range s.watchers {
		var matched []Event
		for _, ev := range evs {
			if strings.HasPrefix(ev.KV.Key, w.prefix) {
				ev.KV.Value = bytes.Clone(ev.KV.Value)
				matched = append(matched, ev)
			}
		}
		if len(matched) == 0 {
			continue
		}
		w.mu.Lock()
		w.queue = append(w.queue, matched...)
		w.mu.Unlock()
		select {
		case w.notify <- struct{}{}:
		default: // already signalled
		}
	}
}

// scheduleExpiryLocked points the expiry timer at the earliest lease
// deadline, or stops it when there are no leases.
func (s *Memory) scheduleExpiryLocked() {
	var next time.Time
	for _, l := range s.leases {
		if next.IsZero() || l.deadline.Before(next) {
			next = l.deadline
		}
	}
	switch {
	case next.IsZero():
		if s.expiry != nil {
			s.expiry.Stop()
		}
	case s.expiry == nil:
		s.expiry = time.AfterFunc(time.Until(next), s.expireLeases)
	default:
		s.expiry.Reset(time.Until(next))
	}
}

// expireLeases runs on the expiry timer. It may run late or after a
// KeepAlive moved a deadline, so it checks every lease against the clock.
func (s *Memory) expireLeases() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := time.Now()
	var expired []LeaseID
	for id, l := range s.leases {
		if !now.Before(l.deadline) {
			expired = append(expired, id)
		}
	}
	slices.Sort(expired)
	for _, id := range expired {
		s.revokeLocked(id)
	}
	s.scheduleExpiryLocked()
}

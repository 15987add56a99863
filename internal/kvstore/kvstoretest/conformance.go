package kvstoretest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/kvstore"
)

// Timeouts for the suite. Lease expiry is slow on etcd: its minimum TTL is
// about two seconds and it checks for expired leases twice a second.
const (
	opTimeout     = 30 * time.Second
	eventTimeout  = 10 * time.Second
	expiryTimeout = 15 * time.Second
	shortTTL      = time.Second
)

// Run checks that a Store implementation behaves as the kvstore package
// documents. newStore is called once per subtest and must return a ready
// store; Run closes it. Subtests run in parallel and each uses its own key
// prefix, so stores may share a backend.
func Run(t *testing.T, newStore func(t *testing.T) kvstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kvstore.Store, p string)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"OverwriteBumpsRevision", testOverwrite},
		{"EmptyKey", testEmptyKey},
		{"ListPrefix", testListPrefix},
		{"Delete", testDelete},
		{"DeletePrefix", testDeletePrefix},
		{"Batch", testBatch},
		{"BatchCreate", testBatchCreate},
		{"CASCreateOnly", testCASCreate},
		{"CASRevision", testCASRevision},
		{"Watch", testWatch},
		{"WatchEndsOnClose", testWatchEndsOnClose},
		{"LeaseRevoke", testLeaseRevoke},
		{"LeaseExpiry", testLeaseExpiry},
		{"Concurrency", testConcurrency},
		{"Closed", testClosed},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s, "/kvstoretest/"+t.Name()+"/")
		})
	}
}

func opContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t *testing.T, s kvstore.Store, key, value string, opts ...kvstore.PutOption) int64 {
	t.Helper()
	rev, err := s.Put(opContext(t), key, []byte(value), opts...)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return rev
}

func mustGet(t *testing.T, s kvstore.Store, key string) kvstore.KV {
	t.Helper()
	kv, err := s.Get(opContext(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func wantNotFound(t *testing.T, s kvstore.Store, key string) {
	t.Helper()
	if kv, err := s.Get(opContext(t), key); !errors.Is(err, kvstore.ErrNotFound) {
		t.Fatalf("Get(%q) = %+v, %v; want ErrNotFound", key, kv, err)
	}
}

func keys(kvs []kvstore.KV) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, kv.Key)
	}
	return out
}

func testGetMissing(t *testing.T, s kvstore.Store, p string) {
	wantNotFound(t, s, p+"missing")
}

func testPutGet(t *testing.T, s kvstore.Store, p string) {
	buf := []byte("value")
	rev, err := s.Put(opContext(t), p+"k", buf)
	if err != nil {
		t.Fatal(err)
	}
	if rev <= 0 {
		t.Errorf("Put revision = %d, want > 0", rev)
	}
	buf[0] = 'X' // the store must have kept its own copy
	kv := mustGet(t, s, p+"k")
	if kv.Key != p+"k" || string(kv.Value) != "value" || kv.Revision != rev {
		t.Errorf("Get = {%q %q %d}, want {%q %q %d}", kv.Key, kv.Value, kv.Revision, p+"k", "value", rev)
	}
	kv.Value[0] = 'Y'
	if got := mustGet(t, s, p+"k"); string(got.Value) != "value" {
		t.Errorf("changing a returned value changed the store: %q", got.Value)
	}
}

func testOverwrite(t *testing.T, s kvstore.Store, p string) {
	r1 := mustPut(t, s, p+"k", "one")
	r2 := mustPut(t, s, p+"k", "two")
	if r2 <= r1 {
		t.Errorf("overwrite revision %d, want > %d", r2, r1)
	}
	if kv := mustGet(t, s, p+"k"); string(kv.Value) != "two" || kv.Revision != r2 {
		t.Errorf("Get = %q@%d, want %q@%d", kv.Value, kv.Revision, "two", r2)
	}
	// Revisions are global: a write elsewhere is still higher.
	if r3 := mustPut(t, s, p+"other", "x"); r3 <= r2 {
		t.Errorf("revision of another key %d, want > %d", r3, r2)
	}
}

func testEmptyKey(t *testing.T, s kvstore.Store, _ string) {
	ctx := opContext(t)
	_, getErr := s.Get(ctx, "")
	_, putErr := s.Put(ctx, "", []byte("x"))
	_, casErr := s.CompareAndSwap(ctx, "", 0, []byte("x"))
	for name, err := range map[string]error{
		"Get":            getErr,
		"Put":            putErr,
		"CompareAndSwap": casErr,
		"Delete":         s.Delete(ctx, ""),
		"DeletePrefix":   s.DeletePrefix(ctx, ""),
	} {
		if !errors.Is(err, kvstore.ErrEmptyKey) {
			t.Errorf("%s with empty key: %v, want ErrEmptyKey", name, err)
		}
	}
}

func testListPrefix(t *testing.T, s kvstore.Store, p string) {
	revs := map[string]int64{}
	for _, k := range []string{"a/b/2", "a/b/1", "a/b/3", "a/bc", "a/b", "a/a"} {
		revs[p+k] = mustPut(t, s, p+k, "v-"+k)
	}
	got, err := s.List(opContext(t), p+"a/b/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{p + "a/b/1", p + "a/b/2", p + "a/b/3"}
	if !slices.Equal(keys(got), want) {
		t.Fatalf("List(a/b/) keys = %q, want %q", keys(got), want)
	}
	for _, kv := range got {
		if kv.Revision != revs[kv.Key] || string(kv.Value) != "v-"+kv.Key[len(p):] {
			t.Errorf("List entry %q = %q@%d, want %q@%d", kv.Key, kv.Value, kv.Revision, "v-"+kv.Key[len(p):], revs[kv.Key])
		}
	}
	// Without the slash the prefix takes in the siblings too.
	got, err = s.List(opContext(t), p+"a/b")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{p + "a/b", p + "a/b/1", p + "a/b/2", p + "a/b/3", p + "a/bc"}
	if !slices.Equal(keys(got), want) {
		t.Errorf("List(a/b) keys = %q, want %q", keys(got), want)
	}
	if got, err := s.List(opContext(t), p+"none/"); err != nil || len(got) != 0 {
		t.Errorf("List(none/) = %v, %v; want empty", got, err)
	}
}

func testDelete(t *testing.T, s kvstore.Store, p string) {
	mustPut(t, s, p+"k", "v")
	mustPut(t, s, p+"k2", "v")
	if err := s.Delete(opContext(t), p+"k"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, p+"k")
	mustGet(t, s, p+"k2")
	if err := s.Delete(opContext(t), p+"k"); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
}

func testDeletePrefix(t *testing.T, s kvstore.Store, p string) {
	for _, k := range []string{"a/b/1", "a/b/2", "a/b/c/3", "a/bc"} {
		mustPut(t, s, p+k, "v")
	}
	if err := s.DeletePrefix(opContext(t), p+"a/b/"); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(opContext(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{p + "a/bc"}; !slices.Equal(keys(got), want) {
		t.Errorf("after DeletePrefix(a/b/), keys = %q, want %q", keys(got), want)
	}
	if err := s.DeletePrefix(opContext(t), p+"none/"); err != nil {
		t.Errorf("DeletePrefix matching nothing: %v", err)
	}
}

func testCASCreate(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	rev, err := s.CompareAndSwap(ctx, p+"k", 0, []byte("first"))
	if err != nil {
		t.Fatalf("create-only CAS on a missing key: %v", err)
	}
	if _, err := s.CompareAndSwap(ctx, p+"k", 0, []byte("second")); !errors.Is(err, kvstore.ErrConflict) {
		t.Errorf("create-only CAS on an existing key: %v, want ErrConflict", err)
	}
	if kv := mustGet(t, s, p+"k"); string(kv.Value) != "first" || kv.Revision != rev {
		t.Errorf("Get = %q@%d, want %q@%d", kv.Value, kv.Revision, "first", rev)
	}
	// A deleted key can be created again.
	if err := s.Delete(ctx, p+"k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, p+"k", 0, []byte("again")); err != nil {
		t.Errorf("create-only CAS after delete: %v", err)
	}
}

func testCASRevision(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	rev := mustPut(t, s, p+"k", "v1")
	for _, wrong := range []int64{rev - 1, rev + 1000} {
		if _, err := s.CompareAndSwap(ctx, p+"k", wrong, []byte("bad")); !errors.Is(err, kvstore.ErrConflict) {
			t.Errorf("CAS at wrong revision %d (current %d): %v, want ErrConflict", wrong, rev, err)
		}
	}
	newRev, err := s.CompareAndSwap(ctx, p+"k", rev, []byte("v2"))
	if err != nil {
		t.Fatalf("CAS at current revision: %v", err)
	}
	if newRev <= rev {
		t.Errorf("CAS revision %d, want > %d", newRev, rev)
	}
	if kv := mustGet(t, s, p+"k"); string(kv.Value) != "v2" || kv.Revision != newRev {
		t.Errorf("Get = %q@%d, want %q@%d", kv.Value, kv.Revision, "v2", newRev)
	}
	if _, err := s.CompareAndSwap(ctx, p+"k", rev, []byte("stale")); !errors.Is(err, kvstore.ErrConflict) {
		t.Errorf("CAS at a stale revision: %v, want ErrConflict", err)
	}
	if _, err := s.CompareAndSwap(ctx, p+"missing", rev, []byte("x")); !errors.Is(err, kvstore.ErrConflict) {
		t.Errorf("CAS with a revision on a missing key: %v, want ErrConflict", err)
	}
}

// recv waits for the next event, failing the test if the channel closes or
// nothing arrives in time.
func recv(t *testing.T, ch <-chan kvstore.Event) kvstore.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed, want an event")
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatal("no watch event within", eventTimeout)
	}
	return kvstore.Event{}
}

// waitClosed drains ch until it closes.
func waitClosed(t *testing.T, ch <-chan kvstore.Event) {
	t.Helper()
	deadline := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed within", eventTimeout)
		}
	}
}

type wantEvent struct {
	typ   kvstore.EventType
	key   string
	value string
	rev   int64
}

func checkEvent(t *testing.T, got kvstore.Event, want wantEvent) {
	t.Helper()
	if got.Type != want.typ || got.KV.Key != want.key || string(got.KV.Value) != want.value ||
		got.Revision != want.rev || got.KV.Revision != want.rev {
		t.Errorf("event = %v %q=%q rev %d (kv rev %d), want %v %q=%q rev %d",
			got.Type, got.KV.Key, got.KV.Value, got.Revision, got.KV.Revision,
			want.typ, want.key, want.value, want.rev)
	}
}

func testWatch(t *testing.T, s kvstore.Store, p string) {
	ctx, cancel := context.WithCancel(opContext(t))
	defer cancel()
	mustPut(t, s, p+"w/0", "old") // before the watch: not reported
	ch, err := s.Watch(ctx, p+"w/")
	if err != nil {
		t.Fatal(err)
	}

	r1 := mustPut(t, s, p+"w/1", "a")
	mustPut(t, s, p+"wx", "sibling") // outside the prefix
	r2 := mustPut(t, s, p+"w/2", "b")
	r3 := mustPut(t, s, p+"w/1", "c")
	if err := s.Delete(ctx, p+"w/2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctx, p+"w/"); err != nil {
		t.Fatal(err)
	}
	rEnd := mustPut(t, s, p+"w/end", "z")

	// Delete revisions are not returned, so 0 here means "check order only".
	want := []wantEvent{
		{kvstore.EventPut, p + "w/1", "a", r1},
		{kvstore.EventPut, p + "w/2", "b", r2},
		{kvstore.EventPut, p + "w/1", "c", r3},
		{kvstore.EventDelete, p + "w/2", "", 0},
		{kvstore.EventDelete, p + "w/0", "", 0}, // a range delete reports keys in order
		{kvstore.EventDelete, p + "w/1", "", 0},
		{kvstore.EventPut, p + "w/end", "z", rEnd},
	}
	got := make([]kvstore.Event, len(want))
	for i, w := range want {
		got[i] = recv(t, ch)
		if w.rev == 0 {
			w.rev = got[i].Revision
		}
		checkEvent(t, got[i], w)
	}
	if !(r3 < got[3].Revision && got[3].Revision < got[4].Revision && got[6].Revision > got[5].Revision) {
		t.Errorf("delete revisions %d, %d out of order between %d and %d",
			got[3].Revision, got[4].Revision, r3, rEnd)
	}
	if got[4].Revision != got[5].Revision {
		t.Errorf("one DeletePrefix gave revisions %d and %d, want one", got[4].Revision, got[5].Revision)
	}

	cancel()
	waitClosed(t, ch)
}

func testWatchEndsOnClose(t *testing.T, s kvstore.Store, p string) {
	ch, err := s.Watch(opContext(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ch)
}

func testLeaseRevoke(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	if _, err := s.Grant(ctx, 0); err == nil {
		t.Error("Grant(0) succeeded, want error")
	}
	id, err := s.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	putRev := mustPut(t, s, p+"leased", "v", kvstore.WithLease(id))
	if _, err := s.CompareAndSwap(ctx, p+"leased2", 0, []byte("v"), kvstore.WithLease(id)); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, p+"plain", "v")
	if err := s.KeepAlive(ctx, id); err != nil {
		t.Errorf("KeepAlive of a live lease: %v", err)
	}
	if err := s.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, p+"leased")
	wantNotFound(t, s, p+"leased2")
	mustGet(t, s, p+"plain")

	for range 3 { // the three puts
		recv(t, ch)
	}
	ev := recv(t, ch)
	if ev.Type != kvstore.EventDelete || ev.KV.Key != p+"leased" || ev.Revision <= putRev {
		t.Errorf("after Revoke, event = %v %q@%d; want DELETE %q", ev.Type, ev.KV.Key, ev.Revision, p+"leased")
	}

	for name, err := range map[string]error{
		"KeepAlive": s.KeepAlive(ctx, id),
		"Revoke":    s.Revoke(ctx, id),
	} {
		if !errors.Is(err, kvstore.ErrLeaseNotFound) {
			t.Errorf("%s of a revoked lease: %v, want ErrLeaseNotFound", name, err)
		}
	}
	if _, err := s.Put(ctx, p+"late", []byte("v"), kvstore.WithLease(id)); !errors.Is(err, kvstore.ErrLeaseNotFound) {
		t.Errorf("Put with a revoked lease: %v, want ErrLeaseNotFound", err)
	}
	wantNotFound(t, s, p+"late")
}

func testLeaseExpiry(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	id, err := s.Grant(ctx, shortTTL)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, p+"leased", "v", kvstore.WithLease(id))
	// Put without the lease detaches a key that had it.
	mustPut(t, s, p+"detached", "v", kvstore.WithLease(id))
	mustPut(t, s, p+"detached", "v2")

	deadline := time.Now().Add(expiryTimeout)
	for {
		_, err := s.Get(ctx, p+"leased")
		if errors.Is(err, kvstore.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("leased key still present %v after a %v lease", expiryTimeout, shortTTL)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not a wait for an outcome
	}
	mustGet(t, s, p+"detached")
	if err := s.KeepAlive(ctx, id); !errors.Is(err, kvstore.ErrLeaseNotFound) {
		t.Errorf("KeepAlive of an expired lease: %v, want ErrLeaseNotFound", err)
	}
}

// testConcurrency runs CAS increments on one counter from many goroutines,
// alongside writes and lists of other keys, for the race detector and to
// check that CAS never loses an update.
func testConcurrency(t *testing.T, s kvstore.Store, p string) {
	const workers, increments = 8, 10
	ctx := opContext(t)
	counter := p + "counter"
	if _, err := s.Put(ctx, counter, []byte("0")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range increments {
				if err := increment(ctx, s, counter); err != nil {
					errs <- err
					return
				}
				key := fmt.Sprintf("%sw%d/%d", p, w, i)
				if _, err := s.Put(ctx, key, []byte("x")); err != nil {
					errs <- err
					return
				}
				if _, err := s.List(ctx, p); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if kv := mustGet(t, s, counter); string(kv.Value) != strconv.Itoa(workers*increments) {
		t.Errorf("counter = %s, want %d", kv.Value, workers*increments)
	}
	all, err := s.List(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != workers*increments+1 {
		t.Errorf("List found %d keys, want %d", len(all), workers*increments+1)
	}
	if !slices.IsSortedFunc(all, func(a, b kvstore.KV) int { return strings.Compare(a.Key, b.Key) }) {
		t.Error("List is not sorted by key")
	}
}

func increment(ctx context.Context, s kvstore.Store, key string) error {
	for {
		kv, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(kv.Value))
		if err != nil {
			return err
		}
		_, err = s.CompareAndSwap(ctx, key, kv.Revision, []byte(strconv.Itoa(n+1)))
		if !errors.Is(err, kvstore.ErrConflict) {
			return err
		}
	}
}

func testClosed(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	mustPut(t, s, p+"k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, getErr := s.Get(ctx, p+"k")
	_, putErr := s.Put(ctx, p+"k", []byte("v"))
	_, watchErr := s.Watch(ctx, p)
	_, grantErr := s.Grant(ctx, time.Minute)
	for name, err := range map[string]error{"Get": getErr, "Put": putErr, "Watch": watchErr, "Grant": grantErr} {
		if !errors.Is(err, kvstore.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testCanceledContext(t *testing.T, s kvstore.Store, p string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, p+"k", []byte("v")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, p+"k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Watch(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch with a canceled context: %v, want context.Canceled", err)
	}
}

// testBatch checks that a batch longer than one chunk applies every put and
// delete in order, and that a watcher sees them.
func testBatch(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	if _, err := s.Put(ctx, p+"gone", []byte("x")); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := s.Watch(wctx, p)
	if err != nil {
		t.Fatal(err)
	}
	n := s.MaxBatch() + 10
	ops := []kvstore.Op{{Key: p + "gone", Delete: true}, {Key: p + "never", Delete: true}}
	for i := range n {
		ops = append(ops, kvstore.Op{Key: fmt.Sprintf("%sk%04d", p, i), Value: []byte(fmt.Sprint(i))})
	}
	if err := s.Batch(ctx, ops); err != nil {
		t.Fatal(err)
	}
	kvs, err := s.List(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != n {
		t.Fatalf("after the batch %d keys, want %d", len(kvs), n)
	}
	if string(kvs[n-1].Value) != fmt.Sprint(n-1) {
		t.Errorf("last value %q", kvs[n-1].Value)
	}
	// The watcher sees the delete first, then the puts in order.
	want := append([]string{p + "gone"}, kvsKeys(kvs)...)
	for i, key := range want {
		select {
		case ev := <-events:
			if ev.KV.Key != key {
				t.Fatalf("event %d is %s %s, want %s", i, ev.Type, ev.KV.Key, key)
			}
		case <-ctx.Done():
			t.Fatalf("watch saw %d of %d events", i, len(want))
		}
	}
	if err := s.Batch(ctx, []kvstore.Op{{Key: ""}}); !errors.Is(err, kvstore.ErrEmptyKey) {
		t.Errorf("batch with an empty key: %v", err)
	}
}

// testBatchCreate checks that a chunk with a Create op whose key exists
// applies nothing and fails with ErrConflict, and one whose keys are new
// applies.
func testBatchCreate(t *testing.T, s kvstore.Store, p string) {
	ctx := opContext(t)
	if _, err := s.Put(ctx, p+"taken", []byte("a")); err != nil {
		t.Fatal(err)
	}
	err := s.Batch(ctx, []kvstore.Op{{Key: p + "new", Value: []byte("b"), Create: true},
		{Key: p + "taken", Value: []byte("c"), Create: true}, {Key: p + "plain", Value: []byte("d")}})
	if !errors.Is(err, kvstore.ErrConflict) {
		t.Fatalf("batch creating an existing key: %v, want ErrConflict", err)
	}
	kvs, err := s.List(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 1 || string(kvs[0].Value) != "a" {
		t.Fatalf("after a refused batch the store holds %v, want only %staken=a", kvsKeys(kvs), p)
	}
	if err := s.Batch(ctx, []kvstore.Op{{Key: p + "new", Value: []byte("b"), Create: true},
		{Key: p + "taken", Value: []byte("c")}}); err != nil {
		t.Fatal(err)
	}
	kv, err := s.Get(ctx, p+"new")
	if err != nil || string(kv.Value) != "b" {
		t.Fatalf("created key: %v %q", err, kv.Value)
	}
	if kv, err := s.Get(ctx, p+"taken"); err != nil || string(kv.Value) != "c" {
		t.Fatalf("overwritten key: %v %q", err, kv.Value)
	}
}

func kvsKeys(kvs []kvstore.KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}

package keyq_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openvolt/openvolt/internal/keyq"
	"github.com/openvolt/openvolt/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait receives from ch or fails after a generous bound.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func newQueue(t *testing.T, limit, maxPending int) *keyq.Queue {
	q := keyq.New(limit, maxPending)
	t.Cleanup(q.Close)
	return q
}

func TestOrderPerKey(t *testing.T) {
	q := newQueue(t, 4, 0)
	const n = 300
	var mu sync.Mutex
	got := make(map[string][]int)
	done := make(chan struct{}, 3*n)
	for i := range n {
		for _, key := range []string{"a", "b", "c"} {
			q.Add(key, keyq.Funcs{OnRun: func() {
				mu.Lock()
				got[key] = append(got[key], i)
				mu.Unlock()
				done <- struct{}{}
			}})
		}
	}
	for range 3 * n {
		wait(t, done, "items")
	}
	for key, seq := range got {
		for i, v := range seq {
			if v != i {
				t.Fatalf("key %s ran item %d in position %d", key, v, i)
			}
		}
	}
}

func TestOneKeyRunsOneAtATime(t *testing.T) {
	q := newQueue(t, 8, 0)
	var running, peak atomic.Int32
	done := make(chan struct{}, 50)
	for range 50 {
		q.Add("k", keyq.Funcs{OnRun: func() {
			peak.Store(max(peak.Load(), running.Add(1)))
			running.Add(-1)
			done <- struct{}{}
		}})
	}
	for range 50 {
		wait(t, done, "items")
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("%d items of one key ran at once", p)
	}
}

func TestKeysRunInParallelUpToTheLimit(t *testing.T) {
	const limit = 3
	q := newQueue(t, limit, 0)
	started := make(chan string, 10)
	release := make(chan struct{})
	var running, peak atomic.Int32
	for i := range 10 {
		q.Add(fmt.Sprint(i), keyq.Funcs{OnRun: func() {
			peak.Store(max(peak.Load(), running.Add(1)))
			started <- fmt.Sprint(i)
			<-release
			running.Add(-1)
		}})
	}
	// limit items start although none has finished…
	for range limit {
		wait(t, started, "an item to start")
	}
	// …and no more.
	select {
	case k := <-started:
		t.Fatalf("item %s started beyond the limit", k)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	for range 10 - limit {
		wait(t, started, "the rest")
	}
	if p := peak.Load(); p > limit {
		t.Errorf("%d items ran at once, limit %d", p, limit)
	}
}

func TestEmptyKeyKeepsNoOrder(t *testing.T) {
	q := newQueue(t, 2, 0)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		q.Add("", keyq.Funcs{OnRun: func() { started <- struct{}{}; <-release }})
	}
	wait(t, started, "first")
	wait(t, started, "second") // both run although neither finished
	close(release)
}

func TestMaxPendingBlocksAdd(t *testing.T) {
	q := newQueue(t, 1, 2)
	release := make(chan struct{})
	q.Add("a", keyq.Funcs{OnRun: func() { <-release }})
	q.Add("a", keyq.Funcs{OnRun: func() {}})
	added := make(chan bool, 1)
	go func() { added <- q.Add("b", keyq.Funcs{OnRun: func() {}}) }()
	select {
	case <-added:
		t.Fatal("Add did not block with maxPending items pending")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if !wait(t, added, "the blocked Add") {
		t.Error("the blocked Add failed")
	}
}

func TestForgetDropsWaitingItems(t *testing.T) {
	q := newQueue(t, 4, 0)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var ran, dropped atomic.Int32
	q.Add("olt", keyq.Funcs{OnRun: func() { started <- struct{}{}; <-release }})
	wait(t, started, "first item")
	for range 3 {
		q.Add("olt", keyq.Funcs{OnRun: func() { ran.Add(1) }, OnDrop: func() { dropped.Add(1) }})
	}
	q.Add("other", keyq.Funcs{OnRun: func() { ran.Add(1) }})
	if n := q.Waiting("olt"); n != 3 {
		t.Fatalf("Waiting = %d, want 3", n)
	}
	q.Forget(func(k string) bool { return k == "olt" })
	if d := dropped.Load(); d != 3 {
		t.Errorf("dropped %d, want 3", d)
	}
	// The running item finishes; an item added now runs after it.
	after := make(chan struct{})
	q.Add("olt", keyq.Funcs{OnRun: func() { close(after) }})
	select {
	case <-after:
		t.Fatal("an item ran beside the running item of its key")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	wait(t, after, "the item added after Forget")
	if r := ran.Load(); r != 1 {
		t.Errorf("ran %d forgotten or other items, want 1 (other)", r)
	}
}

func TestCloseDropsWaitingAndWaitsForRunning(t *testing.T) {
	q := keyq.New(1, 0)
	release := make(chan struct{})
	started := make(chan struct{})
	var finished atomic.Bool
	var dropped atomic.Int32
	q.Add("a", keyq.Funcs{OnRun: func() { close(started); <-release; finished.Store(true) }})
	wait(t, started, "first item")
	q.Add("a", keyq.Funcs{OnRun: func() { t.Error("a waiting item ran after Close") }, OnDrop: func() { dropped.Add(1) }})
	q.Add("b", keyq.Funcs{OnRun: func() { t.Error("an item waiting for a slot ran after Close") }, OnDrop: func() { dropped.Add(1) }})
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while an item ran")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	wait(t, closed, "Close")
	if !finished.Load() {
		t.Error("Close returned before the running item")
	}
	if d := dropped.Load(); d != 2 {
		t.Errorf("dropped %d, want 2", d)
	}
	var late atomic.Bool
	if q.Add("c", keyq.Funcs{OnRun: func() {}, OnDrop: func() { late.Store(true) }}) || !late.Load() {
		t.Error("Add after Close was accepted or not dropped")
	}
}

func BenchmarkAdd(b *testing.B) {
	q := keyq.New(64, 1024)
	defer q.Close()
	var wg sync.WaitGroup
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("dev-", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		wg.Add(1)
		q.Add(keys[i%len(keys)], keyq.Funcs{OnRun: wg.Done})
	}
	wg.Wait()
}

func TestIdleRunsAtTheEndOfABurst(t *testing.T) {
	var ran, idles atomic.Int32
	idle := make(chan int32, 10)
	q := keyq.New(1, 0, keyq.WithIdle(func() {
		idles.Add(1)
		idle <- ran.Load()
	}))
	t.Cleanup(q.Close)
	release := make(chan struct{})
	q.Add("a", keyq.Funcs{OnRun: func() { <-release; ran.Add(1) }})
	for i := range 4 {
		q.Add(fmt.Sprint("k", i), keyq.Funcs{OnRun: func() { ran.Add(1) }})
	}
	close(release)
	// One worker (limit 1) drains the burst and then idles, once.
	if n := wait(t, idle, "the idle call"); n != 5 {
		t.Errorf("idle ran after %d of 5 items", n)
	}
	select {
	case n := <-idle:
		t.Errorf("idle ran again (after %d items) with nothing run since", n)
	case <-time.After(20 * time.Millisecond):
	}
	// The next burst ends with another idle call.
	q.Add("b", keyq.Funcs{OnRun: func() { ran.Add(1) }})
	if n := wait(t, idle, "the second idle call"); n != 6 {
		t.Errorf("idle ran after %d of 6 items", n)
	}
}

// Depth counts the items running and those waiting, whether behind a
// running item of their key or for a free worker.
func TestDepth(t *testing.T) {
	q := newQueue(t, 2, 0)
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	item := keyq.Funcs{OnRun: func() { started <- struct{}{}; <-release }}
	q.Add("a", item)
	q.Add("a", item) // behind a's first
	q.Add("b", item)
	q.Add("c", item) // no free worker
	wait(t, started, "a")
	wait(t, started, "b")
	if running, waiting := q.Depth(); running != 2 || waiting != 2 {
		t.Errorf("Depth() = %d running, %d waiting; want 2, 2", running, waiting)
	}
	close(release)
	for range 2 {
		wait(t, started, "the rest")
	}
	testkit.Eventually(t, "queue empty", func() error {
		if running, waiting := q.Depth(); running != 0 || waiting != 0 {
			return fmt.Errorf("Depth() = %d, %d", running, waiting)
		}
		return nil
	})
}

// Items added quietly wait for the caller: RunReady runs them on the
// calling goroutine, oldest first, those take accepts, and no worker
// comes for them until Wake.
func TestAddQuietRunReady(t *testing.T) {
	q := newQueue(t, 4, 0)
	var ran []string // written by RunReady's caller only: a worker would race (-race)
	for _, key := range []string{"a", "b", "c"} {
		q.AddQuiet(key, keyq.Funcs{OnRun: func() { ran = append(ran, key) }})
	}
	woken := make(chan string, 1)
	q.AddQuiet("d", keyq.Funcs{OnRun: func() { woken <- "d" }})
	notD := func(keyq.Item) bool { return len(ran) < 3 } // d is the fourth
	for q.RunReady(notD) {
	}
	if fmt.Sprint(ran) != "[a b c]" {
		t.Fatalf("RunReady ran %v, want [a b c]", ran)
	}
	if running, waiting := q.Depth(); running != 0 || waiting != 1 {
		t.Errorf("Depth() = %d, %d; want d alone waiting", running, waiting)
	}
	q.Wake()
	if got := wait(t, woken, "d after Wake"); got != "d" {
		t.Errorf("got %s", got)
	}
	if q.RunReady(func(keyq.Item) bool { return true }) {
		t.Error("RunReady ran an item with none ready")
	}
}

// A quiet Add that finds the queue full wakes workers for the items ahead
// instead of waiting for a caller that is waiting on it.
func TestAddQuietFullWakes(t *testing.T) {
	q := newQueue(t, 2, 2)
	done := make(chan struct{}, 5)
	for i := range 5 {
		q.AddQuiet(fmt.Sprint(i), keyq.Funcs{OnRun: func() { done <- struct{}{} }})
	}
	q.Wake()
	for range 5 {
		wait(t, done, "items")
	}
}

package adapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func newTestWork(t *testing.T, limit int) *work {
	w := newWork(limit, slog.New(slog.DiscardHandler))
	t.Cleanup(w.stop)
	return w
}

// wait waits for ch or fails the test after a generous bound.
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

func TestWorkKeepsOrderPerKey(t *testing.T) {
	w := newTestWork(t, 4)
	const n = 200
	var mu sync.Mutex
	got := make(map[string][]int)
	done := make(chan struct{}, 2*n)
	for i := range n {
		for _, key := range []string{"a", "b"} {
			w.submit(key, job{run: func(context.Context) error {
				mu.Lock()
				got[key] = append(got[key], i)
				mu.Unlock()
				done <- struct{}{}
				return nil
			}})
		}
	}
	for range 2 * n {
		wait(t, done, "jobs")
	}
	for _, key := range []string{"a", "b"} {
		for i, v := range got[key] {
			if v != i {
				t.Fatalf("key %s ran job %d in position %d", key, v, i)
			}
		}
	}
}

func TestWorkRunsKeysInParallel(t *testing.T) {
	w := newTestWork(t, 4)
	release := make(chan struct{})
	started := make(chan string, 2)
	for _, key := range []string{"x", "y"} {
		w.submit(key, job{run: func(ctx context.Context) error {
			started <- key
			<-release
			return nil
		}})
	}
	// Both start although neither has finished.
	wait(t, started, "first job")
	wait(t, started, "second job")
	close(release)
}

func TestWorkBoundsConcurrency(t *testing.T) {
	w := newTestWork(t, 2)
	var mu sync.Mutex
	running, peak := 0, 0
	done := make(chan struct{}, 10)
	release := make(chan struct{})
	for i := range 10 {
		w.submit(fmt.Sprint(i), job{run: func(context.Context) error {
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			<-release
			mu.Lock()
			running--
			mu.Unlock()
			done <- struct{}{}
			return nil
		}})
	}
	close(release)
	for range 10 {
		wait(t, done, "jobs")
	}
	if peak > 2 {
		t.Errorf("%d jobs ran at once, limit 2", peak)
	}
}

func TestDoReturnsTheResult(t *testing.T) {
	w := newTestWork(t, 4)
	want := errors.New("boom")
	if err := w.do(context.Background(), "d", func(context.Context) error { return want }); !errors.Is(err, want) {
		t.Fatalf("do = %v, want %v", err, want)
	}
	if err := w.do(context.Background(), "d", func(context.Context) error { return nil }); err != nil {
		t.Fatalf("do = %v", err)
	}
}

func TestDoHonoursItsContext(t *testing.T) {
	w := newTestWork(t, 4)
	block := make(chan struct{})
	defer close(block)
	w.submit("d", job{run: func(context.Context) error { <-block; return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- w.do(ctx, "d", func(context.Context) error { ran <- struct{}{}; return nil })
	}()
	cancel()
	if err := wait(t, errc, "do"); !errors.Is(err, context.Canceled) {
		t.Fatalf("do = %v, want Canceled", err)
	}
	block <- struct{}{}
	// The abandoned job does not run once its caller has gone.
	if err := w.do(context.Background(), "d", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("the abandoned job ran")
	default:
	}
}

func TestForgetEndsTheWorkOfAKeyAndItsSubKeys(t *testing.T) {
	w := newTestWork(t, 4)
	started := make(chan struct{}, 3)
	ended := make(chan string, 3)
	release := make(chan struct{})
	defer close(release)
	for _, key := range []string{"olt", "olt/onu1", "other"} {
		w.submit(key, job{run: func(ctx context.Context) error {
			started <- struct{}{}
			select {
			case <-ctx.Done():
				ended <- key
			case <-release:
			}
			return nil
		}})
	}
	for range 3 {
		wait(t, started, "jobs to start")
	}
	queued := make(chan error, 1)
	go func() { queued <- w.do(context.Background(), "olt", func(context.Context) error { return nil }) }()
	waitQueued(t, w, "olt", 1)
	w.forget("olt")
	got := map[string]bool{wait(t, ended, "end"): true, wait(t, ended, "end"): true}
	if !got["olt"] || !got["olt/onu1"] {
		t.Errorf("ended %v, want olt and olt/onu1", got)
	}
	if err := wait(t, queued, "queued do"); !errors.Is(err, ErrStopped) {
		t.Errorf("queued do = %v, want ErrStopped", err)
	}
	select {
	case key := <-ended:
		t.Errorf("forget ended %s too", key)
	default:
	}
}

// waitQueued waits until key has n jobs waiting.
func waitQueued(t *testing.T, w *work, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := w.q.Waiting(key)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d jobs queued, want %d", key, got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGoStopWaits(t *testing.T) {
	w := newTestWork(t, 4)
	exited := make(chan struct{})
	stop := w.goTask("d", func(ctx context.Context) {
		<-ctx.Done()
		close(exited)
	})
	stop()
	select {
	case <-exited:
	default:
		t.Fatal("stop returned before the goroutine")
	}
}

func TestStopEndsEverything(t *testing.T) {
	w := newWork(2, slog.New(slog.DiscardHandler))
	w.goTask("d", func(ctx context.Context) { <-ctx.Done() })
	w.submit("d", job{run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
	dropped := make(chan error, 1)
	go func() { dropped <- w.do(context.Background(), "d", func(context.Context) error { return nil }) }()
	waitQueued(t, w, "d", 1)
	w.stop() // returns only once every goroutine has
	if err := wait(t, dropped, "dropped do"); !errors.Is(err, ErrStopped) {
		t.Errorf("do after stop = %v, want ErrStopped", err)
	}
	if w.submit("d", job{run: func(context.Context) error { return nil }}) {
		t.Error("submit after stop was accepted")
	}
}

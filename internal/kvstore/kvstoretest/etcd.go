// Package kvstoretest holds test helpers for code that uses kvstore: an
// embedded etcd on free ports, and the conformance suite every Store
// implementation must pass.
package kvstoretest

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/embedetcd"
)

// StartEtcd starts an embedded etcd on free loopback ports with its data in
// t.TempDir(), stops it in t.Cleanup, and returns its client endpoints.
// etcd's errors go to t.Log.
func StartEtcd(t testing.TB) []string {
	t.Helper()
	w := &tbWriter{tb: t}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var srv *embedetcd.Server
	var err error
	// The peer port is picked before etcd binds it, so another process
	// can take it in between; a couple of retries make that harmless.
	for range 3 {
		srv, err = embedetcd.Start(ctx, embedetcd.Config{
			DataDir:       filepath.Join(t.TempDir(), "etcd"),
			ClientURL:     "http://127.0.0.1:0",
			UnsafeNoFsync: true,
			Logger:        logger,
		})
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatalf("kvstoretest: start embedded etcd: %v", err)
	}
	t.Cleanup(func() {
		srv.Close()
		w.stop()
	})
	return srv.Endpoints()
}

// NewEtcdStore returns an etcd-backed store on a fresh embedded etcd. Both
// are closed in t.Cleanup, the store first.
func NewEtcdStore(t testing.TB) *kvstore.Etcd {
	t.Helper()
	eps := StartEtcd(t)
	s, err := kvstore.NewEtcd(context.Background(), kvstore.Config{Endpoints: eps})
	if err != nil {
		t.Fatalf("kvstoretest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tbWriter sends log lines to t.Log until stop. testing panics on Log after
// a test ends, and etcd may log from its goroutines until Close returns.
type tbWriter struct {
	tb testing.TB

	mu      sync.Mutex // guards stopped, and holds off stop during a Log
	stopped bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.tb.Log("etcd: " + strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

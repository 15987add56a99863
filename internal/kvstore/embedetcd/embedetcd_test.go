package embedetcd_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/embedetcd"
)

// recorder is a slog.Handler that keeps records so a test can assert etcd
// stayed quiet.
type recorder struct {
	mu   sync.Mutex
	recs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	line := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		line += fmt.Sprintf(" %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, line)
	r.mu.Unlock()
	return nil
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.recs...)
}

func start(t *testing.T, cfg embedetcd.Config) *embedetcd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedetcd.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return srv
}

func TestStartServesAndStaysQuiet(t *testing.T) {
	rec := &recorder{}
	srv := start(t, embedetcd.Config{
		DataDir:       filepath.Join(t.TempDir(), "etcd"),
		ClientURL:     "http://127.0.0.1:0",
		UnsafeNoFsync: true,
		Logger:        slog.New(rec),
	})
	eps := srv.Endpoints()
	if len(eps) != 1 || eps[0] == "http://127.0.0.1:0" {
		t.Fatalf("Endpoints() = %v, want one resolved port", eps)
	}

	ctx := context.Background()
	st, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if lines := rec.lines(); len(lines) > 0 {
		t.Errorf("etcd logged %d lines, want none:\n%v", len(lines), lines)
	}
}

func TestStartPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	start := time.Now()
	srv, err := embedetcd.Start(context.Background(), embedetcd.Config{
		DataDir:   filepath.Join(t.TempDir(), "etcd"),
		ClientURL: "http://" + l.Addr().String(),
	})
	if err == nil {
		srv.Close()
		t.Fatal("Start succeeded on a port in use")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error %q does not match EADDRINUSE", err)
	}
	t.Logf("error after %v: %v", time.Since(start), err)
}

func TestRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	ctx := context.Background()
	for i, want := range []string{"", "kept"} {
		srv := start(t, embedetcd.Config{DataDir: dir, ClientURL: "http://127.0.0.1:0", UnsafeNoFsync: true})
		st, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: srv.Endpoints()})
		if err != nil {
			t.Fatal(err)
		}
		kv, err := st.Get(ctx, "/k")
		switch {
		case want == "" && !errors.Is(err, kvstore.ErrNotFound):
			t.Errorf("run %d: Get = %v, %v; want ErrNotFound", i, kv, err)
		case want != "" && (err != nil || string(kv.Value) != want):
			t.Errorf("run %d: Get = %q, %v; want %q", i, kv.Value, err, want)
		}
		if _, err := st.Put(ctx, "/k", []byte("kept")); err != nil {
			t.Fatal(err)
		}
		st.Close()
		srv.Close()
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []embedetcd.Config{
		{},
		{DataDir: t.TempDir(), ClientURL: "https://127.0.0.1:0"},
		{DataDir: t.TempDir(), ClientURL: "http://127.0.0.1"},
		{DataDir: t.TempDir(), PeerURL: "::"},
		{DataDir: t.TempDir(), MaxTxnOps: -1},
	} {
		if srv, err := embedetcd.Start(context.Background(), cfg); err == nil {
			srv.Close()
			t.Errorf("Start(%+v) succeeded, want error", cfg)
		}
	}
}

// TestMaxTxnOps: a batch as large as the member's limit is one transaction;
// a client that thinks the limit is higher gets etcd's refusal, not a
// partial write.
func TestMaxTxnOps(t *testing.T) {
	srv := start(t, embedetcd.Config{
		DataDir: filepath.Join(t.TempDir(), "etcd"), ClientURL: "http://127.0.0.1:0", UnsafeNoFsync: true, MaxTxnOps: 300,
	})
	if srv.MaxTxnOps() != 300 {
		t.Fatalf("MaxTxnOps() = %d", srv.MaxTxnOps())
	}
	ctx := context.Background()
	batch := func(max, n int, prefix string) error {
		st, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: srv.Endpoints(), MaxTxnOps: max})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if st.MaxBatch() != max {
			t.Fatalf("MaxBatch() = %d, want %d", st.MaxBatch(), max)
		}
		ops := make([]kvstore.Op, n)
		for i := range ops {
			ops[i] = kvstore.Op{Key: fmt.Sprintf("%s/%04d", prefix, i), Value: []byte("v")}
		}
		return st.Batch(ctx, ops)
	}
	if err := batch(300, 300, "/ok"); err != nil {
		t.Fatal(err)
	}
	if err := batch(301, 301, "/over"); err == nil || !strings.Contains(err.Error(), "too many operations") {
		t.Fatalf("a batch over the limit: %v", err)
	}
	st, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: srv.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok, _ := st.List(ctx, "/ok/")
	over, _ := st.List(ctx, "/over/")
	if len(ok) != 300 || len(over) != 0 {
		t.Fatalf("%d and %d keys stored, want 300 and 0", len(ok), len(over))
	}
	if ok[0].Revision != ok[299].Revision {
		t.Errorf("revisions %d..%d: not one transaction", ok[0].Revision, ok[299].Revision)
	}

	// Values too large for one request (etcd takes 1.5 MiB) go in several.
	big := make([]kvstore.Op, 3)
	for i := range big {
		big[i] = kvstore.Op{Key: fmt.Sprintf("/big/%d", i), Value: []byte(strings.Repeat("x", 600<<10))}
	}
	if err := st.Batch(ctx, big); err != nil {
		t.Fatalf("a batch of 1.8 MB: %v", err)
	}
	if kvs, _ := st.List(ctx, "/big/"); len(kvs) != 3 {
		t.Errorf("%d large values stored, want 3", len(kvs))
	}
	// A batch with an empty key writes nothing.
	if err := st.Batch(ctx, []kvstore.Op{{Key: "/partial/1", Value: []byte("v")}, {Key: ""}}); err == nil {
		t.Error("a batch with an empty key was taken")
	}
	if kvs, _ := st.List(ctx, "/partial/"); len(kvs) != 0 {
		t.Errorf("a refused batch left %d keys", len(kvs))
	}
}

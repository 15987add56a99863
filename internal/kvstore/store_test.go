package kvstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/kvstoretest"
)

func TestMemory(t *testing.T) {
	kvstoretest.Run(t, func(*testing.T) kvstore.Store { return kvstore.NewMemory() })
}

func TestEtcd(t *testing.T) {
	eps := kvstoretest.StartEtcd(t)
	kvstoretest.Run(t, func(t *testing.T) kvstore.Store {
		s, err := kvstore.NewEtcd(t.Context(), kvstore.Config{Endpoints: eps})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewEtcdUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := "http://" + l.Addr().String()
	l.Close()

	const dial = 500 * time.Millisecond
	start := time.Now()
	s, err := kvstore.NewEtcd(context.Background(), kvstore.Config{Endpoints: []string{ep}, DialTimeout: dial})
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("NewEtcd succeeded with nothing listening")
	}
	if !strings.Contains(err.Error(), ep) {
		t.Errorf("error %q does not name the endpoint %s", err, ep)
	}
	if took > dial+2*time.Second {
		t.Errorf("NewEtcd took %v to fail, want about %v", took, dial)
	}
	t.Logf("failed after %v: %v", took, err)
}

func TestNewEtcdConfigErrors(t *testing.T) {
	for _, cfg := range []kvstore.Config{
		{},
		{Endpoints: []string{""}},
		{Endpoints: []string{"http://127.0.0.1:1"}, DialTimeout: -time.Second},
	} {
		if s, err := kvstore.NewEtcd(context.Background(), cfg); err == nil {
			s.Close()
			t.Errorf("NewEtcd(%+v) succeeded, want error", cfg)
		}
	}
}

// TestMemoryWatchNoLeak checks that every watcher goroutine ends, whether
// its context is canceled, its reader stops reading, or the store closes.
func TestMemoryWatchNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := t.Context()
	s := kvstore.NewMemory()

	canceled, cancel := context.WithCancel(ctx)
	ch1, err := s.Watch(canceled, "/")
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := s.Watch(ctx, "/") // never read: its events pile up in the queue
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := s.Put(ctx, fmt.Sprintf("/k%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Grant(ctx, time.Hour); err != nil { // starts the expiry timer
		t.Fatal(err)
	}
	cancel()
	for range ch1 {
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch2 {
	}
}

// TestMemoryLeaseTiming runs on synctest's fake clock, so it can check the
// TTL exactly without waiting for it.
func TestMemoryLeaseTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := kvstore.NewMemory()
		defer s.Close()

		id, err := s.Grant(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "/leased", []byte("v"), kvstore.WithLease(id)); err != nil {
			t.Fatal(err)
		}
		ch, err := s.Watch(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}

		// Renewing every 9s keeps the key past several TTLs.
		for range 3 {
			time.Sleep(9 * time.Second)
			if err := s.KeepAlive(ctx, id); err != nil {
				t.Fatalf("KeepAlive: %v", err)
			}
		}
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		if _, err := s.Get(ctx, "/leased"); err != nil {
			t.Fatalf("key gone before its TTL: %v", err)
		}

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if _, err := s.Get(ctx, "/leased"); !errors.Is(err, kvstore.ErrNotFound) {
			t.Fatalf("Get after the TTL: %v, want ErrNotFound", err)
		}
		if ev := <-ch; ev.Type != kvstore.EventDelete || ev.KV.Key != "/leased" {
			t.Errorf("event = %v %q, want DELETE /leased", ev.Type, ev.KV.Key)
		}
		if err := s.KeepAlive(ctx, id); !errors.Is(err, kvstore.ErrLeaseNotFound) {
			t.Errorf("KeepAlive after expiry: %v, want ErrLeaseNotFound", err)
		}
	})
}

// TestEtcdWatchNoLeak checks that Close ends the store's watch goroutines
// and the client's own.
func TestEtcdWatchNoLeak(t *testing.T) {
	eps := kvstoretest.StartEtcd(t)
	ctx := t.Context()
	// etcd starts its serving goroutines after it reports ready; one
	// round trip first keeps them out of the snapshot.
	warm, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	s, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	ch1, err := s.Watch(canceled, "/")
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := s.Watch(ctx, "/") // never read
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := s.Put(ctx, fmt.Sprintf("/k%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	for range ch1 {
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch2 {
	}
}

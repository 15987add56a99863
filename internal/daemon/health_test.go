package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/openvolt/openvolt/internal/broker"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/testkit"
	"github.com/openvolt/openvolt/logging"
)

// Health follows a dependency: NOT_SERVING while its check fails, SERVING
// again when it passes.
func TestHealthFollowsDependency(t *testing.T) {
	srv, err := daemon.ListenGRPC("127.0.0.1:0", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	var broken atomic.Bool
	srv.Watch(daemon.Dependency{Name: "thing", Check: func(context.Context) error {
		if broken.Load() {
			return errors.New("thing is down")
		}
		return nil
	}})
	cc, _ := serveGRPC(t, srv)
	hc := healthpb.NewHealthClient(cc)
	want := func(st healthpb.HealthCheckResponse_ServingStatus) func() error {
		return func() error {
			r, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
			if err != nil {
				return err
			}
			if r.GetStatus() != st {
				return fmt.Errorf("status %s, want %s", r.GetStatus(), st)
			}
			return nil
		}
	}
	testkit.Eventually(t, "serving", want(healthpb.HealthCheckResponse_SERVING))
	broken.Store(true)
	testkit.Eventually(t, "not serving while the dependency fails", want(healthpb.HealthCheckResponse_NOT_SERVING))
	broken.Store(false)
	testkit.Eventually(t, "serving again", want(healthpb.HealthCheckResponse_SERVING))
}

// The broker check fails once the broker is gone.
func TestBrokerDependency(t *testing.T) {
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	dep := daemon.BrokerDependency(b.Addrs())
	defer dep.Close()
	check := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return dep.Check(ctx)
	}
	testkit.Eventually(t, "broker answers", check)
	b.Close()
	testkit.Eventually(t, "broker gone", func() error {
		if check() == nil {
			return errors.New("check passes with the broker closed")
		}
		return nil
	})
}

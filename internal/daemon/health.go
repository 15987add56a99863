package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Dependency is something a daemon cannot work without (etcd for the
// core, the broker for every daemon on the bus). While Check fails, the
// daemon is not ready: its gRPC health says NOT_SERVING and /readyz 503.
type Dependency struct {
	Name string
	// Check returns nil while the dependency answers; it must honour ctx
	// (bounded by the watcher).
	Check func(ctx context.Context) error
	// Close, when set, releases what Check holds, once the watch ends.
	Close func()
}

// Health check timing: a check every HealthInterval, each bounded by
// healthTimeout.
const (
	HealthInterval = time.Second
	healthTimeout  = 2 * time.Second
)

// Watch makes the port's readiness, and so its health service, follow
// deps from Serve on: SERVING while every dependency answers, NOT_SERVING
// (the reason logged once) while one does not. Call it before Serve.
func (s *GRPCServer) Watch(deps ...Dependency) {
	s.deps = append(s.deps, deps...)
}

// watch runs the checks until ctx ends, each round recording them in the
// readiness and setting the health status from it (which also follows
// what other parts of the component report there).
func (s *GRPCServer) watch(ctx context.Context, log *slog.Logger) {
	defer func() {
		for _, d := range s.deps {
			if d.Close != nil {
				d.Close()
			}
		}
	}()
	down := make(map[string]bool) // dependency → reported down
	t := time.NewTicker(HealthInterval)
	defer t.Stop()
	for {
		for _, d := range s.deps {
			cctx, cancel := context.WithTimeout(ctx, healthTimeout)
			err := d.Check(cctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil && !down[d.Name]:
				down[d.Name] = true
				log.Warn("dependency unreachable: health NOT_SERVING until it is back", "dependency", d.Name, "err", err)
			case err == nil && down[d.Name]:
				delete(down, d.Name)
				log.Info("dependency back", "dependency", d.Name)
			}
			s.ready.Set(s.component+"/"+d.Name, err)
		}
		s.followReadiness()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// followReadiness sets the health status from the component's readiness.
func (s *GRPCServer) followReadiness() {
	st := healthpb.HealthCheckResponse_SERVING
	if s.ready.Check(s.component) != nil {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	s.setStatus(st)
}

func (s *GRPCServer) setStatus(st healthpb.HealthCheckResponse_ServingStatus) {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	if s.stopped || s.status == st {
		return
	}
	s.status = st
	s.health.SetServingStatus("", st)
}

// BrokerDependency checks that a broker of the list answers (a Kafka
// metadata request).
func BrokerDependency(brokers []string) Dependency {
	var (
		mu     sync.Mutex
		client *kgo.Client
	)
	return Dependency{
		Name: "broker",
		Check: func(ctx context.Context) error {
			mu.Lock()
			if client == nil {
				c, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
				if err != nil {
					mu.Unlock()
					return err
				}
				client = c
			}
			c := client
			mu.Unlock()
			if err := c.Ping(ctx); err != nil {
				return errors.Join(errors.New("no broker of "+strings.Join(brokers, ",")+" answers"), err)
			}
			return nil
		},
		Close: func() {
			mu.Lock()
			defer mu.Unlock()
			if client != nil {
				client.Close()
			}
		},
	}
}

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
// daemon's gRPC health says NOT_SERVING.
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

// Watch makes the health service follow deps from Serve on: SERVING while
// every dependency answers, NOT_SERVING (the reason logged once) while one
// does not. Call it before Serve.
func (s *GRPCServer) Watch(deps ...Dependency) {
	s.deps = append(s.deps, deps...)
}

// watch runs the checks until ctx ends.
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
		var failing []string
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
			if err != nil {
				failing = append(failing, d.Name)
			}
		}
		st := healthpb.HealthCheckResponse_SERVING
		if len(failing) > 0 {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		s.setStatus(st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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

package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openvolt/openvolt/internal/kvstore"
)

// Store wraps a kvstore.Store and measures its operations:
// volt_kvstore_operations_total{op}, volt_kvstore_operation_duration_seconds{op}
// and volt_kvstore_errors_total{op}. A key not found and a revision
// conflict are answers, not errors.
func Store(kv kvstore.Store, reg prometheus.Registerer) kvstore.Store {
	return &store{
		Store: kv,
		ops: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "kvstore", Name: "operations_total",
			Help: "Operations on the key-value store (etcd), by operation.",
		}, []string{"op"})),
		latency: Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "kvstore", Name: "operation_duration_seconds",
			Help:    "Latency of the operations on the key-value store, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"op"})),
		errs: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "kvstore", Name: "errors_total",
			Help: "Operations on the key-value store that failed, by operation.",
		}, []string{"op"})),
	}
}

type store struct {
	kvstore.Store
	ops     *prometheus.CounterVec
	latency *prometheus.HistogramVec
	errs    *prometheus.CounterVec
}

func (s *store) observe(op string, start time.Time, err error) {
	s.ops.WithLabelValues(op).Inc()
	s.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, kvstore.ErrNotFound) && !errors.Is(err, kvstore.ErrConflict) {
		s.errs.WithLabelValues(op).Inc()
	}
}

func (s *store) Get(ctx context.Context, key string) (kvstore.KV, error) {
	start := time.Now()
	kv, err := s.Store.Get(ctx, key)
	s.observe("get", start, err)
	return kv, err
}

func (s *store) List(ctx context.Context, prefix string) ([]kvstore.KV, error) {
	start := time.Now()
	kvs, err := s.Store.List(ctx, prefix)
	s.observe("list", start, err)
	return kvs, err
}

func (s *store) Put(ctx context.Context, key string, value []byte, opts ...kvstore.PutOption) (int64, error) {
	start := time.Now()
	rev, err := s.Store.Put(ctx, key, value, opts...)
	s.observe("put", start, err)
	return rev, err
}

func (s *store) CompareAndSwap(ctx context.Context, key string, expect int64, value []byte, opts ...kvstore.PutOption) (int64, error) {
	start := time.Now()
	rev, err := s.Store.CompareAndSwap(ctx, key, expect, value, opts...)
	s.observe("compare_and_swap", start, err)
	return rev, err
}

func (s *store) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := s.Store.Delete(ctx, key)
	s.observe("delete", start, err)
	return err
}

func (s *store) DeletePrefix(ctx context.Context, prefix string) error {
	start := time.Now()
	err := s.Store.DeletePrefix(ctx, prefix)
	s.observe("delete_prefix", start, err)
	return err
}

func (s *store) Batch(ctx context.Context, ops []kvstore.Op) error {
	start := time.Now()
	err := s.Store.Batch(ctx, ops)
	s.observe("batch", start, err)
	return err
}

func (s *store) Watch(ctx context.Context, prefix string) (<-chan kvstore.Event, error) {
	start := time.Now()
	ch, err := s.Store.Watch(ctx, prefix)
	s.observe("watch", start, err)
	return ch, err
}

func (s *store) Grant(ctx context.Context, ttl time.Duration) (kvstore.LeaseID, error) {
	start := time.Now()
	id, err := s.Store.Grant(ctx, ttl)
	s.observe("grant", start, err)
	return id, err
}

func (s *store) KeepAlive(ctx context.Context, id kvstore.LeaseID) error {
	start := time.Now()
	err := s.Store.KeepAlive(ctx, id)
	s.observe("keep_alive", start, err)
	return err
}

func (s *store) Revoke(ctx context.Context, id kvstore.LeaseID) error {
	start := time.Now()
	err := s.Store.Revoke(ctx, id)
	s.observe("revoke", start, err)
	return err
}

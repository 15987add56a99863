// Package metrics holds the Prometheus metrics every volt daemon shares:
// the process registry, the gRPC and msgbus interceptors, the kvstore
// decorator and the consumer-lag collector. Each process builds one
// registry in its main (NewRegistry) and passes it down; there is no
// global registry. Names follow Prometheus: a volt_ prefix, base units,
// _total for counters, _seconds for durations.
//
// Several parts may share one registry (volt up): each registers through
// For(reg, component), which adds a component label, and Register returns
// the collector already registered when a part registers the same metric
// twice (a reconnect, a second Conn).
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every volt metric.
const Namespace = "volt"

// NewRegistry returns a process's registry, with the Go runtime and
// process collectors in it.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// For returns reg with a component label on every metric registered
// through it, or a registerer that keeps nothing when reg is nil (a part
// run without metrics: tests, benchmarks).
func For(reg prometheus.Registerer, component string) prometheus.Registerer {
	if reg == nil {
		return prometheus.NewRegistry()
	}
	return prometheus.WrapRegistererWith(prometheus.Labels{"component": component}, reg)
}

// Register registers c, or returns the collector of the same
// description already registered; it panics on any other error (two
// metrics of one name and different labels: a bug).
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

package adapter

import (
	"errors"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/openvolt/openvolt/internal/metrics"
	"github.com/openvolt/openvolt/msgbus"
)

var errNotRegistered = errors.New("not registered with the core yet")

// busMetrics is what the adapter measures of its bus: the calls both
// ways, the Conn's and Server's counters, and its consumer group's lag.
type busMetrics struct {
	bus  *metrics.Bus
	lag  *metrics.Lag
	conn atomic.Pointer[msgbus.Conn]
	srv  atomic.Pointer[msgbus.Server]
}

func (b *busMetrics) client(coreTopic string) []grpc.UnaryClientInterceptor {
	return []grpc.UnaryClientInterceptor{b.bus.Client(coreTopic)}
}

func (b *busMetrics) server() []grpc.UnaryServerInterceptor {
	return []grpc.UnaryServerInterceptor{b.bus.Server()}
}

// registerMetrics registers the adapter's metrics in reg: the bus's and
// the depth of its work queue (read at scrape time).
func (a *Adapter) registerMetrics(reg prometheus.Registerer) *busMetrics {
	b := &busMetrics{bus: metrics.NewBus(reg), lag: metrics.NewLag(a.cfg.Brokers, a.cfg.Topic)}
	metrics.Register(reg, b.lag)
	metrics.Register(reg, metrics.BusStats{Conn: b.conn.Load, Server: b.srv.Load, Topic: a.cfg.Topic})
	metrics.Register(reg, workDepth{q: a.work})
	return b
}

func (a *Adapter) closeMetrics() { a.bus.lag.Close() }

var (
	workRunningDesc = prometheus.NewDesc("volt_adapter_work_running",
		"Work items (Submit, Do) the adapter runs now.", nil, nil)
	workWaitingDesc = prometheus.NewDesc("volt_adapter_work_queue_depth",
		"Work items (Submit, Do) waiting behind the running item of their key.", nil, nil)
)

// workDepth reads the work queue's depth at scrape time.
type workDepth struct{ q *work }

func (w workDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- workRunningDesc
	ch <- workWaitingDesc
}

func (w workDepth) Collect(ch chan<- prometheus.Metric) {
	running, waiting := w.q.q.Depth()
	ch <- prometheus.MustNewConstMetric(workRunningDesc, prometheus.GaugeValue, float64(running))
	ch <- prometheus.MustNewConstMetric(workWaitingDesc, prometheus.GaugeValue, float64(waiting))
}

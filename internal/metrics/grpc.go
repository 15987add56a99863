package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// GRPC counts the calls a gRPC server answers, by method and code, and
// times them.
type GRPC struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewGRPC registers the metrics of a gRPC server in reg under subsystem:
// volt_<subsystem>_requests_total{method,code} and
// volt_<subsystem>_request_duration_seconds{method}.
func NewGRPC(reg prometheus.Registerer, subsystem, what string) *GRPC {
	return &GRPC{
		requests: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: subsystem, Name: "requests_total",
			Help: what + " requests answered, by method and gRPC code.",
		}, []string{"method", "code"})),
		latency: Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: subsystem, Name: "request_duration_seconds",
			Help:    what + " request latency (for streams: how long the stream lasted), by method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"})),
	}
}

// Options are the server options that instrument a gRPC server.
func (m *GRPC) Options() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(m.unary),
		grpc.ChainStreamInterceptor(m.stream),
	}
}

func (m *GRPC) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	m.observe(info.FullMethod, start, err)
	return resp, err
}

func (m *GRPC) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	start := time.Now()
	err := h(srv, ss)
	m.observe(info.FullMethod, start, err)
	return err
}

func (m *GRPC) observe(fullMethod string, start time.Time, err error) {
	method := MethodName(fullMethod)
	m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
	m.latency.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

// MethodName is a gRPC full method without its leading slash:
// "volt.v1.VoltService/ListDevices".
func MethodName(full string) string { return strings.TrimPrefix(full, "/") }

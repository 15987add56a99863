package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/msgbus"
)

// Bus measures the calls a process makes and serves over msgbus, through
// msgbus's interceptors (the bus itself is left alone).
type Bus struct {
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	timeouts *prometheus.CounterVec
	handled  *prometheus.CounterVec
	handling *prometheus.HistogramVec
}

// NewBus registers the msgbus call metrics in reg.
func NewBus(reg prometheus.Registerer) *Bus {
	return &Bus{
		calls: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "msgbus", Name: "calls_total",
			Help: "Calls made over the message bus, by method, topic and gRPC code.",
		}, []string{"method", "topic", "code"})),
		latency: Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "msgbus", Name: "call_duration_seconds",
			Help:    "Round trip of the calls made over the message bus, by method and topic.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "topic"})),
		timeouts: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "msgbus", Name: "call_timeouts_total",
			Help: "Calls over the message bus that got no answer before their deadline, by method and topic.",
		}, []string{"method", "topic"})),
		handled: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "msgbus", Name: "handled_total",
			Help: "Calls served from the message bus, by method, request topic and gRPC code.",
		}, []string{"method", "topic", "code"})),
		handling: Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "msgbus", Name: "handle_duration_seconds",
			Help:    "Time the handlers of calls served from the message bus took, by method and request topic.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "topic"})),
	}
}

// Client is the interceptor for msgbus.Config.Interceptors; defaultTopic
// is the Conn's Topic (calls that name none go there).
func (b *Bus) Client(defaultTopic string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		topic := defaultTopic
		for _, o := range opts {
			if t, ok := o.(msgbus.TopicOption); ok {
				topic = t.Topic
			}
		}
		start := time.Now()
		err := invoke(ctx, method, req, reply, cc, opts...)
		m, code := MethodName(method), status.Code(err)
		b.calls.WithLabelValues(m, topic, code.String()).Inc()
		b.latency.WithLabelValues(m, topic).Observe(time.Since(start).Seconds())
		if code == codes.DeadlineExceeded {
			b.timeouts.WithLabelValues(m, topic).Inc()
		}
		return err
	}
}

// Server is the interceptor for msgbus.ServerConfig.Interceptors.
func (b *Bus) Server() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		topic := ""
		if ci, ok := msgbus.CallInfoFromContext(ctx); ok {
			topic = ci.Topic
		}
		start := time.Now()
		resp, err := h(ctx, req)
		m := MethodName(info.FullMethod)
		b.handled.WithLabelValues(m, topic, status.Code(err).String()).Inc()
		b.handling.WithLabelValues(m, topic).Observe(time.Since(start).Seconds())
		return resp, err
	}
}

// BusStats exposes the counters a msgbus Conn and Server keep (retries
// among them) at scrape time. The Conn and Server may come and go (a
// reconnect): the funcs return the current ones, or nil.
type BusStats struct {
	Conn   func() *msgbus.Conn
	Server func() *msgbus.Server
	// Topic is the server's request topic (a label).
	Topic string
}

var (
	busResentDesc = prometheus.NewDesc("volt_msgbus_resent_requests_total",
		"Requests sent again after the broker lost them or their topic (retries).", nil, nil)
	busLateDesc = prometheus.NewDesc("volt_msgbus_late_responses_total",
		"Responses that arrived after their call had given up.", nil, nil)
	busFailedDesc = prometheus.NewDesc("volt_msgbus_unanswered_calls_total",
		"Calls that ended without a response (deadline, broker down, cancelled).", nil, nil)
	busServedDesc = prometheus.NewDesc("volt_msgbus_server_requests_total",
		"Request records a message-bus server consumed, by request topic.", []string{"topic"}, nil)
	busExpiredDesc = prometheus.NewDesc("volt_msgbus_server_expired_total",
		"Calls answered DeadlineExceeded without running (their caller had given up), by request topic.", []string{"topic"}, nil)
	busDupDesc = prometheus.NewDesc("volt_msgbus_server_duplicates_total",
		"Requests seen before (a producer's retry), dropped, by request topic.", []string{"topic"}, nil)
	busBadDesc = prometheus.NewDesc("volt_msgbus_server_bad_records_total",
		"Records that were not valid requests, by request topic.", []string{"topic"}, nil)
)

// Describe implements prometheus.Collector.
func (s BusStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{busResentDesc, busLateDesc, busFailedDesc, busServedDesc, busExpiredDesc, busDupDesc, busBadDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s BusStats) Collect(ch chan<- prometheus.Metric) {
	var cs msgbus.ConnStats
	if s.Conn != nil {
		if c := s.Conn(); c != nil {
			cs = c.Stats()
		}
	}
	ch <- prometheus.MustNewConstMetric(busResentDesc, prometheus.CounterValue, float64(cs.Resent))
	ch <- prometheus.MustNewConstMetric(busLateDesc, prometheus.CounterValue, float64(cs.Late))
	ch <- prometheus.MustNewConstMetric(busFailedDesc, prometheus.CounterValue, float64(cs.Failed))
	if s.Server == nil {
		return
	}
	var ss msgbus.ServerStats
	if srv := s.Server(); srv != nil {
		ss = srv.Stats()
	}
	ch <- prometheus.MustNewConstMetric(busServedDesc, prometheus.CounterValue, float64(ss.Requests), s.Topic)
	ch <- prometheus.MustNewConstMetric(busExpiredDesc, prometheus.CounterValue, float64(ss.Expired), s.Topic)
	ch <- prometheus.MustNewConstMetric(busDupDesc, prometheus.CounterValue, float64(ss.Duplicates), s.Topic)
	ch <- prometheus.MustNewConstMetric(busBadDesc, prometheus.CounterValue, float64(ss.BadRecords), s.Topic)
}

// lagTimeout bounds the broker round trips of one scrape.
const lagTimeout = time.Second

var lagDesc = prometheus.NewDesc("volt_msgbus_consumer_lag_records",
	"Records of a topic not yet consumed by a consumer group (end offset minus committed offset), read from the broker at scrape time.",
	[]string{"group", "topic"}, nil)

// Lag is a collector of the consumer lag of groups, asked of the brokers
// at scrape time (bounded by a second; nothing is reported while the
// brokers do not answer). Close it when done.
type Lag struct {
	brokers []string
	groups  []string

	mu sync.Mutex // guards cl
	cl *kgo.Client
}

// NewLag returns a lag collector of groups; it dials on first scrape.
func NewLag(brokers []string, groups ...string) *Lag {
	return &Lag{brokers: brokers, groups: groups}
}

// Describe implements prometheus.Collector.
func (l *Lag) Describe(ch chan<- *prometheus.Desc) { ch <- lagDesc }

// Collect implements prometheus.Collector.
func (l *Lag) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cl == nil {
		cl, err := kgo.NewClient(kgo.SeedBrokers(l.brokers...))
		if err != nil {
			return
		}
		l.cl = cl
	}
	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	lags, err := kadm.NewClient(l.cl).Lag(ctx, l.groups...)
	if err != nil {
		return
	}
	for _, g := range l.groups {
		gl, ok := lags[g]
		if !ok || gl.Error() != nil {
			continue
		}
		for topic, tl := range gl.Lag.TotalByTopic() {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(tl.Lag), g, topic)
		}
	}
}

// Close releases the collector's broker client.
func (l *Lag) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cl != nil {
		l.cl.Close()
		l.cl = nil
	}
}

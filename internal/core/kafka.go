package core

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/adapterreg"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/device"
	"github.com/openvolt/openvolt/internal/core/sbi"
	"github.com/openvolt/openvolt/internal/metrics"
	"github.com/openvolt/openvolt/msgbus"
)

// eventBuffer bounds the change events waiting for Kafka; beyond it events
// are dropped (and counted) rather than slowing the core down. A wildcard
// flow delete publishes one event per flow at once, so it is large.
const eventBuffer = 65536

// maxEventBatch bounds the events produced in one go: enough to catch up
// at many times the target rate of 20,000 a second with a round trip of a
// few milliseconds, few enough not to crowd the adapters' requests out of
// the producer they share (kgo buffers 10,000 records by default).
const maxEventBatch = 1024

// dropLogEvery spaces the warnings about dropped events: when Kafka is
// behind, a line per event would add to the load.
const dropLogEvery = time.Second

// kafka connects the core to Kafka: the client conn to adapters, the server
// of CoreService, and the events publisher. It keeps trying while Kafka is
// away, so the NBI serves reads even before Kafka is up.
type kafka struct {
	cfg Config
	log *slog.Logger
	bus *metrics.Bus // measures the calls both ways; nil: not measured

	events        *msgbus.Publisher // queues events, and sends them once Kafka is up
	alarms        *msgbus.Publisher // the same for alarms (volt.alarms)
	dropped       atomic.Uint64     // events not queued because the queue was full
	droppedLogged atomic.Uint64     // dropped as of the last warning
	dropLogged    atomic.Int64      // unix nanoseconds of the last warning

	mu      sync.RWMutex // guards conn, server, clients
	conn    *msgbus.Conn
	server  *msgbus.Server
	clients map[string]adapterv1.AdapterServiceClient // by topic
}

func newKafka(cfg Config, log *slog.Logger) (*kafka, error) {
	log = logger(log)
	topic := cfg.EventsTopic
	if topic == "" {
		topic = DefaultEventsTopic
	}
	events, err := msgbus.NewPublisher(msgbus.PublisherConfig{
		Topic: topic, Buffer: eventBuffer, MaxBatch: maxEventBatch, Logger: log,
	})
	if err != nil { // a bad EventsTopic
		return nil, fmt.Errorf("core: %w", err)
	}
	alarmsTopic := cfg.AlarmsTopic
	if alarmsTopic == "" {
		alarmsTopic = DefaultAlarmsTopic
	}
	alarms, err := msgbus.NewPublisher(msgbus.PublisherConfig{Topic: alarmsTopic, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	return &kafka{
		cfg:     cfg,
		log:     log,
		events:  events,
		alarms:  alarms,
		clients: make(map[string]adapterv1.AdapterServiceClient),
	}, nil
}

// run connects (retrying with backoff) and serves sbi, calls onConnect
// (nil: none; it must not block), then publishes events until ctx ends.
func (b *kafka) run(ctx context.Context, sbi *sbi.Server, instanceID string, onConnect func()) {
	backoff := 200 * time.Millisecond
	for {
		err := b.connect(ctx, sbi, instanceID)
		if err == nil {
			break
		}
		b.log.Warn("waiting for Kafka", "brokers", strings.Join(b.cfg.Brokers, ","), "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	b.log.Info("message bus connected", "topic", b.cfg.Topic, "instance_id", instanceID)
	if onConnect != nil {
		onConnect()
	}
	b.publishLoop(ctx)
}

func (b *kafka) connect(ctx context.Context, sbi *sbi.Server, instanceID string) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(dctx, msgbus.Config{
		Brokers:        b.cfg.Brokers,
		Name:           "volt-core",
		DefaultTimeout: b.cfg.AdapterTimeout,
		Key:            adapter.DeviceKeyFunc(),
		Interceptors:   b.clientInterceptors(),
		Logger:         b.cfg.Logs.Logger("msgbus"),
	})
	if err != nil {
		return err
	}
	srv, err := msgbus.NewServer(msgbus.ServerConfig{
		Brokers:      b.cfg.Brokers,
		Topic:        b.cfg.Topic,
		InstanceID:   instanceID,
		Interceptors: b.serverInterceptors(),
		Logger:       b.cfg.Logs.Logger("msgbus"),
	})
	if err != nil {
		conn.Close()
		return err
	}
	sbi.RegisterOn(srv)
	if err := srv.Start(dctx); err != nil {
		conn.Close()
		return err
	}
	b.mu.Lock()
	b.conn, b.server = conn, srv
	b.mu.Unlock()
	return nil
}

func (b *kafka) clientInterceptors() []grpc.UnaryClientInterceptor {
	if b.bus == nil {
		return nil
	}
	return []grpc.UnaryClientInterceptor{b.bus.Client("")}
}

func (b *kafka) serverInterceptors() []grpc.UnaryServerInterceptor {
	if b.bus == nil {
		return nil
	}
	return []grpc.UnaryServerInterceptor{b.bus.Server()}
}

// publishLoop sends the queued events until ctx ends: batches of up to
// maxEventBatch with one wait for the broker, one batch at a time (so the
// events of each key stay in order), each tried again until the broker
// takes it, so that an outage of the broker loses none of the events
// queued (msgbus.Publisher).
func (b *kafka) publishLoop(ctx context.Context) {
	b.mu.RLock()
	conn := b.conn
	b.mu.RUnlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.alarms.Run(ctx, conn)
	}()
	b.events.Run(ctx, conn)
	<-done
}

// publishAlarm queues an alarm for volt.alarms, keyed by its device.
func (b *kafka) publishAlarm(a *voltv1.Alarm) {
	if !b.alarms.Publish(a, a.GetDeviceId()) {
		b.log.Warn("alarm not published: Kafka is behind", "alarm", a.GetId(), "state", a.GetState())
	}
}

// outgoing keys an event by its device, or by its logical device when it
// names no device (flow, group and meter changes), so that the events of
// one device or one logical device stay in order.
func outgoing(ev *voltv1.Event) msgbus.Outgoing {
	key := ev.GetDeviceId()
	if key == "" {
		key = ev.GetLogicalDeviceId()
	}
	return msgbus.Outgoing{Message: ev, Key: key}
}

// publishEvent is the event fan-out's sink: it never blocks the core. When the
// queue is full it drops the event, counts it and warns, at most once per
// dropLogEvery.
func (b *kafka) publishEvent(ev *voltv1.Event) {
	o := outgoing(ev)
	if b.events.Publish(o.Message, o.Key) {
		return
	}
	total := b.dropped.Add(1)
	now := time.Now().UnixNano()
	last := b.dropLogged.Load()
	if now-last < int64(dropLogEvery) || !b.dropLogged.CompareAndSwap(last, now) {
		return
	}
	since := total - b.droppedLogged.Swap(total)
	b.log.Warn("event dropped: Kafka is behind", "event", ev.GetId(), "dropped", since, "dropped_total", total)
}

// droppedEvents counts the events dropped since the core started.
func (b *kafka) droppedEvents() uint64 { return b.dropped.Load() }

// client returns the AdapterService client for topic, or Unavailable while
// Kafka is down.
func (b *kafka) client(topic string) (adapterv1.AdapterServiceClient, error) {
	b.mu.RLock()
	c, conn := b.clients[topic], b.conn
	b.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	if conn == nil {
		return nil, coreerr.New(coreerr.ErrUnavailable, fmt.Sprintf("message bus not connected (brokers %s)", strings.Join(b.cfg.Brokers, ",")))
	}
	c = adapterv1.NewAdapterServiceClient(conn.To(topic))
	b.mu.Lock()
	b.clients[topic] = c
	b.mu.Unlock()
	return c, nil
}

func (b *kafka) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.server != nil {
		b.server.Close()
	}
	if b.conn != nil {
		b.conn.Close()
	}
}

// adapterClients resolves a device type to its adapter's client.
type adapterClients struct {
	reg   *adapterreg.Registry
	kafka *kafka
}

var _ device.Adapters = adapterClients{}

// For returns the client of the adapter of deviceType and its topic (the
// adapter's registered endpoint is the Kafka topic it serves on).
func (a adapterClients) For(_ context.Context, deviceType string) (adapterv1.AdapterServiceClient, string, error) {
	_, ad, ok := a.reg.ForType(deviceType)
	if !ok {
		return nil, "", coreerr.New(coreerr.ErrFailedPrecondition, fmt.Sprintf("no adapter serves device type %q", deviceType))
	}
	topic := ad.GetEndpoint()
	c, err := a.kafka.client(topic)
	if err != nil {
		return nil, "", err
	}
	return c, topic, nil
}

// registrar stores registrations and reconciles an adapter's devices the
// first time it registers after this core started (its restart or ours).
type registrar struct {
	reg     *adapterreg.Registry
	devices *device.Manager
	tasks   *tasks
	log     *slog.Logger
}

func (r *registrar) Register(ctx context.Context, a *voltv1.Adapter, types []*voltv1.DeviceType) error {
	first, err := r.reg.Register(ctx, a, types)
	if err != nil || !first {
		return err
	}
	names := make(map[string]bool, len(types))
	for _, t := range types {
		names[t.GetId()] = true
	}
	r.log.Info("adapter registered", "adapter", a.GetId(), "topic", a.GetEndpoint(), "types", len(types))
	// Reconcile after answering: the adapter's registration call must not
	// wait on calls back into the adapter.
	r.tasks.Go(func(ctx context.Context) { r.devices.Reconcile(ctx, names) })
	return nil
}

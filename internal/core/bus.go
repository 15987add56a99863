package core

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/adapterreg"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/device"
	"github.com/openvolt/openvolt/internal/core/sbi"
	"github.com/openvolt/openvolt/msgbus"
)

// eventBuffer bounds the change events waiting for Kafka; beyond it events
// are dropped (and counted) rather than slowing the core down.
const eventBuffer = 8192

// bus connects the core to Kafka: the client conn to adapters, the server
// of CoreService, and the events publisher. It keeps trying while Kafka is
// away, so the NBI serves reads even before the bus is up.
type bus struct {
	cfg       Config
	log       *slog.Logger
	sbi       *sbi.Server
	onConnect func() // must not block

	events chan *voltv1.Event

	mu      sync.RWMutex // guards conn, server, clients
	conn    *msgbus.Conn
	server  *msgbus.Server
	clients map[string]adapterv1.AdapterServiceClient // by topic
}

func newBus(cfg Config, log *slog.Logger) *bus {
	return &bus{
		cfg:     cfg,
		log:     logger(log),
		events:  make(chan *voltv1.Event, eventBuffer),
		clients: make(map[string]adapterv1.AdapterServiceClient),
	}
}

// run connects (retrying with backoff), then publishes events until ctx ends.
func (b *bus) run(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for {
		err := b.connect(ctx)
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
	b.log.Info("message bus connected", "topic", b.cfg.Topic)
	if b.onConnect != nil {
		b.onConnect()
	}
	b.publishLoop(ctx)
}

func (b *bus) connect(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(dctx, msgbus.Config{
		Brokers:        b.cfg.Brokers,
		Name:           "volt-core",
		DefaultTimeout: b.cfg.AdapterTimeout,
		Logger:         b.cfg.Logs.Logger("msgbus"),
	})
	if err != nil {
		return err
	}
	srv, err := msgbus.NewServer(msgbus.ServerConfig{
		Brokers: b.cfg.Brokers,
		Topic:   b.cfg.Topic,
		Logger:  b.cfg.Logs.Logger("msgbus"),
	})
	if err != nil {
		conn.Close()
		return err
	}
	b.sbi.RegisterOn(srv)
	if err := srv.Start(dctx); err != nil {
		conn.Close()
		return err
	}
	b.mu.Lock()
	b.conn, b.server = conn, srv
	b.mu.Unlock()
	return nil
}

func (b *bus) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-b.events:
			b.mu.RLock()
			conn := b.conn
			b.mu.RUnlock()
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := conn.Publish(pctx, b.cfg.EventsTopic, ev, msgbus.WithKey(ev.GetDeviceId())); err != nil {
				b.log.Warn("publish event", "topic", b.cfg.EventsTopic, "err", err)
			}
			cancel()
		}
	}
}

// publishEvent is the event bus's sink: it never blocks the core.
func (b *bus) publishEvent(ev *voltv1.Event) {
	select {
	case b.events <- ev:
	default:
		b.log.Warn("event dropped: Kafka is behind", "event", ev.GetId())
	}
}

// client returns the AdapterService client for topic, or Unavailable while
// the bus is down.
func (b *bus) client(topic string) (adapterv1.AdapterServiceClient, error) {
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

func (b *bus) close() {
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
	reg *adapterreg.Registry
	bus *bus
}

var _ device.Adapters = adapterClients{}

func (a adapterClients) For(_ context.Context, deviceType string) (adapterv1.AdapterServiceClient, string, error) {
	_, ad, ok := a.reg.ForType(deviceType)
	if !ok {
		return nil, "", coreerr.New(coreerr.ErrFailedPrecondition, fmt.Sprintf("no adapter serves device type %q", deviceType))
	}
	c, err := a.bus.client(ad.GetEndpoint())
	if err != nil {
		return nil, "", err
	}
	return c, ad.GetEndpoint(), nil
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
	r.log.Info("adapter registered", "adapter", a.GetId(), "endpoint", a.GetEndpoint(), "types", len(types))
	// Reconcile after answering: the adapter's registration call must not
	// wait on calls back into the adapter.
	r.tasks.Go(func(ctx context.Context) { r.devices.Reconcile(ctx, names) })
	return nil
}

package adapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/msgbus"
)

// Adapter is a running adapter: it serves the AdapterService built from a
// handler on its Kafka topic, registers with the core and keeps doing so,
// gives the handler a CoreService client, and owns the handler's
// background work. Make one with New, build the handler (it may keep the
// Adapter), then Run.
type Adapter struct {
	cfg  Config
	log  *slog.Logger
	core *lazyConn
	// peers reaches other adapters' topics (interadapter.go).
	peers busConn
	work  *work
	bus   *busMetrics // set by Run before it connects
	// kpis publishes the KPIs of a KpiCollector's devices (kpi.go); nil
	// for other handlers.
	kpis *kpis

	mu      sync.Mutex // guards started
	started bool
}

// New checks cfg and returns an Adapter; it does no I/O.
func New(cfg Config) (*Adapter, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	log := cfg.Logs.Logger("adapter").With("adapter", cfg.ID)
	return &Adapter{
		cfg:  cfg,
		log:  log,
		core: &lazyConn{},
		work: newWork(cfg.MaxConcurrency, log),
	}, nil
}

// ID is the adapter's id.
func (a *Adapter) ID() string { return a.cfg.ID }

// Topic is the Kafka topic the adapter serves.
func (a *Adapter) Topic() string { return a.cfg.Topic }

// Core returns a client of the core's CoreService. It works once Run has
// connected to Kafka; before that (and after Run returned) calls fail with
// Unavailable or Canceled. A call without a deadline gets CallTimeout. Calls
// about one device are ordered by the device id (DeviceKeyFunc); pass
// msgbus.WithKey for another key.
func (a *Adapter) Core() adapterv1.CoreServiceClient {
	return adapterv1.NewCoreServiceClient(a.core)
}

// Submit queues fn to run after the current call has answered, in order
// with the other work of key (a device id, or "<device id>/<sub-key>" for
// work under a device that may run in parallel with the device's own).
// Work of different keys runs in parallel, at most MaxConcurrency items at
// once. fn's context ends when key is forgotten or the adapter stops; its
// error is logged. After Run returned, Submit drops fn.
func (a *Adapter) Submit(key string, fn func(ctx context.Context) error) {
	if !a.work.submit(key, job{run: fn}) {
		a.log.Debug("work dropped: adapter stopped", "key", key)
	}
}

// Do runs fn in key's queue, as Submit does, and waits for its result: use
// it to answer a call only once the work is done, in order with the
// device's other work. fn's context also ends with ctx. Do returns
// ErrStopped if the work was dropped.
//
// Inside a call, fn must not call the core about the call's device (a
// state update, a port), nor wait behind work of key that does: the core
// holds the device until the call answers, so such a call waits until the
// deadline. Keep the reports to the core under another key
// ("<device id>/report") and Do the hardware operations under the id.
func (a *Adapter) Do(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	return a.work.do(ctx, key, fn)
}

// Go runs fn in a goroutine tied to key (a device's session, an event
// stream). Its context ends when stop is called, key is forgotten, or the
// adapter stops; stop cancels it and waits for fn to return, so it must
// not be called from fn itself.
func (a *Adapter) Go(key string, fn func(ctx context.Context)) (stop func()) {
	return a.work.goTask(key, fn)
}

// Forget ends the work of key and every key under it ("key/…"): queued
// items are dropped and running ones see their context end. It does not
// wait, so a handler may call it from the key's own work (after deleting
// the device).
func (a *Adapter) Forget(key string) { a.work.forget(key) }

// Run connects to Kafka (retrying while the brokers are away), serves the
// AdapterService built from h on the adapter's topic and the gRPC port,
// registers with the core (retrying until it answers, then again every
// Heartbeat), and runs until ctx ends. Then it stops gracefully: it stops
// taking calls, ends and waits for the running calls and the work, closes
// h (if it is a Closer) and the connections, and returns nil. Run runs
// once.
func (a *Adapter) Run(ctx context.Context, h Adopter) error {
	if h == nil {
		return errors.New("adapter: Run needs a handler")
	}
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return errors.New("adapter: Run called twice")
	}
	a.started = true
	a.mu.Unlock()
	startTime := time.Now()
	defer a.work.stop() // also when Run fails early: later Submits are dropped

	types := a.deviceTypes(h)
	tel := a.cfg.Telemetry
	if a.cfg.HTTP != "" && tel == nil {
		tel = daemon.NewTelemetry()
	}
	ready := tel.Ready()
	ready.Set(a.cfg.ID+"/registered", errNotRegistered) // its work starts with the core's answer
	defer ready.Set(a.cfg.ID+"/registered", ErrStopped)
	_, stopHTTP, err := tel.ServeHTTP(context.Background(), a.cfg.HTTP, a.cfg.Logs.Logger("daemon"))
	if err != nil {
		return fmt.Errorf("adapter %s: %w", a.cfg.ID, err)
	}
	defer stopHTTP()
	a.bus = a.registerMetrics(tel.Registerer(a.cfg.ID))
	defer a.closeMetrics()
	grpcSrv, err := daemon.ListenGRPC(a.cfg.GRPC, a.cfg.Logs)
	if err != nil {
		return fmt.Errorf("adapter %s: %w", a.cfg.ID, err)
	}
	grpcSrv.ReportTo(ready, a.cfg.ID)
	grpcSrv.Watch(daemon.BrokerDependency(a.cfg.Brokers))
	var pub *msgbus.Publisher
	if c, ok := h.(KpiCollector); ok {
		pub, err = msgbus.NewPublisher(msgbus.PublisherConfig{Topic: a.cfg.KpisTopic, Buffer: kpiPublisherBuffer, Logger: a.log})
		if err != nil {
			return fmt.Errorf("adapter %s: %w", a.cfg.ID, err)
		}
		a.kpis = newKpis(c, pub, a.work, a.log)
	}
	svc := &service{id: a.cfg.ID, h: h, log: a.log, kpis: a.kpis}
	// The same AdapterService on the gRPC port: a direct transport for
	// debugging (grpcurl) and tests.
	adapterv1.RegisterAdapterServiceServer(grpcSrv.Server(), svc)

	serveCtx, stopServe := context.WithCancel(context.Background())
	serveErr := make(chan error, 1)
	go func() { serveErr <- grpcSrv.Serve(serveCtx) }()
	defer func() {
		stopServe()
		if err := <-serveErr; err != nil {
			a.log.Warn("gRPC port stopped", "err", err)
		}
	}()

	conn, srv, err := a.connect(ctx, svc)
	if err != nil {
		return nil // ctx ended while waiting for Kafka: a clean stop
	}
	a.bus.conn.Store(conn)
	a.bus.srv.Store(srv)
	a.core.set(conn.To(a.cfg.CoreTopic))
	a.peers.set(conn)
	a.log.Info("adapter serving", "topic", a.cfg.Topic, "grpc", grpcSrv.Addr(),
		"brokers", strings.Join(a.cfg.Brokers, ","), "types", typeIDs(types))

	pubCtx, stopPub := context.WithCancel(context.Background())
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		if pub != nil {
			pub.Run(pubCtx, conn)
		}
	}()

	regCtx, stopReg := context.WithCancel(ctx)
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		a.registerLoop(regCtx, types, startTime, grpcSrv.Addr(), func() {
			ready.Set(a.cfg.ID+"/registered", nil)
			if a.cfg.Ready != nil {
				a.cfg.Ready(grpcSrv.Addr())
			}
		})
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		serveErr <- nil // for the deferred wait
		runErr = fmt.Errorf("adapter %s: %w", a.cfg.ID, runErr)
	}

	a.log.Info("adapter stopping")
	stopReg()
	<-regDone
	srv.Close() // no new calls; running handlers end
	a.work.stop()
	stopPub()
	<-pubDone
	if c, ok := h.(Closer); ok {
		if err := c.Close(); err != nil {
			a.log.Warn("closing the handler", "err", err)
		}
	}
	a.core.set(nil)
	a.peers.set(nil)
	conn.Close()
	a.log.Info("adapter stopped")
	return runErr
}

// connect dials Kafka and starts the AdapterService server on the topic,
// retrying with backoff until it works or ctx ends.
func (a *Adapter) connect(ctx context.Context, svc adapterv1.AdapterServiceServer) (*msgbus.Conn, *msgbus.Server, error) {
	mlog := a.cfg.Logs.Logger("msgbus")
	var b backoff
	for {
		conn, srv, err := a.connectOnce(ctx, svc, mlog)
		if err == nil {
			return conn, srv, nil
		}
		d := b.next()
		a.log.Warn("waiting for Kafka", "brokers", strings.Join(a.cfg.Brokers, ","), "err", err, "retry_in", d)
		if !sleep(ctx, d) {
			return nil, nil, ctx.Err()
		}
	}
}

func (a *Adapter) connectOnce(ctx context.Context, svc adapterv1.AdapterServiceServer, mlog *slog.Logger) (*msgbus.Conn, *msgbus.Server, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := msgbus.Dial(dctx, msgbus.Config{
		Brokers:        a.cfg.Brokers,
		Name:           a.cfg.ID,
		DefaultTimeout: a.cfg.CallTimeout,
		Key:            DeviceKeyFunc(),
		Interceptors:   a.bus.client(a.cfg.CoreTopic),
		Logger:         mlog,
	})
	if err != nil {
		return nil, nil, err
	}
	srv, err := msgbus.NewServer(msgbus.ServerConfig{
		Brokers:        a.cfg.Brokers,
		Topic:          a.cfg.Topic,
		InstanceID:     a.cfg.InstanceID,
		Partitions:     a.cfg.Partitions,
		MaxConcurrency: a.cfg.MaxConcurrency,
		Interceptors:   a.bus.server(),
		Logger:         mlog,
	})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	adapterv1.RegisterAdapterServiceServer(srv, svc)
	if err := srv.Start(dctx); err != nil {
		srv.Close()
		conn.Close()
		return nil, nil, err
	}
	return conn, srv, nil
}

// lazyConn is the core client's connection: msgbus once Run has dialed.
type lazyConn struct {
	mu sync.RWMutex // guards cc
	cc grpc.ClientConnInterface
}

func (c *lazyConn) set(cc grpc.ClientConnInterface) {
	c.mu.Lock()
	c.cc = cc
	c.mu.Unlock()
}

func (c *lazyConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	c.mu.RLock()
	cc := c.cc
	c.mu.RUnlock()
	if cc == nil {
		return status.Errorf(codes.Unavailable, "adapter: %s: not connected to the message bus", method)
	}
	return cc.Invoke(ctx, method, args, reply, opts...)
}

func (c *lazyConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "adapter: the core client carries unary calls only")
}

// backoff doubles a wait from 100ms up to 5s.
type backoff struct{ d time.Duration }

// next returns the delay to wait now and doubles the following one.
func (b *backoff) next() time.Duration {
	d := b.d
	if d == 0 {
		d = 100 * time.Millisecond
	}
	b.d = min(2*d, 5*time.Second)
	return d
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Package core is the composition root of the core: it builds the store,
// the managers, the NBI and the message bus from a Config and runs them.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/adapterreg"
	"github.com/openvolt/openvolt/internal/core/device"
	"github.com/openvolt/openvolt/internal/core/events"
	"github.com/openvolt/openvolt/internal/core/flows"
	"github.com/openvolt/openvolt/internal/core/logicaldevice"
	"github.com/openvolt/openvolt/internal/core/nbi"
	"github.com/openvolt/openvolt/internal/core/sbi"
	"github.com/openvolt/openvolt/internal/core/stats"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/core/telemetry"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/kvstore/embedetcd"
	"github.com/openvolt/openvolt/internal/metrics"
	"github.com/openvolt/openvolt/internal/techprofile"
	"github.com/openvolt/openvolt/logging"
)

// Topics the core uses.
const (
	DefaultTopic       = "volt.core"
	DefaultEventsTopic = "volt.events"
	DefaultAlarmsTopic = "volt.alarms"
)

// Config is everything the core needs; flags fill it in cmd/volt.
type Config struct {
	// NBI is the gRPC listen address (VoltService, LogService, health).
	NBI string
	// Etcd lists etcd endpoints, or is ["embedded"] to run etcd in-process.
	Etcd []string
	// EtcdListen is the client URL of the embedded etcd.
	EtcdListen string
	// EtcdMaxTxnOps is the etcd cluster's limit of operations per
	// transaction (its --max-txn-ops); the core stores up to this many
	// writes at once. Zero means etcd's default, 128. The embedded etcd
	// sets its own (embedetcd.DefaultMaxTxnOps) and ignores this.
	EtcdMaxTxnOps int
	// DataDir holds the embedded etcd's data (in DataDir/etcd).
	DataDir string
	// Prefix is the KV key prefix ("volt").
	Prefix string
	// Brokers lists Kafka brokers.
	Brokers []string
	// Topic is the core's request topic; EventsTopic carries change events.
	Topic       string
	EventsTopic string
	// AlarmsTopic carries alarms raised and cleared (default volt.alarms).
	AlarmsTopic string
	// InstanceID is the core's static member id in its request topic's
	// consumer group (msgbus.ServerConfig.InstanceID). Empty: derived
	// from the host name and the NBI port, which are unique per live
	// core and kept across its restarts (none when the NBI port is
	// chosen by the system: a dynamic member).
	InstanceID string
	// AdapterTimeout bounds each call to an adapter.
	AdapterTimeout time.Duration
	// Logs is the process's log registry.
	Logs *logging.Registry
	// KV, when set, is used instead of dialing Etcd (tests, volt up).
	KV kvstore.Store
	// Ready, when set, is called with the NBI address once it serves.
	Ready func(nbiAddr string)
	// Telemetry is the process's metrics registry and readiness (shared
	// with the other parts in volt up); nil keeps them private.
	Telemetry *daemon.Telemetry
	// HTTP, when set, is where the core serves Telemetry's /metrics,
	// /healthz and /readyz (volt core; volt up serves them itself).
	HTTP string
}

// Validate fills defaults and checks the config.
func (c *Config) Validate() error {
	if c.NBI == "" {
		c.NBI = "127.0.0.1:50057"
	}
	if c.KV == nil && len(c.Etcd) == 0 {
		return errors.New("core: --etcd needs endpoints or \"embedded\"")
	}
	if c.DataDir == "" {
		c.DataDir = ".volt"
	}
	if c.EtcdListen == "" {
		c.EtcdListen = embedetcd.DefaultClientURL
	}
	if c.EtcdMaxTxnOps < 0 {
		return fmt.Errorf("etcd max txn ops %d: must not be negative", c.EtcdMaxTxnOps)
	}
	if c.Prefix == "" {
		c.Prefix = "volt"
	}
	if strings.ContainsAny(c.Prefix, " \t\n") {
		return fmt.Errorf("core: prefix %q must not contain spaces", c.Prefix)
	}
	if len(c.Brokers) == 0 {
		return errors.New("core: --brokers needs at least one broker")
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.EventsTopic == "" {
		c.EventsTopic = DefaultEventsTopic
	}
	if c.AlarmsTopic == "" {
		c.AlarmsTopic = DefaultAlarmsTopic
	}
	if c.AdapterTimeout <= 0 {
		c.AdapterTimeout = 10 * time.Second
	}
	if c.Logs == nil {
		c.Logs = logging.Discard()
	}
	return nil
}

// embedded reports whether the config asks for an in-process etcd.
func (c *Config) embedded() bool {
	return len(c.Etcd) == 1 && c.Etcd[0] == "embedded"
}

// Run runs the core until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logs.Logger("core")
	if cfg.HTTP != "" && cfg.Telemetry == nil {
		cfg.Telemetry = daemon.NewTelemetry()
	}
	ready, reg := cfg.Telemetry.Ready(), cfg.Telemetry.Registerer("core")
	ready.Set("core/serving", errStarting) // until the NBI serves
	_, stopHTTP, err := cfg.Telemetry.ServeHTTP(ctx, cfg.HTTP, cfg.Logs.Logger("daemon"))
	if err != nil {
		return fmt.Errorf("core: %w", err)
	}
	defer stopHTTP()

	kv := cfg.KV
	if kv == nil {
		endpoints, maxTxnOps := cfg.Etcd, cfg.EtcdMaxTxnOps
		if cfg.embedded() {
			etcd, err := embedetcd.Start(ctx, embedetcd.Config{
				DataDir:   filepath.Join(cfg.DataDir, "etcd"),
				ClientURL: cfg.EtcdListen,
				Logger:    cfg.Logs.Logger("kvstore/embedetcd"),
			})
			if err != nil {
				return err
			}
			defer etcd.Close()
			endpoints, maxTxnOps = etcd.Endpoints(), etcd.MaxTxnOps()
		}
		etcdStore, err := kvstore.NewEtcd(ctx, kvstore.Config{Endpoints: endpoints, MaxTxnOps: maxTxnOps, Logger: cfg.Logs.Logger("kvstore")})
		if err != nil {
			return err
		}
		defer etcdStore.Close()
		kv = etcdStore
	}
	kv = metrics.Store(kv, reg)

	c, err := build(ctx, cfg, kv, metrics.NewBus(reg))
	if err != nil {
		return err
	}
	defer c.close()
	defer c.registerMetrics(reg, cfg, c.index, cfg.Telemetry != nil && cfg.Telemetry.PerDevice)()

	srv, err := daemon.ListenGRPC(cfg.NBI, cfg.Logs, metrics.NewGRPC(reg, "nbi", "NBI").Options()...)
	if err != nil {
		return err
	}
	srv.ReportTo(ready, "core")
	srv.Watch(daemon.Dependency{Name: "etcd", Check: func(ctx context.Context) error {
		_, err := kv.Get(ctx, path.Join("/", cfg.Prefix, "health"))
		if errors.Is(err, kvstore.ErrNotFound) {
			return nil
		}
		return err
	}}, daemon.BrokerDependency(cfg.Brokers))
	c.nbi.Register(srv.Server())

	// Stop order (defers run last first): cancel the background work,
	// wait for the tasks, then for the Kafka goroutine, then close Kafka.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.tasks.wait()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.tasks.start(runCtx)
	for _, f := range []follower{
		{name: "topology", filter: topologyEvents, on: c.onTopology, resync: c.resyncTopology},
		{name: "devices", filter: deviceEvents, on: c.onDevice, resync: c.resyncDevices},
	} {
		ch := c.subscribe(runCtx, f)
		c.tasks.Go(func(ctx context.Context) { c.follow(ctx, f, ch) })
	}
	c.tasks.Go(c.devices.Run)
	ready.Set("core/bus", errBusDown) // until the core serves on the bus
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.kafka.run(runCtx, c.sbi, instanceID(cfg, srv.Addr()), func() {
			ready.Set("core/bus", nil)
			c.reconcileRegistered()
		})
	}()

	log.Info("core serving", "nbi", srv.Addr(), "brokers", strings.Join(cfg.Brokers, ","), "prefix", cfg.Prefix)
	if cfg.Ready != nil {
		cfg.Ready(srv.Addr())
	}
	return srv.Serve(ctx)
}

// instanceID is cfg.InstanceID, or "core-<host>-<NBI port>" when the NBI
// listens on a port given in the configuration.
func instanceID(cfg Config, nbiAddr string) string {
	if cfg.InstanceID != "" {
		return cfg.InstanceID
	}
	_, port, err := net.SplitHostPort(cfg.NBI)
	if err != nil || port == "0" {
		return ""
	}
	if _, bound, err := net.SplitHostPort(nbiAddr); err == nil {
		port = bound
	}
	host, err := os.Hostname()
	if err != nil {
		return ""
	}
	return "core-" + host + "-" + port
}

var (
	errStarting = errors.New("starting")
	errBusDown  = errors.New("not connected to the message bus yet")
)

// parts is the built core.
type parts struct {
	index    *device.Index
	store    *store.Store
	events   *events.FanOut
	devices  *device.Manager
	logical  *logicaldevice.Manager
	registry *adapterreg.Registry
	nbi      *nbi.Server
	sbi      *sbi.Server
	kafka    *kafka
	tasks    *tasks
	flows    *flows.Manager
	pm       *telemetry.PmConfigs
	alarms   *telemetry.Alarms
	stats    *stats.Store // dataplane counters, in memory only
	timeout  time.Duration
	log      *slog.Logger
}

func (p *parts) close() {
	p.flows.Close()
	p.kafka.close()
}

func build(ctx context.Context, cfg Config, kv kvstore.Store, bus *metrics.Bus) (*parts, error) {
	st := store.New(kv, cfg.Prefix)
	p := &parts{store: st, tasks: &tasks{}, timeout: cfg.AdapterTimeout, log: cfg.Logs.Logger("core/flows")}
	var err error
	if p.kafka, err = newKafka(cfg, cfg.Logs.Logger("core/kafka")); err != nil {
		return nil, err
	}
	p.kafka.bus = bus
	p.events = events.New(p.kafka.publishEvent)
	p.registry, err = adapterreg.New(adapterreg.Config{Store: st, Logger: cfg.Logs.Logger("core/adapterreg")})
	if err != nil {
		return nil, err
	}
	index := device.NewIndex() // the devices' read side, for what is built before their manager
	p.index = index
	p.logical, err = logicaldevice.New(logicaldevice.Config{
		Store:   st,
		Devices: index,
		Events:  p.events,
		Logger:  cfg.Logs.Logger("core/logicaldevice"),
	})
	if err != nil {
		return nil, err
	}
	p.flows, err = flows.New(flows.Config{
		Store:    st,
		Exists:   func(id string) error { _, err := p.logical.Get(id); return err },
		Topology: topology(p.logical, index),
		Push: func(tables func(context.Context, string) (flows.DeviceTables, error)) flows.Senders {
			return flows.NewAdapterPushers(flows.AdapterConfig{
				Tables: tables,
				Device: func(id string) (*voltv1.Device, bool) {
					d, err := index.Device(id)
					return d, err == nil
				},
				Client:  p.adapterClient,
				Timeout: cfg.AdapterTimeout,
				Logger:  cfg.Logs.Logger("core/flows"),
			})
		},
		Events:        p.events,
		Devices:       index,
		SendPacketOut: p.sendPacketOut,
		// p.stats is set before any flow loads (on first use).
		FlowRemoved: func(dev string, id uint64) { p.stats.Forget(dev, id) },
		FlowCounts: func(dev string, id uint64) (uint64, uint64, bool) {
			c, ok := p.stats.Flow(dev, id)
			return c.Packets, c.Bytes, ok
		},
		Logger: cfg.Logs.Logger("core/flows"),
	})
	if err != nil {
		return nil, err
	}
	if p.stats, err = stats.New(index, deviceTables(p.flows)); err != nil {
		return nil, err
	}
	p.devices = device.New(device.Config{
		Index:          index,
		Store:          st,
		Adapters:       adapterClients{reg: p.registry, kafka: p.kafka},
		Logical:        p.logical,
		Events:         p.events,
		Logger:         cfg.Logs.Logger("core/device"),
		AdapterTimeout: cfg.AdapterTimeout,
		Reconciled: func(id string) {
			p.flows.Resend(id)
			p.tasks.Go(func(ctx context.Context) { p.pm.Resend(ctx, id) })
		},
	})
	p.pm = telemetry.NewPmConfigs(st.PmConfigs, index, p.pushPm, cfg.Logs.Logger("core/telemetry"))
	p.alarms = telemetry.NewAlarms(st.Alarms, index, p.alarmRaisedOrCleared, cfg.Logs.Logger("core/telemetry"))
	for _, load := range []func(context.Context) error{p.registry.Load, p.devices.Load, p.logical.Load, p.alarms.Load} {
		if err := load(ctx); err != nil {
			return nil, fmt.Errorf("core: reload state: %w", err)
		}
	}
	p.nbi = nbi.New(nbi.Config{
		Devices:        countedDevices{Devices: p.devices, stats: p.stats},
		LogicalDevices: countedLogical{LogicalDevices: p.logical, stats: p.stats},
		Adapters:       p.registry,
		Events:         p.events,
		Flows: countedFlows{Manager: p.flows, stats: p.stats, now: time.Now, root: func(id string) string {
			ld, err := p.logical.Get(id)
			if err != nil {
				return ""
			}
			return ld.GetRootDeviceId()
		}},
		FlowMods:     p.flows,
		TechProfiles: techprofile.NewStore(kv, cfg.Prefix),
		OMCI:         omciRecords{kv: kv, prefix: cfg.Prefix},
		Pm:           p.pm,
		Alarms:       p.alarms,
		Logger:       cfg.Logs.Logger("core/nbi"),
	})
	p.sbi = sbi.New(sbi.Config{
		Devices:   p.devices,
		Registrar: &registrar{reg: p.registry, devices: p.devices, tasks: p.tasks, log: cfg.Logs.Logger("core/adapterreg")},
		PacketIns: p.flows,
		Alarms:    p.alarms,
		Stats:     p.stats,
		Logger:    cfg.Logs.Logger("core/sbi"),
	})
	return p, nil
}

// reconcileRegistered reconciles the devices of the adapters registered
// before this core started, once Kafka is up: they may not register again
// soon. It must not block.
func (p *parts) reconcileRegistered() {
	types := make(map[string]bool)
	for _, t := range p.registry.DeviceTypes() {
		types[t.GetId()] = true
	}
	p.tasks.Go(func(ctx context.Context) { p.devices.Reconcile(ctx, types) })
}

// logger returns l or a discarding logger.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

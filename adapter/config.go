package adapter

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// Defaults of Config.
const (
	DefaultCoreTopic      = "volt.core"
	DefaultGRPC           = "127.0.0.1:0"
	DefaultHeartbeat      = 10 * time.Second
	DefaultCallTimeout    = 10 * time.Second
	DefaultMaxConcurrency = 64
	DefaultStatsInterval  = 5 * time.Second
)

// idPattern is what the core accepts as an adapter or device type id.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// Config configures an Adapter. Brokers, ID and DeviceTypes are required;
// the rest have defaults.
type Config struct {
	// Brokers are the Kafka seed brokers (host:port).
	Brokers []string
	// Topic is the Kafka topic the adapter serves its AdapterService on; the
	// core sends the calls for the adapter's device types there. Default: ID.
	Topic string
	// CoreTopic is the core's request topic. Default "volt.core".
	CoreTopic string
	// KpisTopic is where a KpiCollector's KPI events go. Default
	// "volt.kpis".
	KpisTopic string

	// ID names the adapter (all replicas of one adapter share it): lower
	// case letters, digits, '_', '.', '-'.
	ID      string
	Vendor  string
	Version string
	// DeviceTypes are the device types the adapter serves. The SDK fills in
	// each type's adapter, operations and accepts_*_flow_update fields from
	// the handler; set the rest (id, vendor ids).
	DeviceTypes []*voltv1.DeviceType

	// GRPC is the listen address of the adapter's gRPC port (health,
	// reflection, LogService). Default "127.0.0.1:0".
	GRPC string
	// Logs is the process's log registry; nil discards logs.
	Logs *logging.Registry

	// Heartbeat is how often the adapter registers again once registered,
	// so the core sees it alive (last_seen) and a restarted core learns of
	// it. Default 10s.
	Heartbeat time.Duration
	// CallTimeout bounds a call to the core whose context has no deadline.
	// Default 10s.
	CallTimeout time.Duration
	// MaxConcurrency bounds how many core calls the adapter serves at once,
	// and separately how many work items (Submit, Do) run at once.
	// Default 64.
	MaxConcurrency int
	// StatsInterval is how often an adapter that reads dataplane counters
	// (flows, ports, meters) reports them to the core (ReportStats).
	// Default 5s; negative: never.
	StatsInterval time.Duration
	// InstanceID makes this replica a static member of its topic's
	// consumer group (msgbus.ServerConfig.InstanceID): restarted with the
	// same id, it takes its partitions back at once. Empty: dynamic.
	InstanceID string
	// Partitions is the partition count the adapter's topic is created with
	// when it does not exist; 0 takes the broker's default.
	Partitions int

	// Telemetry is the process's metrics registry and readiness (shared
	// with the other parts in volt up); nil keeps them private. HTTP, when
	// set, is where the adapter serves Telemetry's /metrics, /healthz and
	// /readyz.
	Telemetry *daemon.Telemetry
	HTTP      string

	// Ready, when set, is called once, with the gRPC address, when the
	// adapter serves its topic and its gRPC port and the core has taken its
	// first registration: from then on the core sends it its devices. It
	// must not block.
	Ready func(grpcAddr string)
}

// validate fills defaults and checks the config; it works on a copy so the
// caller's config is never changed.
func (c Config) validate() (Config, error) {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers: set Brokers (host:port)"))
	}
	for _, b := range c.Brokers {
		if b == "" || strings.ContainsAny(b, " ,") {
			errs = append(errs, fmt.Errorf("broker %q is not host:port", b))
		}
	}
	if !idPattern.MatchString(c.ID) {
		errs = append(errs, fmt.Errorf("adapter id %q: want lower-case letters, digits, '_', '.' or '-', starting with a letter (at most 64)", c.ID))
	}
	if c.Topic == "" {
		c.Topic = c.ID
	}
	if c.CoreTopic == "" {
		c.CoreTopic = DefaultCoreTopic
	}
	if c.KpisTopic == "" {
		c.KpisTopic = DefaultKpisTopic
	}
	if len(c.DeviceTypes) == 0 {
		errs = append(errs, fmt.Errorf("adapter %q serves no device types: set DeviceTypes", c.ID))
	}
	seen := make(map[string]bool)
	types := make([]*voltv1.DeviceType, 0, len(c.DeviceTypes))
	for _, t := range c.DeviceTypes {
		switch {
		case t == nil:
			errs = append(errs, errors.New("nil device type"))
			continue
		case !idPattern.MatchString(t.GetId()):
			errs = append(errs, fmt.Errorf("device type id %q: want lower-case letters, digits, '_', '.' or '-', starting with a letter", t.GetId()))
		case seen[t.GetId()]:
			errs = append(errs, fmt.Errorf("device type %q listed twice", t.GetId()))
		case t.GetAdapter() != "" && t.GetAdapter() != c.ID:
			errs = append(errs, fmt.Errorf("device type %q names adapter %q, not %q", t.GetId(), t.GetAdapter(), c.ID))
		}
		seen[t.GetId()] = true
		types = append(types, proto.Clone(t).(*voltv1.DeviceType))
	}
	c.DeviceTypes = types
	if c.GRPC == "" {
		c.GRPC = DefaultGRPC
	}
	if c.Logs == nil {
		c.Logs = logging.Discard()
	}
	if c.Heartbeat < 0 || c.CallTimeout < 0 || c.MaxConcurrency < 0 || c.Partitions < 0 {
		errs = append(errs, errors.New("negative Heartbeat, CallTimeout, MaxConcurrency or Partitions"))
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = DefaultStatsInterval
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("adapter config: %w", err)
	}
	return c, nil
}

// Identity is who an adapter is: its id, topic, vendor, version and device
// types.
type Identity struct {
	ID, Topic, Vendor, Version string
	DeviceTypes                []*voltv1.DeviceType
}

// WithDefaults returns c with its zero identity fields taken from id.
func (c Config) WithDefaults(id Identity) Config {
	for _, f := range []struct {
		dst *string
		def string
	}{
		{&c.ID, id.ID}, {&c.Topic, id.Topic}, {&c.Vendor, id.Vendor}, {&c.Version, id.Version},
	} {
		if *f.dst == "" {
			*f.dst = f.def
		}
	}
	if len(c.DeviceTypes) == 0 {
		c.DeviceTypes = id.DeviceTypes
	}
	return c
}

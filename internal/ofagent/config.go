package ofagent

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/openvolt/openvolt/internal/daemon"
	"github.com/openvolt/openvolt/logging"
)

// Defaults of Config.
const (
	DefaultController   = "127.0.0.1:6653"
	DefaultEchoInterval = 5 * time.Second
	DefaultMaxBackoff   = 5 * time.Second
	DefaultMaxInFlight  = 4096
	DefaultCallTimeout  = 30 * time.Second
	DefaultResync       = 30 * time.Second
)

// Config is everything the agent needs; flags fill it in cmd/volt.
type Config struct {
	// Server is the core's NBI, HOST:PORT.
	Server string
	// Controllers are the controllers to dial, HOST:PORT each: every logical
	// device gets one connection to each, redialed with backoff.
	Controllers []string
	// Listen, when set, is the address of the passive listener (see the
	// package doc for which logical device a client gets).
	Listen string
	// GRPC, when set, is the listen address of the agent's own gRPC port
	// (health, reflection, LogService). Leave it empty when the process
	// already serves the LogService elsewhere (volt up).
	GRPC string
	// Logs is the process's log registry; nil discards logs.
	Logs *logging.Registry
	// Telemetry is the process's metrics registry and readiness (shared
	// with the other parts in volt up); nil keeps them private. The
	// process serves them (cmd/volt).
	Telemetry *daemon.Telemetry
	// Ready, when set, is called once, with the passive listener's address
	// ("" without one), when the agent listens and has read the logical
	// devices. It must not block.
	Ready func(listenAddr string)

	// EchoInterval is how often an idle connection is probed with an echo
	// request; one silent for three intervals is closed. Default 5s.
	EchoInterval time.Duration
	// MaxBackoff caps the wait between redials of a controller and between
	// reconnects to the NBI streams. Default 5s.
	MaxBackoff time.Duration
	// MaxInFlight bounds the flow-mods one connection has accepted and not yet
	// seen applied (queued for a batch or in the core); beyond it the agent
	// stops reading the connection. Default 4096.
	MaxInFlight int
	// CallTimeout bounds each NBI call. Default 30s.
	CallTimeout time.Duration
	// Resync is how often the agent re-reads the logical devices and their
	// ports, in case the event stream missed a change. Default 30s.
	Resync time.Duration
}

// Validate fills defaults and checks the config.
func (c *Config) Validate() error {
	var errs []error
	if c.Server == "" {
		errs = append(errs, errors.New("ofagent: --server (the core's NBI) is required"))
	}
	if len(c.Controllers) == 0 && c.Listen == "" {
		errs = append(errs, errors.New("ofagent: give at least one --controller or a --listen address"))
	}
	for _, a := range c.Controllers {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("ofagent: controller %q: %w", a, err))
		}
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("ofagent: listen address %q: %w", c.Listen, err))
		}
	}
	if c.EchoInterval < 0 || c.MaxBackoff < 0 || c.CallTimeout < 0 || c.Resync < 0 || c.MaxInFlight < 0 {
		errs = append(errs, errors.New("ofagent: durations and limits must not be negative"))
	}
	if c.EchoInterval == 0 {
		c.EchoInterval = DefaultEchoInterval
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.Resync == 0 {
		c.Resync = DefaultResync
	}
	if c.Logs == nil {
		c.Logs = logging.Discard()
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

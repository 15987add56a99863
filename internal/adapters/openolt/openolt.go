// Package openolt is the adapter for OLTs that run the openolt agent (real
// OLTs, BBSim, and ponsim's openolt face): devices of type openolt, reached
// over the openolt gRPC API (github.com/opencord/voltha-protos/v5) at the
// device's host_and_port.
//
// Each OLT has a session (session.go): it connects, reads GetDeviceInfo,
// opens the indication stream and follows it, checks the heartbeat on a
// short interval, and reconnects with backoff when the stream or the
// heartbeat is lost. Indications (indications.go) turn into ports, child
// ONU devices (type omci_onu), ONU activations and states. Resource ids
// (ONU, alloc, GEM port and flow ids, resources.go) are handed out from
// the ranges GetDeviceInfo gives and persisted in the core's etcd, so they
// are never handed out twice and survive restarts. Flows (flows.go) and
// packets (packets.go) map the core's device flows and packet-outs onto
// openolt calls.
//
// Work queues (adapter.Submit/Do): the core's calls about an OLT run under
// its id; reports to the core about the OLT under "<id>/report"; the work
// of one ONU under "<id>/onu/<pon>/<serial>", so thousands of ONUs are
// handled in parallel and each in order.
package openolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/techprofile"
)

// Names the adapter registers with.
const (
	ID         = "openolt"
	DeviceType = "openolt"
	Topic      = "openolt"
	// ChildType is the device type of the ONUs it reports.
	ChildType = "omci_onu"
	Vendor    = "OpenVOLT"
	Version   = "0.1.0"
)

// Defaults of Options.
const (
	DefaultHeartbeatInterval = 1 * time.Second
	DefaultHeartbeatMisses   = 3
	DefaultDialTimeout       = 5 * time.Second
	DefaultPrefix            = "volt"
	callTimeout              = 10 * time.Second
	retryMin                 = 100 * time.Millisecond
	retryMax                 = 5 * time.Second
)

// Options are what the openolt adapter needs beside the SDK's Config.
type Options struct {
	// KV is the store the core keeps its state in (etcd): resource ids,
	// ONUs, flows and tech-profile instances go under
	// <Prefix>/openolt/<olt id>/, tech profiles are read from
	// <Prefix>/techprofiles/. Required.
	KV kvstore.Store
	// Prefix is the core's key prefix (default "volt").
	Prefix string
	// HeartbeatInterval is how often HeartbeatCheck runs (default 1s);
	// HeartbeatMisses failed checks in a row mean the OLT is lost
	// (default 3).
	HeartbeatInterval time.Duration
	HeartbeatMisses   int
	// DialTimeout bounds the first answer of an OLT (default 5s).
	DialTimeout time.Duration
	// NoONUAdapter is for stacks without the ONUs' adapter (omci_onu): an
	// ONU is ACTIVE as soon as the OLT reports it up and tech-profile
	// instances are not sent anywhere. Otherwise the OLT reports an ONU
	// ACTIVATING and REACHABLE and its adapter makes it ACTIVE once OMCI
	// has brought it up.
	NoONUAdapter bool
}

func (o Options) withDefaults() (Options, error) {
	if o.KV == nil {
		return o, errors.New("openolt adapter: no store (Options.KV): resource ids must be persisted")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.HeartbeatInterval < 0 || o.HeartbeatMisses < 0 || o.DialTimeout < 0 {
		return o, errors.New("openolt adapter: negative heartbeat interval, misses or dial timeout")
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.HeartbeatMisses == 0 {
		o.HeartbeatMisses = DefaultHeartbeatMisses
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	return o, nil
}

// Defaults fills the zero fields of cfg with the openolt identity.
func Defaults(cfg adapter.Config) adapter.Config {
	if cfg.MaxConcurrency == 0 {
		// Each ONU's OMCI relay is a queue whose items wait for the ONU
		// adapter's answer: every ONU of a large OLT relays at once.
		cfg.MaxConcurrency = 4096
	}
	return cfg.WithDefaults(adapter.Identity{
		ID: ID, Topic: Topic, Vendor: Vendor, Version: Version,
		DeviceTypes: []*voltv1.DeviceType{{Id: DeviceType, VendorId: "OOLT"}},
	})
}

// Run runs the openolt adapter until ctx ends (see adapter.Adapter.Run).
func Run(ctx context.Context, cfg adapter.Config, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	cfg = Defaults(cfg)
	a, err := adapter.New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx, newHandler(a, opts, cfg.Logs.Logger("adapters/openolt")))
}

// handler implements the adapter's operations.
type handler struct {
	a    *adapter.Adapter
	core adapterv1.CoreServiceClient
	opts Options
	log  *slog.Logger

	tps   *techprofile.Store   // the profiles, in the core's store
	batch *adapter.OMCIBatcher // OMCI frames to the ONUs' adapter

	mu   sync.Mutex // guards olts
	olts map[string]*olt
}

var (
	_ adapter.Adopter                = (*handler)(nil)
	_ adapter.Reconciler             = (*handler)(nil)
	_ adapter.Disabler               = (*handler)(nil)
	_ adapter.Rebooter               = (*handler)(nil)
	_ adapter.Deleter                = (*handler)(nil)
	_ adapter.IncrementalFlowUpdater = (*handler)(nil)
	_ adapter.PacketSender           = (*handler)(nil)
	_ adapter.Closer                 = (*handler)(nil)
	_ adapter.ChildLostHandler       = (*handler)(nil)
)

func newHandler(a *adapter.Adapter, opts Options, log *slog.Logger) *handler {
	return &handler{a: a, core: a.Core(), opts: opts, log: log, olts: make(map[string]*olt),
		tps: techprofile.NewStore(opts.KV, opts.Prefix), batch: adapter.NewOMCIBatcher(a)}
}

func checkAddress(d *voltv1.Device) error {
	if d.GetHostAndPort() == "" {
		return status.Errorf(codes.InvalidArgument,
			"device %s has no host_and_port: the openolt adapter needs the address of the OLT's openolt agent (host:port)", d.GetId())
	}
	return nil
}

// ensure returns the OLT of d, made when there is none, its address
// changed or fresh asks for a new connection (an adoption: one that failed
// before would wait out gRPC's backoff). It runs in the device's queue.
func (h *handler) ensure(d *voltv1.Device, fresh bool) *olt {
	h.mu.Lock()
	o := h.olts[d.GetId()]
	h.mu.Unlock()
	if o != nil && o.addr == d.GetHostAndPort() && !fresh {
		return o
	}
	if o != nil {
		o.stopSession()
		o.close()
	}
	o = newOLT(h, d.GetId(), d.GetHostAndPort())
	h.mu.Lock()
	h.olts[d.GetId()] = o
	h.mu.Unlock()
	return o
}

func (h *handler) lookup(id string) *olt {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.olts[id]
}

// AdoptDevice answers at once and connects in the background: the OLT
// turns ACTIVE on its OLT indication, or FAILED with a reason.
func (h *handler) AdoptDevice(_ context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		o := h.ensure(d, true)
		o.setEnabled(true)
		o.startSession(true)
		return nil
	})
	return nil
}

// ReconcileDevice re-learns an OLT after a restart of this adapter or of
// the core: ONUs, ids and flows come back from the store, the session
// reconnects and reconciles the ONUs with GetOnuInfo.
func (h *handler) ReconcileDevice(_ context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		o := h.ensure(d, false)
		o.setEnabled(d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED)
		if o.running() {
			h.a.Submit(o.reportKey(), func(ctx context.Context) error { return o.reportAll(ctx) })
			return nil
		}
		if d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_FAILED {
			return nil // enabling it again retries the adoption
		}
		o.startSession(false)
		return nil
	})
	return nil
}

// attach returns the OLT of d, starting its session when an operation
// comes before the reconcile after this adapter restarted.
func (h *handler) attach(d *voltv1.Device) *olt {
	o := h.ensure(d, false)
	if !o.running() && d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_FAILED {
		o.setEnabled(d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED)
		o.startSession(false)
	}
	return o
}

// DisableDevice disables the OLT (DisableOlt) before answering.
func (h *handler) DisableDevice(ctx context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		o.setEnabled(false)
		_, err := o.client().DisableOlt(ctx, oltEmpty())
		if unreachable(err) {
			o.log.Info("OLT disabled while unreachable: disabled again when it is back", "err", err)
			return nil
		}
		if err != nil {
			o.setEnabled(true)
			return fmt.Errorf("DisableOlt: %w", err)
		}
		return nil
	})
}

// ReenableDevice enables the OLT (ReenableOlt) before answering.
func (h *handler) ReenableDevice(ctx context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		if _, err := o.client().ReenableOlt(ctx, oltEmpty()); err != nil {
			return fmt.Errorf("ReenableOlt: %w", err)
		}
		o.setEnabled(true)
		return nil
	})
}

// RebootDevice reboots the OLT: REBOOTED and UNREACHABLE, then ACTIVE
// again once the session sees it back with a new heartbeat signature.
func (h *handler) RebootDevice(ctx context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		if _, err := o.client().Reboot(ctx, oltEmpty()); err != nil {
			return fmt.Errorf("reboot: %w", err)
		}
		h.a.Submit(o.reportKey(), func(ctx context.Context) error {
			return o.setState(ctx, voltv1.OperStatus_OPER_STATUS_REBOOTED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)
		})
		return nil
	})
}

// DeleteDevice deletes every ONU on the OLT (DeleteOnu), frees their ids,
// drops what the store holds for the OLT and forgets it.
func (h *handler) DeleteDevice(ctx context.Context, d *voltv1.Device) error {
	err := h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		h.mu.Lock()
		o := h.olts[d.GetId()]
		delete(h.olts, d.GetId())
		h.mu.Unlock()
		if o == nil {
			o = newOLT(h, d.GetId(), d.GetHostAndPort())
		}
		o.stopSession()
		defer o.close()
		return o.deleteAll(ctx)
	})
	h.a.Forget(d.GetId())
	h.batch.Forget(d.GetId())
	return err
}

// Close drops the connections of the OLTs left when the adapter stops.
func (h *handler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, o := range h.olts {
		o.close()
		delete(h.olts, id)
	}
	return nil
}

// unreachable reports whether err means the OLT did not answer.
func unreachable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

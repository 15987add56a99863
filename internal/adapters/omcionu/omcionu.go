// Package omcionu is the adapter of ONUs managed with OMCI (ITU-T G.988):
// devices of type omci_onu, the children the openolt adapter reports. Its
// OMCI frames travel through the OLT's adapter as inter-adapter messages
// (adapter.MsgOMCIRequest out, adapter.MsgOMCIResponse in). Per ONU it runs
// an OMCI engine (internal/omci), synchronises the MIB (MIB reset and
// upload, persisted so that a restart audits the MIB data sync counter
// instead of uploading again), reads the ONU's identity, downloads the base
// configuration, reports the PPTP Ethernet UNIs (and VEIPs) as UNI ports and
// makes the ONU ACTIVE; tech-profile instances from the OLT's adapter
// become T-CONT, GEM port and bridge configuration (service.go).
package omcionu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/omci"
)

// Names the adapter registers with.
const (
	ID         = "omci_onu"
	DeviceType = "omci_onu"
	Topic      = "omci_onu"
	Vendor     = "OpenVOLT"
	Version    = "0.1.0"
)

// DefaultMaxConcurrency is the adapter's default work and call
// concurrency (adapter.Config.MaxConcurrency).
const DefaultMaxConcurrency = 4096

// DefaultPrefix is the core's key prefix in etcd.
const DefaultPrefix = "volt"

// Options are what the adapter needs beside the SDK's Config.
type Options struct {
	// KV is the core's store (etcd): each ONU's MIB is kept under
	// <Prefix>/omci_onu/<device id>/mib, its restore state next to it
	// (state.go). Required.
	KV     kvstore.Store
	Prefix string
	// Timeout and Retries bound each OMCI request (omci.Config).
	Timeout time.Duration
	Retries int
	// MaxBringUps bounds how many ONUs synchronise their MIB at once
	// (default DefaultMaxBringUps): beyond it, more at once only lengthens
	// every OMCI round trip until requests time out and are sent again.
	MaxBringUps int
}

// DefaultMaxBringUps is Options.MaxBringUps's default.
const DefaultMaxBringUps = 128

// Defaults fills the zero fields of cfg with the omci_onu identity.
func Defaults(cfg adapter.Config) adapter.Config {
	if cfg.MaxConcurrency == 0 {
		// An ONU's bring-up is one work item that mostly waits for OMCI
		// responses: every ONU of a large OLT runs at once.
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	return cfg.WithDefaults(adapter.Identity{
		ID: ID, Topic: Topic, Vendor: Vendor, Version: Version,
		DeviceTypes: []*voltv1.DeviceType{{Id: DeviceType}},
	})
}

// Run runs the omci_onu adapter until ctx ends (see adapter.Adapter.Run).
func Run(ctx context.Context, cfg adapter.Config, opts Options) error {
	if opts.KV == nil {
		return errors.New("omci_onu adapter: no store (Options.KV): the ONUs' MIBs must be persisted")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.MaxBringUps <= 0 {
		opts.MaxBringUps = DefaultMaxBringUps
	}
	cfg = Defaults(cfg)
	a, err := adapter.New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx, newHandler(a, opts, cfg.Logs.Logger("adapters/omcionu")))
}

// handler implements the adapter's operations; each ONU is an onu.
type handler struct {
	a    *adapter.Adapter
	core adapterv1.CoreServiceClient
	opts Options
	log  *slog.Logger

	bringUps chan struct{}        // one per ONU synchronising
	batch    *adapter.OMCIBatcher // OMCI frames to the OLTs' adapters

	mu    sync.RWMutex // guards onus, early
	onus  map[string]*onu
	early map[string]bool // ONU indications that came before the adoption
}

var (
	_ adapter.Adopter             = (*handler)(nil)
	_ adapter.Reconciler          = (*handler)(nil)
	_ adapter.Disabler            = (*handler)(nil)
	_ adapter.Rebooter            = (*handler)(nil)
	_ adapter.Deleter             = (*handler)(nil)
	_ adapter.InterAdapterHandler = (*handler)(nil)
)

func newHandler(a *adapter.Adapter, opts Options, log *slog.Logger) *handler {
	return &handler{a: a, core: a.Core(), opts: opts, log: log, bringUps: make(chan struct{}, opts.MaxBringUps), batch: adapter.NewOMCIBatcher(a), onus: make(map[string]*onu), early: make(map[string]bool)}
}

// where checks d is an ONU behind an OLT and returns its PON and ONU id.
func where(d *voltv1.Device) (pon, id uint32, err error) {
	pa := d.GetProxyAddress()
	if pa.GetDeviceId() == "" || pa.GetAdapterEndpoint() == "" {
		return 0, 0, status.Errorf(codes.InvalidArgument, "ONU %s has no proxy address with the OLT's adapter: it must be a child of an OLT", d.GetId())
	}
	pon, id = pa.GetChannelId(), pa.GetOnuId()
	if err := portno.Check(pon, id, 0); err != nil {
		return 0, 0, status.Errorf(codes.InvalidArgument, "ONU %s: %v", d.GetId(), err)
	}
	return pon, id, nil
}

// ensure returns the ONU of d, made on first use.
func (h *handler) ensure(d *voltv1.Device) (*onu, error) {
	pon, id, err := where(d)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.onus[d.GetId()]; u != nil {
		return u, nil
	}
	u, err := newONU(h, d, pon, id)
	if err != nil {
		return nil, err
	}
	h.onus[d.GetId()] = u
	if up, ok := h.early[d.GetId()]; ok {
		u.up = up
		delete(h.early, d.GetId())
	} else {
		u.up = d.GetConnectStatus() == voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE
	}
	return u, nil
}

func (h *handler) lookup(id string) *onu {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.onus[id]
}

// AdoptDevice answers at once and brings the ONU up over OMCI after.
func (h *handler) AdoptDevice(_ context.Context, d *voltv1.Device) error {
	u, err := h.ensure(d)
	if err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error { return u.bringUp(ctx, false) })
	return nil
}

// ReconcileDevice re-learns an ONU after a restart: the stored MIB is
// audited against the ONU's MIB data sync counter (no upload when they
// agree) and the ports are reported again.
func (h *handler) ReconcileDevice(_ context.Context, d *voltv1.Device) error {
	u, err := h.ensure(d)
	if err != nil {
		return err
	}
	if d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED {
		return nil
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error { return u.bringUp(ctx, true) })
	return nil
}

// DisableDevice locks the ONU's UNIs over OMCI.
func (h *handler) DisableDevice(ctx context.Context, d *voltv1.Device) error {
	u, err := h.ensure(d)
	if err != nil {
		return err
	}
	return u.lockUNIs(ctx, true)
}

// ReenableDevice unlocks the ONU's UNIs.
func (h *handler) ReenableDevice(ctx context.Context, d *voltv1.Device) error {
	u, err := h.ensure(d)
	if err != nil {
		return err
	}
	return u.lockUNIs(ctx, false)
}

// RebootDevice reboots the ONU over OMCI: it drops off the PON, is found
// again by the OLT and brought up again (its MIB audited).
func (h *handler) RebootDevice(ctx context.Context, d *voltv1.Device) error {
	u, err := h.ensure(d)
	if err != nil {
		return err
	}
	if err := u.eng.Reboot(ctx); err != nil {
		return fmt.Errorf("ONU %s: reboot: %w", d.GetId(), err)
	}
	return nil
}

// DeleteDevice forgets the ONU and its stored MIB.
func (h *handler) DeleteDevice(ctx context.Context, d *voltv1.Device) error {
	h.a.Forget(d.GetId())
	h.mu.Lock()
	delete(h.onus, d.GetId())
	h.mu.Unlock()
	if err := h.opts.KV.DeletePrefix(ctx, h.keyOf(d.GetId())); err != nil {
		return fmt.Errorf("ONU %s: forgetting its MIB: %w", d.GetId(), err)
	}
	return nil
}

func (h *handler) keyOf(dev string) string { return keyOf(h.opts.Prefix, dev) }

func keyOf(prefix, dev string) string {
	return fmt.Sprintf("/%s/omci_onu/%s/", strings.Trim(prefix, "/"), dev)
}

// ProcessInterAdapterMessage takes OMCI frames and tech-profile instances
// from the OLT's adapter.
func (h *handler) ProcessInterAdapterMessage(ctx context.Context, msg *adapterv1.InterAdapterMessage) error {
	hdr := msg.GetHeader()
	if hdr.GetType() == adapter.MsgOMCIBatch {
		return h.omciBatch(msg)
	}
	u := h.lookup(hdr.GetToDeviceId())
	if hdr.GetType() == adapter.MsgONUIndication {
		var st wrapperspb.StringValue
		if err := msg.GetBody().UnmarshalTo(&st); err != nil {
			return status.Errorf(codes.InvalidArgument, "omci_onu: ONU indication for %s: body: %v", hdr.GetToDeviceId(), err)
		}
		up := st.GetValue() == "up"
		if u == nil {
			// Before the adoption: it starts the bring-up once the ONU is known.
			h.mu.Lock()
			h.early[hdr.GetToDeviceId()] = up
			h.mu.Unlock()
			return nil
		}
		u.setUp(up)
		return nil
	}
	if u == nil {
		return status.Errorf(codes.NotFound, "omci_onu: %s for unknown ONU %s", hdr.GetType(), hdr.GetToDeviceId())
	}
	var body wrapperspb.BytesValue
	if err := msg.GetBody().UnmarshalTo(&body); err != nil {
		return status.Errorf(codes.InvalidArgument, "omci_onu: %s for ONU %s: body: %v", hdr.GetType(), hdr.GetToDeviceId(), err)
	}
	switch hdr.GetType() {
	case adapter.MsgOMCIResponse:
		u.eng.Receive(body.GetValue())
		return nil
	case adapter.MsgTechProfile:
		return u.techProfile(body.GetValue(), true)
	case adapter.MsgTechProfileDelete:
		return u.techProfile(body.GetValue(), false)
	}
	return status.Errorf(codes.InvalidArgument, "omci_onu: inter-adapter message type %q not handled", hdr.GetType())
}

// Counters returns the OMCI counters of an ONU (false: unknown ONU).
func (h *handler) Counters(dev string) (omci.Counters, bool) {
	u := h.lookup(dev)
	if u == nil {
		return omci.Counters{}, false
	}
	return u.eng.Counters(), true
}

// omciBatch hands each frame of a batch from the OLT's adapter to its
// ONU's engine; frames of ONUs this adapter does not know are counted in
// no engine and logged at debug level.
func (h *handler) omciBatch(msg *adapterv1.InterAdapterMessage) error {
	var body wrapperspb.BytesValue
	if err := msg.GetBody().UnmarshalTo(&body); err != nil {
		return status.Errorf(codes.InvalidArgument, "omci_onu: omci batch from OLT %s: body: %v", msg.GetHeader().GetProxyDeviceId(), err)
	}
	frames, err := adapter.DecodeOMCIBatch(body.GetValue())
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "omci_onu: omci batch from OLT %s: %v", msg.GetHeader().GetProxyDeviceId(), err)
	}
	for _, f := range frames {
		u := h.lookup(f.Device)
		if u == nil {
			h.log.Debug("omci frame for an unknown ONU", "onu", f.Device)
			continue
		}
		u.eng.Receive(f.Frame)
	}
	return nil
}

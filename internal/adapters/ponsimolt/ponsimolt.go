// Package ponsimolt is the adapter for simulated OLTs: devices of type
// ponsim_olt, reached over the PonSim gRPC API at the device's
// host_and_port. It reports the OLT, its NNI and PON ports and the ONUs
// ponsim discovers (as ponsim_onu children), follows ponsim's events for
// ONU state changes and its own reachability, maps disable, re-enable,
// reboot and delete onto ponsim calls, pushes the OLT's flows to ponsim
// and relays packet-in and packet-out (flows.go).
//
// Each OLT has a session: a goroutine that connects to ponsim, brings the
// core up to date (sync) and follows ponsim's event and packet-in streams; when ponsim
// goes away the OLT turns UNREACHABLE and the session reconnects with
// backoff. Everything that changes an OLT runs in the OLT's work queue
// (adapter.Submit/Do with the device id), so it stays ordered; the events
// of each ONU run in the ONU's own queue ("<olt id>/<serial>"), so
// thousands of ONUs are reported in parallel.
package ponsimolt

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/flowpush"
)

// Names the adapter registers with.
const (
	ID         = "ponsim_olt"
	DeviceType = "ponsim_olt"
	Topic      = "ponsim_olt"
	// ChildType is the device type of the ONUs it reports.
	ChildType = "ponsim_onu"
	Vendor    = "OpenVOLT"
	Version   = "0.1.0"
)

// Timeouts and backoff of the calls to ponsim.
const (
	// dialTimeout bounds connecting to ponsim (and every probe): an
	// address where nothing answers fails the adoption after this long.
	dialTimeout = 5 * time.Second
	// callTimeout bounds one ponsim call.
	callTimeout = 5 * time.Second
	retryMin    = 100 * time.Millisecond
	retryMax    = 2 * time.Second
	// reportAttempts bounds the tries of one ONU report when the core does
	// not answer.
	reportAttempts = 5
)

// Defaults fills the zero fields of cfg with the ponsim_olt identity: id,
// topic, vendor, version and the device type.
func Defaults(cfg adapter.Config) adapter.Config {
	return cfg.WithDefaults(adapter.Identity{
		ID: ID, Topic: Topic, Vendor: Vendor, Version: Version,
		DeviceTypes: []*voltv1.DeviceType{{Id: DeviceType, VendorId: "PSIM"}},
	})
}

// Run runs the ponsim_olt adapter until ctx ends (see adapter.Adapter.Run).
// Zero fields of cfg take the ponsim_olt defaults; Brokers is required.
func Run(ctx context.Context, cfg adapter.Config) error {
	cfg = Defaults(cfg)
	a, err := adapter.New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx, newHandler(a, cfg.Logs.Logger("adapters/ponsimolt")))
}

// handler implements the adapter's operations.
type handler struct {
	a    *adapter.Adapter
	core adapterv1.CoreServiceClient
	log  *slog.Logger

	mu     sync.Mutex // guards olts and tables
	olts   map[string]*olt
	tables map[string]*flowpush.Table // by device id: outlive reconnections (flows.go)
}

var (
	_ adapter.Adopter    = (*handler)(nil)
	_ adapter.Reconciler = (*handler)(nil)
	_ adapter.Disabler   = (*handler)(nil)
	_ adapter.Rebooter   = (*handler)(nil)
	_ adapter.Deleter    = (*handler)(nil)
	_ adapter.Closer     = (*handler)(nil)
)

func newHandler(a *adapter.Adapter, log *slog.Logger) *handler {
	return &handler{a: a, core: a.Core(), log: log, olts: make(map[string]*olt), tables: make(map[string]*flowpush.Table)}
}

// ensure returns the OLT for d, made from d when there is none, when its
// address changed or when fresh asks for a new connection. It runs in the
// device's queue, so nothing else replaces the device's OLT meanwhile.
func (h *handler) ensure(d *voltv1.Device, fresh bool) *olt {
	h.mu.Lock()
	old := h.olts[d.GetId()]
	h.mu.Unlock()
	if old != nil && old.addr == d.GetHostAndPort() && !fresh {
		return old
	}
	if old != nil {
		old.stopSession()
		old.close()
	}
	o := newOLT(d.GetId(), d.GetHostAndPort(), h.log)
	h.mu.Lock()
	h.olts[d.GetId()] = o
	h.mu.Unlock()
	return o
}

func (h *handler) remove(id string) *olt {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.olts[id]
	delete(h.olts, id)
	delete(h.tables, id)
	return o
}

func checkAddress(d *voltv1.Device) error {
	if d.GetHostAndPort() == "" {
		return status.Errorf(codes.InvalidArgument,
			"device %s has no host_and_port: the ponsim_olt adapter needs the address of its ponsim (host:port)", d.GetId())
	}
	return nil
}

// AdoptDevice answers at once and connects in the background: the device
// turns ACTIVE, or FAILED with a reason when ponsim cannot be reached.
func (h *handler) AdoptDevice(_ context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		// A new connection: one that failed before would wait out its
		// backoff instead of trying at once.
		o := h.ensure(d, true)
		o.setEnabled(true)
		h.startSession(o, true)
		return nil
	})
	return nil
}

// ReconcileDevice rebuilds the OLT from d after a restart (of this adapter:
// a new session; of the core: the running session reports everything
// again).
func (h *handler) ReconcileDevice(_ context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		o := h.ensure(d, false)
		o.setEnabled(d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED)
		switch {
		case o.running():
			// The core restarted: it may have missed reports.
			h.a.Submit(reportKey(o), func(ctx context.Context) error {
				o.forgetReported()
				return h.sync(ctx, o, true)
			})
			return nil
		case d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_FAILED:
			// The adoption failed; enabling the device again retries it.
			return nil
		default:
			// An adoption cut short (ACTIVATING) is finished, or fails;
			// an adopted OLT is followed again, reachable or not.
			switch d.GetOperStatus() {
			case voltv1.OperStatus_OPER_STATUS_ACTIVATING, voltv1.OperStatus_OPER_STATUS_DISCOVERED, voltv1.OperStatus_OPER_STATUS_UNSPECIFIED:
				h.startSession(o, true)
			default:
				h.startSession(o, false)
			}
			return nil
		}
	})
	return nil
}

// attach returns the OLT of d, rebuilding it (and its session) when an
// operation comes before the reconcile after this adapter restarted. It
// runs in the device's queue.
func (h *handler) attach(d *voltv1.Device) *olt {
	o := h.ensure(d, false)
	if !o.running() && d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_FAILED {
		o.setEnabled(d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED)
		h.startSession(o, false)
	}
	return o
}

// DisableDevice disables the OLT in ponsim before answering, so that the
// core disables the ONUs after the OLT. An unreachable ponsim is disabled
// when it is back.
func (h *handler) DisableDevice(ctx context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		o.adminMu.Lock()
		defer o.adminMu.Unlock()
		o.setEnabled(false)
		err := o.call(ctx, "disable OLT", ponsimv1.PonSimClient.DisableDevice)
		if unreachable(err) {
			o.log.Info("OLT disabled while ponsim is unreachable: ponsim follows when it is back", "err", err)
			return nil
		}
		if err != nil {
			o.setEnabled(true)
		}
		return err
	})
}

// ReenableDevice enables the OLT in ponsim before answering, so that the
// ONUs are enabled after it; ponsim then reports its ONUs again.
func (h *handler) ReenableDevice(ctx context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		o.adminMu.Lock()
		defer o.adminMu.Unlock()
		o.setEnabled(true)
		if err := o.call(ctx, "enable OLT", ponsimv1.PonSimClient.EnableDevice); err != nil {
			o.setEnabled(false)
			return err
		}
		return nil
	})
}

// RebootDevice reboots the OLT in ponsim: it turns REBOOTED and
// UNREACHABLE, and ACTIVE again once ponsim reports it up.
func (h *handler) RebootDevice(ctx context.Context, d *voltv1.Device) error {
	if err := checkAddress(d); err != nil {
		return err
	}
	return h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.attach(d)
		o.setRebooting(true)
		if err := o.call(ctx, "reboot OLT", ponsimv1.PonSimClient.RebootDevice); err != nil {
			o.setRebooting(false)
			return err
		}
		// Told after answering: the core holds the device until then.
		// ponsim sends OLT_STATE when the OLT is back (see event).
		h.a.Submit(reportKey(o), func(ctx context.Context) error {
			return h.setState(ctx, o.id, voltv1.OperStatus_OPER_STATUS_REBOOTED, voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)
		})
		return nil
	})
}

// DeleteDevice ends the OLT's session and work, disables it in ponsim (it
// stays off until adopted again) and drops the connection.
func (h *handler) DeleteDevice(ctx context.Context, d *voltv1.Device) error {
	err := h.a.Do(ctx, d.GetId(), func(ctx context.Context) error {
		o := h.remove(d.GetId())
		if o == nil {
			// Not adopted since this adapter started: disable it all the same.
			o = newOLT(d.GetId(), d.GetHostAndPort(), h.log)
		}
		o.stopSession()
		o.setEnabled(false)
		if err := h.disableDeleted(ctx, o, d); err != nil {
			o.log.Info("deleted OLT not disabled in ponsim", "err", err)
		}
		o.close()
		return nil
	})
	h.a.Forget(d.GetId())
	return err
}

// disableDeleted disables the ponsim OLT of a deleted device, when it is
// the device's: a device that never got as far as learning its OLT's
// serial number (a failed adoption, a second device on an OLT another
// device holds) leaves ponsim alone, as does a ponsim whose OLT has
// another serial number than the device.
func (h *handler) disableDeleted(ctx context.Context, o *olt, d *voltv1.Device) error {
	if d.GetSerialNumber() == "" {
		return nil
	}
	info, err := o.info(ctx, callTimeout)
	if err != nil {
		return err
	}
	if got := info.GetOlt().GetSerialNumber(); got != d.GetSerialNumber() {
		o.log.Info("deleted OLT's ponsim now has another OLT: left alone", "serial", d.GetSerialNumber(), "ponsim_serial", got)
		return nil
	}
	return o.call(ctx, "disable OLT", ponsimv1.PonSimClient.DisableDevice)
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

func (h *handler) setState(ctx context.Context, id string, oper voltv1.OperStatus, conn voltv1.ConnectStatus) error {
	_, err := h.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{DeviceId: id, OperStatus: oper, ConnectStatus: conn})
	if err != nil {
		return fmt.Errorf("device %s state %s/%s: %w", id, oper, conn, err)
	}
	return nil
}

func (h *handler) setReason(ctx context.Context, id, reason string) error {
	_, err := h.core.DeviceReasonUpdate(ctx, &adapterv1.DeviceReasonUpdateRequest{DeviceId: id, Reason: reason})
	if err != nil {
		return fmt.Errorf("device %s reason: %w", id, err)
	}
	return nil
}

// unreachable reports whether err means ponsim did not answer.
func unreachable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

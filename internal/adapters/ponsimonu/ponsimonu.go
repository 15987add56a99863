// Package ponsimonu is the adapter for simulated ONUs: devices of type
// ponsim_onu, the children the ponsim_olt adapter reports. It reports an
// ONU's UNI and PON ports and its state, relays disable, re-enable and
// reboot to ponsim, pushes the ONU's flows and sends packet-outs from its
// UNI (flows.go): it finds ponsim at the host_and_port of the ONU's
// parent OLT and names the ONU by its serial number. The OLT adapter, which
// follows ponsim's events, reports what ONUs do afterwards (lost,
// rebooting, back).
package ponsimonu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Names the adapter registers with.
const (
	ID         = "ponsim_onu"
	DeviceType = "ponsim_onu"
	Topic      = "ponsim_onu"
	Vendor     = "OpenVOLT"
	Version    = "0.1.0"
)

// callTimeout bounds one ponsim call.
const callTimeout = 5 * time.Second

// Defaults fills the zero fields of cfg with the ponsim_onu identity: id,
// topic, vendor, version and the device type.
func Defaults(cfg adapter.Config) adapter.Config {
	return cfg.WithDefaults(adapter.Identity{
		ID: ID, Topic: Topic, Vendor: Vendor, Version: Version,
		DeviceTypes: []*voltv1.DeviceType{{Id: DeviceType, VendorId: "PSMO"}},
	})
}

// Run runs the ponsim_onu adapter until ctx ends (see adapter.Adapter.Run).
// Zero fields of cfg take the ponsim_onu defaults; Brokers is required.
func Run(ctx context.Context, cfg adapter.Config) error {
	cfg = Defaults(cfg)
	a, err := adapter.New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx, newHandler(a, cfg.Logs.Logger("adapters/ponsimonu")))
}

// handler implements the adapter's operations. It keeps the flow tables
// of the ONUs (flows.go); everything else it needs comes with the device.
//
// Lock order: mu, then an onuFlows', a parentAddr's or a ponsimStats' mu.
type handler struct {
	a    *adapter.Adapter
	core adapterv1.CoreServiceClient
	log  *slog.Logger

	mu      sync.Mutex                  // guards conns, flows, parents, stats
	conns   map[string]*grpc.ClientConn // ponsim address → connection
	flows   map[string]*onuFlows        // ONU device id → its tables
	parents map[string]*parentAddr      // OLT device id → its ponsim
	stats   map[string]*ponsimStats     // ponsim address → its counters (kpis.go)
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
	return &handler{a: a, core: a.Core(), log: log, conns: make(map[string]*grpc.ClientConn),
		flows: make(map[string]*onuFlows), parents: make(map[string]*parentAddr), stats: make(map[string]*ponsimStats)}
}

// where returns the PON and ONU id of d, checked against the port layout.
func where(d *voltv1.Device) (pon, onu uint32, err error) {
	pa := d.GetProxyAddress()
	if pa.GetDeviceId() == "" {
		return 0, 0, status.Errorf(codes.InvalidArgument, "ONU %s has no proxy address: it must be a child of a ponsim_olt", d.GetId())
	}
	pon, onu = pa.GetChannelId(), pa.GetOnuId()
	if err := portno.Check(pon, onu, 0); err != nil {
		return 0, 0, status.Errorf(codes.InvalidArgument, "ONU %s: %v", d.GetId(), err)
	}
	return pon, onu, nil
}

// AdoptDevice answers at once and reports the ONU's ports and state after.
func (h *handler) AdoptDevice(_ context.Context, d *voltv1.Device) error {
	if _, _, err := where(d); err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		return h.activate(ctx, d, true)
	})
	return nil
}

// ReconcileDevice reports the ONU's ports again (the core keeps one per
// number) and finishes an adoption that was cut short.
func (h *handler) ReconcileDevice(_ context.Context, d *voltv1.Device) error {
	if _, _, err := where(d); err != nil {
		return err
	}
	h.a.Submit(d.GetId(), func(ctx context.Context) error {
		var err error
		switch d.GetOperStatus() {
		case voltv1.OperStatus_OPER_STATUS_ACTIVATING, voltv1.OperStatus_OPER_STATUS_DISCOVERED, voltv1.OperStatus_OPER_STATUS_UNSPECIFIED:
			err = h.activate(ctx, d, d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED)
		default:
			err = h.activate(ctx, d, false)
		}
		if status.Code(err) == codes.NotFound {
			// Deleted in the core: the work for it ends here.
			h.a.Forget(d.GetId())
			return nil
		}
		if err != nil {
			return err
		}
		return h.applyAdmin(ctx, d)
	})
	return nil
}

// applyAdmin makes ponsim's ONU enabled or disabled as the core stores it
// (a disable or re-enable the core stored but this adapter never applied,
// say during a broker outage). ponsim does nothing when it already is.
func (h *handler) applyAdmin(ctx context.Context, d *voltv1.Device) error {
	var err error
	switch d.GetAdminState() {
	case voltv1.AdminState_ADMIN_STATE_DISABLED:
		err = h.relay(ctx, d, "disable", ponsimv1.PonSimClient.DisableDevice, true)
	case voltv1.AdminState_ADMIN_STATE_ENABLED:
		err = h.relay(ctx, d, "enable", ponsimv1.PonSimClient.EnableDevice, true)
	}
	if status.Code(err) == codes.NotFound {
		return nil // not on the PON (any more): the OLT adapter reports it
	}
	return err
}

// activate reports the UNI and the PON port (removing any other port the
// core holds for the ONU), and the ONU ACTIVE when active says so.
func (h *handler) activate(ctx context.Context, d *voltv1.Device, active bool) error {
	pon, onu, err := where(d)
	if err != nil {
		return err
	}
	uni := portno.UNI(pon, onu, 0)
	parentPort := d.GetParentPortNo()
	if parentPort == 0 {
		parentPort = portno.OLTPON(pon)
	}
	ports := []*voltv1.Port{{
		PortNo:     uni,
		Label:      portno.Name(uni),
		Type:       voltv1.PortType_PORT_TYPE_ETHERNET_UNI,
		AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED,
		OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
	}, {
		PortNo:     portno.ONUPON,
		Label:      "pon",
		Type:       voltv1.PortType_PORT_TYPE_PON_ONU,
		AdminState: voltv1.AdminState_ADMIN_STATE_ENABLED,
		OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
		Peers:      []*voltv1.PortPeer{{DeviceId: d.GetProxyAddress().GetDeviceId(), PortNo: parentPort}},
	}}
	if err := adapter.RemoveStalePorts(ctx, h.core, d.GetId(), ports); err != nil {
		return fmt.Errorf("ONU %s: %w", d.GetId(), err)
	}
	for _, p := range ports {
		if _, err := h.core.PortCreated(ctx, &adapterv1.PortCreatedRequest{DeviceId: d.GetId(), Port: p}); err != nil {
			return fmt.Errorf("ONU %s port %d: %w", d.GetId(), p.GetPortNo(), err)
		}
	}
	if !active {
		return nil
	}
	_, err = h.core.DeviceStateUpdate(ctx, &adapterv1.DeviceStateUpdateRequest{
		DeviceId:      d.GetId(),
		OperStatus:    voltv1.OperStatus_OPER_STATUS_ACTIVE,
		ConnectStatus: voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE,
	})
	if err != nil {
		return fmt.Errorf("ONU %s active: %w", d.GetId(), err)
	}
	return nil
}

// The core's operations on an ONU call ponsim directly, before answering.
// They do not go through the ONU's work queue: the activation there calls
// the core about the ONU, which the core holds during its call. The core
// sends one call about a device at a time.

// DisableDevice disables the ONU in ponsim. When its OLT is disabled (the
// core disables the ONUs after their OLT) or ponsim does not answer, there
// is nothing to do: the whole PON is off.
func (h *handler) DisableDevice(ctx context.Context, d *voltv1.Device) error {
	err := h.relay(ctx, d, "disable", ponsimv1.PonSimClient.DisableDevice, true)
	if unreachable(err) {
		h.log.Info("ONU disabled while ponsim is unreachable", "device", d.GetId(), "err", err)
		return nil
	}
	return err
}

// ReenableDevice enables the ONU in ponsim.
func (h *handler) ReenableDevice(ctx context.Context, d *voltv1.Device) error {
	return h.relay(ctx, d, "enable", ponsimv1.PonSimClient.EnableDevice, false)
}

// RebootDevice reboots the ONU in ponsim; the OLT adapter reports it
// REBOOTED and ACTIVE again as ponsim tells.
func (h *handler) RebootDevice(ctx context.Context, d *voltv1.Device) error {
	return h.relay(ctx, d, "reboot", ponsimv1.PonSimClient.RebootDevice, false)
}

// DeleteDevice forgets the ONU's work and empties its flow table in
// ponsim. ponsim has no notion of deleting an ONU: it stays on the PON,
// and the OLT adapter reports it as new when ponsim discovers it again.
func (h *handler) DeleteDevice(ctx context.Context, d *voltv1.Device) error {
	h.a.Forget(d.GetId())
	h.forgetFlows(ctx, d.GetId())
	return nil
}

// Close drops the ponsim connections.
func (h *handler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for addr, cc := range h.conns {
		cc.Close()
		delete(h.conns, addr)
	}
	return nil
}

// simCall is a PonSim method that takes a device: a method expression
// such as ponsimv1.PonSimClient.RebootDevice.
type simCall func(ponsimv1.PonSimClient, context.Context, *ponsimv1.DeviceRef, ...grpc.CallOption) (*emptypb.Empty, error)

// relay makes one ponsim call about the ONU at the ponsim of its parent
// OLT. skipIfParentDown skips it when the OLT is not enabled.
func (h *handler) relay(ctx context.Context, d *voltv1.Device, what string, fn simCall, skipIfParentDown bool) error {
	h.log.Debug("ONU call", "op", what, "device", d.GetId(), "serial", d.GetSerialNumber())
	if d.GetSerialNumber() == "" {
		return status.Errorf(codes.FailedPrecondition, "ONU %s has no serial number: ponsim cannot name it", d.GetId())
	}
	parentID := d.GetProxyAddress().GetDeviceId()
	if parentID == "" {
		parentID = d.GetParentId()
	}
	parent, err := h.core.GetDevice(ctx, &adapterv1.DeviceRequest{DeviceId: parentID})
	if err != nil {
		return fmt.Errorf("ONU %s: get parent OLT %s: %w", d.GetId(), parentID, err)
	}
	if skipIfParentDown && parent.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
		return nil
	}
	addr := parent.GetHostAndPort()
	if addr == "" {
		return status.Errorf(codes.FailedPrecondition, "ONU %s: parent OLT %s has no host_and_port to reach ponsim", d.GetId(), parentID)
	}
	h.learnParent(parentID, addr)
	cc, err := h.conn(addr)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := fn(ponsimv1.NewPonSimClient(cc), cctx, &ponsimv1.DeviceRef{SerialNumber: d.GetSerialNumber()}); err != nil {
		st := status.Convert(err)
		return status.Errorf(st.Code(), "ponsim at %s: %s ONU %s: %s", addr, what, d.GetSerialNumber(), st.Message())
	}
	return nil
}

// conn returns the connection to the ponsim at addr, made on first use.
func (h *handler) conn(addr string) (*grpc.ClientConn, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cc := h.conns[addr]; cc != nil {
		return cc, nil
	}
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// A ponsim that restarted is reached again within the call's
		// timeout instead of failing at once while the connection backs off.
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: callTimeout,
		}))
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "ponsim address %q: %v", addr, err)
	}
	h.conns[addr] = cc
	h.a.Go("ponsim/"+addr, func(ctx context.Context) { h.watch(ctx, addr, cc) })
	return cc, nil
}

// unreachable reports whether err means ponsim did not answer.
func unreachable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

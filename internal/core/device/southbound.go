package device

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
)

// This file holds what adapters report (the CoreService side).

// lockDevice finds a device and acquires its queue.
func (m *Manager) lockDevice(ctx context.Context, id string) (*agent, func(), error) {
	if id == "" {
		return nil, nil, coreerr.New(coreerr.ErrInvalidArgument, "device id is required")
	}
	a, err := m.agent(id)
	if err != nil {
		return nil, nil, err
	}
	release, err := a.q.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	if a.gone {
		// Deleted while this call waited for the queue.
		release()
		return nil, nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %q not found", id))
	}
	return a, release, nil
}

// UpdateState sets the oper and connect status an adapter reports;
// UNSPECIFIED leaves a field as it is.
func (m *Manager) UpdateState(ctx context.Context, id string, oper voltv1.OperStatus, conn voltv1.ConnectStatus) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	cur := a.device()
	next := clone(cur)
	if oper != voltv1.OperStatus_OPER_STATUS_UNSPECIFIED {
		next.OperStatus = oper
	}
	if conn != voltv1.ConnectStatus_CONNECT_STATUS_UNSPECIFIED {
		next.ConnectStatus = conn
	}
	if stateOf(next) == stateOf(cur) {
		return nil
	}
	return m.commit(ctx, a, next)
}

// Update stores the descriptive fields an adapter learned about a device.
// Identity, parentage and states are the core's and are left alone.
func (m *Manager) Update(ctx context.Context, in *voltv1.Device) error {
	a, release, err := m.lockDevice(ctx, in.GetId())
	if err != nil {
		return err
	}
	defer release()
	if err := m.checkSerial(ctx, a, in.GetSerialNumber()); err != nil {
		return err
	}
	next := clone(a.device())
	next.Vendor = in.GetVendor()
	next.Model = in.GetModel()
	next.HardwareVersion = in.GetHardwareVersion()
	next.FirmwareVersion = in.GetFirmwareVersion()
	// An ONU's serial and vendor id come from its discovery; an adapter
	// that learns the rest later (OMCI) leaves them empty.
	if sn := in.GetSerialNumber(); sn != "" {
		next.SerialNumber = sn
	}
	if vid := in.GetVendorId(); vid != "" {
		next.VendorId = vid
	}
	if in.GetVlan() != 0 {
		next.Vlan = in.GetVlan()
	}
	if in.GetReason() != "" {
		next.Reason = in.GetReason()
	}
	if mac := in.GetMacAddress(); mac != "" {
		norm, err := NormalizeMAC(mac)
		if err != nil {
			return err
		}
		if next.GetRoot() && next.GetMacAddress() != norm && next.GetHostAndPort() == "" {
			return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf("device %s is addressed by its MAC %s; it cannot change", next.GetId(), next.GetMacAddress()))
		}
		next.MacAddress = norm
	}
	if proto.Equal(next, a.device()) {
		return nil
	}
	return m.commit(ctx, a, next)
}

// checkSerial refuses a root device whose adapter reached hardware that
// another root device already holds (two addresses of one OLT): the
// newcomer turns FAILED with a reason naming the original, which is left
// alone, and the adapter gets AlreadyExists (its work for the device ends).
// The caller holds a's queue.
func (m *Manager) checkSerial(ctx context.Context, a *agent, serial string) error {
	d := a.device()
	if !d.GetRoot() || serial == "" || d.GetSerialNumber() == serial {
		return nil
	}
	others := m.List(func(o *voltv1.Device) bool {
		return o.GetRoot() && o.GetId() != d.GetId() && o.GetSerialNumber() == serial
	})
	if len(others) == 0 {
		return nil
	}
	orig := others[0]
	msg := fmt.Sprintf("serial number %s is already held by device %s (address %s): the same %s adopted twice",
		serial, orig.GetId(), addressOf(orig), d.GetType())
	if d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_FAILED || d.GetReason() != msg {
		next := clone(d)
		next.OperStatus = voltv1.OperStatus_OPER_STATUS_FAILED
		next.ConnectStatus = voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE
		next.Reason = msg
		if err := m.commit(ctx, a, next); err != nil {
			return err
		}
		m.log.Warn("duplicate device refused", "device", d.GetId(), "original", orig.GetId(), "serial", serial)
	}
	return coreerr.New(coreerr.ErrAlreadyExists, fmt.Sprintf("device %s: %s", d.GetId(), msg))
}

// SetReason records why a device is in its state.
func (m *Manager) SetReason(ctx context.Context, id, reason string) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	if a.device().GetReason() == reason {
		return nil
	}
	next := clone(a.device())
	next.Reason = reason
	return m.commit(ctx, a, next)
}

// PortCreated adds or replaces a port of a device (adapters report ports
// again on reconcile; the same number replaces, never duplicates).
func (m *Manager) PortCreated(ctx context.Context, id string, in *voltv1.Port) error {
	if in == nil {
		return coreerr.New(coreerr.ErrInvalidArgument, "port is required")
	}
	if in.GetType() == voltv1.PortType_PORT_TYPE_UNSPECIFIED {
		return coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf("port %d of device %s has no type", in.GetPortNo(), id))
	}
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	p := proto.Clone(in).(*voltv1.Port)
	p.DeviceId = id
	if old := a.port(p.GetPortNo()); old != nil && proto.Equal(old, p) {
		// Stored already; its logical port may not be (a crash between
		// the two): the logical side writes only what differs.
		if m.logical != nil {
			if err := m.logical.PortChanged(ctx, a.device(), old); err != nil {
				m.log.Error("logical port update failed", "device", id, "port", p.GetPortNo(), "err", err)
			}
		}
		return nil
	}
	return m.commitPort(ctx, a, p, voltv1.ChangeKind_CHANGE_KIND_ADDED)
}

// UpdatePortState sets the oper status of one port.
func (m *Manager) UpdatePortState(ctx context.Context, id string, portNo uint32, oper voltv1.OperStatus) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	old := a.port(portNo)
	if old == nil {
		return coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %s has no port %d", id, portNo))
	}
	if old.GetOperStatus() == oper {
		return nil
	}
	p := proto.Clone(old).(*voltv1.Port)
	p.OperStatus = oper
	return m.commitPort(ctx, a, p, voltv1.ChangeKind_CHANGE_KIND_MODIFIED)
}

// PortRemoved removes a port the device no longer has (an adapter found it
// gone, say a port numbered by an older build). The logical port built from
// it goes first: when that fails nothing has changed, and when removing the
// device port fails after it, the adapter's retry finds the logical port
// gone and finishes.
func (m *Manager) PortRemoved(ctx context.Context, id string, portNo uint32) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return fmt.Errorf("remove port %d: %w", portNo, err)
	}
	defer release()
	p := a.port(portNo)
	if p == nil {
		return coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %s has no port %d", id, portNo))
	}
	stay := a.leave(portNo)
	if err := m.logical.PortRemoved(ctx, a.device(), p); err != nil {
		stay()
		return fmt.Errorf("remove logical port of device %s port %d: %w", id, portNo, err)
	}
	if err := m.store.Ports.Delete(ctx, store.PortID(id, portNo)); err != nil {
		stay()
		return err
	}
	a.dropPort(portNo)
	if m.events != nil {
		m.events.Publish(&voltv1.Event{
			DeviceId: id,
			Payload:  &voltv1.Event_Port{Port: &voltv1.PortChange{Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Port: p}},
		})
	}
	m.log.Info("port removed", "device", id, "port", portNo)
	return nil
}

func (m *Manager) commitPort(ctx context.Context, a *agent, p *voltv1.Port, kind voltv1.ChangeKind) error {
	if err := m.store.Ports.Put(ctx, store.PortID(p.GetDeviceId(), p.GetPortNo()), p); err != nil {
		return err
	}
	a.setPort(p)
	if m.events != nil {
		m.events.Publish(&voltv1.Event{
			DeviceId: p.GetDeviceId(),
			Payload:  &voltv1.Event_Port{Port: &voltv1.PortChange{Kind: kind, Port: p}},
		})
	}
	if err := m.logical.PortChanged(ctx, a.device(), p); err != nil {
		m.log.Error("logical port update failed", "device", p.GetDeviceId(), "port", p.GetPortNo(), "err", err)
	}
	return nil
}

// ChildDetected creates the child an adapter found behind a parent port and
// enables it. The same child detected again (same parent port and serial
// number, or onu id when there is no serial) is returned as it is.
func (m *Manager) ChildDetected(ctx context.Context, req *adapterv1.ChildDeviceDetectedRequest) (*voltv1.Device, error) {
	if err := ValidType(req.GetChildDeviceType()); err != nil {
		return nil, err
	}
	mac := ""
	if req.GetMacAddress() != "" {
		var err error
		if mac, err = NormalizeMAC(req.GetMacAddress()); err != nil {
			return nil, err
		}
	}
	pa, release, err := m.lockDevice(ctx, req.GetParentId())
	if err != nil {
		return nil, err
	}
	parent := pa.device()
	for _, c := range m.Children(parent.GetId()) {
		if sameChild(c, req) {
			release()
			return c, nil
		}
	}
	now := timestamppb.Now()
	child := &voltv1.Device{
		Id:           newID(),
		Type:         req.GetChildDeviceType(),
		ParentId:     parent.GetId(),
		ParentPortNo: req.GetParentPortNo(),
		SerialNumber: req.GetSerialNumber(),
		VendorId:     req.GetVendorId(),
		MacAddress:   mac,
		ProxyAddress: &voltv1.ProxyAddress{
			DeviceId:        parent.GetId(),
			DeviceType:      parent.GetType(),
			ChannelId:       req.GetChannelId(),
			OnuId:           req.GetOnuId(),
			AdapterEndpoint: parent.GetAdapterEndpoint(),
		},
		AdminState: voltv1.AdminState_ADMIN_STATE_PREPROVISIONED,
		Created:    now,
		Updated:    now,
	}
	if err := m.store.Devices.Put(ctx, child.Id, child); err != nil {
		release()
		return nil, err
	}
	m.mu.Lock()
	m.addAgentLocked(newAgent(child))
	m.mu.Unlock()
	release()
	m.publishDevice(voltv1.ChangeKind_CHANGE_KIND_ADDED, child, state{})

	if err := m.Enable(ctx, child.Id); err != nil {
		if d, derr := m.Device(child.Id); derr == nil && errors.Is(err, coreerr.ErrFailedPrecondition) &&
			d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_PREPROVISIONED {
			// The reconciler enabled it first.
		} else {
			m.log.Warn("enable detected child", "parent", parent.GetId(), "child", child.Id, "err", err)
			_ = m.SetReason(ctx, child.Id, "enable failed: "+err.Error())
		}
	}
	d, _ := m.Device(child.Id)
	if d == nil {
		return child, nil
	}
	return d, nil
}

func sameChild(c *voltv1.Device, req *adapterv1.ChildDeviceDetectedRequest) bool {
	if c.GetParentPortNo() != req.GetParentPortNo() {
		return false
	}
	if req.GetSerialNumber() != "" {
		return c.GetSerialNumber() == req.GetSerialNumber()
	}
	return c.GetProxyAddress().GetOnuId() == req.GetOnuId()
}

// ChildrenLost removes every child of a parent (the OLT lost its ONUs).
func (m *Manager) ChildrenLost(ctx context.Context, parentID string) error {
	if _, err := m.agent(parentID); err != nil {
		return err
	}
	for _, c := range m.Children(parentID) {
		if err := m.deleteChild(ctx, c.GetId(), false); err != nil {
			return err
		}
	}
	return nil
}

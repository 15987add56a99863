package logicaldevice

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

const (
	added    = voltv1.ChangeKind_CHANGE_KIND_ADDED
	modified = voltv1.ChangeKind_CHANGE_KIND_MODIFIED
	removed  = voltv1.ChangeKind_CHANGE_KIND_REMOVED
)

// DeviceActive handles a device that turned ACTIVE. For a root it creates
// the logical device when there is none (re-activation after a reboot or an
// outage keeps the existing one), makes sure there is a live port per NNI
// in ports, adds the UNIs of the children already active, and returns the
// logical device id. For a child it adds a port per UNI in ports; when the
// parent has no logical device yet it does nothing, since the parent's
// activation picks the child up. Ports that do not fit the numbering
// layout are skipped and reported in the error; the others are added.
func (m *Manager) DeviceActive(ctx context.Context, dev *voltv1.Device, ports []*voltv1.Port) (string, error) {
	if dev.GetRoot() {
		return m.rootActive(ctx, dev, ports)
	}
	l := m.logicalOf(dev)
	if l == nil {
		m.log.Debug("child active before its parent's logical device", "device", dev.GetId(), "parent", dev.GetParentId())
		return "", nil
	}
	err := m.addPorts(ctx, l, dev, ports)
	if errors.Is(err, errRemoved) {
		return "", nil // the parent went meanwhile
	}
	return "", err
}

func (m *Manager) rootActive(ctx context.Context, dev *voltv1.Device, ports []*voltv1.Port) (string, error) {
	l, err := m.ensure(ctx, dev)
	if err != nil {
		return "", err
	}
	// The root's own ports decide the result. A child's trouble is the
	// child's: it is logged, and must not cost the root its logical device.
	portsErr := m.addPorts(ctx, l, dev, ports)

	// A child that turned ACTIVE before this logical device existed found
	// nothing to join; take it in now. Children that turn ACTIVE from here
	// on add themselves, and adding twice is harmless.
	for _, c := range m.devices.Children(dev.GetId()) {
		if !deviceActive(c) {
			continue
		}
		err := m.adoptChild(ctx, l, c.GetId())
		if err != nil && !errors.Is(err, coreerr.ErrInvalidArgument) { // rejected ports are logged already
			m.log.Error("child ports not added", "logical_device", l.id, "device", c.GetId(), "err", err)
		}
	}
	return l.id, portsErr
}

// ensure returns root's logical device, creating and announcing it first
// when there is none.
func (m *Manager) ensure(ctx context.Context, root *voltv1.Device) (*logical, error) {
	if l := m.rootLogical(root.GetId()); l != nil {
		return l, nil
	}
	m.createMu.Lock()
	defer m.createMu.Unlock()
	if l := m.rootLogical(root.GetId()); l != nil {
		return l, nil
	}
	dpid, fromMAC := datapathID(root)
	if !fromMAC && root.GetMacAddress() != "" {
		m.log.Warn("unusable MAC address, datapath id hashed from the device id",
			"device", root.GetId(), "mac", root.GetMacAddress())
	}
	id := newID()
	for m.exists(id) {
		id = newID()
	}
	ld := newLogicalDevice(id, root, dpid)
	if err := m.store.LogicalDevices.Put(ctx, id, ld); err != nil {
		return nil, err
	}
	l := newLogical(ld)
	// Hold changes off until the ADDED event is out, so no port event of
	// this logical device goes before it.
	l.life.Lock()
	defer l.life.Unlock()
	m.mu.Lock()
	m.lds[id] = l
	m.byRoot[root.GetId()] = l
	m.mu.Unlock()
	m.publishDevice(added, ld)
	m.log.Info("logical device created", "logical_device", id, "device", root.GetId(), "datapath_id", fmt.Sprintf("%016x", dpid))
	return l, nil
}

func (m *Manager) exists(id string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.lds[id] != nil
}

// adoptChild adds the UNIs of child, re-reading it under its lock: it may
// have left ACTIVE (and had its ports removed) since Children listed it.
func (m *Manager) adoptChild(ctx context.Context, l *logical, childID string) error {
	release, err := l.acquire(ctx, childID)
	if err != nil {
		return err
	}
	defer release()
	c, err := m.devices.Device(childID)
	if err != nil || !deviceActive(c) {
		return nil
	}
	ports, _ := m.devices.Ports(childID) // none for a device gone meanwhile
	return m.upsertAllLocked(ctx, l, c, ports)
}

// addPorts makes a logical port for each of dev's ports that should have
// one (the NNIs of a root, the UNIs of a child).
func (m *Manager) addPorts(ctx context.Context, l *logical, dev *voltv1.Device, ports []*voltv1.Port) error {
	release, err := l.acquire(ctx, dev.GetId())
	if err != nil {
		return err
	}
	defer release()
	return m.upsertAllLocked(ctx, l, dev, ports)
}

// upsertAllLocked: the caller holds dev's lock in l.
func (m *Manager) upsertAllLocked(ctx context.Context, l *logical, dev *voltv1.Device, ports []*voltv1.Port) error {
	var errs []error
	for _, p := range ports {
		if p.GetType() != portKind(dev) {
			continue
		}
		if err := m.upsertLocked(ctx, l, dev, p, deviceUp(dev) && portUp(p)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// upsertLocked writes the logical port for device port p when it is new or
// differs from the current one. The caller holds dev's lock in l.
func (m *Manager) upsertLocked(ctx context.Context, l *logical, dev *voltv1.Device, p *voltv1.Port, linkUp bool) error {
	if err := checkNumber(dev, p); err != nil {
		// Logged here as well because the caller goes on with the other
		// ports: this line says which one was left out.
		m.log.Warn("port rejected", "logical_device", l.id, "device", dev.GetId(), "port", p.GetPortNo(), "err", err)
		return err
	}
	cur, err := l.reserve(p.GetPortNo(), dev.GetId())
	if err != nil {
		m.log.Warn("port rejected", "logical_device", l.id, "device", dev.GetId(), "port", p.GetPortNo(), "err", err)
		return err
	}
	next := buildPort(l.id, dev, p, cur, linkUp)
	if cur != nil && proto.Equal(cur, next) {
		return nil
	}
	kind := added
	if cur != nil {
		kind = modified
	}
	if err := m.store.LogicalPorts.Put(ctx, portKey(next), next); err != nil {
		if cur == nil {
			l.unreserve(p.GetPortNo(), dev.GetId())
		}
		return err
	}
	l.setPort(next)
	m.publishPort(kind, next)
	m.log.Debug("logical port written", "logical_device", l.id, "port", next.GetId(), "kind", kind, "state", next.GetOfpPort().GetState())
	return nil
}

// writeLocked persists lp, a new snapshot of an existing port, makes it
// visible and announces it. The caller holds lp's device lock in l.
func (m *Manager) writeLocked(ctx context.Context, l *logical, lp *voltv1.LogicalPort) error {
	if err := m.store.LogicalPorts.Put(ctx, portKey(lp), lp); err != nil {
		return err
	}
	l.setPort(lp)
	m.publishPort(modified, lp)
	return nil
}

func portKey(lp *voltv1.LogicalPort) string {
	return lp.GetLogicalDeviceId() + "/" + lp.GetId()
}

// PortChanged handles a port of dev that was created or changed: an
// existing logical port follows it, and a new NNI or UNI of an active
// device gets one.
func (m *Manager) PortChanged(ctx context.Context, dev *voltv1.Device, port *voltv1.Port) error {
	if port.GetType() != portKind(dev) {
		return nil
	}
	l, release, err := m.lockFor(ctx, dev)
	if l == nil || err != nil {
		return err
	}
	defer release()
	if !deviceActive(dev) {
		// An inactive device keeps the ports it has but gains none.
		cur := l.port(portno.Name(port.GetPortNo()))
		if cur == nil || cur.GetDeviceId() != dev.GetId() {
			return nil
		}
	}
	return m.upsertLocked(ctx, l, dev, port, deviceUp(dev) && portUp(port))
}

// PortRemoved removes the logical port built from dev's port, found by
// device port number rather than by name, so a port named by an older
// build goes too. Nothing to remove is not an error.
func (m *Manager) PortRemoved(ctx context.Context, dev *voltv1.Device, port *voltv1.Port) error {
	l, release, err := m.lockFor(ctx, dev)
	if l == nil || err != nil {
		return err
	}
	defer release()
	for _, lp := range l.portsOf(dev.GetId()) {
		if lp.GetDevicePortNo() != port.GetPortNo() {
			continue
		}
		if err := m.deletePortLocked(ctx, l, lp); err != nil {
			return err
		}
		m.log.Info("logical port removed", "logical_device", l.id, "port", lp.GetId(), "device", dev.GetId())
	}
	return nil
}

// SetPortsUp takes the logical ports backed by dev up or down. Taken up, a
// port whose device port is reported down, or which the operator disabled,
// stays down.
func (m *Manager) SetPortsUp(ctx context.Context, dev *voltv1.Device, up bool) error {
	l, release, err := m.lockFor(ctx, dev)
	if l == nil || err != nil {
		return err
	}
	defer release()
	devPorts := make(map[uint32]*voltv1.Port)
	if up {
		ports, _ := m.devices.Ports(dev.GetId()) // none for a device gone meanwhile
		for _, p := range ports {
			devPorts[p.GetPortNo()] = p
		}
	}
	var errs []error
	for _, cur := range l.portsOf(dev.GetId()) {
		linkUp := up
		if p := devPorts[cur.GetDevicePortNo()]; p != nil {
			linkUp = portUp(p)
		}
		config := cur.GetOfpPort().GetConfig()
		state := stateFor(linkUp, config)
		if state == cur.GetOfpPort().GetState() {
			continue
		}
		if err := m.writeLocked(ctx, l, withState(cur, config, state)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeviceGone removes a child's logical ports, or a root's whole logical
// device with its ports, flows, groups and meters. Nothing to remove is not
// an error.
func (m *Manager) DeviceGone(ctx context.Context, dev *voltv1.Device) error {
	if dev.GetRoot() {
		if l := m.logicalOf(dev); l != nil {
			return m.remove(ctx, l)
		}
		return nil
	}
	l, release, err := m.lockFor(ctx, dev)
	if l == nil || err != nil {
		return err
	}
	defer release()
	for _, lp := range l.portsOf(dev.GetId()) {
		if err := m.deletePortLocked(ctx, l, lp); err != nil {
			return err
		}
	}
	return nil
}

// lockFor returns dev's logical device with dev's ports locked; nil (and
// no error) when dev has no logical device or it is being removed.
func (m *Manager) lockFor(ctx context.Context, dev *voltv1.Device) (*logical, func(), error) {
	l := m.logicalOf(dev)
	if l == nil {
		return nil, nil, nil
	}
	release, err := l.acquire(ctx, dev.GetId())
	if errors.Is(err, errRemoved) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return l, release, nil
}

// deletePortLocked removes a logical port from the store and memory and
// announces it.
func (m *Manager) deletePortLocked(ctx context.Context, l *logical, lp *voltv1.LogicalPort) error {
	if err := m.store.LogicalPorts.Delete(ctx, portKey(lp)); err != nil {
		return err
	}
	l.dropPort(lp)
	m.publishPort(removed, lp)
	return nil
}

// remove deletes a logical device and everything stored under it. The
// record itself goes last, so a removal cut short is found again by Load
// and can be retried.
func (m *Manager) remove(ctx context.Context, l *logical) error {
	l.life.Lock()
	defer l.life.Unlock()
	if l.isRemoved() {
		return nil
	}
	st := m.store
	for _, del := range []func() error{
		func() error { return st.LogicalPorts.DeleteGroup(ctx, l.id) },
		func() error { return st.Flows.DeleteGroup(ctx, l.id) },
		func() error { return st.Groups.DeleteGroup(ctx, l.id) },
		func() error { return st.Meters.DeleteGroup(ctx, l.id) },
		func() error { return st.LogicalDevices.Delete(ctx, l.id) },
	} {
		if err := del(); err != nil {
			return fmt.Errorf("remove logical device %s: %w", l.id, err)
		}
	}
	l.mu.Lock()
	l.removed = true
	ld := l.ld
	l.mu.Unlock()
	m.mu.Lock()
	delete(m.lds, l.id)
	if m.byRoot[l.root] == l {
		delete(m.byRoot, l.root)
	}
	m.mu.Unlock()
	// One event for the whole switch: its ports go with it.
	m.publishDevice(removed, ld)
	m.log.Info("logical device removed", "logical_device", l.id, "device", l.root)
	return nil
}

// EnablePort clears OFPPC_PORT_DOWN on a logical port; the port turns live
// when its device and device port are up. Enabling an enabled port is a
// no-op.
func (m *Manager) EnablePort(ctx context.Context, ldID, portID string) error {
	return m.setPortDown(ctx, ldID, portID, false)
}

// DisablePort sets OFPPC_PORT_DOWN on a logical port, which takes it down.
// Disabling a disabled port is a no-op.
func (m *Manager) DisablePort(ctx context.Context, ldID, portID string) error {
	return m.setPortDown(ctx, ldID, portID, true)
}

func (m *Manager) setPortDown(ctx context.Context, ldID, portID string, down bool) error {
	l, err := m.byID(ldID)
	if err != nil {
		return err
	}
	noPort := coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("logical device %q has no port %q", ldID, portID))
	cur := l.port(portID)
	if cur == nil {
		return noPort
	}
	release, err := l.acquire(ctx, cur.GetDeviceId())
	if errors.Is(err, errRemoved) {
		return notFound(ldID)
	}
	if err != nil {
		return err
	}
	defer release()
	if cur = l.port(portID); cur == nil {
		return noPort // its device left while we waited
	}
	config := cur.GetOfpPort().GetConfig() &^ ofppcPortDown
	if down {
		config |= ofppcPortDown
	}
	if config == cur.GetOfpPort().GetConfig() {
		return nil
	}
	state := stateFor(!down && m.linkUp(cur), config)
	return m.writeLocked(ctx, l, withState(cur, config, state))
}

// linkUp reports whether the device port behind lp is up now.
func (m *Manager) linkUp(lp *voltv1.LogicalPort) bool {
	d, err := m.devices.Device(lp.GetDeviceId())
	if err != nil || !deviceUp(d) {
		return false
	}
	ports, _ := m.devices.Ports(d.GetId())
	for _, p := range ports {
		if p.GetPortNo() == lp.GetDevicePortNo() {
			return portUp(p)
		}
	}
	return true // no port record: the device's state decides
}

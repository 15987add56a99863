// Package device manages devices: one agent per device that runs its
// operations one at a time, the device state machine, the calls to the
// device's adapter, and persistence. Every accepted change is written to
// the store before it is visible or announced.
//
// Lock order: a parent's queue before its children's queues; a queue before
// Manager.mu; agent.mu last and never held across a call out.
package device

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
)

// Config wires a Manager.
type Config struct {
	// Index is where the Manager keeps the devices it owns; what only reads
	// devices is given it, built first (nil: a new one).
	Index    *Index
	Store    *store.Store
	Adapters Adapters
	// Logical is told of devices and ports that come, change and go (nil:
	// nobody).
	Logical Logical
	Events  Publisher
	Logger  *slog.Logger
	// AdapterTimeout bounds each call to an adapter (default 10s).
	AdapterTimeout time.Duration
	// Reconciled, when set, is told of each device its adapter reconciled
	// (so its flows can be sent again).
	Reconciled func(deviceID string)
	// ReconcileInterval is the mean time between two passes of the
	// reconciler (Run); each pass is jittered by ±25% (default 5s).
	ReconcileInterval time.Duration
}

// Manager owns every device: it writes them (its Index is their read
// side).
type Manager struct {
	*Index
	store      *store.Store
	adapters   Adapters
	logical    Logical
	events     Publisher
	log        *slog.Logger
	timeout    time.Duration
	reconciled func(string)
	interval   time.Duration

	dirtyMu sync.Mutex          // guards dirty and warned
	dirty   map[string]struct{} // devices whose adapter missed an operation
	warned  map[string]bool     // devices whose failed reconcile was logged
	kick    chan struct{}       // asks the reconciler for a pass soon
}

// New returns an empty manager; call Load to restore persisted devices.
func New(cfg Config) *Manager {
	if cfg.AdapterTimeout <= 0 {
		cfg.AdapterTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Index == nil {
		cfg.Index = NewIndex()
	}
	if cfg.Logical == nil {
		cfg.Logical = noLogical{}
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = 5 * time.Second
	}
	return &Manager{
		Index:      cfg.Index,
		interval:   cfg.ReconcileInterval,
		dirty:      make(map[string]struct{}),
		warned:     make(map[string]bool),
		kick:       make(chan struct{}, 1),
		store:      cfg.Store,
		adapters:   cfg.Adapters,
		logical:    cfg.Logical,
		events:     cfg.Events,
		log:        cfg.Logger,
		timeout:    cfg.AdapterTimeout,
		reconciled: cfg.Reconciled,
	}
}

// Load restores every device and port from the store.
func (m *Manager) Load(ctx context.Context) error {
	devs, err := m.store.Devices.List(ctx)
	if err != nil {
		return fmt.Errorf("load devices: %w", err)
	}
	ports, err := m.store.Ports.List(ctx)
	if err != nil {
		return fmt.Errorf("load ports: %w", err)
	}
	byDev := make(map[string][]*voltv1.Port)
	for _, p := range ports {
		byDev[p.GetDeviceId()] = append(byDev[p.GetDeviceId()], p)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range devs {
		a := newAgent(d)
		for _, p := range byDev[d.GetId()] {
			a.ports[p.GetPortNo()] = p
		}
		m.addAgentLocked(a)
	}
	return nil
}

// addrKey is what makes two root devices the same device.
func addrKey(d *voltv1.Device) string {
	if !d.GetRoot() {
		return ""
	}
	if d.GetHostAndPort() != "" {
		return "addr:" + d.GetHostAndPort()
	}
	if d.GetMacAddress() != "" {
		return "mac:" + d.GetMacAddress()
	}
	return ""
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Create pre-provisions a root device.
func (m *Manager) Create(ctx context.Context, in *voltv1.Device) (*voltv1.Device, error) {
	d, err := validateNew(in)
	if err != nil {
		return nil, err
	}
	if d.Id == "" {
		d.Id = newID()
	}
	now := timestamppb.Now()
	d.AdminState = voltv1.AdminState_ADMIN_STATE_PREPROVISIONED
	d.Created, d.Updated = now, now
	a := newAgent(d)

	// Reserve the id and address before writing, so two concurrent creates
	// of one address cannot both succeed.
	m.mu.Lock()
	if _, ok := m.agents[d.Id]; ok {
		m.mu.Unlock()
		return nil, coreerr.New(coreerr.ErrAlreadyExists, fmt.Sprintf("device %q already exists", d.Id))
	}
	if other, ok := m.byAddr[addrKey(d)]; ok {
		m.mu.Unlock()
		return nil, coreerr.New(coreerr.ErrAlreadyExists, fmt.Sprintf("device %s already has address %s", other, addressOf(d)))
	}
	release, _ := a.q.acquire(ctx) // fresh queue: never blocks
	defer release()
	m.addAgentLocked(a)
	m.mu.Unlock()

	if err := m.store.Devices.Put(ctx, d.Id, d); err != nil {
		m.removeAgent(d)
		return nil, err
	}
	m.publishDevice(voltv1.ChangeKind_CHANGE_KIND_ADDED, d, state{})
	return d, nil
}

func addressOf(d *voltv1.Device) string {
	if d.GetHostAndPort() != "" {
		return d.GetHostAndPort()
	}
	return d.GetMacAddress()
}

// shortKind is ADDED, MODIFIED or REMOVED.
func shortKind(k voltv1.ChangeKind) string { return strings.TrimPrefix(k.String(), "CHANGE_KIND_") }

// check returns a FailedPrecondition error when the table forbids o in the
// device's current state.
func check(o op, d *voltv1.Device) error {
	if allowed[o](stateOf(d)) {
		return nil
	}
	return coreerr.New(coreerr.ErrFailedPrecondition, fmt.Sprintf("cannot %s device %s: it is %s (oper %s); %s needs %s",
		o, d.GetId(), shortName(d.GetAdminState().String()), shortName(d.GetOperStatus().String()), o, allowedText[o]))
}

// Enable adopts a pre-provisioned device, re-enables a disabled one (and
// its children), or retries a failed adoption. The intent is stored before
// the adapter hears of it: when the store fails nothing changes anywhere;
// when the adapter refuses, the device goes back to what it was; when the
// adapter does not answer, the intent stands and the reconciler applies it
// (the caller still sees the error).
func (m *Manager) Enable(ctx context.Context, id string) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	cur := a.device()
	if err := check(opEnable, cur); err != nil {
		return err
	}
	client, endpoint, err := m.adapters.For(ctx, cur.GetType())
	if err != nil {
		return err
	}
	next := clone(cur)
	next.AdminState = voltv1.AdminState_ADMIN_STATE_ENABLED
	next.AdapterEndpoint = endpoint
	next.Reason = ""
	reenable := cur.GetAdminState() == voltv1.AdminState_ADMIN_STATE_DISABLED
	if !reenable {
		next.OperStatus = voltv1.OperStatus_OPER_STATUS_ACTIVATING
	}
	if err := m.commit(ctx, a, next); err != nil {
		return fmt.Errorf("enable device %s: intent not stored, nothing changed: %w", id, err)
	}
	cctx, cancel := context.WithTimeout(ctx, m.timeout)
	if reenable {
		_, err = client.ReenableDevice(cctx, next)
	} else {
		_, err = client.AdoptDevice(cctx, next)
	}
	cancel()
	if err != nil {
		err = m.afterAdapterError(ctx, a, cur, fmt.Errorf("adapter %s: enable device %s: %w", endpoint, id, err))
		if reenable && !refused(err) {
			m.intendChildren(ctx, id, voltv1.AdminState_ADMIN_STATE_DISABLED, voltv1.AdminState_ADMIN_STATE_ENABLED)
		}
		return err
	}
	if reenable {
		m.enableChildren(ctx, id)
	}
	return nil
}

// intendChildren stores admin state to for the children of a parent that
// are in state from, and leaves telling their adapters to the reconciler:
// the parent's adapter did not answer, so the children's would make the
// caller wait a timeout each.
func (m *Manager) intendChildren(ctx context.Context, id string, from, to voltv1.AdminState) {
	for _, c := range m.Children(id) {
		if c.GetAdminState() != from {
			continue
		}
		a, release, err := m.lockDevice(ctx, c.GetId())
		if err != nil {
			continue
		}
		if cur := a.device(); cur.GetAdminState() == from {
			next := clone(cur)
			next.AdminState = to
			if err := m.commit(ctx, a, next); err != nil {
				m.log.Warn("child intent not stored", "parent", id, "child", c.GetId(), "err", err)
			} else {
				m.markDirty(c.GetId())
			}
		}
		release()
	}
}

// enableChildren enables the children a re-enabled parent had disabled
// (and any whose enabling a crash cut short).
func (m *Manager) enableChildren(ctx context.Context, id string) {
	for _, c := range m.Children(id) {
		switch c.GetAdminState() {
		case voltv1.AdminState_ADMIN_STATE_DISABLED, voltv1.AdminState_ADMIN_STATE_PREPROVISIONED:
		default:
			continue
		}
		if err := m.Enable(ctx, c.GetId()); err != nil {
			m.log.Warn("re-enable child", "parent", id, "child", c.GetId(), "err", err)
		}
	}
}

// Disable disables a device and then its children, the intent first (see
// Enable).
func (m *Manager) Disable(ctx context.Context, id string) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	cur := a.device()
	if err := check(opDisable, cur); err != nil {
		return err
	}
	if _, _, err := m.adapters.For(ctx, cur.GetType()); err != nil {
		return err
	}
	next := clone(cur)
	next.AdminState = voltv1.AdminState_ADMIN_STATE_DISABLED
	if err := m.commit(ctx, a, next); err != nil {
		return fmt.Errorf("disable device %s: intent not stored, nothing changed: %w", id, err)
	}
	if err := m.callAdapter(ctx, next, "disable", func(ctx context.Context, c adapterClient) error {
		_, err := c.DisableDevice(ctx, next)
		return err
	}); err != nil {
		err = m.afterAdapterError(ctx, a, cur, err)
		if !refused(err) {
			// Not answered: the intent stands, and so does the cascade.
			m.intendChildren(ctx, id, voltv1.AdminState_ADMIN_STATE_ENABLED, voltv1.AdminState_ADMIN_STATE_DISABLED)
		}
		return err
	}
	m.disableChildren(ctx, id)
	return nil
}

func (m *Manager) disableChildren(ctx context.Context, id string) {
	for _, c := range m.Children(id) {
		if c.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
			continue
		}
		if err := m.Disable(ctx, c.GetId()); err != nil {
			m.log.Warn("disable child", "parent", id, "child", c.GetId(), "err", err)
		}
	}
}

// afterAdapterError handles an adapter call that failed after the intent
// was stored: a refusal puts prev back (nothing changed), anything else
// (no answer) leaves the intent for the reconciler. It returns err.
func (m *Manager) afterAdapterError(ctx context.Context, a *agent, prev *voltv1.Device, err error) error {
	if !refused(err) {
		m.markDirty(prev.GetId())
		return fmt.Errorf("%w (stored: the core applies it when the adapter answers)", err)
	}
	back := clone(prev)
	if rerr := m.commit(ctx, a, back); rerr != nil {
		// The refused intent stays stored: the reconciler retries it.
		m.markDirty(prev.GetId())
		m.log.Error("refused operation not undone", "device", prev.GetId(), "err", rerr)
	}
	return err
}

// refused reports that an adapter answered a call with a refusal (the
// operation cannot be done), as opposed to not answering at all.
func refused(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unimplemented, codes.OutOfRange:
		return true
	}
	return errors.Is(err, coreerr.ErrInvalidArgument) || errors.Is(err, coreerr.ErrFailedPrecondition)
}

// Reboot asks the adapter to reboot an enabled device; the adapter reports
// the states it passes through.
func (m *Manager) Reboot(ctx context.Context, id string) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	cur := a.device()
	if err := check(opReboot, cur); err != nil {
		return err
	}
	// An ACTIVE child is REBOOTED from here until its adapter reports it
	// ACTIVE again: its logical ports stay, down, with their flows, so its
	// service comes back without the controller (the state machine's
	// child-rebooting rule). Set before the call, so that the adapter's
	// reports of the ONU dropping off (queued behind this call) find it
	// REBOOTED rather than ACTIVE.
	rebooting := !cur.GetRoot() && cur.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE
	if rebooting {
		next := clone(cur)
		next.OperStatus = voltv1.OperStatus_OPER_STATUS_REBOOTED
		if err := m.commit(ctx, a, next); err != nil {
			return err
		}
	}
	err = m.callAdapter(ctx, cur, "reboot", func(ctx context.Context, c adapterClient) error {
		_, err := c.RebootDevice(ctx, cur)
		return err
	})
	if err != nil && rebooting && status.Code(err) != codes.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
		// The adapter refused or failed: taken for not rebooted, the child
		// is as it was. A call that outlasted its deadline may still
		// reboot the child: it stays REBOOTED until its adapter reports.
		back := clone(a.device())
		back.OperStatus = cur.GetOperStatus()
		if cerr := m.commit(ctx, a, back); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
	return err
}

// Delete removes a device: first from its adapter, then its children, its
// logical device and every stored record.
func (m *Manager) Delete(ctx context.Context, id string) error {
	a, release, err := m.lockDevice(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	cur := a.device()
	if err := check(opDelete, cur); err != nil {
		return err
	}
	if cur.GetAdminState() != voltv1.AdminState_ADMIN_STATE_PREPROVISIONED {
		err := m.callAdapter(ctx, cur, "delete", func(ctx context.Context, c adapterClient) error {
			_, err := c.DeleteDevice(ctx, cur)
			return err
		})
		switch {
		case err == nil || isNoAdapter(err):
		case refused(err):
			return err
		case status.Code(err) == codes.Unavailable || errors.Is(err, coreerr.ErrUnavailable):
			// The core's own bus is down (not the adapter silent): the
			// delete changes nothing yet; the caller tries again.
			return err
		default:
			// The adapter does not answer: the device goes all the same
			// (gone means gone); the adapter learns it from the core's
			// NotFound and ends its work for the device.
			m.log.Warn("device deleted without its adapter", "device", id, "err", err)
		}
	}
	var (
		mu   sync.Mutex // guards errs
		errs []error
	)
	parallel(ctx, m.Children(id), func(c *voltv1.Device) {
		if err := m.deleteChild(ctx, c.GetId(), true); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.purge(ctx, a); err != nil {
		return err
	}
	if cur.GetParentId() != "" {
		m.childLost(ctx, cur)
	}
	return nil
}

// childLost tells the adapter of a deleted child's parent that the child
// is gone, so that it frees what it held for it (an ONU's id at its OLT).
// It is called once the child is purged: a child the parent's adapter
// then detects again (the same ONU, rediscovered) is a new device rather
// than the one being deleted. An adapter without ChildDeviceLost has
// nothing to free.
func (m *Manager) childLost(ctx context.Context, child *voltv1.Device) {
	parent, err := m.Device(child.GetParentId())
	if err != nil {
		return // deleted meanwhile: its adapter frees everything
	}
	err = m.callAdapter(ctx, parent, "child lost", func(ctx context.Context, c adapterClient) error {
		_, err := c.ChildDeviceLost(ctx, child)
		return err
	})
	if err != nil && !isNoAdapter(err) && status.Code(err) != codes.Unimplemented {
		m.log.Warn("parent adapter not told of a deleted child", "parent", parent.GetId(), "child", child.GetId(), "err", err)
	}
}

// deleteChild removes one child; tell says whether its adapter is told.
func (m *Manager) deleteChild(ctx context.Context, id string, tell bool) error {
	a, release, err := m.lockDevice(ctx, id)
	if errors.Is(err, coreerr.ErrNotFound) {
		return nil // already gone
	}
	if err != nil {
		return err
	}
	defer release()
	cur := a.device()
	if tell && cur.GetAdminState() != voltv1.AdminState_ADMIN_STATE_PREPROVISIONED {
		err := m.callAdapter(ctx, cur, "delete", func(ctx context.Context, c adapterClient) error {
			_, err := c.DeleteDevice(ctx, cur)
			return err
		})
		if err != nil && !isNoAdapter(err) {
			// The parent is going anyway: an unreachable ONU adapter must
			// not leave orphans behind.
			m.log.Warn("delete child in adapter", "device", id, "err", err)
		}
	}
	return m.purge(ctx, a)
}

// purge removes every trace of a device; the caller holds its queue.
func (m *Manager) purge(ctx context.Context, a *agent) error {
	d := a.device()
	if err := m.logical.DeviceGone(ctx, d); err != nil {
		return fmt.Errorf("remove logical side of device %s: %w", d.GetId(), err)
	}
	id := d.GetId()
	for _, del := range []func() error{
		func() error { return m.store.Ports.DeleteGroup(ctx, id) },
		func() error { return m.store.Devices.Delete(ctx, id) },
	} {
		if err := del(); err != nil {
			return err
		}
	}
	a.gone = true
	m.removeAgent(d)
	m.publishDevice(voltv1.ChangeKind_CHANGE_KIND_REMOVED, d, stateOf(d))
	return nil
}

// commit persists next as the device's new state, makes it visible, runs
// the state machine and announces the change. The caller holds the queue.
func (m *Manager) commit(ctx context.Context, a *agent, next *voltv1.Device) error {
	prev := a.device()
	next.Updated = timestamppb.Now()
	if err := m.store.Devices.Put(ctx, next.GetId(), next); err != nil {
		return err
	}
	a.setDevice(next)
	m.publishDevice(voltv1.ChangeKind_CHANGE_KIND_MODIFIED, next, stateOf(prev))
	m.transition(ctx, a, stateOf(prev), stateOf(next))
	return nil
}

// transition runs the actions the state machine gives for prev → cur.
func (m *Manager) transition(ctx context.Context, a *agent, prev, cur state) {
	d := a.device()
	for _, act := range actionsFor(d.GetRoot(), prev, cur) {
		var err error
		switch act {
		case actActivate:
			err = m.activate(ctx, a)
			d = a.device()
		case actGone:
			err = m.logical.DeviceGone(ctx, d)
		case actPortsDown:
			err = m.logical.SetPortsUp(ctx, d, false)
		case actPortsUp:
			err = m.logical.SetPortsUp(ctx, d, true)
		}
		if err != nil {
			m.log.Error("state transition action failed", "device", d.GetId(), "from", prev, "to", cur, "action", act, "err", err)
		}
	}
}

// activate makes the logical side of an active device: the logical device
// of a root (recorded on the device), the logical ports of a child. The
// caller holds the device's queue.
func (m *Manager) activate(ctx context.Context, a *agent) error {
	d := a.device()
	ldID, err := m.logical.DeviceActive(ctx, d, a.portList())
	// Record the logical device even when some port was refused: the
	// logical device exists either way.
	if d.GetRoot() && ldID != "" && ldID != d.GetLogicalDeviceId() {
		next := clone(d)
		next.LogicalDeviceId = ldID
		if perr := m.store.Devices.Put(ctx, next.GetId(), next); perr != nil {
			return errors.Join(err, perr)
		}
		a.setDevice(next)
	}
	return err
}

func (m *Manager) publishDevice(kind voltv1.ChangeKind, d *voltv1.Device, prev state) {
	m.log.Debug("device "+strings.ToLower(shortKind(kind)), "device", d.GetId(), "type", d.GetType(),
		"admin", shortName(d.GetAdminState().String()), "oper", shortName(d.GetOperStatus().String()),
		"connect", shortName(d.GetConnectStatus().String()), "was_admin", shortName(prev.admin.String()),
		"was_oper", shortName(prev.oper.String()), "was_connect", shortName(prev.conn.String()), "reason", d.GetReason())
	if m.events == nil {
		return
	}
	m.events.Publish(&voltv1.Event{
		DeviceId:        d.GetId(),
		LogicalDeviceId: d.GetLogicalDeviceId(),
		Payload: &voltv1.Event_Device{Device: &voltv1.DeviceChange{
			Kind:                  kind,
			Device:                d,
			PreviousAdminState:    prev.admin,
			PreviousOperStatus:    prev.oper,
			PreviousConnectStatus: prev.conn,
		}},
	})
}

func clone(d *voltv1.Device) *voltv1.Device { return proto.Clone(d).(*voltv1.Device) }

package device

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// The reconciler drives what the devices have (reported by the adapters)
// toward what the store says they should have, level-triggered: on start
// and adapter registration (Reconcile), after an operation the adapter did
// not answer (markDirty), and periodically (Run). A pass is cheap when
// nothing differs: it compares in memory, and calls an adapter only about
// a device whose adapter missed an operation or whose enabling a crash cut
// short.

// markDirty records that d's adapter missed an operation; the next pass
// asks the adapter to reconcile d, until it answers.
func (m *Manager) markDirty(id string) {
	m.dirtyMu.Lock()
	m.dirty[id] = struct{}{}
	m.dirtyMu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *Manager) takeDirty() []string {
	m.dirtyMu.Lock()
	defer m.dirtyMu.Unlock()
	out := make([]string, 0, len(m.dirty))
	for id := range m.dirty {
		out = append(out, id)
		delete(m.dirty, id)
	}
	return out
}

// Dirty reports whether any device waits for its adapter to apply an
// operation.
func (m *Manager) Dirty() int {
	m.dirtyMu.Lock()
	defer m.dirtyMu.Unlock()
	return len(m.dirty)
}

// Run reconciles periodically (jittered around the configured interval)
// and soon after an operation an adapter missed, until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	for {
		d := m.interval*3/4 + rand.N(m.interval/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-m.kick:
			t.Stop()
			// Give the adapter a moment: what it missed, it missed for a
			// reason (a broker or adapter restarting).
			t = time.NewTimer(m.interval / 5)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		case <-t.C:
		}
		m.pass(ctx)
	}
}

// pass is one round of the reconciler.
func (m *Manager) pass(ctx context.Context) {
	for _, id := range m.takeDirty() {
		d, err := m.Device(id)
		if err != nil {
			continue // deleted meanwhile
		}
		m.reconcileOne(ctx, d)
	}
	m.dropOrphans(ctx)
	m.resumeChildren(ctx, nil)
	m.ensureLogical(ctx)
}

// dropOrphans removes children whose parent is gone (a child stored while
// its parent was being deleted, as a crash or a store write that timed out
// can leave): gone means gone.
func (m *Manager) dropOrphans(ctx context.Context) {
	for _, c := range m.List(func(d *voltv1.Device) bool { return d.GetParentId() != "" }) {
		if _, err := m.Device(c.GetParentId()); err == nil {
			continue
		}
		m.log.Info("removing a child whose parent is gone", "device", c.GetId(), "parent", c.GetParentId())
		if err := m.deleteChild(ctx, c.GetId(), false); err != nil {
			m.log.Warn("orphan not removed", "device", c.GetId(), "err", err)
		}
	}
}

// Reconcile asks the adapters to re-learn every adopted device of the given
// types (after a core or adapter restart) and finishes what a crash cut
// short: children detected but never enabled are enabled. A device whose
// adapter does not answer is tried again by the reconciler.
func (m *Manager) Reconcile(ctx context.Context, types map[string]bool) {
	parallel(ctx, m.List(func(d *voltv1.Device) bool {
		return types[d.GetType()] && d.GetAdminState() != voltv1.AdminState_ADMIN_STATE_PREPROVISIONED
	}), func(d *voltv1.Device) { m.reconcileOne(ctx, d) })
	m.dropOrphans(ctx)
	m.resumeChildren(ctx, types)
	m.ensureLogical(ctx)
}

// reconcileOne asks d's adapter to reconcile it; one that does not answer
// is marked for the next pass.
func (m *Manager) reconcileOne(ctx context.Context, d *voltv1.Device) {
	if d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_PREPROVISIONED {
		return
	}
	err := m.callAdapter(ctx, d, "reconcile", func(ctx context.Context, c adapterClient) error {
		_, err := c.ReconcileDevice(ctx, d)
		return err
	})
	m.dirtyMu.Lock()
	warned := m.warned[d.GetId()]
	if err != nil {
		m.warned[d.GetId()] = true
	} else {
		delete(m.warned, d.GetId())
	}
	m.dirtyMu.Unlock()
	if err != nil {
		if ctx.Err() == nil && !refused(err) {
			m.markDirty(d.GetId())
		}
		// Once per outage, not once per pass.
		if warned {
			m.log.Debug("reconcile device", "device", d.GetId(), "err", err)
		} else {
			m.log.Warn("reconcile device: retrying until the adapter answers", "device", d.GetId(), "err", err)
		}
		return
	}
	if warned {
		m.log.Info("device reconciled", "device", d.GetId())
	}
	if m.reconciled != nil {
		m.reconciled(d.GetId())
	}
}

// resumeChildren enables the children (of the given types; nil: any)
// that were stored but not enabled when the core stopped, under a parent
// that is enabled.
func (m *Manager) resumeChildren(ctx context.Context, types map[string]bool) {
	parallel(ctx, m.List(func(d *voltv1.Device) bool {
		return d.GetParentId() != "" && d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_PREPROVISIONED &&
			(types == nil || types[d.GetType()])
	}), func(c *voltv1.Device) {
		p, err := m.Device(c.GetParentId())
		if err != nil || p.GetAdminState() != voltv1.AdminState_ADMIN_STATE_ENABLED {
			return
		}
		m.log.Info("enabling a child whose enabling was cut short", "parent", p.GetId(), "child", c.GetId())
		if err := m.Enable(ctx, c.GetId()); err != nil && !errors.Is(err, coreerr.ErrFailedPrecondition) {
			m.log.Warn("enable child", "parent", p.GetId(), "child", c.GetId(), "err", err)
		}
	})
}

// inFlight bounds the devices the reconciler (and a parent's delete)
// handles at once: one adapter that answers slowly must not hold up the
// others for a timeout each.
const inFlight = 16

// parallel runs fn for each device, inFlight at a time, until ctx ends.
func parallel(ctx context.Context, devs []*voltv1.Device, fn func(*voltv1.Device)) {
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, d := range devs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(d)
		})
	}
}

// ensureLogical rebuilds what the logical side lacks of the active roots
// (and, through them, of their active children): a logical port lost in a
// crash between storing a device port and its logical port. Nothing is
// written where nothing differs.
func (m *Manager) ensureLogical(ctx context.Context) {
	if m.logical == nil {
		return
	}
	for _, d := range m.List(func(d *voltv1.Device) bool {
		return d.GetRoot() && d.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED &&
			d.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE
	}) {
		if ctx.Err() != nil {
			return
		}
		a, err := m.agent(d.GetId())
		if err != nil {
			continue
		}
		release, err := a.q.acquire(ctx)
		if err != nil {
			return
		}
		if cur := a.device(); !a.gone && cur.GetAdminState() == voltv1.AdminState_ADMIN_STATE_ENABLED &&
			cur.GetOperStatus() == voltv1.OperStatus_OPER_STATUS_ACTIVE {
			if err := m.activate(ctx, a); err != nil {
				m.log.Warn("logical side not rebuilt", "device", d.GetId(), "err", err)
			}
		}
		release()
	}
}

package flows

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
	"github.com/openvolt/openvolt/internal/core/flowtable"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// UpdateFlowTable applies a flow-mod to a logical device.
func (m *Manager) UpdateFlowTable(ctx context.Context, ldID string, fm *openflowv1.FlowMod) error {
	return m.update(ctx, ldID, flowtable.ErrTypeFlowMod, func(t *flowtable.Table) (flowtable.Changes, error) { return t.PlanFlowMod(fm) })
}

// UpdateGroupTable applies a group-mod to a logical device.
func (m *Manager) UpdateGroupTable(ctx context.Context, ldID string, gm *openflowv1.GroupMod) error {
	return m.update(ctx, ldID, flowtable.ErrTypeGroupMod, func(t *flowtable.Table) (flowtable.Changes, error) { return t.PlanGroupMod(gm) })
}

// UpdateMeterTable applies a meter-mod to a logical device.
func (m *Manager) UpdateMeterTable(ctx context.Context, ldID string, mm *openflowv1.MeterMod) error {
	return m.update(ctx, ldID, flowtable.ErrTypeMeterMod, func(t *flowtable.Table) (flowtable.Changes, error) { return t.PlanMeterMod(mm) })
}

// UpdateFlowTables applies flow-mods to a logical device in order, each on
// its own, and waits until the applied ones are stored. errs[i] is the
// failure of fms[i] (nil: applied); err is set, and errs nil, when none
// could be tried (no such logical device).
func (m *Manager) UpdateFlowTables(ctx context.Context, ldID string, fms []*openflowv1.FlowMod) (errs []error, err error) {
	l, err := m.lock(ctx, ldID)
	if err != nil {
		return nil, err
	}
	errs = make([]error, len(fms))
	commits := make([]*commit, len(fms))
	for i, fm := range fms {
		commits[i], errs[i] = m.stepLocked(l, flowtable.ErrTypeFlowMod, nil, func(t *flowtable.Table) (flowtable.Changes, error) { return t.PlanFlowMod(fm) })
	}
	m.startFlushLocked(l)
	l.mu.Unlock()
	for i, cm := range commits {
		if cm != nil {
			<-cm.done // bounded: the flush has its own timeout
			errs[i] = cm.err
		}
	}
	return errs, nil
}

// update applies one mod; typ is its OpenFlow error type (for a refusal
// by a device: see pushed).
func (m *Manager) update(ctx context.Context, ldID string, typ uint16, plan func(*flowtable.Table) (flowtable.Changes, error)) error {
	cm, err := m.apply(ctx, ldID, typ, nil, plan)
	if cm == nil {
		return err
	}
	<-cm.done // bounded: the flush has its own timeout
	return cm.err
}

// apply plans one mod and applies it in memory; the commit it returns (nil
// when the mod changes nothing or fails) is done once stored. refusal is
// set on a mod that takes back one a device refused.
func (m *Manager) apply(ctx context.Context, ldID string, typ uint16, refusal *voltv1.FlowRefusal, plan func(*flowtable.Table) (flowtable.Changes, error)) (*commit, error) {
	l, err := m.lock(ctx, ldID)
	if err != nil {
		return nil, err
	}
	cm, err := m.stepLocked(l, typ, refusal, plan)
	m.startFlushLocked(l)
	l.mu.Unlock()
	return cm, err
}

// pushed is the Push done function of cm's delta to device dev. A mod is
// answered once stored, before its devices have it (a controller's
// flow-mods would otherwise wait for every adapter in turn); when a
// device's adapter then refuses its part (the device cannot do it), the
// mod is taken back, and the change events of that carry the refusal,
// which the OpenFlow agent answers the flow-mod with (an OpenFlow error
// with its xid).
func (m *Manager) pushed(ldID string, cm *commit, dev string) func(error) {
	return func(err error) {
		if err == nil || cm.refusal != nil {
			return // an undo is not undone: it leaves the device as it was
		}
		cm.refused.Do(func() { m.takeBack(ldID, cm, dev, err) })
	}
}

// takeBack undoes cm, which device dev refused with err, in the
// background, with the refusal on the events.
func (m *Manager) takeBack(ldID string, cm *commit, dev string, err error) {
	m.log.Info("a device refused a mod: taking it back", "logical_device", ldID, "device", dev, "err", err)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		typ := cm.typ
		if typ == 0 { // a mod of the core's own (a port's flows removed)
			typ = flowtable.ErrTypeFlowMod
		}
		e := flowtable.DeviceRefused(typ, dev, err)
		err := m.undo(ldID, cm, &voltv1.FlowRefusal{DeviceId: dev, ErrorType: uint32(e.Type), ErrorCode: uint32(e.Code), Message: e.Error()})
		if err != nil {
			// The store did not take the undo: the refused flows stay in
			// the tables. The device's tables go again shortly; refused,
			// they are split (refused.go), which takes those flows back
			// once the store answers.
			m.log.Warn("a mod a device refused was not taken back; the device's tables go again", "logical_device", ldID, "device", dev, "err", err)
			time.AfterFunc(undoRetry, func() { m.push.Resend(dev) })
		}
	}()
}

// undoRetry is how long after an undo the store refused the device's
// tables go again.
const undoRetry = time.Second

// undo takes a refused mod back, as far as later mods left its changes in
// place (flowtable.Table.PlanUndo), with the refusal on its events.
func (m *Manager) undo(ldID string, cm *commit, r *voltv1.FlowRefusal) error {
	ctx, cancel := context.WithTimeout(m.ctx, flushTimeout)
	defer cancel()
	back, err := m.apply(ctx, ldID, cm.typ, r, func(t *flowtable.Table) (flowtable.Changes, error) { return t.PlanUndo(cm.changes), nil })
	if back != nil {
		<-back.done
		err = back.err
	}
	return err
}

// stepLocked plans one mod and applies it in memory; the commit it returns
// (nil when the mod changes nothing or fails) is done once stored. typ
// and refusal: see apply.
func (m *Manager) stepLocked(l *ld, typ uint16, refusal *voltv1.FlowRefusal, plan func(*flowtable.Table) (flowtable.Changes, error)) (*commit, error) {
	c, err := plan(l.table)
	if err != nil {
		return nil, fmt.Errorf("logical device %s: %w", l.id, err)
	}
	if c.Empty() {
		return nil, nil
	}
	cm, err := m.applyLocked(l, c)
	if cm != nil {
		cm.typ, cm.refusal = typ, refusal
	}
	return cm, err
}

// startFlushLocked starts storing the queued mods, unless a flush is
// already at it.
func (m *Manager) startFlushLocked(l *ld) {
	if len(l.queue) > 0 && !l.flushing {
		l.flushing = true
		m.wg.Add(1)
		go m.flush(l)
	}
}

// commit is one mod waiting to be stored: its writes, and what to push and
// announce once they are stored.
type commit struct {
	ops     []kvstore.Op
	bytes   int // of ops
	delta   map[string]*Delta
	changes flowtable.Changes
	final   map[uint64]*openflowv1.Flow // removed flows with their last counts
	done    chan struct{}
	err     error
	typ     uint16              // the mod's OpenFlow error type
	refusal *voltv1.FlowRefusal // on a mod that takes back a refused one: on its events
	refused sync.Once           // a device refused the mod: it is taken back once
}

// applyLocked decomposes planned changes, applies them to the in-memory
// tables and queues their writes. Later mods plan on top of them; if the
// store then refuses the writes, the logical device is reloaded from the
// store and every queued mod fails.
func (m *Manager) applyLocked(l *ld, c flowtable.Changes) (*commit, error) {
	gs, ms := l.table.GroupsAfter(c), l.table.MetersAfter(c)
	stampInstall(c, m.now())
	added := make(map[uint64]flowdecomp.Rules, len(c.Added))
	if len(c.Added) > 0 {
		d, err := m.decomposerLocked(l)
		if err != nil {
			return nil, err
		}
		for _, f := range c.Added {
			rules, err := d.DecomposeFlow(f, gs, ms)
			if err != nil {
				return nil, fmt.Errorf("logical device %s: %w", l.id, err)
			}
			added[f.GetId()] = rules
		}
	}
	var removed []flowdecomp.Rules
	for _, f := range c.Removed {
		if r, ok := l.rules[f.GetId()]; ok {
			removed = append(removed, r)
		}
	}
	delta := m.deltaLocked(l, removed, added)
	ops, err := m.ops(l.id, c)
	if err != nil {
		return nil, err
	}

	final := m.finalCountsLocked(l, c)
	l.table.Apply(c)
	for _, f := range c.Removed {
		delete(l.rules, f.GetId())
	}
	for _, r := range removed {
		m.count(l, r, -1)
	}
	for id, r := range added {
		l.rules[id] = r
		m.count(l, r, +1)
	}
	cm := &commit{ops: ops, bytes: kvstore.OpsBytes(ops), delta: delta, changes: c, final: final, done: make(chan struct{})}
	l.queue = append(l.queue, cm)
	return cm, nil
}

// flush stores the queued mods of a logical device, as many whole mods per
// store transaction as fit (group commit), then pushes and announces them
// in order.
func (m *Manager) flush(l *ld) {
	defer m.wg.Done()
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.flushing = false
			l.mu.Unlock()
			return
		}
		n, total, bytes, most := 0, 0, 0, m.cfg.Store.KV.MaxBatch()
		for n < len(l.queue) {
			cm := l.queue[n]
			if n > 0 && (total+len(cm.ops) > most || bytes+cm.bytes > kvstore.MaxTxnBytes) {
				break
			}
			total, bytes, n = total+len(cm.ops), bytes+cm.bytes, n+1
		}
		batch := l.queue[:n:n]
		l.queue = l.queue[n:]
		l.mu.Unlock()

		ops := mergeOps(batch, total)
		ctx, cancel := context.WithTimeout(m.ctx, flushTimeout)
		err := m.cfg.Store.KV.Batch(ctx, ops)
		cancel()
		if err != nil {
			err = fmt.Errorf("logical device %s: persist flows: %w", l.id, err)
			l.mu.Lock()
			// Memory ran ahead of the store: start again from the store.
			batch = append(batch, l.queue...)
			l.queue = nil
			l.loaded = false
			l.routes, l.dec = nil, nil
			l.mu.Unlock()
			for _, cm := range batch {
				cm.err = err
				close(cm.done)
			}
			continue
		}
		for _, cm := range batch {
			for dev, d := range cm.delta {
				m.push.Push(dev, d, m.pushed(l.id, cm, dev))
			}
			m.publish(l.id, cm.changes, cm.final, cm.refusal)
			close(cm.done)
		}
	}
}

// mergeOps joins the writes of several commits into one transaction. A key
// written by more than one takes the last write only: etcd refuses a
// transaction that names a key twice, and the last write is what the
// commits leave behind.
func mergeOps(batch []*commit, total int) []kvstore.Op {
	if len(batch) == 1 {
		return batch[0].ops
	}
	ops := make([]kvstore.Op, 0, total)
	at := make(map[string]int, total)
	for _, cm := range batch {
		for _, op := range cm.ops {
			if i, ok := at[op.Key]; ok {
				ops[i] = op
				continue
			}
			at[op.Key] = len(ops)
			ops = append(ops, op)
		}
	}
	return ops
}

// flushTimeout bounds one store transaction of queued mods.
const flushTimeout = 10 * time.Second

// Delta is what changes on one device.
type Delta struct {
	AddFlows     []*openflowv1.Flow
	RemoveFlows  []*openflowv1.Flow
	AddGroups    []*openflowv1.GroupDesc
	RemoveGroups []*openflowv1.GroupDesc
	AddMeters    []*openflowv1.MeterConfig
	RemoveMeters []*openflowv1.MeterConfig
}

// deltaLocked works out, without changing anything, which device flows,
// groups and meters appear (count 0 → >0) or go (>0 → 0).
func (m *Manager) deltaLocked(l *ld, removed []flowdecomp.Rules, added map[uint64]flowdecomp.Rules) map[string]*Delta {
	type net struct {
		n    int
		flow *openflowv1.Flow
	}
	flows := map[string]map[uint64]*net{}
	groups := map[string]map[uint32]int{}
	meters := map[string]map[uint32]int{}
	groupDesc := map[uint32]*openflowv1.GroupDesc{}
	meterCfg := map[uint32]*openflowv1.MeterConfig{}
	tally := func(r flowdecomp.Rules, sign int) {
		for dev, dr := range r {
			if flows[dev] == nil {
				flows[dev], groups[dev], meters[dev] = map[uint64]*net{}, map[uint32]int{}, map[uint32]int{}
			}
			for _, f := range dr.Flows {
				e := flows[dev][f.GetId()]
				if e == nil {
					e = &net{}
					flows[dev][f.GetId()] = e
				}
				e.n += sign
				if sign > 0 || e.flow == nil {
					e.flow = f
				}
			}
			for _, g := range dr.Groups {
				groups[dev][g.GetGroupId()] += sign
				groupDesc[g.GetGroupId()] = g
			}
			for _, mc := range dr.Meters {
				meters[dev][mc.GetMeterId()] += sign
				meterCfg[mc.GetMeterId()] = mc
			}
		}
	}
	for _, r := range removed {
		tally(r, -1)
	}
	for _, r := range added {
		tally(r, +1)
	}
	out := map[string]*Delta{}
	d := func(dev string) *Delta {
		if out[dev] == nil {
			out[dev] = &Delta{}
		}
		return out[dev]
	}
	for dev, fs := range flows {
		dt := l.devices[dev]
		for id, e := range fs {
			cur := 0
			var old *openflowv1.Flow
			if dt != nil && dt.flows[id] != nil {
				cur, old = dt.flows[id].n, dt.flows[id].v
			}
			switch next := cur + e.n; {
			case cur == 0 && next > 0:
				d(dev).AddFlows = append(d(dev).AddFlows, e.flow)
			case cur > 0 && next <= 0:
				d(dev).RemoveFlows = append(d(dev).RemoveFlows, old)
			}
		}
		for id, n := range groups[dev] {
			cur := 0
			if dt != nil && dt.groups[id] != nil {
				cur = dt.groups[id].n
			}
			if cur == 0 && cur+n > 0 {
				d(dev).AddGroups = append(d(dev).AddGroups, groupDesc[id])
			} else if cur > 0 && cur+n <= 0 {
				d(dev).RemoveGroups = append(d(dev).RemoveGroups, dt.groups[id].v)
			}
		}
		for id, n := range meters[dev] {
			cur := 0
			if dt != nil && dt.meters[id] != nil {
				cur = dt.meters[id].n
			}
			if cur == 0 && cur+n > 0 {
				d(dev).AddMeters = append(d(dev).AddMeters, meterCfg[id])
			} else if cur > 0 && cur+n <= 0 {
				d(dev).RemoveMeters = append(d(dev).RemoveMeters, dt.meters[id].v)
			}
		}
	}
	return out
}

// count adds sign to the counts of everything rules ask of each device.
func (m *Manager) count(l *ld, rules flowdecomp.Rules, sign int) {
	for dev, dr := range rules {
		dt := l.devices[dev]
		if dt == nil {
			dt = newDeviceTable()
			l.devices[dev] = dt
		}
		for _, f := range dr.Flows {
			if bump(dt.flows, f.GetId(), f, sign) && m.cfg.FlowRemoved != nil {
				m.cfg.FlowRemoved(dev, f.GetId())
			}
		}
		for _, g := range dr.Groups {
			bump(dt.groups, g.GetGroupId(), g, sign)
		}
		for _, mc := range dr.Meters {
			bump(dt.meters, mc.GetMeterId(), mc, sign)
		}
	}
}

// bump counts one more (sign 1) or one fewer (-1) logical flow asking
// for k; gone says no logical flow asks for it any more.
func bump[K comparable, T any](m map[K]*counted[T], k K, v T, sign int) (gone bool) {
	c := m[k]
	if c == nil {
		c = &counted[T]{}
		m[k] = c
	}
	c.n += sign
	if sign > 0 {
		c.v = v
	}
	if c.n <= 0 {
		delete(m, k)
		return true
	}
	return false
}

func flowKey(owner string, id uint64) string { return fmt.Sprintf("%s/%016x", owner, id) }
func idKey(owner string, id uint32) string   { return fmt.Sprintf("%s/%010d", owner, id) }

// ops are the store writes of a change: the logical tables' entries.
func (m *Manager) ops(ldID string, c flowtable.Changes) ([]kvstore.Op, error) {
	st := m.cfg.Store
	var ops []kvstore.Op
	put := func(op kvstore.Op, err error) error {
		if err == nil {
			ops = append(ops, op)
		}
		return err
	}
	added := map[string]bool{}
	for _, f := range c.Added {
		added[flowKey(ldID, f.GetId())] = true
	}
	for _, f := range c.Removed {
		if k := flowKey(ldID, f.GetId()); !added[k] {
			ops = append(ops, st.Flows.DeleteOp(k))
		}
	}
	for _, f := range c.Added {
		if err := put(st.Flows.PutOp(flowKey(ldID, f.GetId()), f)); err != nil {
			return nil, err
		}
	}
	readded := map[string]bool{}
	for _, g := range c.GroupsAdded {
		readded[idKey(ldID, g.GetGroupId())] = true
	}
	for _, g := range c.GroupsRemoved {
		if k := idKey(ldID, g.GetGroupId()); !readded[k] {
			ops = append(ops, st.Groups.DeleteOp(k))
		}
	}
	for _, g := range c.GroupsAdded {
		if err := put(st.Groups.PutOp(idKey(ldID, g.GetGroupId()), g)); err != nil {
			return nil, err
		}
	}
	for _, mc := range c.MetersAdded {
		readded["m/"+idKey(ldID, mc.GetMeterId())] = true
	}
	for _, mc := range c.MetersRemoved {
		if k := idKey(ldID, mc.GetMeterId()); !readded["m/"+k] {
			ops = append(ops, st.Meters.DeleteOp(k))
		}
	}
	for _, mc := range c.MetersAdded {
		if err := put(st.Meters.PutOp(idKey(ldID, mc.GetMeterId()), mc)); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// publish announces c; final has the removed flows with their last counts.
func (m *Manager) publish(ldID string, c flowtable.Changes, final map[uint64]*openflowv1.Flow, refusal *voltv1.FlowRefusal) {
	if m.log.Enabled(context.Background(), slog.LevelDebug) {
		for _, f := range c.Added {
			m.log.Debug("flow added", "logical_device", ldID, "flow", flowtext.FormatFlow(f))
		}
		for _, f := range c.Removed {
			m.log.Debug("flow removed", "logical_device", ldID, "flow", flowtext.FormatFlow(f))
		}
		for _, g := range c.GroupsAdded {
			m.log.Debug("group added or modified", "logical_device", ldID, "group", flowtext.FormatGroup(g))
		}
		for _, g := range c.GroupsRemoved {
			m.log.Debug("group removed", "logical_device", ldID, "group_id", g.GetGroupId())
		}
		for _, mc := range c.MetersAdded {
			m.log.Debug("meter added or modified", "logical_device", ldID, "meter", flowtext.FormatMeter(mc))
		}
		for _, mc := range c.MetersRemoved {
			m.log.Debug("meter removed", "logical_device", ldID, "meter_id", mc.GetMeterId())
		}
	}
	if m.cfg.Events == nil {
		return
	}
	ev := func(p any) {
		e := &voltv1.Event{LogicalDeviceId: ldID}
		switch p := p.(type) {
		case *voltv1.FlowChange:
			e.Payload = &voltv1.Event_Flow{Flow: p}
		case *voltv1.GroupChange:
			e.Payload = &voltv1.Event_Group{Group: p}
		case *voltv1.MeterChange:
			e.Payload = &voltv1.Event_Meter{Meter: p}
		}
		m.cfg.Events.Publish(e)
	}
	added := map[uint64]bool{}
	for _, f := range c.Added {
		added[f.GetId()] = true
	}
	for _, f := range c.Removed {
		if !added[f.GetId()] {
			if fin := final[f.GetId()]; fin != nil {
				f = fin
			}
			ev(&voltv1.FlowChange{Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Flow: f, RemovedReason: openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_DELETE, Refusal: refusal})
		}
	}
	removed := map[uint64]bool{}
	for _, f := range c.Removed {
		removed[f.GetId()] = true
	}
	for _, f := range c.Added {
		kind := voltv1.ChangeKind_CHANGE_KIND_ADDED
		if removed[f.GetId()] {
			kind = voltv1.ChangeKind_CHANGE_KIND_MODIFIED
		}
		ev(&voltv1.FlowChange{Kind: kind, Flow: f, Refusal: refusal})
	}
	for _, g := range c.GroupsRemoved {
		ev(&voltv1.GroupChange{Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Group: g})
	}
	for _, g := range c.GroupsAdded {
		ev(&voltv1.GroupChange{Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED, Group: g})
	}
	for _, mc := range c.MetersRemoved {
		ev(&voltv1.MeterChange{Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Meter: mc})
	}
	for _, mc := range c.MetersAdded {
		ev(&voltv1.MeterChange{Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED, Meter: mc})
	}
}

// stampInstall sets the install time of the flows c adds: now for a new
// flow, the old one's for a flow that replaces one with its id (a modify,
// or an add of an identical flow), so its duration goes on.
func stampInstall(c flowtable.Changes, now time.Time) {
	if len(c.Added) == 0 {
		return
	}
	old := make(map[uint64]int64, len(c.Removed))
	for _, f := range c.Removed {
		old[f.GetId()] = f.GetInstallTimeUnixNano()
	}
	for _, f := range c.Added {
		if t, ok := old[f.GetId()]; ok && t != 0 {
			f.InstallTimeUnixNano = t
		} else if f.GetInstallTimeUnixNano() == 0 {
			f.InstallTimeUnixNano = now.UnixNano()
		}
	}
}

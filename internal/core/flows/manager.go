// Package flows owns the flow, group and meter tables of every logical
// device: it applies OpenFlow mods (flowtable), decomposes each logical
// flow into device flows (flowdecomp over the routes of route), persists
// the logical tables, and pushes the device flows to the adapters.
//
// Only the logical tables are stored: the device flows, groups and meters
// are a function of them and of the topology, worked out again when a
// logical device's tables load, and read from memory (DeviceTables).
//
// A mod is planned, decomposed and written to the store before it takes
// effect, so a mod that cannot be decomposed, or a store that fails, leaves
// the tables as they were. Pushing to adapters happens after the call
// returns, through one pusher per device that coalesces changes; a device
// that is reconciled gets its whole table again.
//
// Lock order: Manager.mu, then a logical device's mu; pusher.mu last.
package flows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
	"github.com/openvolt/openvolt/internal/core/flowtable"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/store"
)

// NTables is the number of flow tables a logical device has.
const NTables = 2

// Topology gives the route snapshot of a logical device: its logical ports
// and the ports of the devices behind them. It fails with NotFound for an
// unknown logical device.
type Topology func(ldID string) (route.Snapshot, error)

// Publisher takes change events.
type Publisher interface{ Publish(*voltv1.Event) }

// Config wires a Manager.
type Config struct {
	Store *store.Store
	// Exists checks that a logical device exists (NotFound if not): cheap,
	// on every mod, unlike Topology, which is read only when the routes
	// must be built again.
	Exists   func(ldID string) error
	Topology Topology
	// Push makes, from the manager's own reads of a device's whole tables
	// (TablesOfDevice, for a reconcile), what sends the device flows to
	// the adapters (NewAdapterPushers). The manager owns and closes it.
	Push   func(tables func(ctx context.Context, deviceID string) (DeviceTables, error)) Senders
	Events Publisher
	// Devices reads the devices behind logical ports; SendPacketOut sends
	// a frame out of one through its adapter.
	Devices       Devices
	SendPacketOut PacketOutSender
	// FlowRemoved, if set, hears of each device flow that no logical flow
	// asks for any more (its counters go with it). It runs with a logical
	// device's lock held: it must not call the Manager.
	FlowRemoved func(deviceID string, flowID uint64)
	// FlowCounts, if set, gives a device flow's counts, for the last
	// counts of a removed logical flow (its flow-removed event). Same
	// lock rule as FlowRemoved.
	FlowCounts func(deviceID string, flowID uint64) (packets, bytes uint64, ok bool)
	// Now is the clock of install times (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Senders are the Pushers a Manager owns: it sends a device's whole
// tables again when the device was reconciled, and closes them.
type Senders interface {
	Pushers
	Resend(deviceID string)
	Close()
}

// Manager holds the tables of every logical device.
type Manager struct {
	cfg  Config
	log  *slog.Logger
	push Senders

	ctx    context.Context // ends the flushes (Close)
	cancel context.CancelFunc
	wg     sync.WaitGroup // the flush goroutines

	mu  sync.Mutex // guards lds
	lds map[string]*ld
}

// ld is one logical device's tables and the device flows they make.
type ld struct {
	id string

	mu       sync.Mutex // serialises mods; guards everything below
	loaded   bool
	queue    []*commit // applied in memory, waiting for the store
	flushing bool      // a flush goroutine owns queue
	table    *flowtable.Table
	routes   *route.Routes          // nil: rebuild before use
	dec      *flowdecomp.Decomposer // over routes
	rules    map[uint64]flowdecomp.Rules
	devices  map[string]*deviceTable
}

// deviceTable is what the logical flows ask of one device, with a count of
// the logical flows that ask for each flow, group and meter.
type deviceTable struct {
	flows  map[uint64]*counted[*openflowv1.Flow]
	groups map[uint32]*counted[*openflowv1.GroupDesc]
	meters map[uint32]*counted[*openflowv1.MeterConfig]
}

type counted[T any] struct {
	v T
	n int
}

func newDeviceTable() *deviceTable {
	return &deviceTable{
		flows:  map[uint64]*counted[*openflowv1.Flow]{},
		groups: map[uint32]*counted[*openflowv1.GroupDesc]{},
		meters: map[uint32]*counted[*openflowv1.MeterConfig]{},
	}
}

// New returns a manager; tables load from the store on first use.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Exists == nil || cfg.Topology == nil || cfg.Push == nil {
		return nil, errors.New("flows: Store, Exists, Topology and Push are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{cfg: cfg, log: log, ctx: ctx, cancel: cancel, lds: map[string]*ld{}}
	m.push = cfg.Push(m.TablesOfDevice)
	return m, nil
}

func (m *Manager) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// Resend sends a device's whole tables to its adapter again (after the
// adapter reconciled the device).
func (m *Manager) Resend(deviceID string) { m.push.Resend(deviceID) }

// Close waits for queued mods to be stored (or to fail) and stops, then
// closes its senders.
func (m *Manager) Close() {
	m.wg.Wait()
	m.cancel()
	m.push.Close()
}

func (m *Manager) get(id string) *ld {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.lds[id]
	if l == nil {
		l = &ld{id: id}
		m.lds[id] = l
	}
	return l
}

// lock returns the logical device's state, loaded and locked.
func (m *Manager) lock(ctx context.Context, id string) (*ld, error) {
	if id == "" {
		return nil, coreerr.New(coreerr.ErrInvalidArgument, "logical device id is required")
	}
	if err := m.cfg.Exists(id); err != nil {
		return nil, err
	}
	l := m.get(id)
	l.mu.Lock()
	if !l.loaded {
		if err := m.loadLocked(ctx, l); err != nil {
			l.mu.Unlock()
			return nil, err
		}
	}
	return l, nil
}

// TopologyChanged drops the cached routes of a logical device (a port came
// or went); the next mod rebuilds them.
func (m *Manager) TopologyChanged(ldID string) {
	m.mu.Lock()
	l := m.lds[ldID]
	m.mu.Unlock()
	if l == nil {
		return
	}
	l.mu.Lock()
	l.routes, l.dec = nil, nil
	l.mu.Unlock()
}

// Cached returns the ids of the logical devices whose state is held.
func (m *Manager) Cached() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.lds))
	for id := range m.lds {
		ids = append(ids, id)
	}
	return ids
}

// Forget drops a removed logical device's state (its stored tables are
// removed with it).
func (m *Manager) Forget(ldID string) {
	m.mu.Lock()
	delete(m.lds, ldID)
	m.mu.Unlock()
}

func (m *Manager) decomposerLocked(l *ld) (*flowdecomp.Decomposer, error) {
	if l.dec != nil {
		return l.dec, nil
	}
	snap, err := m.cfg.Topology(l.id)
	if err != nil {
		return nil, err
	}
	r, err := route.Build(snap)
	if err != nil {
		return nil, fmt.Errorf("routes of logical device %s: %w", l.id, err)
	}
	l.routes, l.dec = r, flowdecomp.New(r)
	return l.dec, nil
}

// loadLocked reads the stored tables and works out the device flows again.
func (m *Manager) loadLocked(ctx context.Context, l *ld) error {
	st := m.cfg.Store
	flows, err := st.Flows.ListGroup(ctx, l.id)
	if err != nil {
		return err
	}
	groups, err := st.Groups.ListGroup(ctx, l.id)
	if err != nil {
		return err
	}
	meters, err := st.Meters.ListGroup(ctx, l.id)
	if err != nil {
		return err
	}
	l.table = flowtable.New(NTables)
	l.table.Load(flows, groups, meters)
	l.rules = map[uint64]flowdecomp.Rules{}
	l.devices = map[string]*deviceTable{}
	if len(flows) > 0 {
		d, err := m.decomposerLocked(l)
		if err != nil {
			return err
		}
		gs, ms := byGroupID(groups), byMeterID(meters)
		for _, f := range flows {
			rules, err := d.DecomposeFlow(f, gs, ms)
			if err != nil {
				// The topology moved on (an ONU went away): keep the
				// logical flow, give the devices nothing for it.
				m.log.Warn("stored flow no longer decomposes", "logical_device", l.id, "flow", f.GetId(), "err", err)
				continue
			}
			l.rules[f.GetId()] = rules
			m.count(l, rules, +1)
		}
	}
	l.loaded = true
	return nil
}

// DeviceTables is what the logical flows ask of one device.
type DeviceTables struct {
	Flows  []*openflowv1.Flow
	Groups []*openflowv1.GroupDesc
	Meters []*openflowv1.MeterConfig
	// Units, if set, splits the tables by logical flow, for an adapter
	// that refused them whole (refused.go).
	Units func(context.Context) ([]Unit, error)
}

// DeviceTables returns what the logical flows of logical device ldID ask
// of device deviceID, each list in id order. The entries are shared: read
// them, never change them.
func (m *Manager) DeviceTables(ctx context.Context, ldID, deviceID string) (DeviceTables, error) {
	l, err := m.lock(ctx, ldID)
	if err != nil {
		return DeviceTables{}, err
	}
	defer l.mu.Unlock()
	var out DeviceTables
	dt := l.devices[deviceID]
	if dt == nil {
		return out, nil
	}
	out.Flows = sortedValues(dt.flows)
	out.Groups = sortedValues(dt.groups)
	out.Meters = sortedValues(dt.meters)
	return out, nil
}

func sortedValues[K cmp.Ordered, T any](m map[K]*counted[T]) []T {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = m[k].v
	}
	return out
}

func byGroupID(gs []*openflowv1.GroupDesc) map[uint32]*openflowv1.GroupDesc {
	out := make(map[uint32]*openflowv1.GroupDesc, len(gs))
	for _, g := range gs {
		out[g.GetGroupId()] = g
	}
	return out
}

func byMeterID(ms []*openflowv1.MeterConfig) map[uint32]*openflowv1.MeterConfig {
	out := make(map[uint32]*openflowv1.MeterConfig, len(ms))
	for _, mc := range ms {
		out[mc.GetMeterId()] = mc
	}
	return out
}

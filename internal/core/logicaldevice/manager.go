// Package logicaldevice builds and keeps the logical devices: one OpenFlow
// switch per root (OLT) device, with a root port per NNI of the OLT and a
// port per UNI of each active ONU behind it. The device manager drives it
// through device.Logical; the NBI reads it and enables or disables ports.
//
// Every change is written to the store first, then made visible, then
// announced as an Event. Snapshots handed out (and published) are never
// modified: a change stores a new message.
//
// Lock order: Manager.createMu, then a logical device's locks (see
// logical), then Manager.mu, which is held only to read or change the
// maps and never while waiting for anything else.
package logicaldevice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/store"
)

// Devices is what the logical side reads of the devices. Snapshots it
// returns are immutable.
type Devices interface {
	// Device returns a device or a NotFound error.
	Device(id string) (*voltv1.Device, error)
	// Ports returns the device's ports or a NotFound error.
	Ports(id string) ([]*voltv1.Port, error)
	Children(parentID string) []*voltv1.Device
}

// Publisher takes change events; Publish must not block.
type Publisher interface {
	Publish(*voltv1.Event)
}

// Config wires a Manager. Store and Devices are required.
type Config struct {
	Store   *store.Store
	Devices Devices
	Events  Publisher    // nil: events are dropped
	Logger  *slog.Logger // nil: discard
}

func (c Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("logicaldevice: Config.Store is required"))
	}
	if c.Devices == nil {
		errs = append(errs, errors.New("logicaldevice: Config.Devices is required"))
	}
	return errors.Join(errs...)
}

// Manager owns every logical device. It implements device.Logical.
type Manager struct {
	store   *store.Store
	devices Devices
	events  Publisher
	log     *slog.Logger

	// createMu serialises creating logical devices, so a root that turns
	// ACTIVE twice in quick succession still gets exactly one.
	createMu sync.Mutex

	mu     sync.RWMutex        // guards lds and byRoot (the maps, not what they point to)
	lds    map[string]*logical // logical device id → logical device
	byRoot map[string]*logical // root device id → its logical device
}

// New returns an empty manager; call Load to restore the stored state.
func New(cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Events == nil {
		cfg.Events = discard{}
	}
	return &Manager{
		store:   cfg.Store,
		devices: cfg.Devices,
		events:  cfg.Events,
		log:     cfg.Logger,
		lds:     make(map[string]*logical),
		byRoot:  make(map[string]*logical),
	}, nil
}

type discard struct{}

func (discard) Publish(*voltv1.Event) {}

// Load replaces the in-memory state with every logical device and logical
// port in the store. Call it at start, before the manager is used.
func (m *Manager) Load(ctx context.Context) error {
	lds, err := m.store.LogicalDevices.List(ctx)
	if err != nil {
		return fmt.Errorf("load logical devices: %w", err)
	}
	byID := make(map[string]*logical, len(lds))
	byRoot := make(map[string]*logical, len(lds))
	for _, ld := range lds {
		l := newLogical(ld)
		ports, err := m.store.LogicalPorts.ListGroup(ctx, ld.GetId())
		if err != nil {
			return fmt.Errorf("load ports of logical device %s: %w", ld.GetId(), err)
		}
		for _, lp := range ports {
			l.setPortLocked(lp) // l is not shared yet
		}
		byID[l.id] = l
		byRoot[l.root] = l
	}
	m.mu.Lock()
	m.lds, m.byRoot = byID, byRoot
	m.mu.Unlock()
	m.log.Info("logical devices loaded", "count", len(lds))
	return nil
}

func notFound(id string) error {
	return coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("logical device %q not found", id))
}

func (m *Manager) byID(id string) (*logical, error) {
	m.mu.RLock()
	l := m.lds[id]
	m.mu.RUnlock()
	if l == nil {
		return nil, notFound(id)
	}
	return l, nil
}

func (m *Manager) rootLogical(rootID string) *logical {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.byRoot[rootID]
}

// logicalOf returns the logical device dev's logical ports belong to (nil
// when there is none yet).
func (m *Manager) logicalOf(dev *voltv1.Device) *logical {
	if dev.GetRoot() {
		return m.rootLogical(dev.GetId())
	}
	return m.rootLogical(dev.GetParentId())
}

// List returns every logical device sorted by id.
func (m *Manager) List() []*voltv1.LogicalDevice {
	m.mu.RLock()
	ls := make([]*logical, 0, len(m.lds))
	for _, l := range m.lds {
		ls = append(ls, l)
	}
	m.mu.RUnlock()
	out := make([]*voltv1.LogicalDevice, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.device())
	}
	slices.SortFunc(out, func(a, b *voltv1.LogicalDevice) int { return strings.Compare(a.GetId(), b.GetId()) })
	return out
}

// Get returns a logical device or an error wrapping coreerr.ErrNotFound.
func (m *Manager) Get(id string) (*voltv1.LogicalDevice, error) {
	l, err := m.byID(id)
	if err != nil {
		return nil, err
	}
	return l.device(), nil
}

// Ports returns the ports of a logical device sorted by port number.
func (m *Manager) Ports(id string) ([]*voltv1.LogicalPort, error) {
	l, err := m.byID(id)
	if err != nil {
		return nil, err
	}
	return l.portList(), nil
}

// Port returns one port of a logical device.
func (m *Manager) Port(ldID, portID string) (*voltv1.LogicalPort, error) {
	l, err := m.byID(ldID)
	if err != nil {
		return nil, err
	}
	lp := l.port(portID)
	if lp == nil {
		return nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("logical device %q has no port %q", ldID, portID))
	}
	return lp, nil
}

// ByRoot returns the id of the logical device built from a root device.
func (m *Manager) ByRoot(rootID string) (string, bool) {
	if l := m.rootLogical(rootID); l != nil {
		return l.id, true
	}
	return "", false
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b[:])
}

func (m *Manager) publishDevice(kind voltv1.ChangeKind, ld *voltv1.LogicalDevice) {
	m.events.Publish(&voltv1.Event{
		DeviceId:        ld.GetRootDeviceId(),
		LogicalDeviceId: ld.GetId(),
		Payload: &voltv1.Event_LogicalDevice{LogicalDevice: &voltv1.LogicalDeviceChange{
			Kind:          kind,
			LogicalDevice: ld,
		}},
	})
}

func (m *Manager) publishPort(kind voltv1.ChangeKind, lp *voltv1.LogicalPort) {
	m.events.Publish(&voltv1.Event{
		DeviceId:        lp.GetDeviceId(),
		LogicalDeviceId: lp.GetLogicalDeviceId(),
		Payload: &voltv1.Event_LogicalPort{LogicalPort: &voltv1.LogicalPortChange{
			Kind: kind,
			Port: lp,
		}},
	})
}

// Package nbitest is a core for tests of the NBI's clients (the CLI, the
// OpenFlow agent): the real NBI server (nbi.Server, with its validation,
// status codes and event filters) in front of tables a test fills and
// reads instead of device and logical-device managers. The conformance
// test beside it runs the same calls against a Fake and a real core.
package nbitest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/nbi"
)

// Fake is the core's state as plain tables. A test may fill the tables it
// needs in a literal (&Fake{Devices: …}); New or serving fills the rest.
// Hold its lock (Lock, Unlock) to read or change the fields while it
// serves.
type Fake struct {
	sync.Mutex

	Devices      map[string]*voltv1.Device
	Ports        map[string][]*voltv1.Port
	Logical      map[string]*voltv1.LogicalDevice
	LogicalPorts map[string][]*voltv1.LogicalPort
	// Flows, Groups and Meters are by device or logical device id.
	Flows    map[string][]*openflowv1.Flow
	Groups   map[string][]*openflowv1.Group
	Meters   map[string][]*openflowv1.Meter
	Adapters []*voltv1.Adapter
	Types    []*voltv1.DeviceType
	// MIBs and OMCIStats are OMCI ONU records by device id, as the
	// omci_onu adapter stores them (JSON).
	MIBs      map[string][]byte
	OMCIStats map[string][]byte

	// Replay is sent first on every change-event stream it matches, as if
	// it had just happened. With EndEvents set a change-event stream ends
	// after it (the client sees EOF), or, with EndWith, fails at once
	// with EndWith.
	Replay    []*voltv1.Event
	EndEvents bool
	EndWith   error

	// FlowHook, when set, runs before a flow-mod is applied (outside the
	// lock); an error refuses the mod. CountOnly makes flow-mods only
	// count in FlowCount (benchmarks).
	FlowHook  func(ctx context.Context, req *voltv1.FlowTableUpdate) error
	CountOnly bool

	// What the core was asked: CreateDevice calls that passed the NBI's
	// checks, flow-mods applied, group and meter mods, packet-outs, port
	// changes ("enable ID", "disable ID"), flow-mods in a call not yet
	// done, and the size of each batch.
	Creates    int
	FlowCount  int
	FlowMods   []*voltv1.FlowTableUpdate
	GroupMods  []*voltv1.FlowGroupTableUpdate
	MeterMods  []*voltv1.MeterModUpdate
	PacketOuts []*voltv1.PacketOut
	PortCalls  []string
	InFlight   int
	Batches    []int

	subs map[*subscription]struct{}
}

// New returns an empty Fake.
func New() *Fake {
	f := &Fake{}
	f.init()
	return f
}

// init makes the tables a test left nil.
func (f *Fake) init() {
	f.Lock()
	defer f.Unlock()
	f.Devices = orEmpty(f.Devices)
	f.Ports = orEmpty(f.Ports)
	f.Logical = orEmpty(f.Logical)
	f.LogicalPorts = orEmpty(f.LogicalPorts)
	f.Flows = orEmpty(f.Flows)
	f.Groups = orEmpty(f.Groups)
	f.Meters = orEmpty(f.Meters)
	f.subs = orEmpty(f.subs)
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

func notFound(kind, id string) error {
	return coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("%s %q not found", kind, id))
}

func clones[T proto.Message](items []T) []T {
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = proto.Clone(it).(T)
	}
	return out
}

// sortedByID returns clones of the values of m, by id.
func sortedByID[T interface {
	proto.Message
	GetId() string
}](m map[string]T) []T {
	return clones(slices.SortedFunc(maps.Values(m), func(a, b T) int { return cmp.Compare(a.GetId(), b.GetId()) }))
}

// LogicalDevice is a logical device like the core's: two tables, an NNI and two
// UNIs.
func LogicalDevice(id string, dpid uint64) (*voltv1.LogicalDevice, []*voltv1.LogicalPort) {
	ld := &voltv1.LogicalDevice{
		Id: id, DatapathId: dpid, RootDeviceId: "olt-" + id,
		Desc: &openflowv1.Desc{MfrDesc: "OpenVOLT", HwDesc: "ponsim", SwDesc: "test", SerialNum: "S" + id, DpDesc: id},
		SwitchFeatures: &openflowv1.SwitchFeatures{
			DatapathId: dpid, NBuffers: 256, NTables: 2, Capabilities: 0xf,
		},
	}
	port := func(no uint32, name string, root bool) *voltv1.LogicalPort {
		return &voltv1.LogicalPort{
			Id: name, LogicalDeviceId: id, RootPort: root, DeviceId: "dev", DevicePortNo: no,
			OfpPort: &openflowv1.Port{
				PortNo: no, Name: name, HwAddr: []byte{0, 0, 0, 0, byte(no >> 8), byte(no)},
				State: 4, Curr: 1<<5 | 1<<12, CurrSpeed: 1000000, MaxSpeed: 1000000,
			},
			Stats: &openflowv1.PortStats{PortNo: no, RxPackets: uint64(no), TxPackets: 2 * uint64(no)},
		}
	}
	return ld, []*voltv1.LogicalPort{port(1, "nni-1", true), port(16, "uni-16", false), port(32, "uni-32", false)}
}

// AddLogical adds a logical device with its ports and tells the event
// streams.
func (f *Fake) AddLogical(ld *voltv1.LogicalDevice, ports []*voltv1.LogicalPort) {
	f.init()
	f.Lock()
	f.Logical[ld.GetId()] = ld
	f.LogicalPorts[ld.GetId()] = ports
	f.Unlock()
	f.Publish(&voltv1.Event{LogicalDeviceId: ld.GetId(), Payload: &voltv1.Event_LogicalDevice{
		LogicalDevice: &voltv1.LogicalDeviceChange{Kind: voltv1.ChangeKind_CHANGE_KIND_ADDED, LogicalDevice: ld}}})
}

// RemoveLogical removes a logical device and tells the event streams.
func (f *Fake) RemoveLogical(id string) {
	f.Lock()
	ld := f.Logical[id]
	delete(f.Logical, id)
	delete(f.LogicalPorts, id)
	f.Unlock()
	f.Publish(&voltv1.Event{LogicalDeviceId: id, Payload: &voltv1.Event_LogicalDevice{
		LogicalDevice: &voltv1.LogicalDeviceChange{Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, LogicalDevice: ld}}})
}

// devices is the device manager as the NBI sees it.
type devices struct{ f *Fake }

func (d devices) List(filter func(*voltv1.Device) bool) []*voltv1.Device {
	d.f.Lock()
	defer d.f.Unlock()
	all := sortedByID(d.f.Devices)
	return slices.DeleteFunc(all, func(dev *voltv1.Device) bool { return filter != nil && !filter(dev) })
}

func (d devices) deviceLocked(id string) (*voltv1.Device, error) {
	dev, ok := d.f.Devices[id]
	if !ok {
		return nil, notFound("device", id)
	}
	return dev, nil
}

func (d devices) Device(id string) (*voltv1.Device, error) {
	d.f.Lock()
	defer d.f.Unlock()
	dev, err := d.deviceLocked(id)
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(dev), nil
}

func (d devices) Ports(id string) ([]*voltv1.Port, error) {
	d.f.Lock()
	defer d.f.Unlock()
	if _, err := d.deviceLocked(id); err != nil {
		return nil, err
	}
	return clones(d.f.Ports[id]), nil
}

func (d devices) Create(_ context.Context, in *voltv1.Device) (*voltv1.Device, error) {
	d.f.Lock()
	defer d.f.Unlock()
	d.f.Creates++
	dev := proto.CloneOf(in)
	if dev.GetId() == "" {
		dev.Id = fmt.Sprintf("dev-%d", d.f.Creates)
	}
	if _, ok := d.f.Devices[dev.GetId()]; ok {
		return nil, coreerr.New(coreerr.ErrAlreadyExists, fmt.Sprintf("device %q already exists", dev.GetId()))
	}
	dev.AdminState = voltv1.AdminState_ADMIN_STATE_PREPROVISIONED
	d.f.Devices[dev.GetId()] = dev
	return proto.CloneOf(dev), nil
}

// setAdmin moves a device from one admin state to another, or fails as the
// core does when it is not in a state the operation needs.
func (d devices) setAdmin(id, op string, from []voltv1.AdminState, to voltv1.AdminState) error {
	d.f.Lock()
	defer d.f.Unlock()
	dev, err := d.deviceLocked(id)
	if err != nil {
		return err
	}
	if !slices.Contains(from, dev.GetAdminState()) {
		return coreerr.New(coreerr.ErrFailedPrecondition, fmt.Sprintf("cannot %s device %s: it is %s", op, id, dev.GetAdminState()))
	}
	dev.AdminState = to
	return nil
}

func (d devices) Enable(_ context.Context, id string) error {
	return d.setAdmin(id, "enable", []voltv1.AdminState{voltv1.AdminState_ADMIN_STATE_PREPROVISIONED,
		voltv1.AdminState_ADMIN_STATE_DISABLED}, voltv1.AdminState_ADMIN_STATE_ENABLED)
}

func (d devices) Disable(_ context.Context, id string) error {
	return d.setAdmin(id, "disable", []voltv1.AdminState{voltv1.AdminState_ADMIN_STATE_ENABLED},
		voltv1.AdminState_ADMIN_STATE_DISABLED)
}

func (d devices) Reboot(_ context.Context, id string) error {
	return d.setAdmin(id, "reboot", []voltv1.AdminState{voltv1.AdminState_ADMIN_STATE_ENABLED},
		voltv1.AdminState_ADMIN_STATE_ENABLED)
}

func (d devices) Delete(_ context.Context, id string) error {
	d.f.Lock()
	defer d.f.Unlock()
	if _, err := d.deviceLocked(id); err != nil {
		return err
	}
	delete(d.f.Devices, id)
	delete(d.f.Ports, id)
	return nil
}

// logical is the logical-device manager as the NBI sees it.
type logical struct{ f *Fake }

func (l logical) List() []*voltv1.LogicalDevice {
	l.f.Lock()
	defer l.f.Unlock()
	return sortedByID(l.f.Logical)
}

func (l logical) knownLocked(id string) error {
	if _, ok := l.f.Logical[id]; !ok {
		return notFound("logical device", id)
	}
	return nil
}

func (l logical) Get(id string) (*voltv1.LogicalDevice, error) {
	l.f.Lock()
	defer l.f.Unlock()
	if err := l.knownLocked(id); err != nil {
		return nil, err
	}
	return proto.CloneOf(l.f.Logical[id]), nil
}

func (l logical) Ports(id string) ([]*voltv1.LogicalPort, error) {
	l.f.Lock()
	defer l.f.Unlock()
	if err := l.knownLocked(id); err != nil {
		return nil, err
	}
	return clones(l.f.LogicalPorts[id]), nil
}

func (l logical) portLocked(ldID, portID string) (*voltv1.LogicalPort, error) {
	if err := l.knownLocked(ldID); err != nil {
		return nil, err
	}
	for _, p := range l.f.LogicalPorts[ldID] {
		if p.GetId() == portID {
			return p, nil
		}
	}
	return nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("logical device %q has no port %q", ldID, portID))
}

func (l logical) Port(ldID, portID string) (*voltv1.LogicalPort, error) {
	l.f.Lock()
	defer l.f.Unlock()
	p, err := l.portLocked(ldID, portID)
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(p), nil
}

// setPortDown records the call and sets or clears OFPPC_PORT_DOWN.
func (l logical) setPortDown(ldID, portID string, down bool) error {
	l.f.Lock()
	defer l.f.Unlock()
	call := "enable "
	if down {
		call = "disable "
	}
	l.f.PortCalls = append(l.f.PortCalls, call+portID)
	p, err := l.portLocked(ldID, portID)
	if err != nil {
		return err
	}
	if p.OfpPort == nil {
		p.OfpPort = &openflowv1.Port{}
	}
	if down {
		p.OfpPort.Config |= 1
	} else {
		p.OfpPort.Config &^= 1
	}
	return nil
}

func (l logical) EnablePort(_ context.Context, ldID, portID string) error {
	return l.setPortDown(ldID, portID, false)
}

func (l logical) DisablePort(_ context.Context, ldID, portID string) error {
	return l.setPortDown(ldID, portID, true)
}

// omci reads the OMCI ONU records as the NBI sees them.
type omci struct{ f *Fake }

func (o omci) record(m map[string][]byte, id string) ([]byte, error) {
	o.f.Lock()
	defer o.f.Unlock()
	b, ok := m[id]
	if !ok {
		return nil, nbi.ErrNoRecord
	}
	return b, nil
}

func (o omci) MIB(_ context.Context, id string) ([]byte, error) { return o.record(o.f.MIBs, id) }

func (o omci) Stats(_ context.Context, id string) ([]byte, error) {
	return o.record(o.f.OMCIStats, id)
}

// adapters is the adapter registry as the NBI sees it.
type adapters struct{ f *Fake }

func (a adapters) Adapters() []*voltv1.Adapter {
	a.f.Lock()
	defer a.f.Unlock()
	return clones(a.f.Adapters)
}

func (a adapters) DeviceTypes() []*voltv1.DeviceType {
	a.f.Lock()
	defer a.f.Unlock()
	return clones(a.f.Types)
}

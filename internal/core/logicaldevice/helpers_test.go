package logicaldevice_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/logicaldevice"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/kvstore"
)

// fakeDevices is the device manager as the logical side sees it: snapshots
// in maps, replaced (never modified) by set.
type fakeDevices struct {
	mu    sync.Mutex // guards devs and ports
	devs  map[string]*voltv1.Device
	ports map[string][]*voltv1.Port
}

func newFakeDevices() *fakeDevices {
	return &fakeDevices{devs: make(map[string]*voltv1.Device), ports: make(map[string][]*voltv1.Port)}
}

func (f *fakeDevices) set(d *voltv1.Device, ports ...*voltv1.Port) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devs[d.GetId()] = d
	if ports != nil {
		f.ports[d.GetId()] = ports
	}
}

func (f *fakeDevices) Device(id string) (*voltv1.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %q not found", id))
	}
	return d, nil
}

func (f *fakeDevices) Ports(id string) ([]*voltv1.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.devs[id]; !ok {
		return nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %q not found", id))
	}
	return slices.Clone(f.ports[id]), nil
}

func (f *fakeDevices) Children(parentID string) []*voltv1.Device {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*voltv1.Device
	for _, d := range f.devs {
		if d.GetParentId() == parentID {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *voltv1.Device) int { return strings.Compare(a.GetId(), b.GetId()) })
	return out
}

// recorder keeps published events.
type recorder struct {
	mu  sync.Mutex // guards evs
	evs []*voltv1.Event
}

func (r *recorder) Publish(ev *voltv1.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

// take returns the events since the last take, one line each.
func (r *recorder) take(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	evs := r.evs
	r.evs = nil
	r.mu.Unlock()
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		if ev.GetLogicalDeviceId() == "" || ev.GetDeviceId() == "" {
			t.Errorf("event without ids: %v", ev)
		}
		out = append(out, summary(ev))
	}
	return out
}

// summary writes an event the way a person reads it:
// "ADDED port uni-4112 olt/onu1 LIVE".
func summary(ev *voltv1.Event) string {
	kind := func(k voltv1.ChangeKind) string { return strings.TrimPrefix(k.String(), "CHANGE_KIND_") }
	switch p := ev.GetPayload().(type) {
	case *voltv1.Event_LogicalDevice:
		return fmt.Sprintf("%s logical device of %s", kind(p.LogicalDevice.GetKind()), ev.GetDeviceId())
	case *voltv1.Event_LogicalPort:
		lp := p.LogicalPort.GetPort()
		return fmt.Sprintf("%s port %s %s %s", kind(p.LogicalPort.GetKind()), lp.GetId(), lp.GetDeviceId(), portState(lp))
	}
	return fmt.Sprintf("other event %v", ev)
}

// portState is "LIVE", "DOWN" or "DISABLED" (config port-down).
func portState(lp *voltv1.LogicalPort) string {
	switch {
	case lp.GetOfpPort().GetConfig()&1 != 0:
		if lp.GetOfpPort().GetState() != 1 {
			return fmt.Sprintf("DISABLED but state %d", lp.GetOfpPort().GetState())
		}
		return "DISABLED"
	case lp.GetOfpPort().GetState() == 4:
		return "LIVE"
	case lp.GetOfpPort().GetState() == 1:
		return "DOWN"
	}
	return fmt.Sprintf("state %d", lp.GetOfpPort().GetState())
}

type env struct {
	st   *store.Store
	devs *fakeDevices
	rec  *recorder
	m    *logicaldevice.Manager
}

func newEnv(t *testing.T, kv kvstore.Store, prefix string) *env {
	t.Helper()
	e := &env{st: store.New(kv, prefix), devs: newFakeDevices(), rec: new(recorder)}
	e.m = e.manager(t, slog.New(slog.DiscardHandler))
	return e
}

// manager returns another manager on the same store and devices.
func (e *env) manager(t *testing.T, log *slog.Logger) *logicaldevice.Manager {
	t.Helper()
	m, err := logicaldevice.New(logicaldevice.Config{Store: e.st, Devices: e.devs, Events: e.rec, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func memEnv(t *testing.T) *env {
	kv := kvstore.NewMemory()
	t.Cleanup(func() { kv.Close() })
	return newEnv(t, kv, "volt")
}

// ports returns "id device state" per logical port of ldID.
func (e *env) ports(t *testing.T, ldID string) []string {
	t.Helper()
	ps, err := e.m.Ports(ldID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s %s", p.GetId(), p.GetDeviceId(), portState(p)))
	}
	return out
}

// storedPorts is ports read back from the store.
func (e *env) storedPorts(t *testing.T, ldID string) []string {
	t.Helper()
	ps, err := e.st.LogicalPorts.ListGroup(t.Context(), ldID)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ps, func(a, b *voltv1.LogicalPort) int {
		return int(int64(a.GetOfpPort().GetPortNo()) - int64(b.GetOfpPort().GetPortNo()))
	})
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s %s", p.GetId(), p.GetDeviceId(), portState(p)))
	}
	return out
}

var (
	enabled   = voltv1.AdminState_ADMIN_STATE_ENABLED
	disabled  = voltv1.AdminState_ADMIN_STATE_DISABLED
	active    = voltv1.OperStatus_OPER_STATUS_ACTIVE
	inactive  = voltv1.OperStatus_OPER_STATUS_INACTIVE
	reachable = voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE
)

func olt(id, mac string) *voltv1.Device {
	return &voltv1.Device{
		Id: id, Type: "ponsim_olt", Root: true,
		Vendor: "ponsim", Model: "olt-9", FirmwareVersion: "1.2.3", SerialNumber: "SN-" + id,
		MacAddress: mac,
		AdminState: enabled, OperStatus: active, ConnectStatus: reachable,
	}
}

func onu(id, parent string) *voltv1.Device {
	return &voltv1.Device{
		Id: id, Type: "ponsim_onu", ParentId: parent, ParentPortNo: portno.OLTPON(0),
		AdminState: enabled, OperStatus: active, ConnectStatus: reachable,
	}
}

// with returns a copy of d in another state (snapshots are never modified).
func with(d *voltv1.Device, admin voltv1.AdminState, oper voltv1.OperStatus) *voltv1.Device {
	c := proto.Clone(d).(*voltv1.Device)
	c.AdminState, c.OperStatus = admin, oper
	return c
}

func port(dev string, no uint32, typ voltv1.PortType) *voltv1.Port {
	return &voltv1.Port{DeviceId: dev, PortNo: no, Type: typ, AdminState: enabled, OperStatus: active}
}

func nni(dev string, n uint32) *voltv1.Port {
	return port(dev, portno.NNI(n), voltv1.PortType_PORT_TYPE_ETHERNET_NNI)
}

func uni(dev string, pon, onu, u uint32) *voltv1.Port {
	return port(dev, portno.UNI(pon, onu, u), voltv1.PortType_PORT_TYPE_ETHERNET_UNI)
}

func oltPON(dev string, n uint32) *voltv1.Port {
	return port(dev, portno.OLTPON(n), voltv1.PortType_PORT_TYPE_PON_OLT)
}

func onuPON(dev string) *voltv1.Port {
	return port(dev, portno.ONUPON, voltv1.PortType_PORT_TYPE_PON_ONU)
}

// withOfp gives a port an OpenFlow view, as an adapter may.
func withOfp(p *voltv1.Port, of *openflowv1.Port) *voltv1.Port {
	p.OfpPort = of
	return p
}

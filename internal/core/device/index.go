package device

import (
	"context"
	"fmt"
	"sort"
	"sync"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
)

// Index is the read side of the devices: each device and its ports, by id,
// by address and by parent. A Manager writes it; the logical devices, the
// flows and the NBI read it. It is built first, so that they can be built
// before the Manager, which tells the logical devices of what changes.
type Index struct {
	mu       sync.RWMutex                   // guards agents, byAddr, children
	agents   map[string]*agent              // device id → agent
	byAddr   map[string]string              // host:port or MAC of a root → device id
	children map[string]map[string]struct{} // parent id → child ids
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		agents:   make(map[string]*agent),
		byAddr:   make(map[string]string),
		children: make(map[string]map[string]struct{}),
	}
}

func (x *Index) agent(id string) (*agent, error) {
	x.mu.RLock()
	a := x.agents[id]
	x.mu.RUnlock()
	if a == nil {
		return nil, coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %q not found", id))
	}
	return a, nil
}

// Device returns a snapshot of a device (callers must not modify it), or
// a NotFound error.
func (x *Index) Device(id string) (*voltv1.Device, error) {
	a, err := x.agent(id)
	if err != nil {
		return nil, err
	}
	return a.device(), nil
}

// List returns snapshots of the devices that match filter (nil: all),
// sorted by id.
func (x *Index) List(filter func(*voltv1.Device) bool) []*voltv1.Device {
	x.mu.RLock()
	out := make([]*voltv1.Device, 0, len(x.agents))
	for _, a := range x.agents {
		if d := a.device(); filter == nil || filter(d) {
			out = append(out, d)
		}
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out
}

// Ports returns snapshots of a device's ports sorted by number, or a
// NotFound error.
func (x *Index) Ports(id string) ([]*voltv1.Port, error) {
	a, err := x.agent(id)
	if err != nil {
		return nil, err
	}
	return a.portList(), nil
}

// Children returns snapshots of a device's children sorted by id.
func (x *Index) Children(parentID string) []*voltv1.Device {
	x.mu.RLock()
	out := make([]*voltv1.Device, 0, len(x.children[parentID]))
	for id := range x.children[parentID] {
		if a := x.agents[id]; a != nil {
			out = append(out, a.device())
		}
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out
}

func (x *Index) addAgentLocked(a *agent) {
	d := a.device()
	x.agents[d.GetId()] = a
	if key := addrKey(d); key != "" {
		x.byAddr[key] = d.GetId()
	}
	if p := d.GetParentId(); p != "" {
		if x.children[p] == nil {
			x.children[p] = make(map[string]struct{})
		}
		x.children[p][d.GetId()] = struct{}{}
	}
}

func (x *Index) removeAgent(d *voltv1.Device) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.agents, d.GetId())
	if key := addrKey(d); key != "" && x.byAddr[key] == d.GetId() {
		delete(x.byAddr, key)
	}
	if p := d.GetParentId(); p != "" {
		delete(x.children[p], d.GetId())
		if len(x.children[p]) == 0 {
			delete(x.children, p)
		}
	}
	delete(x.children, d.GetId())
}

// noLogical is the Logical of a Manager with no logical devices.
type noLogical struct{}

func (noLogical) DeviceActive(context.Context, *voltv1.Device, []*voltv1.Port) (string, error) {
	return "", nil
}
func (noLogical) PortChanged(context.Context, *voltv1.Device, *voltv1.Port) error { return nil }
func (noLogical) PortRemoved(context.Context, *voltv1.Device, *voltv1.Port) error { return nil }
func (noLogical) SetPortsUp(context.Context, *voltv1.Device, bool) error          { return nil }
func (noLogical) DeviceGone(context.Context, *voltv1.Device) error                { return nil }

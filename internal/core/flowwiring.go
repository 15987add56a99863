package core

import (
	"context"
	"errors"
	"fmt"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/flows"
	"github.com/openvolt/openvolt/internal/core/route"
)

// topology is the route snapshot of a logical device: its logical ports and
// the ports of its OLT and ONUs.
func (p *parts) topology(ldID string) (route.Snapshot, error) {
	ld, err := p.logical.Get(ldID)
	if err != nil {
		return route.Snapshot{}, err
	}
	lports, err := p.logical.Ports(ldID)
	if err != nil {
		return route.Snapshot{}, err
	}
	root := ld.GetRootDeviceId()
	snap := route.Snapshot{LogicalPorts: lports, Ports: map[string][]*voltv1.Port{root: p.devices.Ports(root)}}
	for _, c := range p.devices.Children(root) {
		snap.Ports[c.GetId()] = p.devices.Ports(c.GetId())
	}
	return snap, nil
}

// adapterClient is the client of a device type's adapter and whether the
// type asks for whole tables.
func (p *parts) adapterClient(ctx context.Context, deviceType string) (adapterv1.AdapterServiceClient, bool, error) {
	dt, _, _ := p.registry.ForType(deviceType)
	c, _, err := adapterClients{reg: p.registry, kafka: p.kafka}.For(ctx, deviceType)
	if err != nil {
		return nil, false, err
	}
	return c, dt.GetAcceptsBulkFlowUpdate() && !dt.GetAcceptsAddRemoveFlowUpdates(), nil
}

// deviceTables is what the logical flows ask of a device; nothing for a
// device that has no logical device yet.
func (p *parts) deviceTables(ctx context.Context, deviceID string) (flows.DeviceTables, error) {
	ld, err := p.logicalDeviceOf(deviceID)
	if errors.Is(err, coreerr.ErrFailedPrecondition) {
		return flows.DeviceTables{}, nil
	}
	if err != nil {
		return flows.DeviceTables{}, err
	}
	dt, err := p.flows.DeviceTables(ctx, ld, deviceID)
	if errors.Is(err, coreerr.ErrNotFound) {
		return flows.DeviceTables{}, nil // the logical device went meanwhile
	}
	return dt, err
}

// logicalDeviceOf is the logical device a device belongs to.
func (p *parts) logicalDeviceOf(deviceID string) (string, error) {
	d, err := p.devices.Device(deviceID)
	if err != nil {
		return "", err
	}
	if !d.GetRoot() {
		if d, err = p.devices.Device(d.GetParentId()); err != nil {
			return "", err
		}
	}
	if d.GetLogicalDeviceId() == "" {
		return "", coreerr.New(coreerr.ErrFailedPrecondition, fmt.Sprintf("device %s has no logical device yet", deviceID))
	}
	return d.GetLogicalDeviceId(), nil
}

// flowMods is the NBI's view of the flows manager.
type flowMods struct{ p *parts }

func (f flowMods) UpdateFlowTable(ctx context.Context, ld string, fm *openflowv1.FlowMod) error {
	return f.p.flows.UpdateFlowTable(ctx, ld, fm)
}

func (f flowMods) UpdateFlowTables(ctx context.Context, ld string, fms []*openflowv1.FlowMod) ([]error, error) {
	return f.p.flows.UpdateFlowTables(ctx, ld, fms)
}

func (f flowMods) UpdateGroupTable(ctx context.Context, ld string, gm *openflowv1.GroupMod) error {
	return f.p.flows.UpdateGroupTable(ctx, ld, gm)
}

func (f flowMods) UpdateMeterTable(ctx context.Context, ld string, mm *openflowv1.MeterMod) error {
	return f.p.flows.UpdateMeterTable(ctx, ld, mm)
}

func (f flowMods) PacketOut(ctx context.Context, ld string, po *openflowv1.PacketOut) error {
	return f.p.flows.PacketOut(ctx, ld, po, f.p.devices.Get, func(ctx context.Context, d *voltv1.Device, req *adapterv1.PacketOutRequest) error {
		c, _, err := f.p.adapterClient(ctx, d.GetType())
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, f.p.timeout)
		defer cancel()
		_, err = c.SendPacketOut(ctx, req)
		return err
	})
}

// packetIns is the SBI's view: a device port's frame to its logical device.
type packetIns struct{ p *parts }

func (pi packetIns) PacketIn(ctx context.Context, deviceID string, portNo uint32, packet []byte) error {
	ld, err := pi.p.logicalDeviceOf(deviceID)
	if err != nil {
		return err
	}
	return pi.p.flows.PacketIn(ctx, ld, portNo, packet)
}

// subscribeTopology subscribes to the events followTopology needs, until
// ctx ends.
func (p *parts) subscribeTopology(ctx context.Context) <-chan *voltv1.Event {
	return p.events.Subscribe(ctx, func(ev *voltv1.Event) bool {
		return ev.GetLogicalPort() != nil || ev.GetLogicalDevice() != nil || ev.GetPort() != nil
	})
}

// followTopology drops cached routes when logical ports change and forgets
// removed logical devices, until ch (subscribeTopology) closes.
func (p *parts) followTopology(ch <-chan *voltv1.Event) {
	for ev := range ch {
		switch {
		case ev.GetLogicalDevice().GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED:
			p.flows.Forget(ev.GetLogicalDeviceId())
		case ev.GetLogicalPort() != nil:
			p.flows.TopologyChanged(ev.GetLogicalDeviceId())
		case ev.GetPort() != nil:
			if ld, err := p.logicalDeviceOf(ev.GetDeviceId()); err == nil {
				p.flows.TopologyChanged(ld)
			}
		}
	}
}

var _ flows.Pushers = (*flows.AdapterPushers)(nil)

package core

import (
	"context"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/device"
	"github.com/openvolt/openvolt/internal/core/flows"
	"github.com/openvolt/openvolt/internal/core/logicaldevice"
	"github.com/openvolt/openvolt/internal/core/route"
)

// topology makes the route snapshot of a logical device: its logical ports
// and the ports of its OLT and ONUs.
func topology(logical *logicaldevice.Manager, devices *device.Index) flows.Topology {
	return func(ldID string) (route.Snapshot, error) {
		ld, err := logical.Get(ldID)
		if err != nil {
			return route.Snapshot{}, err
		}
		lports, err := logical.Ports(ldID)
		if err != nil {
			return route.Snapshot{}, err
		}
		root := ld.GetRootDeviceId()
		snap := route.Snapshot{LogicalPorts: lports, Ports: map[string][]*voltv1.Port{}}
		for _, d := range append([]*voltv1.Device{{Id: root}}, devices.Children(root)...) {
			snap.Ports[d.GetId()], _ = devices.Ports(d.GetId()) // none for a device gone meanwhile
		}
		return snap, nil
	}
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

// sendPacketOut sends a frame out of a device port through its adapter.
func (p *parts) sendPacketOut(ctx context.Context, d *voltv1.Device, req *adapterv1.PacketOutRequest) error {
	c, _, err := p.adapterClient(ctx, d.GetType())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	_, err = c.SendPacketOut(ctx, req)
	return err
}

// topologyEvents selects the changes onTopology needs.
func topologyEvents(ev *voltv1.Event) bool {
	return ev.GetLogicalPort() != nil || ev.GetLogicalDevice() != nil || ev.GetPort() != nil
}

// onTopology drops cached routes when logical ports change and forgets
// removed logical devices.
func (p *parts) onTopology(ctx context.Context, ev *voltv1.Event) {
	switch {
	case ev.GetLogicalDevice().GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED:
		p.flows.Forget(ev.GetLogicalDeviceId())
	case ev.GetLogicalPort() != nil:
		p.flows.TopologyChanged(ev.GetLogicalDeviceId())
		if lp := ev.GetLogicalPort(); lp.GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED {
			// Flows that name a port that is gone go with it.
			no := lp.GetPort().GetOfpPort().GetPortNo()
			if err := p.flows.PortRemoved(ctx, ev.GetLogicalDeviceId(), no); err != nil {
				p.log.Warn("flows of a removed logical port not removed", "logical_device", ev.GetLogicalDeviceId(), "port", no, "err", err)
			}
		}
	case ev.GetPort() != nil:
		if ld, err := p.flows.LogicalDeviceOf(ev.GetDeviceId()); err == nil {
			p.flows.TopologyChanged(ld)
		}
	}
}

// resyncTopology catches up with topology changes a cut-off follower
// missed: every cached route is dropped (rebuilt by the next mod) and the
// state of logical devices that are gone is forgotten.
func (p *parts) resyncTopology(context.Context) {
	for _, id := range p.flows.Cached() {
		if _, err := p.logical.Get(id); err != nil {
			p.flows.Forget(id)
			continue
		}
		p.flows.TopologyChanged(id)
	}
}

var _ flows.Senders = (*flows.AdapterPushers)(nil)

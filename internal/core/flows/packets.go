package flows

import (
	"context"
	"fmt"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/route"
)

// PacketOutSender sends a frame out of a device port through its adapter.
type PacketOutSender func(ctx context.Context, dev *voltv1.Device, req *adapterv1.PacketOutRequest) error

// portOf returns the logical port n of a logical device.
func (m *Manager) portOf(ctx context.Context, ldID string, n uint32) (route.Port, error) {
	l, err := m.lock(ctx, ldID)
	if err != nil {
		return route.Port{}, err
	}
	defer l.mu.Unlock()
	if _, err := m.decomposerLocked(l); err != nil {
		return route.Port{}, err
	}
	p, ok := l.routes.Port(n)
	if !ok {
		return route.Port{}, coreerr.New(coreerr.ErrInvalidArgument, fmt.Sprintf("logical device %s has no port %d", ldID, n))
	}
	return p, nil
}

// PacketIn turns a frame an adapter received on a device port into a
// packet-in of the logical port with the same number (see adapter/portno)
// of the device's logical device.
func (m *Manager) PacketIn(ctx context.Context, deviceID string, portNo uint32, packet []byte) error {
	ldID, err := m.LogicalDeviceOf(deviceID)
	if err != nil {
		return err
	}
	if _, err := m.portOf(ctx, ldID, portNo); err != nil {
		return err
	}
	if m.cfg.Events != nil {
		m.cfg.Events.Publish(&voltv1.Event{
			LogicalDeviceId: ldID,
			Payload: &voltv1.Event_PacketIn{PacketIn: &voltv1.PacketIn{
				LogicalDeviceId: ldID,
				PacketIn: &openflowv1.PacketIn{
					BufferId: 0xffffffff,
					TotalLen: uint32(len(packet)),
					Reason:   openflowv1.PacketInReason_PACKET_IN_REASON_ACTION,
					Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{
						{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: uint64(portNo)},
					}},
					Data: packet,
				},
			}},
		})
	}
	return nil
}

// PacketOut sends a controller's frame out of the logical ports its output
// actions name.
func (m *Manager) PacketOut(ctx context.Context, ldID string, po *openflowv1.PacketOut) error {
	var outs []uint32
	for _, a := range po.GetActions() {
		switch {
		case a.GetOutput() != nil:
			outs = append(outs, a.GetOutput().GetPort())
		default:
			return coreerr.New(coreerr.ErrInvalidArgument, "packet-out supports output actions only")
		}
	}
	if len(outs) == 0 {
		return coreerr.New(coreerr.ErrInvalidArgument, "packet-out has no output action")
	}
	for _, n := range outs {
		p, err := m.portOf(ctx, ldID, n)
		if err != nil {
			return err
		}
		d, err := m.cfg.Devices.Device(p.DeviceID)
		if err != nil {
			return coreerr.New(coreerr.ErrNotFound, fmt.Sprintf("device %s behind port %d is gone", p.DeviceID, n))
		}
		if err := m.cfg.SendPacketOut(ctx, d, &adapterv1.PacketOutRequest{Device: d, EgressPortNo: p.DevicePort, Packet: po}); err != nil {
			return err
		}
	}
	return nil
}

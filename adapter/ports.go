package adapter

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// RemoveStalePorts removes the ports the core holds for a device whose
// numbers are not among ports, what the device has now. Call it where the
// ports are reported again after a restart: a port the device lost while
// the adapter was away, or one an older build numbered differently, would
// otherwise stay (with a live logical port) for good.
func RemoveStalePorts(ctx context.Context, core adapterv1.CoreServiceClient, deviceID string, ports []*voltv1.Port) error {
	have, err := core.ListDevicePorts(ctx, &adapterv1.DeviceRequest{DeviceId: deviceID})
	if err != nil {
		return fmt.Errorf("list ports of device %s: %w", deviceID, err)
	}
	keep := make(map[uint32]bool, len(ports))
	for _, p := range ports {
		keep[p.GetPortNo()] = true
	}
	for _, p := range have.GetItems() {
		if keep[p.GetPortNo()] {
			continue
		}
		_, err := core.PortRemoved(ctx, &adapterv1.PortRemovedRequest{DeviceId: deviceID, PortNo: p.GetPortNo()})
		if err != nil && status.Code(err) != codes.NotFound { // NotFound: gone meanwhile
			return fmt.Errorf("remove port %d of device %s: %w", p.GetPortNo(), deviceID, err)
		}
	}
	return nil
}

package device

import (
	"context"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// Adapters finds the adapter that serves a device type.
type Adapters interface {
	// For returns a client of the adapter serving deviceType and the topic it
	// listens on, or an error wrapping coreerr.ErrFailedPrecondition that
	// names the type when no adapter serves it.
	For(ctx context.Context, deviceType string) (adapterv1.AdapterServiceClient, string, error)
}

// Logical is what the device manager tells the logical-device manager. The
// device passed in is a snapshot taken after the change; calls for one
// device never overlap.
type Logical interface {
	// DeviceActive: a root device turned ACTIVE (its logical device is
	// created, with a logical port per NNI in ports, and returned), or a
	// child turned ACTIVE (its UNIs become logical ports; "" is returned).
	DeviceActive(ctx context.Context, dev *voltv1.Device, ports []*voltv1.Port) (logicalDeviceID string, err error)
	// PortChanged: a port of dev was created or changed state.
	PortChanged(ctx context.Context, dev *voltv1.Device, port *voltv1.Port) error
	// PortRemoved: port of dev is gone; so is the logical port built from
	// it, if any. Nothing to remove is not an error.
	PortRemoved(ctx context.Context, dev *voltv1.Device, port *voltv1.Port) error
	// SetPortsUp takes the logical ports backed by dev up or down (disable,
	// re-enable, unreachable).
	SetPortsUp(ctx context.Context, dev *voltv1.Device, up bool) error
	// DeviceGone: a child left ACTIVE or was removed (its logical ports go),
	// or a root device was removed (its whole logical device goes).
	DeviceGone(ctx context.Context, dev *voltv1.Device) error
}

// Publisher takes change events.
type Publisher interface {
	Publish(*voltv1.Event)
}

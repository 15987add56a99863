package adapter

import (
	"context"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
)

// An adapter implements Adopter and any of the other interfaces below, one
// per concern. The SDK serves AdapterService from them: a method the
// handler does not implement answers codes.Unimplemented ("adapter X does
// not support RebootDevice"), and the device types list only the methods
// implemented (DeviceType.operations), so clients can tell beforehand.
//
// Every method must answer quickly: the core waits for the answer while it
// holds the device. Do slow work after answering with Adapter.Submit, or in
// device order before answering with Adapter.Do. An error keeps its gRPC
// code when it is a status error (status.Error); a context error becomes
// Canceled or DeadlineExceeded; any other error becomes Unknown.

// Adopter takes a device into service: the core calls AdoptDevice when a
// device is enabled for the first time, or again after its adoption failed
// (oper status FAILED). The adapter reports what it finds (DeviceUpdate,
// PortCreated, ChildDeviceDetected) and the states the device reaches
// (DeviceStateUpdate) through Adapter.Core.
type Adopter interface {
	AdoptDevice(ctx context.Context, d *voltv1.Device) error
}

// Reconciler re-learns a device the adapter adopted before (after a restart
// of the adapter or the core): it rebuilds its own state from d and reports
// ports and states again; the core ignores what did not change. Ports the
// device no longer has are removed with RemoveStalePorts.
type Reconciler interface {
	ReconcileDevice(ctx context.Context, d *voltv1.Device) error
}

// Disabler takes a device out of service and back.
type Disabler interface {
	DisableDevice(ctx context.Context, d *voltv1.Device) error
	ReenableDevice(ctx context.Context, d *voltv1.Device) error
}

// Rebooter reboots a device; the adapter reports the states it passes
// through.
type Rebooter interface {
	RebootDevice(ctx context.Context, d *voltv1.Device) error
}

// Deleter forgets a device; the core removes its records after the answer.
// Adapter.Forget ends the device's work.
type Deleter interface {
	DeleteDevice(ctx context.Context, d *voltv1.Device) error
}

// ChildLostHandler is told that a child device is gone.
type ChildLostHandler interface {
	ChildDeviceLost(ctx context.Context, d *voltv1.Device) error
}

// PortEnabler enables and disables single ports.
type PortEnabler interface {
	EnablePort(ctx context.Context, req *adapterv1.PortRequest) error
	DisablePort(ctx context.Context, req *adapterv1.PortRequest) error
}

// BulkFlowUpdater takes a device's whole flow, group and meter tables.
// Implementing it sets accepts_bulk_flow_update on the device types.
type BulkFlowUpdater interface {
	UpdateFlowsBulk(ctx context.Context, req *adapterv1.BulkFlowsRequest) error
}

// IncrementalFlowUpdater takes flow, group and meter changes. Implementing
// it sets accepts_add_remove_flow_updates on the device types.
type IncrementalFlowUpdater interface {
	UpdateFlowsIncrementally(ctx context.Context, req *adapterv1.IncrementalFlowsRequest) error
}

// PacketSender sends a frame out of a device port (packet-out).
type PacketSender interface {
	SendPacketOut(ctx context.Context, req *adapterv1.PacketOutRequest) error
}

// OfpInfoProvider describes the OpenFlow switch an OLT becomes and its
// ports.
type OfpInfoProvider interface {
	GetOfpDeviceInfo(ctx context.Context, d *voltv1.Device) (*adapterv1.SwitchCapability, error)
	GetOfpPortInfo(ctx context.Context, req *adapterv1.OfpPortInfoRequest) (*voltv1.LogicalPort, error)
}

// InterAdapterHandler takes messages from other adapters.
type InterAdapterHandler interface {
	ProcessInterAdapterMessage(ctx context.Context, msg *adapterv1.InterAdapterMessage) error
}

// Closer is called once, when the adapter stops, after every call and every
// work item has ended: release what the handler holds (connections).
type Closer interface {
	Close() error
}

// Operations lists the AdapterService methods h implements, in the
// service's order: what the SDK puts in DeviceType.operations.
func Operations(h Adopter) []string {
	var ops []string
	for _, m := range adapterv1.AdapterService_ServiceDesc.Methods {
		if supports(h, m.MethodName) {
			ops = append(ops, m.MethodName)
		}
	}
	return ops
}

// supports reports whether h implements the AdapterService method name.
func supports(h any, method string) bool {
	var ok bool
	switch method {
	case "AdoptDevice":
		_, ok = h.(Adopter)
	case "ReconcileDevice":
		_, ok = h.(Reconciler)
	case "DisableDevice", "ReenableDevice":
		_, ok = h.(Disabler)
	case "RebootDevice":
		_, ok = h.(Rebooter)
	case "DeleteDevice":
		_, ok = h.(Deleter)
	case "ChildDeviceLost":
		_, ok = h.(ChildLostHandler)
	case "EnablePort", "DisablePort":
		_, ok = h.(PortEnabler)
	case "UpdateFlowsBulk":
		_, ok = h.(BulkFlowUpdater)
	case "UpdateFlowsIncrementally":
		_, ok = h.(IncrementalFlowUpdater)
	case "SendPacketOut":
		_, ok = h.(PacketSender)
	case "GetOfpDeviceInfo", "GetOfpPortInfo":
		_, ok = h.(OfpInfoProvider)
	case "UpdatePmConfig":
		_, ok = h.(KpiCollector)
	case "ProcessInterAdapterMessage":
		_, ok = h.(InterAdapterHandler)
	}
	return ok
}

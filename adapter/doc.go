// Package adapter is the SDK for OpenVOLT device adapters: the programs that
// turn the core's device operations (adopt, disable, reboot…) into calls on
// real or simulated hardware, and report what the hardware does back to the
// core. README.md in this directory walks through writing one.
//
// An adapter is a handler and a Config:
//
//	a, err := adapter.New(adapter.Config{
//		Brokers:     []string{"127.0.0.1:9092"},
//		ID:          "acme_olt",
//		DeviceTypes: []*voltv1.DeviceType{{Id: "acme_olt"}},
//	})
//	h := &handler{core: a.Core(), a: a} // implements adapter.Adopter, …
//	err = a.Run(ctx, h)
//
// The handler implements Adopter and any of the small interfaces of the
// other operations (Reconciler, Disabler, Rebooter, Deleter, …). Run serves
// the core's AdapterService on the adapter's Kafka topic through msgbus
// (and on the gRPC port, with health, reflection and the LogService),
// answering codes.Unimplemented for what the handler does not implement; it
// registers the adapter and its device types with the core, retrying until
// the core answers and again every Heartbeat; and it stops gracefully when
// its context ends.
//
// Handlers answer quickly and do the slow work afterwards: Submit queues
// work per device (ordered within a device, parallel across devices), Do
// runs work in the device's order and waits for it, and Go starts a
// goroutine tied to a device (an event stream). The Adapter owns all of
// them: they end when the device is forgotten (Forget) or the adapter
// stops, and Run waits for them.
package adapter

package adapter

import (
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/openvolt/openvolt/msgbus"
)

// DeviceKeyFunc returns the record-key rule of the core and the adapters:
// every call and event about one device carries the device's id as its
// Kafka key, so they land on one partition and keep their order. The rule,
// checked in this order on a message:
//
//  1. it is a volt.v1.Device or a volt.v1.ID: its id field;
//  2. it has a top-level string field device_id: its value;
//  3. it has a top-level string field parent_id: its value (a child device
//     detected behind a parent keeps the parent's order);
//  4. it has a top-level message field named device: rules 1 and 2 on it
//     (PortRequest, BulkFlowsRequest, PacketOutRequest…);
//  5. otherwise the empty key (no order).
//
// Each message type is inspected once; the returned func caches the
// outcome and is safe for concurrent use. The SDK sets it on its msgbus
// Conn; the core sets the same on its own.
func DeviceKeyFunc() msgbus.KeyFunc {
	var rules sync.Map // protoreflect.FullName → *keyRule
	return func(m proto.Message) string {
		if m == nil {
			return ""
		}
		r := m.ProtoReflect()
		if !r.IsValid() {
			return ""
		}
		d := r.Descriptor()
		if v, ok := rules.Load(d.FullName()); ok {
			return v.(*keyRule).key(r)
		}
		k := buildKeyRule(d, true)
		rules.Store(d.FullName(), k)
		return k.key(r)
	}
}

// keyRule is the result of applying the rule to one message descriptor.
type keyRule struct {
	field  protoreflect.FieldDescriptor // a string field that holds the key
	nested protoreflect.FieldDescriptor // or a message field whose own rule does
	inner  *keyRule
}

func (k *keyRule) key(r protoreflect.Message) string {
	switch {
	case k.field != nil:
		return r.Get(k.field).String()
	case k.nested != nil:
		if !r.Has(k.nested) {
			return ""
		}
		return k.inner.key(r.Get(k.nested).Message())
	}
	return ""
}

func buildKeyRule(d protoreflect.MessageDescriptor, top bool) *keyRule {
	fields := d.Fields()
	str := func(name protoreflect.Name) protoreflect.FieldDescriptor {
		f := fields.ByName(name)
		if f == nil || f.Kind() != protoreflect.StringKind || f.Cardinality() == protoreflect.Repeated {
			return nil
		}
		return f
	}
	switch d.FullName() {
	case "volt.v1.Device", "volt.v1.ID":
		if f := str("id"); f != nil {
			return &keyRule{field: f}
		}
	}
	if f := str("device_id"); f != nil {
		return &keyRule{field: f}
	}
	if !top {
		return &keyRule{}
	}
	if f := str("parent_id"); f != nil {
		return &keyRule{field: f}
	}
	if f := fields.ByName("device"); f != nil && f.Kind() == protoreflect.MessageKind && f.Cardinality() != protoreflect.Repeated && !f.IsMap() {
		return &keyRule{nested: f, inner: buildKeyRule(f.Message(), false)}
	}
	return &keyRule{}
}

package msgbus

import (
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// KeyOption sets the record key of one call or event; see WithKey.
type KeyOption struct {
	grpc.EmptyCallOption
	Key string
}

func (o KeyOption) applyPublish(p *publishOptions) { p.key, p.keySet = o.Key, true }

// WithKey sets the record key of a call (as a grpc.CallOption) or of an
// event (as a PublishOption), overriding the rule of KeyOf. An empty key
// means "no key": the call runs in parallel with any other.
func WithKey(key string) KeyOption { return KeyOption{Key: key} }

// TopicOption sends one call to another topic than the Conn's default.
type TopicOption struct {
	grpc.EmptyCallOption
	Topic string
}

// WithTopic sends a call to topic instead of the Conn's default topic.
func WithTopic(topic string) TopicOption { return TopicOption{Topic: topic} }

// KeyOf returns the record key msgbus uses for m when the caller gives none.
// The rule, checked in this order:
//
//  1. m is a volt.v1.Device or a volt.v1.ID: its id field;
//  2. m has a top-level string field device_id: its value;
//  3. m has a top-level string field parent_id: its value (a child device
//     detected behind a parent keeps the parent's order);
//  4. m has a top-level message field named device: rules 1 and 2 on it
//     (PortRequest, BulkFlowsRequest, PacketOutRequest…);
//  5. otherwise the empty key.
//
// A call with an empty key goes to any partition and runs in parallel with
// every other call. Use WithKey for anything else.
func KeyOf(m proto.Message) string {
	if m == nil {
		return ""
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return ""
	}
	return keyRuleFor(r.Descriptor()).key(r)
}

// keyRule is the result of applying the KeyOf rule to one message
// descriptor, so that each message type is inspected once.
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

var keyRules sync.Map // protoreflect.FullName → *keyRule

func keyRuleFor(d protoreflect.MessageDescriptor) *keyRule {
	if v, ok := keyRules.Load(d.FullName()); ok {
		return v.(*keyRule)
	}
	k := buildKeyRule(d, true)
	keyRules.Store(d.FullName(), k)
	return k
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

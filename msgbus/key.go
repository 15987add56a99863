package msgbus

import (
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// KeyFunc derives the record key of a call from its request, or of an
// event from its message, when the caller gives none (WithKey). Calls with
// one key land on one partition and run one at a time, in order; "" means
// no key. msgbus knows no domain: the application supplies the rule (the
// adapter SDK's DeviceKeyFunc keys by device id). It must be safe for
// concurrent use.
type KeyFunc func(proto.Message) string

// KeyOption sets the record key of one call or event; see WithKey.
type KeyOption struct {
	grpc.EmptyCallOption
	Key string
}

func (o KeyOption) applyPublish(p *publishOptions) { p.key, p.keySet = o.Key, true }

// WithKey sets the record key of a call (as a grpc.CallOption) or of an
// event (as a PublishOption), overriding Config.Key. An empty key means
// "no key": the call runs in parallel with any other.
func WithKey(key string) KeyOption { return KeyOption{Key: key} }

// TopicOption sends one call to another topic than the Conn's default.
type TopicOption struct {
	grpc.EmptyCallOption
	Topic string
}

// WithTopic sends a call to topic instead of the Conn's default topic.
func WithTopic(topic string) TopicOption { return TopicOption{Topic: topic} }

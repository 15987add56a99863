package adapter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	"github.com/openvolt/openvolt/msgbus"
)

// Inter-adapter message types (InterAdapterHeader.type) between an OLT
// adapter and the adapter of its ONUs.
const (
	// MsgOMCIRequest carries an OMCI frame (raw bytes, a
	// wrapperspb.BytesValue) from the ONU's adapter to the OLT's, which
	// relays it to the ONU (openolt: OmciMsgOut, ASCII hex).
	MsgOMCIRequest = "omci_request"
	// MsgOMCIResponse carries an OMCI frame from the ONU (a response or an
	// autonomous message) from the OLT's adapter to the ONU's.
	MsgOMCIResponse = "omci_response"
	// MsgONUIndication tells the ONU's adapter the ONU came up on the PON
	// ("up", a wrapperspb.StringValue) or went down ("down"): OMCI works
	// only while it is up.
	MsgONUIndication = "onu_indication"
	// MsgTechProfile carries a tech-profile instance (the OLT adapter's
	// JSON, a wrapperspb.BytesValue) for one UNI of the ONU: the ONU's
	// adapter configures it over OMCI.
	MsgTechProfile = "tech_profile_download"
	// MsgTechProfileDelete carries the same instance when it is removed.
	MsgTechProfileDelete = "tech_profile_delete"
	// MsgPacketOut carries a packet-out to a UNI of the ONU (an
	// adapterv1.PacketOutRequest: the UNI's port number and the frame)
	// from the ONU's adapter to the OLT's, which sends it down the PON.
	MsgPacketOut = "packet_out"
)

// SendInterAdapterMessage sends body to another adapter: the message goes
// straight to that adapter's Kafka topic (toTopic; the core does not carry
// it), whose SDK hands it to the handler's ProcessInterAdapterMessage.
// Messages about one device (toDeviceID) are ordered: msgbus keys them
// "<device id>/inter-adapter" (InterAdapterKey), so they land on one
// partition and are served in order, and not behind a call of the core
// about the device: the core holds the device during its call, which may
// wait for these messages (an ONU's OMCI responses while it is disabled).
// proxyDeviceID names the parent (the OLT) when it is the target's proxy.
// It waits for the target's answer (or the call timeout).
func (a *Adapter) SendInterAdapterMessage(ctx context.Context, toTopic, msgType, toDeviceID, proxyDeviceID string, body proto.Message) error {
	return a.sendInterAdapter(ctx, InterAdapterKey(toDeviceID), toTopic, msgType, toDeviceID, proxyDeviceID, body)
}

// sendInterAdapter is SendInterAdapterMessage with the msgbus key given.
func (a *Adapter) sendInterAdapter(ctx context.Context, key, toTopic, msgType, toDeviceID, proxyDeviceID string, body proto.Message) error {
	if toTopic == "" || toDeviceID == "" || msgType == "" {
		return status.Errorf(codes.InvalidArgument, "inter-adapter message %q to %q: needs a topic, a type and a device", msgType, toTopic)
	}
	anyBody, err := anypb.New(body)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "inter-adapter message %q: body: %v", msgType, err)
	}
	cc := a.peers.to(toTopic)
	if cc == nil {
		return status.Errorf(codes.Unavailable, "inter-adapter message %q to %s: not connected to the message bus", msgType, toTopic)
	}
	msg := &adapterv1.InterAdapterMessage{
		Header: &adapterv1.InterAdapterHeader{
			Id: a.cfg.ID + "/" + toDeviceID, Type: msgType,
			FromTopic: a.cfg.Topic, ToTopic: toTopic,
			ToDeviceId: toDeviceID, ProxyDeviceId: proxyDeviceID,
			TimestampUnixMs: time.Now().UnixMilli(),
		},
		Body: anyBody,
	}
	if _, err := adapterv1.NewAdapterServiceClient(cc).ProcessInterAdapterMessage(ctx, msg, msgbus.WithKey(key)); err != nil {
		return fmt.Errorf("inter-adapter message %s to %s (device %s): %w", msgType, toTopic, toDeviceID, err)
	}
	return nil
}

// InterAdapterKey is the msgbus key of inter-adapter messages about device.
func InterAdapterKey(device string) string { return device + "/inter-adapter" }

// busConn is the adapter's msgbus connection for inter-adapter messages:
// set while Run is connected.
type busConn struct {
	mu   sync.RWMutex // guards conn
	conn *msgbus.Conn
}

func (b *busConn) set(c *msgbus.Conn) {
	b.mu.Lock()
	b.conn = c
	b.mu.Unlock()
}

// to is a client connection to topic, nil when not connected.
func (b *busConn) to(topic string) *lazyConn {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.conn == nil {
		return nil
	}
	return &lazyConn{cc: b.conn.To(topic)}
}

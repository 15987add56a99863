package openolt

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/openvolt/openvolt/adapter"
	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
)

// The OMCI transport between this adapter and the ONUs' adapter (issue
// 14, build 7) uses inter-adapter messages sent straight to the other
// adapter's topic (adapter.SendInterAdapterMessage), keyed by the ONU's
// device id so that one ONU's messages stay in order:
//
//	ONU adapter → openolt: adapter.MsgOMCIRequest, to_device_id = the ONU,
//	  proxy_device_id = the OLT; the frame goes out as OmciMsgOut (hex).
//	openolt → ONU adapter (ChildTopic): adapter.MsgOMCIResponse with each
//	  OmciInd's frame; adapter.MsgTechProfile / MsgTechProfileDelete with a
//	  TechProfileInstance (JSON) when a UNI's instance is made or removed.

// ChildTopic is the topic of the ONUs' adapter (omci_onu).
const ChildTopic = ChildType

// ProcessInterAdapterMessage relays an ONU adapter's OMCI frame to the
// ONU (OmciMsgOut), at once: the ONU's engine has one request in flight.
func (h *handler) ProcessInterAdapterMessage(ctx context.Context, msg *adapterv1.InterAdapterMessage) error {
	hdr := msg.GetHeader()
	if hdr.GetType() == adapter.MsgPacketOut {
		return h.onuPacketOut(ctx, msg)
	}
	if hdr.GetType() != adapter.MsgOMCIRequest {
		return status.Errorf(codes.InvalidArgument, "openolt: inter-adapter message type %q not handled", hdr.GetType())
	}
	o := h.lookup(hdr.GetProxyDeviceId())
	if o == nil {
		return status.Errorf(codes.NotFound, "openolt: omci for onu %s: OLT %q unknown to this adapter", hdr.GetToDeviceId(), hdr.GetProxyDeviceId())
	}
	u := o.onuByDevice(hdr.GetToDeviceId())
	if u == nil {
		return status.Errorf(codes.NotFound, "openolt: omci for onu %s: not an ONU of OLT %s", hdr.GetToDeviceId(), o.id)
	}
	var frame wrapperspb.BytesValue
	if err := msg.GetBody().UnmarshalTo(&frame); err != nil {
		return status.Errorf(codes.InvalidArgument, "openolt: omci for onu %s: body: %v", hdr.GetToDeviceId(), err)
	}
	pon, id := u.pon, u.id // fixed when the ONU was added
	pkt := make([]byte, hex.EncodedLen(len(frame.GetValue())))
	hex.Encode(pkt, frame.GetValue())
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.OmciMsgOut(cctx, &openolt.OmciMsg{IntfId: pon, OnuId: id, Pkt: pkt}); err != nil {
		return fmt.Errorf("openolt: OmciMsgOut to onu %d/%d: %w", pon, id, err)
	}
	return nil
}

// omciIn is an OMCI frame from an ONU: it goes to the ONU's adapter. It
// runs in the ONU's omci queue, so frames keep their order.
func (o *olt) omciIn(ctx context.Context, u *onu, pkt []byte) error {
	o.mu.Lock()
	dev := u.deviceID
	o.mu.Unlock()
	if dev == "" {
		o.logUnknown("omci from an onu whose device is not known yet", "serial", u.serial)
		return nil
	}
	return o.h.a.SendInterAdapterMessage(ctx, ChildTopic, adapter.MsgOMCIResponse, dev, o.id, wrapperspb.Bytes(pkt))
}

// tpToONU sends a UNI's tech-profile instance (or its removal) to the
// ONU's adapter, which configures the ONU over OMCI. The ONU's adapter
// refuses an instance its ONU cannot carry.
func (o *olt) tpToONU(ctx context.Context, in *tpInstance, msgType string) error {
	if o.h.opts.NoONUAdapter {
		return nil
	}
	u := o.onuByID(in.PON, in.ONU)
	if u == nil {
		return nil
	}
	o.mu.Lock()
	dev := u.deviceID
	o.mu.Unlock()
	if dev == "" {
		return nil
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return o.h.a.SendInterAdapterMessage(ctx, ChildTopic, msgType, dev, o.id, wrapperspb.Bytes(body))
}

// onuUpDown tells the ONU's adapter the ONU is up or down on the PON.
func (o *olt) onuUpDown(ctx context.Context, u *onu, up bool) error {
	if o.h.opts.NoONUAdapter {
		return nil
	}
	o.mu.Lock()
	dev := u.deviceID
	o.mu.Unlock()
	state := "down"
	if up {
		state = "up"
	}
	return o.h.a.SendInterAdapterMessage(ctx, ChildTopic, adapter.MsgONUIndication, dev, o.id, wrapperspb.String(state))
}

// onuByDevice is the ONU whose child device is dev. The answer is cached:
// the relay asks for every OMCI frame and o.mu is the OLT's busy lock.
func (o *olt) onuByDevice(dev string) *onu {
	if u, ok := o.byDevice.Load(dev); ok {
		return u.(*onu)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range o.onus {
		if u.deviceID == dev {
			o.byDevice.Store(dev, u)
			return u
		}
	}
	return nil
}

// onuPacketOut is a packet-out the ONU's adapter was given for a UNI of
// its ONU (the core hands packet-outs to the device behind the port).
func (h *handler) onuPacketOut(ctx context.Context, msg *adapterv1.InterAdapterMessage) error {
	hdr := msg.GetHeader()
	o := h.lookup(hdr.GetProxyDeviceId())
	if o == nil {
		return status.Errorf(codes.NotFound, "openolt: packet-out for onu %s: OLT %q unknown to this adapter", hdr.GetToDeviceId(), hdr.GetProxyDeviceId())
	}
	var req adapterv1.PacketOutRequest
	if err := msg.GetBody().UnmarshalTo(&req); err != nil {
		return status.Errorf(codes.InvalidArgument, "openolt: packet-out for onu %s: body: %v", hdr.GetToDeviceId(), err)
	}
	if !portno.IsUNI(req.GetEgressPortNo()) {
		return status.Errorf(codes.InvalidArgument, "openolt: packet-out for onu %s: port %d is not a UNI", hdr.GetToDeviceId(), req.GetEgressPortNo())
	}
	return o.packetOut(ctx, req.GetEgressPortNo(), req.GetPacket().GetData())
}

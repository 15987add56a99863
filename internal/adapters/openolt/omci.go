package openolt

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

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
// adapter's topic:
//
//	both ways: adapter.MsgOMCIBatch, the frames of many ONUs of one OLT
//	  (adapter.OMCIBatcher: what is queued while the previous batch is in
//	  flight goes in the next, each ONU's frames in order), to_device_id =
//	  proxy_device_id = the OLT. Towards the ONUs a frame goes out as
//	  OmciMsgOut (hex); each OmciInd's frame goes back in a batch.
//	ONU adapter → openolt: adapter.MsgOMCIRequest, one frame, to_device_id
//	  = the ONU, proxy_device_id = the OLT (still served).
//	openolt → ONU adapter (ChildTopic): adapter.MsgTechProfile /
//	  MsgTechProfileDelete with a TechProfileInstance (JSON) when a UNI's
//	  instance is made or removed, keyed by the ONU's device id.

// ChildTopic is the topic of the ONUs' adapter (omci_onu).
const ChildTopic = ChildType

// ProcessInterAdapterMessage relays the ONU adapter's OMCI frames to the
// ONUs (OmciMsgOut) and its packet-outs to their UNIs.
func (h *handler) ProcessInterAdapterMessage(ctx context.Context, msg *adapterv1.InterAdapterMessage) error {
	hdr := msg.GetHeader()
	if hdr.GetType() == adapter.MsgPacketOut {
		return h.onuPacketOut(ctx, msg)
	}
	if hdr.GetType() == adapter.MsgOMCIBatch {
		return h.omciBatch(ctx, msg)
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
	return o.omciOut(ctx, u, frame.GetValue())
}

// omciIn is an OMCI frame from an ONU: it goes to the ONU's adapter in
// the OLT's next OMCI batch, after the ONU's earlier frames.
func (o *olt) omciIn(u *onu, pkt []byte) {
	o.mu.Lock()
	dev := u.deviceID
	o.mu.Unlock()
	if dev == "" {
		o.logUnknown("omci from an onu whose device is not known yet", "serial", u.serial)
		return
	}
	o.h.batch.Send(ChildTopic, o.id, dev, pkt)
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

// omciBatchWorkers bounds the ONUs of one batch whose frames are relayed at
// once.
const omciBatchWorkers = 16

// omciBatch relays a batch of the ONU adapter's OMCI frames (of many ONUs
// of one OLT) to the ONUs: each ONU's frames in order, different ONUs'
// in parallel. A frame that cannot be relayed is lost (logged at debug
// level): the ONU's engine sends it again when no response comes.
func (h *handler) omciBatch(ctx context.Context, msg *adapterv1.InterAdapterMessage) error {
	hdr := msg.GetHeader()
	o := h.lookup(hdr.GetProxyDeviceId())
	if o == nil {
		return status.Errorf(codes.NotFound, "openolt: omci batch: OLT %q unknown to this adapter", hdr.GetProxyDeviceId())
	}
	var body wrapperspb.BytesValue
	if err := msg.GetBody().UnmarshalTo(&body); err != nil {
		return status.Errorf(codes.InvalidArgument, "openolt: omci batch for OLT %s: body: %v", o.id, err)
	}
	frames, err := adapter.DecodeOMCIBatch(body.GetValue())
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "openolt: omci batch for OLT %s: %v", o.id, err)
	}
	// Group by ONU, in order of first appearance.
	byONU := make(map[string][]int, len(frames))
	var order []string
	for i, f := range frames {
		if _, ok := byONU[f.Device]; !ok {
			order = append(order, f.Device)
		}
		byONU[f.Device] = append(byONU[f.Device], i)
	}
	// A few workers take the ONUs in turn: goroutines that live for the
	// batch rather than one per ONU (each would grow its stack for gRPC).
	type job struct {
		u   *onu
		idx []int
	}
	jobs := make([]job, 0, len(order))
	for _, dev := range order {
		u := o.onuByDevice(dev)
		if u == nil {
			o.logUnknown("omci for a device that is not an onu of this OLT", "device", dev)
			continue
		}
		jobs = append(jobs, job{u, byONU[dev]})
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(omciBatchWorkers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= len(jobs) {
					return
				}
				for _, i := range jobs[n].idx {
					if err := o.omciOut(ctx, jobs[n].u, frames[i].Frame); err != nil {
						h.log.Debug("omci frame lost", "onu", frames[i].Device, "err", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// omciOut sends one OMCI frame to an ONU (OmciMsgOut, ASCII hex).
func (o *olt) omciOut(ctx context.Context, u *onu, frame []byte) error {
	pkt := make([]byte, hex.EncodedLen(len(frame)))
	hex.Encode(pkt, frame)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := o.cli.OmciMsgOut(cctx, &openolt.OmciMsg{IntfId: u.pon, OnuId: u.id, Pkt: pkt}); err != nil {
		return fmt.Errorf("openolt: OmciMsgOut to onu %d/%d: %w", u.pon, u.id, err)
	}
	return nil
}

package openolt

import (
	"context"
	"fmt"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
)

func uniPort(r tpRef) uint32 { return portno.UNI(r.PON, r.ONU, r.UNI) }

// packetIn relays a packet indication to the core on its logical port:
// the NNI, or the UNI named by interface, ONU id and UNI id (port_no when
// the OLT gives it).
func (o *olt) packetIn(ctx context.Context, in *openolt.PacketIndication) error {
	var port uint32
	switch in.GetIntfType() {
	case "nni":
		if in.GetIntfId() > 14 {
			o.logUnknown(fmt.Sprintf("packet from unknown nni %d", in.GetIntfId()))
			return nil
		}
		port = portno.NNI(in.GetIntfId())
	case "pon":
		if o.onuByID(in.GetIntfId(), in.GetOnuId()) == nil {
			o.logUnknown(fmt.Sprintf("packet from unknown onu %d on pon %d", in.GetOnuId(), in.GetIntfId()))
			return nil
		}
		port = in.GetPortNo()
		if port == 0 {
			port = portno.UNI(in.GetIntfId(), in.GetOnuId(), in.GetUniId())
		}
	default:
		o.logUnknown(fmt.Sprintf("packet from interface type %q", in.GetIntfType()))
		return nil
	}
	_, err := o.h.core.SendPacketIn(ctx, &adapterv1.PacketInRequest{DeviceId: o.id, PortNo: port, Packet: in.GetPkt()})
	return err
}

// SendPacketOut sends a frame out of a UNI (OnuPacketOut, on the GEM port
// of the UNI's instance) or an NNI (UplinkPacketOut).
func (h *handler) SendPacketOut(ctx context.Context, req *adapterv1.PacketOutRequest) error {
	d := req.GetDevice()
	if err := checkAddress(d); err != nil {
		return err
	}
	o := h.lookup(d.GetId())
	if o == nil {
		return status.Errorf(codes.Unavailable, "olt %s is not adopted by this adapter yet", d.GetId())
	}
	port, pkt := req.GetEgressPortNo(), req.GetPacket().GetData()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	switch {
	case portno.IsNNI(port):
		_, err := o.cli.UplinkPacketOut(cctx, &openolt.UplinkPacket{IntfId: port - portno.NNI(0), Pkt: pkt})
		return err
	case portno.IsUNI(port):
		pon, onuID, uni := portno.SplitUNI(port)
		if o.onuByID(pon, onuID) == nil {
			return status.Errorf(codes.NotFound, "packet-out to port %d: no onu %d on pon %d", port, onuID, pon)
		}
		var gem uint32
		if _, fs, err := o.stores(); err == nil {
			fs.mu.Lock()
			if id := fs.uniProfileLocked(pon, onuID, uni); id != 0 {
				in := fs.tps[tpRef{PON: pon, ONU: onuID, UNI: uni, TPID: id}]
				gem = in.GemPorts[0].ID
			}
			fs.mu.Unlock()
		}
		_, err := o.cli.OnuPacketOut(cctx, &openolt.OnuPacket{IntfId: pon, OnuId: onuID, PortNo: port, GemportId: gem, Pkt: pkt})
		return err
	}
	return status.Errorf(codes.InvalidArgument, "packet-out to port %d: neither an NNI nor a UNI of the OLT", port)
}

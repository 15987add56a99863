package ponsim

// The dataplane: frames enter on an external port (Inject: the OLT NNI or
// an ONU UNI) or from the controller (SendFrame), cross the devices' flow
// tables and leave on an external port (to its Wire) or to the controller
// (ReceiveFrames). The OLT and its ONUs are linked in memory:
//
//	UNI ─► ONU table ─► ONU PON ══► OLT PON p ─► OLT table ─► NNI   (upstream)
//	NNI ─► OLT table ─► OLT PON p ══► ONU PON ─► ONU table ─► UNI   (downstream)
//
// It follows the conventions of the device flows the core makes
// (internal/core/flowdecomp):
//
//   - A frame on the PON carries a tunnel_id, its GEM port: the number of
//     the subscriber's UNI. The side that sends it onto the PON sets it
//     (set_field:UNI->tunnel_id), the side that receives it matches it
//     (in_port=PON,tunnel_id=UNI). It lives as long as the frame is on
//     the PON and the device that took it off; frames from outside carry 0.
//   - Downstream, a frame with a tunnel_id goes to the ONU whose UNI it
//     names, if that ONU is on the PON (else it is dropped on the OLT PON
//     port). A frame without one (multicast) is offered to every up ONU on
//     the PON; an ONU whose table does not match ignores it silently (it
//     was not for that ONU), and only when no ONU takes it is it counted
//     as dropped on the OLT PON port. An OLT flow may also output to a UNI
//     number, which sends the frame down the right PON to that one ONU.
//   - In table 0 a metadata match is the VID of the inner tag (an OLT flow
//     from the NNI that pops the S-tag names the C-tag under it this way);
//     in later tables it is the metadata that write_metadata wrote.
//   - A packet-in from the OLT of a frame that came up the PON names the
//     UNI its tunnel_id carries (Frame.port_no), as an OLT reports the GEM
//     port a trapped frame came by; without one, the PON port.
//
// Lookup: table 0 first; flows by descending priority, ties to the most
// specific match (flows.go, index.go). Matches: in_port, tunnel_id,
// metadata, Ethernet addresses and type (after every tag, as OpenFlow
// has it), vlan_vid of the outer tag (OFPVID_PRESENT|vid, 0 untagged),
// vlan_pcp, ip_proto (IPv4 and IPv6), IPv4 addresses, TCP and UDP ports.
// Actions: output (a port, IN_PORT, CONTROLLER), push_vlan 0x8100/0x88a8,
// pop_vlan, set_field vlan_vid/vlan_pcp/tunnel_id, group (ALL: a copy to
// every bucket; other types: the first bucket); write-actions run after
// apply-actions; goto_table continues in that table. A meter instruction
// counts the packet on the meter and polices nothing (its bands never act). A device that is
// down (OLT disabled or rebooting; ONU disabled or rebooting) forwards
// nothing. A frame too short for its Ethernet header and tags is counted
// as malformed on the port it came in by and dropped.
//
// Everything runs in the caller's goroutine without locks: tables and "up"
// flags are atomic, and frames are never changed once made (frame.go).

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// maxHops bounds how many devices a frame may cross, so a flow loop (an ONU
// sending back to its IN_PORT, say) ends.
const maxHops = 8

// frameQueueLen is how many packet-ins a ReceiveFrames stream may have
// waiting; past it packet-ins are dropped (and counted on their in port).
const frameQueueLen = 1024

type frameSub struct {
	ch chan *ponsimv1.Frame
}

// externalPort finds an external port (the OLT NNI or an ONU's UNI).
func (s *Sim) externalPort(serial string, no uint32) (*device, *onu, *port, error) {
	d, u, err := s.lookup(serial)
	if err != nil {
		return nil, nil, nil, err
	}
	p := d.port(no)
	if p == nil || !p.external {
		return nil, nil, nil, invalid("device %q has no external port %d (the OLT's NNI or an ONU's UNI)", serial, no)
	}
	return d, u, p, nil
}

// Connect plugs w into an external port: the OLT NNI (serial "") or an ONU's
// UNI. A nil w unplugs it; frames sent out of an unplugged port are dropped.
func (s *Sim) Connect(serial string, portNo uint32, w Wire) error {
	_, _, p, err := s.externalPort(serial, portNo)
	if err != nil {
		return err
	}
	if w == nil {
		p.wire.Store(nil)
	} else {
		p.wire.Store(&w)
	}
	return nil
}

// Inject delivers a frame arriving on an external port from outside, and
// forwards it before returning. frame is not kept.
func (s *Sim) Inject(serial string, portNo uint32, frame []byte) error {
	d, u, p, err := s.externalPort(serial, portNo)
	if err != nil {
		return err
	}
	s.receive(d, u, p, packet{b: clone(frame)}, 0, false)
	return nil
}

// packet is a frame in flight and what OpenFlow keeps beside it between
// devices.
type packet struct {
	b      []byte // never changed once made: edits make a new slice
	tunnel uint64 // tunnel_id: the GEM port (a UNI number) on the PON
}

// devUp reports whether device u (nil: the OLT) forwards frames now.
func (s *Sim) devUp(u *onu) bool {
	return s.olt.up.Load() && (u == nil || u.up.Load())
}

// receive runs p, arriving on port in of device d (u for an ONU), through
// d's table. quiet is for a PON broadcast: a frame the ONU does not take is
// neither counted nor dropped there. It reports whether d took it.
func (s *Sim) receive(d *device, u *onu, in *port, p packet, hops int, quiet bool) bool {
	reject := func(counter func()) bool {
		if !quiet {
			in.rx(len(p.b))
			counter()
		}
		return false
	}
	if hops > maxHops || !s.devUp(u) {
		return reject(in.drop)
	}
	f, ok := parse(p.b)
	if !ok {
		return reject(func() { in.malformed.Add(1) })
	}
	t := d.table.Load()
	v := view{inPort: in.no, f: &f, tunnel: p.tunnel}
	e := t.lookup(0, &v)
	if e == nil {
		return reject(in.drop)
	}
	in.rx(len(p.b))
	for e != nil {
		if s.counting {
			e.count.add(len(p.b)) // and so its meter's (meterTotals)
		}
		if e.writeMetaMask != 0 {
			v.meta = v.meta&^e.writeMetaMask | e.writeMeta&e.writeMetaMask
		}
		for _, a := range e.actions {
			s.act(d, u, t, in, &p, a, hops)
		}
		if e.gotoTable < 0 {
			break
		}
		if f, ok = parse(p.b); !ok {
			in.malformed.Add(1)
			break
		}
		v.tunnel = p.tunnel
		if e = t.lookup(uint32(e.gotoTable), &v); e == nil {
			in.drop()
		}
	}
	return true
}

// act applies one action to p.
func (s *Sim) act(d *device, u *onu, t *table, in *port, p *packet, a *openflowv1.Action, hops int) {
	switch a := a.GetAction().(type) {
	case *openflowv1.Action_Output:
		s.output(d, u, in, a.Output.GetPort(), *p, hops)
	case *openflowv1.Action_PushVlan:
		p.b = pushVLAN(p.b, uint16(a.PushVlan.GetEthertype()))
	case *openflowv1.Action_PopVlan:
		p.b = popVLAN(p.b)
	case *openflowv1.Action_SetField:
		fld := a.SetField.GetField()
		switch fld.GetType() {
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
			p.b = setVID(p.b, uint16(fld.GetValue()))
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
			p.b = setPCP(p.b, uint8(fld.GetValue()))
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_TUNNEL_ID:
			p.tunnel = fld.GetValue()
		}
	case *openflowv1.Action_Group:
		g := t.group(a.Group.GetGroupId())
		for i, bk := range g.GetBuckets() {
			if i > 0 && g.GetType() != openflowv1.GroupType_GROUP_TYPE_ALL {
				break
			}
			gp := *p // each bucket starts from the packet as it reached the group
			for _, ba := range bk.GetActions() {
				s.act(d, u, t, in, &gp, ba, hops)
			}
		}
	}
}

// output sends p out of port no of device d.
func (s *Sim) output(d *device, u *onu, in *port, no uint32, p packet, hops int) {
	switch no {
	case ofppController:
		s.packetIn(d, u, in, p)
		return
	case ofppInPort:
		no = in.no
	}
	if out := d.port(no); out != nil {
		s.transmit(u, out, p, hops)
		return
	}
	if dst, ok := s.byUNI[no]; ok && u == nil {
		// An OLT flow naming a UNI: down the ONU's PON to that ONU only.
		s.olt.pons[dst.pon].tx(len(p.b))
		s.receive(&dst.device, dst, dst.ponPort, p, hops+1, false)
		return
	}
	in.drop() // no such port
}

// onuOnPON returns the ONU whose UNI the GEM port tunnel names, if it is on
// PON pon.
func (s *Sim) onuOnPON(pon uint32, tunnel uint64) *onu {
	if tunnel == 0 || tunnel > math.MaxUint32 {
		return nil
	}
	dst := s.byUNI[uint32(tunnel)]
	if dst == nil || dst.pon != pon {
		return nil
	}
	return dst
}

// transmit sends p out of port out of device u (nil: the OLT) to whatever
// is on the other side.
func (s *Sim) transmit(u *onu, out *port, p packet, hops int) {
	switch {
	case out.external:
		w := out.wire.Load()
		if w == nil {
			out.drop()
			return
		}
		out.tx(len(p.b))
		(*w)(clone(p.b))
	case u != nil: // ONU PON: up to the OLT's PON port
		out.tx(len(p.b))
		s.receive(&s.olt.device, nil, s.olt.pons[u.pon], p, hops+1, false)
	default: // OLT PON: to the ONU of the GEM port, or to every ONU on it
		out.tx(len(p.b))
		pon := portno.PONOf(out.no)
		if p.tunnel != 0 {
			dst := s.onuOnPON(pon, p.tunnel)
			if dst == nil {
				out.drop()
				return
			}
			s.receive(&dst.device, dst, dst.ponPort, p, hops+1, false)
			return
		}
		taken := false
		for _, dst := range s.onus[int(pon)*s.cfg.ONUsPerPON : int(pon+1)*s.cfg.ONUsPerPON] {
			if s.receive(&dst.device, dst, dst.ponPort, p, hops+1, true) {
				taken = true
			}
		}
		if !taken {
			out.drop()
		}
	}
}

// ref is how a DeviceRef names d: "" for the OLT, the serial for an ONU.
func (s *Sim) ref(d *device) string {
	if d == &s.olt.device {
		return ""
	}
	return d.serial
}

// packetIn hands p, which arrived on port in of d (u for an ONU), to every
// ReceiveFrames stream. A frame that came up the PON to the OLT names the
// UNI of its GEM port. A stream that is full misses it; the drop is
// counted on in.
func (s *Sim) packetIn(d *device, u *onu, in *port, p packet) {
	no := in.no
	if u == nil && !in.external {
		if src := s.onuOnPON(portno.PONOf(in.no), p.tunnel); src != nil {
			no = src.uni.no
		}
	}
	// p.b is never changed, so the streams may share it.
	fr := &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{SerialNumber: s.ref(d)}, PortNo: no, Payload: p.b}
	s.log.Debug("frame to the controller", "device", d.label, "port", no, "bytes", len(p.b))
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if len(s.frameSubs) == 0 {
		in.drop()
		return
	}
	for sub := range s.frameSubs {
		select {
		case sub.ch <- fr:
		default:
			in.drop()
		}
	}
}

// sendFrame sends a packet-out: fr's payload leaves port fr.port_no of
// fr.device as if that device's table had output it there.
func (s *Sim) sendFrame(fr *ponsimv1.Frame) error {
	if fr.GetDevice() == nil {
		return invalid("frame needs a device (empty serial for the OLT)")
	}
	if len(fr.GetPayload()) < ethHeaderLen {
		return invalid("frame of %d bytes is shorter than an Ethernet header", len(fr.GetPayload()))
	}
	d, u, err := s.lookup(fr.GetDevice().GetSerialNumber())
	if err != nil {
		return err
	}
	p := d.port(fr.GetPortNo())
	if p == nil {
		return invalid("device %q has no port %d", fr.GetDevice().GetSerialNumber(), fr.GetPortNo())
	}
	if !s.devUp(u) {
		return fmt.Errorf("device %q: %w", fr.GetDevice().GetSerialNumber(), ErrDeviceDown)
	}
	s.log.Debug("frame from the controller", "device", d.label, "port", fr.GetPortNo(), "bytes", len(fr.GetPayload()))
	s.transmit(u, p, packet{b: clone(fr.GetPayload())}, 0)
	return nil
}

// SendFrame is the gRPC form of a packet-out.
func (s *Sim) SendFrame(_ context.Context, fr *ponsimv1.Frame) (*emptypb.Empty, error) {
	if err := s.sendFrame(fr); err != nil {
		return nil, toStatus(err)
	}
	return &emptypb.Empty{}, nil
}

// ReceiveFrames streams packet-ins: frames a flow sent to CONTROLLER, with
// the device ("" for the OLT) and the port they arrived on. Every open
// stream gets every frame.
func (s *Sim) ReceiveFrames(_ *emptypb.Empty, stream grpc.ServerStreamingServer[ponsimv1.Frame]) error {
	sub := &frameSub{ch: make(chan *ponsimv1.Frame, frameQueueLen)}
	s.fmu.Lock()
	s.frameSubs[sub] = struct{}{}
	s.fmu.Unlock()
	defer func() {
		s.fmu.Lock()
		delete(s.frameSubs, sub)
		s.fmu.Unlock()
	}()
	ctx := stream.Context()
	for {
		select {
		case fr := <-sub.ch:
			if err := stream.Send(fr); err != nil {
				return err
			}
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.done:
			return toStatus(ErrClosed)
		}
	}
}

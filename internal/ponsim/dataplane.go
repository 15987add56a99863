package ponsim

// The dataplane: frames enter on an external port (Inject: the OLT NNI or
// an ONU UNI) or from the controller (SendFrame), cross the devices' flow
// tables and leave on an external port (to its Wire) or to the controller
// (ReceiveFrames). The OLT and its ONUs are linked in memory:
//
//	UNI ─► ONU table ─► ONU PON ══► OLT PON p ─► OLT table ─► NNI   (upstream)
//	NNI ─► OLT table ─► OLT PON p ══► every ONU on p: ONU table ─► UNI (downstream)
//
// Downstream the PON is a broadcast medium: each up ONU on the PON offers
// the frame to its table with in_port ONU PON, and an ONU whose table has no
// match ignores it silently (it was not for that ONU); only when no ONU takes
// it is it counted as dropped on the OLT PON port. An OLT flow may also
// output to a UNI number, which sends the frame down the right PON to that
// one ONU.
//
// Lookup: table 0 first; flows by descending priority, ties to the most
// specific match (flows.go). Actions: output (a port, IN_PORT, CONTROLLER),
// push_vlan 0x8100/0x88a8, pop_vlan, set_field vlan_vid/vlan_pcp, group
// (ALL: every bucket; other types: the first bucket); write-actions run after
// apply-actions; goto_table continues in that table. A device that is down
// (OLT disabled or rebooting; ONU disabled or rebooting) forwards nothing.
//
// Everything runs in the caller's goroutine without locks: tables and "up"
// flags are atomic, and frames are never changed once sent (frame.go).

import (
	"context"
	"fmt"

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
	s.receive(d, u, p, clone(frame), 0, false)
	return nil
}

// devUp reports whether device u (nil: the OLT) forwards frames now.
func (s *Sim) devUp(u *onu) bool {
	return s.olt.up.Load() && (u == nil || u.up.Load())
}

// receive runs frame b, arriving on port in of device d (u for an ONU),
// through d's table. quiet is for a PON broadcast: a frame the ONU does not
// take is neither counted nor dropped there. It reports whether d took it.
func (s *Sim) receive(d *device, u *onu, in *port, b []byte, hops int, quiet bool) bool {
	reject := func(counter func()) bool {
		if !quiet {
			in.rx(len(b))
			counter()
		}
		return false
	}
	if hops > maxHops || !s.devUp(u) {
		return reject(in.drop)
	}
	f, ok := parse(b)
	if !ok {
		return reject(func() { in.malformed.Add(1) })
	}
	t := d.table.Load()
	e := t.lookup(0, in.no, &f)
	if e == nil {
		return reject(in.drop)
	}
	in.rx(len(b))
	for e != nil {
		e.packets.Add(1)
		e.bytes.Add(uint64(len(b)))
		for _, a := range e.actions {
			b = s.act(d, u, t, in, b, a, hops)
		}
		if e.gotoTable < 0 {
			break
		}
		if f, ok = parse(b); !ok {
			in.malformed.Add(1)
			break
		}
		if e = t.lookup(uint32(e.gotoTable), in.no, &f); e == nil {
			in.drop()
		}
	}
	return true
}

// act applies one action to b and returns the frame the next action sees.
func (s *Sim) act(d *device, u *onu, t *table, in *port, b []byte, a *openflowv1.Action, hops int) []byte {
	switch a := a.GetAction().(type) {
	case *openflowv1.Action_Output:
		s.output(d, u, in, a.Output.GetPort(), b, hops)
	case *openflowv1.Action_PushVlan:
		return pushVLAN(b, uint16(a.PushVlan.GetEthertype()))
	case *openflowv1.Action_PopVlan:
		return popVLAN(b)
	case *openflowv1.Action_SetField:
		fld := a.SetField.GetField()
		switch fld.GetType() {
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_VID:
			return setVID(b, uint16(fld.GetValue()))
		case openflowv1.MatchFieldType_MATCH_FIELD_TYPE_VLAN_PCP:
			return setPCP(b, uint8(fld.GetValue()))
		}
	case *openflowv1.Action_Group:
		g := t.groups[a.Group.GetGroupId()]
		for i, bk := range g.GetBuckets() {
			if i > 0 && g.GetType() != openflowv1.GroupType_GROUP_TYPE_ALL {
				break
			}
			gb := b // each bucket starts from the frame as it reached the group
			for _, ba := range bk.GetActions() {
				gb = s.act(d, u, t, in, gb, ba, hops)
			}
		}
	}
	return b
}

// output sends b out of port no of device d.
func (s *Sim) output(d *device, u *onu, in *port, no uint32, b []byte, hops int) {
	switch no {
	case ofppController:
		s.packetIn(d, in, b)
		return
	case ofppInPort:
		no = in.no
	}
	if p := d.port(no); p != nil {
		s.transmit(u, p, b, hops)
		return
	}
	if dst, ok := s.byUNI[no]; ok && u == nil {
		// An OLT flow naming a UNI: down the ONU's PON to that ONU only.
		pp := s.olt.pons[dst.pon]
		pp.tx(len(b))
		if !s.receive(&dst.device, dst, dst.ponPort, b, hops+1, false) {
			pp.drop()
		}
		return
	}
	in.drop() // no such port
}

// transmit sends b out of port p of device u (nil: the OLT) to whatever is
// on the other side.
func (s *Sim) transmit(u *onu, p *port, b []byte, hops int) {
	switch {
	case p.external:
		w := p.wire.Load()
		if w == nil {
			p.drop()
			return
		}
		p.tx(len(b))
		(*w)(clone(b))
	case u != nil: // ONU PON: up to the OLT's PON port
		p.tx(len(b))
		s.receive(&s.olt.device, nil, s.olt.pons[u.pon], b, hops+1, false)
	default: // OLT PON: to every ONU on it
		p.tx(len(b))
		pon := portno.PONOf(p.no)
		taken := false
		for _, dst := range s.onus[int(pon)*s.cfg.ONUsPerPON : int(pon+1)*s.cfg.ONUsPerPON] {
			if s.receive(&dst.device, dst, dst.ponPort, b, hops+1, true) {
				taken = true
			}
		}
		if !taken {
			p.drop()
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

// packetIn hands b, which arrived on port in of d, to every ReceiveFrames
// stream. A stream that is full misses it; the drop is counted on in.
func (s *Sim) packetIn(d *device, in *port, b []byte) {
	fr := &ponsimv1.Frame{Device: &ponsimv1.DeviceRef{SerialNumber: s.ref(d)}, PortNo: in.no, Payload: clone(b)}
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
	s.transmit(u, p, clone(fr.GetPayload()), 0)
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

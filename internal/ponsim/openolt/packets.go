package openolt

import (
	"context"
	"slices"

	"github.com/opencord/voltha-protos/v5/go/openolt"
	"github.com/opencord/voltha-protos/v5/go/tech_profile"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// pumpPacketIns turns the simulator's packet-ins from the OLT (frames its
// flows trapped) into packet indications, until the face or the
// simulator stops.
func (s *Server) pumpPacketIns(frames <-chan *ponsimv1.Frame) {
	for {
		select {
		case fr := <-frames:
			if ind := s.packetInd(fr); ind != nil {
				s.send(&openolt.Indication{Data: &openolt.Indication_PktInd{PktInd: ind}})
			}
		case <-s.done:
			return
		case <-s.sim.Done():
			return
		}
	}
}

// packetInd is the packet indication of a trapped frame: from the NNI, or
// from the ONU whose UNI its GEM port names.
func (s *Server) packetInd(fr *ponsimv1.Frame) *openolt.PacketIndication {
	if fr.GetDevice().GetSerialNumber() != "" {
		return nil // an ONU's own trap: no openolt flow makes one
	}
	if fr.GetPortNo() == portno.NNI(0) {
		return &openolt.PacketIndication{IntfType: "nni", IntfId: 0, Pkt: fr.GetPayload()}
	}
	u := s.byUNI[fr.GetPortNo()]
	if u == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.id.Load() == 0 {
		return nil
	}
	var gem uint32
	for k, o := range s.gems {
		if o == u && (gem == 0 || k.id < gem) {
			gem = k.id
		}
	}
	return &openolt.PacketIndication{IntfType: "pon", IntfId: u.pon, OnuId: u.id.Load(), UniId: 0, GemportId: gem,
		PortNo: portno.UNI(u.pon, u.id.Load(), 0), Pkt: fr.GetPayload()}
}

// OnuPacketOut sends a frame out of an ONU's UNI.
func (s *Server) OnuPacketOut(_ context.Context, in *openolt.OnuPacket) (*openolt.Empty, error) {
	s.mu.Lock()
	u, err := s.onuLocked(in.GetIntfId(), in.GetOnuId())
	if err == nil && in.GetPortNo() != 0 && in.GetPortNo() != portno.UNI(u.pon, u.id.Load(), 0) {
		err = fail(errInvalid, "port_no %d is not the uni of onu %d on pon %d (want %d)", in.GetPortNo(), u.id.Load(), u.pon, portno.UNI(u.pon, u.id.Load(), 0))
	}
	s.mu.Unlock()
	if err != nil {
		return empty(err)
	}
	return empty(s.sim.SendOut(u.serial, u.uni, in.GetPkt()))
}

// UplinkPacketOut sends a frame out of the NNI.
func (s *Server) UplinkPacketOut(_ context.Context, in *openolt.UplinkPacket) (*openolt.Empty, error) {
	if in.GetIntfId() != 0 {
		return empty(fail(errNotFound, "intf_id %d: the olt has nni 0 only", in.GetIntfId()))
	}
	return empty(s.sim.SendOut("", portno.NNI(0), in.GetPkt()))
}

// subscriberLocked finds the activated ONU and checks the UNI and port a
// scheduler or queue request names.
func (s *Server) subscriberLocked(pon, onuID, uniID, portNo uint32) (*onuState, error) {
	u, err := s.onuLocked(pon, onuID)
	if err != nil {
		return nil, err
	}
	if uniID != 0 {
		return nil, fail(errNotFound, "uni_id %d: the simulator forwards on uni 0 of each onu", uniID)
	}
	if want := portno.UNI(pon, onuID, uniID); portNo != 0 && portNo != want {
		return nil, fail(errInvalid, "port_no %d does not match intf_id %d, onu_id %d, uni_id %d (want %d)", portNo, pon, onuID, uniID, want)
	}
	return u, nil
}

// CreateTrafficSchedulers takes the alloc ids of the schedulers (T-CONTs)
// for the ONU; one another ONU of the PON holds is refused.
func (s *Server) CreateTrafficSchedulers(_ context.Context, in *tech_profile.TrafficSchedulers) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.subscriberLocked(in.GetIntfId(), in.GetOnuId(), in.GetUniId(), in.GetPortNo())
	if err != nil {
		return empty(err)
	}
	if len(in.GetTrafficScheds()) == 0 {
		return empty(fail(errInvalid, "traffic_scheds is empty"))
	}
	for _, ts := range in.GetTrafficScheds() {
		if ts.GetAllocId() == 0 {
			return empty(fail(errInvalid, "traffic_scheds: alloc_id is missing"))
		}
		if err := s.checkAllocLocked(u, ts.GetAllocId()); err != nil {
			return empty(err)
		}
	}
	for _, ts := range in.GetTrafficScheds() {
		s.allocs[resKey{u.pon, ts.GetAllocId()}] = u
	}
	return empty(nil)
}

// RemoveTrafficSchedulers gives the ONU's alloc ids back.
func (s *Server) RemoveTrafficSchedulers(_ context.Context, in *tech_profile.TrafficSchedulers) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.subscriberLocked(in.GetIntfId(), in.GetOnuId(), in.GetUniId(), in.GetPortNo())
	if err != nil {
		return empty(err)
	}
	for _, ts := range in.GetTrafficScheds() {
		if k := (resKey{u.pon, ts.GetAllocId()}); s.allocs[k] == u {
			delete(s.allocs, k)
		}
	}
	return empty(nil)
}

// CreateTrafficQueues takes the GEM ports of the queues for the ONU; one
// another ONU of the PON holds is refused.
func (s *Server) CreateTrafficQueues(_ context.Context, in *tech_profile.TrafficQueues) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.subscriberLocked(in.GetIntfId(), in.GetOnuId(), in.GetUniId(), in.GetPortNo())
	if err != nil {
		return empty(err)
	}
	if len(in.GetTrafficQueues()) == 0 {
		return empty(fail(errInvalid, "traffic_queues is empty"))
	}
	perPON := uint32(s.sim.ONUsPerPON())
	var gems []uint32
	for _, q := range in.GetTrafficQueues() {
		g := q.GetGemportId()
		if g < FirstGemPortID || g > FirstGemPortID+perPON*GemPortsPerONU-1 {
			return empty(fail(errInvalid, "traffic_queues: gemport_id %d out of range %d..%d", g, FirstGemPortID, FirstGemPortID+perPON*GemPortsPerONU-1))
		}
		if o := s.gemOwnerLocked(u, g); o != nil {
			return empty(fail(errInUse, "gem-%d-already-in-use: gemport_id %d on pon %d belongs to onu %d", g, g, u.pon, o.id.Load()))
		}
		gems = append(gems, g)
	}
	for _, g := range slices.Compact(gems) {
		s.gems[resKey{u.pon, g}] = u
	}
	return empty(nil)
}

// RemoveTrafficQueues gives the ONU's GEM ports back.
func (s *Server) RemoveTrafficQueues(_ context.Context, in *tech_profile.TrafficQueues) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.subscriberLocked(in.GetIntfId(), in.GetOnuId(), in.GetUniId(), in.GetPortNo())
	if err != nil {
		return empty(err)
	}
	for _, q := range in.GetTrafficQueues() {
		if k := (resKey{u.pon, q.GetGemportId()}); s.gems[k] == u {
			delete(s.gems, k)
		}
	}
	return empty(nil)
}

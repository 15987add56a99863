package openolt

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// omciONU is one ONU's OMCI side (an *omcisim.ONU).
type omciONU interface {
	Handle(req []byte) ([][]byte, error)
	Reboot()
	SetUNILoss(uni int, los bool) [][]byte
}

// onuState is one ONU as the face knows it.
type onuState struct {
	pon, simID uint32
	serial     string
	sn         *openolt.SerialNumber
	uni        uint32 // the simulator's UNI port number: the tunnel_id on the PON
	omci       omciONU
	config     func() onuConfig // what its OMCI config asks of the dataplane

	tmu sync.Mutex // serialises the rebuilds of its flow table

	id  atomic.Uint32 // the adapter's ONU id, 0: not activated; written under Server.mu, read by the Sim's watcher without it
	off atomic.Bool   // powered off, as the Sim's watcher last heard (its alarms were sent)
}

// SerialNumber splits a ponsim serial ("PSMO" + 8 hex digits) the openolt
// way: vendor id and 4 vendor-specific bytes.
func SerialNumber(serial string) *openolt.SerialNumber {
	sn := &openolt.SerialNumber{VendorId: []byte(serial[:min(4, len(serial))])}
	if len(serial) > 4 {
		if b, err := hex.DecodeString(serial[4:]); err == nil {
			sn.VendorSpecific = b
		} else {
			sn.VendorSpecific = []byte(serial[4:])
		}
	}
	return sn
}

// serialString is the ponsim serial an openolt serial number names.
func serialString(sn *openolt.SerialNumber) string {
	return fmt.Sprintf("%s%X", sn.GetVendorId(), sn.GetVendorSpecific())
}

// onuLocked returns the activated ONU onuID on PON pon.
func (s *Server) onuLocked(pon, onuID uint32) (*onuState, error) {
	if err := s.checkPONLocked(pon); err != nil {
		return nil, err
	}
	u := s.byID[onuKey{pon, onuID}]
	if u == nil {
		return nil, fail(errNotFound, "no activated onu %d on pon %d", onuID, pon)
	}
	return u, nil
}

// ActivateOnu gives a discovered ONU the adapter's id and brings it up.
func (s *Server) ActivateOnu(_ context.Context, in *openolt.Onu) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return empty(s.activateLocked(in))
}

func (s *Server) activateLocked(in *openolt.Onu) error {
	if err := s.checkPONLocked(in.GetIntfId()); err != nil {
		return err
	}
	if in.GetOnuId() == 0 || in.GetOnuId() > uint32(s.sim.ONUsPerPON()) {
		return fail(errInvalid, "onu_id %d out of range 1..%d", in.GetOnuId(), s.sim.ONUsPerPON())
	}
	if in.GetSerialNumber() == nil {
		return fail(errInvalid, "serial_number is missing")
	}
	serial := serialString(in.GetSerialNumber())
	u := s.bySerial[serial]
	if u == nil {
		return fail(errNotFound, "no onu with serial_number %s", serial)
	}
	if u.pon != in.GetIntfId() {
		return fail(errNotFound, "onu %s is on pon %d, not on intf_id %d", serial, u.pon, in.GetIntfId())
	}
	key := onuKey{u.pon, in.GetOnuId()}
	if other := s.byID[key]; other != nil && other != u {
		return fail(errInUse, "onu_id %d on pon %d is in use by onu %s", in.GetOnuId(), u.pon, other.serial)
	}
	if u.id.Load() != 0 && u.id.Load() != in.GetOnuId() {
		return fail(errInUse, "onu %s is already activated as onu_id %d", serial, u.id.Load())
	}
	before, err := s.sim.ONU(serial)
	if err != nil {
		return err
	}
	old := u.id.Swap(in.GetOnuId()) // before the Sim tells the watcher
	if err := s.sim.ActivateONU(serial); err != nil {
		u.id.Store(old)
		return err
	}
	s.byID[key] = u
	s.log.Debug("openolt: onu activated", "serial", serial, "pon", u.pon, "onu_id", in.GetOnuId())
	if before.Enabled {
		// No state change for ONUChanged to report.
		s.sendLocked(s.onuIndLocked(u))
	}
	return nil
}

// DeactivateOnu disables an activated ONU; it keeps its id.
func (s *Server) DeactivateOnu(_ context.Context, in *openolt.Onu) (*openolt.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.onuLocked(in.GetIntfId(), in.GetOnuId())
	if err != nil {
		return empty(err)
	}
	return empty(s.sim.Disable(u.serial)) // ONUChanged says so
}

// DeleteOnu forgets an activated ONU: its flows, schedulers, queues and
// OMCI config go, and it is discovered again.
func (s *Server) DeleteOnu(_ context.Context, in *openolt.Onu) (*openolt.Empty, error) {
	s.mu.Lock()
	u, err := s.onuLocked(in.GetIntfId(), in.GetOnuId())
	if err != nil {
		s.mu.Unlock()
		return empty(err)
	}
	for id, f := range s.flows {
		if f.onu == u {
			s.removeFlowLocked(id, f)
		}
	}
	for k, o := range s.allocs {
		if o == u {
			delete(s.allocs, k)
		}
	}
	for k, o := range s.gems {
		if o == u {
			delete(s.gems, k)
		}
	}
	delete(s.byID, onuKey{u.pon, u.id.Load()})
	s.resetONULocked(u)
	s.sendLocked(onuDiscInd(u))
	s.mu.Unlock()
	s.powerCycle(u)
	return empty(nil)
}

// resetONULocked makes u a fresh, not activated ONU; its MIB is the
// caller's to reset (powerCycle) once mu is released.
func (s *Server) resetONULocked(u *onuState) {
	u.id.Store(0)
	if err := s.sim.ForgetONU(u.serial); err != nil {
		s.log.Warn("openolt: forget onu", "serial", u.serial, "err", err)
	}
}

// powerCycle takes u's MIB back to its factory state, and its flow table
// with it. Call it without mu: the ONU's hooks take it.
func (s *Server) powerCycle(u *onuState) {
	u.omci.Reboot()
	s.refreshONU(u)
}

// onuRebooted answers an OMCI reboot of u: it drops off the PON and comes
// back.
func (s *Server) onuRebooted(u *onuState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.id.Load() == 0 {
		return
	}
	ind := func(state string) *openolt.Indication {
		return &openolt.Indication{Data: &openolt.Indication_OnuInd{OnuInd: &openolt.OnuIndication{
			IntfId: u.pon, OnuId: u.id.Load(), OperState: state, AdminState: "up", SerialNumber: u.sn}}}
	}
	s.sendLocked(ind("down"), ind("up"))
}

// gemOwnerLocked returns the other ONU of u's PON that holds GEM port g,
// over openolt (queues, flows) or OMCI (GEM port network CTPs), or nil.
func (s *Server) gemOwnerLocked(u *onuState, g uint32) *onuState {
	k := resKey{u.pon, g}
	if o := s.gems[k]; o != nil && o != u {
		return o
	}
	if o := s.omciGems[k]; o != nil && o != u {
		return o
	}
	return nil
}

// OmciMsgOut hands an OMCI frame (ASCII hex, the openolt convention) to
// the ONU; what it answers comes back as OMCI indications (raw bytes).
// Frames the ONU cannot decode are counted and answered as G.988 says
// (an error response where it has one), never with a gRPC error: a real
// OLT relays OMCI without reading it. Hex that does not decode is refused
// (InvalidArgument) and counted.
func (s *Server) OmciMsgOut(_ context.Context, in *openolt.OmciMsg) (*openolt.Empty, error) {
	s.mu.Lock()
	u, err := s.onuLocked(in.GetIntfId(), in.GetOnuId())
	s.mu.Unlock()
	if err != nil {
		return empty(err)
	}
	if !s.sim.ONUUp(u.serial) {
		return empty(fail(errPrecondition, "onu %d on pon %d is down (it, or the olt, is disabled or rebooting)", in.GetOnuId(), in.GetIntfId()))
	}
	frame := make([]byte, hex.DecodedLen(len(in.GetPkt())))
	if _, err := hex.Decode(frame, in.GetPkt()); err != nil {
		s.omciMalformed.Add(1)
		s.logMalformed(u, err)
		return empty(fail(errInvalid, "pkt is not hex: %v", err))
	}
	out, err := u.omci.Handle(frame)
	if err != nil {
		s.omciMalformed.Add(1)
		s.logMalformed(u, err)
	}
	for _, r := range out {
		if s.dropResponse() {
			s.omciDropped.Add(1)
			continue
		}
		s.omciSent.Add(1)
		s.send(&openolt.Indication{Data: &openolt.Indication_OmciInd{OmciInd: &openolt.OmciIndication{
			IntfId: u.pon, OnuId: in.GetOnuId(), Pkt: r}}})
	}
	return empty(nil)
}

// logMalformed logs the first malformed OMCI frame as a warning, the
// others at debug level (they are counted).
func (s *Server) logMalformed(u *onuState, err error) {
	if s.malformedLogged.CompareAndSwap(false, true) {
		s.log.Warn("openolt: malformed omci frame (further ones are only counted)", "serial", u.serial, "err", err)
		return
	}
	s.log.Debug("openolt: malformed omci frame", "serial", u.serial, "err", err)
}

// dropResponse reports whether to drop this OMCI response, so that
// Config.OMCIDropRate of them are dropped, evenly spread.
func (s *Server) dropResponse() bool {
	const scale = 1 << 20
	step := uint64(s.cfg.OMCIDropRate * scale)
	if step == 0 {
		return false
	}
	n := s.dropAcc.Add(step)
	return n/scale != (n-step)/scale
}

// OMCICounters are the OMCI frames the face relayed.
type OMCICounters struct {
	Sent      uint64 // responses and notifications sent as indications
	Dropped   uint64 // responses dropped by Config.OMCIDropRate
	Malformed uint64 // frames that were not hex or that the ONU could not decode
}

// OMCICounters returns the counters of the OMCI relay.
func (s *Server) OMCICounters() OMCICounters {
	return OMCICounters{Sent: s.omciSent.Load(), Dropped: s.omciDropped.Load(), Malformed: s.omciMalformed.Load()}
}

// refreshONU rebuilds u's flow table from its OMCI config and notes the
// GEM ports it holds. Call it without mu.
func (s *Server) refreshONU(u *onuState) {
	u.tmu.Lock()
	defer u.tmu.Unlock()
	cfg := u.config()
	s.mu.Lock()
	for k, o := range s.omciGems {
		if o == u {
			delete(s.omciGems, k)
		}
	}
	for _, g := range cfg.gemIDs {
		s.omciGems[resKey{u.pon, g}] = u
	}
	s.mu.Unlock()
	ft := &ponsimv1.FlowTable{Device: &ponsimv1.DeviceRef{SerialNumber: u.serial}, Flows: onuFlows(u.uni, cfg)}
	if err := s.sim.SetFlowTable(ft); err != nil {
		s.log.Warn("openolt: onu flow table", "serial", u.serial, "err", err)
	}
}

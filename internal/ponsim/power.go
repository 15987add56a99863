package ponsim

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/emptypb"

	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
)

// SetPower powers ONU serial off or on. Off, it sends a dying gasp and
// leaves the PON: ONU_LOST with dying_gasp set, and its dataplane stops.
// On, it comes back: ONU_DISCOVERED with its state. Either is sent only
// while the OLT is up; powering an ONU to the state it is in does nothing.
// Its flow table and admin state survive.
func (s *Sim) SetPower(serial string, on bool) error {
	_, u, err := s.lookup(serial)
	if err != nil {
		return err
	}
	if u == nil {
		return fmt.Errorf("device %q is the OLT: only ONUs can be powered off and on: %w", serial, ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if u.off == !on {
		return nil
	}
	s.log.Info("onu power", "serial", u.serial, "on", on)
	u.off = !on
	u.up.Store(u.enabled && !u.rebooting && !u.off)
	if !s.oltUpLocked() {
		return nil
	}
	for _, w := range s.watchers {
		w.ONUChanged(viewLocked(u))
	}
	if on {
		s.publishLocked(&ponsimv1.Event{Type: ponsimv1.EventType_EVENT_TYPE_ONU_DISCOVERED, Onu: onuInfoLocked(u)})
	} else {
		s.publishLocked(&ponsimv1.Event{Type: ponsimv1.EventType_EVENT_TYPE_ONU_LOST, Onu: onuInfoLocked(u), DyingGasp: true})
	}
	return nil
}

// SetOnuPower powers an ONU off or on (SetPower).
func (s *Sim) SetOnuPower(_ context.Context, req *ponsimv1.OnuPower) (*emptypb.Empty, error) {
	if req.GetSerialNumber() == "" {
		return nil, toStatus(fmt.Errorf("serial_number is required: power applies to one ONU: %w", ErrInvalidArgument))
	}
	return empty(s.SetPower(req.GetSerialNumber(), req.GetOn()))
}

package openolt

import (
	"fmt"

	"github.com/opencord/voltha-protos/v5/go/openolt"

	"github.com/openvolt/openvolt/internal/ponsim"
)

// SetUNILink takes the Ethernet link of UNI uni (0-based) of ONU serial
// down or up, as a cable pulled or plugged in: the ONU raises or clears
// the UNI's LAN LOS and, when the OLT should be told, sends an OMCI alarm
// notification (PPTP Ethernet UNI, alarm bit 0) up to the adapter. The
// dataplane of a UNI without link forwards nothing. An unknown ONU is
// ponsim.ErrNotFound, a UNI out of range ponsim.ErrInvalidArgument, a
// powered-off ONU ponsim.ErrDeviceDown.
func (s *Server) SetUNILink(serial string, uni int, up bool) error {
	u := s.bySerial[serial]
	if u == nil {
		return fmt.Errorf("no onu %q: %w", serial, ponsim.ErrNotFound)
	}
	if n := max(s.cfg.UNIsPerONU, 1); uni < 0 || uni >= n {
		return fmt.Errorf("uni %d of onu %s: want 0..%d: %w", uni, serial, n-1, ponsim.ErrInvalidArgument)
	}
	if v, err := s.sim.ONU(serial); err == nil && v.Off {
		return fmt.Errorf("onu %s is powered off: %w", serial, ponsim.ErrDeviceDown)
	}
	frames := u.omci.SetUNILoss(uni, !up)
	s.refreshONU(u)
	id := u.id.Load()
	if id == 0 {
		return nil // not activated: the adapter reads the UNI's state when it syncs the MIB
	}
	for _, f := range frames {
		s.omciSent.Add(1)
		s.send(&openolt.Indication{Data: &openolt.Indication_OmciInd{OmciInd: &openolt.OmciIndication{
			IntfId: u.pon, OnuId: id, Pkt: f}}})
	}
	return nil
}

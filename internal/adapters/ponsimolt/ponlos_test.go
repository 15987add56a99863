package ponsimolt_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/testkit"
)

// A PON whose ONUs are all powered off is dark: the ponsim OLT adapter
// raises PON_LOS on it (not on the other PON), and clears it when one of
// its ONUs is powered on again.
func TestPONLOSFromOnuPower(t *testing.T) {
	s := newStack(t)
	p := s.newSim("ponlos", 2, 2)
	p.start()
	oltID := s.createOLT(p.addr)
	s.waitActive(oltID, 4)
	var pon1 []string
	for _, k := range s.children(oltID) {
		if k.GetParentPortNo() == portno.OLTPON(1) {
			pon1 = append(pon1, k.GetSerialNumber())
		}
	}
	if len(pon1) != 2 {
		t.Fatalf("ONUs on PON 1: %v", pon1)
	}
	active := func() []string {
		t.Helper()
		got, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: oltID, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range got.GetItems() {
			out = append(out, a.GetType()+"/"+a.GetResource())
		}
		return out
	}
	wait := func(what string, want ...string) {
		t.Helper()
		testkit.Eventually(t, what, func() error {
			if got := active(); !slices.Equal(got, want) {
				return fmt.Errorf("active OLT alarms %v, want %v", got, want)
			}
			return nil
		})
	}
	sim := p.client()
	power := func(serial string, on bool) {
		t.Helper()
		if _, err := sim.SetOnuPower(s.ctx(), &ponsimv1.OnuPower{SerialNumber: serial, On: on}); err != nil {
			t.Fatal(err)
		}
	}
	power(pon1[0], false)
	s.waitAlarmsOf(pon1[0])
	if got := active(); len(got) != 0 {
		t.Errorf("OLT alarms %v with one ONU of PON 1 lit", got)
	}
	power(pon1[1], false)
	wait("PON_LOS on PON 1", ponsimolt.AlarmPONLOS+"/"+strconv.FormatUint(uint64(portno.OLTPON(1)), 10))
	power(pon1[1], true)
	wait("PON_LOS cleared")
}

// waitAlarmsOf waits until an ONU_LOS is active (the powered-off ONU's).
func (s *stack) waitAlarmsOf(serial string) {
	s.t.Helper()
	testkit.Eventually(s.t, "ONU "+serial+" alarms", func() error {
		got, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{Active: true})
		if err != nil {
			return err
		}
		for _, a := range got.GetItems() {
			if a.GetType() == ponsimolt.AlarmONULOS {
				return nil
			}
		}
		return fmt.Errorf("no ONU_LOS yet")
	})
}

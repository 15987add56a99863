package openolt_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/adapter/portno"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/testkit"
)

// activeAlarms is "<type>[/<resource>]" of the active alarms of device id.
func (s *stack) activeAlarms(id string) []string {
	s.t.Helper()
	got, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: id, Active: true})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, a := range got.GetItems() {
		k := a.GetType()
		if a.GetResource() != "" {
			k += "/" + a.GetResource()
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *stack) waitAlarms(what, id string, want ...string) {
	s.t.Helper()
	slices.Sort(want)
	testkit.Eventually(s.t, what, func() error {
		if got := s.activeAlarms(id); !slices.Equal(got, want) {
			return fmt.Errorf("active alarms of %s: %v, want %v", id, got, want)
		}
		return nil
	})
}

func (s *stack) waitConnect(what, id string, want voltv1.ConnectStatus) {
	s.t.Helper()
	testkit.Eventually(s.t, what, func() error {
		if d := s.device(id); d.GetConnectStatus() != want {
			return fmt.Errorf("%s is %s", id, state(d))
		}
		return nil
	})
}

// A powered-off ponsim ONU makes the openolt face send a dying gasp, the
// ONU's loss of signal and the ONU down, and the PON's loss of signal
// once no ONU of it is lit; the adapter raises ONU_DYING_GASP, ONU_LOS and
// PON_LOS, and clears them when the ONUs are powered on again, also when
// the power changed while the adapter was away.
func TestAlarmsFromONUPower(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("alarms", 1, 2)
	p.start()
	oltID := s.create(p.addr)
	s.waitActive(oltID, 1, 2)
	kids := s.children(oltID)
	slices.SortFunc(kids, func(a, b *voltv1.Device) int { return strings.Compare(a.GetSerialNumber(), b.GetSerialNumber()) })
	a, b := kids[0], kids[1]
	pon := openolt.AlarmPONLOS + "/" + strconv.FormatUint(uint64(portno.OLTPON(0)), 10)

	if err := p.sim.SetPower(a.GetSerialNumber(), false); err != nil {
		t.Fatal(err)
	}
	s.waitAlarms("ONU a: dying gasp and LOS", a.GetId(), openolt.AlarmONUDyingGasp, openolt.AlarmONULOS)
	s.waitConnect("ONU a unreachable", a.GetId(), voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)
	if got := s.activeAlarms(oltID); len(got) != 0 {
		t.Errorf("OLT alarms %v while ONU b is lit", got)
	}
	if got := s.activeAlarms(b.GetId()); len(got) != 0 {
		t.Errorf("ONU b alarms %v", got)
	}

	if err := p.sim.SetPower(b.GetSerialNumber(), false); err != nil {
		t.Fatal(err)
	}
	s.waitAlarms("PON LOS once no ONU is lit", oltID, pon)
	s.waitAlarms("ONU b: dying gasp and LOS", b.GetId(), openolt.AlarmONUDyingGasp, openolt.AlarmONULOS)

	if err := p.sim.SetPower(b.GetSerialNumber(), true); err != nil {
		t.Fatal(err)
	}
	s.waitAlarms("PON LOS cleared", oltID)
	s.waitAlarms("ONU b alarms cleared", b.GetId())
	s.waitConnect("ONU b reachable", b.GetId(), voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE)

	// While the adapter is away, a comes back and b goes: on reconnect the
	// adapter asks the OLT (GetOnuInfo) and catches up.
	s.adapter.stop(t, "openolt adapter")
	if err := p.sim.SetPower(a.GetSerialNumber(), true); err != nil {
		t.Fatal(err)
	}
	if err := p.sim.SetPower(b.GetSerialNumber(), false); err != nil {
		t.Fatal(err)
	}
	s.startAdapter()
	s.waitAlarms("ONU a alarms cleared after the adapter restart", a.GetId())
	s.waitConnect("ONU a reachable", a.GetId(), voltv1.ConnectStatus_CONNECT_STATUS_REACHABLE)
	// Its dying gasp was sent while no one listened: the OLT reports only
	// the loss of signal it still sees.
	s.waitAlarms("ONU b LOS after the adapter restart", b.GetId(), openolt.AlarmONULOS)
	s.waitConnect("ONU b unreachable", b.GetId(), voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE)

	// The cleared alarms stay in the history.
	all, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: a.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range all.GetItems() {
		if al.GetState() != voltv1.AlarmState_ALARM_STATE_CLEARED || al.GetClearedAt() == nil || al.GetSeverity() == voltv1.AlarmSeverity_ALARM_SEVERITY_UNSPECIFIED {
			t.Errorf("alarm of ONU a after power-on: %v", al)
		}
	}
	if len(all.GetItems()) != 2 {
		t.Errorf("ONU a has %d alarms, want 2 cleared", len(all.GetItems()))
	}
}

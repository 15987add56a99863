package omcionu_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/testkit"
)

// uniStates is the oper state of each UNI port of dev, by UNI index, and
// the active UNI_LOS alarms by resource.
func (s *stack) uniStates(dev string) (map[uint32]voltv1.OperStatus, map[string]bool, error) {
	ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: dev})
	if err != nil {
		return nil, nil, err
	}
	oper := map[uint32]voltv1.OperStatus{}
	for _, p := range ps.GetItems() {
		if p.GetType() == voltv1.PortType_PORT_TYPE_ETHERNET_UNI {
			_, _, uni := portno.SplitUNI(p.GetPortNo())
			oper[uni] = p.GetOperStatus()
		}
	}
	as, err := s.nbi.ListAlarms(s.ctx(), &voltv1.ListAlarmsRequest{DeviceId: dev, Active: true})
	if err != nil {
		return nil, nil, err
	}
	active := map[string]bool{}
	for _, a := range as.GetItems() {
		active[a.GetType()+"/"+a.GetResource()] = true
	}
	return oper, active, nil
}

// A UNI's Ethernet link going down makes the ONU send an OMCI alarm
// notification (PPTP Ethernet UNI, LAN LOS); the ONU adapter takes the
// UNI port down and raises UNI_LOS on it, and undoes both when the link
// comes back. The other UNI is untouched.
func TestUNILOSFromOMCIAlarm(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 1, 2, 0)
	olt := s.create(p.addr)
	s.waitONUs(olt, 1, 2, omcionu.ReasonMibDownload)
	onu := s.children(olt)[0]
	s.waitUNIOper(onu.GetId(), voltv1.OperStatus_OPER_STATUS_ACTIVE)
	los1 := omcionu.AlarmUNILOS + "/" + strconv.FormatUint(uint64(portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 1)), 10)

	check := func(what string, up bool) {
		t.Helper()
		want := voltv1.OperStatus_OPER_STATUS_ACTIVE
		if !up {
			want = voltv1.OperStatus_OPER_STATUS_FAILED
		}
		testkit.Eventually(t, what, func() error {
			oper, active, err := s.uniStates(onu.GetId())
			if err != nil {
				return err
			}
			switch {
			case oper[1] != want || oper[0] != voltv1.OperStatus_OPER_STATUS_ACTIVE:
				return fmt.Errorf("UNI states %v, want UNI 1 %s and UNI 0 ACTIVE", oper, want)
			case active[los1] == up || len(active) != map[bool]int{true: 0, false: 1}[up]:
				return fmt.Errorf("active alarms %v; want %s active: %v", active, los1, !up)
			}
			return nil
		})
	}
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sim := ponsimv1.NewPonSimClient(cc)
	for _, bad := range []struct {
		req  *ponsimv1.UniLink
		code codes.Code
	}{
		{&ponsimv1.UniLink{Uni: 1}, codes.InvalidArgument},
		{&ponsimv1.UniLink{SerialNumber: onu.GetSerialNumber(), Uni: 2}, codes.InvalidArgument},
		{&ponsimv1.UniLink{SerialNumber: onu.GetSerialNumber(), Uni: 1 << 20}, codes.InvalidArgument},
		{&ponsimv1.UniLink{SerialNumber: "PSMO99999999"}, codes.NotFound},
	} {
		if _, err := sim.SetUniLink(s.ctx(), bad.req); status.Code(err) != bad.code {
			t.Errorf("SetUniLink(%v): %v, want %s", bad.req, err, bad.code)
		}
	}
	if _, err := sim.SetUniLink(s.ctx(), &ponsimv1.UniLink{SerialNumber: onu.GetSerialNumber(), Uni: 1, Up: false}); err != nil {
		t.Fatal(err)
	}
	check("UNI 1 down with UNI_LOS", false)

	// A disabled ONU's UNIs are locked: the LOS a locked UNI shows raises
	// nothing, and what was raised clears. Enabled again, the UNIs' links
	// are read again: UNI 1's is still down.
	if _, err := s.nbi.DisableDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "no UNI_LOS on the disabled ONU", func() error {
		_, active, err := s.uniStates(onu.GetId())
		if err != nil {
			return err
		}
		if len(active) != 0 {
			return fmt.Errorf("active alarms %v", active)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong raise of the locked UNI 0, not an assertion
	if _, active, err := s.uniStates(onu.GetId()); err != nil || len(active) != 0 {
		t.Fatalf("disabled ONU: active alarms %v, %v; want none", active, err)
	}
	if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	check("enabled again: UNI 1 still down with UNI_LOS", false)

	if err := p.face.SetUNILink(onu.GetSerialNumber(), 1, true); err != nil {
		t.Fatal(err)
	}
	check("UNI 1 up, UNI_LOS cleared", true)
}

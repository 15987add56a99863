package omcionu_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/kvstore"
	"github.com/openvolt/openvolt/internal/testkit"
)

// TestRebootAndDelete reboots one ONU over OMCI: it drops off the PON,
// comes back, and — its MIB reset by the reboot, so the audit differs —
// is synchronised again (a full upload) and ACTIVE. Deleting it removes
// its records from the store and its ONU id at the OLT: rediscovered, it
// is a new device with the same id.
func TestRebootAndDelete(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 2, 1, 0)
	olt := s.create(p.addr)
	s.waitONUs(olt, 2, 1, omcionu.ReasonMibDownload)
	onu := s.children(olt)[0]

	// Disable locks the UNI over OMCI: the ONU shows LAN LOS and the UNI
	// port goes down (without an alarm: alarms_test.go); re-enable unlocks
	// it and the port comes up.
	if _, err := s.nbi.DisableDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	s.waitUNIOper(onu.GetId(), voltv1.OperStatus_OPER_STATUS_FAILED)
	if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	s.waitUNIOper(onu.GetId(), voltv1.OperStatus_OPER_STATUS_ACTIVE)

	before := p.face.OMCICounters().Sent
	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "ONU resynchronised after its reboot", func() error {
		if sent := p.face.OMCICounters().Sent - before; sent < 150 {
			return fmt.Errorf("%d OMCI responses since the reboot, want a full MIB upload (over 150)", sent)
		}
		return nil
	})
	s.waitONUs(olt, 2, 1, omcionu.ReasonMibDownload)

	if _, err := s.nbi.DeleteDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "ONU records removed", func() error {
		_, err := s.kv.Get(s.ctx(), omcionu.MIBKey("volt", onu.GetId()))
		if !errors.Is(err, kvstore.ErrNotFound) {
			return fmt.Errorf("MIB record: %v", err)
		}
		return nil
	})

	// The OLT forgot the ONU and freed its id (DeleteOnu): still on the
	// PON, it is discovered again, gets the freed id back and comes up as a
	// new device, not as the one deleted.
	s.waitONUs(olt, 2, 1, omcionu.ReasonMibDownload)
	var again *voltv1.Device
	for _, k := range s.children(olt) {
		if k.GetSerialNumber() == onu.GetSerialNumber() {
			again = k
		}
	}
	switch {
	case again == nil:
		t.Fatalf("ONU %s not discovered again after its delete", onu.GetSerialNumber())
	case again.GetId() == onu.GetId():
		t.Fatalf("the rediscovered ONU is the deleted device %s", onu.GetId())
	case again.GetProxyAddress().GetOnuId() != onu.GetProxyAddress().GetOnuId():
		t.Fatalf("rediscovered ONU got onu id %d, want the freed %d back", again.GetProxyAddress().GetOnuId(), onu.GetProxyAddress().GetOnuId())
	}
	if _, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("deleted ONU %s: %v, want NotFound", onu.GetId(), err)
	}
}

func (s *stack) waitUNIOper(dev string, want voltv1.OperStatus) {
	s.t.Helper()
	testkit.Eventually(s.t, "UNI port "+want.String(), func() error {
		ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: dev})
		if err != nil {
			return err
		}
		for _, p := range ps.GetItems() {
			if p.GetType() == voltv1.PortType_PORT_TYPE_ETHERNET_UNI && p.GetOperStatus() != want {
				return fmt.Errorf("UNI %d is %s", p.GetPortNo(), p.GetOperStatus())
			}
		}
		return nil
	})
}

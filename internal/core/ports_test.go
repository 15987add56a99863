package core_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/testkit"
)

// devicePortNos lists the numbers of a device's ports.
func (s *stack) devicePortNos(id string) map[uint32]bool {
	ports, err := s.nbi.ListDevicePorts(ctx(s.t), &voltv1.ID{Id: id})
	if err != nil {
		s.t.Fatal(err)
	}
	out := make(map[uint32]bool)
	for _, p := range ports.GetItems() {
		out[p.GetPortNo()] = true
	}
	return out
}

// logicalPortIDs lists the ids of a logical device's ports.
func (s *stack) logicalPortIDs(ldID string) map[string]bool {
	ports, err := s.nbi.ListLogicalDevicePorts(ctx(s.t), &voltv1.ID{Id: ldID})
	if err != nil {
		s.t.Fatal(err)
	}
	out := make(map[string]bool)
	for _, p := range ports.GetItems() {
		out[p.GetId()] = true
	}
	return out
}

// An adapter removes a port its device no longer has: the device port and
// the logical port built from it go, each with a REMOVED event, and stay
// gone across a core restart.
func TestPortRemoved(t *testing.T) {
	s := newStack(t)
	const onus = 1
	oltAd := startAdapter(t, s.brokers, "test_olt", onus, nil)
	startAdapter(t, s.brokers, "test_onu", 0, nil)
	id := s.createOLT("10.0.0.9:50060")
	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: id}); err != nil {
		t.Fatal(err)
	}
	ldID := s.waitActive(id, onus)

	// A second NNI, as a build with another numbering left behind.
	stale := portno.NNI(1)
	staleName := portno.Name(stale)
	_, err := oltAd.core.PortCreated(ctx(t), &adapterv1.PortCreatedRequest{DeviceId: id, Port: &voltv1.Port{
		PortNo: stale, Label: staleName, Type: voltv1.PortType_PORT_TYPE_ETHERNET_NNI, OperStatus: voltv1.OperStatus_OPER_STATUS_ACTIVE,
	}})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "stale NNI has a logical port", func() error {
		if !s.logicalPortIDs(ldID)[staleName] {
			return fmt.Errorf("no logical port %s", staleName)
		}
		return nil
	})
	if n := s.livePorts(ldID); n != onus+2 {
		t.Fatalf("%d live logical ports with the stale NNI, want %d", n, onus+2)
	}

	events := s.subscribe(ctx(t), &voltv1.ReceiveChangeEventsRequest{})
	if _, err := oltAd.core.PortRemoved(ctx(t), &adapterv1.PortRemovedRequest{DeviceId: id, PortNo: stale}); err != nil {
		t.Fatalf("port removed: %v", err)
	}
	if s.devicePortNos(id)[stale] {
		t.Errorf("device still has port %d", stale)
	}
	if s.logicalPortIDs(ldID)[staleName] {
		t.Errorf("logical device still has port %s", staleName)
	}
	if n := s.livePorts(ldID); n != onus+1 {
		t.Errorf("%d live logical ports after the removal, want %d", n, onus+1)
	}
	var portGone, logicalGone bool
	for !portGone || !logicalGone {
		ev, err := events.Recv()
		if err != nil {
			t.Fatalf("events: %v (device port REMOVED seen: %v, logical port REMOVED seen: %v)", err, portGone, logicalGone)
		}
		if p := ev.GetPort(); p.GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED &&
			ev.GetDeviceId() == id && p.GetPort().GetPortNo() == stale {
			portGone = true
		}
		if lp := ev.GetLogicalPort(); lp.GetKind() == voltv1.ChangeKind_CHANGE_KIND_REMOVED &&
			ev.GetLogicalDeviceId() == ldID && lp.GetPort().GetId() == staleName {
			logicalGone = true
		}
	}

	// Removing it again, or a port of a device that does not exist, is
	// NotFound with both named.
	_, err = oltAd.core.PortRemoved(ctx(t), &adapterv1.PortRemovedRequest{DeviceId: id, PortNo: stale})
	wantCode(t, "unknown port", err, codes.NotFound, fmt.Sprintf("device %s has no port %d", id, stale))
	_, err = oltAd.core.PortRemoved(ctx(t), &adapterv1.PortRemovedRequest{DeviceId: "nosuchdevice", PortNo: 7})
	wantCode(t, "unknown device", err, codes.NotFound, "port 7")
	wantCode(t, "unknown device", err, codes.NotFound, `"nosuchdevice"`)

	// The removal was stored: a restarted core does not bring it back.
	s.stop()
	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)
	testkit.Eventually(t, "reconcile after restart", func() error {
		if oltAd.reconcileCount(id) == 0 {
			return fmt.Errorf("OLT not reconciled")
		}
		return nil
	})
	s.waitActive(id, onus)
	if s.devicePortNos(id)[stale] {
		t.Errorf("device port %d is back after a restart", stale)
	}
	if s.logicalPortIDs(ldID)[staleName] {
		t.Errorf("logical port %s is back after a restart", staleName)
	}
}

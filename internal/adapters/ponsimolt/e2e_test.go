package ponsimolt_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/openvolt/openvolt/adapter/portno"
	ponsimv1 "github.com/openvolt/openvolt/api/ponsim/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/ponsimolt"
	"github.com/openvolt/openvolt/internal/adapters/ponsimonu"
	"github.com/openvolt/openvolt/internal/testkit"
)

// simClient is a direct PonSim client, to see what the adapters did to
// the simulator.
func (p *sim) client() ponsimv1.PonSimClient {
	p.s.t.Helper()
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.s.t.Fatal(err)
	}
	p.s.t.Cleanup(func() { cc.Close() })
	return ponsimv1.NewPonSimClient(cc)
}

func (p *sim) info() *ponsimv1.DeviceInfo {
	p.s.t.Helper()
	info, err := p.client().GetDeviceInfo(p.s.ctx(), &emptypb.Empty{})
	if err != nil {
		p.s.t.Fatalf("ponsim %s: %v", p.name, err)
	}
	return info
}

func (p *sim) onuState(serial string) ponsimv1.OnuState {
	for _, u := range p.info().GetOnus() {
		if u.GetSerialNumber() == serial {
			return u.GetState()
		}
	}
	p.s.t.Fatalf("ponsim %s has no ONU %s", p.name, serial)
	return 0
}

func TestTwoOLTsLifecycle(t *testing.T) {
	s := newStack(t)
	const pons, perPON, onus = 2, 8, 16
	a, b := s.newSim("olt-a", pons, perPON), s.newSim("olt-b", pons, perPON)
	a.start()
	b.start()
	idA, idB := s.createOLT(a.addr), s.createOLT(b.addr)
	ldA, ldB := s.waitActive(idA, onus), s.waitActive(idB, onus)

	t.Run("devices and ports", func(t *testing.T) {
		olt := s.device(idA)
		ai := a.info().GetOlt()
		if olt.GetVendor() != ai.GetVendor() || olt.GetModel() != ai.GetModel() || olt.GetSerialNumber() != ai.GetSerialNumber() ||
			olt.GetMacAddress() != ai.GetMacAddress() || olt.GetFirmwareVersion() != ai.GetFirmwareVersion() {
			t.Errorf("OLT device %v does not describe ponsim's OLT %v", olt, ai)
		}
		var got []uint32
		for _, p := range s.ports(idA) {
			got = append(got, p.GetPortNo())
		}
		if want := []uint32{portno.NNI(0), portno.OLTPON(0), portno.OLTPON(1)}; !slices.Equal(got, want) {
			t.Errorf("OLT ports %#x, want %#x", got, want)
		}
		var unis []uint32
		for _, k := range s.children(idA) {
			pa := k.GetProxyAddress()
			if k.GetType() != ponsimonu.DeviceType || k.GetParentPortNo() != portno.OLTPON(pa.GetChannelId()) {
				t.Errorf("ONU %s: type %s, parent port %#x, channel %d", k.GetId(), k.GetType(), k.GetParentPortNo(), pa.GetChannelId())
			}
			ports := s.ports(k.GetId())
			uni := portno.UNI(pa.GetChannelId(), pa.GetOnuId(), 0)
			if len(ports) != 2 || ports[0].GetPortNo() != uni || ports[1].GetPortNo() != portno.ONUPON {
				t.Errorf("ONU %s ports %v, want UNI %#x and PON", k.GetId(), ports, uni)
				continue
			}
			if peers := ports[1].GetPeers(); len(peers) != 1 || peers[0].GetDeviceId() != idA || peers[0].GetPortNo() != k.GetParentPortNo() {
				t.Errorf("ONU %s PON peers %v, want %s/%#x", k.GetId(), peers, idA, k.GetParentPortNo())
			}
			unis = append(unis, uni)
		}
		var want []uint32
		for _, u := range a.info().GetOnus() {
			want = append(want, u.GetUniPort())
		}
		slices.Sort(unis)
		slices.Sort(want)
		if !slices.Equal(unis, want) {
			t.Errorf("ONU UNIs %v, want ponsim's %v", unis, want)
		}
	})

	t.Run("device types and adapters", func(t *testing.T) {
		types, err := s.nbi.ListDeviceTypes(s.ctx(), &emptypb.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"AdoptDevice", "ReconcileDevice", "DisableDevice", "ReenableDevice", "RebootDevice", "DeleteDevice",
			"UpdateFlowsBulk", "UpdateFlowsIncrementally", "SendPacketOut", "UpdatePmConfig"}
		for _, dt := range types.GetItems() {
			if !slices.Equal(dt.GetOperations(), want) || !dt.GetAcceptsBulkFlowUpdate() || !dt.GetAcceptsAddRemoveFlowUpdates() {
				t.Errorf("device type %v, want operations %v and both kinds of flow updates", dt, want)
			}
		}
		ads, err := s.nbi.ListAdapters(s.ctx(), &emptypb.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ad := range ads.GetItems() {
			ids = append(ids, ad.GetId()+"@"+ad.GetEndpoint())
			if ad.GetLastSeen() == nil {
				t.Errorf("adapter %s has no last_seen", ad.GetId())
			}
		}
		if want := []string{"ponsim_olt@ponsim_olt", "ponsim_onu@ponsim_onu"}; !slices.Equal(ids, want) {
			t.Errorf("adapters %v, want %v", ids, want)
		}
	})

	t.Run("disable and re-enable an OLT", func(t *testing.T) {
		if _, err := s.nbi.DisableDevice(s.ctx(), &voltv1.ID{Id: idA}); err != nil {
			t.Fatal(err)
		}
		for _, k := range s.children(idA) {
			if k.GetAdminState() != voltv1.AdminState_ADMIN_STATE_DISABLED {
				t.Errorf("ONU %s is %s after its OLT was disabled", k.GetId(), k.GetAdminState())
			}
		}
		if live, _ := s.livePorts(ldA); live != 0 {
			t.Errorf("%d live logical ports on the disabled OLT", live)
		}
		if a.info().GetOlt().GetEnabled() {
			t.Error("ponsim's OLT is still enabled")
		}
		if live, _ := s.livePorts(ldB); live != onus+1 {
			t.Errorf("the other OLT has %d live ports, want %d", live, onus+1)
		}
		if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: idA}); err != nil {
			t.Fatal(err)
		}
		if !a.info().GetOlt().GetEnabled() {
			t.Error("ponsim's OLT is not enabled again")
		}
		if ld := s.waitActive(idA, onus); ld != ldA {
			t.Errorf("logical device %s after re-enable, want %s", ld, ldA)
		}
	})

	onu := s.children(idB)[0]
	t.Run("disable and re-enable an ONU", func(t *testing.T) {
		if _, err := s.nbi.DisableDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
			t.Fatal(err)
		}
		if st := b.onuState(onu.GetSerialNumber()); st != ponsimv1.OnuState_ONU_STATE_DISABLED {
			t.Errorf("ponsim's ONU is %s, want DISABLED", st)
		}
		if live, _ := s.livePorts(ldB); live != onus {
			t.Errorf("%d live logical ports with one ONU disabled, want %d", live, onus)
		}
		if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
			t.Fatal(err)
		}
		if st := b.onuState(onu.GetSerialNumber()); st != ponsimv1.OnuState_ONU_STATE_ACTIVE {
			t.Errorf("ponsim's ONU is %s, want ACTIVE", st)
		}
		s.waitActive(idB, onus)
	})

	t.Run("reboot an ONU", func(t *testing.T) {
		s.reboot(onu.GetId())
		s.waitActive(idB, onus)
		if r := s.device(onu.GetId()).GetReason(); r != "" {
			t.Errorf("ONU reason %q after its reboot", r)
		}
	})

	t.Run("reboot an OLT", func(t *testing.T) {
		s.reboot(idB)
		if ld := s.waitActive(idB, onus); ld != ldB {
			t.Errorf("logical device %s after the reboot, want %s", ld, ldB)
		}
	})

	t.Run("delete an OLT", func(t *testing.T) {
		ids := []string{idA, ldA}
		for _, k := range s.children(idA) {
			ids = append(ids, k.GetId())
		}
		if _, err := s.nbi.DeleteDevice(s.ctx(), &voltv1.ID{Id: idA}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.nbi.GetLogicalDevice(s.ctx(), &voltv1.ID{Id: ldA}); status.Code(err) != codes.NotFound {
			t.Errorf("logical device after delete: %v, want NotFound", err)
		}
		if left := s.mentioning(ids...); len(left) != 0 {
			t.Errorf("left in the store after delete: %v", left)
		}
		if a.info().GetOlt().GetEnabled() {
			t.Error("ponsim's OLT is still enabled after delete")
		}
		all, err := s.nbi.ListDevices(s.ctx(), &voltv1.ListDevicesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(all.GetItems()); n != 1+onus {
			t.Errorf("%d devices after delete, want the other OLT and its %d ONUs", n, onus)
		}
		lds, err := s.nbi.ListLogicalDevices(s.ctx(), &emptypb.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(lds.GetItems()); n != 1 {
			t.Errorf("%d logical devices after delete, want 1", n)
		}
		s.waitActive(idB, onus)
	})
}

// reboot reboots a device and waits until it went REBOOTED and came back
// ACTIVE, as ponsim reports.
func (s *stack) reboot(id string) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := s.nbi.ReceiveChangeEvents(ctx, &voltv1.ReceiveChangeEventsRequest{DeviceId: id})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := events.Header(); err != nil { // subscribed
		s.t.Fatal(err)
	}
	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: id}); err != nil {
		s.t.Fatal(err)
	}
	rebooted := false
	for {
		ev, err := events.Recv()
		if err != nil {
			s.t.Fatalf("events of %s (rebooted %v): %v", id, rebooted, err)
		}
		switch ev.GetDevice().GetDevice().GetOperStatus() {
		case voltv1.OperStatus_OPER_STATUS_REBOOTED:
			rebooted = true
		case voltv1.OperStatus_OPER_STATUS_ACTIVE:
			if rebooted {
				return
			}
		}
	}
}

func TestPonsimOutage(t *testing.T) {
	s := newStack(t)
	p := s.newSim("outage", 1, 4)
	p.start()
	id := s.createOLT(p.addr)
	s.waitActive(id, 4)

	p.stop()
	testkit.Eventually(t, "OLT and ONUs unreachable", func() error {
		olt := s.device(id)
		if olt.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
			return fmt.Errorf("OLT %s", olt.GetConnectStatus())
		}
		if !strings.Contains(olt.GetReason(), p.addr) {
			return fmt.Errorf("OLT reason %q does not name ponsim at %s", olt.GetReason(), p.addr)
		}
		for _, k := range s.children(id) {
			if k.GetConnectStatus() != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
				return fmt.Errorf("ONU %s %s", k.GetId(), k.GetConnectStatus())
			}
		}
		return nil
	})
	p.start()
	s.waitActive(id, 4)
	if r := s.device(id).GetReason(); r != "" {
		t.Errorf("reason %q after ponsim came back", r)
	}
}

func TestAdoptionFailsWhenNothingListens(t *testing.T) {
	s := newStack(t)
	p := s.newSim("late", 1, 2)
	id := s.createOLT(p.addr) // nothing listens there yet
	testkit.Eventually(t, "adoption failed", func() error {
		d := s.device(id)
		if d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_FAILED {
			return fmt.Errorf("OLT %s/%s", d.GetOperStatus(), d.GetConnectStatus())
		}
		if !strings.Contains(d.GetReason(), "ponsim at "+p.addr) || !strings.Contains(d.GetReason(), "connection refused") {
			return fmt.Errorf("reason %q does not say ponsim at %s refused", d.GetReason(), p.addr)
		}
		return nil
	})
	t.Logf("reason: %s", s.device(id).GetReason())

	p.start()
	if _, err := s.nbi.EnableDevice(s.ctx(), &voltv1.ID{Id: id}); err != nil {
		t.Fatalf("enable after ponsim started: %v", err)
	}
	s.waitActive(id, 2)
}

func TestUnknownDeviceType(t *testing.T) {
	s := newStack(t)
	// Refused at create, before anything is stored.
	_, err := s.nbi.CreateDevice(s.ctx(), &voltv1.Device{Type: "nosuch_olt", HostAndPort: "127.0.0.1:1"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `unknown device type "nosuch_olt"`) {
		t.Errorf("create of an unknown type: %v, want InvalidArgument naming the type", err)
	}
	devs, err := s.nbi.ListDevices(s.ctx(), &voltv1.ListDevicesRequest{})
	if err != nil || len(devs.GetItems()) != 0 {
		t.Errorf("after a refused create: %d devices, %v", len(devs.GetItems()), err)
	}
}

// snapshot is everything the NBI shows, without update times.
func (s *stack) snapshot() []proto.Message {
	s.t.Helper()
	var out []proto.Message
	devs, err := s.nbi.ListDevices(s.ctx(), &voltv1.ListDevicesRequest{})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, d := range devs.GetItems() {
		d.Updated = nil
	}
	out = append(out, devs)
	for _, d := range devs.GetItems() {
		ps, err := s.nbi.ListDevicePorts(s.ctx(), &voltv1.ID{Id: d.GetId()})
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, ps)
	}
	lds, err := s.nbi.ListLogicalDevices(s.ctx(), &emptypb.Empty{})
	if err != nil {
		s.t.Fatal(err)
	}
	out = append(out, lds)
	for _, ld := range lds.GetItems() {
		ps, err := s.nbi.ListLogicalDevicePorts(s.ctx(), &voltv1.ID{Id: ld.GetId()})
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, ps)
	}
	return out
}

func TestAdapterRestartReconciles(t *testing.T) {
	s := newStack(t)
	p := s.newSim("restart", 2, 4)
	p.start()
	id := s.createOLT(p.addr)
	s.waitActive(id, 8)
	before := s.snapshot()

	// Both adapters go; ponsim goes too while the OLT adapter is away.
	s.olt.stop(t, "ponsim_olt adapter")
	s.onu.stop(t, "ponsim_onu adapter")
	p.stop()
	s.olt = s.startAdapter("ponsim_olt", ponsimolt.Run)
	s.onu = s.startAdapter("ponsim_onu", ponsimonu.Run)
	// The core asks an adapter to reconcile on its first registration since
	// the core started; it does not yet tell a restarted adapter from a
	// heartbeat (the SDK sends the instance's start time in
	// Adapter.registered for that), so restart the core too.
	s.core.stop(t, "core")
	s.startCore()

	// The new OLT adapter rebuilds the OLT from the reconcile and finds
	// ponsim gone…
	testkit.Eventually(t, "OLT unreachable after the restart", func() error {
		if c := s.device(id).GetConnectStatus(); c != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
			return fmt.Errorf("OLT %s", c)
		}
		return nil
	})
	// …and follows it again when it is back (a fresh ponsim: the adapter
	// enables its OLT and ponsim discovers the same ONUs).
	p.start()
	s.waitActive(id, 8)
	s.sameAs(before)

	// It follows ponsim's events again: a reboot comes and goes.
	onu := s.children(id)[0]
	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	s.waitActive(id, 8)
}

func TestCoreRestartReconciles(t *testing.T) {
	s := newStack(t)
	p := s.newSim("core-restart", 1, 4)
	p.start()
	id := s.createOLT(p.addr)
	s.waitActive(id, 4)
	before := s.snapshot()

	// ponsim goes while the core is away: the adapter reports it once the
	// core is back.
	s.core.stop(t, "core")
	p.stop()
	s.startCore()
	testkit.Eventually(t, "OLT unreachable after the core restarted", func() error {
		if c := s.device(id).GetConnectStatus(); c != voltv1.ConnectStatus_CONNECT_STATUS_UNREACHABLE {
			return fmt.Errorf("OLT %s", c)
		}
		return nil
	})
	p.start()
	s.waitActive(id, 4)
	s.sameAs(before)
}

// sameAs fails the test when the NBI shows other devices, ports or logical
// devices than before: nothing duplicated, nothing lost.
func (s *stack) sameAs(before []proto.Message) {
	s.t.Helper()
	after := s.snapshot()
	if len(before) != len(after) {
		s.t.Fatalf("%d objects before, %d after", len(before), len(after))
	}
	for i := range before {
		if !proto.Equal(before[i], after[i]) {
			s.t.Errorf("differs:\nbefore %v\nafter  %v", before[i], after[i])
		}
	}
}

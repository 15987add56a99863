package core_test

import (
	"fmt"
	"testing"
	"time"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/core/store"
	"github.com/openvolt/openvolt/internal/testkit"
)

// Deleting an ONU removes the logical flows that name its UNI (as in_port
// or as output), each with a flow-removed event; the other ONU's flow
// stays.
func TestRemovedPortTakesItsFlows(t *testing.T) {
	s := newStack(t)
	startAdapter(t, s.brokers, "test_olt", 2, nil)
	startAdapter(t, s.brokers, "test_onu", 0, nil)
	olt := s.createOLT("10.6.0.1:50060")
	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: olt}); err != nil {
		t.Fatal(err)
	}
	ld := s.waitActive(olt, 2)
	add := openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD
	for _, f := range []string{
		"table=0,priority=1000,in_port=16,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:101->vlan_vid,output:1",
		"table=0,priority=1000,in_port=1,vlan_vid=101,actions=pop_vlan,output:16",
		"table=0,priority=1000,in_port=32,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:102->vlan_vid,output:1",
	} {
		if err := s.flowMod(ld, f, add); err != nil {
			t.Fatalf("add %s: %v", f, err)
		}
	}
	events := s.subscribe(ctx(t), &voltv1.ReceiveChangeEventsRequest{LogicalDeviceId: ld, Payloads: []string{"flow"},
		FlowChangeKinds: []voltv1.ChangeKind{voltv1.ChangeKind_CHANGE_KIND_REMOVED}})
	kids, err := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{ParentId: olt})
	if err != nil {
		t.Fatal(err)
	}
	var onu16 string
	for _, k := range kids.GetItems() {
		if k.GetProxyAddress().GetOnuId() == 1 {
			onu16 = k.GetId()
		}
	}
	if _, err := s.nbi.DeleteDevice(ctx(t), &voltv1.ID{Id: onu16}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		ev, err := events.Recv()
		if err != nil {
			t.Fatalf("flow-removed event %d: %v", i+1, err)
		}
		fc := ev.GetFlow()
		if fc.GetRemovedReason() != openflowv1.FlowRemovedReason_FLOW_REMOVED_REASON_DELETE {
			t.Errorf("flow-removed reason %s", fc.GetRemovedReason())
		}
	}
	testkit.Eventually(t, "only the other ONU's flow left", func() error {
		fl, err := s.nbi.ListLogicalDeviceFlows(ctx(t), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		if n := len(fl.GetItems()); n != 1 {
			return fmt.Errorf("%d logical flows, want 1", n)
		}
		return nil
	})
}

// Steps a crash cut short resume when the core starts again: a child
// stored PREPROVISIONED (detected, not yet enabled) is enabled, and a
// logical port that was never stored for an active ONU is built.
func TestCutShortStepsResume(t *testing.T) {
	s := newStack(t)
	startAdapter(t, s.brokers, "test_olt", 2, nil)
	startAdapter(t, s.brokers, "test_onu", 0, nil)
	olt := s.createOLT("10.6.0.2:50060")
	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: olt}); err != nil {
		t.Fatal(err)
	}
	ld := s.waitActive(olt, 2)
	kids, err := s.nbi.ListDevices(ctx(t), &voltv1.ListDevicesRequest{ParentId: olt})
	if err != nil {
		t.Fatal(err)
	}
	s.stop()

	// What a kill -9 at the wrong moments leaves in the store.
	st := store.New(s.kv, "volt")
	first := kids.GetItems()[0]
	cut := &voltv1.Device{Id: first.GetId(), Type: first.GetType(), ParentId: first.GetParentId(), ParentPortNo: first.GetParentPortNo(),
		SerialNumber: first.GetSerialNumber(), ProxyAddress: first.GetProxyAddress(), AdminState: voltv1.AdminState_ADMIN_STATE_PREPROVISIONED}
	if err := st.Devices.Put(ctx(t), cut.GetId(), cut); err != nil {
		t.Fatal(err)
	}
	if err := st.Ports.DeleteGroup(ctx(t), cut.GetId()); err != nil {
		t.Fatal(err)
	}
	second := kids.GetItems()[1]
	lost := fmt.Sprintf("%s/uni-%d", ld, second.GetProxyAddress().GetOnuId()<<4)
	if err := st.LogicalPorts.Delete(ctx(t), lost); err != nil {
		t.Fatal(err)
	}
	lost1 := fmt.Sprintf("%s/uni-%d", ld, first.GetProxyAddress().GetOnuId()<<4)
	if err := st.LogicalPorts.Delete(ctx(t), lost1); err != nil {
		t.Fatal(err)
	}

	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)
	if got := s.waitActive(olt, 2); got != ld {
		t.Errorf("logical device %s after the restart, was %s", got, ld)
	}
}

// A device that refuses its whole tables when they are sent again (the
// core restarted) refuses only what it cannot do: the tables go again one
// logical flow at a time, the logical flows it refuses are taken back from
// the logical device and from every device, and the others reach it.
// Retried whole, one flow the device cannot do would keep every flow of
// the device off it for good: a flow-mod stored just before a crash cut
// short its undo, or a device replaced by one that does less.
func TestRefusedTablesAfterRestart(t *testing.T) {
	s := newStack(t)
	sub := s.twoONUs("10.7.0.1:50060")
	oltAd, onuAd, olt, ld, onu := sub.oltAd, sub.onuAd, sub.olt, sub.ld, sub.onuByUNI[16]
	add := openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD
	for _, f := range []string{
		"table=0,priority=10000,in_port=16,eth_type=0x888e,actions=push_vlan:0x8100,set_field:4091->vlan_vid,output:CONTROLLER",
		"table=0,priority=10000,in_port=1,eth_type=0x88cc,actions=output:CONTROLLER",
		"table=0,priority=1000,in_port=16,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:101->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:1",
		"table=0,priority=1000,in_port=1,vlan_vid=1000,metadata=101,actions=pop_vlan,pop_vlan,output:16",
	} {
		if err := s.flowMod(ld, f, add); err != nil {
			t.Fatalf("add %s: %v", f, err)
		}
	}
	testkit.Eventually(t, "device flows reach the adapters", func() error {
		if a, b := oltAd.flowCount(olt), onuAd.flowCount(onu); a == 0 || a != s.deviceFlows(olt) || b == 0 || b != s.deviceFlows(onu) {
			return fmt.Errorf("adapters have %d and %d flows", a, b)
		}
		return nil
	})

	s.stop()
	onuAd.mu.Lock()
	onuAd.refuse = func(f *openflowv1.Flow) bool { return f.GetPriority() == 1000 } // the data flows
	clear(onuAd.flows)
	onuAd.mu.Unlock()
	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)

	testkit.Eventually(t, "the refused logical flows taken back, the others on the devices", func() error {
		fl, err := s.nbi.ListLogicalDeviceFlows(ctx(t), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		var prios []uint32
		for _, f := range fl.GetItems() {
			prios = append(prios, f.GetPriority())
		}
		if len(prios) != 2 || prios[0] != 10000 || prios[1] != 10000 {
			return fmt.Errorf("logical flows of priorities %v, want the two traps (10000) only", prios)
		}
		if a, want := oltAd.flowCount(olt), s.deviceFlows(olt); a != want {
			return fmt.Errorf("the OLT adapter has %d flows, the core asks for %d", a, want)
		}
		if b, want := onuAd.flowCount(onu), s.deviceFlows(onu); b == 0 || b != want {
			return fmt.Errorf("the ONU adapter has %d flows, the core asks for %d (the EAPOL trap's)", b, want)
		}
		return nil
	})
}

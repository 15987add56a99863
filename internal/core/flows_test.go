package core_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testkit"
)

func (s *stack) flowMod(ldID, text string, cmd openflowv1.FlowModCommand) error {
	s.t.Helper()
	f, err := flowtext.ParseFlow(text)
	if err != nil {
		s.t.Fatalf("parse %q: %v", text, err)
	}
	_, err = s.nbi.UpdateLogicalDeviceFlowTable(ctx(s.t), &voltv1.FlowTableUpdate{Id: ldID, FlowMod: &openflowv1.FlowMod{
		Command: cmd, TableId: f.GetTableId(), Priority: f.GetPriority(), Cookie: f.GetCookie(),
		OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions(),
	}})
	return err
}

func (s *stack) count(list func() (int, error)) int {
	n, err := list()
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *stack) logicalFlows(ldID string) int {
	return s.count(func() (int, error) {
		fl, err := s.nbi.ListLogicalDeviceFlows(ctx(s.t), &voltv1.ID{Id: ldID})
		return len(fl.GetItems()), err
	})
}

func (s *stack) deviceFlows(id string) int {
	return s.count(func() (int, error) {
		fl, err := s.nbi.ListDeviceFlows(ctx(s.t), &voltv1.ID{Id: id})
		return len(fl.GetItems()), err
	})
}

// subscriberOLT is an active OLT with two ONUs, through test adapters.
type subscriberOLT struct {
	oltAd, onuAd *testAdapter
	olt, ld      string
	onuByUNI     map[uint32]string // ONU device id by UNI port number
}

// twoONUs starts the test adapters and brings up an OLT with two ONUs.
func (s *stack) twoONUs(addr string) subscriberOLT {
	s.t.Helper()
	o := subscriberOLT{
		oltAd: startAdapter(s.t, s.brokers, "test_olt", 2, nil),
		onuAd: startAdapter(s.t, s.brokers, "test_onu", 0, nil),
		olt:   s.createOLT(addr),
	}
	if _, err := s.nbi.EnableDevice(ctx(s.t), &voltv1.ID{Id: o.olt}); err != nil {
		s.t.Fatal(err)
	}
	o.ld = s.waitActive(o.olt, 2)
	kids, err := s.nbi.ListDevices(ctx(s.t), &voltv1.ListDevicesRequest{ParentId: o.olt})
	if err != nil {
		s.t.Fatal(err)
	}
	o.onuByUNI = map[uint32]string{}
	for _, k := range kids.GetItems() {
		o.onuByUNI[k.GetProxyAddress().GetOnuId()<<4] = k.GetId()
	}
	return o
}

// TestFlows programs a subscriber through the NBI and follows the device
// flows to the adapters, through bad input and a restart.
func TestFlows(t *testing.T) {
	s := newStack(t)
	sub := s.twoONUs("10.5.0.1:50060")
	oltAd, onuAd, olt, ld, onu := sub.oltAd, sub.onuAd, sub.olt, sub.ld, sub.onuByUNI[16]
	add := openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD

	// A meter first: a flow may not name a meter that does not exist.
	if err := s.flowMod(ld, "table=0,priority=1000,in_port=16,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:101->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:1", add); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("flow with a missing meter: %v, want InvalidArgument", err)
	}
	if _, err := s.nbi.UpdateLogicalDeviceMeterTable(ctx(t), &voltv1.MeterModUpdate{Id: ld, MeterMod: &openflowv1.MeterMod{
		Command: openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, MeterId: 1, Flags: 1,
		Bands: []*openflowv1.MeterBand{{Type: openflowv1.MeterBandType_METER_BAND_TYPE_DROP, Rate: 100000, BurstSize: 1000}},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{
		"table=0,priority=10000,in_port=16,eth_type=0x888e,actions=push_vlan:0x8100,set_field:4091->vlan_vid,output:CONTROLLER",
		"table=0,priority=10000,in_port=1,eth_type=0x88cc,actions=output:CONTROLLER",
		"table=0,priority=1000,in_port=16,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:101->vlan_vid,push_vlan:0x88a8,set_field:1000->vlan_vid,output:1",
		"table=0,priority=1000,in_port=1,vlan_vid=1000,metadata=101,actions=pop_vlan,pop_vlan,output:16",
	} {
		if err := s.flowMod(ld, f, add); err != nil {
			t.Fatalf("add %s: %v", f, err)
		}
	}
	if n := s.logicalFlows(ld); n != 4 {
		t.Fatalf("%d logical flows, want 4", n)
	}
	oltFlows, onuFlows := s.deviceFlows(olt), s.deviceFlows(onu)
	if oltFlows == 0 || onuFlows == 0 {
		t.Fatalf("device flows: OLT %d, ONU %d", oltFlows, onuFlows)
	}
	testkit.Eventually(t, "device flows reach the adapters", func() error {
		if a, b := oltAd.flowCount(olt), onuAd.flowCount(onu); a != oltFlows || b != onuFlows {
			return fmt.Errorf("adapters have %d and %d flows, want %d and %d", a, b, oltFlows, onuFlows)
		}
		return nil
	})

	// Bad input changes nothing.
	for _, bad := range []string{
		"table=0,priority=10,in_port=999,actions=output:1",                             // no such port
		"table=0,priority=10,in_port=16,actions=group:7",                               // no such group
		"table=0,priority=10,in_port=16,eth_type=0x8847,mpls_label=5,actions=output:1", // unsupported match
		"table=5,priority=10,in_port=16,actions=output:1",                              // no such table
		"table=0,priority=10,in_port=16,eth_type=0x888e,actions=output:1,output:32",    // two outputs
	} {
		err := s.flowMod(ld, bad, add)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", bad, err)
		}
	}
	if n := s.logicalFlows(ld); n != 4 {
		t.Errorf("%d logical flows after refused mods, want 4", n)
	}
	if a, b := s.deviceFlows(olt), s.deviceFlows(onu); a != oltFlows || b != onuFlows {
		t.Errorf("device flows changed by refused mods: %d %d", a, b)
	}

	// A restart keeps every table.
	s.stop()
	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)
	if n := s.logicalFlows(ld); n != 4 {
		t.Errorf("%d logical flows after restart, want 4", n)
	}
	if a, b := s.deviceFlows(olt), s.deviceFlows(onu); a != oltFlows || b != onuFlows {
		t.Errorf("device flows after restart: %d %d, want %d %d", a, b, oltFlows, onuFlows)
	}

	// Delete everything of UNI 16 (non-strict, all tables).
	_, err := s.nbi.UpdateLogicalDeviceFlowTable(ctx(t), &voltv1.FlowTableUpdate{Id: ld, FlowMod: &openflowv1.FlowMod{
		Command: openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE, TableId: 0xff, OutPort: 0xffffffff, OutGroup: 0xffffffff,
		Match: &openflowv1.Match{Fields: []*openflowv1.MatchField{{Type: openflowv1.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: 16}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.logicalFlows(ld); n != 2 {
		t.Errorf("%d logical flows after delete, want 2", n)
	}
	testkit.Eventually(t, "ONU flows removed from the adapter", func() error {
		if n := onuAd.flowCount(onu); n != s.deviceFlows(onu) {
			return fmt.Errorf("adapter has %d ONU flows, store %d", n, s.deviceFlows(onu))
		}
		return nil
	})
}

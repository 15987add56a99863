package omcionu_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testkit"
)

// attFlows is the OLT's share of the ATT-like subscriber on UNI uni of
// PON 0 (as the openolt adapter's tests use it): EAPOL and DHCP traps,
// upstream S-tag push, downstream S-tag pop with meter 2.
func attFlows(t *testing.T, uni uint32) []*openflowv1.Flow {
	t.Helper()
	pon := portno.OLTPON(0)
	lines := []string{
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,vlan_vid=4091,tunnel_id=%d,actions=CONTROLLER:65535", pon, uni),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=101,vlan_pcp=0,ip_proto=17,udp_src=68,udp_dst=67,tunnel_id=%d,actions=CONTROLLER:65535", pon, uni),
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=101,tunnel_id=%d,actions=push_vlan:0x88a8,set_field:1000->vlan_vid,output:1", pon, uni),
		fmt.Sprintf("table=0,priority=1000,in_port=1,metadata=0x65,vlan_vid=1000,actions=meter:2,pop_vlan,set_field:%d->tunnel_id,output:%d", uni, pon),
	}
	var out []*openflowv1.Flow
	for i, l := range lines {
		f, err := flowtext.ParseFlow(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		f.Id = uint64(0xf000 + i)
		out = append(out, f)
	}
	return out
}

// TestTechProfileConfiguresONU: the subscriber's flows make the openolt
// adapter instantiate the tech profile for the UNI and send the instance
// to the ONU's adapter, which configures it over OMCI (T-CONT, GEM port
// network CTP, GEM interworking TP, 802.1p mapper, bridge port: five
// changes of the ONU's MIB data sync counter); removing the flows undoes
// it (five more).
func TestTechProfileConfiguresONU(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 2, 1, 0)
	oltID := s.create(p.addr)
	s.waitONUs(oltID, 2, 1, omcionu.ReasonMibDownload)
	var onu *voltv1.Device
	for _, k := range s.children(oltID) {
		if k.GetProxyAddress().GetOnuId() == 1 {
			onu = k
		}
	}
	if onu == nil {
		t.Fatal("no ONU with onu id 1")
	}
	mds0 := s.mibDataSync(onu.GetId())
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	flows := attFlows(t, portno.UNI(0, 1, 0))
	meter, err := flowtext.ParseMeter("meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.olt.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: olt,
		Flows:  &adapterv1.FlowChanges{ToAdd: flows},
		Meters: &adapterv1.MeterChanges{ToAdd: []*openflowv1.MeterConfig{meter}}}); err != nil {
		t.Fatal(err)
	}
	s.waitReason(onu.GetId(), omcionu.ReasonTechProfile)
	if got := s.mibDataSync(onu.GetId()); got != mds0+5 {
		t.Errorf("MIB data sync %d after the tech profile, want %d+5", got, mds0)
	}
	if _, err := s.olt.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: olt,
		Flows: &adapterv1.FlowChanges{ToRemove: flows}}); err != nil {
		t.Fatal(err)
	}
	s.waitReason(onu.GetId(), omcionu.ReasonTPRemoved)
	if got := s.mibDataSync(onu.GetId()); got != mds0+10 {
		t.Errorf("MIB data sync %d after removing the tech profile, want %d+10", got, mds0)
	}
}

func (s *stack) waitReason(dev, r string) {
	s.t.Helper()
	testkit.Eventually(s.t, "ONU reason "+r, func() error {
		d, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: dev})
		if err != nil {
			return err
		}
		if d.GetReason() != r {
			return fmt.Errorf("reason %q", d.GetReason())
		}
		return nil
	})
}

// mibDataSync is the counter the adapter stored for dev.
func (s *stack) mibDataSync(dev string) int {
	s.t.Helper()
	var rec struct {
		MDS int `json:"mib_data_sync"`
	}
	kv, err := s.kv.Get(s.ctx(), omcionu.SyncKey("volt", dev))
	if err != nil {
		s.t.Fatalf("stored MIB data sync counter of %s: %v", dev, err)
	}
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		s.t.Fatal(err)
	}
	return rec.MDS
}

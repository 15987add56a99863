package omcionu_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// flowMod sends one flow-mod (add, or strict delete) to the logical
// device, as `volt ld add-flow` / `del-flow` do.
func (s *stack) flowMod(ld, text string, del bool) {
	s.t.Helper()
	f, err := flowtext.ParseFlow(text)
	if err != nil {
		s.t.Fatalf("%s: %v", text, err)
	}
	cmd := openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD
	if del {
		cmd = openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT
	}
	fm := &openflowv1.FlowMod{Command: cmd, TableId: f.GetTableId(), Priority: f.GetPriority(), Cookie: f.GetCookie(),
		OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions()}
	if _, err := s.nbi.UpdateLogicalDeviceFlowTable(s.ctx(), &voltv1.FlowTableUpdate{Id: ld, FlowMod: fm}); err != nil {
		s.t.Fatalf("%s: %v", text, err)
	}
}

func (s *stack) meter(ld, text string) {
	s.t.Helper()
	m, err := flowtext.ParseMeter(text)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.nbi.UpdateLogicalDeviceMeterTable(s.ctx(), &voltv1.MeterModUpdate{Id: ld, MeterMod: &openflowv1.MeterMod{
		Command: openflowv1.MeterModCommand_METER_MOD_COMMAND_ADD, Flags: m.GetFlags(), MeterId: m.GetMeterId(), Bands: m.GetBands()}}); err != nil {
		s.t.Fatal(err)
	}
}

// onuTable is ponsim's flow table of the ONU with serial sn as text, one
// flow a line: what the ONU's OMCI configuration makes its dataplane do.
func (p *sim) onuTable(sn string) string {
	ft, err := p.sim.FlowTable(sn)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, f := range ft.GetFlows() {
		b.WriteString(flowtext.FormatFlow(f))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSubscriberFlowsBecomeVLANRules: the ATT-like subscriber's logical
// flows, sent to the NBI, reach the ONU as device flows; the omci_onu
// adapter sets them as extended VLAN tagging rules over OMCI, and ponsim's
// ONU (which forwards only what its OMCI configuration says) then pushes
// the C-tag upstream (EAPOL with 4091, DHCP and the rest with the
// subscriber's) and pops it downstream. Deleting the EAPOL trap deletes
// its rule, and the others stay.
func TestSubscriberFlowsBecomeVLANRules(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 1, 1, 0)
	oltID := s.create(p.addr)
	s.waitONUs(oltID, 1, 1, omcionu.ReasonMibDownload)
	onu := s.children(oltID)[0]
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	ld := olt.GetLogicalDeviceId()
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meter(ld, m)
	}
	uni := portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0)
	const cVID, sVID = 101, 1000
	flows := bench.SubscriberFlows(portno.NNI(0), uni, sVID, cVID)
	for _, f := range flows {
		s.flowMod(ld, f, false)
	}
	s.waitReason(onu.GetId(), omcionu.ReasonTechProfile)
	sn := p.sim.ONUs()[0].Serial
	want := []string{
		fmt.Sprintf("in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:%d->vlan_vid", uni, cVID),        // unicast up
		"eth_type=0x888e,actions=push_vlan:0x8100,set_field:4091->vlan_vid",                                           // EAPOL up
		fmt.Sprintf("eth_type=0x0800,actions=push_vlan:0x8100,set_field:%d->vlan_vid", cVID),                          // DHCP, IGMP up
		fmt.Sprintf("in_port=%d,tunnel_id=%#x,vlan_vid=%d,actions=pop_vlan,output:%d", portno.ONUPON, uni, cVID, uni), // down
	}
	eventually(t, "the ONU's dataplane tags the subscriber's frames", func() error {
		table := p.onuTable(sn)
		for _, w := range want {
			if !containsFlow(table, w) {
				return fmt.Errorf("no flow like %q in ponsim's ONU table:\n%s", w, table)
			}
		}
		return nil
	})

	s.flowMod(ld, flows[0], true) // the EAPOL trap
	eventually(t, "the EAPOL rule deleted", func() error {
		table := p.onuTable(sn)
		if containsFlow(table, want[1]) {
			return fmt.Errorf("the EAPOL rule is still in ponsim's ONU table:\n%s", table)
		}
		if !containsFlow(table, want[0]) || !containsFlow(table, want[3]) {
			return fmt.Errorf("the unicast rule went with the EAPOL one:\n%s", table)
		}
		return nil
	})
}

// containsFlow reports whether a line of table has the parts of w (split
// at "actions=") in that order: the match parts and the action parts.
func containsFlow(table, w string) bool {
	m, a, _ := strings.Cut(w, "actions=")
	for _, line := range strings.Split(table, "\n") {
		lm, la, ok := strings.Cut(line, "actions=")
		if !ok {
			continue
		}
		if hasAll(lm, strings.Split(strings.TrimSuffix(m, ","), ",")) && strings.Contains(la, a) {
			return true
		}
	}
	return false
}

func hasAll(s string, parts []string) bool {
	for _, p := range parts {
		if p != "" && !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestRebootRestoresService: after an ONU reboot (MIB reset and upload
// again), the adapter configures its tech profile and VLAN rules again,
// and ponsim's ONU tags the subscriber's frames as before.
func TestRebootRestoresService(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSim(1, 1, 1, 0)
	oltID := s.create(p.addr)
	s.waitONUs(oltID, 1, 1, omcionu.ReasonMibDownload)
	onu := s.children(oltID)[0]
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	ld := olt.GetLogicalDeviceId()
	for _, m := range []string{
		"meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000",
		"meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000",
		"meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100",
	} {
		s.meter(ld, m)
	}
	uni := portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0)
	const cVID = 101
	for _, f := range bench.SubscriberFlows(portno.NNI(0), uni, 1000, cVID) {
		s.flowMod(ld, f, false)
	}
	sn := p.sim.ONUs()[0].Serial
	up := fmt.Sprintf("in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:%d->vlan_vid", uni, cVID)
	tagged := func() error {
		if table := p.onuTable(sn); !containsFlow(table, up) {
			return fmt.Errorf("no C-tag push in ponsim's ONU table:\n%s", table)
		}
		return nil
	}
	eventually(t, "the ONU tags the subscriber's frames", tagged)

	before := p.face.OMCICounters().Sent
	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ONU resynchronised after its reboot", func() error {
		if sent := p.face.OMCICounters().Sent - before; sent < 150 {
			return fmt.Errorf("%d OMCI responses since the reboot, want a full MIB upload (over 150)", sent)
		}
		return nil
	})
	eventually(t, "the ONU tags the subscriber's frames after its reboot", tagged)
}

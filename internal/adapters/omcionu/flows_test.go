package omcionu_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/omcionu"
	"github.com/openvolt/openvolt/internal/bench"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	face "github.com/openvolt/openvolt/internal/ponsim/openolt"
	"github.com/openvolt/openvolt/internal/techprofile"
	"github.com/openvolt/openvolt/internal/testkit"
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
	testkit.Eventually(t, "the ONU's dataplane tags the subscriber's frames", func() error {
		table := p.onuTable(sn)
		for _, w := range want {
			if !containsFlow(table, w) {
				return fmt.Errorf("no flow like %q in ponsim's ONU table:\n%s", w, table)
			}
		}
		return nil
	})

	s.flowMod(ld, flows[0], true) // the EAPOL trap
	testkit.Eventually(t, "the EAPOL rule deleted", func() error {
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
	onu, tagged := s.subscriber(p) // the ATT-like subscriber, tagged by the ONU
	oltID := onu.GetParentId()
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	ld := olt.GetLogicalDeviceId()
	uni := portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0)
	const cVID = 101

	before := p.face.OMCICounters().Sent
	// A reboot that outlasts the core's call to the adapter still happens.
	if _, err := s.nbi.RebootDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()}); err != nil && status.Code(err) != codes.DeadlineExceeded {
		t.Fatal(err)
	}
	testkit.Eventually(t, "ONU resynchronised after its reboot", func() error {
		if sent := p.face.OMCICounters().Sent - before; sent < 150 {
			return fmt.Errorf("%d OMCI responses since the reboot, want a full MIB upload (over 150)", sent)
		}
		return nil
	})
	// The core kept the UNI logical port (down while the ONU was off the
	// PON) and the flows naming it: the ONU tags again once it is back,
	// without the controller adding anything.
	if err := s.uniLogicalPorts(oltID, 1); err != nil {
		t.Fatalf("UNI logical port after the reboot: %v", err)
	}
	testkit.Eventually(t, "the ONU tags the subscriber's frames after its reboot", tagged)
	flows, err := s.nbi.ListLogicalDeviceFlows(s.ctx(), &voltv1.ID{Id: ld})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(flows.GetItems()); n < len(bench.SubscriberFlows(portno.NNI(0), uni, 1000, cVID)) {
		t.Fatalf("%d logical flows after the reboot, want the subscriber's %d kept", n, len(bench.SubscriberFlows(portno.NNI(0), uni, 1000, cVID)))
	}
}

// TestTechProfileTooBigRefused: with ONUs whose T-CONTs have one priority
// queue and a tech profile of two GEM ports, the subscriber's OLT flows
// are refused: the ONU's adapter refuses the instance before any OMCI,
// the openolt adapter answers the flow update with FailedPrecondition and
// undoes the instance; the ONU's MIB (its data sync counter) is unchanged.
func TestTechProfileTooBigRefused(t *testing.T) {
	s := newStack(t, omcionu.Options{Timeout: time.Second})
	p := s.newSimWith(1, 1, face.Config{QueuesPerTCont: 1})
	oltID := s.create(p.addr)
	s.waitONUs(oltID, 1, 1, omcionu.ReasonMibDownload)
	onu := s.children(oltID)[0]
	gem := `{"pbit_map": "%s", "aes_encryption": "True", "scheduling_policy": "StrictPriority", "priority_q": %d, "weight": 0,
	  "discard_policy": "TailDrop", "max_q_size": "auto", "discard_config": {"max_threshold": 0, "min_threshold": 0, "max_probability": 0}}`
	gems := fmt.Sprintf(gem, "0b00001111", 0) + "," + fmt.Sprintf(gem, "0b11110000", 1)
	profile := `{"name": "two-gems", "profile_type": "XPON", "version": 1, "num_gem_ports": 2,
	  "instance_control": {"onu": "multi-instance", "uni": "single-instance", "max_gem_payload_size": "auto"},
	  "us_scheduler": {"additional_bw": "AdditionalBW_BestEffort", "direction": "UPSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "Hybrid"},
	  "ds_scheduler": {"additional_bw": "AdditionalBW_BestEffort", "direction": "DOWNSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "Hybrid"},
	  "upstream_gem_port_attribute_list": [` + gems + `], "downstream_gem_port_attribute_list": [` + gems + `]}`
	if _, err := techprofile.NewStore(s.kv, "volt").Set(s.ctx(), "XGS-PON", techprofile.DefaultID, []byte(profile)); err != nil {
		t.Fatal(err)
	}
	mds0 := s.mibDataSync(onu.GetId())
	olt, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: oltID})
	if err != nil {
		t.Fatal(err)
	}
	flows := attFlows(t, portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0))
	_, err = s.olt.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: olt, Flows: &adapterv1.FlowChanges{ToAdd: flows[:3]}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "priority queues") {
		t.Fatalf("flow update with a profile the ONU cannot carry: %v, want FailedPrecondition naming the priority queues", err)
	}
	if got := s.mibDataSync(onu.GetId()); got != mds0 {
		t.Errorf("MIB data sync %d after the refused profile, want %d (unchanged)", got, mds0)
	}
	d, err := s.nbi.GetDevice(s.ctx(), &voltv1.ID{Id: onu.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetReason() != omcionu.ReasonMibDownload || d.GetOperStatus() != voltv1.OperStatus_OPER_STATUS_ACTIVE {
		t.Errorf("ONU %s/%q after the refused profile, want ACTIVE/%q", d.GetOperStatus(), d.GetReason(), omcionu.ReasonMibDownload)
	}

	// Through the NBI, as a controller sends them: each flow-mod is
	// answered once stored; those that need the instance are then taken
	// back, and their flows' change events carry the refusal (the OpenFlow
	// agent answers the flow-mod with it). The others stay.
	ld := olt.GetLogicalDeviceId()
	s.meter(ld, "meter=1,kbps,burst,band=type=drop,rate=100000,burst_size=1000")
	s.meter(ld, "meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000")
	s.meter(ld, "meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=100")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, err := s.nbi.ReceiveChangeEvents(ctx, &voltv1.ReceiveChangeEventsRequest{LogicalDeviceId: ld, Payloads: []string{"flow"}})
	if err == nil {
		_, err = events.Header()
	}
	if err != nil {
		t.Fatal(err)
	}
	uni := portno.UNI(0, onu.GetProxyAddress().GetOnuId(), 0)
	subscriber := bench.SubscriberFlows(portno.NNI(0), uni, 1000, 101)
	for _, text := range subscriber {
		s.flowMod(ld, text, false)
	}
	refused := map[uint64]*voltv1.FlowRefusal{}
	for len(refused) == 0 || len(refused) < len(subscriber) {
		ev, err := events.Recv()
		if err != nil {
			if len(refused) > 0 {
				break // the time is up: as many as were refused
			}
			t.Fatalf("no refusal in the flow events: %v", err)
		}
		fc := ev.GetFlow()
		if r := fc.GetRefusal(); r != nil {
			if r.GetErrorType() != 5 || !strings.Contains(r.GetMessage(), "priority queues") {
				t.Fatalf("refusal %v, want OFPET_FLOW_MOD_FAILED naming the priority queues", r)
			}
			if fc.GetKind() != voltv1.ChangeKind_CHANGE_KIND_REMOVED {
				continue // a flow the refused mod replaced, back as it was
			}
			refused[fc.GetFlow().GetId()] = r
			if len(refused) == 1 {
				time.AfterFunc(2*time.Second, cancel) // room for the rest, not an assertion
			}
		}
	}
	testkit.Eventually(t, "the refused flows taken back, the others kept", func() error {
		lf, err := s.nbi.ListLogicalDeviceFlows(s.ctx(), &voltv1.ID{Id: ld})
		if err != nil {
			return err
		}
		for _, f := range lf.GetItems() {
			if refused[f.GetId()] != nil {
				return fmt.Errorf("refused flow %#x still in the table", f.GetId())
			}
		}
		if len(lf.GetItems()) == 0 {
			return fmt.Errorf("no flow left: the ones the ONU takes went too")
		}
		return nil
	})
	t.Logf("%d of the subscriber's %d flow-mods refused and taken back", len(refused), len(subscriber))
}

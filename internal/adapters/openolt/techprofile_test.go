package openolt_test

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/techprofile"
)

// twoQueues is a VOLTHA-style profile: p-bits 0-3 on a WRR queue, 4-7 on
// a strict-priority one.
const twoQueues = `{
  "name": "2QueueHybrid", "profile_type": "XPON", "version": 1, "num_gem_ports": 2,
  "instance_control": {"onu": "multi-instance", "uni": "single-instance", "max_gem_payload_size": "auto"},
  "us_scheduler": {"additional_bw": "AdditionalBW_Auto", "direction": "UPSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "Hybrid"},
  "ds_scheduler": {"additional_bw": "AdditionalBW_Auto", "direction": "DOWNSTREAM", "priority": 0, "weight": 0, "q_sched_policy": "Hybrid"},
  "upstream_gem_port_attribute_list": [
    {"pbit_map": "0b00001111", "aes_encryption": "True", "scheduling_policy": "WRR", "priority_q": 2, "weight": 25, "discard_policy": "TailDrop", "max_q_size": "auto"},
    {"pbit_map": "0b11110000", "aes_encryption": "False", "scheduling_policy": "StrictPriority", "priority_q": 5, "weight": 75, "discard_policy": "WTailDrop", "max_q_size": "auto"}
  ],
  "downstream_gem_port_attribute_list": [
    {"pbit_map": "0b00001111", "aes_encryption": "True", "scheduling_policy": "WRR", "priority_q": 3, "weight": 40, "discard_policy": "TailDrop", "max_q_size": "auto"},
    {"pbit_map": "0b11110000", "aes_encryption": "False", "scheduling_policy": "StrictPriority", "priority_q": 6, "weight": 60, "discard_policy": "TailDrop", "max_q_size": "auto"}
  ]
}`

// withProfile adds write_metadata naming tech profile tp to the
// subscriber's flows (as flowdecomp passes it on to the OLT's flows).
func withProfile(t *testing.T, flows []*openflowv1.Flow, tp uint64) []*openflowv1.Flow {
	t.Helper()
	for _, f := range flows {
		if strings.Contains(flowtext.FormatFlow(f), "tunnel_id") { // the UNI's flows
			f.Instructions = append(f.Instructions, &openflowv1.Instruction{Instruction: &openflowv1.Instruction_WriteMetadata{
				WriteMetadata: &openflowv1.InstructionWriteMetadata{Metadata: tp << 32, MetadataMask: 0xffff << 32}}})
		}
	}
	return flows
}

// TestStoredTechProfile: a subscriber whose flows name profile 65 gets the
// instance of the profile stored in etcd (two GEM ports, queues with its
// attributes, a flow without p-bit match replicated over both GEM ports);
// a flow naming a profile that does not exist is refused and leaves
// nothing behind.
func TestStoredTechProfile(t *testing.T) {
	s := newStack(t)
	if _, err := techprofile.NewStore(s.kv, "volt").Set(s.ctx(), "XGS-PON", 65, []byte(twoQueues)); err != nil {
		t.Fatal(err)
	}
	p := s.newOLT("tp", 1, 2)
	p.start()
	id := s.create(p.addr)
	s.waitActive(id, 1, 2)
	dev := s.device(id)

	missing := withProfile(t, attFlows(t, portno.UNI(0, 2, 0)), 66)[:1]
	missing[0].Id = 0xe000
	_, err := s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToAdd: missing}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "XGS-PON/66") {
		t.Fatalf("a flow naming a missing profile: %v, want FailedPrecondition naming XGS-PON/66", err)
	}
	if got := s.resources(id); len(got) != 2 {
		t.Fatalf("after a refused flow the store holds %v, want the 2 onu ids only", got)
	}

	flows := withProfile(t, attFlows(t, portno.UNI(0, 1, 0)), 65)
	_, err = s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows:  &adapterv1.FlowChanges{ToAdd: flows},
		Meters: &adapterv1.MeterChanges{ToAdd: []*openflowv1.MeterConfig{attMeter(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	got := s.stored(id)
	golden(t, "att-tp65.golden", got)
	if !strings.Contains(got, "instance pon/0/onu/1/uni/0/tp/65:") || strings.Contains(got, "tp/64") {
		t.Errorf("want only an instance of profile 65:\n%s", got)
	}

	_, err = s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToRemove: flows}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.resources(id); len(got) != 2 {
		t.Errorf("after removing the flows the store holds %v, want the 2 onu ids only", got)
	}
}

// TestInstanceLegacyForm: an instance stored before the persisted form and
// the one sent to the ONU's adapter were one (UNI and profile under "ref",
// no attributes) still reads, and writes back in the one flat form.
func TestInstanceLegacyForm(t *testing.T) {
	legacy := `{"ref":{"pon":1,"onu":7,"uni":0,"tp_id":64},"technology":"XGS-PON","name":"1Q",` +
		`"alloc_id":1030,"us_scheduler":{"direction":"UPSTREAM"},"ds_scheduler":{"direction":"DOWNSTREAM"},` +
		`"gem_ports":[{"gemport_id":1090,"pbit_map":"0b11111111","priority_q":0}],"shaping":{"CIR":100000,"CBS":1000,"PIR":100000,"PBS":1000}}`
	in, err := openolt.DecodeTechProfileInstance([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	if in.PON != 1 || in.ONU != 7 || in.UNI != 0 || in.TPID != 64 || in.AllocID != 1030 ||
		len(in.GemPorts) != 1 || in.GemPorts[0].ID != 1090 || in.Shaping == nil || in.Shaping.CIR != 100000 {
		t.Fatalf("legacy instance read as %+v", in)
	}
	out, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `"ref"`) || !strings.Contains(string(out), `"pon":1,"onu":7,"uni":0`) {
		t.Errorf("written back as %s, want the flat form", out)
	}
	again, err := openolt.DecodeTechProfileInstance(out)
	if err != nil {
		t.Fatal(err)
	}
	if again.PON != 1 || again.ONU != 7 || again.TPID != 64 || again.Shaping.PBS != 1000 {
		t.Errorf("flat form read back as %+v", again)
	}
	if _, err := openolt.DecodeTechProfileInstance([]byte(`{"tp_id":64,"gem_ports":[]}`)); err == nil {
		t.Error("an instance without alloc id and GEM ports decoded")
	}
}

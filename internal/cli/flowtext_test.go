package cli

import (
	"testing"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// The renderers themselves are tested in internal/openflow/flowtext; this
// checks that the CLI shows what they give.
func TestFlowText(t *testing.T) {
	f := &of.Flow{Priority: 10000, Cookie: 0x5eed0001,
		Match: &of.Match{Fields: []*of.MatchField{
			{Type: of.MatchFieldType_MATCH_FIELD_TYPE_IN_PORT, Value: 4112},
			{Type: of.MatchFieldType_MATCH_FIELD_TYPE_ETH_TYPE, Value: 0x888e}}},
		Instructions: []*of.Instruction{{Instruction: &of.Instruction_ApplyActions{ApplyActions: &of.InstructionActions{
			Actions: []*of.Action{{Action: &of.Action_Output{Output: &of.ActionOutput{Port: 0xfffffffd, MaxLen: 0xffff}}}}}}}},
	}
	if got, want := flowText(f), "table=0, priority=10000, cookie=0x5eed0001, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535"; got != want {
		t.Errorf("flowText:\n  %s\nwant\n  %s", got, want)
	}
	if got := matchText(nil); got != "any" {
		t.Errorf("matchText(nil) = %q", got)
	}
	buckets := []*of.Bucket{{Actions: []*of.Action{{Action: &of.Action_PopVlan{PopVlan: &of.ActionPopVlan{}}}}}}
	if got, want := bucketsText(buckets), "actions=pop_vlan"; got != want {
		t.Errorf("bucketsText = %q, want %q", got, want)
	}
	bands := []*of.MeterBand{{Type: of.MeterBandType_METER_BAND_TYPE_DROP, Rate: 10000, BurstSize: 1000}}
	if got, want := bandsText(bands), "type=drop rate=10000 burst_size=1000"; got != want {
		t.Errorf("bandsText = %q, want %q", got, want)
	}
	if got, want := meterFlagsText(1|4), "kbps,burst"; got != want {
		t.Errorf("meterFlagsText = %q, want %q", got, want)
	}
}

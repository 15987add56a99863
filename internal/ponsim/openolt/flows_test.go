package openolt

import (
	"strings"
	"testing"

	"github.com/opencord/voltha-protos/v5/go/openolt"
)

// TestOLTFlowTexts: openolt flows as the OLT table's flows, readable like
// ovs-ofctl (ONU on PON 1 whose simulator UNI is 4112; OLT PON 1 is port
// 2097153, the NNI port 1).
func TestOLTFlowTexts(t *testing.T) {
	u := &onuState{pon: 1, uni: 4112}
	trap := &openolt.Action{Cmd: &openolt.ActionCmd{TrapToHost: true}}
	for _, tc := range []struct {
		name string
		flow *openolt.Flow
		want []string
	}{
		{"upstream: push the S-tag", &openolt.Flow{FlowType: "upstream", Priority: 1000,
			Classifier: &openolt.Classifier{OVid: 101, PktTagType: "single_tag"},
			Action:     &openolt.Action{Cmd: &openolt.ActionCmd{AddOuterTag: true}, OVid: 1000, OTpid: 0x88a8}},
			[]string{"priority=1000,in_port=2097153,tunnel_id=4112,vlan_vid=101,actions=push_vlan:0x88a8,set_field:1000->vlan_vid,output:1"}},
		{"downstream: pop the S-tag, the C-tag under it as metadata", &openolt.Flow{FlowType: "downstream",
			Classifier: &openolt.Classifier{OVid: 1000, IVid: 101, PktTagType: "double_tag"},
			Action:     &openolt.Action{Cmd: &openolt.ActionCmd{RemoveOuterTag: true}}},
			[]string{"priority=1000,in_port=1,vlan_vid=1000,metadata=101,actions=pop_vlan,set_field:4112->tunnel_id,output:2097153"}},
		{"EAPOL trap", &openolt.Flow{FlowType: "upstream", Priority: 10000,
			Classifier: &openolt.Classifier{EthType: 0x888e, OVid: 4091, PktTagType: "single_tag"}, Action: trap},
			[]string{"priority=10000,in_port=2097153,tunnel_id=4112,vlan_vid=4091,eth_type=0x888e,actions=CONTROLLER:65535"}},
		{"DHCP trap, p-bit, addresses", &openolt.Flow{FlowType: "upstream", Priority: 10000,
			Classifier: &openolt.Classifier{EthType: 0x0800, IpProto: 17, SrcPort: 68, DstPort: 67, OVid: 101, OPbits: 3,
				PktTagType: "single_tag", DstIp: 0x0a000001, SrcMac: []byte{2, 0, 0, 0, 0, 1}}, Action: trap},
			[]string{"priority=10000,in_port=2097153,tunnel_id=4112,vlan_vid=101,vlan_pcp=3,eth_type=0x0800,ip_proto=17,udp_src=68,udp_dst=67,ipv4_dst=10.0.0.1,eth_src=02:00:00:00:00:01,actions=CONTROLLER:65535"}},
		{"untagged, any tag", &openolt.Flow{FlowType: "upstream",
			Classifier: &openolt.Classifier{PktTagType: "untagged"},
			Action:     &openolt.Action{Cmd: &openolt.ActionCmd{AddOuterTag: true}, OVid: 7}},
			[]string{"priority=1000,in_port=2097153,tunnel_id=4112,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:7->vlan_vid,output:1"}},
		{"one flow per p-bit", &openolt.Flow{FlowType: "upstream", ReplicateFlow: true, PbitToGemport: map[uint32]uint32{5: 1025, 0: 1024},
			Classifier: &openolt.Classifier{OVid: 4096, PktTagType: "single_tag"},
			Action:     &openolt.Action{Cmd: &openolt.ActionCmd{TranslateOuterTag: true}, OVid: 200}},
			[]string{
				"priority=1000,in_port=2097153,tunnel_id=4112,vlan_vid=tagged,vlan_pcp=0,actions=set_field:200->vlan_vid,output:1",
				"priority=1000,in_port=2097153,tunnel_id=4112,vlan_vid=tagged,vlan_pcp=5,actions=set_field:200->vlan_vid,output:1",
			}},
	} {
		got, err := onuFlowTexts(tc.flow, u, tc.flow.GetAction().GetCmd().GetTrapToHost())
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
		}
	}
	got, err := nniTrap(&openolt.Flow{FlowType: "downstream", Priority: 10000, Classifier: &openolt.Classifier{EthType: 0x88cc}, Action: trap})
	if want := "priority=10000,in_port=1,eth_type=0x88cc,actions=CONTROLLER:65535"; err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("LLDP trap: %v %v, want %s", got, err, want)
	}
}

package openolt

import (
	"strings"
	"testing"

	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/ponsim/omcisim"
)

// TestONUFlows: extended VLAN tagging rules as the ONU's flow table, read
// like ovs-ofctl dump-flows (UNI 4112 = PON 1, ONU 1; 3145728 = the ONU's
// PON port; tunnel_id 0x1010 = 4112, the GEM port).
func TestONUFlows(t *testing.T) {
	untaggedPush := omcisim.VLANRule{FilterOuterPrio: omcisim.PrioNoTag, FilterInnerPrio: omcisim.PrioNoTag,
		TreatOuterPrio: omcisim.PrioNoTag, TreatInnerPrio: 0, TreatInnerVID: 101, TreatInnerTPID: 4}
	translate := omcisim.VLANRule{FilterOuterPrio: omcisim.PrioNoTag, FilterInnerPrio: omcisim.PrioAny, FilterInnerVID: 10,
		TagsToRemove: 1, TreatOuterPrio: omcisim.PrioNoTag, TreatInnerPrio: omcisim.PrioCopyInner, TreatInnerVID: 20, TreatInnerTPID: 4}
	eapol := untaggedPush
	eapol.FilterEtherType, eapol.TreatInnerVID = 5, 4091
	discard := omcisim.VLANRule{FilterOuterPrio: omcisim.PrioNoTag, FilterInnerPrio: omcisim.PrioAny, FilterInnerVID: omcisim.VIDAny,
		TagsToRemove: 3, TreatOuterPrio: omcisim.PrioNoTag, TreatInnerPrio: omcisim.PrioNoTag}
	uni := func(locked bool, rules ...omcisim.VLANRule) omcisim.Service {
		return omcisim.Service{GemPorts: []omcisim.GemPort{{PortID: 1024}},
			UNIs: []omcisim.UNI{{AdminLocked: locked, VLANRules: rules, Gems: []omcisim.UNIGem{{PortID: 1024, PBits: 0xff}}}}}
	}
	for _, tc := range []struct {
		name string
		svc  omcisim.Service
		want []string
	}{
		{"untagged to C-tag", uni(false, untaggedPush), []string{
			"table=0, priority=1000, cookie=0x0, in_port=4112, vlan_vid=untagged, actions=push_vlan:0x8100,set_field:101->vlan_vid,set_field:0->vlan_pcp,set_field:0x1010->tunnel_id,output:3145728",
			"table=0, priority=1000, cookie=0x0, in_port=3145728, tunnel_id=0x1010, vlan_vid=101, actions=pop_vlan,output:4112",
		}},
		{"translate", uni(false, translate), []string{
			"table=0, priority=1010, cookie=0x0, in_port=4112, vlan_vid=10, actions=pop_vlan,push_vlan:0x8100,set_field:20->vlan_vid,set_field:0x1010->tunnel_id,output:3145728",
			"table=0, priority=1010, cookie=0x0, in_port=3145728, tunnel_id=0x1010, vlan_vid=20, actions=pop_vlan,push_vlan:0x8100,set_field:10->vlan_vid,output:4112",
		}},
		{"EAPOL by ethertype", uni(false, eapol), []string{
			"table=0, priority=1100, cookie=0x0, in_port=4112, vlan_vid=untagged, eth_type=0x888e, actions=push_vlan:0x8100,set_field:4091->vlan_vid,set_field:0->vlan_pcp,set_field:0x1010->tunnel_id,output:3145728",
			"table=0, priority=1100, cookie=0x0, in_port=3145728, tunnel_id=0x1010, vlan_vid=4091, eth_type=0x888e, actions=pop_vlan,output:4112",
		}},
		{"discard", uni(false, discard), nil},
		{"multicast GEM port", omcisim.Service{GemPorts: []omcisim.GemPort{{PortID: 1024}, {PortID: 4000, Multicast: true}},
			UNIs: []omcisim.UNI{{VLANRules: []omcisim.VLANRule{untaggedPush}, Gems: []omcisim.UNIGem{{PortID: 1024, PBits: 0xff}}}}}, []string{
			"table=0, priority=1000, cookie=0x0, in_port=4112, vlan_vid=untagged, actions=push_vlan:0x8100,set_field:101->vlan_vid,set_field:0->vlan_pcp,set_field:0x1010->tunnel_id,output:3145728",
			"table=0, priority=1000, cookie=0x0, in_port=3145728, tunnel_id=0x1010, vlan_vid=101, actions=pop_vlan,output:4112",
			"table=0, priority=500, cookie=0x0, in_port=3145728, tunnel_id=0x0, actions=output:4112",
		}},
		{"locked", uni(true, untaggedPush), nil},
		{"no GEM port", omcisim.Service{UNIs: []omcisim.UNI{{VLANRules: []omcisim.VLANRule{untaggedPush}}}}, nil},
		{"no UNI", omcisim.Service{}, nil},
	} {
		var got []string
		for _, f := range onuFlows(4112, configOf(tc.svc)) {
			got = append(got, flowtext.FormatFlow(f))
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
		}
	}
}

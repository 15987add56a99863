package omcionu

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/ponsim/omcisim"
)

// TestRuleOf checks the rows the ONU's flows become, read back with
// ponsim's decoder of G.988 rows, and what is refused.
func TestRuleOf(t *testing.T) {
	uni := portno.UNI(0, 1, 0)
	index := func(p uint32) (int, bool) { return 0, p == uni }
	pon := portno.ONUPON
	cases := []struct {
		flow string
		want string // omcisim.VLANRule.String(); "" no row; "error: …" refused
	}{
		{fmt.Sprintf("in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,set_field:101->vlan_vid,output:%d", uni, pon),
			"filter outer(-) inner(-) ethertype=0 → remove 0, push outer(-) inner(vid=101,pcp=0,tpid=4)"},
		{fmt.Sprintf("in_port=%d,eth_type=0x888e,actions=push_vlan:0x8100,set_field:4091->vlan_vid,output:%d", uni, pon),
			"filter outer(-) inner(-) ethertype=5 → remove 0, push outer(-) inner(vid=4091,pcp=0,tpid=4)"},
		{fmt.Sprintf("in_port=%d,vlan_vid=untagged,udp,udp_src=68,udp_dst=67,actions=push_vlan:0x8100,set_field:101->vlan_vid,set_field:3->vlan_pcp,output:%d", uni, pon),
			"filter outer(-) inner(-) ethertype=6 → remove 0, push outer(-) inner(vid=101,pcp=3,tpid=4)"},
		// Priority-tagged in: the tag is replaced.
		{fmt.Sprintf("in_port=%d,vlan_vid=0,actions=set_field:101->vlan_vid,output:%d", uni, pon),
			"filter outer(-) inner(vid=0,pcp=any,tpid=0) ethertype=0 → remove 1, push outer(-) inner(vid=101,pcp=inner,tpid=4)"},
		{fmt.Sprintf("in_port=%d,vlan_vid=10,vlan_pcp=5,actions=output:%d", uni, pon),
			"filter outer(-) inner(vid=10,pcp=5,tpid=0) ethertype=0 → remove 0, push outer(-) inner(-)"},
		{fmt.Sprintf("in_port=%d,tunnel_id=%d,vlan_vid=101,actions=pop_vlan,output:%d", pon, uni, uni), ""},
		{fmt.Sprintf("in_port=%d,eth_type=0x9000,actions=output:%d", uni, pon), "error: cannot match eth_type 0x9000"},
		{fmt.Sprintf("in_port=%d,actions=push_vlan:0x88a8,set_field:7->vlan_vid,output:%d", uni, pon), "error: C-tags (0x8100) only"},
		{fmt.Sprintf("in_port=%d,vlan_vid=untagged,actions=push_vlan:0x8100,output:%d", uni, pon), "error: needs a VID"},
		{fmt.Sprintf("in_port=%d,actions=output:%d", portno.UNI(0, 2, 0), pon), "error: not a UNI of this ONU"},
	}
	for _, c := range cases {
		f, err := flowtext.ParseFlow(c.flow)
		if err != nil {
			t.Fatalf("%s: %v", c.flow, err)
		}
		r, err := ruleOf(f, index)
		switch {
		case strings.HasPrefix(c.want, "error: "):
			if err == nil || status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), strings.TrimPrefix(c.want, "error: ")) {
				t.Errorf("%s: error %v, want InvalidArgument with %q", c.flow, err, strings.TrimPrefix(c.want, "error: "))
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", c.flow, err)
			continue
		case c.want == "":
			if r.has {
				t.Errorf("%s: a row, want none", c.flow)
			}
			continue
		}
		got, err := omcisim.ParseVLANRule(r.row[:])
		if err != nil || got.String() != c.want {
			t.Errorf("%s:\n got %v (%v)\nwant %s", c.flow, got, err, c.want)
		}
	}
}

// TestRowsConflict: two flows that tag the same frames differently are
// refused; flows that make the same row share it.
func TestRowsConflict(t *testing.T) {
	row := func(vid uint16) rule {
		return rule{has: true, row: ruleFields{filterOuterPrio: prioNoTag, filterOuterVID: vidAny, filterInnerPrio: prioNoTag, filterInnerVID: vidAny,
			treatOuterPrio: prioNoTag, treatInnerPrio: 0, treatInnerVID: vid, treatInnerTPID: tpid8100}.bytes()}
	}
	if rows, err := rowsOf(map[uint64]rule{1: row(101), 2: row(101)}); err != nil || len(rows[0]) != 1 {
		t.Errorf("same row twice: %v, %d rows", err, len(rows[0]))
	}
	if _, err := rowsOf(map[uint64]rule{1: row(101), 2: row(102)}); err == nil || !strings.Contains(err.Error(), "differently") {
		t.Errorf("conflicting rows: %v", err)
	}
}

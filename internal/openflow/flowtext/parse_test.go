package flowtext

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	of "github.com/openvolt/openvolt/api/openflow/v1"
)

// Text in, the flow's canonical text out.
func TestParseFlow(t *testing.T) {
	tests := []struct{ in, want string }{
		{"table=0,priority=1000,in_port=65536,dl_type=0x888e,actions=output:CONTROLLER",
			"table=0, priority=1000, cookie=0x0, in_port=65536, eth_type=0x888e, actions=CONTROLLER:65535"},
		// FormatFlow's own text reads back as it is.
		{"table=0, priority=10000, cookie=0x5eed0001, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535",
			"table=0, priority=10000, cookie=0x5eed0001, in_port=4112, eth_type=0x888e, actions=CONTROLLER:65535"},
		{"priority=1000 in_port=4112 vlan_vid=untagged actions=push_vlan:0x8100,set_field:100->vlan_vid,output:1",
			"table=0, priority=1000, cookie=0x0, in_port=4112, vlan_vid=untagged, actions=push_vlan:0x8100,set_field:100->vlan_vid,output:1"},
		// Instructions in any order come out in execution order.
		{"table=0,priority=1000,cookie=3,in_port=4112,vlan_vid=100,actions=goto_table:1,write_metadata:0x6400001010,meter:2,push_vlan:0x8100,set_field:4000->vlan_vid",
			"table=0, priority=1000, cookie=0x3, in_port=4112, vlan_vid=100, actions=meter:2,push_vlan:0x8100,set_field:4000->vlan_vid,write_metadata:0x6400001010,goto_table:1"},
		{"table=1,priority=1000,in_port=1,vlan_vid=4000,metadata=0x1010/0xffffffff,actions=pop_vlan,output:4112",
			"table=1, priority=1000, cookie=0x0, in_port=1, vlan_vid=4000, metadata=0x1010/0xffffffff, actions=pop_vlan,output:4112"},
		{"priority=500,in_port=1,vlan_vid=tagged,ip,nw_dst=224.0.0.0/4,actions=strip_vlan,group:1,write_metadata:0x1/0xff",
			"table=0, priority=500, cookie=0x0, in_port=1, vlan_vid=tagged, eth_type=0x0800, ipv4_dst=224.0.0.0/4, actions=pop_vlan,group:1,write_metadata:0x1/0xff"},
		{"priority=1,idle_timeout=30,hard_timeout=300,send_flow_rem,check_overlap,flags=0x40,actions=drop",
			"table=0, priority=1, cookie=0x0, idle_timeout=30, hard_timeout=300, send_flow_rem, check_overlap, flags=0x40, actions=drop"},
		{"priority=1,actions=", "table=0, priority=1, cookie=0x0, actions=drop"},
		{"priority=1,actions=clear_actions,write_actions(set_queue:3,output:2)",
			"table=0, priority=1, cookie=0x0, actions=clear_actions,write_actions(set_queue:3,output:2)"},
		// ovs-ofctl shorthands and aliases.
		{"priority=2,udp,tp_dst=67,actions=CONTROLLER", ""}, // tp_dst is ambiguous: refused below
		{"priority=2,udp,udp_src=68,udp_dst=67,dl_vlan=0xffff,actions=controller",
			"table=0, priority=2, cookie=0x0, eth_type=0x0800, ip_proto=17, udp_src=68, udp_dst=67, vlan_vid=untagged, actions=CONTROLLER:65535"},
		{"priority=2,udp6,dl_vlan=7,dl_vlan_pcp=3,actions=mod_vlan_vid:100,mod_vlan_pcp:5,4112",
			"table=0, priority=2, cookie=0x0, eth_type=0x86dd, ip_proto=17, vlan_vid=7, vlan_pcp=3, actions=set_field:100->vlan_vid,set_field:5->vlan_pcp,output:4112"},
		{"duration=1.5s, table=0, n_packets=3, n_bytes=180, idle_age=1, priority=9,arp,actions=NORMAL",
			"table=0, priority=9, cookie=0x0, eth_type=0x0806, actions=NORMAL"},
		{"priority=3,dl_dst=01:00:5e:00:00:01/ff:ff:ff:00:00:00,ipv6_dst=ff02::1:2/64,ipv6_src=2001:db8::1,tun_id=0x10,actions=dec_ttl,experimenter:0x2320:0x0102",
			"table=0, priority=3, cookie=0x0, eth_dst=01:00:5e:00:00:01/ff:ff:ff:00:00:00, ipv6_dst=ff02::1:2/64, ipv6_src=2001:db8::1, tunnel_id=0x10, actions=dec_nw_ttl,experimenter:0x2320:0x0102"},
		{"priority=3,ipv4_src=10.0.0.0/255.0.255.0,in_port=IN_PORT,actions=output:in_port",
			"table=0, priority=3, cookie=0x0, ipv4_src=10.0.0.0/255.0.255.0, in_port=IN_PORT, actions=IN_PORT"},
		{"PRIORITY=4,VLAN_VID=0x1064,Eth_Type=2048,actions=set_field:00:0c:e2:31:40:00->eth_src,set_field:10.0.0.1->ipv4_dst",
			"table=0, priority=4, cookie=0x0, vlan_vid=100, eth_type=0x0800, actions=set_field:00:0c:e2:31:40:00->eth_src,set_field:10.0.0.1->ipv4_dst"},
		{"priority=010,actions=drop", "table=0, priority=10, cookie=0x0, actions=drop"}, // no octal
		// Ports by name (adapter/portno), as ovs-ofctl shows and takes them.
		{"table=0,priority=11,in_port=uni-16,actions=output:nni-1",
			"table=0, priority=11, cookie=0x0, in_port=16, actions=output:1"},
		{"priority=11,in_port=NNI-1,actions=UNI-4112", "table=0, priority=11, cookie=0x0, in_port=1, actions=output:4112"},
		{"priority=11,in_port=nni-16,actions=drop", ""},   // 16 is no NNI
		{"priority=11,in_port=uni-1,actions=drop", ""},    // 1 is no UNI
		{"priority=11,in_port=port-1,actions=drop", ""},   // no such name
		{"priority=11,in_port=1,actions=output:eth0", ""}, // nor this
	}
	for _, tt := range tests {
		f, err := ParseFlow(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseFlow(%q) = %s, want an error", tt.in, FormatFlow(f))
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFlow(%q): %v", tt.in, err)
			continue
		}
		if got := FormatFlow(f); got != tt.want {
			t.Errorf("ParseFlow(%q) formats as\n  %s\nwant\n  %s", tt.in, got, tt.want)
		}
		checkFlowRoundTrip(t, f)
	}
}

// Wrong text is refused with the part that is wrong.
func TestParseFlowErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"priority=1", `no "actions="`},
		{"priority=1,bogus=3,actions=drop", "bogus=3: unknown field"},
		{"priority=1,bogus,actions=drop", "bogus: unknown keyword"},
		{"priority=70000,actions=drop", "out of range"},
		{"table=256,actions=drop", "out of range"},
		{"priority=-1,actions=drop", "bad number"},
		{"eth_type=0x888e,dl_type=0x888e,actions=drop", "eth_type given twice"},
		{"vlan_vid=4096,actions=drop", "bad number"},
		{"vlan_pcp=8,actions=drop", "at most 3 bits"},
		{"eth_dst=01:02,actions=drop", "bad MAC"},
		{"ipv4_dst=2001:db8::1,actions=drop", "not an IPv4 address"},
		{"ipv4_dst=10.0.0.0/33,actions=drop", "bad prefix length"},
		{"ipv6_dst=fe80::1%eth0,actions=drop", "bad address"},
		{"actions=frobnicate", `unknown action "frobnicate"`},
		{"actions=goto_table:1,goto_table:2", "given twice"},
		{"actions=meter:1,meter:1", "given twice"},
		{"actions=write_metadata:0x1/0x0", "mask is zero"},
		{"actions=write_actions(output:1", "unbalanced"},
		{"actions=output:1),x", "unbalanced"},
		{"actions=set_field:100", "VALUE->FIELD"},
		{"actions=set_field:100->nosuch", "unknown field"},
		{"actions=set_field:tagged->vlan_vid", "not a value"},
		{"actions=set_field:1/1->vlan_pcp", "no mask"},
		{"actions=pop_vlan:1", "takes no argument"},
		{"actions=experimenter:1:0102", "not 0x-prefixed"},
		{"actions=experimenter:1:0x123", "experimenter data"},
		{"actions=clear_actions:1", "no argument"},
	}
	for _, tt := range tests {
		_, err := ParseFlow(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFlow(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseGroupAndMeter(t *testing.T) {
	groups := []struct{ in, want string }{
		{"group_id=1,type=all,bucket=actions=pop_vlan,output:4112,bucket=actions=output:4128",
			"group_id=1,type=all,bucket=actions=pop_vlan,output:4112,bucket=actions=output:4128"},
		{"group_id=2 type=select bucket=weight:50,watch_port:3,actions=output:1 bucket=output:2",
			"group_id=2,type=select,bucket=weight:50,watch_port:3,actions=output:1,bucket=actions=output:2"},
		{"group_id=3,type=fast_failover,bucket=watch_port:ANY,watch_group:4,actions=drop",
			"group_id=3,type=ff,bucket=watch_group:4,actions=drop"},
		{"group_id=4", "group_id=4,type=all"},
	}
	for _, tt := range groups {
		g, err := ParseGroup(tt.in)
		if err != nil {
			t.Errorf("ParseGroup(%q): %v", tt.in, err)
			continue
		}
		if got := FormatGroup(g); got != tt.want {
			t.Errorf("ParseGroup(%q) formats as\n  %s\nwant\n  %s", tt.in, got, tt.want)
		}
	}
	meters := []struct{ in, want string }{
		{"meter=1,kbps,burst,band=type=drop,rate=10000,burst_size=1000",
			"meter=1,kbps,burst,band=type=drop,rate=10000,burst_size=1000"},
		{"meter=2 pktps stats 0x20 band=type=dscp_remark,rate=5,prec_level=1 band=type=experimenter,experimenter=0x2320",
			"meter=2,pktps,stats,0x20,band=type=dscp_remark,rate=5,burst_size=0,prec_level=1,band=type=experimenter,rate=0,burst_size=0,experimenter=0x2320"},
	}
	for _, tt := range meters {
		m, err := ParseMeter(tt.in)
		if err != nil {
			t.Errorf("ParseMeter(%q): %v", tt.in, err)
			continue
		}
		if got := FormatMeter(m); got != tt.want {
			t.Errorf("ParseMeter(%q) formats as\n  %s\nwant\n  %s", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"type=all", "group_id=x", "group_id=1,type=bogus", "group_id=1,bucket=actions=bogus", "group_id=1,color=red"} {
		if _, err := ParseGroup(in); err == nil {
			t.Errorf("ParseGroup(%q) accepted", in)
		}
	}
	for _, in := range []string{"kbps", "meter=1,fast", "meter=1,band=type=drop,prec_level=1", "meter=1,band=type=drop,experimenter=1",
		"meter=1,band=type=nosuch", "meter=1,band=rate=x", "meter=1,x=1"} {
		if _, err := ParseMeter(in); err == nil {
			t.Errorf("ParseMeter(%q) accepted", in)
		}
	}
}

// checkFlowRoundTrip checks the parser's promise: f formats to text that
// parses to f, and that text formats to itself.
func checkFlowRoundTrip(t *testing.T, f *of.Flow) {
	t.Helper()
	text := FormatFlow(f)
	g, err := ParseFlow(text)
	if err != nil {
		t.Fatalf("ParseFlow(FormatFlow(f)) = %v\n  text %s", err, text)
	}
	if !proto.Equal(f, g) {
		t.Fatalf("round trip changed the flow\n  text %s\n  was  %v\n  now  %v", text, f, g)
	}
	if again := FormatFlow(g); again != text {
		t.Fatalf("text changed on the round trip\n  %s\n  %s", text, again)
	}
}

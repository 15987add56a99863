package flowtext

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// The seed corpus is in testdata/fuzz; these add the texts of the other
// tests.
func FuzzParseFlow(f *testing.F) {
	for _, s := range []string{
		"table=0,priority=1000,in_port=65536,dl_type=0x888e,actions=output:CONTROLLER",
		"table=0, priority=1000, cookie=0x3, in_port=4112, vlan_vid=100, actions=meter:2,push_vlan:0x8100,set_field:4000->vlan_vid,write_metadata:0x6400001010,goto_table:1",
		"priority=3,dl_dst=01:00:5e:00:00:01/ff:ff:ff:00:00:00,ipv6_dst=ff02::1:2/64,actions=write_actions(group:1),clear_actions",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFlow(s)
		if err != nil {
			return
		}
		checkFlowRoundTrip(t, fl)
	})
}

func FuzzParseGroup(f *testing.F) {
	f.Add("group_id=1,type=all,bucket=actions=pop_vlan,output:4112,bucket=weight:50,watch_port:3,actions=output:4128")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGroup(s)
		if err != nil {
			return
		}
		text := FormatGroup(g)
		g2, err := ParseGroup(text)
		if err != nil {
			t.Fatalf("ParseGroup(FormatGroup(g)) = %v\n  text %s", err, text)
		}
		if !proto.Equal(g, g2) {
			t.Fatalf("round trip changed the group\n  text %s\n  was  %v\n  now  %v", text, g, g2)
		}
	})
}

func FuzzParseMeter(f *testing.F) {
	f.Add("meter=2,pktps,stats,0x20,band=type=dscp_remark,rate=5,prec_level=1,band=type=drop,rate=1000,burst_size=10")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMeter(s)
		if err != nil {
			return
		}
		text := FormatMeter(m)
		m2, err := ParseMeter(text)
		if err != nil {
			t.Fatalf("ParseMeter(FormatMeter(m)) = %v\n  text %s", err, text)
		}
		if !proto.Equal(m, m2) {
			t.Fatalf("round trip changed the meter\n  text %s\n  was  %v\n  now  %v", text, m, m2)
		}
	})
}

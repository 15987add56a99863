package flowdecomp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/route/routetest"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// attTable is the ATT-like subscriber set of testdata/att.txt for every
// UNI of an OLT with 16 PONs of 64 ONUs (1,024 UNIs): 7 flows a
// subscriber and 2 for the NNI, 7,170 logical flows.
func attTable(tb testing.TB) (*route.Routes, []*openflowv1.Flow, map[uint32]*openflowv1.MeterConfig) {
	var topo strings.Builder
	nni := portno.NNI(0)
	fmt.Fprintf(&topo, "olt olt1 nni=%d pon=", nni)
	for p := range uint32(16) {
		if p > 0 {
			topo.WriteString(",")
		}
		fmt.Fprint(&topo, portno.OLTPON(p))
	}
	topo.WriteString("\n")
	var text []string
	add := func(format string, args ...any) { text = append(text, fmt.Sprintf(format, args...)) }
	add("table=0,priority=10000,in_port=%d,eth_type=0x88cc,actions=output:CONTROLLER", nni)
	add("table=0,priority=10000,in_port=%d,udp,udp_src=67,udp_dst=68,actions=output:CONTROLLER", nni)
	for p := range uint32(16) {
		for o := uint32(1); o <= 64; o++ {
			u := portno.UNI(p, o, 0)
			fmt.Fprintf(&topo, "onu onu-%d-%d pon=%d uni=%d\n", p, o, portno.OLTPON(p), u)
			c, s := 100+o, 1000+p
			add("table=0,priority=10000,in_port=%d,eth_type=0x888e,actions=meter:3,push_vlan:0x8100,set_field:4091->vlan_vid,output:CONTROLLER", u)
			add("table=0,priority=10000,in_port=%d,vlan_vid=untagged,udp,udp_src=68,udp_dst=67,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER", u, c)
			add("table=0,priority=10000,in_port=%d,vlan_vid=untagged,ip,ip_proto=2,actions=meter:3,push_vlan:0x8100,set_field:%d->vlan_vid,output:CONTROLLER", u, c)
			add("table=0,priority=1000,in_port=%d,vlan_vid=untagged,actions=meter:1,push_vlan:0x8100,set_field:%d->vlan_vid,write_metadata:%#x,goto_table:1",
				u, c, uint64(c)<<48|64<<32|uint64(nni))
			add("table=1,priority=1000,in_port=%d,vlan_vid=%d,actions=push_vlan:0x88a8,set_field:%d->vlan_vid,output:%d", u, c, s, nni)
			add("table=0,priority=1000,in_port=%d,vlan_vid=%d,actions=meter:2,pop_vlan,write_metadata:%#x,goto_table:1",
				nni, s, uint64(c)<<48|64<<32|uint64(u))
			add("table=1,priority=1000,in_port=%d,vlan_vid=%d,metadata=%#x,actions=pop_vlan,output:%d", nni, c, u, u)
		}
	}
	snap, err := routetest.ParseSnapshot(topo.String())
	if err != nil {
		tb.Fatal(err)
	}
	routes, err := route.Build(snap)
	if err != nil {
		tb.Fatal(err)
	}
	flows := make([]*openflowv1.Flow, len(text))
	for i, s := range text {
		if flows[i], err = flowtext.ParseFlow(s); err != nil {
			tb.Fatal(err)
		}
		flows[i].Id = flowdecomp.FlowID(flows[i])
	}
	meters := map[uint32]*openflowv1.MeterConfig{}
	for id := uint32(1); id <= 3; id++ {
		meters[id] = &openflowv1.MeterConfig{MeterId: id, Flags: 1, Bands: []*openflowv1.MeterBand{
			{Type: openflowv1.MeterBandType_METER_BAND_TYPE_DROP, Rate: 1000 * id}}}
	}
	return routes, flows, meters
}

func TestATTTable(t *testing.T) {
	routes, flows, meters := attTable(t)
	rules, err := flowdecomp.New(routes).Decompose(flows, nil, meters)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 7*1024+2 {
		t.Errorf("%d logical flows", len(flows))
	}
	// The OLT: 2 NNI traps, and per subscriber 3 traps, upstream, downstream.
	if got, want := len(rules["olt1"].Flows), 2+5*1024; got != want {
		t.Errorf("OLT has %d flows, want %d", got, want)
	}
	if got := len(rules); got != 1025 {
		t.Errorf("%d devices, want 1025", got)
	}
	for dev, dr := range rules {
		if dev != "olt1" && len(dr.Flows) != 5 {
			t.Errorf("%s has %d flows, want 5", dev, len(dr.Flows))
		}
	}
}

// BenchmarkDecompose decomposes the whole ATT table of 1,024 subscribers.
func BenchmarkDecompose(b *testing.B) {
	routes, flows, meters := attTable(b)
	d := flowdecomp.New(routes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decompose(flows, nil, meters); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(flows)*b.N)/b.Elapsed().Seconds(), "flows/s")
}

// BenchmarkDecomposeFlow decomposes the flows one at a time, as the core
// does when flows are added one by one.
func BenchmarkDecomposeFlow(b *testing.B) {
	routes, flows, meters := attTable(b)
	d := flowdecomp.New(routes)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := d.DecomposeFlow(flows[i%len(flows)], nil, meters); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}

func BenchmarkFlowID(b *testing.B) {
	_, flows, _ := attTable(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		flowdecomp.FlowID(flows[i%len(flows)])
		i++
	}
}

package openolt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

// BenchmarkActivation measures OLT enable → every ONU activated (ActivateOnu
// answered by an ONU indication up, the child device ACTIVE and
// REACHABLE) with 16 PONs × 64 ONUs behind ponsim's openolt face, the
// whole stack in process (embedded etcd, broker, core, adapter, ponsim):
//
//	go test -run '^$' -bench Activation -benchtime 1x ./internal/adapters/openolt/
func BenchmarkActivation(b *testing.B) {
	for range b.N {
		b.StopTimer()
		s := newStack(b)
		p := s.newOLT("bench", 16, 64)
		p.start()
		b.StartTimer()
		begin := time.Now()
		id := s.create(p.addr)
		s.waitActive(id, 16, 1024)
		b.ReportMetric(time.Since(begin).Seconds(), "s/1024onus")
		b.StopTimer()
	}
}

// BenchmarkFlows1024 measures the openolt adapter's share of 1,024 ATT-like
// subscribers: one incremental update carrying every subscriber's OLT
// flows (EAPOL and DHCP traps, upstream S-tag push with meter 1,
// downstream pop with meter 2: 4,096 device flows, 1,024 tech-profile
// instances) sent straight to the adapter, until it answers, that is
// until the OLT (ponsim's openolt face, 16 PONs × 64 ONUs) has every
// flow, scheduler and queue and the store every id and record:
//
//	go test -run '^$' -bench Flows1024 -benchtime 1x ./internal/adapters/openolt/
func BenchmarkFlows1024(b *testing.B) {
	for range b.N {
		b.StopTimer()
		s := newStack(b)
		p := s.newOLT("bench", 16, 64)
		p.start()
		id := s.create(p.addr)
		s.waitActive(id, 16, 1024)
		dev := s.device(id)
		var flows []*openflowv1.Flow
		for pon := range uint32(16) {
			for onu := range uint32(64) {
				flows = append(flows, subscriberFlows(b, pon, onu+1, uint64(len(flows)))...)
			}
		}
		meters := []*openflowv1.MeterConfig{benchMeter(b, 1, 100000), benchMeter(b, 2, 200000)}
		b.StartTimer()
		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		_, err := s.direct.UpdateFlowsIncrementally(ctx, &adapterv1.IncrementalFlowsRequest{Device: dev,
			Flows: &adapterv1.FlowChanges{ToAdd: flows}, Meters: &adapterv1.MeterChanges{ToAdd: meters}})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		secs := time.Since(begin).Seconds()
		b.StopTimer()
		b.ReportMetric(secs, "s/1024subs")
		b.ReportMetric(float64(len(flows))/secs, "flows/s")
	}
}

// subscriberFlows are the OLT's flows of the subscriber on ONU onu of pon
// (S-tag 1000+pon, C-tag 100+onu), with ids from base.
func subscriberFlows(b *testing.B, pon, onu uint32, base uint64) []*openflowv1.Flow {
	b.Helper()
	port, uni := portno.OLTPON(pon), portno.UNI(pon, onu, 0)
	sVID, cVID := 1000+pon, 100+onu
	lines := []string{
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,vlan_vid=4091,tunnel_id=%d,actions=CONTROLLER:65535", port, uni),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=%d,vlan_pcp=0,ip_proto=17,udp_src=68,udp_dst=67,tunnel_id=%d,actions=CONTROLLER:65535", port, cVID, uni),
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=%d,tunnel_id=%d,actions=meter:1,push_vlan:0x88a8,set_field:%d->vlan_vid,output:1", port, cVID, uni, sVID),
		fmt.Sprintf("table=0,priority=1000,in_port=1,metadata=%#x,vlan_vid=%d,actions=meter:2,pop_vlan,set_field:%d->tunnel_id,output:%d", cVID, sVID, uni, port),
	}
	var out []*openflowv1.Flow
	for i, l := range lines {
		f, err := flowtext.ParseFlow(l)
		if err != nil {
			b.Fatalf("%s: %v", l, err)
		}
		f.Id = 0x100000 + base + uint64(i)
		out = append(out, f)
	}
	return out
}

func benchMeter(b *testing.B, id, rate int) *openflowv1.MeterConfig {
	m, err := flowtext.ParseMeter(fmt.Sprintf("meter=%d,kbps,burst,band=type=drop,rate=%d,burst_size=1000", id, rate))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

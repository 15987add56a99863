package openolt_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openvolt/openvolt/adapter/portno"
	adapterv1 "github.com/openvolt/openvolt/api/adapter/v1"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/adapters/openolt"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
	"github.com/openvolt/openvolt/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// attFlows is the OLT's share of the ATT-like subscriber
// (internal/core/flowdecomp/testdata/att.txt) on UNI uni of PON 0: EAPOL
// and DHCP traps, the network's LLDP and DHCP traps, upstream S-tag push,
// downstream S-tag pop with meter 2.
func attFlows(t *testing.T, uni uint32) []*openflowv1.Flow {
	t.Helper()
	pon := portno.OLTPON(0)
	lines := []string{
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,vlan_vid=4091,tunnel_id=%d,actions=CONTROLLER:65535", pon, uni),
		fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=101,vlan_pcp=0,ip_proto=17,udp_src=68,udp_dst=67,tunnel_id=%d,actions=CONTROLLER:65535", pon, uni),
		"table=0,priority=10000,in_port=1,eth_type=0x88cc,actions=CONTROLLER:65535",
		"table=0,priority=10000,in_port=1,eth_type=0x0800,vlan_vid=1000,ip_proto=17,udp_src=67,udp_dst=68,actions=CONTROLLER:65535",
		fmt.Sprintf("table=0,priority=1000,in_port=%d,vlan_vid=101,tunnel_id=%d,actions=push_vlan:0x88a8,set_field:1000->vlan_vid,output:1", pon, uni),
		fmt.Sprintf("table=0,priority=1000,in_port=1,metadata=0x65,vlan_vid=1000,actions=meter:2,pop_vlan,set_field:%d->tunnel_id,output:%d", uni, pon),
	}
	var out []*openflowv1.Flow
	for i, l := range lines {
		f, err := flowtext.ParseFlow(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		f.Id = uint64(0xf000 + i)
		out = append(out, f)
	}
	return out
}

func attMeter(t *testing.T) *openflowv1.MeterConfig {
	m, err := flowtext.ParseMeter("meter=2,kbps,burst,band=type=drop,rate=200000,burst_size=2000")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stored renders what the store holds for oltID: flows by flow id, then
// tech-profile instances with their schedulers and queues.
func (s *stack) stored(oltID string) string {
	s.t.Helper()
	var flows, tps []string
	for _, sub := range []string{"flows/", "tp/"} {
		kvs, err := s.kv.List(s.ctx(), "/volt/openolt/"+oltID+"/"+sub)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, kv := range kvs {
			if sub == "flows/" {
				l, err := openolt.RenderFlowRecord(kv.Value)
				if err != nil {
					s.t.Fatal(err)
				}
				flows = append(flows, l)
			} else {
				l, err := openolt.RenderInstance(kv.Value)
				if err != nil {
					s.t.Fatal(err)
				}
				tps = append(tps, l)
			}
		}
	}
	sort.Slice(flows, func(i, j int) bool {
		var a, b int
		fmt.Sscanf(flows[i], "flow_id=%d", &a)
		fmt.Sscanf(flows[j], "flow_id=%d", &b)
		return a < b
	})
	return strings.Join(flows, "\n") + "\n" + strings.Join(tps, "")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestATTSubscriberFlows(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("att", 1, 2)
	p.start()
	id := s.create(p.addr)
	s.waitActive(id, 1, 2)
	dev := s.device(id)
	uni := portno.UNI(0, 1, 0)
	flows := attFlows(t, uni)

	// A batch the OLT refuses in its last flow (the OLT has NNI 0 only):
	// nothing of it stays.
	bad, err := flowtext.ParseFlow("table=0,priority=10000,in_port=2,eth_type=0x88cc,actions=CONTROLLER:65535")
	if err != nil {
		t.Fatal(err)
	}
	bad.Id = 0xbad
	_, err = s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToAdd: append(flows[:2:2], bad)}})
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("refused batch: %v, want NotFound from the OLT", err)
	}
	if got := s.resources(id); len(got) != 2 { // the two ONU ids only
		t.Fatalf("after a refused batch the store holds %v, want the 2 onu ids only", got)
	}

	_, err = s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows:  &adapterv1.FlowChanges{ToAdd: flows},
		Meters: &adapterv1.MeterChanges{ToAdd: []*openflowv1.MeterConfig{attMeter(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "att.golden", s.stored(id))

	// Removing every flow removes the instance and frees its ids.
	_, err = s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
		Flows: &adapterv1.FlowChanges{ToRemove: flows}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.resources(id); len(got) != 2 {
		t.Errorf("after removing the flows the store holds %v, want the 2 onu ids only", got)
	}
	if got := strings.TrimSpace(s.stored(id)); got != "" {
		t.Errorf("after removing the flows the store holds:\n%s", got)
	}
	_ = voltv1.OperStatus_OPER_STATUS_ACTIVE
}

// TestClaimTakenMeanwhile: ids another replica of the adapter claimed in
// the store after this one loaded its pools make an update Aborted with
// nothing sent or kept; the retry learnt them and takes others.
func TestClaimTakenMeanwhile(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("claim", 1, 2)
	p.start()
	id := s.create(p.addr)
	s.waitActive(id, 1, 2)
	dev := s.device(id)
	for fid := 1; fid <= 8; fid++ {
		if _, err := s.kv.Put(s.ctx(), fmt.Sprintf("/volt/openolt/%s/resources/olt/flow_id/%d", id, fid), []byte("another replica")); err != nil {
			t.Fatal(err)
		}
	}
	flows := attFlows(t, portno.UNI(0, 1, 0))
	req := &adapterv1.IncrementalFlowsRequest{Device: dev, Flows: &adapterv1.FlowChanges{ToAdd: flows},
		Meters: &adapterv1.MeterChanges{ToAdd: []*openflowv1.MeterConfig{attMeter(t)}}}
	_, err := s.direct.UpdateFlowsIncrementally(s.ctx(), req)
	if status.Code(err) != codes.Aborted {
		t.Fatalf("an update whose flow ids another replica holds: %v, want Aborted", err)
	}
	if got := strings.TrimSpace(s.stored(id)); got != "" {
		t.Fatalf("after an aborted claim the store holds:\n%s", got)
	}
	if got := s.resources(id); len(got) != 2+8 {
		t.Fatalf("after an aborted claim the resources are %v, want the 2 onu ids and the other replica's 8 flow ids", got)
	}
	if _, err := s.direct.UpdateFlowsIncrementally(s.ctx(), req); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	for k, v := range s.resources(id) {
		var fid int
		if _, err := fmt.Sscanf(k, "olt/flow_id/%d", &fid); err == nil && fid <= 8 && v != "another replica" {
			t.Errorf("flow id %d, claimed by another replica, was handed out to %s", fid, v)
		}
	}
	if got := strings.Count(s.stored(id), "flow_id="); got != len(flows) {
		t.Errorf("after the retry the store holds %d flows, want %d:\n%s", got, len(flows), s.stored(id))
	}
}

// TestUpdateCutShort: an update whose caller gives up half way (its
// deadline) leaves the store and the OLT agreeing: every flow record's
// flow is in ponsim's OLT table and every flow there has a record and a
// claimed flow id; the update sent again completes it.
func TestUpdateCutShort(t *testing.T) {
	s := newStack(t)
	p := s.newOLT("short", 2, 32)
	p.start()
	id := s.create(p.addr)
	s.waitActive(id, 2, 64)
	dev := s.device(id)
	var flows []*openflowv1.Flow
	for pon := range uint32(2) {
		for onu := range uint32(32) {
			port, uni := portno.OLTPON(pon), portno.UNI(pon, onu+1, 0)
			for _, l := range []string{ // the UNI's EAPOL and DHCP traps
				fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x888e,vlan_vid=4091,tunnel_id=%d,actions=CONTROLLER:65535", port, uni),
				fmt.Sprintf("table=0,priority=10000,in_port=%d,eth_type=0x0800,vlan_vid=101,vlan_pcp=0,ip_proto=17,udp_src=68,udp_dst=67,tunnel_id=%d,actions=CONTROLLER:65535", port, uni),
			} {
				f, err := flowtext.ParseFlow(l)
				if err != nil {
					t.Fatal(err)
				}
				f.Id = uint64(0x10000 + len(flows))
				flows = append(flows, f)
			}
		}
	}
	req := &adapterv1.IncrementalFlowsRequest{Device: dev, Flows: &adapterv1.FlowChanges{ToAdd: flows}}
	ctx, cancel := context.WithTimeout(s.ctx(), 100*time.Millisecond)
	_, err := s.direct.UpdateFlowsIncrementally(ctx, req)
	cancel()
	t.Logf("the update with a 100 ms deadline: %v", err)
	agree := func() int {
		t.Helper()
		recs, err := s.kv.List(s.ctx(), "/volt/openolt/"+id+"/flows/")
		if err != nil {
			t.Fatal(err)
		}
		stored := make(map[uint64]bool)
		for _, kv := range recs {
			fid, err := openolt.FlowRecordID(kv.Value)
			if err != nil {
				t.Fatal(err)
			}
			stored[fid] = true
		}
		ft, err := p.sim.FlowTable(p.sim.OLTSerial())
		if err != nil {
			t.Fatal(err)
		}
		onOLT := make(map[uint64]bool)
		for _, f := range ft.GetFlows() {
			onOLT[f.GetId()>>4&(1<<58-1)] = true
		}
		res := s.resources(id)
		for fid := range stored {
			if !onOLT[fid] {
				t.Errorf("flow id %d has a record but is not on the OLT", fid)
			}
			if _, ok := res[fmt.Sprintf("olt/flow_id/%d", fid)]; !ok {
				t.Errorf("flow id %d has a record but no claim", fid)
			}
		}
		for fid := range onOLT {
			if !stored[fid] {
				t.Errorf("flow id %d is on the OLT without a record", fid)
			}
		}
		claims := 0
		for k := range res {
			if strings.HasPrefix(k, "olt/flow_id/") {
				claims++
			}
		}
		if claims != len(stored) {
			t.Errorf("%d flow ids claimed, %d flows stored", claims, len(stored))
		}
		return len(stored)
	}
	// The adapter's work goes on after the caller gave up: wait for it.
	var n int
	testkit.Eventually(t, "the cut short update settled", func() error {
		_, err := s.direct.UpdateFlowsIncrementally(s.ctx(), &adapterv1.IncrementalFlowsRequest{Device: dev,
			Flows: &adapterv1.FlowChanges{}})
		return err
	})
	n = agree()
	t.Logf("after the cut short update: %d of %d flows", n, len(flows))
	if _, err := s.direct.UpdateFlowsIncrementally(s.ctx(), req); err != nil {
		t.Fatal(err)
	}
	if n = agree(); n != len(flows) {
		t.Errorf("after the update sent again %d flows, want %d", n, len(flows))
	}
}

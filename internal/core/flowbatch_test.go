package core_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/openvolt/openvolt/adapter/portno"
	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

func (s *stack) parseMod(text string, cmd openflowv1.FlowModCommand) *openflowv1.FlowMod {
	s.t.Helper()
	f, err := flowtext.ParseFlow(text)
	if err != nil {
		s.t.Fatalf("parse %q: %v", text, err)
	}
	return &openflowv1.FlowMod{
		Command: cmd, TableId: f.GetTableId(), Priority: f.GetPriority(), Cookie: f.GetCookie(),
		OutPort: 0xffffffff, OutGroup: 0xffffffff, Match: f.GetMatch(), Instructions: f.GetInstructions(),
	}
}

// TestFlowTablesBatch: a batch of flow-mods applies in order, each on its
// own; the failures come back by index with the OpenFlow error, and the
// stored tables hold exactly the applied ones, across a restart.
func TestFlowTablesBatch(t *testing.T) {
	s := newStack(t)
	startAdapter(t, s.brokers, "test_olt", 2, nil)
	startAdapter(t, s.brokers, "test_onu", 0, nil)
	olt := s.createOLT("10.5.0.2:50060")
	if _, err := s.nbi.EnableDevice(ctx(t), &voltv1.ID{Id: olt}); err != nil {
		t.Fatal(err)
	}
	ld := s.waitActive(olt, 2)
	nni := portno.NNI(0)
	// A stream of flow removals only, as the OpenFlow agent asks for.
	sctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	removals := s.subscribe(sctx, &voltv1.ReceiveChangeEventsRequest{
		LogicalDeviceId: ld, Payloads: []string{"flow"}, FlowChangeKinds: []voltv1.ChangeKind{voltv1.ChangeKind_CHANGE_KIND_REMOVED},
	})
	add := openflowv1.FlowModCommand_FLOW_MOD_COMMAND_ADD
	del := openflowv1.FlowModCommand_FLOW_MOD_COMMAND_DELETE_STRICT
	up := func(prio int) string {
		return fmt.Sprintf("table=0,priority=%d,in_port=16,eth_type=0x0800,actions=push_vlan:0x8100,set_field:%d->vlan_vid,output:%d", prio, 100+prio, nni)
	}
	mods := []*openflowv1.FlowMod{
		s.parseMod(up(1), add),
		s.parseMod(fmt.Sprintf("table=0,priority=2,in_port=16,eth_type=0x8847,mpls_label=5,actions=output:%d", nni), add), // unsupported match
		s.parseMod(up(3), add),
		s.parseMod(up(1), del), // the first one again: applies after it
		s.parseMod(fmt.Sprintf("table=0,priority=5,in_port=16,actions=meter:9,output:%d", nni), add), // no such meter
		s.parseMod(up(6), add),
	}
	res, err := s.nbi.UpdateLogicalDeviceFlowTables(ctx(t), &voltv1.FlowTableUpdates{Id: ld, FlowMods: mods})
	if err != nil {
		t.Fatal(err)
	}
	var failed []uint32
	for _, f := range res.GetFailures() {
		failed = append(failed, f.GetIndex())
		if codes.Code(f.GetStatus().GetCode()) != codes.InvalidArgument || f.GetStatus().GetMessage() == "" {
			t.Errorf("failure %d: %v", f.GetIndex(), f.GetStatus())
		}
	}
	if fmt.Sprint(failed) != "[1 4]" {
		t.Fatalf("failed %v, want [1 4]", failed)
	}
	// The OpenFlow error travels as an ErrorInfo, as for single calls.
	var info errdetails.ErrorInfo
	if ds := res.GetFailures()[1].GetStatus().GetDetails(); len(ds) != 1 || anypb.UnmarshalTo(ds[0], &info, proto.UnmarshalOptions{}) != nil || info.GetDomain() != "openflow" {
		t.Errorf("failure details %v", ds)
	}
	want := map[uint32]bool{3: true, 6: true}
	check := func(when string) {
		fl, err := s.nbi.ListLogicalDeviceFlows(ctx(t), &voltv1.ID{Id: ld})
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint32]bool{}
		for _, f := range fl.GetItems() {
			got[f.GetPriority()] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: flows with priorities %v, want %v", when, got, want)
		}
	}
	check("after the batch")
	// Of the batch's events the stream saw only the removal of priority 1.
	ev, err := removals.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if fc := ev.GetFlow(); fc.GetKind() != voltv1.ChangeKind_CHANGE_KIND_REMOVED || fc.GetFlow().GetPriority() != 1 {
		t.Errorf("first event on the removals stream: %v", ev)
	}
	// A stream of removals of flows that asked for flow-removed (flag 1):
	// the batch's flows did not, so it stays silent until one that did goes.
	flagged := s.subscribe(sctx, &voltv1.ReceiveChangeEventsRequest{
		LogicalDeviceId: ld, FlowChangeKinds: []voltv1.ChangeKind{voltv1.ChangeKind_CHANGE_KIND_REMOVED}, FlowFlags: 1,
	})
	notify := s.parseMod(up(8), add)
	notify.Flags = 1
	for _, fm := range []*openflowv1.FlowMod{s.parseMod(up(6), del), notify, s.parseMod(up(8), del)} {
		if res, err := s.nbi.UpdateLogicalDeviceFlowTables(ctx(t), &voltv1.FlowTableUpdates{Id: ld, FlowMods: []*openflowv1.FlowMod{fm}}); err != nil || len(res.GetFailures()) != 0 {
			t.Fatalf("%v: %v %v", fm, err, res.GetFailures())
		}
	}
	ev, err = flagged.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if fc := ev.GetFlow(); fc.GetKind() != voltv1.ChangeKind_CHANGE_KIND_REMOVED || fc.GetFlow().GetPriority() != 8 {
		t.Errorf("first event on the flagged removals stream: %v", ev)
	}
	delete(want, 6)

	bad, err := s.nbi.ReceiveChangeEvents(sctx, &voltv1.ReceiveChangeEventsRequest{Payloads: []string{"flows"}})
	if err == nil {
		_, err = bad.Recv()
	}
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "logical_port") {
		t.Errorf("stream of an unknown payload: %v, want InvalidArgument naming the payloads", err)
	}
	s.stop()
	s.nbi, s.stop = startCore(t, s.kv, s.brokers, 5*time.Second)
	check("after a restart")

	// Bad calls fail whole and change nothing.
	for _, tc := range []struct {
		req  *voltv1.FlowTableUpdates
		code codes.Code
	}{
		{&voltv1.FlowTableUpdates{FlowMods: mods}, codes.InvalidArgument},
		{&voltv1.FlowTableUpdates{Id: "nope", FlowMods: mods}, codes.NotFound},
	} {
		if _, err := s.nbi.UpdateLogicalDeviceFlowTables(ctx(t), tc.req); status.Code(err) != tc.code {
			t.Errorf("%v: %v, want %v", tc.req, err, tc.code)
		}
	}
	check("after bad calls")
}

package ofagent

import (
	"testing"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	voltv1 "github.com/openvolt/openvolt/api/volt/v1"
	"github.com/openvolt/openvolt/internal/openflow/ofp13"
)

// A flow-mod the core answered (stored) and a device then refused comes
// back as a flow change carrying the refusal: the agent answers that
// flow-mod, on the connection it came on, with the refusal as an OpenFlow
// error carrying its xid and its first bytes. A refusal of a flow no
// flow-mod here made is not answered.
func TestLateRefusalAnswersTheFlowMod(t *testing.T) {
	f, ag := withFake(t, nil)
	c := dialOF(t, ag.listen)
	fm := flowMod(ofp13.FlowAdd, 9, 16, 1)
	xid := c.send(fm)
	if got := c.barrier(); len(got) != 0 {
		t.Fatalf("the flow-mod was answered at once: %v", got)
	}
	// The flow as the core has it, as a change event with the refusal.
	flow := &openflowv1.Flow{TableId: 0, Priority: 9, Match: ofp13.FlowModToProto(fm).GetMatch()}
	refusal := &voltv1.FlowRefusal{DeviceId: "onu1", ErrorType: uint32(ofp13.ErrTypeFlowModFailed), ErrorCode: 1,
		Message: "device onu1 refused it, taken back: 2 priority queues, the ONU has 1"}
	other := &openflowv1.Flow{TableId: 0, Priority: 10, Match: ofp13.FlowModToProto(fm).GetMatch()}
	for _, fl := range []*openflowv1.Flow{other, flow} {
		f.Publish(&voltv1.Event{LogicalDeviceId: "ld1", Payload: &voltv1.Event_Flow{Flow: &voltv1.FlowChange{
			Kind: voltv1.ChangeKind_CHANGE_KIND_REMOVED, Flow: fl, Refusal: refusal}}})
	}
	e := c.waitFor("the late error", func(m ofp13.Message) bool { return m.Hdr().Type == ofp13.TypeError }).(*ofp13.ErrorMsg)
	if e.Xid != xid || e.Type != ofp13.ErrTypeFlowModFailed || e.Code != 1 {
		t.Fatalf("error %+v, want xid %d FLOW_MOD_FAILED/TABLE_FULL", e, xid)
	}
	raw, _ := fm.MarshalBinary()
	if len(e.Data) == 0 || string(e.Data) != string(raw[:min(len(raw), ofp13.MaxErrorData)]) {
		t.Errorf("error data % x, want the flow-mod's first bytes % x", e.Data, raw[:min(len(raw), ofp13.MaxErrorData)])
	}
	for _, m := range append(c.barrier(), c.pending...) {
		if m.Hdr().Type == ofp13.TypeError {
			t.Errorf("a second error: %+v (the refusal of a flow no flow-mod here made)", m)
		}
	}
}

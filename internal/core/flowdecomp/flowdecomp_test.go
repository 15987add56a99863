package flowdecomp_test

import (
	"errors"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	openflowv1 "github.com/openvolt/openvolt/api/openflow/v1"
	"github.com/openvolt/openvolt/internal/core/coreerr"
	"github.com/openvolt/openvolt/internal/core/flowdecomp"
	"github.com/openvolt/openvolt/internal/core/route"
	"github.com/openvolt/openvolt/internal/core/route/routetest"
	"github.com/openvolt/openvolt/internal/openflow/flowtext"
)

func mustFlow(t *testing.T, s string) *openflowv1.Flow {
	t.Helper()
	f, err := flowtext.ParseFlow(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func smallRoutes(t *testing.T) *route.Routes {
	t.Helper()
	snap, err := routetest.ParseSnapshot("olt olt1 nni=1 pon=2097153\nonu onu1 pon=2097153 uni=4112\nonu onu2 pon=2097153 uni=4128")
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.Build(snap)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Each refusal has its kind, and the NBI maps every one to InvalidArgument.
func TestErrorKinds(t *testing.T) {
	d := flowdecomp.New(smallRoutes(t))
	groups := map[uint32]*openflowv1.GroupDesc{1: {GroupId: 1, Type: openflowv1.GroupType_GROUP_TYPE_SELECT}}
	tests := []struct {
		flow string
		kind error
	}{
		{"in_port=4112,actions=output:4128", flowdecomp.ErrNoRoute},
		{"in_port=4112,actions=output:4128", route.ErrNoRoute},
		{"in_port=4112,mpls_label=1,actions=output:1", flowdecomp.ErrUnsupported},
		{"in_port=4112,actions=meter:9,output:1", flowdecomp.ErrUnknownMeter},
		{"in_port=1,actions=group:9", flowdecomp.ErrUnknownGroup},
		{"in_port=1,actions=group:1", flowdecomp.ErrUnsupported},
	}
	for _, tt := range tests {
		f := mustFlow(t, tt.flow)
		_, err := d.DecomposeFlow(f, groups, nil)
		if !errors.Is(err, tt.kind) || !errors.Is(err, coreerr.ErrInvalidArgument) {
			t.Errorf("%s: %v, want %v and ErrInvalidArgument", tt.flow, err, tt.kind)
		}
		var fe *flowdecomp.Error
		if !errors.As(err, &fe) || fe.Flow != f {
			t.Errorf("%s: the error does not name the flow", tt.flow)
		}
		if st, _ := status.FromError(coreerr.ToStatus(err)); st.Code() != codes.InvalidArgument || st.Message() != err.Error() {
			t.Errorf("%s: status %v", tt.flow, st)
		}
	}
	// Conflict is for the whole table.
	_, err := d.Decompose([]*openflowv1.Flow{
		mustFlow(t, "table=1,in_port=4112,metadata=1,actions=output:1"),
		mustFlow(t, "table=1,in_port=4112,metadata=2,actions=output:CONTROLLER"),
	}, nil, nil)
	if !errors.Is(err, flowdecomp.ErrConflict) {
		t.Errorf("conflict: %v", err)
	}
}

func TestFlowID(t *testing.T) {
	base := mustFlow(t, "table=0,priority=1000,cookie=0x5,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:2/64,actions=output:1")
	id := flowdecomp.FlowID(base)
	same := []string{
		// Field order, actions, and masked-off bits do not count.
		"table=0,priority=1000,cookie=0x5,ipv6_dst=ff02::1:2/64,eth_type=0x0800,in_port=4112,actions=drop",
		"table=0,priority=1000,cookie=0x5,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:ffff/64,actions=output:1",
		"table=0,priority=1000,cookie=0x5,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:2/64,idle_timeout=5,actions=output:1",
		// OpenFlow names an entry by table, priority and match: the cookie
		// is an attribute of the entry.
		"table=0,priority=1000,cookie=0x6,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:2/64,actions=drop",
	}
	for _, s := range same {
		if got := flowdecomp.FlowID(mustFlow(t, s)); got != id {
			t.Errorf("%s: id %#x, want %#x", s, got, id)
		}
	}
	differ := []string{
		"table=1,priority=1000,cookie=0x5,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:2/64,actions=drop",
		"table=0,priority=1001,cookie=0x5,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:2/64,actions=drop",
		"table=0,priority=1000,cookie=0x5,in_port=4113,eth_type=0x0800,ipv6_dst=ff02::1:2/64,actions=drop",
		"table=0,priority=1000,cookie=0x5,in_port=4112,eth_type=0x0800,ipv6_dst=ff02::1:2/96,actions=drop",
		"table=0,priority=1000,cookie=0x5,in_port=4112,eth_type=0x0800,actions=drop",
	}
	for _, s := range differ {
		if got := flowdecomp.FlowID(mustFlow(t, s)); got == id {
			t.Errorf("%s: same id as %s", s, flowtext.FormatFlow(base))
		}
	}
	if flowdecomp.DeviceFlowID("olt1", base) == flowdecomp.DeviceFlowID("onu1", base) {
		t.Error("device flow ids do not depend on the device")
	}
	// Many fields (more than the hash keeps on the stack).
	var many openflowv1.Flow
	many.Match = &openflowv1.Match{}
	for i := 20; i > 0; i-- {
		many.Match.Fields = append(many.Match.Fields, &openflowv1.MatchField{Type: openflowv1.MatchFieldType(i), Value: uint64(i)})
	}
	reversed := &openflowv1.Flow{Match: &openflowv1.Match{}}
	for i := len(many.Match.Fields) - 1; i >= 0; i-- {
		reversed.Match.Fields = append(reversed.Match.Fields, many.Match.Fields[i])
	}
	if flowdecomp.FlowID(&many) != flowdecomp.FlowID(reversed) {
		t.Error("field order changes the id of a long match")
	}
}

// One Decomposer serves many goroutines, on the same inputs.
func TestConcurrentUse(t *testing.T) {
	routes, flows, meters := attTable(t)
	d := flowdecomp.New(routes)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := d.Decompose(flows[:500], nil, meters); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
